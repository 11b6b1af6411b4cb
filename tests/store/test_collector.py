"""The collector's state: followed-file offsets and the health snapshot, and the schema
migration (version 3) that brings their tables to an older database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from loyaute.store import state
from loyaute.store.collector import FollowState
from loyaute.store.state import Database


def test_offsets_and_status_round_trip(tmp_path: Path) -> None:
    db = Database(tmp_path / "state.db")
    a = FollowState("/var/log/*.log", "/var/log/a.log", 1, 10, 500, "ab" * 32, 500, "t1")
    b = FollowState("/var/log/*.log", "/var/log/b.log", 1, 11, 0, "", 0, "t1")
    db.collector.save([a, b], [], {"state": "running", "lines": {"tcp": 3}}, "t1")
    assert db.collector.followed("/var/log/*.log") == [a, b]
    assert db.collector.followed("other") == []
    moved = FollowState(a.spec, "/var/log/a.log.1", 1, 10, 900, a.head_sha256, 1024, "t2")
    db.collector.save([moved], [(b.spec, b.device, b.inode)], {"state": "stopped"}, "t2")
    assert db.collector.followed() == [moved]  # same file (device, inode): updated in place
    status = db.collector.status()
    assert status is not None
    assert (status.updated_at, status.status) == ("t2", {"state": "stopped"})
    db.close()


def test_a_version_2_database_gets_the_collector_tables(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Database(path).close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE followed_files")
    conn.execute("DROP TABLE collector_status")
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    state._READY.discard(str(path.resolve()))  # as a new process would open it
    db = Database(path)
    assert db.collector.status() is None
    assert db.collector.followed() == []
    version = db.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert version[0] == str(state.SCHEMA_VERSION)  # migrated to the current version
    db.close()
