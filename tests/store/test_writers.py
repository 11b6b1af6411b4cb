"""Nothing lost (rule H5; issue 10, findings 1 and 2): one writer at a time, a commit that cannot
overwrite another's, and a key that must be the workspace's own.

The concurrent tests run real ``loyaute`` processes on one workspace, with a pause injected
before the store commit so that their work overlaps every time.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.demo import logs
from loyaute.errors import KeyMismatch
from loyaute.store.lock import WorkspaceBusy, WorkspaceLock
from loyaute.store.records import RECORD_SCHEMA, ActivityStore, StoreConflict
from loyaute.web.app import create_app
from loyaute.workspace import Workspace
from tests.builders import (
    MON,
    NOW,
    TUE,
    iis_file,
    local,
    make_workspace,
    owa,
    schedule_csv,
    stored,
    vpn_session,
    write_logs,
)

INGEST = """
import sys
from datetime import datetime, timezone
from pathlib import Path
from loyaute.clock import FixedClock
from loyaute.errors import LoyauteError
from loyaute.ingest.engine import LocalEngine
from loyaute.ingest.pipeline import ingest
from loyaute.workspace import Workspace
ws = Workspace.open(Path(sys.argv[1]), FixedClock(datetime(2026, 3, 31, 18, tzinfo=timezone.utc)))
try:
    report = ingest(ws, [sys.argv[2]], engine=LocalEngine(1))
except LoyauteError as exc:
    print(exc, file=sys.stderr)
    sys.exit(exc.exit_code)
sys.exit(1 if report.failed else 0)
"""


def ingest_process(home: Path, logs: Path, pause: str = "") -> subprocess.Popen[str]:
    """An ingest in a process of its own, on the builders' fixed clock; ``pause`` is a
    ``LOYAUTE_PAUSE_AT`` point and duration."""
    env = {**os.environ, "LOYAUTE_LANG": "fr"}
    env.pop("LOYAUTE_PAUSE_AT", None)
    if pause:
        env["LOYAUTE_PAUSE_AT"] = pause
    return subprocess.Popen(
        [sys.executable, "-c", INGEST, str(home), str(logs)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def set_wait(home: Path, seconds: int) -> None:
    path = home / "loyaute.toml"
    text = path.read_text(encoding="utf-8")
    assert "lock_wait_seconds = 120" in text
    path.write_text(
        text.replace("lock_wait_seconds = 120", f"lock_wait_seconds = {seconds}"), encoding="utf-8"
    )


@pytest.fixture
def two_sources(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A gated workspace and two log folders: Exchange (mail) and the extranet proxy (apps)."""
    ws = make_workspace(tmp_path)
    home = ws.paths.home
    ws.close()
    mail = tmp_path / "exchange"
    iis_file(mail, "u_ex260323.log", [owa("jdupont", local(MON, 9)), owa("hpetit", local(TUE, 14))])
    host, path = logs.APP_HOSTS["grand-angle"]
    proxy = write_logs(
        tmp_path / "proxy",
        "access.log",
        [
            logs.proxy_line(local(MON, 10), host, path, "jdupont"),
            logs.proxy_line(local(TUE, 9), host, path, "pdurand"),
        ],
    )
    return home, mail, proxy.parent


EXPECTED = {
    ("A1", "2026-03-23", "AM", "telework", "mail;apps"),
    ("A4", "2026-03-24", "PM", "telework", "mail"),
    ("A3", "2026-03-24", "AM", "telework", "apps"),
}


def test_h5_two_ingests_at_once_keep_everything_both_read(
    two_sources: tuple[Path, Path, Path],
) -> None:
    """H5 (finding 1): an ingest of the Exchange logs pauses 3 s before its commit; an ingest of
    the proxy logs starts meanwhile. The second waits for the first, then commits on top of it:
    every flag of both is kept, and both files are recorded as read."""
    home, mail, proxy = two_sources
    first = ingest_process(home, mail, "before-commit:3")
    time.sleep(1.0)
    second = ingest_process(home, proxy)
    _, err1 = first.communicate(timeout=120)
    _, err2 = second.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    with Workspace.open(home, FixedClock(NOW)) as ws:
        assert stored(ws) == EXPECTED
        assert len(ws.db.manifest.recent()) == 2


def test_h5_a_second_writer_that_cannot_wait_stops_and_names_the_holder(
    two_sources: tuple[Path, Path, Path],
) -> None:
    """H5: with ``lock_wait_seconds = 1``, a second ingest stops (exit 1) with a French message
    naming the holder; it recorded nothing, so a later run reads its files in full."""
    home, mail, proxy = two_sources
    set_wait(home, 1)
    first = ingest_process(home, mail, "before-reconcile:4")
    time.sleep(1.5)
    second = ingest_process(home, proxy)
    _, err2 = second.communicate(timeout=60)
    assert second.returncode == 1
    assert "en cours de modification par « ingest »" in err2
    assert f"pid {first.pid}" in err2
    assert "H5" in err2
    assert first.communicate(timeout=120)[1] is not None
    assert first.returncode == 0
    with Workspace.open(home, FixedClock(NOW)) as ws:
        assert len(ws.db.manifest.recent()) == 1
    again = ingest_process(home, proxy)
    again.communicate(timeout=120)
    assert again.returncode == 0
    with Workspace.open(home, FixedClock(NOW)) as ws:
        assert stored(ws) == EXPECTED


def test_h5_a_killed_holder_releases_the_lock(two_sources: tuple[Path, Path, Path]) -> None:
    """H5: the lock is the OS's: a writer killed with SIGKILL holds nothing any more."""
    home, mail, _ = two_sources
    set_wait(home, 1)
    first = ingest_process(home, mail, "before-reconcile:30")
    lock = WorkspaceLock(home / ".lock", 0)
    deadline = time.monotonic() + 30
    while not (home / ".lock").exists() or not (home / ".lock").read_text():
        assert time.monotonic() < deadline, "the first ingest never took the lock"
        time.sleep(0.1)
    assert not lock.acquire("test", 0.2)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    assert lock.acquire("test", 5)
    lock.release()


def test_h5_the_lock_is_reentrant_and_exclusive_between_threads(tmp_path: Path) -> None:
    """H5: within one process (the web server's threads), the lock is exclusive between threads
    and re-entrant within one (an ingest runs a purge)."""
    import threading  # noqa: PLC0415

    lock = WorkspaceLock(tmp_path / ".lock", 0)
    assert lock.acquire("outer", 0)
    assert lock.acquire("inner", 0)
    other: list[bool] = []
    thread = threading.Thread(target=lambda: other.append(lock.acquire("thread", 0.2)))
    thread.start()
    thread.join()
    assert other == [False]
    lock.release()
    lock.release()
    thread = threading.Thread(target=lambda: other.append(lock.acquire("thread", 0.2)))
    thread.start()
    thread.join()
    assert other == [False, True]
    with pytest.raises(WorkspaceBusy), WorkspaceLock(tmp_path / ".lock", 0).hold("again"):
        pass  # held by the thread above, which never released it


def test_h5_a_commit_on_a_stale_generation_is_refused(tmp_path: Path) -> None:
    """H5 (compare-and-swap): a writer that read generation N and commits after another writer
    made N+1 is refused, and the store keeps the other's commit intact."""
    store = ActivityStore(tmp_path / "activity")

    def rows(agent: str) -> pa.Table:
        return pa.table(
            {
                "agent": [agent],
                "day": pa.array([date(2026, 3, 23)], pa.date32()),
                "half": ["AM"],
                "scope": ["telework"],
                "vpn": [True],
                "mail": [False],
                "apps": [False],
            },
            schema=RECORD_SCHEMA,
        )

    store.commit({"records": {date(2026, 3, 23): rows("a")}}, base="")
    base = store.current()
    store.commit({"records": {date(2026, 3, 23): rows("b")}}, base=base)
    kept = store.read("records").to_pylist()
    with pytest.raises(StoreConflict):
        store.commit({"records": {date(2026, 3, 23): rows("c")}}, base=base)
    assert store.read("records").to_pylist() == kept
    assert [r["agent"] for r in kept] == ["b"]


def test_h5_every_store_commit_of_the_package_names_its_base() -> None:
    """H5: no code path of the package commits without the generation it read."""
    import ast  # noqa: PLC0415

    from tests.conftest import ROOT  # noqa: PLC0415

    unchecked = []
    for path in (ROOT / "loyaute").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "commit"
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == "activity"
                and not any(k.arg == "base" for k in node.keywords)
            ):
                unchecked.append(f"{path.name}:{node.lineno}")
    assert unchecked == []


# --- the key -------------------------------------------------------------------------------------


@pytest.fixture
def wrong_key(tmp_path: Path) -> tuple[Path, set[tuple[str, str, str, str, str]]]:
    """A workspace with records whose key was replaced by another workspace's (valid) key."""
    from tests.builders import run_ingest  # noqa: PLC0415

    ws = make_workspace(tmp_path / "a")
    run_ingest(
        ws,
        [
            write_logs(
                tmp_path / "l", "f.log", vpn_session("jdupont", local(MON, 9), local(MON, 10))
            )
        ],
    )
    before = stored(ws)
    assert before
    home = ws.paths.home
    ws.close()
    shutil.copyfile(home / "secrets" / "pseudonym.key", tmp_path / "original.key")
    other = make_workspace(tmp_path / "b")
    other.close()
    shutil.copyfile(
        other.paths.home / "secrets" / "pseudonym.key", home / "secrets" / "pseudonym.key"
    )
    return home, before


def generation(home: Path) -> str:
    return (home / "store" / "activity" / "CURRENT").read_text(encoding="ascii")


@pytest.mark.parametrize(
    "args",
    [
        ["report", "presence"],
        ["ingest", "LOGS"],
        ["schedule", "import", "PLAN"],
        ["purge"],
    ],
    ids=["report", "ingest", "schedule import", "purge"],
)
def test_h5_a_wrong_key_is_refused_before_anything_changes(
    wrong_key: tuple[Path, set[tuple[str, str, str, str, str]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
) -> None:
    """H5 (finding 2): another workspace's key — a valid key, the wrong one — makes every
    command that uses it refuse with exit 78; not a record changes (the schedule import used to
    delete them all)."""
    monkeypatch.setattr("loyaute.workspace.SystemClock", lambda: FixedClock(NOW))
    home, _ = wrong_key
    plan = tmp_path / "plan.csv"
    plan.write_text(schedule_csv([("A1", MON, "JOUR", "TLT")]), encoding="utf-8")
    logs_dir = write_logs(
        tmp_path / "more", "g.log", vpn_session("hpetit", local(TUE, 9), local(TUE, 10))
    ).parent
    args = [{"LOGS": str(logs_dir), "PLAN": str(plan)}.get(a, a) for a in args]
    before = generation(home)
    result = CliRunner().invoke(app, ["--home", str(home), *args])
    assert result.exit_code == 78, result.stderr
    assert "clé de pseudonymisation n'est pas celle de cet espace de travail" in result.stderr
    assert generation(home) == before


def test_h5_the_right_key_back_works_again(
    wrong_key: tuple[Path, set[tuple[str, str, str, str, str]]], tmp_path: Path
) -> None:
    """H5: the refusal names no key and costs nothing: the original key restored, every record
    reads as before; ``config check`` reports the wrong key, then is clean."""
    home, before = wrong_key
    with Workspace.open(home, FixedClock(NOW)) as ws, pytest.raises(KeyMismatch):
        _ = ws.pseudonymizer
    result = CliRunner().invoke(app, ["--home", str(home), "config", "check"])
    assert result.exit_code == 78
    assert "loyaute.toml:key_file" in result.stderr
    assert "n'est pas celle de cet espace de travail" in result.stderr
    shutil.copyfile(tmp_path / "original.key", home / "secrets" / "pseudonym.key")
    with Workspace.open(home, FixedClock(NOW)) as ws:
        assert stored(ws) == before
    assert CliRunner().invoke(app, ["--home", str(home), "config", "check"]).exit_code == 0


def test_h5_the_web_app_refuses_a_wrong_key_without_showing_a_path(
    wrong_key: tuple[Path, set[tuple[str, str, str, str, str]]],
) -> None:
    """H5/H3: the web app does not start on a wrong key, and says why without a path or a key."""
    home, _ = wrong_key
    with pytest.raises(KeyMismatch) as info:
        create_app(home, clock=FixedClock(NOW))
    assert str(home) not in str(info.value)
