"""Real peers for the collector's tests: the ``loyaute collect`` process itself, Debian's rsyslog
as a private unprivileged instance, certificates made with openssl, and a workspace dated around
today (the collector runs on the real clock)."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from loyaute.clock import FixedClock
from loyaute.config import load_settings
from loyaute.demo import logs
from loyaute.templates import loyaute_toml
from loyaute.workspace import Workspace
from tests.builders import (
    local,
    make_workspace,
    owa,
    run_ingest,
    stored,
    vpn_session,
    week_schedule,
)

LOYAUTE = Path(sys.executable).with_name("loyaute")
DEADLINE = 60.0
"""Seconds any wait may take on a loaded 2-core machine before the test fails."""


def wait_for(what: str, predicate: Callable[[], Any], timeout: float = DEADLINE) -> Any:
    """Poll ``predicate`` until it returns something true; fail with ``what`` at the deadline."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port nobody listens on now (for a collector that must come back on the same one)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- a workspace around today ---------------------------------------------------------------


def live_workspace(root: Path) -> tuple[Path, list[date]]:
    """A gated workspace whose four agents telework every day of the last week (the collector
    uses the real clock); returns its home and those days (oldest first, today excluded)."""
    now = datetime.now(UTC)
    first = now.date() - timedelta(days=7)
    ws = make_workspace(
        root, now=now, start=first - timedelta(days=3), schedule=week_schedule(first, 8)
    )
    ws.close()
    return root / "ws", [first + timedelta(days=i) for i in range(7)]


LOGINS = ("jdupont", "mleroy", "pdurand", "hpetit", "LENORD\\jdupont", "inconnu")


def vpn_lines(days: list[date], count: int, seed: int = 0) -> list[str]:
    """``count`` FortiGate lines (tunnel up and down pairs) spread over ``days`` and logins."""
    out: list[str] = []
    i = seed
    while len(out) < count:
        day = days[i % len(days)]
        login = LOGINS[(i // len(days)) % len(LOGINS)]
        hour = 8 + (i * 5) % 11
        out += vpn_session(login, local(day, hour, i % 60), local(day, hour, i % 60, 30), i)
        i += 1
    return out[:count]


EVIDENCE_LOGINS = ("jdupont", "pdurand", "hpetit", "LENORD\\jdupont", "mleroy", "inconnu")


def evidence_lines(days: list[date], noise: int, seed: int = 7) -> list[str]:
    """FortiGate lines where every half-day trace rests on one line: a tunnel-down (its
    duration gives the session) for each login, day and half, shuffled among ``noise`` traffic
    lines — so losing any stretch of the stream loses a record, and a test sees it."""
    rng = random.Random(seed)
    evidence = [
        logs.fgt_tunnel_down(local(day, hour, 30), login, 100 + n, "198.51.100.7", 1800)
        for n, (login, day, hour) in enumerate(
            (login, day, hour) for login in EVIDENCE_LOGINS for day in days for hour in (10, 16)
        )
    ]
    lines = evidence + [
        logs.fgt_traffic(local(days[i % len(days)], 9 + i % 10, i % 60), rng) for i in range(noise)
    ]
    rng.shuffle(lines)
    return lines


def owa_lines(days: list[date], count: int) -> list[str]:
    """``count`` interactive OWA lines (IIS W3C, without the header: a syslog relay's shape)."""
    return [
        owa(LOGINS[i % 4], local(days[i % len(days)], 7 + i % 13, i % 60)) for i in range(count)
    ]


def copy_home(home: Path, to: Path) -> Path:
    """A copy of a workspace (same key, so pseudonyms compare)."""
    shutil.copytree(home, to)
    return to


def store_of(home: Path) -> dict[str, set[tuple[str, ...]]]:
    """What a workspace's store holds, pseudonyms resolved: kept records and pending ones (read
    again when a commit switched generations under the reader)."""
    for _ in range(20):
        try:
            return _store_of(home)
        except FileNotFoundError:
            time.sleep(0.05)
    return _store_of(home)


def _store_of(home: Path) -> dict[str, set[tuple[str, ...]]]:
    with Workspace.open(home, FixedClock(datetime.now(UTC))) as ws:
        agents = {ws.pseudonymizer.pseudonym(a): a for a in ("A1", "A2", "A3", "A4")}
        pending = {
            (agents.get(r["agent"], r["agent"]), r["day"].isoformat(), r["half"])
            for r in ws.activity.read("pending").to_pylist()
        }
        return {"records": stored(ws), "pending": pending}


def batch_store(reference_home: Path, files: list[Path]) -> dict[str, set[tuple[str, ...]]]:
    """The store a batch ``ingest`` of ``files`` leaves in ``reference_home``."""
    with Workspace.open(reference_home, FixedClock(datetime.now(UTC))) as ws:
        report = run_ingest(ws, files, force=True)
        assert not report.failed, report.to_json()
    return store_of(reference_home)


def wait_for_store(home: Path, expected: dict[str, set[tuple[str, ...]]], *why: object) -> None:
    """Wait until the store equals ``expected``; on timeout, say what differs (and ``why``:
    the collectors, whose error output and counters are shown)."""
    try:
        wait_for("the store to equal the batch ingest", lambda: store_of(home) == expected)
    except AssertionError:
        got = store_of(home)
        detail = {
            table: {"missing": sorted(expected[table] - got[table]),
                    "extra": sorted(got[table] - expected[table])}
            for table in expected
        }  # fmt: skip
        notes = [w.stderr() if isinstance(w, CollectProcess) else str(w) for w in why]
        for w in why:
            if isinstance(w, CollectProcess) and w.proc.poll() is None:
                notes.append(str(w.metrics()))
        raise AssertionError(f"store differs from the batch ingest: {detail}\n{notes}") from None


# --- the collector process ------------------------------------------------------------------


class CollectProcess:
    """``loyaute --home HOME collect ARGS…`` in the foreground of a child process."""

    def __init__(self, home: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.args = args
        self.out = home.parent / f"collect-{time.monotonic_ns()}.out"
        self.err = self.out.with_suffix(".err")
        environment = {**os.environ, "LOYAUTE_LANG": "en", **(env or {})}
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [str(LOYAUTE), "--home", str(home), "collect", *args],
                stdout=out,
                stderr=err,
                env=environment,
            )
        self.ready_line = wait_for("the collector's ready line", self._ready)

    def _ready(self) -> str | None:
        text = self.out.read_text(encoding="utf-8")
        if "ready to receive" in text:
            return text.splitlines()[0]
        if self.proc.poll() is not None:
            raise AssertionError(f"collect exited {self.proc.returncode}: {self.stderr()}")
        return None

    def port(self, kind: str) -> int:
        """The port the ready line gives for ``tcp``, ``udp``, ``tls``, ``relp`` or ``metrics``."""
        m = re.search(rf"{kind} (?:http://)?127\.0\.0\.1:(\d+)", self.ready_line)
        assert m, self.ready_line
        return int(m.group(1))

    def metrics(self) -> dict[str, float]:
        """The Prometheus endpoint's samples, by series (``name{labels}``)."""
        url = f"http://127.0.0.1:{self.port('metrics')}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
        out: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def metric(self, name: str) -> float:
        """One sample (0 when the endpoint does not list it)."""
        return self.metrics().get(name, 0.0)

    def stop(self, timeout: float = DEADLINE) -> int:
        """SIGTERM, and the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        """``kill -9``."""
        self.proc.kill()
        self.proc.wait(DEADLINE)

    def wait(self, timeout: float = DEADLINE) -> int:
        """The exit status of a collector that ends by itself."""
        return self.proc.wait(timeout)

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        """Never leave a collector behind a failed test."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(DEADLINE)


def set_collect(home: Path, **values: object) -> None:
    """Write ``[collect]`` settings into the workspace's loyaute.toml."""
    path = home / "loyaute.toml"
    settings = load_settings(path)
    collect = settings.collect.model_copy(update=values)
    path.write_text(
        loyaute_toml(settings.model_copy(update={"collect": collect})), encoding="utf-8"
    )


def count(collector: CollectProcess, transport: str) -> float:
    """Lines the collector handed to a source from ``transport``."""
    return collector.metric(f'loyaute_collect_lines_total{{transport="{transport}"}}')


# --- rsyslog --------------------------------------------------------------------------------

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"


class Rsyslog:
    """Debian's rsyslogd as a private instance (own config, work folder and pid file, no
    system socket), forwarding what ``imfile`` reads to the collector."""

    def __init__(self, folder: Path, config: str, global_options: str = "") -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "work").mkdir(exist_ok=True)
        self.conf = folder / "rsyslog.conf"
        self.pid = folder / "rsyslogd.pid"
        self.conf.write_text(
            f'global(workDirectory="{folder / "work"}" maxMessageSize="64k" {global_options})\n'
            + config,
            encoding="utf-8",
        )
        check = subprocess.run(
            [RSYSLOGD, "-N1", "-f", str(self.conf)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check.returncode != 0:
            raise AssertionError(f"rsyslog refuses its configuration: {check.stderr}")
        self.log = folder / "rsyslogd.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [RSYSLOGD, "-n", "-f", str(self.conf), "-i", str(self.pid)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def close(self) -> None:
        """Stop it (SIGTERM, then SIGKILL)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


IMFILE = 'module(load="imfile")\n'
OMRELP = 'module(load="omrelp")\n'


def forward_file(path: Path, tag: str, action: str) -> str:
    """rsyslog configuration (after ``IMFILE``): read ``path`` with imfile, hand every line to
    ``action`` (a ruleset of its own, named after ``tag``)."""
    return (
        f'input(type="imfile" File="{path}" Tag="{tag}:" ruleset="{tag}" freshStartTail="off")\n'
        f'ruleset(name="{tag}") {{\n  {action}\n}}\n'
    )


# --- certificates ---------------------------------------------------------------------------


def make_certificates(folder: Path, name: str = "collect.loyaute.test") -> dict[str, Path]:
    """A CA, and a server certificate it signs for ``name`` and 127.0.0.1 (openssl)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {k: folder / f"{k}.pem" for k in ("ca", "ca_key", "cert", "key")}
    csr = folder / "server.csr"
    ext = folder / "server.ext"
    ext.write_text(f"subjectAltName=DNS:{name},IP:127.0.0.1\n", encoding="ascii")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=loyaute test CA", "-keyout", str(paths["ca_key"]), "-out", str(paths["ca"]))  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
            "-keyout", str(paths["key"]), "-out", str(csr))  # fmt: skip
    openssl("x509", "-req", "-in", str(csr), "-CA", str(paths["ca"]), "-CAkey", str(paths["ca_key"]),
            "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(paths["cert"]))  # fmt: skip
    return paths
