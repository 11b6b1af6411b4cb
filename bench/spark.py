"""End to end on a Spark standalone cluster, beside the local engine (issue 15).

Starts the loopback cluster the parity tests use (``tests/spark_cluster.py``: one master, two
workers of one core each, separate JVMs), then times ``loyaute ingest --engine spark --master
spark://127.0.0.1:PORT`` as a whole process on a fresh copy of a mix's end-to-end workspace
(the one ``run.py --end-to-end`` builds), beside ``loyaute ingest --workers 2`` on the same files.
Peak RSS is the command's own process tree: the driver and its JVM (the cluster's JVMs, which
run the executors, are not its children and are not counted).

    python bench/spark.py [--mixes fgt-vpn2,iis-user93] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(ROOT))

import generate  # noqa: E402
import run  # noqa: E402

from tests import spark_cluster  # noqa: E402


def once(engine: list[str], name: str, mix: run.Mix, paths: list[Path]) -> run.Watched:
    """One ``loyaute ingest`` on a fresh copy of the mix's workspace."""
    template = run.e2e_template(name, mix, paths)
    home = BENCH / "out" / f"e2e-run-{name}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(template, home)
    cmd = [*run.loyaute_cmd(), "--home", str(home), "ingest", *engine, "--report", "json"]
    return run.watch([*cmd, *(str(p) for p in paths)], run.e2e_env())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mixes", default="fgt-vpn2,iis-user93")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cluster = spark_cluster.start(Path(tmp))
        try:
            print(f"cluster: {cluster.url}, {cluster.alive_workers()} workers")
            rows = []
            for name in args.mixes.split(","):
                mix = run.MIXES[name]
                first = run.e2e_first_day(mix)
                folder = generate.generate(
                    BENCH / "data", mix.format, mix.lines, mix.files, 7, mix=mix.mix,
                    first_day=first,
                )  # fmt: skip
                paths = sorted(folder.glob("*.log"))
                run.warm(paths)
                engines = {
                    "local, 2 workers": ["--workers", "2"],
                    "spark standalone, 2 workers": ["--engine", "spark", "--master", cluster.url],
                }
                for label, engine in engines.items():
                    for attempt in range(args.repeat):
                        w = once(engine, name, mix, paths)
                        if w.returncode != 0:
                            print(f"{name} {label}: exit {w.returncode}\n{w.err[-2000:]}")
                            return 1
                        lines = sum(f["lines"] for f in json.loads(w.out)["files"])
                        print(
                            f"  [{attempt + 1}/{args.repeat}] {name:<11} {label:<28} "
                            f"{w.seconds:6.2f} s {lines / w.seconds / 1e6:6.3f} M lines/s "
                            f"peak RSS {w.peak_tree_mb:5.0f} MB",
                            flush=True,
                        )
                        rows.append((name, label, w.seconds, lines, w.peak_tree_mb))
            print()
            for name, label in dict.fromkeys((r[0], r[1]) for r in rows):
                best = min((r for r in rows if r[:2] == (name, label)), key=lambda r: r[2])
                print(
                    f"{name:<11} {label:<28} {best[3]:>10,} lines {best[2]:6.2f} s "
                    f"{best[3] / best[2] / 1e6:6.3f} M lines/s peak RSS {best[4]:5.0f} MB"
                )
        finally:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
