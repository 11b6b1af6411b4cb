"""A Spark standalone cluster on loopback for the parity suite (issue 15): one master and two
workers, each its own JVM started from the pip package's ``spark-class`` (as an administrator
would start them), one core and 1 GiB each, so that the engine's tasks cross process and
executor boundaries as on a real cluster — ``spark://127.0.0.1:PORT``, not ``local[N]``.

The processes are this helper's own (``Popen`` handles), stopped by their handles at the end.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

WORKERS = 2
START_SECONDS = 120


def spark_home() -> Path:
    """The installed ``pyspark`` folder: a complete Spark distribution (``bin``, ``jars``)."""
    import pyspark  # noqa: PLC0415 - the caller has checked it is installed

    return Path(pyspark.__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A running standalone cluster: its master URL and processes."""

    url: str
    ui: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def alive_workers(self) -> int:
        """Workers the master has registered (its JSON status page)."""
        try:
            with urllib.request.urlopen(f"{self.ui}/json/", timeout=2) as r:
                return int(json.load(r).get("aliveworkers", 0))
        except (OSError, ValueError):
            return 0

    def stop(self) -> None:
        """Stop the workers, then the master (SIGTERM, then SIGKILL after 10 s)."""
        for p in reversed(self.processes):
            if p.poll() is None:
                p.terminate()
        for p in reversed(self.processes):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


def start(folder: Path) -> Cluster:
    """Start a master and ``WORKERS`` workers under ``folder`` (logs, work dirs); returns once
    the master has registered every worker, or raises with the logs' ends."""
    home = spark_home()
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(folder / "logs"),
        "PYSPARK_PYTHON": sys.executable,
    }
    port, ui_port = _free_port(), _free_port()
    cluster = Cluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{ui_port}")
    spark_class = str(home / "bin" / "spark-class")
    logs: list[Path] = []

    def launch(name: str, *args: str) -> None:
        log = folder / f"{name}.log"
        logs.append(log)
        with log.open("wb") as out:
            cluster.processes.append(
                subprocess.Popen(
                    [spark_class, *args],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    cwd=folder,
                )
            )

    folder.mkdir(parents=True, exist_ok=True)
    try:
        launch(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(ui_port),
        )
        for i in range(WORKERS):
            work = folder / f"worker{i}"
            work.mkdir(exist_ok=True)
            launch(
                f"worker{i}",
                "org.apache.spark.deploy.worker.Worker",
                "--host",
                "127.0.0.1",
                "--webui-port",
                str(_free_port()),
                "--cores",
                "1",
                "--memory",
                "1g",
                "--work-dir",
                str(work),
                cluster.url,
            )
        deadline = time.monotonic() + START_SECONDS
        while cluster.alive_workers() < WORKERS:
            dead = [p for p in cluster.processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                tails = "\n".join(
                    f"--- {log.name}\n{log.read_text(errors='replace')[-1500:]}" for log in logs
                )
                raise RuntimeError(f"the Spark standalone cluster did not start:\n{tails}")
            time.sleep(0.5)
    except BaseException:
        cluster.stop()
        raise
    return cluster
