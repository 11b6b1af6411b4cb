"""Schedule import benchmark: time and peak memory of ``loyaute schedule import`` on large files,
beside another revision (``--base DIR``) run the same way.

Each run is a whole ``loyaute --home W schedule import FILE`` process on a fresh copy of a
workspace holding the directory of ``--agents`` people (made once with ``loyaute init`` and
``directory import``); the parent samples the RSS of the process tree (``run.watch``). The files
are generated once (seeded, git-ignored under ``bench/data``): one row per agent, day and
half-day, ``agent_id,date,half_day,code`` with the default code table's codes, no conflicts.

Target (issue 10): a 1 GB file under 500 MB of peak RSS.

    python bench/imports.py [--sizes 100,1000] [--agents 20000] [--base DIR] [--base-sizes 100]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (bench/ is not a package)

TARGET_MB_PER_GB = 500
CODES = ("TLT", "TLT", "PRES", "PRES", "PRES", "CA", "FORM", "TT")


def directory(path: Path, agents: int) -> None:
    """``agents`` people, one login each."""
    with path.open("w", encoding="utf-8") as f:
        f.write("agent_id,display_name,service,job_family,manager_id,logins\n")
        for i in range(agents):
            f.write(f"B{i:06d},Agent {i},Service {i % 40},administratif,,bench{i:06d}\n")


def schedule(path: Path, agents: int, megabytes: int, seed: int = 7) -> int:
    """A schedule export of about ``megabytes`` MB; returns its rows."""
    rnd = random.Random(seed)
    target = megabytes * 1_000_000
    day = date(2024, 1, 1)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("agent_id,date,half_day,code\n")
        written = 0
        while written < target:
            iso = day.isoformat()
            lines = [
                f"B{i:06d},{iso},{half},{rnd.choice(CODES)}\n"
                for i in range(agents)
                for half in ("AM", "PM")
            ]
            block = "".join(lines)
            f.write(block)
            written += len(block)
            rows += len(lines)
            day += timedelta(days=1)
    return rows


def template(root: Path, agents: int) -> Path:
    """A workspace with the directory imported (made once per agent count)."""
    home = root / f"imports-ws-{agents}"
    if (home / "store" / "state.db").is_file():
        return home
    shutil.rmtree(home, ignore_errors=True)
    directory(root / f"imports-directory-{agents}.csv", agents)
    for args in (
        ["init"],
        ["directory", "import", str(root / f"imports-directory-{agents}.csv")],
    ):
        cmd = [*run.loyaute_cmd(), "--home", str(home), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)}: exit {done.returncode}: {done.stderr}")
    return home


def measure(runner: str, home: Path, path: Path, scratch: Path) -> dict[str, object]:
    """One ``schedule import`` on a fresh copy of the workspace."""
    work = scratch / f"ws-{runner}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(home, work)
    cmd = [*run.loyaute_cmd(runner), "--home", str(work), "schedule", "import", str(path)]
    w = run.watch(cmd, run.child_env(runner))
    shutil.rmtree(work, ignore_errors=True)
    return {
        "runner": runner,
        "file_mb": round(path.stat().st_size / 1e6),
        "seconds": round(w.seconds, 1),
        "peak_mb": round(w.peak_tree_mb),
        "cpu_seconds": round(w.cpu_seconds, 1),
        "exit": w.returncode,
        "error": "" if w.returncode == 0 else w.err.strip()[-300:],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000", help="file sizes in MB, comma-separated")
    ap.add_argument("--agents", type=int, default=20_000)
    ap.add_argument("--data", type=Path, default=BENCH / "data")
    ap.add_argument("--base", type=Path, help="a folder holding another revision's package")
    ap.add_argument(
        "--base-sizes",
        default="100",
        help="sizes the base runs too (the old import needs ~12x the file in memory)",
    )
    ap.add_argument("--json", type=Path, default=BENCH / "out" / "results-imports.json")
    args = ap.parse_args(argv)
    if args.base is not None:
        if not (args.base / "loyaute" / "__init__.py").is_file():
            ap.error(f"{args.base}: no loyaute package there")
        run.BASE.append(args.base.resolve())
    args.data.mkdir(parents=True, exist_ok=True)
    home = template(args.data, args.agents)
    scratch = args.data / "imports-scratch"
    scratch.mkdir(exist_ok=True)
    results = []
    base_sizes = {int(s) for s in args.base_sizes.split(",") if s}
    for size in (int(s) for s in args.sizes.split(",")):
        path = args.data / f"imports-schedule-{args.agents}-{size}MB.csv"
        if not path.is_file():
            print(f"generating {path.name} …", flush=True)
            schedule(path, args.agents, size)
        runners = ["loyaute"] + (["base"] if run.BASE and size in base_sizes else [])
        for runner in runners:
            result = measure(runner, home, path, scratch)
            results.append(result)
            print(json.dumps(result), flush=True)
    print()
    print("| file | runner | seconds | CPU s | peak RSS (MB) | MB per GB of file | target |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for r in results:
        per_gb = float(r["peak_mb"]) / (float(r["file_mb"]) / 1000)  # type: ignore[arg-type]
        verdict = (
            "FAILED"
            if r["exit"]
            else ("PASS" if float(r["peak_mb"]) < TARGET_MB_PER_GB else "MISS")  # type: ignore[arg-type]
            if int(r["file_mb"]) >= 1000  # type: ignore[call-overload]
            else "-"
        )
        print(
            f"| {r['file_mb']} MB | {r['runner']} | {r['seconds']} | {r['cpu_seconds']} | "
            f"{r['peak_mb']} | {per_gb:.0f} | {verdict} |"
        )
    for size in sorted({int(r["file_mb"]) for r in results}):  # type: ignore[call-overload]
        pair = {r["runner"]: r for r in results if r["file_mb"] == size}
        if "base" in pair and "loyaute" in pair and not pair["base"]["exit"]:
            b, n = pair["base"], pair["loyaute"]
            print(
                f"{size} MB: time {float(b['seconds']) / float(n['seconds']):.2f}x faster, "  # type: ignore[arg-type]
                f"peak memory {float(b['peak_mb']) / float(n['peak_mb']):.1f}x lower than base"  # type: ignore[arg-type]
            )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 1 if any(r["exit"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
