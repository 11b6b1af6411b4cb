"""Load run on loopback: N concurrent signed-in agents reading their calendar.

Builds (or reuses) a demo workspace, gives N agents an account, starts ``loyaute serve`` in a
subprocess, then drives it with an asyncio/aiohttp client: every agent signs in once, then reads
``/me`` again and again for a fixed time. Prints p50/p95/p99 latency, throughput and errors, and
writes them to a JSON file for bench/README.md. Bounded in count and time.

    python bench/load.py [--agents 50] [--seconds 30] [--workers 1] [--think 0]
                         [--home bench/data/load-home]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "charge-test-loyaute-2026"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(home: Path, agents: int) -> list[str]:
    """A demo workspace (500 agents, 8 weeks) and ``agents`` accounts; returns their logins."""
    from loyaute.accounts import create_account  # noqa: PLC0415
    from loyaute.demo.runner import DEMO_MARKER, run_demo  # noqa: PLC0415
    from loyaute.workspace import Workspace  # noqa: PLC0415

    if not (home / DEMO_MARKER).is_file():
        print(f"building the demo workspace in {home} …", flush=True)
        run_demo(home)
    ws = Workspace.open(home)
    try:
        rows = ws.state.execute(
            "SELECT DISTINCT s.agent_id FROM schedule s WHERE s.kind = 'telework' ORDER BY s.agent_id LIMIT ?",
            (agents,),
        ).fetchall()
        logins = []
        for (agent_id,) in rows:
            login = f"charge.{agent_id.lower()}"
            if (
                ws.state.execute("SELECT 1 FROM accounts WHERE login = ?", (login,)).fetchone()
                is None
            ):
                create_account(ws.state, ws.clock, login, PASSWORD, "agent", agent_id)
            logins.append(login)
    finally:
        ws.close()
    return logins


async def agent(
    session: aiohttp.ClientSession,
    base: str,
    login: str,
    until: float,
    latencies: list[float],
    errors: list[str],
    think: float,
    warm: list[bool],
) -> None:
    """Sign in once, then read the calendar until the deadline (``think`` seconds between two
    reads, with ±50% jitter so the agents do not march in step)."""
    jitter = random.Random(login)
    first = True
    async with session.post(
        f"{base}/login", data={"login": login, "password": PASSWORD}, allow_redirects=False
    ) as r:
        if r.status != 303:
            errors.append(f"login {r.status}")
            return
        await r.read()
    while time.monotonic() < until:
        start = time.perf_counter()
        try:
            async with session.get(f"{base}/me") as r:
                body = await r.read()
                ok = r.status == 200 and b"<h1>" in body
        except aiohttp.ClientError as exc:
            errors.append(type(exc).__name__)
            continue
        latencies.append(time.perf_counter() - start)
        warm.append(not first)
        first = False
        if not ok:
            errors.append("status")
        if think:
            await asyncio.sleep(think * jitter.uniform(0.5, 1.5))


async def drive(
    base: str, logins: list[str], seconds: float, think: float = 0.0
) -> tuple[list[float], list[str], float, list[bool]]:
    """Run every agent concurrently; each has its own cookie jar."""
    latencies: list[float] = []
    warm: list[bool] = []
    errors: list[str] = []
    until = time.monotonic() + seconds
    started = time.monotonic()
    sessions = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in logins]
    try:
        await asyncio.gather(
            *(
                agent(s, base, login, until, latencies, errors, think, warm)
                for s, login in zip(sessions, logins, strict=True)
            )
        )
    finally:
        for s in sessions:
            await s.close()
    return latencies, errors, time.monotonic() - started, warm


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def main() -> int:
    """Run the load test and print its table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--home", type=Path, default=ROOT / "bench" / "data" / "load-home")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "load.json")
    parser.add_argument("--workers", type=int, default=1, help="loyaute serve --workers")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds an agent reads a page before the next (0: back to back, a saturation test)",
    )
    args = parser.parse_args()
    logins = prepare(args.home, args.agents)
    port = free_port()
    env = dict(os.environ, LOYAUTE_HOME=str(args.home))
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loyaute",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        latencies, errors, elapsed, warm = asyncio.run(
            drive(base, logins, args.seconds, args.think)
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    if not latencies:
        print("no successful request", errors[:5])
        return 1
    settled = [x for x, w in zip(latencies, warm, strict=True) if w] or [0.0]
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "agents": len(logins),
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "errors": len(errors),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "p95_after_first_read_ms": round(percentile(settled, 95) * 1000, 1),
        "p99_after_first_read_ms": round(percentile(settled, 99) * 1000, 1),
        "cpus": os.cpu_count(),
        "workers": args.workers,
        "think_s": args.think,
    }
    print(
        f"{'agents':>7} {'requests':>9} {'errors':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    )
    print(
        f"{result['agents']:>7} {result['requests']:>9} {result['errors']:>7} {result['rps']:>7} "
        f"{result['p50_ms']:>8} {result['p95_ms']:>8} {result['p99_ms']:>8}"
    )
    print(
        f"without each agent's first read (queued behind the 50 sign-ins): p95 {result['p95_after_first_read_ms']} ms, "
        f"p99 {result['p99_after_first_read_ms']} ms"
    )
    target = result["p95_ms"] < 200 and result["errors"] == 0
    print("target p95 < 200 ms and zero errors:", "PASS" if target else "MISS")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
