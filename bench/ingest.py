"""End-to-end ingest benchmark: parse, reduce, resolve, pseudonymise, scope and commit.

Runs on the files of ``bench/generate.py`` (the same as the parsing benchmark), side by side in
the same run with the naive line-by-line loop, with the local engine at 1 and 2 workers and,
when the spark extra is installed, the Spark engine at ``local[1]`` and ``local[2]``. Each runner
is its own subprocess (memory is sampled over its whole process tree). A workspace is prepared
once per format — a directory of the generator's 1,800 people, everyone scheduled in telework on
the days of the files, notices delivered, gates holding — and copied for each run, so every run
ingests into the same empty store with the same key.

    python bench/ingest.py [--formats fortigate exchange-iis] [--engines local-1 local-2 spark-1 spark-2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from generate import make_people  # noqa: E402
from run import Run, measure  # noqa: E402

DATA = BENCH / "data"
NOW = datetime(2026, 4, 30, 12, tzinfo=UTC)
SPARK_START: dict[str, float] = {}


def data_files(fmt: str) -> list[Path]:
    """The generated files of a format (``python bench/generate.py`` first)."""
    folders = sorted(DATA.glob(f"{fmt}-*"))
    if not folders:
        raise SystemExit(
            f"no data for {fmt}: run `python bench/generate.py --out bench/data` first"
        )
    manifest = json.loads((folders[0] / "MANIFEST.json").read_text())
    return [folders[0] / name for name in manifest["files"]]


def prepare(fmt: str, files: list[Path]) -> Path:
    """A gated workspace for these files (built once, then copied per run)."""
    from loyaute.clock import FixedClock  # noqa: PLC0415
    from loyaute.config import Settings  # noqa: PLC0415
    from loyaute.demo.runner import demo_register  # noqa: PLC0415
    from loyaute.identity import parse_directory, store_directory  # noqa: PLC0415
    from loyaute.policy.notices import record_notices  # noqa: PLC0415
    from loyaute.schedule import import_schedule  # noqa: PLC0415
    from loyaute.templates import register_toml  # noqa: PLC0415
    from loyaute.workspace import Workspace, init  # noqa: PLC0415

    home = BENCH / "out" / f"ingest-template-{fmt}"
    if (home / "ready").is_file():
        return home
    shutil.rmtree(home, ignore_errors=True)
    paths = init(home)
    first = date(2026, 4, 14)  # the generator's first day; one file per day
    days = [first + timedelta(days=i) for i in range(len(files))]
    settings = Settings()
    register = demo_register(settings, first - timedelta(days=7))
    paths.register.write_text(register_toml(register), encoding="utf-8")
    ws = Workspace.open(home, FixedClock(NOW))
    people = make_people(__import__("random").Random("7-people"), 1800)
    directory = home.parent / f"directory-{fmt}.csv"
    rows = ["agent_id,display_name,service,job_family,manager_id,logins"]
    rows += [
        f"P{i:05d},{login},S{i % 40:02d},administratif,,{login};{upn}"
        for i, (login, upn) in enumerate(people)
    ]
    directory.write_text("\n".join(rows) + "\n", encoding="utf-8")
    store_directory(ws.state, parse_directory(directory, ws.settings.directory))
    schedule = home.parent / f"schedule-{fmt}.csv"
    lines = ["agent_id,date,half_day,code"]
    lines += [f"P{i:05d},{d.isoformat()},JOUR,TLT" for i in range(len(people)) for d in days]
    schedule.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_schedule(ws.state, [schedule], ws.settings.schedule)
    record_notices(ws, first - timedelta(days=7), None, actor="bench")
    ws.close()
    (home / "ready").write_text("ok")
    return home


def child(runner: str, fmt: str, paths: list[Path]) -> dict[str, object]:
    """One end-to-end ingest into a fresh copy of the prepared workspace."""
    import resource  # noqa: PLC0415

    from loyaute.clock import FixedClock  # noqa: PLC0415
    from loyaute.ingest.engine import LocalEngine  # noqa: PLC0415
    from loyaute.ingest.pipeline import ingest  # noqa: PLC0415
    from loyaute.workspace import Workspace  # noqa: PLC0415

    template = prepare(fmt, paths)
    home = BENCH / "out" / f"ingest-run-{fmt}-{runner}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(template, home)
    kind, workers = runner.rsplit("-", 1)
    startup = 0.0
    if kind == "spark":
        from loyaute.ingest.spark import SparkEngine  # noqa: PLC0415

        begin = time.perf_counter()
        engine = SparkEngine(f"local[{workers}]")
        engine.session()
        startup = time.perf_counter() - begin
    else:
        engine = LocalEngine(int(workers))  # type: ignore[assignment]
    ws = Workspace.open(home, FixedClock(NOW))
    started = time.perf_counter()
    report = ingest(ws, [str(p) for p in paths], engine=engine, actor="bench")  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    ws.close()
    if kind == "spark":
        engine.stop()  # type: ignore[attr-defined]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "lines": sum(f.lines for f in report.files),
        "events": sum(f.events for f in report.files),
        "interactive": sum(f.kept for f in report.files),
        "seconds": seconds,
        "startup": startup,
        "largest_proc_mb": peak,
        "tasks": len(report.files),
        "skipped": {},
    }


def row(run: Run, naive: Run | None) -> str:
    ratio = f"{run.rate / naive.rate:5.2f}" if naive and naive.rate else "  -  "
    return (
        f"| {run.format} | {run.runner} | {run.lines:,} | {run.seconds:6.2f} | {run.rate / 1e6:5.3f} | "
        f"{ratio} | {run.peak_tree_mb:6.0f} | {run.peak_pss_mb:6.0f} | {run.largest_proc_mb:6.0f} | "
        f"{run.error or ''} |"
    )


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table."""
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["--child"]:
        runner, fmt, *paths = args_list[1:]
        print(json.dumps(child(runner, fmt, [Path(p) for p in paths])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--formats", nargs="+", default=["fortigate", "exchange-iis"])
    parser.add_argument(
        "--engines", nargs="+", default=["naive", "local-1", "local-2", "spark-1", "spark-2"]
    )
    parser.add_argument("--json", type=Path, default=BENCH / "out" / "ingest.json")
    args = parser.parse_args(args_list)
    print(
        "| format | runner | lines | seconds | M lines/s | × naive | peak tree MB | PSS MB "
        "| largest proc MB | note |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    results = []
    for fmt in args.formats:
        files = data_files(fmt)
        prepare(fmt, files)
        naive: Run | None = None
        for runner in args.engines:
            if runner.startswith("spark"):
                try:
                    import pyspark  # noqa: F401, PLC0415
                except ImportError:
                    continue
            run = (
                measure(runner, fmt, files)
                if runner == "naive"
                else measure(runner, fmt, files, Path(__file__))
            )
            if runner == "naive":
                naive = run
            print(row(run, naive), flush=True)
            results.append(run.__dict__ | {"rate": run.rate})
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
