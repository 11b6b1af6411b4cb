"""Where the time of one ``loyaute ingest`` goes: its phases, wall clock, from a profile.

Runs the real command (``loyaute.cli.main``) under cProfile, wall-clock timer, in this process,
on a fresh copy of the end-to-end workspace of a mix (the one ``run.py --end-to-end`` builds),
and prints the cumulative time of each phase: importing the CLI, the gates, retention, format
detection, fingerprints, the map (parsing and reducing, in worker processes when ``--workers``
is above 1: only the waiting shows here), the driver's reconcile and the store commit. With
``--workers 1`` everything runs here and the map is broken down further.

    python bench/profile_ingest.py [--mix iis-user93] [--workers 1] [--top 0]

The profiled command runs in a fresh interpreter (so importing the CLI is measured whole).

cProfile slows Python-heavy code (by ~1.3–2× here): the shares matter, not the totals.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402
import run  # noqa: E402

PHASES = (
    ("import loyaute.cli", "loyaute/cli/__init__.py", "<module>"),
    ("open the workspace", "loyaute/workspace.py", "open"),
    ("ingest()", "loyaute/ingest/pipeline.py", "ingest"),
    ("  gates", "loyaute/policy/gates.py", "evaluate"),
    ("  retention purge", "loyaute/policy/retention.py", "purge"),
    ("  detect formats", "loyaute/ingest/reading.py", "resolve_source"),
    ("  fingerprints", "loyaute/ingest/pipeline.py", "file_fingerprint"),
    ("  map (engine)", "loyaute/ingest/engine.py", "map_reduce"),
    ("    start worker processes", "concurrent/futures/process.py", "_adjust_process_count"),
    ("    wait for workers", "concurrent/futures/_base.py", "wait"),
    ("    map_task (here)", "loyaute/ingest/pipeline.py", "map_task"),
    ("      parse (source)", "loyaute/ingest/reading.py", "parse_blocks"),
    ("        Arrow CSV reader", "loyaute/sources/exchange_iis.py", "_read_layout"),
    ("        IIS classification", "loyaute/sources/exchange_iis.py", "_classify"),
    ("        FortiGate parse", "loyaute/sources/fortigate.py", "parse"),
    ("      reduce to half-day keys", "loyaute/presence/reduce.py", "reduce_events"),
    ("      distinct keys", "loyaute/presence/reduce.py", "distinct"),
    ("  reconcile (resolve, route, commit)", "loyaute/ingest/pipeline.py", "reconcile"),
    ("    store commit", "loyaute/store/records.py", "commit"),
)


def phases(stats: pstats.Stats) -> list[tuple[str, float, int]]:
    """(label, cumulative seconds, calls) of every phase found in the profile."""
    found: dict[str, tuple[float, int]] = {}
    table = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, name), (_cc, calls, _tt, cumulative, _callers) in table.items():
        for label, path, function in PHASES:
            if name == function and filename.replace(os.sep, "/").endswith(path):
                old = found.get(label, (0.0, 0))
                # Recursive or repeated entries: keep the largest cumulative (the outermost).
                found[label] = (max(old[0], cumulative), old[1] + calls)
    return [(label, *found[label]) for label, _, _ in PHASES if label in found]


def child(argv: list[str]) -> int:
    """In a fresh interpreter: run ``loyaute`` with ``argv`` under the profiler, print the phases."""
    label = argv[0]
    sys.argv = ["loyaute", *argv[1:]]
    profile = cProfile.Profile(time.perf_counter)
    started = time.perf_counter()
    stdout = sys.stdout
    try:
        with open(os.devnull, "w") as sink:
            sys.stdout = sink
            profile.enable()
            try:
                from loyaute.cli import main as cli_main  # noqa: PLC0415 - measured

                cli_main()
            except SystemExit:
                pass
            finally:
                profile.disable()
    finally:
        sys.stdout = stdout
    total = time.perf_counter() - started
    stats = pstats.Stats(profile)
    print(label)
    print(f"{'phase':<40} {'seconds':>8} {'share':>6} {'calls':>6}")
    for name, seconds, calls in phases(stats):
        print(f"{name:<40} {seconds:>8.2f} {seconds / total:>6.0%} {calls:>6}")
    print(f"{'total (profiled)':<40} {total:>8.2f}")
    top = int(os.environ.get("PROFILE_TOP", "0"))
    if top:
        stats.sort_stats("tottime").print_stats(top)
    callees = os.environ.get("PROFILE_CALLEES")
    if callees:
        stats.sort_stats("cumulative").print_callees(callees)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line; see the module docstring."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mix", default="iis-user93", choices=list(run.MIXES))
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--top", type=int, default=0, help="also print the N costliest functions")
    ap.add_argument(
        "--callees", default="", help="also print what the functions matching this name call"
    )
    args = ap.parse_args(argv)
    mix = run.MIXES[args.mix]
    first = run.e2e_first_day(mix)
    folder = generate.generate(
        BENCH / "data", mix.format, mix.lines, mix.files, mix=mix.mix, first_day=first
    )
    paths = sorted(folder.glob("*.log"))
    template = run.e2e_template(args.mix, mix, paths)
    home = BENCH / "out" / f"profile-run-{args.mix}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(template, home)
    run.warm(paths)
    label = f"{args.mix}: {mix.lines:,} lines, {len(paths)} files, --workers {args.workers}"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", label, "--home", str(home)]
    cmd += ["ingest", "--workers", str(args.workers), "--report", "json", *map(str, paths)]
    env = run.e2e_env() | {"PROFILE_TOP": str(args.top), "PROFILE_CALLEES": args.callees}
    return subprocess.run(cmd, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
