"""Parsing benchmark: loyaute against the naive ``re`` loop, side by side in one run.

For each format (``fortigate``, ``exchange-iis``) the same generated files are parsed by

* ``naive``: the line-by-line Python ``re`` script of ``bench/naive.py`` (one process);
* ``loyaute-1``: ``loyaute`` with ``LocalEngine(workers=1)`` (in-process);
* ``loyaute-2``: ``loyaute`` with ``LocalEngine(workers=2)`` (forkserver worker processes).

Every run happens in its own subprocess. The parent samples the resident memory of that
subprocess and of all its descendants (forkserver and workers) every 20 ms and reports the peak of
their sum; the subprocess and each worker also report their own ``ru_maxrss``, so the largest
single process is exact. PSS (shared pages split between processes) is sampled 4 times a second.
Speed is lines per second of wall time inside the subprocess (interpreter start-up excluded,
worker start-up included). The table ends with the ratios against the naive loop, whether the
event counts agree, and PASS/MISS against the targets. The exit status is non-zero only when a
run crashed, never for a missed target.

Usage::

    python bench/run.py [--lines N] [--files K] [--keep] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

try:
    import psutil
except ImportError:  # pragma: no cover - psutil is in the test extra; /proc does without
    psutil = None

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402  (bench/ is not a package)

FORMATS = ("fortigate", "exchange-iis")
RUNNERS = ("naive", "loyaute-1", "loyaute-2")
TARGET_LINES_PER_S = {"fortigate": 1.5e6, "exchange-iis": 1.0e6}
"""Parse + classify on 2 cores (``loyaute-2``)."""
TARGET_RSS_MB = 500.0
SAMPLE_S = 0.02
PSS_EVERY = 12
"""PSS is read every 12th sample (about 4 times a second): reading it is not free."""
PAGE = os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------------------------
# Child side: one runner over one format's files, result as JSON on stdout
# --------------------------------------------------------------------------------------------


def maxrss_mb() -> float:
    """Peak resident set of this process in MB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(runner: str, fmt: str, paths: list[Path]) -> dict[str, object]:
    """Run one runner on one format's files and return the counts, the time and the peak RSS."""
    if runner == "naive":
        # Imported here, not at the top: the naive run must not carry loyaute's pyarrow in
        # its RSS, nor the loyaute runs the naive module.
        import naive  # noqa: PLC0415

        started = time.perf_counter()
        counts = naive.run(fmt, paths)
        seconds = time.perf_counter() - started
        return {**counts, "seconds": seconds, "largest_proc_mb": maxrss_mb(), "skipped": {}}

    from worker import measured_task  # noqa: PLC0415

    from loyaute.config import Settings  # noqa: PLC0415
    from loyaute.ingest.engine import LocalEngine, plan  # noqa: PLC0415
    from loyaute.ingest.reading import FileResult  # noqa: PLC0415
    from loyaute.sources import build_sources  # noqa: PLC0415

    workers = int(runner.rsplit("-", 1)[1])
    source = build_sources(Settings())[fmt]
    started = time.perf_counter()
    tasks = plan([(p, source) for p in paths], workers)
    merged: dict[str, FileResult] = {}
    worker_peak = 0.0
    for result, peak in LocalEngine(workers=workers).map(measured_task, tasks):
        worker_peak = max(worker_peak, peak)
        if result.path in merged:
            merged[result.path].merge(result)
        else:
            merged[result.path] = result
    seconds = time.perf_counter() - started
    errors = [f"{r.path}: {r.error}" for r in merged.values() if r.error]
    if errors:
        raise RuntimeError("; ".join(errors))
    skipped: Counter[str] = Counter()
    for r in merged.values():
        skipped.update(r.skipped)
    return {
        "lines": sum(r.lines for r in merged.values()),
        "events": sum(r.events for r in merged.values()),
        "interactive": sum(r.interactive for r in merged.values()),
        "seconds": seconds,
        "largest_proc_mb": max(maxrss_mb(), worker_peak),
        "tasks": len(tasks),
        "skipped": dict(skipped),
    }


# --------------------------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One measured run."""

    format: str
    runner: str
    files: int
    bytes: int
    lines: int = 0
    events: int = 0
    interactive: int = 0
    seconds: float = 0.0
    peak_tree_mb: float = 0.0
    peak_pss_mb: float = 0.0
    largest_proc_mb: float = 0.0
    processes: int = 0
    tasks: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    @property
    def rate(self) -> float:
        """Lines per second."""
        return self.lines / self.seconds if self.seconds else 0.0


def _children(pid: int) -> list[int] | None:
    """Direct children of a process from ``/proc/PID/task/*/children`` (None if unavailable)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    out: list[int] = []
    for tid in tasks:
        try:
            out.extend(int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split())
        except FileNotFoundError:
            if not Path(f"/proc/{pid}").exists():
                return []
            return None  # kernel without CONFIG_PROC_CHILDREN
        except OSError:
            continue
    return out


def _tree_pids(pid: int) -> list[int]:
    """A process and all its descendants (forkserver, workers, resource tracker)."""
    tree, frontier = [pid], [pid]
    while frontier:
        kids = _children(frontier.pop())
        if kids is None:
            break
        tree.extend(kids)
        frontier.extend(kids)
    else:
        return tree
    if psutil is None:
        return [pid]
    try:
        return [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
    except psutil.Error:
        return [pid]


def _rss(pid: int) -> int | None:
    """Resident set size in bytes, from ``/proc/PID/statm``."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return None


def _pss(pid: int) -> int | None:
    """Proportional set size in bytes (shared pages divided among their users)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        return None
    return None


def _tree_memory(pid: int, with_pss: bool) -> tuple[int, int, int]:
    """RSS sum, PSS sum (0 unless asked: it costs ~1.5 ms a process) and process count."""
    rss = pss = count = 0
    for p in _tree_pids(pid):
        value = _rss(p)
        if value is None:
            continue
        rss += value
        count += 1
        if with_pss:
            pss += _pss(p) or 0
    return rss, pss, count


def measure(runner: str, fmt: str, paths: list[Path], script: Path | None = None) -> Run:
    """Run one runner in a fresh subprocess, sampling the RSS of its whole process tree.

    ``script`` is the benchmark whose ``--child`` mode runs the runner (this file by default;
    ``ingest.py`` reuses the measuring for its end-to-end runners)."""
    run = Run(fmt, runner, len(paths), sum(p.stat().st_size for p in paths))
    cmd = [sys.executable, str((script or Path(__file__)).resolve()), "--child", runner, fmt]
    cmd += [str(p) for p in paths]
    peak = peak_pss = procs = samples = 0
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH), env.get("PYTHONPATH")]))
    # Files, not pipes: a chatty child must never block on a full pipe while we sample.
    with tempfile.TemporaryFile("w+") as out_f, tempfile.TemporaryFile("w+") as err_f:
        p = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, text=True, env=env)
        while p.poll() is None:
            rss, pss, count = _tree_memory(p.pid, samples % PSS_EVERY == PSS_EVERY - 1)
            samples += 1
            peak = max(peak, rss)
            peak_pss = max(peak_pss, pss)
            procs = max(procs, count)
            time.sleep(SAMPLE_S)
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read(), err_f.read()
    run.peak_tree_mb = peak / (1 << 20)
    run.peak_pss_mb = peak_pss / (1 << 20)
    run.processes = procs
    if p.returncode != 0 or not out.strip():
        run.error = f"exit {p.returncode}: {err.strip()[-2000:]}"
        return run
    data = json.loads(out.strip().splitlines()[-1])
    run.lines = int(data["lines"])
    run.events = int(data["events"])
    run.interactive = int(data["interactive"])
    run.seconds = float(data["seconds"])
    run.largest_proc_mb = float(data["largest_proc_mb"])
    run.tasks = int(data.get("tasks", 1))
    run.skipped = dict(data.get("skipped", {}))
    # A run shorter than the sampling period may be missed by sampling: never report less
    # than the largest single process.
    run.peak_tree_mb = max(run.peak_tree_mb, run.largest_proc_mb)
    return run


def warm(paths: list[Path]) -> float:
    """Read the files once so every runner finds them in the page cache; returns seconds."""
    started = time.perf_counter()
    buf = bytearray(8 << 20)
    for path in paths:
        with path.open("rb", buffering=0) as f:
            while f.readinto(buf):
                pass
    return time.perf_counter() - started


def available_memory() -> int:
    """``MemAvailable`` in bytes (0 when unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cores = str(len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        cores = str(os.cpu_count())
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    return {
        "cores": cores,
        "cpu": model,
        "memory": f"{mem:.0f} GiB",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def table(runs: list[Run]) -> str:
    """The result table, one line per run, with the speed ratio against the naive loop."""
    head = (
        f"{'format':<13} {'runner':<10} {'lines':>11} {'events':>10} {'interact.':>9} "
        f"{'seconds':>8} {'M lines/s':>9} {'MB/s':>6} {'× naive':>7} {'peak RSS MB':>11} "
        f"{'PSS MB':>6} {'largest MB':>10} {'procs':>5}"
    )
    out = [head, "-" * len(head)]
    for r in runs:
        if r.error:
            out.append(f"{r.format:<13} {r.runner:<10} CRASHED: {r.error.splitlines()[-1]}")
            continue
        base = next((b for b in runs if b.format == r.format and b.runner == "naive"), None)
        ratio = f"{r.rate / base.rate:7.2f}" if base and base.rate and not base.error else "      -"
        out.append(
            f"{r.format:<13} {r.runner:<10} {r.lines:>11,} {r.events:>10,} {r.interactive:>9,} "
            f"{r.seconds:>8.2f} {r.rate / 1e6:>9.3f} {r.bytes / r.seconds / 1e6:>6.0f} {ratio} "
            f"{r.peak_tree_mb:>11.0f} {r.peak_pss_mb:>6.0f} {r.largest_proc_mb:>10.0f} "
            f"{r.processes:>5}"
        )
    return "\n".join(out)


def agreement(runs: list[Run]) -> list[str]:
    """Whether every runner found the same lines, events and interactive events, per format."""
    notes: list[str] = []
    for fmt in FORMATS:
        ok = [r for r in runs if r.format == fmt and not r.error]
        if len(ok) < 2:
            continue
        for key in ("lines", "events", "interactive"):
            values = {f"{r.runner}": getattr(r, key) for r in ok}
            if len(set(values.values())) == 1:
                notes.append(f"{fmt}: {key} agree ({next(iter(values.values())):,})")
            else:
                shown = ", ".join(f"{k}={v:,}" for k, v in values.items())
                notes.append(f"{fmt}: {key} DIFFER: {shown}")
    return notes


def verdicts(runs: list[Run]) -> list[str]:
    """PASS/MISS against the speed (2 workers) and memory (every loyaute run) targets."""
    out: list[str] = []
    for r in runs:
        if r.error or not r.runner.startswith("loyaute"):
            continue
        if r.runner == "loyaute-2":
            target = TARGET_LINES_PER_S[r.format]
            mark = "PASS" if r.rate >= target else "MISS"
            out.append(
                f"{mark}  {r.format} speed at 2 workers: {r.rate / 1e6:.3f} M lines/s "
                f"(target ≥ {target / 1e6:.1f})"
            )
        mark = "PASS" if r.peak_tree_mb < TARGET_RSS_MB else "MISS"
        out.append(
            f"{mark}  {r.format} {r.runner} peak RSS {r.peak_tree_mb:.0f} MB summed over "
            f"{r.processes} process(es) (PSS {r.peak_pss_mb:.0f} MB; target < {TARGET_RSS_MB:.0f})"
        )
    return out


def best_of(runs: list[Run]) -> list[Run]:
    """Per (format, runner), the fastest run; its peak RSS is the highest seen over repeats."""
    picked: dict[tuple[str, str], Run] = {}
    peaks: dict[tuple[str, str], tuple[float, float, float]] = {}
    for r in runs:
        key = (r.format, r.runner)
        old = peaks.get(key, (0.0, 0.0, 0.0))
        peaks[key] = (
            max(old[0], r.peak_tree_mb),
            max(old[1], r.peak_pss_mb),
            max(old[2], r.largest_proc_mb),
        )
        cur = picked.get(key)
        # A crash is always shown; otherwise the fastest run.
        if cur is None or (cur.error is None and (r.error is not None or r.rate > cur.rate)):
            picked[key] = r
    out = []
    for key, r in picked.items():
        best = Run(**{**asdict(r)})
        best.peak_tree_mb, best.peak_pss_mb, best.largest_proc_mb = peaks[key]
        out.append(best)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line; see the module docstring."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        runner, fmt, *files = argv[1:]
        print(json.dumps(child(runner, fmt, [Path(f) for f in files])))
        return 0
    ap = argparse.ArgumentParser(description="Parsing benchmark: loyaute vs a naive re loop.")
    ap.add_argument("--lines", type=int, default=4_000_000, help="lines per format (total)")
    ap.add_argument("--files", type=int, default=4, help="files per format")
    ap.add_argument("--keep", action="store_true", help="keep the data this run generates")
    ap.add_argument("--repeat", type=int, default=1, help="runs per runner (best kept)")
    ap.add_argument("--formats", default=",".join(FORMATS), help="comma-separated")
    ap.add_argument("--runners", default=",".join(RUNNERS), help="comma-separated")
    ap.add_argument("--data", type=Path, default=BENCH / "data", help="data folder")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    formats = [f for f in args.formats.split(",") if f]
    runners = [r for r in args.runners.split(",") if r]
    for name in formats:
        if name not in FORMATS:
            ap.error(f"unknown format {name}")
    for name in runners:
        if name not in RUNNERS:
            ap.error(f"unknown runner {name}")

    info = machine()
    print(f"machine: {info['cores']} cores, {info['cpu']}, {info['memory']}, "
          f"Python {info['python']}, {info['date']}")  # fmt: skip
    generated: list[Path] = []
    folders: dict[str, Path] = {}
    for fmt in formats:
        folder = generate.data_dir(args.data, fmt, args.lines, args.files, args.seed)
        if not generate.manifest_ok(folder, args.lines, args.files, args.seed):
            generated.append(folder)
        folders[fmt] = generate.generate(args.data, fmt, args.lines, args.files, args.seed)
    if generated:
        # Fresh files are dirty pages: flush them now, not while the first runner is measured.
        os.sync()

    runs: list[Run] = []
    try:
        for fmt in formats:
            paths = sorted(folders[fmt].glob("*.log"))
            size = sum(p.stat().st_size for p in paths)
            print(f"\n{fmt}: {len(paths)} file(s), {size / 1e6:,.0f} MB, {folders[fmt]}")
            if size > 0.8 * available_memory():
                print("  warning: the files may not fit in the page cache; disk reads will count")
            print(f"  page cache warmed in {warm(paths):.1f} s")
            for attempt in range(args.repeat):
                for runner in runners:
                    run = measure(runner, fmt, paths)
                    runs.append(run)
                    status = run.error or (
                        f"{run.lines:,} lines, {run.events:,} events, {run.seconds:.2f} s, "
                        f"{run.rate / 1e6:.3f} M lines/s, peak RSS {run.peak_tree_mb:.0f} MB "
                        f"(PSS {run.peak_pss_mb:.0f}) over {run.processes} proc"
                    )
                    print(f"  [{attempt + 1}/{args.repeat}] {runner:<10} {status}", flush=True)
    finally:
        if not args.keep:
            for folder in generated:
                shutil.rmtree(folder, ignore_errors=True)

    shown = best_of(runs) if args.repeat > 1 else runs
    print()
    if args.repeat > 1:
        print(f"best of {args.repeat} runs (peak RSS: highest of the runs)")
    print(table(shown))
    print()
    for line in agreement(shown):
        print(line)
    for r in shown:
        if r.skipped:
            reasons = ", ".join(f"{k}={v:,}" for k, v in sorted(r.skipped.items()))
            print(f"{r.format} {r.runner} skipped: {reasons}")
    print()
    for line in verdicts(shown):
        print(line)

    out = args.json or BENCH / "out" / f"results-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": info, "args": {k: str(v) for k, v in vars(args).items()}}
    payload["runs"] = [{**asdict(r), "lines_per_s": r.rate} for r in runs]
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nresults: {out}")
    return 1 if any(r.error for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
