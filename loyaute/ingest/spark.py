"""The Spark engine: the map and the OR-reduce of ingestion on a Spark cluster.

The very same task function runs on the executors (one implementation of each format, not two):
each task parses a file or a byte range and reduces it to (login, local day, half-day, category)
keys; the results of one file's ranges are merged on Spark (``reduceByKey``); only those reduced
keys, counts and masked examples come back to the driver, where identity resolution,
pseudonymisation, gates, scope and the atomic store commit happen exactly as with the local
engine. Raw lines never leave the executors; raw logins leave them only as reduced keys, so the
Spark cluster is inside the security perimeter of the logs it reads.

``pyspark`` is an optional extra (``pip install 'loyaute[spark]'``) and needs Java 17 or later.
Files are read by the executors themselves: local paths (or a shared mount), or object storage
and HDFS URIs (``s3://bucket/prefix``, ``hdfs://namenode/path``) through ``pyarrow.fs`` — only the
URI travels in a task, and each executor opens the file system with its own configuration.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from loyaute.errors import LoyauteError, UsageError
from loyaute.i18n import tr
from loyaute.ingest.engine import Lost, Task

R = TypeVar("R")

INSTALL_LINE = "pip install 'loyaute[spark]'"


def check_java(minimum: int = 17) -> None:
    """Refuse clearly when no suitable Java runtime is on the PATH."""
    java = shutil.which("java")
    if java is None:
        raise UsageError(
            tr(
                "Spark a besoin de Java 17 ou plus, introuvable ici",
                "Spark needs Java 17 or later, not found here",
            ),
            hint="apt-get install openjdk-17-jre-headless",
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    m = re.search(r'version "(\d+)', out.stderr + out.stdout)
    if m is None or int(m.group(1)) < minimum:
        raise UsageError(
            tr(f"Spark a besoin de Java {minimum} ou plus", f"Spark needs Java {minimum} or later"),
            hint="apt-get install openjdk-17-jre-headless",
        )


def _pyspark() -> Any:
    try:
        import pyspark  # noqa: PLC0415 - optional, heavy dependency
    except ImportError as exc:
        raise UsageError(
            tr("le moteur Spark n'est pas installé", "the Spark engine is not installed"),
            hint=INSTALL_LINE,
        ) from exc
    return pyspark


class SparkEngine:
    """Runs tasks on Spark (``local[N]`` on one machine, a cluster master in production)."""

    capabilities = frozenset({"cluster", "reduce_on_workers"})

    def __init__(
        self, master: str = "local[2]", session: Any = None, app_name: str = "loyaute-ingest"
    ) -> None:
        self.master = master
        self.app_name = app_name
        self._session = session

    def session(self) -> Any:
        """The Spark session (created on first use, reused afterwards)."""
        if self._session is None:
            _pyspark()
            check_java()
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            from pyspark.sql import SparkSession  # noqa: PLC0415

            self._session = (
                SparkSession.builder.master(self.master)
                .appName(self.app_name)
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.python.worker.reuse", "true")
                .getOrCreate()
            )
            self._session.sparkContext.setLogLevel("ERROR")
        return self._session

    @property
    def workers(self) -> int:
        """Parallelism of the cluster, to cut big files into as many ranges."""
        return int(self.session().sparkContext.defaultParallelism)

    def map(
        self, fn: Callable[[Task], R], tasks: Sequence[Task], lost: Lost[R] | None = None
    ) -> Iterator[R]:
        """Run ``fn`` on every task on the executors (Spark retries a task whose executor died;
        ``lost`` is not needed)."""
        if not tasks:
            return iter(())
        sc = self.session().sparkContext
        return iter(sc.parallelize(list(tasks), numSlices=len(tasks)).map(fn).collect())

    def map_reduce(
        self,
        fn: Callable[[Task], R],
        tasks: Sequence[Task],
        key: Callable[[R], str],
        merge: Callable[[R, R], R],
        on_progress: Callable[[int, int], None] | None = None,
        lost: Lost[R] | None = None,
    ) -> Iterator[R]:
        """Map on the executors, merge results sharing a key there too, bring back one per key."""
        if not tasks:
            return iter(())
        sc = self.session().sparkContext
        rdd = sc.parallelize(list(tasks), numSlices=len(tasks)).map(fn)
        try:
            merged = rdd.keyBy(key).reduceByKey(merge).values().collect()
        except Exception as exc:  # Py4JJavaError and friends: the job failed after retries
            first = (
                str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
            )
            raise LoyauteError(
                tr(
                    f"le travail Spark a échoué ({first}) : le magasin est inchangé",
                    f"the Spark job failed ({first}): the store is unchanged",
                ),
                hint=tr(
                    "relancer l'ingestion une fois la cause réglée",
                    "run the ingest again once fixed",
                ),
            ) from exc
        if on_progress is not None:
            on_progress(len(tasks), len(tasks))
        return iter(merged)

    def stop(self) -> None:
        """Stop the session this engine created."""
        if self._session is not None:
            self._session.stop()
            self._session = None
