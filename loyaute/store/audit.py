"""The audit log: append-only, hash-chained, kept apart from the activity store (rule H1).

Every access to one agent's data (view, export, annotate, re-identify, case action) and every
purge is appended with its actor, role, action, reason and time. An entry concerns one agent
(``agent_id``) or several (``subjects``: a manager's monthly statement names every agent it
shows); each agent's "who looked" list finds both. Each entry carries the hash of
the previous one; ``verify`` recomputes the chain and names the first entry that was edited,
removed or moved. Retention (rule F5) removes the oldest entries and keeps the hash of the last
one removed as the chain's anchor, so what remains still verifies.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from loyaute.clock import Clock
from loyaute.store.state import private, transaction

GENESIS = "0" * 64

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    agent_id TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}',
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_agent ON audit(agent_id);
CREATE TABLE IF NOT EXISTS subjects (
    seq INTEGER NOT NULL,
    agent_id TEXT NOT NULL,
    PRIMARY KEY (agent_id, seq)
);
CREATE TABLE IF NOT EXISTS anchor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER, hash TEXT);
"""


@dataclass(frozen=True)
class Entry:
    """One audit entry."""

    seq: int
    at: str
    actor: str
    role: str
    action: str
    agent_id: str
    reason: str
    details: dict[str, Any]
    prev: str
    hash: str


def entry_hash(
    prev: str,
    seq: int,
    at: str,
    actor: str,
    role: str,
    action: str,
    agent_id: str,
    reason: str,
    details: str,
) -> str:
    """The hash that chains an entry to its predecessor."""
    canonical = json.dumps(
        [prev, seq, at, actor, role, action, agent_id, reason, details],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class AuditLog:
    """The hash-chained log in its own SQLite file."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.executescript(SCHEMA)
        private(path)

    def close(self) -> None:
        """Close the database."""
        self.conn.close()

    def append(
        self,
        actor: str,
        role: str,
        action: str,
        *,
        agent_id: str = "",
        reason: str = "",
        details: dict[str, Any] | None = None,
        subjects: list[str] | None = None,
    ) -> Entry:
        """Add an entry at the end of the chain. ``subjects`` names the agents an entry about
        several concerns; they are part of the hashed details, so they cannot be edited."""
        at = self.clock.now().isoformat(timespec="seconds")
        details = dict(details or {})
        if subjects:
            details["subjects"] = sorted(set(subjects))
        payload = json.dumps(details, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        with transaction(self.conn):
            last = self.conn.execute(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            if last is None:
                anchor = self.conn.execute("SELECT seq, hash FROM anchor").fetchone()
                seq, prev = (anchor["seq"] + 1, anchor["hash"]) if anchor else (1, GENESIS)
            else:
                seq, prev = last["seq"] + 1, last["hash"]
            digest = entry_hash(prev, seq, at, actor, role, action, agent_id, reason, payload)
            self.conn.execute(
                "INSERT INTO audit(seq, at, actor, role, action, agent_id, reason, details, prev, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, at, actor, role, action, agent_id, reason, payload, prev, digest),
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO subjects(seq, agent_id) VALUES (?, ?)",
                [(seq, a) for a in details.get("subjects", [])],
            )
            self._write_head(seq, digest)
        return Entry(seq, at, actor, role, action, agent_id, reason, details, prev, digest)

    @property
    def head_path(self) -> Path:
        """A copy of the last (seq, hash), so that cutting the tail of the log shows."""
        return self.path.with_name("HEAD")

    def _write_head(self, seq: int, digest: str) -> None:
        tmp = self.head_path.with_suffix(".tmp")
        tmp.write_text(f"{seq} {digest}\n", encoding="ascii")
        tmp.replace(self.head_path)

    def entries(self, agent_id: str | None = None) -> Iterator[Entry]:
        """Entries in order (only those about ``agent_id`` when given)."""
        sql = "SELECT * FROM audit"
        params: tuple[str, ...] = ()
        if agent_id is not None:
            sql += " WHERE agent_id = ? OR seq IN (SELECT seq FROM subjects WHERE agent_id = ?)"
            params = (agent_id, agent_id)
        for r in self.conn.execute(sql + " ORDER BY seq", params):
            yield Entry(
                r["seq"],
                r["at"],
                r["actor"],
                r["role"],
                r["action"],
                r["agent_id"],
                r["reason"],
                json.loads(r["details"]),
                r["prev"],
                r["hash"],
            )

    def verify(self) -> tuple[int, int | None]:
        """(entries checked, seq of the first broken entry or None)."""
        anchor = self.conn.execute("SELECT seq, hash FROM anchor").fetchone()
        expected_seq, prev = (anchor["seq"] + 1, anchor["hash"]) if anchor else (1, GENESIS)
        checked = 0
        indexed: dict[int, set[str]] = {}
        for seq, agent in self.conn.execute("SELECT seq, agent_id FROM subjects"):
            indexed.setdefault(seq, set()).add(agent)
        for r in self.conn.execute("SELECT * FROM audit ORDER BY seq"):
            recomputed = entry_hash(
                prev,
                r["seq"],
                r["at"],
                r["actor"],
                r["role"],
                r["action"],
                r["agent_id"],
                r["reason"],
                r["details"],
            )
            named = set(json.loads(r["details"]).get("subjects", []))
            if r["seq"] != expected_seq or r["prev"] != prev or r["hash"] != recomputed:
                return checked, r["seq"] if r["seq"] == expected_seq else expected_seq
            if indexed.pop(r["seq"], set()) != named:
                return checked, r["seq"]  # an agent hidden from (or added to) an entry's index
            prev = r["hash"]
            expected_seq += 1
            checked += 1
        if indexed:
            return checked, min(indexed)  # index rows of no entry
        if self.head_path.is_file():
            head_seq, _, head_hash = (
                self.head_path.read_text(encoding="ascii").strip().partition(" ")
            )
            if int(head_seq) >= expected_seq or (
                int(head_seq) == expected_seq - 1 and head_hash != prev
            ):
                # entries after the last one present were removed
                return checked, expected_seq if int(head_seq) >= expected_seq else expected_seq - 1
        return checked, None

    def purge_before(self, cutoff: datetime) -> int:
        """Remove entries older than ``cutoff`` (F5), keeping the chain verifiable."""
        limit = cutoff.isoformat(timespec="seconds")
        with transaction(self.conn):
            last = self.conn.execute(
                "SELECT seq, hash FROM audit WHERE at < ? ORDER BY seq DESC LIMIT 1", (limit,)
            ).fetchone()
            if last is None:
                return 0
            removed = self.conn.execute("DELETE FROM audit WHERE seq <= ?", (last["seq"],)).rowcount
            self.conn.execute("DELETE FROM subjects WHERE seq <= ?", (last["seq"],))
            self.conn.execute(
                "INSERT INTO anchor(id, seq, hash) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                (last["seq"], last["hash"]),
            )
        return int(removed)

    def counts_since(self, actor: str, since: str) -> dict[str, int]:
        """action → entries of one person since ``since`` (the DPO's alerts, H2)."""
        return {
            r[0]: int(r[1])
            for r in self.conn.execute(
                "SELECT action, COUNT(*) FROM audit WHERE actor = ? AND at >= ? GROUP BY action",
                (actor, since),
            )
        }

    def count_before(self, at: str) -> int:
        """Entries older than ``at`` (a dry-run purge)."""
        return int(
            self.conn.execute("SELECT COUNT(*) FROM audit WHERE at < ?", (at,)).fetchone()[0]
        )

    def head(self) -> int:
        """The last sequence number (0 when empty)."""
        row = self.conn.execute("SELECT MAX(seq) FROM audit").fetchone()
        return int(row[0] or 0)
