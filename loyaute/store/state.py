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
CREATE TABLE IF NOT EXISTS declarations (
    agent_id TEXT NOT NULL,
    day TEXT NOT NULL,
    half TEXT NOT NULL CHECK (half IN ('AM', 'PM')),
    kind TEXT NOT NULL CHECK (kind IN ('system', 'phone', 'home_visit', 'meeting', 'field', 'other')),
    note TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    PRIMARY KEY (agent_id, day, half)
);
CREATE TABLE IF NOT EXISTS annotations (
    agent_id TEXT NOT NULL,
    day TEXT NOT NULL,
    half TEXT NOT NULL CHECK (half IN ('AM', 'PM')),
    text TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (agent_id, day, half)
);
CREATE TABLE IF NOT EXISTS disputes (
    id INTEGER PRIMARY KEY,
    agent_id TEXT NOT NULL,
    day TEXT NOT NULL,
    half TEXT NOT NULL CHECK (half IN ('AM', 'PM')),
    reason TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    resolved_by TEXT NOT NULL DEFAULT '',
    resolution TEXT NOT NULL DEFAULT '',
    resolved_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS statements (
    manager_id TEXT NOT NULL,
    month TEXT NOT NULL,
    validated_at TEXT NOT NULL,
    PRIMARY KEY (manager_id, month)
);
CREATE TABLE IF NOT EXISTS objections (
    id INTEGER PRIMARY KEY,
    agent_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    since TEXT NOT NULL,
    decided_on TEXT NOT NULL DEFAULT '',
    decision TEXT NOT NULL DEFAULT '',
    decision_reason TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS access_requests (
    id INTEGER PRIMARY KEY,
    agent_id TEXT NOT NULL,
    requested_on TEXT NOT NULL,
    extended_reason TEXT NOT NULL DEFAULT '',
    answered_on TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS cases (
    id INTEGER PRIMARY KEY,
    agent_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    reason TEXT NOT NULL,
    day_from TEXT NOT NULL,
    day_to TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    closed_at TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT '',
    evidence TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS case_answers (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    at TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY,
    agent_id TEXT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS holds (
    id INTEGER PRIMARY KEY,
    agent TEXT NOT NULL,
    day_from TEXT NOT NULL,
    day_to TEXT NOT NULL,
    owner TEXT NOT NULL,
    expires_on TEXT NOT NULL,
    case_id INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL,
    acknowledged_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS published_cells (
    classification TEXT NOT NULL,
    grp TEXT NOT NULL,
    week TEXT NOT NULL,
    agents INTEGER NOT NULL,
    telework INTEGER NOT NULL,
    with_trace INTEGER NOT NULL,
    declared INTEGER NOT NULL,
    suppressed INTEGER NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (classification, grp, week)
);
CREATE TABLE IF NOT EXISTS published_spans (
    classification TEXT NOT NULL,
    grp TEXT NOT NULL,
    first_week TEXT NOT NULL,
    last_week TEXT NOT NULL,
    agents INTEGER NOT NULL,
    PRIMARY KEY (classification, grp, first_week, last_week)
);
CREATE TABLE IF NOT EXISTS accounts (
    login TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('operator', 'dpo', 'hr_reviewer', 'manager', 'agent', 'staff_rep')),
    agent_id TEXT NOT NULL DEFAULT '',
    failed INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    login TEXT NOT NULL REFERENCES accounts(login) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
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
    fresh = not path.exists()
    # One connection per command or web request; requests may hop threads, never share it.
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = FULL")
    key = str(path.resolve())
    if fresh or key not in _READY:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(SCHEMA)
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        _READY.add(key)
    return conn


_READY: set[str] = set()
"""Databases whose schema this process already made sure of (web requests open many times)."""


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


def objecting_agents(conn: sqlite3.Connection) -> set[str]:
    """Agents whose objection (G3) stops their processing: pending a decision, or upheld (then
    for good). A rejected objection lets processing resume."""
    rows = conn.execute(
        "SELECT DISTINCT agent_id FROM objections WHERE decided_on = '' OR decision = 'upheld'"
    )
    return {r[0] for r in rows}
