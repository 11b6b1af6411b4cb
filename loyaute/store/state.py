"""App state in SQLite: directory, logins, schedule, notices, ingest manifest, quarantine.

The activity store (Parquet, ``store/records.py``) holds only pseudonymous half-day flags; every
other piece of state lives here, in one SQLite file with a versioned schema. The audit log has a
database of its own (``policy/audit.py``), kept apart from both.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agents (
    agent_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    service TEXT NOT NULL,
    job_family TEXT NOT NULL,
    manager_id TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS logins (
    login_key TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents(agent_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS schedule (
    agent_id TEXT NOT NULL,
    day TEXT NOT NULL,
    half TEXT NOT NULL CHECK (half IN ('AM', 'PM')),
    kind TEXT NOT NULL CHECK (kind IN ('telework', 'on_site', 'other', 'unknown')),
    PRIMARY KEY (agent_id, day, half)
);
CREATE INDEX IF NOT EXISTS schedule_day ON schedule(day);
CREATE TABLE IF NOT EXISTS notices (
    agent_id TEXT PRIMARY KEY,
    delivered_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS manifest (
    fingerprint TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    format TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    lines INTEGER NOT NULL,
    events INTEGER NOT NULL,
    kept INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    source TEXT NOT NULL,
    line INTEGER NOT NULL,
    reason TEXT NOT NULL,
    masked TEXT NOT NULL
);
"""


def connect(path: Path) -> sqlite3.Connection:
    """Open the state database (created with its schema when new)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.executescript(SCHEMA)
    conn.execute(
        "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
        (str(SCHEMA_VERSION),),
    )
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error: all or nothing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
