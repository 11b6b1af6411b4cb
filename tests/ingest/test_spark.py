"""The Spark engine (issue 6): parity with the local engine, byte for byte, and failures.

Every test runs on two masters, one Spark session each for the whole module (a session takes
15–20 s to start): ``local[2,3]`` (two cores, a failed task tried up to three times) and a real
standalone cluster started on loopback for the test session (``tests/spark_cluster.py``: a master
and two workers, separate JVMs, ``spark://127.0.0.1:PORT``; a failed task is tried four times).
"""

from __future__ import annotations

import builtins
import gzip
import hashlib
import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from loyaute.clock import FixedClock
from loyaute.demo import logs
from loyaute.errors import LoyauteError
from loyaute.ingest.engine import LocalEngine
from loyaute.ingest.pipeline import IngestReport, ingest
from loyaute.workspace import Workspace
from tests.builders import (
    MON,
    NOW,
    TUE,
    declare_remote,
    iis_file,
    local,
    make_workspace,
    owa,
    vpn_session,
    write_logs,
)
from tests.ingest.s3 import S3

pyspark = pytest.importorskip("pyspark", reason="the spark extra is not installed")
if shutil.which("java") is None:  # pragma: no cover - CI installs a JDK
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

from loyaute.ingest.spark import SparkEngine  # noqa: E402
from tests import spark_cluster as spark_cluster_mod  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A standalone cluster (one master, two workers) for the whole test session: its URL."""
    cluster = spark_cluster_mod.start(tmp_path_factory.mktemp("spark-cluster"))
    yield cluster.url
    cluster.stop()


@pytest.fixture(scope="module", params=["local", "standalone"])
def spark(request: pytest.FixtureRequest) -> Iterator[SparkEngine]:
    """The engine on ``local[2,3]``, then on the standalone cluster (one session at a time: a
    process holds one Spark context)."""
    master = "local[2,3]" if request.param == "local" else request.getfixturevalue("spark_cluster")
    engine = SparkEngine(master)
    assert engine.session().sparkContext.master == master
    yield engine
    engine.stop()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A gated workspace and a folder of logs of every source: DST days, a rotated copy that
    overlaps, malformed lines, compressed files, a file big enough to be cut into ranges."""
    root = tmp_path_factory.mktemp("parity")
    ws = make_workspace(
        root, now=datetime(2026, 10, 30, 12, tzinfo=NOW.tzinfo), schedule=_schedule()
    )
    ws.close()
    folder = root / "logs"
    day1 = vpn_session("jdupont", local(MON, 8, 40), local(MON, 12, 50))
    day2 = vpn_session("hpetit", local(TUE, 9), local(TUE, 18), 7)
    write_logs(
        folder, "fgt.log", [*day1, "garbage line", "<190>date=2026-03-23 logid=0101039947 user=x"]
    )
    write_logs(folder, "fgt.log.1", day1 + day2)  # overlapping rotated copy
    dst = [
        owa("jdupont", datetime(2026, 3, 29, 10, 35, tzinfo=NOW.tzinfo)),
        owa("hpetit", datetime(2026, 10, 25, 11, 35, tzinfo=NOW.tzinfo)),
        "2026-03-29 99:00:00 bad line",
    ]
    iis_file(folder, "u_ex.log", dst)
    proxy = [
        logs.proxy_line(local(TUE, 14), "ines.extranet.lenord.fr", "/ines/", "LENORD\\jdupont")
    ]
    (folder / "access.log.gz").write_bytes(gzip.compress(("\n".join(proxy) + "\n").encode()))
    # A FortiGate file of a few MB, cut into ranges by both engines.
    big = []
    start = local(date(2026, 3, 25), 9)
    for i in range(3000):
        at = start + timedelta(hours=i % 5)
        big += vpn_session("pdurand", at, at, 1000 + i)
    write_logs(folder, "big.log", big * 3)
    return root / "ws", folder


def _schedule() -> list[tuple[str, date, str, str]]:
    days = [MON, TUE, date(2026, 3, 25), date(2026, 3, 29), date(2026, 10, 25)]
    return [(a, d, "JOUR", "TLT") for a in ("A1", "A2", "A3", "A4") for d in days]


def run(home: Path, folder: Path, engine: object, fail_task: str = "") -> IngestReport:
    return run_target(home, str(folder), engine, fail_task)


def run_target(home: Path, target: str, engine: object, fail_task: str = "") -> IngestReport:
    ws = Workspace.open(home, _clock())
    try:
        return ingest(ws, [target], engine=engine, fail_task=fail_task)  # type: ignore[arg-type]
    finally:
        ws.close()


def _clock() -> FixedClock:
    return FixedClock(datetime(2026, 10, 30, 12, tzinfo=NOW.tzinfo))


def snapshot(home: Path) -> dict[str, str]:
    activity = home / "store" / "activity"
    if not (activity / "CURRENT").is_file():
        return {}
    gen = activity / f"gen-{(activity / 'CURRENT').read_text().strip()}"
    return {
        str(p.relative_to(gen)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(gen.rglob("*.parquet"))
    }


def copy(prepared: Path, target: Path) -> Path:
    shutil.copytree(prepared, target)
    return target


def test_parity_with_the_local_engine(
    prepared: tuple[Path, Path], tmp_path: Path, spark: SparkEngine
) -> None:
    """The same files with both engines: byte-identical stores and identical ingest reports."""
    home, folder = prepared
    local_home = copy(home, tmp_path / "local")
    spark_home = copy(home, tmp_path / "spark")
    a = run(local_home, folder, LocalEngine(2))
    b = run(spark_home, folder, spark)
    assert snapshot(local_home)
    assert snapshot(local_home) == snapshot(spark_home)
    assert a.to_json() == b.to_json()
    assert sum(f.kept for f in a.files) > 0
    assert any(f.skipped for f in a.files)  # malformed lines went through both engines alike


def test_a_task_that_dies_once_is_retried_and_the_store_is_complete(
    prepared: tuple[Path, Path], tmp_path: Path, spark: SparkEngine
) -> None:
    """An executor dying mid-job: Spark retries the task; the store ends complete."""
    home, folder = prepared
    reference = copy(home, tmp_path / "reference")
    run(reference, folder, LocalEngine(1))
    target = copy(home, tmp_path / "target")
    markers = tmp_path / "markers"
    markers.mkdir()
    run(target, folder, spark, fail_task=str(markers))
    assert any(markers.iterdir())  # the fault really happened
    assert snapshot(target) == snapshot(reference)


def test_a_job_that_keeps_failing_leaves_the_store_unchanged(
    prepared: tuple[Path, Path], tmp_path: Path, spark: SparkEngine
) -> None:
    """Never partial: when the job fails for good, nothing is committed and the error says so."""
    home, folder = prepared
    target = copy(home, tmp_path / "target")
    before = snapshot(target)
    with pytest.raises(LoyauteError, match=r"Spark"):
        run(target, folder, spark, fail_task="always")
    assert snapshot(target) == before
    ws = Workspace.open(target, _clock())
    assert ws.db.conn.execute("SELECT COUNT(*) FROM manifest").fetchone()[0] == 0
    ws.close()


def test_missing_pyspark_names_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the extra, --engine spark fails with the exact install line."""
    real = builtins.__import__

    def fake(name: str, *args: object, **kwargs: object) -> object:
        if name == "pyspark" or name.startswith("pyspark."):
            raise ImportError(name)
        return real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(LoyauteError) as info:
        SparkEngine("local[1]").session()
    assert "pip install 'loyaute[spark]'" in str(info.value)


def test_spark_executors_read_a_bucket(
    prepared: tuple[Path, Path], tmp_path: Path, spark: SparkEngine, s3: S3
) -> None:
    """Issue 6 (HDFS, S3 or local paths): the executors read the objects of a bucket themselves
    (the endpoint travels in the URI); the store is byte-identical to the local engine's on the
    same files from disk, big file cut into ranges included."""
    home, folder = prepared
    prefix = s3.upload(folder, "parite")
    local_home = copy(home, tmp_path / "local")
    spark_home = copy(home, tmp_path / "spark-s3")
    declare_remote(spark_home, [f"s3://{s3.bucket}"])  # storage the register names (issue 11)
    a = run(local_home, folder, LocalEngine(2))
    b = run_target(spark_home, prefix, spark)
    assert snapshot(local_home) == snapshot(spark_home)
    assert [f.lines for f in sorted(a.files, key=lambda f: f.path.rsplit("/", 1)[-1])] == [
        f.lines for f in sorted(b.files, key=lambda f: f.path.split("?")[0].rsplit("/", 1)[-1])
    ]
