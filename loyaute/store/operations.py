"""Operations: DPO alerts (H2), the ingest manifest and the quarantine of malformed lines (F6)."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from loyaute.store.state import Repo, row_to, transaction


@dataclass(frozen=True)
class Alert:
    """A DPO alert."""

    id: int
    at: str
    kind: str
    actor: str
    detail: str
    acknowledged_at: str


@dataclass(frozen=True)
class ManifestEntry:
    """A file read by ``ingest``."""

    fingerprint: str
    path: str
    size: int
    format: str
    ingested_at: str
    lines: int
    events: int
    kept: int
    skipped: str = "{}"
    """Lines set aside, by reason (JSON object): counts, never the lines."""


@dataclass(frozen=True)
class IngestProblem:
    """A file ``ingest`` could not read or refused, with the reason given to the operator."""

    at: str
    path: str
    format: str
    status: str
    message: str


PROBLEMS_KEPT = 200


class AlertRepo(Repo):
    """DPO alerts."""

    def add(self, at: str, kind: str, actor: str, detail: str) -> None:
        """Raise an alert."""
        self.conn.execute(
            "INSERT INTO alerts(at, kind, actor, detail) VALUES (?, ?, ?, ?)",
            (at, kind, actor, detail),
        )

    def raised_since(self, kind: str, actor: str, since: str) -> bool:
        """True when this alert was raised for this person since ``since``."""
        return (
            self.conn.execute(
                "SELECT 1 FROM alerts WHERE kind = ? AND actor = ? AND at >= ?",
                (kind, actor, since),
            ).fetchone()
            is not None
        )

    def latest(self, limit: int = 50) -> list[Alert]:
        """The newest alerts first."""
        return [
            row_to(Alert, r)
            for r in self.conn.execute("SELECT * FROM alerts ORDER BY id DESC LIMIT ?", (limit,))
        ]

    def all(self) -> list[Alert]:
        """Every alert, oldest first."""
        return [row_to(Alert, r) for r in self.conn.execute("SELECT * FROM alerts ORDER BY id")]

    def delete_before(self, at: str) -> int:
        """Forget alerts raised before ``at`` (they name staff users, like the audit log)."""
        return int(self.conn.execute("DELETE FROM alerts WHERE at < ?", (at,)).rowcount)


class ManifestRepo(Repo):
    """Files already read, and masked examples of malformed lines."""

    def known_on_disk(self, stat_key: str) -> bool:
        """True when this very file (device, inode, size, modification time) was ingested and
        has not changed since."""
        return (
            self.conn.execute(
                "SELECT 1 FROM manifest_on_disk WHERE stat_key = ?", (stat_key,)
            ).fetchone()
            is not None
        )

    def known(self, fingerprint: str) -> bool:
        """True when a file with this content was ingested."""
        return (
            self.conn.execute(
                "SELECT 1 FROM manifest WHERE fingerprint = ?", (fingerprint,)
            ).fetchone()
            is not None
        )

    def record(
        self,
        entries: list[ManifestEntry],
        quarantine: list[tuple[str, str, int, str, str]],
        on_disk: Sequence[tuple[str, str]] = (),
        problems: Sequence[IngestProblem] = (),
    ) -> None:
        """Record files read, their quarantined examples (at, source, line, reason, masked) and
        the (stat key, content fingerprint) of each local file read, all or nothing."""
        with transaction(self.conn):
            self.conn.executemany(
                "INSERT OR REPLACE INTO manifest(fingerprint, path, size, format, ingested_at, "
                "lines, events, kept, skipped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.fingerprint,
                        e.path,
                        e.size,
                        e.format,
                        e.ingested_at,
                        e.lines,
                        e.events,
                        e.kept,
                        e.skipped,
                    )
                    for e in entries
                ],
            )
            self.conn.executemany(
                "INSERT INTO quarantine(at, source, line, reason, masked) VALUES (?, ?, ?, ?, ?)",
                quarantine,
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO manifest_on_disk(stat_key, fingerprint) VALUES (?, ?)",
                on_disk,
            )
            if problems:
                self.conn.executemany(
                    "INSERT INTO ingest_problems(at, path, format, status, message) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(p.at, p.path, p.format, p.status, p.message) for p in problems],
                )
                self.conn.execute(  # the last problems only: they are for the operator's eyes
                    "DELETE FROM ingest_problems WHERE id NOT IN "
                    "(SELECT id FROM ingest_problems ORDER BY id DESC LIMIT ?)",
                    (PROBLEMS_KEPT,),
                )

    def problems(self, limit: int = 20) -> list[IngestProblem]:
        """The last files that failed or were refused, newest first."""
        return [
            row_to(IngestProblem, r)
            for r in self.conn.execute(
                "SELECT * FROM ingest_problems ORDER BY id DESC LIMIT ?", (limit,)
            )
        ]

    def totals_by_format(self) -> list[tuple[str, int, int, int, int, dict[str, int]]]:
        """(format, files, lines, events, kept, lines set aside by reason) of every file read."""
        out: dict[str, list[Any]] = {}
        for r in self.conn.execute(
            "SELECT format, lines, events, kept, skipped FROM manifest ORDER BY format"
        ):
            t = out.setdefault(r[0], [r[0], 0, 0, 0, 0, Counter()])
            t[1] += 1
            t[2] += int(r[1])
            t[3] += int(r[2])
            t[4] += int(r[3])
            with contextlib.suppress(ValueError, TypeError):
                t[5].update({str(k): int(v) for k, v in json.loads(r[4] or "{}").items()})
        return [(f, n, lines, ev, kept, dict(sk)) for f, n, lines, ev, kept, sk in out.values()]

    def recent(self, limit: int = 200) -> list[ManifestEntry]:
        """Files read, newest first."""
        return [
            row_to(ManifestEntry, r)
            for r in self.conn.execute(
                "SELECT * FROM manifest ORDER BY ingested_at DESC LIMIT ?", (limit,)
            )
        ]

    def quarantine_by_reason(self) -> list[tuple[str, int]]:
        """(reason, count) of the quarantined examples."""
        return [
            (r[0], int(r[1]))
            for r in self.conn.execute(
                "SELECT reason, COUNT(*) FROM quarantine GROUP BY reason ORDER BY reason"
            )
        ]

    def quarantine_before(self, at: str) -> int:
        """Examples older than ``at``."""
        return int(
            self.conn.execute("SELECT COUNT(*) FROM quarantine WHERE at < ?", (at,)).fetchone()[0]
        )

    def delete_quarantine_before(self, at: str) -> int:
        """Remove examples older than ``at`` (F6)."""
        return int(self.conn.execute("DELETE FROM quarantine WHERE at < ?", (at,)).rowcount)

    def quarantine(self) -> list[tuple[str, str, int, str, str]]:
        """Every example: (at, source, line, reason, masked)."""
        return [
            (r[0], r[1], int(r[2]), r[3], r[4])
            for r in self.conn.execute(
                "SELECT at, source, line, reason, masked FROM quarantine ORDER BY id"
            )
        ]
