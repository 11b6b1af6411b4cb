"""Parsing and ingest benchmark: loyaute against the naive ``re`` loop, side by side in one run.

For each mix (a format and a traffic mix: ``fortigate`` and ``exchange-iis`` are the default
mixes of 4 M lines, ``iis-user93`` is IIS with ~93% user requests over 10 daily files,
``fgt-vpn2`` FortiGate with ~2% VPN lines of ~400 bytes), the same generated files are parsed by

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

``--end-to-end`` times whole processes instead, from start to exit: the real ``loyaute ingest``
command on a fresh copy of a workspace whose gates hold (made with ``loyaute init``, a filled
``register.toml``, ``directory import``, ``schedule import`` and ``notice record``), beside the
naive script run as its own process; and ``loyaute --help`` against ``python -c "import typer"``.

Usage::

    python bench/run.py [--mixes M,…] [--lines N] [--files K] [--keep] [--repeat R]
    python bench/run.py --end-to-end [--mixes M,…] [--repeat R]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
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
BASE_RUNNERS = ("base-1", "base-2")
"""The same as ``loyaute-N`` with another revision's ``loyaute`` package (``--base DIR``)."""
BASE: list[Path] = []
"""The folder holding that package, once ``--base`` is given."""
TARGET_LINES_PER_S = {"fortigate": 1.5e6, "exchange-iis": 1.0e6}
"""Parse + classify on 2 cores (``loyaute-2``)."""
TARGET_E2E_LINES_PER_S = {"fortigate": 1.5e6, "exchange-iis": 1.0e6}
"""The whole ``loyaute ingest`` process on 2 cores, start to exit (issue 15's targets)."""
TARGET_STARTUP_RATIO = 3.0
"""``loyaute --help`` against ``python -c "import typer"``."""
NEUTRAL_CWD = Path(tempfile.gettempdir())
"""Where measured processes run: not this checkout, whose ``loyaute`` folder would shadow a base
revision's in any interpreter started with ``-c`` (the local engine's forkserver is one)."""
TARGET_RSS_MB = 500.0


@dataclass(frozen=True)
class Mix:
    """A data set: a format, the generator's traffic mix, its size."""

    format: str
    mix: str
    lines: int
    files: int


MIXES = {
    "fortigate": Mix("fortigate", "default", 4_000_000, 4),
    "exchange-iis": Mix("exchange-iis", "default", 4_000_000, 4),
    "iis-user93": Mix("exchange-iis", "user93", 1_000_000, 10),
    "fgt-vpn2": Mix("fortigate", "vpn2", 1_500_000, 10),
}
SAMPLE_S = 0.02
PSS_EVERY = 12
"""PSS is read every 12th sample (about 4 times a second): reading it is not free."""
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


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
    mix: str = ""
    """The mix's name in MIXES (the format when empty)."""
    cpu_seconds: float = 0.0
    """User + system CPU of the measured process tree (imports included, for both modes)."""
    kept: int = 0
    """End to end: half-days the ingest kept in the store."""

    @property
    def label(self) -> str:
        """What the tables call this data set."""
        return self.mix or self.format

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


def _cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process so far, from ``/proc/PID/stat``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return None


def _tree_memory(
    pid: int, with_pss: bool, cpu: dict[int, float] | None = None
) -> tuple[int, int, int]:
    """RSS sum, PSS sum (0 unless asked: it costs ~1.5 ms a process) and process count; the CPU
    time of each process so far goes into ``cpu`` when given."""
    rss = pss = count = 0
    for p in _tree_pids(pid):
        value = _rss(p)
        if value is None:
            continue
        rss += value
        count += 1
        if with_pss:
            pss += _pss(p) or 0
        if cpu is not None and (used := _cpu(p)) is not None:
            cpu[p] = max(cpu.get(p, 0.0), used)
    return rss, pss, count


@dataclass
class Watched:
    """A watched process: wall time from start to exit, peak memory of its tree, its output."""

    seconds: float
    peak_tree_mb: float
    peak_pss_mb: float
    processes: int
    returncode: int
    out: str
    err: str
    cpu_seconds: float
    """User + system CPU of the whole tree (the process itself exactly, its descendants as last
    sampled)."""


def watch(cmd: list[str], env: dict[str, str] | None = None) -> Watched:
    """Run ``cmd`` and sample the RSS of its whole process tree until it exits."""
    peak = peak_pss = procs = samples = 0
    cpu: dict[int, float] = {}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Files, not pipes: a chatty child must never block on a full pipe while we sample.
    with tempfile.TemporaryFile("w+") as out_f, tempfile.TemporaryFile("w+") as err_f:
        started = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, text=True, env=env, cwd=NEUTRAL_CWD)
        while p.poll() is None:
            rss, pss, count = _tree_memory(p.pid, samples % PSS_EVERY == PSS_EVERY - 1, cpu)
            samples += 1
            peak = max(peak, rss)
            peak_pss = max(peak_pss, pss)
            procs = max(procs, count)
            # Short sleeps first: a process of a second must still be sampled a few times.
            time.sleep(SAMPLE_S if samples > 10 else SAMPLE_S / 4)
        seconds = time.perf_counter() - started
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read(), err_f.read()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    cpu_seconds = own + sum(used for pid, used in cpu.items() if pid != p.pid)
    mb = 1 << 20
    return Watched(seconds, peak / mb, peak_pss / mb, procs, p.returncode, out, err, cpu_seconds)


def child_env(runner: str = "") -> dict[str, str]:
    """The environment of a measured subprocess: ``bench/`` importable (and, for a base runner,
    the base revision's ``loyaute`` package before the installed one)."""
    env = dict(os.environ)
    first = [str(p) for p in BASE] if runner.startswith("base") else []
    env["PYTHONPATH"] = os.pathsep.join(
        [*first, str(BENCH), *filter(None, [env.get("PYTHONPATH")])]
    )
    return env


def measure(
    runner: str, fmt: str, paths: list[Path], script: Path | None = None, mix: str = ""
) -> Run:
    """Run one runner in a fresh subprocess, sampling the RSS of its whole process tree.

    ``script`` is the benchmark whose ``--child`` mode runs the runner (this file by default;
    ``ingest.py`` reuses the measuring for its end-to-end runners)."""
    run = Run(fmt, runner, len(paths), sum(p.stat().st_size for p in paths), mix=mix)
    as_runner = runner.replace("base-", "loyaute-")
    cmd = [sys.executable, str((script or Path(__file__)).resolve()), "--child", as_runner, fmt]
    cmd += [str(p) for p in paths]
    w = watch(cmd, child_env(runner))
    run.peak_tree_mb, run.peak_pss_mb, run.processes = w.peak_tree_mb, w.peak_pss_mb, w.processes
    run.cpu_seconds = w.cpu_seconds
    if w.returncode != 0 or not w.out.strip():
        run.error = f"exit {w.returncode}: {w.err.strip()[-2000:]}"
        return run
    data = json.loads(w.out.strip().splitlines()[-1])
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


# --------------------------------------------------------------------------------------------
# End to end: whole processes, start to exit
# --------------------------------------------------------------------------------------------

E2E_PEOPLE = 1800
E2E_ACTOR = "bench"


def loyaute_cmd(runner: str = "loyaute") -> list[str]:
    """The installed ``loyaute`` command (its console script beside this Python); for a base
    runner, the same script run with the base revision's package first on ``sys.path``."""
    script = Path(sys.executable).with_name("loyaute")
    if runner.startswith("base") and BASE:
        wrapper = BENCH / "out" / "loyaute-base"
        wrapper.parent.mkdir(parents=True, exist_ok=True)
        wrapper.write_text(
            f"import sys\nsys.path.insert(0, {str(BASE[0])!r})\nfrom loyaute.cli import main\n"
            'if __name__ == "__main__":\n    sys.exit(main())\n',
            encoding="utf-8",
        )
        return [sys.executable, str(wrapper)]
    return [str(script)] if script.is_file() else [sys.executable, "-m", "loyaute"]


def _cli(home: Path, *args: str, revision: str = "loyaute") -> None:
    cmd = [*loyaute_cmd(revision), "--home", str(home), *args]
    done = subprocess.run(
        cmd, capture_output=True, text=True, env=e2e_env(), cwd=NEUTRAL_CWD, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {done.returncode}: {done.stderr.strip()}")


def e2e_env() -> dict[str, str]:
    """The environment of an end-to-end run: English messages, a fixed actor."""
    env = dict(os.environ)
    env["LOYAUTE_ACTOR"] = E2E_ACTOR
    env["LOYAUTE_LANG"] = "en"
    env.pop("LOYAUTE_HOME", None)
    return env


def e2e_first_day(mix: Mix) -> date:
    """End to end, the files are the days just before today: the real clock runs ``ingest``, and
    retention (F2) and the pending delay (B4) judge the days by it, as in production."""
    return datetime.now(UTC).date() - timedelta(days=mix.files)


REGISTER_SCRIPT = """
import sys
from datetime import date
from pathlib import Path
from loyaute.config import load_settings
from loyaute.demo.runner import demo_register
from loyaute.templates import register_toml
home, start = Path(sys.argv[1]), date.fromisoformat(sys.argv[2])
register = demo_register(load_settings(home / "loyaute.toml"), start)
(home / "register.toml").write_text(register_toml(register), encoding="utf-8")
"""
"""Fills a workspace's register.toml as the demo's DPO does, with the revision on ``sys.path``
(a base revision writes the register its own settings know)."""


def e2e_template(name: str, mix: Mix, paths: list[Path], runner: str = "loyaute") -> Path:
    """A workspace whose gates hold for these files, made through the CLI once per mix and per
    revision (``base-N`` runners get one made by the base revision, whose settings may differ).

    ``loyaute init``; ``register.toml`` filled as the DPO of the demo fills it (every gate holds
    from a week before the files' first day); the generator's people as the directory, everyone
    in telework on the files' days; the notice delivered to all. Each run copies it."""
    revision = "base" if runner.startswith("base") else "loyaute"
    first = e2e_first_day(mix)
    suffix = "-base" if revision == "base" else ""
    home = BENCH / "out" / f"e2e-template-{name}-{mix.lines}x{mix.files}-d{first:%Y%m%d}{suffix}"
    if (home / "bench-ready").is_file():
        return home
    shutil.rmtree(home, ignore_errors=True)
    home.parent.mkdir(parents=True, exist_ok=True)
    _cli(home, "init", revision=revision)
    days = [first + timedelta(days=i) for i in range(len(paths))]
    env = e2e_env()
    if revision == "base":
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in BASE)
    start = (first - timedelta(days=7)).isoformat()
    subprocess.run(
        [sys.executable, "-c", REGISTER_SCRIPT, str(home), start],
        env=env,
        cwd=NEUTRAL_CWD,
        check=True,
    )
    people = generate.make_people(random.Random("7-people"), E2E_PEOPLE)
    directory = home.parent / f"e2e-directory-{name}.csv"
    rows = ["agent_id,display_name,service,job_family,manager_id,logins"]
    rows += [
        f"P{i:05d},{login},S{i % 40:02d},administratif,,{login};{upn}"
        for i, (login, upn) in enumerate(people)
    ]
    directory.write_text("\n".join(rows) + "\n", encoding="utf-8")
    _cli(home, "directory", "import", str(directory), revision=revision)
    schedule = home.parent / f"e2e-schedule-{name}.csv"
    lines = ["agent_id,date,half_day,code"]
    lines += [f"P{i:05d},{d.isoformat()},JOUR,TLT" for i in range(len(people)) for d in days]
    schedule.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _cli(home, "schedule", "import", str(schedule), revision=revision)
    _cli(home, "notice", "record", "--all", "--on", start, revision=revision)
    _cli(home, "gates", revision=revision)
    (home / "bench-ready").write_text("ok\n")
    return home


def measure_e2e(runner: str, name: str, mix: Mix, paths: list[Path]) -> Run:
    """One whole process, start to exit: ``naive.py`` or ``loyaute ingest --workers N`` on a
    fresh copy of the mix's workspace."""
    run = Run(mix.format, runner, len(paths), sum(p.stat().st_size for p in paths), mix=name)
    files = [str(p) for p in paths]
    if runner == "naive":
        cmd = [sys.executable, str(BENCH / "naive.py"), mix.format, *files]
    else:
        template = e2e_template(name, mix, paths, runner)
        home = BENCH / "out" / f"e2e-run-{name}"
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(template, home)
        workers = runner.rsplit("-", 1)[1]
        cmd = [*loyaute_cmd(runner), "--home", str(home), "ingest", "--workers", workers]
        cmd += ["--report", "json", *files]
    env = e2e_env()
    if runner.startswith("base"):
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in BASE)
    w = watch(cmd, env)
    run.seconds = w.seconds
    run.peak_tree_mb, run.peak_pss_mb, run.processes = w.peak_tree_mb, w.peak_pss_mb, w.processes
    run.cpu_seconds = w.cpu_seconds
    if w.returncode != 0 or not w.out.strip():
        run.error = f"exit {w.returncode}: {w.err.strip()[-2000:]}"
        return run
    if runner == "naive":
        data = json.loads(w.out.strip().splitlines()[-1])
        run.lines, run.events = int(data["lines"]), int(data["events"])
        run.interactive = int(data["interactive"])
        return run
    report = json.loads(w.out)
    skipped: Counter[str] = Counter()
    for f in report["files"]:
        run.lines += int(f["lines"])
        run.events += int(f["events"])
        run.kept += int(f["half_days_kept"])
        skipped.update(f["skipped"])
        if f["status"] != "ingested":
            run.error = f"{f['path']}: {f['status']} {f['message']}"
    run.skipped = dict(skipped)
    run.tasks = len(report["files"])
    return run


def startup(repeat: int) -> list[tuple[str, float]]:
    """Best wall time of ``loyaute --help`` and of ``python -c "import typer"`` (and of a bare
    interpreter, the floor), each a fresh process; ``--help`` both piped (plain text) and on a
    pseudo-terminal (where the help once was Rich's), and the base revision's beside them with ``--base``."""
    cases: list[tuple[str, list[str], bool]] = [
        ("python -c pass", [sys.executable, "-c", "pass"], False),
        ('python -c "import typer"', [sys.executable, "-c", "import typer"], False),
        ("loyaute --help", [*loyaute_cmd(), "--help"], False),
        ("loyaute --help (terminal)", [*loyaute_cmd(), "--help"], True),
    ]
    if BASE:
        cases.append(("base: loyaute --help", [*loyaute_cmd("base"), "--help"], False))
        cases.append(("base: loyaute --help (terminal)", [*loyaute_cmd("base"), "--help"], True))
    best: dict[str, float] = {}
    for _ in range(max(3, repeat)):
        for label, cmd, terminal in cases:
            took = _timed_on_terminal(cmd) if terminal else _timed(cmd)
            best[label] = min(best.get(label, took), took)
    return list(best.items())


def _timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True, env=e2e_env(), cwd=NEUTRAL_CWD)
    return time.perf_counter() - started


def _timed_on_terminal(cmd: list[str]) -> float:
    """``cmd`` with its stdout and stderr on a pseudo-terminal (drained as it writes)."""
    import pty  # noqa: PLC0415 - POSIX only
    import threading  # noqa: PLC0415

    master, slave = pty.openpty()

    def drain() -> None:
        with contextlib.suppress(OSError):
            while os.read(master, 65536):
                pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    env = {**e2e_env(), "COLUMNS": "120", "LINES": "40", "TERM": "xterm-256color"}
    started = time.perf_counter()
    subprocess.run(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        check=True,
        env=env,
        cwd=NEUTRAL_CWD,
    )
    took = time.perf_counter() - started
    os.close(slave)
    reader.join(timeout=5)
    os.close(master)
    return took


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


def table(runs: list[Run], end_to_end: bool = False) -> str:
    """The result table, one line per run, with the speed ratio against the naive loop."""
    last = f"{'kept':>7}" if end_to_end else f"{'procs':>5}"
    head = (
        f"{'mix':<13} {'runner':<10} {'lines':>11} {'events':>10} {'interact.':>9} "
        f"{'seconds':>8} {'CPU s':>6} {'M lines/s':>9} {'MB/s':>6} {'× naive':>7} {'peak RSS MB':>11} "
        f"{'PSS MB':>6} {'largest MB':>10} {last}"
    )
    out = [head, "-" * len(head)]
    for r in runs:
        if r.error:
            out.append(f"{r.label:<13} {r.runner:<10} CRASHED: {r.error.splitlines()[-1]}")
            continue
        base = next((b for b in runs if b.label == r.label and b.runner == "naive"), None)
        ratio = f"{r.rate / base.rate:7.2f}" if base and base.rate and not base.error else "      -"
        interactive = "-" if end_to_end and r.runner != "naive" else f"{r.interactive:,}"
        largest = "-" if end_to_end else f"{r.largest_proc_mb:.0f}"
        tail = f"{r.kept:>7,}" if end_to_end else f"{r.processes:>5}"
        out.append(
            f"{r.label:<13} {r.runner:<10} {r.lines:>11,} {r.events:>10,} {interactive:>9} "
            f"{r.seconds:>8.2f} {r.cpu_seconds:>6.2f} {r.rate / 1e6:>9.3f} "
            f"{r.bytes / r.seconds / 1e6:>6.0f} {ratio} "
            f"{r.peak_tree_mb:>11.0f} {r.peak_pss_mb:>6.0f} {largest:>10} {tail}"
        )
    return "\n".join(out)


def agreement(runs: list[Run], end_to_end: bool = False) -> list[str]:
    """Whether every runner found the same lines, events and interactive events, per mix."""
    notes: list[str] = []
    keys = ("lines", "events") if end_to_end else ("lines", "events", "interactive")
    for label in dict.fromkeys(r.label for r in runs):
        ok = [r for r in runs if r.label == label and not r.error]
        if len(ok) < 2:
            continue
        for key in keys:
            values = {f"{r.runner}": getattr(r, key) for r in ok}
            if len(set(values.values())) == 1:
                notes.append(f"{label}: {key} agree ({next(iter(values.values())):,})")
            else:
                shown = ", ".join(f"{k}={v:,}" for k, v in values.items())
                notes.append(f"{label}: {key} DIFFER: {shown}")
    return notes


def verdicts(runs: list[Run], end_to_end: bool = False) -> list[str]:
    """PASS/MISS against the speed (2 workers) and memory (every loyaute run) targets."""
    out: list[str] = []
    what = "end to end" if end_to_end else "parsing"
    for r in runs:
        if r.error or r.runner == "naive":
            continue
        if r.runner.endswith("-2"):
            targets = TARGET_E2E_LINES_PER_S if end_to_end else TARGET_LINES_PER_S
            target = targets[r.format]
            mark = "PASS" if r.rate >= target else "MISS"
            out.append(
                f"{mark}  {r.label} {r.runner} {what} speed at 2 workers: {r.rate / 1e6:.3f} M lines/s "
                f"(target ≥ {target / 1e6:.1f})"
            )
        mark = "PASS" if r.peak_tree_mb < TARGET_RSS_MB else "MISS"
        out.append(
            f"{mark}  {r.label} {r.runner} {what} peak RSS {r.peak_tree_mb:.0f} MB summed over "
            f"{r.processes} process(es) (PSS {r.peak_pss_mb:.0f} MB; target < {TARGET_RSS_MB:.0f})"
        )
    return out


def best_of(runs: list[Run]) -> list[Run]:
    """Per (mix, runner), the fastest run; its peak RSS is the highest seen over repeats."""
    picked: dict[tuple[str, str], Run] = {}
    peaks: dict[tuple[str, str], tuple[float, float, float]] = {}
    for r in runs:
        key = (r.label, r.runner)
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


def spread(runs: list[Run]) -> list[str]:
    """Min / median / max lines per second of the repeats, per (mix, runner)."""
    rates: dict[tuple[str, str], list[float]] = {}
    for r in runs:
        if not r.error:
            rates.setdefault((r.label, r.runner), []).append(r.rate / 1e6)
    out = []
    for (label, runner), values in rates.items():
        if len(values) > 1:
            values.sort()
            median = values[len(values) // 2]
            out.append(
                f"{label} {runner}: {values[0]:.3f} / {median:.3f} / {values[-1]:.3f} "
                "M lines/s (min / median / max)"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line; see the module docstring."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        runner, fmt, *files = argv[1:]
        print(json.dumps(child(runner, fmt, [Path(f) for f in files])))
        return 0
    ap = argparse.ArgumentParser(description="Benchmark: loyaute vs a naive re loop.")
    ap.add_argument(
        "--mixes",
        "--formats",
        default="fortigate,exchange-iis,iis-user93,fgt-vpn2",
        help=f"comma-separated, among {', '.join(MIXES)}",
    )
    ap.add_argument("--lines", type=int, help="lines per mix (total; default: the mix's own)")
    ap.add_argument("--files", type=int, help="files per mix (default: the mix's own)")
    ap.add_argument("--end-to-end", action="store_true", help="time whole processes")
    ap.add_argument("--keep", action="store_true", help="keep the data this run generates")
    ap.add_argument("--repeat", type=int, default=1, help="runs per runner (best kept)")
    ap.add_argument(
        "--runners",
        help="comma-separated (default: naive, loyaute-1, loyaute-2, and base-1, base-2 with --base)",
    )
    ap.add_argument("--data", type=Path, default=BENCH / "data", help="data folder")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument(
        "--base",
        type=Path,
        help="a folder holding another revision's loyaute package (e.g. from `git archive REV "
        "loyaute | tar -x -C DIR`): adds the base-1/base-2 runners, run the same way",
    )
    args = ap.parse_args(argv)
    if args.base is not None:
        if not (args.base / "loyaute" / "__init__.py").is_file():
            ap.error(f"{args.base}: no loyaute package there")
        BASE.append(args.base.resolve())
    names = [m for m in args.mixes.split(",") if m]
    default = ("naive", "base-1", "loyaute-1", "base-2", "loyaute-2") if BASE else RUNNERS
    runners = [r for r in (args.runners or ",".join(default)).split(",") if r]
    for name in names:
        if name not in MIXES:
            ap.error(f"unknown mix {name}")
    for name in runners:
        if name not in RUNNERS + BASE_RUNNERS or (name in BASE_RUNNERS and not BASE):
            ap.error(f"unknown runner {name} (base-N needs --base)")
    mixes = {
        name: Mix(
            MIXES[name].format,
            MIXES[name].mix,
            args.lines or MIXES[name].lines,
            args.files or MIXES[name].files,
        )
        for name in names
    }

    info = machine()
    print(f"machine: {info['cores']} cores, {info['cpu']}, {info['memory']}, "
          f"Python {info['python']}, {info['date']}")  # fmt: skip
    generated: list[Path] = []
    folders: dict[str, Path] = {}
    for name, mix in mixes.items():
        first = e2e_first_day(mix) if args.end_to_end else generate.FIRST_DAY
        where = (args.data, mix.format, mix.lines, mix.files, args.seed, mix.mix, first)
        if not generate.manifest_ok(generate.data_dir(*where), *where[2:]):
            generated.append(generate.data_dir(*where))
        folders[name] = generate.generate(
            args.data, mix.format, mix.lines, mix.files, args.seed, mix=mix.mix, first_day=first
        )
    if generated:
        # Fresh files are dirty pages: flush them now, not while the first runner is measured.
        os.sync()

    runs: list[Run] = []
    starts: list[tuple[str, float]] = []
    try:
        if args.end_to_end:
            starts = startup(args.repeat)
            for label, took in starts:
                print(
                    f"start-up: {label:<28} {took * 1000:7.0f} ms (best of {max(3, args.repeat)})"
                )
        for name, mix in mixes.items():
            paths = sorted(folders[name].glob("*.log"))
            size = sum(p.stat().st_size for p in paths)
            print(f"\n{name}: {len(paths)} file(s), {size / 1e6:,.0f} MB, {folders[name]}")
            if size > 0.8 * available_memory():
                print("  warning: the files may not fit in the page cache; disk reads will count")
            print(f"  page cache warmed in {warm(paths):.1f} s")
            if args.end_to_end and any(r != "naive" for r in runners):
                e2e_template(name, mix, paths)
            for attempt in range(args.repeat):
                for runner in runners:
                    run = (
                        measure_e2e(runner, name, mix, paths)
                        if args.end_to_end
                        else measure(runner, mix.format, paths, mix=name)
                    )
                    runs.append(run)
                    status = run.error or (
                        f"{run.lines:,} lines, {run.events:,} events, {run.seconds:.2f} s "
                        f"({run.cpu_seconds:.2f} CPU s), "
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
    mode = "end to end, whole processes" if args.end_to_end else "warm process, parsing"
    if args.repeat > 1:
        print(f"{mode}; best of {args.repeat} runs (peak RSS: highest of the runs)")
    else:
        print(mode)
    print(table(shown, args.end_to_end))
    print()
    for line in spread(runs):
        print(line)
    for line in agreement(shown, args.end_to_end):
        print(line)
    for r in shown:
        if r.skipped:
            reasons = ", ".join(f"{k}={v:,}" for k, v in sorted(r.skipped.items()))
            print(f"{r.label} {r.runner} skipped: {reasons}")
    print()
    for line in verdicts(shown, args.end_to_end):
        print(line)
    if starts:
        floor = dict(starts)
        typer_s = floor['python -c "import typer"']
        for label in [k for k in floor if k.startswith(("loyaute", "base:"))]:
            ratio = floor[label] / typer_s
            mark = "PASS" if ratio <= TARGET_STARTUP_RATIO else "MISS"
            print(
                f'{mark}  {label} start-up: {ratio:.2f}× python -c "import typer" '
                f"(target ≤ {TARGET_STARTUP_RATIO:.0f}×)"
            )

    out = args.json or BENCH / "out" / f"results-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload: dict[str, object] = {
        "machine": info,
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    payload["runs"] = [{**asdict(r), "lines_per_s": r.rate} for r in runs]
    payload["startup_s"] = dict(starts)
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nresults: {out}")
    return 1 if any(r.error for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
