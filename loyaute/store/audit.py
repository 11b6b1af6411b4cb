"""The audit log: append-only, chained with a keyed MAC, checkpointed outside the workspace,
kept apart from the activity store (rules H1, H4).

Every access to one agent's data (view, export, annotate, re-identify, case action) and every
purge is appended with its actor, role, action, reason and time. An entry concerns one agent
(``agent_id``) or several (``subjects``: a manager's monthly statement names every agent it
shows); each agent's "who looked" list finds both.

Each entry carries an HMAC-SHA256, under the audit key (a file of its own, 0600, kept like the
pseudonymisation key and apart from the log), of its content and of the previous entry's MAC:
whoever edits, removes or inserts an entry cannot recompute the chain without the key. After
every entry, a checkpoint — the entry count and the head MAC — is appended outside the workspace
(an append-only file, and/or a syslog destination): whoever holds the key and rewrites the chain,
or cuts its most recent entries, still disagrees with the checkpoints. Retention (F5) removes the
oldest entries and keeps the MAC and the time of the last one removed as the chain's anchor;
``verify`` refuses an anchor younger than the audit retention (entries removed before their time).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import logging.handlers
import os
import secrets
import socket
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from loyaute.clock import Clock
from loyaute.errors import WorkspaceError
from loyaute.i18n import tr
from loyaute.store.failures import database_error
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
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
    key: bytes | None = None,
) -> str:
    """The MAC that chains an entry to its predecessor (a plain SHA-256 only for the entries of
    a log written before it had a key)."""
    canonical = json.dumps(
        [prev, seq, at, actor, role, action, agent_id, reason, details],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    if key is None:
        return hashlib.sha256(canonical).hexdigest()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """The entry count and the head MAC at one moment, written outside the workspace."""

    workspace: str
    count: int
    head: str
    at: str

    def line(self) -> str:
        """One JSON line."""
        return json.dumps(
            {"workspace": self.workspace, "count": self.count, "head": self.head, "at": self.at},
            separators=(",", ":"),
        )


@dataclass
class Checkpoints:
    """Where checkpoints go: an append-only file (read back by ``verify``) and/or a syslog
    destination (``/dev/log``, ``udp:HOST:PORT`` or ``tcp:HOST:PORT``; kept by the SIEM)."""

    file: Path | None = None
    syslog: str = ""
    _handler: logging.Handler | None = field(default=None, repr=False)

    @property
    def configured(self) -> bool:
        """True when at least one destination is set."""
        return self.file is not None or bool(self.syslog)

    def write(self, checkpoint: Checkpoint) -> None:
        """Append one checkpoint to every destination (an error here refuses the entry)."""
        try:
            self._write(checkpoint.line())
        except OSError as exc:
            raise WorkspaceError(
                tr(
                    f"point de contrôle du journal des accès impossible à écrire "
                    f"({exc.strerror or exc}) : l'accès est refusé (H4)",
                    f"the access log's checkpoint could not be written ({exc.strerror or exc}): "
                    "the access is refused (H4)",
                ),
                hint=tr(
                    "vérifier [audit] checkpoint_file / checkpoint_syslog",
                    "check [audit] checkpoint_file / checkpoint_syslog",
                ),
            ) from exc

    def close(self) -> None:
        """Close the syslog connection, if any."""
        if self._handler is not None:
            self._handler.close()
            self._handler = None

    def _write(self, line: str) -> None:
        if self.file is not None:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode("ascii"))
                os.fsync(fd)
            finally:
                os.close(fd)
        if self.syslog:
            if self._handler is None:
                self._handler = _syslog_handler(self.syslog)
            record = logging.LogRecord(
                "loyaute.audit", logging.INFO, "", 0, "loyaute-audit " + line, None, None
            )
            self._handler.emit(record)

    def read(self, workspace: str) -> list[Checkpoint]:
        """The checkpoints of one workspace in the file, in order (none without a file)."""
        if self.file is None or not self.file.is_file():
            return []
        found = []
        for text in self.file.read_text(encoding="ascii", errors="replace").splitlines():
            try:
                raw = json.loads(text)
                point = Checkpoint(
                    str(raw["workspace"]), int(raw["count"]), str(raw["head"]), str(raw["at"])
                )
            except (ValueError, KeyError, TypeError):
                continue
            if point.workspace == workspace:
                found.append(point)
        return found


def _syslog_handler(address: str) -> logging.Handler:
    if address.startswith(("udp:", "tcp:")):
        kind, host, port = address.split(":", 2)
        socktype = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
        return logging.handlers.SysLogHandler(address=(host, int(port)), socktype=socktype)
    return logging.handlers.SysLogHandler(address=address)


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: entries checked, the first broken one, and why."""

    checked: int
    broken: int | None
    reason: str = ""
    checkpoints: int = 0
    """How many outside checkpoints the chain was compared with."""


class AuditLog:
    """The MAC-chained log in its own SQLite file."""

    def __init__(
        self,
        path: Path,
        clock: Clock,
        key: bytes | None = None,
        checkpoints: Checkpoints | None = None,
        retention_months: int | None = None,
    ) -> None:
        self.path = path
        self.clock = clock
        self.key = key
        self.checkpoints = checkpoints or Checkpoints()
        self.retention_months = retention_months
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = FULL")
            self.conn.executescript(SCHEMA)
            columns = {r[1] for r in self.conn.execute("PRAGMA table_info(anchor)")}
            if "at" not in columns:
                self.conn.execute("ALTER TABLE anchor ADD COLUMN at TEXT NOT NULL DEFAULT ''")
        except sqlite3.Error as exc:
            self.conn.close()
            raise database_error(exc, path) from exc
        private(path)
        with transaction(self.conn):
            if self._meta("workspace") is None:
                self._set_meta("workspace", secrets.token_hex(8))
            if key is not None and self._meta("keyed_from") is None:
                # Entries written before the log had a key keep their plain hashes.
                self._set_meta("keyed_from", str(self._last_seq() + 1))

    @staticmethod
    def is_keyed(path: Path) -> bool:
        """True when the log at ``path`` already chains its entries under a key (then the key
        must be found; a log without one gets a new key from now on)."""
        if not path.exists():
            return False
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'keyed_from'").fetchone()
        except sqlite3.OperationalError:
            return False
        finally:
            conn.close()
        return row is not None

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _last_seq(self) -> int:
        row = self.conn.execute("SELECT MAX(seq) FROM audit").fetchone()
        if row[0] is not None:
            return int(row[0])
        anchor = self.conn.execute("SELECT seq FROM anchor").fetchone()
        return int(anchor[0]) if anchor else 0

    def _key_for(self, seq: int) -> bytes | None:
        keyed_from = self._meta("keyed_from")
        if keyed_from is None or seq < int(keyed_from):
            return None
        if self.key is None:
            raise AuditKeyMissing(
                tr(
                    "la clé du journal des accès est introuvable : le journal ne peut être ni "
                    "complété ni vérifié",
                    "the access log's key is missing: the log can be neither appended to nor "
                    "verified",
                )
            )
        return self.key

    @property
    def workspace(self) -> str:
        """This log's identifier in the checkpoints."""
        return self._meta("workspace") or ""

    def last_checkpoint(self) -> Checkpoint | None:
        """The last checkpoint written (the DPO's page shows it)."""
        text = self._meta("last_checkpoint")
        if not text:
            return None
        raw = json.loads(text)
        return Checkpoint(raw["workspace"], raw["count"], raw["head"], raw["at"])

    def close(self) -> None:
        """Close the database and the checkpoints' connection."""
        self.conn.close()
        self.checkpoints.close()

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
            digest = entry_hash(
                prev, seq, at, actor, role, action, agent_id, reason, payload, self._key_for(seq)
            )
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
            point = Checkpoint(self.workspace, seq, digest, at)
            if self.checkpoints.configured:
                self.checkpoints.write(point)  # a failure here refuses the entry (rolled back)
            self._set_meta("last_checkpoint", point.line())
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
        found = self.verify_all()
        return found.checked, found.broken

    def verify_all(self) -> Verification:
        """Check the chain, its index, its tail, its anchor against retention, and the outside
        checkpoints; the first problem found, with its entry and why."""
        anchor = self.conn.execute("SELECT seq, hash, at FROM anchor").fetchone()
        expected_seq, prev = (anchor["seq"] + 1, anchor["hash"]) if anchor else (1, GENESIS)
        checked = 0
        indexed: dict[int, set[str]] = {}
        for seq, agent in self.conn.execute("SELECT seq, agent_id FROM subjects"):
            indexed.setdefault(seq, set()).add(agent)
        macs: dict[int, str] = {}
        for r in self.conn.execute("SELECT * FROM audit ORDER BY seq"):
            if r["seq"] != expected_seq:
                return Verification(checked, expected_seq, tr("entrée manquante", "missing entry"))
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
                self._key_for(r["seq"]),
            )
            if r["prev"] != prev or r["hash"] != recomputed:
                return Verification(checked, r["seq"], tr("entrée modifiée", "entry changed"))
            named = set(json.loads(r["details"]).get("subjects", []))
            if indexed.pop(r["seq"], set()) != named:
                # an agent hidden from (or added to) an entry's index
                return Verification(checked, r["seq"], tr("index modifié", "index changed"))
            macs[r["seq"]] = r["hash"]
            prev = r["hash"]
            expected_seq += 1
            checked += 1
        if indexed:
            return Verification(
                checked, min(indexed), tr("index sans entrée", "index without entry")
            )
        if self.head_path.is_file():
            head_seq, _, head_hash = (
                self.head_path.read_text(encoding="ascii").strip().partition(" ")
            )
            if int(head_seq) >= expected_seq or (
                int(head_seq) == expected_seq - 1 and head_hash != prev
            ):
                broken = expected_seq if int(head_seq) >= expected_seq else expected_seq - 1
                return Verification(
                    checked, broken, tr("fin du journal coupée", "end of the log cut off")
                )
        if anchor is not None and anchor["at"] and self.retention_months is not None:
            cutoff = self.clock.now() - timedelta(days=int(self.retention_months * 30.44))
            if anchor["at"] >= cutoff.isoformat(timespec="seconds"):
                return Verification(
                    checked,
                    int(anchor["seq"]),
                    tr(
                        f"entrées supprimées avant la fin de leur durée de conservation "
                        f"({self.retention_months} mois, F5)",
                        f"entries removed before the end of their retention "
                        f"({self.retention_months} months, F5)",
                    ),
                )
        points = self.checkpoints.read(self.workspace)
        anchored = int(anchor["seq"]) if anchor else 0
        for point in points:
            if point.count < anchored:
                continue
            if point.count == anchored and anchor is not None:
                if point.head != anchor["hash"]:
                    return Verification(
                        checked, point.count, tr("ancre réécrite", "anchor rewritten"), len(points)
                    )
                continue
            if point.count not in macs:
                return Verification(
                    checked,
                    expected_seq if point.count >= expected_seq else point.count,
                    tr(
                        f"entrées manquant au journal mais attestées par un point de contrôle "
                        f"({point.count} entrées le {point.at})",
                        f"entries missing from the log but attested by a checkpoint "
                        f"({point.count} entries on {point.at})",
                    ),
                    len(points),
                )
            if macs[point.count] != point.head:
                return Verification(
                    checked,
                    point.count,
                    tr(
                        "chaîne réécrite : elle ne correspond plus aux points de contrôle",
                        "chain rewritten: it no longer matches the checkpoints",
                    ),
                    len(points),
                )
        return Verification(checked, None, "", len(points))

    def purge_before(self, cutoff: datetime) -> int:
        """Remove entries older than ``cutoff`` (F5), keeping the chain verifiable."""
        limit = cutoff.isoformat(timespec="seconds")
        with transaction(self.conn):
            last = self.conn.execute(
                "SELECT seq, hash, at FROM audit WHERE at < ? ORDER BY seq DESC LIMIT 1", (limit,)
            ).fetchone()
            if last is None:
                return 0
            removed = self.conn.execute("DELETE FROM audit WHERE seq <= ?", (last["seq"],)).rowcount
            self.conn.execute("DELETE FROM subjects WHERE seq <= ?", (last["seq"],))
            self.conn.execute(
                "INSERT INTO anchor(id, seq, hash, at) VALUES (1, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, "
                "at = excluded.at",
                (last["seq"], last["hash"], last["at"]),
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


class AuditKeyMissing(WorkspaceError):
    """The audit key is missing while the log's entries are keyed."""
