"""App state in SQLite: one file, a versioned schema, and the repositories that read and write it.

The activity store (Parquet, ``store/records.py``) holds only pseudonymous half-day flags; every
other piece of state lives here. The audit log has a database of its own (``store/audit.py``),
kept apart from both. ``Database`` opens the file and hands out one typed repository per kind of
record; every write happens inside a transaction (``Database.transaction``), and nothing outside
``loyaute/store/`` runs SQL (a ruff rule bans ``sqlite3`` and ``duckdb`` elsewhere).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from loyaute.store.failures import database_error

T = TypeVar("T")

SCHEMA_VERSION = 4

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agents (
    agent_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    service TEXT NOT NULL,
    job_family TEXT NOT NULL,
    manager_id TEXT NOT NULL DEFAULT '',
    left_on TEXT NOT NULL DEFAULT ''
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
CREATE TABLE IF NOT EXISTS manifest_on_disk (
    stat_key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL
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
    evidence TEXT NOT NULL DEFAULT '',
    answer_due TEXT NOT NULL DEFAULT '',
    decided_by TEXT NOT NULL DEFAULT ''
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
    suppressed_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (classification, grp, week)
);
CREATE TABLE IF NOT EXISTS published_audit (
    classification TEXT NOT NULL,
    week TEXT NOT NULL,
    targets INTEGER NOT NULL,
    narrowest INTEGER NOT NULL,
    narrowest_kind TEXT NOT NULL,
    narrowest_measure TEXT NOT NULL,
    protection_level INTEGER NOT NULL,
    audited_at TEXT NOT NULL,
    PRIMARY KEY (classification, week)
);
CREATE TABLE IF NOT EXISTS published_atoms (
    classification TEXT NOT NULL,
    week TEXT NOT NULL,
    atom TEXT NOT NULL,
    agents INTEGER NOT NULL,
    telework INTEGER NOT NULL,
    PRIMARY KEY (classification, week, atom)
);
CREATE TABLE IF NOT EXISTS published_members (
    classification TEXT NOT NULL,
    week TEXT NOT NULL,
    member TEXT NOT NULL,
    atom TEXT NOT NULL,
    PRIMARY KEY (classification, week, member)
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
    created_at TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT 'local',
    subject TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    login TEXT NOT NULL REFERENCES accounts(login) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'web'
);
CREATE TABLE IF NOT EXISTS oidc_pending (
    state_hash TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    login TEXT NOT NULL REFERENCES accounts(login) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS signin_failures (
    login TEXT NOT NULL,
    address TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL,
    PRIMARY KEY (login, address)
);
CREATE TABLE IF NOT EXISTS signin_known (
    login TEXT NOT NULL,
    address TEXT NOT NULL,
    last_success_at TEXT NOT NULL,
    PRIMARY KEY (login, address)
);
CREATE TABLE IF NOT EXISTS disabled_accounts (
    login TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS followed_files (
    spec TEXT NOT NULL,
    path TEXT NOT NULL,
    device INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    head_sha256 TEXT NOT NULL,
    head_bytes INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (spec, device, inode)
);
CREATE TABLE IF NOT EXISTS collector_status (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    updated_at TEXT NOT NULL,
    status TEXT NOT NULL
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

MIGRATIONS: dict[int, list[tuple[str, str, str]]] = {
    # version reached → (table, column, definition) added to a database of the version before
    2: [
        ("cases", "answer_due", "TEXT NOT NULL DEFAULT ''"),
        ("cases", "decided_by", "TEXT NOT NULL DEFAULT ''"),
        ("sessions", "kind", "TEXT NOT NULL DEFAULT 'web'"),
    ],
    3: [
        # departed agents are kept, marked, until retention removes their data (issue 13)
        ("agents", "left_on", "TEXT NOT NULL DEFAULT ''"),
        # accounts of people signed in through the OpenID provider (issue 13)
        ("accounts", "origin", "TEXT NOT NULL DEFAULT 'local'"),
        ("accounts", "subject", "TEXT NOT NULL DEFAULT ''"),
    ],
    4: [
        # why a cell is withheld: primary, complementary (E3) or protection (E7) (issue 11)
        ("published_cells", "suppressed_by", "TEXT NOT NULL DEFAULT ''"),
    ],
}

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private(path: Path) -> None:
    """Owner-only permissions on a workspace file and the SQLite files beside it (H3)."""
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if candidate.exists():
            os.chmod(candidate, PRIVATE_FILE)


def _migrate(conn: sqlite3.Connection) -> None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row else SCHEMA_VERSION
    for target in sorted(MIGRATIONS):
        if version >= target:
            continue
        for table, column, definition in MIGRATIONS[target]:
            columns = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (str(SCHEMA_VERSION),),
    )


def connect(path: Path) -> sqlite3.Connection:
    """Open the state database (created with its schema when new, migrated when older)."""
    fresh = not path.exists()
    if fresh:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created owner-only before SQLite writes a byte into it.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    # One connection per command or web request; requests may hop threads, never share it.
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    key = str(path.resolve())
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        # The first statement that reads the file: a damaged one says so here, named.
        conn.execute("PRAGMA synchronous = FULL")
        if fresh or key not in _READY:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(SCHEMA)
            conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION) if fresh else "1",),
            )
            _migrate(conn)
            private(path)
            _READY.add(key)
    except sqlite3.Error as exc:
        conn.close()
        _READY.discard(key)
        raise database_error(exc, path) from exc
    return conn


_READY: set[str] = set()
"""Databases whose schema this process already made sure of (web requests open many times)."""


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error: all or nothing. Inside a transaction
    already, it joins it (the outer one commits or rolls back everything)."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Database:
    """The state database and its repositories (opened on first use, one connection)."""

    def __init__(self, path: Path) -> None:
        from loyaute.store.accounts import AccountRepo, SigninRepo  # noqa: PLC0415 - repositories import this module
        from loyaute.store.cases import CaseRepo  # noqa: PLC0415
        from loyaute.store.collector import CollectorRepo  # noqa: PLC0415
        from loyaute.store.directory import AgentRepo, NoticeRepo  # noqa: PLC0415
        from loyaute.store.individual import IndividualRepo  # noqa: PLC0415
        from loyaute.store.operations import AlertRepo, ManifestRepo  # noqa: PLC0415
        from loyaute.store.publication import PublicationRepo  # noqa: PLC0415
        from loyaute.store.schedule import ScheduleRepo  # noqa: PLC0415

        self.path = path
        self.conn = connect(path)
        self.agents = AgentRepo(self.conn)
        self.notices = NoticeRepo(self.conn)
        self.schedule = ScheduleRepo(self.conn)
        self.individual = IndividualRepo(self.conn)
        self.cases = CaseRepo(self.conn)
        self.accounts = AccountRepo(self.conn)
        self.signins = SigninRepo(self.conn)
        self.alerts = AlertRepo(self.conn)
        self.manifest = ManifestRepo(self.conn)
        self.publication = PublicationRepo(self.conn)
        self.collector = CollectorRepo(self.conn)

    def meta(self, key: str) -> str | None:
        """A workspace-wide value (the key's fingerprint, the last import's columns…)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set a workspace-wide value."""
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Every write inside commits together or not at all."""
        with transaction(self.conn):
            yield

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def row_to(cls: type[T], row: sqlite3.Row) -> T:
    """A dataclass from the columns of a row that bear its field names."""
    values: dict[str, Any] = {f.name: row[f.name] for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**values)


class Repo:
    """Base of the repositories: one connection, shared with the others of a ``Database``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
