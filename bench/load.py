"""Load run on loopback: N concurrent signed-in agents reading their calendar.

Builds (or reuses) a demo workspace, gives N agents an account, starts ``loyaute serve`` in a
subprocess, then drives it with an asyncio/aiohttp client: every agent signs in once, then reads
``/me`` again and again for a fixed time. Prints p50/p95/p99 latency, throughput and errors, and
writes them to a JSON file for bench/README.md. Bounded in count and time.

    python bench/load.py [--agents 50] [--seconds 30] [--workers 1] [--think 0]
                         [--unknown 80] [--base DIR] [--home bench/data/load-home]

Before the load, ``--unknown`` sign-ins with logins nobody has hit ``POST /api/login`` at once
(issue 10, finding 4); the 50 agents then sign in at once (a 429 — every password check taken —
is retried after its ``Retry-After``). The peak RSS of the server's process tree is sampled
through both. ``--base`` serves the same workspace with another revision's package.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import run  # noqa: E402  (bench/ is not a package: the process-tree sampler)

BASE: list[Path] = []
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
        first, last = ws.db.schedule.first_day(), ws.db.schedule.last_day()
        if first is None or last is None:
            raise SystemExit(f"{home}: the demo workspace has no schedule")
        teleworkers = sorted({a for a, _, _ in ws.db.schedule.of_kind("telework", first, last)})
        logins = []
        for agent_id in teleworkers[:agents]:
            login = f"charge.{agent_id.lower()}"
            if ws.db.accounts.get(login) is None:
                create_account(ws.db, ws.clock, login, PASSWORD, "agent", agent_id)
            logins.append(login)
    finally:
        ws.close()
    return logins


def base_home(home: Path, drop: list[str]) -> Path:
    """A copy of the workspace for an older revision: the same data, its loyaute.toml without the
    tables that revision does not know (it refuses unknown keys)."""
    copy = home.with_name(home.name + "-base")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(home, copy)
    kept, skipping = [], False
    for line in (copy / "loyaute.toml").read_text(encoding="utf-8").splitlines():
        header = line.strip()
        if header.startswith("[") and header.endswith("]"):
            name = header.strip("[]").strip()
            skipping = any(name == d or name.startswith(d + ".") for d in drop)
        if not skipping:
            kept.append(line)
    (copy / "loyaute.toml").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return copy


def address(group: int, i: int) -> str:
    """A loopback address of its own for client ``i`` (all of 127/8 is loopback on Linux): each
    agent comes from its own address, as on a real network, so the server's per-address rate
    limit does not stand in for what is measured."""
    return f"127.0.{group}.{i + 1}"


@dataclass
class SignIns:
    """How the sign-ins went: each agent's time from first attempt to success, and the 429s."""

    latencies: list[float] = field(default_factory=list)
    retries: int = 0


class Sampler:
    """Peak RSS of the server's process tree, sampled every 20 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.idle = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, _, _ = run._tree_memory(self.pid, False, {})
            self.peak = max(self.peak, rss)
            time.sleep(0.02)

    def __enter__(self) -> Sampler:
        self.idle = run._tree_memory(self.pid, False, {})[0]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def unknown_flood(base: str, count: int) -> tuple[list[float], Counter[int]]:
    """``count`` sign-ins at once through ``POST /api/login`` with logins nobody has (issue 10,
    finding 4: each used to cost a 64 MiB password check, 40 at once per worker)."""
    statuses: Counter[int] = Counter()
    latencies: list[float] = []

    async def one(i: int) -> None:
        connector = aiohttp.TCPConnector(local_addr=(address(2, i), 0))
        async with aiohttp.ClientSession(connector=connector) as session:
            started = time.perf_counter()
            async with session.post(
                f"{base}/api/login", json={"login": f"inconnu{i}", "password": "x" * 12}
            ) as r:
                await r.read()
                statuses[r.status] += 1
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(one(i) for i in range(count)))
    return latencies, statuses


async def agent(
    session: aiohttp.ClientSession,
    base: str,
    login: str,
    until: float,
    latencies: list[float],
    errors: list[str],
    think: float,
    warm: list[bool],
    signins: SignIns,
) -> None:
    """Sign in once (again after a 429), then read the calendar until the deadline (``think`` seconds between two
    reads, with ±50% jitter so the agents do not march in step)."""
    jitter = random.Random(login)
    first = True
    started = time.perf_counter()
    while True:
        async with session.post(
            f"{base}/login", data={"login": login, "password": PASSWORD}, allow_redirects=False
        ) as r:
            await r.read()
            if r.status == 429:  # every password check taken: come back in a moment
                signins.retries += 1
                await asyncio.sleep(float(r.headers.get("retry-after", "1")))
                continue
            if r.status != 303:
                errors.append(f"login {r.status}")
                return
            break
    signins.latencies.append(time.perf_counter() - started)
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
) -> tuple[list[float], list[str], float, list[bool], SignIns]:
    """Run every agent concurrently; each has its own cookie jar."""
    latencies: list[float] = []
    warm: list[bool] = []
    errors: list[str] = []
    signins = SignIns()
    until = time.monotonic() + seconds
    started = time.monotonic()
    sessions = [
        aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            connector=aiohttp.TCPConnector(local_addr=(address(1, i), 0)),
        )
        for i in range(len(logins))
    ]
    try:
        await asyncio.gather(
            *(
                agent(s, base, login, until, latencies, errors, think, warm, signins)
                for s, login in zip(sessions, logins, strict=True)
            )
        )
    finally:
        for s in sessions:
            await s.close()
    return latencies, errors, time.monotonic() - started, warm, signins


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
    parser.add_argument(
        "--unknown",
        type=int,
        default=80,
        help="sign-ins at once with unknown logins, before the load (issue 10, finding 4)",
    )
    parser.add_argument(
        "--base",
        type=Path,
        help="serve with another revision's loyaute package (a folder holding it), side by side",
    )
    parser.add_argument(
        "--base-drop",
        default="audit,accounts,oidc,collect,directory.ldap",
        help="loyaute.toml tables the base revision does not know, left out of its copy",
    )
    args = parser.parse_args()
    logins = prepare(args.home, args.agents)
    port = free_port()
    env = dict(os.environ, LOYAUTE_HOME=str(args.home))
    if args.base is not None:
        BASE.append(args.base.resolve())
        env["PYTHONPATH"] = os.pathsep.join([str(args.base.resolve()), env.get("PYTHONPATH", "")])
        env["LOYAUTE_HOME"] = str(base_home(args.home, args.base_drop.split(",")))
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
        # ``python -m`` puts the current folder first on sys.path: run from the workspace, so
        # that a checkout's own ``loyaute`` folder never shadows the package asked for.
        cwd=env["LOYAUTE_HOME"],
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
        with Sampler(server.pid) as flood_rss:
            flood, statuses = asyncio.run(unknown_flood(base, args.unknown))
        with Sampler(server.pid) as load_rss:
            latencies, errors, elapsed, warm, signins = asyncio.run(
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
        "signin_p50_ms": round(statistics.median(signins.latencies or [0.0]) * 1000, 1),
        "signin_max_ms": round(max(signins.latencies or [0.0]) * 1000, 1),
        "signin_retries_429": signins.retries,
        "signed_in": len(signins.latencies),
        "server_rss_idle_mb": round(load_rss.idle / 2**20),
        "server_rss_peak_mb": round(load_rss.peak / 2**20),
        "unknown_flood": args.unknown,
        "unknown_flood_statuses": dict(statuses),
        "unknown_flood_p50_ms": round(statistics.median(flood or [0.0]) * 1000, 1),
        "unknown_flood_max_ms": round(max(flood or [0.0]) * 1000, 1),
        "unknown_flood_rss_peak_mb": round(flood_rss.peak / 2**20),
        "base": str(BASE) if BASE else "",
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
    print(
        f"{result['signed_in']} sign-ins at once: p50 {result['signin_p50_ms']} ms, max "
        f"{result['signin_max_ms']} ms, {result['signin_retries_429']} answered 429 and retried; "
        f"server RSS {result['server_rss_idle_mb']} MB idle, peak {result['server_rss_peak_mb']} MB"
    )
    print(
        f"{args.unknown} unknown logins at once on /api/login: {dict(statuses)}, p50 "
        f"{result['unknown_flood_p50_ms']} ms, max {result['unknown_flood_max_ms']} ms, "
        f"server RSS peak {result['unknown_flood_rss_peak_mb']} MB"
    )
    target = result["p95_ms"] < 200 and result["errors"] == 0
    print("target p95 < 200 ms and zero errors:", "PASS" if target else "MISS")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
