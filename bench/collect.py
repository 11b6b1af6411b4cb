"""Sustained intake of ``loyaute collect`` over TCP on loopback: lines per second with zero loss,
and the collector's peak memory.

A sender process pushes the lines of a generated FortiGate file (``bench/generate.py``: 91.5%
traffic, 5% UTM/system, 3.5% VPN, 756 bytes a line) as fast as the socket takes them, newline
framed, as a FortiGate or an rsyslog relay sends them. The collector runs in a process of its
own (the programmatic entry point, on a fixed clock, into a gated workspace of the generator's
1,800 people). Its resident memory is sampled from ``/proc`` every 20 ms until it has exited
(``ru_maxrss`` and even ``VmHWM`` carry the memory of the parent it was forked from on this
machine's kernel). The run ends when the collector's Prometheus endpoint says every line was handed
to a source; the rate is lines / (that moment - the sender's first byte). Zero loss is checked,
not assumed: the collector's line and event counts must equal what a batch parse of the same
file gives, and it must exit 0 on SIGTERM.

Beside it, on the same lines and the same sender, two baselines show where the time goes:

* ``sink``: an asyncio server that only counts newlines — what loopback TCP and one Python event
  loop cost before any parsing (the ceiling of this design);
* ``naive``: the same server running ``bench/naive.py``'s line-by-line regex loop on each line —
  the collector a DSI would write.

    python bench/collect.py [--lines 2000000] [--runners loyaute,sink,naive] [--repeat 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / "data"
OUT = BENCH / "out"
NOW = datetime(2026, 4, 14, 18, tzinfo=UTC)
FIRST_DAY = date(2026, 4, 14)
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))


# --- data and workspace ---------------------------------------------------------------------


def data_file(lines: int) -> Path:
    """A FortiGate file of ``lines`` lines (one generated day)."""
    from generate import generate  # noqa: PLC0415

    folder = generate(DATA, "fortigate", lines, 1)
    meta = json.loads((folder / "MANIFEST.json").read_text())
    return folder / meta["files"][0]


def prepare() -> Path:
    """A gated workspace: the generator's people in telework on its first day (built once)."""
    from generate import make_people  # noqa: PLC0415

    from loyaute.clock import FixedClock  # noqa: PLC0415
    from loyaute.config import Settings  # noqa: PLC0415
    from loyaute.demo.runner import demo_register  # noqa: PLC0415
    from loyaute.identity import parse_directory, store_directory  # noqa: PLC0415
    from loyaute.policy.notices import record_notices  # noqa: PLC0415
    from loyaute.policy.roles import Identity, Role  # noqa: PLC0415
    from loyaute.schedule import import_schedule  # noqa: PLC0415
    from loyaute.templates import register_toml  # noqa: PLC0415
    from loyaute.workspace import Workspace, init  # noqa: PLC0415

    home = OUT / "collect-template"
    if (home / "ready").is_file():
        return home
    shutil.rmtree(home, ignore_errors=True)
    paths = init(home)
    start = FIRST_DAY - timedelta(days=7)
    register = demo_register(Settings(), start)
    register = register.model_copy(
        update={
            "purpose": register.purpose.model_copy(
                update={"eligible_job_families": ["administratif"]}
            )
        }
    )
    paths.register.write_text(register_toml(register), encoding="utf-8")
    ws = Workspace.open(home, FixedClock(NOW))
    people = make_people(random.Random("7-people"), 1800)
    directory = OUT / "collect-directory.csv"
    rows = ["agent_id,display_name,service,job_family,manager_id,logins"]
    rows += [
        f"P{i:05d},{login},S{i % 40:02d},administratif,,{login};{upn}"
        for i, (login, upn) in enumerate(people)
    ]
    directory.write_text("\n".join(rows) + "\n", encoding="utf-8")
    store_directory(ws.db, parse_directory(directory, ws.settings.directory))
    schedule = OUT / "collect-schedule.csv"
    days = [FIRST_DAY + timedelta(days=i) for i in range(-1, 2)]
    lines = ["agent_id,date,half_day,code"]
    lines += [f"P{i:05d},{d.isoformat()},JOUR,TLT" for i in range(len(people)) for d in days]
    schedule.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_schedule(ws.db, [schedule], ws.settings.schedule)
    record_notices(
        ws, Identity("bench", Role.SYSTEM), start, [f"P{i:05d}" for i in range(len(people))]
    )
    ws.close()
    (home / "ready").write_text("ok")
    return home


def expected_counts(path: Path) -> dict[str, int]:
    """Lines and events of a batch parse of the file (cached beside it)."""
    cache = path.with_suffix(".counts.json")
    if cache.is_file():
        return dict(json.loads(cache.read_text()))
    from loyaute.config import Settings  # noqa: PLC0415
    from loyaute.ingest.reading import summarize  # noqa: PLC0415
    from loyaute.sources import build_sources  # noqa: PLC0415

    result = summarize(path, build_sources(Settings())["fortigate"])
    counts = {"lines": result.lines, "events": result.events}
    cache.write_text(json.dumps(counts))
    return counts


# --- the processes --------------------------------------------------------------------------


def run_collector(home: Path, ready_file: Path) -> int:
    """Child: ``loyaute collect --tcp 127.0.0.1:0 --metrics 127.0.0.1:0`` on a fixed clock."""
    from loyaute.clock import FixedClock  # noqa: PLC0415
    from loyaute.ingest.collect import CollectOptions, Endpoint, collect  # noqa: PLC0415
    from loyaute.policy.roles import Identity, Role  # noqa: PLC0415
    from loyaute.workspace import Workspace  # noqa: PLC0415

    def ready(listeners: list[str]) -> None:
        ready_file.write_text(json.dumps(listeners))

    options = CollectOptions(
        tcp=Endpoint("127.0.0.1", 0), metrics=Endpoint("127.0.0.1", 0), commit_every_seconds=5
    )
    with Workspace.open(home, FixedClock(NOW)) as ws:
        summary = collect(ws, options, Identity("bench", Role.SYSTEM), ready=ready)
    c = summary.counters
    (ready_file.with_suffix(".result")).write_text(
        json.dumps(
            {
                "lines": sum(c.lines.values()),
                "events": c.events,
                "commits": c.commits,
            }
        )
    )
    return 0


def run_baseline(kind: str, ready_file: Path) -> int:
    """Child: a minimal asyncio TCP server that counts lines (``sink``) or runs the naive
    regex loop on each (``naive``); it serves its count on a second port."""
    from naive import naive_fortigate  # noqa: PLC0415

    counts = {"lines": 0, "events": 0}

    class Lines(asyncio.Protocol):
        def __init__(self) -> None:
            self.rest = b""

        def data_received(self, data: bytes) -> None:
            data = self.rest + data
            end = data.rfind(b"\n")
            if end < 0:
                self.rest = data
                return
            block, self.rest = data[: end + 1], data[end + 1 :]
            if kind == "sink":
                counts["lines"] += block.count(b"\n")
            else:
                got = naive_fortigate(block.decode("utf-8", "replace").splitlines())
                counts["lines"] += got.get("lines", block.count(b"\n"))
                counts["events"] += got.get("events", 0)

    async def report(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(json.dumps(counts).encode())
        await writer.drain()
        writer.close()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Lines, "127.0.0.1", 0)
        stats = await asyncio.start_server(report, "127.0.0.1", 0)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        ports = [server.sockets[0].getsockname()[1], stats.sockets[0].getsockname()[1]]
        ready_file.write_text(json.dumps([f"tcp 127.0.0.1:{ports[0]}", f"stats {ports[1]}"]))
        await stop.wait()

    asyncio.run(main())
    (ready_file.with_suffix(".result")).write_text(json.dumps(counts))
    return 0


def send(port: int, path: Path) -> int:
    """Child: push the file's lines over one TCP connection as fast as it takes them."""
    with socket.create_connection(("127.0.0.1", port)) as s, path.open("rb") as f:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        while chunk := f.read(4 << 20):
            s.sendall(chunk)
        s.shutdown(socket.SHUT_WR)
    return 0


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _count(runner: str, listeners: list[str]) -> tuple[int, int]:
    if runner == "loyaute":
        port = next(x for x in listeners if x.startswith("metrics")).rsplit(":", 1)[1].split("/")[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
        values = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and line[0] != "#")
        return (
            int(float(values['loyaute_collect_lines_total{transport="tcp"}'])),
            int(float(values["loyaute_collect_events_total"])),
        )
    port = int(next(x for x in listeners if x.startswith("stats")).split()[1])
    with socket.create_connection(("127.0.0.1", port)) as s:
        data = b""
        while piece := s.recv(65536):
            data += piece
    counts = json.loads(data)
    return int(counts["lines"]), int(counts["events"])


def measure(runner: str, path: Path, lines: int, home: Path | None) -> dict[str, object]:
    """One run: start the server, send, wait until every line is counted, stop it."""
    OUT.mkdir(parents=True, exist_ok=True)
    ready = OUT / f"collect-{runner}.ready"
    ready.unlink(missing_ok=True)
    ready.with_suffix(".result").unlink(missing_ok=True)
    me = [sys.executable, str(Path(__file__).resolve())]
    if runner == "loyaute":
        assert home is not None
        run_home = OUT / "collect-run"
        shutil.rmtree(run_home, ignore_errors=True)
        shutil.copytree(home, run_home)
        server = subprocess.Popen([*me, "--child", "loyaute", str(run_home), str(ready)])
    else:
        server = subprocess.Popen([*me, "--child", runner, "-", str(ready)])
    deadline = time.monotonic() + 60
    while not ready.is_file():
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{runner} did not start")
        time.sleep(0.05)
    listeners = json.loads(ready.read_text())
    port = int(next(x for x in listeners if x.startswith("tcp")).rsplit(":", 1)[1])
    peak = 0.0
    started = time.perf_counter()
    sender = subprocess.Popen([*me, "--send", str(port), str(path)])
    sent_at = None
    done = 0
    events = 0
    last_poll = 0.0
    while True:
        peak = max(peak, _rss_mb(server.pid))
        now = time.perf_counter()
        if sent_at is None and sender.poll() is not None:
            sent_at = now - started
        if now - last_poll > 0.2:
            last_poll = now
            done, events = _count(runner, listeners)
            if done >= lines:
                break
            if now - started > 600:
                break
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    sender.wait(60)
    server.send_signal(signal.SIGTERM)
    while server.poll() is None:  # the last commit counts too
        peak = max(peak, _rss_mb(server.pid))
        time.sleep(0.02)
    code = server.wait(120)
    result = json.loads(ready.with_suffix(".result").read_text())
    return {
        "runner": runner,
        "lines": done,
        "events": events,
        "seconds": round(seconds, 3),
        "sender_seconds": round(sent_at or seconds, 3),
        "lines_per_s": round(done / seconds),
        "peak_rss_mb": round(peak, 1),
        "exit": code,
        "final": result,
    }


def breakdown(path: Path, limit: int = 600_000_000) -> None:
    """Where the collector's time goes, per line, in one process without the network: the
    decoder and the intake fed 256 KiB pieces of the file, the source and the keys timed apart."""
    import loyaute.ingest.collect.intake as intake_module  # noqa: PLC0415
    from loyaute.config import Settings  # noqa: PLC0415
    from loyaute.ingest.collect.framing import StreamDecoder  # noqa: PLC0415
    from loyaute.ingest.collect.metrics import Counters  # noqa: PLC0415
    from loyaute.presence.windows import Windows  # noqa: PLC0415
    from loyaute.sources import build_sources  # noqa: PLC0415

    settings = Settings()
    sources = build_sources(settings)
    spent = {"source": 0.0, "keys": 0.0}
    parser_class = type(sources["fortigate"].parser())
    real_parse, real_keys = parser_class.parse, intake_module.key_rows

    def parse(self: object, chunk: object) -> object:
        t = time.perf_counter()
        out = real_parse(self, chunk)  # type: ignore[arg-type]
        spent["source"] += time.perf_counter() - t
        return out

    def keys(*args: object, **kwargs: object) -> object:
        t = time.perf_counter()
        out = real_keys(*args, **kwargs)  # type: ignore[arg-type]
        spent["keys"] += time.perf_counter() - t
        return out

    parser_class.parse = parse  # type: ignore[method-assign]
    intake_module.key_rows = keys  # type: ignore[assignment]
    with path.open("rb") as f:
        data = f.read(limit)
    intake = intake_module.Intake(
        sources,
        settings.sources.enabled,
        None,
        Windows.from_settings(settings.half_days, settings.zone),
        False,
        Counters(),
    )
    decoder = StreamDecoder(1 << 20)
    framing = handing = 0.0
    lines = 0
    for at in range(0, len(data), 256 << 10):
        t = time.perf_counter()
        messages = decoder.feed(data[at : at + (256 << 10)])
        framing += time.perf_counter() - t
        lines += len(messages)
        t = time.perf_counter()
        intake.add_messages("tcp", "tcp", messages)
        handing += time.perf_counter() - t
    t = time.perf_counter()
    intake.process(final=True)
    handing += time.perf_counter() - t
    rest = handing - spent["source"] - spent["keys"]
    total = framing + handing

    def us(x: float) -> str:
        return f"{x / lines * 1e6:.2f}"

    print(f"{lines:,} lines in one process: {us(total)} µs/line ({lines / total:,.0f} lines/s)")
    print(f"  RFC 6587 decoding                 {us(framing)}")
    print(f"  header, dispatch, batch joining   {us(rest)}")
    print(f"  the FortiGate source              {us(spent['source'])}")
    print(f"  half-day keys                     {us(spent['keys'])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--runners", default="loyaute,sink,naive")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "HOME", "READY"))
    parser.add_argument("--send", nargs=2, metavar=("PORT", "FILE"))
    parser.add_argument(
        "--breakdown", action="store_true", help="time each stage in one process and stop"
    )
    args = parser.parse_args(argv)
    if args.child:
        kind, home, ready = args.child
        if kind == "loyaute":
            return run_collector(Path(home), Path(ready))
        return run_baseline(kind, Path(ready))
    if args.send:
        return send(int(args.send[0]), Path(args.send[1]))

    path = data_file(args.lines)
    if args.breakdown:
        breakdown(path)
        return 0
    expected = expected_counts(path)
    home = prepare()
    runs = []
    for _ in range(args.repeat):
        for runner in args.runners.split(","):
            run = measure(runner, path, expected["lines"], home if runner == "loyaute" else None)
            runs.append(run)
            print(json.dumps(run), flush=True)
    print()
    print(f"{expected['lines']:,} FortiGate lines ({path.stat().st_size / 1e6:,.0f} MB), "
          f"{expected['events']:,} events in a batch parse; {os.cpu_count()} cores")  # fmt: skip
    print("| runner | lines | seconds | lines/s | sender done (s) | peak RSS MB | zero loss |")
    print("|---|---|---|---|---|---|---|")
    for run in runs:
        lossless = (
            run["lines"] == expected["lines"]
            and run["exit"] == 0
            and (
                run["runner"] != "loyaute"
                or (
                    run["events"] == expected["events"]
                    and run["final"]["events"] == expected["events"]
                )  # type: ignore[index]
            )
        )
        print(
            f"| {run['runner']} | {run['lines']:,} | {run['seconds']} | {run['lines_per_s']:,} | "
            f"{run['sender_seconds']} | {run['peak_rss_mb']} | {'yes' if lossless else 'NO'} |"
        )
    best = max(
        (r for r in runs if r["runner"] == "loyaute"), key=lambda r: r["lines_per_s"], default=None
    )
    if best is not None:
        rate, rss = int(best["lines_per_s"]), float(best["peak_rss_mb"])  # type: ignore[call-overload, arg-type]
        verdict = "PASS" if rate >= 100_000 and rss < 300 else "MISS"
        print(
            f"\ngoal ≥ 100,000 lines/s with zero loss under 300 MB: {rate:,} lines/s, {rss:.0f} MB → {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
