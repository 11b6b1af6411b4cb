"""The schedule: one kind per agent, date and half-day (``telework``, ``on_site``, ``other``,
``unknown``). Who teleworks when is personal data: only the policy core and ingestion read it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from loyaute.store.state import Repo, transaction

Key = tuple[str, str, str]
"""(agent id, ISO day, half)."""


class ScheduleRepo(Repo):
    """Schedule rows."""

    def staging(self) -> ScheduleStaging:
        """A new import's staging area (see ``ScheduleStaging``)."""
        return ScheduleStaging(self.conn)

    def upsert(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        """Insert or replace (agent, day, half, kind) rows, all or nothing."""
        with transaction(self.conn):
            self.conn.executemany(
                "INSERT INTO schedule(agent_id, day, half, kind) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(agent_id, day, half) DO UPDATE SET kind = excluded.kind",
                rows,
            )

    def on_days(self, days: Iterable[date]) -> dict[Key, str]:
        """Every row of the given days."""
        out: dict[Key, str] = {}
        for day in sorted(set(days)):
            text = day.isoformat()
            for r in self.conn.execute(
                "SELECT agent_id, half, kind FROM schedule WHERE day = ?", (text,)
            ):
                out[(r[0], text, r[1])] = r[2]
        return out

    def of_agent(self, agent_id: str, lo: date, hi: date) -> list[tuple[str, str, str]]:
        """(day, half, kind) of one agent in [lo, hi], in order."""
        return [
            (r[0], r[1], r[2])
            for r in self.conn.execute(
                "SELECT day, half, kind FROM schedule WHERE agent_id = ? AND day >= ? AND day <= ? "
                "ORDER BY day, half",
                (agent_id, lo.isoformat(), hi.isoformat()),
            )
        ]

    def kind_of(self, agent_id: str, day: date, half: str) -> str | None:
        """The kind of one half-day, or None when the schedule does not reach it."""
        row = self.conn.execute(
            "SELECT kind FROM schedule WHERE agent_id = ? AND day = ? AND half = ?",
            (agent_id, day.isoformat(), half),
        ).fetchone()
        return None if row is None else str(row[0])

    def of_kind(self, kind: str, lo: date, hi: date) -> list[Key]:
        """(agent, day, half) of every half-day of ``kind`` in [lo, hi]."""
        return [
            (r[0], r[1], r[2])
            for r in self.conn.execute(
                "SELECT agent_id, day, half FROM schedule WHERE kind = ? AND day >= ? AND day <= ?",
                (kind, lo.isoformat(), hi.isoformat()),
            )
        ]

    def count_of_kind(self, agent_id: str, kind: str, lo: date, hi: date) -> int:
        """How many half-days of ``kind`` one agent has in [lo, hi]."""
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM schedule WHERE agent_id = ? AND kind = ? AND day BETWEEN ? AND ?",
                (agent_id, kind, lo.isoformat(), hi.isoformat()),
            ).fetchone()[0]
        )

    def first_day(self) -> date | None:
        """The earliest scheduled day."""
        text = self.conn.execute("SELECT MIN(day) FROM schedule").fetchone()[0]
        return None if text is None else date.fromisoformat(text)

    def last_day(self) -> date | None:
        """The latest scheduled day."""
        text = self.conn.execute("SELECT MAX(day) FROM schedule").fetchone()[0]
        return None if text is None else date.fromisoformat(text)

    def days_from(self, day: date) -> list[date]:
        """Distinct scheduled days on or after ``day``."""
        return [
            date.fromisoformat(r[0])
            for r in self.conn.execute(
                "SELECT DISTINCT day FROM schedule WHERE day >= ? ORDER BY day", (day.isoformat(),)
            )
        ]

    def rows_before(self, day: date) -> list[tuple[int, str, str]]:
        """(rowid, agent, day) of the rows dated before ``day`` (retention)."""
        return [
            (r[0], r[1], r[2])
            for r in self.conn.execute(
                "SELECT rowid, agent_id, day FROM schedule WHERE day < ?", (day.isoformat(),)
            )
        ]

    def delete_rows(self, rowids: list[int]) -> int:
        """Delete rows by rowid."""
        with transaction(self.conn):
            self.conn.executemany("DELETE FROM schedule WHERE rowid = ?", [(i,) for i in rowids])
        return len(rowids)


@dataclass(frozen=True)
class Conflict:
    """Two rows of one file that give one half-day two different kinds."""

    agent_id: str
    day: str
    half: str
    kind: str
    line: int
    other_kind: str
    other_line: int


class ScheduleStaging:
    """The rows of one schedule import, staged in a temporary table of this connection (on disk,
    so a file of any size is checked in bounded memory), then applied in one transaction — or
    dropped when a file has problems. Within a file, the first row of a half-day is kept with the
    first row that contradicts it, so a conflict is reported with both lines; a later file of
    the same import replaces an earlier file's row, as a later import would."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        conn.execute("PRAGMA temp_store = FILE")
        conn.execute("DROP TABLE IF EXISTS temp.schedule_import")
        conn.execute(
            "CREATE TEMP TABLE schedule_import ("
            " agent_id TEXT NOT NULL, day TEXT NOT NULL, half TEXT NOT NULL, kind TEXT NOT NULL,"
            " file INTEGER NOT NULL, line INTEGER NOT NULL,"
            " other_kind TEXT NOT NULL DEFAULT '', other_line INTEGER NOT NULL DEFAULT 0,"
            " PRIMARY KEY (agent_id, day, half)) WITHOUT ROWID"
        )

    def add(self, rows: Iterable[tuple[str, str, str, str, int, int]]) -> None:
        """Stage (agent, day, half, kind, file number, line) rows."""
        # The right-hand sides all see the row as it was before this update.
        self.conn.executemany(
            "INSERT INTO temp.schedule_import(agent_id, day, half, kind, file, line) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(agent_id, day, half) DO UPDATE SET "
            "other_kind = CASE WHEN file = excluded.file AND kind != excluded.kind "
            "  AND other_line = 0 THEN excluded.kind ELSE other_kind END, "
            "other_line = CASE WHEN file = excluded.file AND kind != excluded.kind "
            "  AND other_line = 0 THEN excluded.line ELSE other_line END, "
            "kind = CASE WHEN file != excluded.file THEN excluded.kind ELSE kind END, "
            "line = CASE WHEN file != excluded.file THEN excluded.line ELSE line END, "
            "file = excluded.file",
            rows,
        )

    def conflicts(self, limit: int) -> tuple[int, list[Conflict]]:
        """How many half-days two rows of one file contradict on, and the first ``limit``."""
        count = int(
            self.conn.execute(
                "SELECT COUNT(*) FROM temp.schedule_import WHERE other_line > 0"
            ).fetchone()[0]
        )
        shown = [
            Conflict(*r)
            for r in self.conn.execute(
                "SELECT agent_id, day, half, kind, line, other_kind, other_line "
                "FROM temp.schedule_import WHERE other_line > 0 ORDER BY other_line LIMIT ?",
                (limit,),
            )
        ]
        return count, shown

    def kinds(self) -> dict[str, int]:
        """Half-days staged, by kind."""
        return {
            r[0]: int(r[1])
            for r in self.conn.execute(
                "SELECT kind, COUNT(*) FROM temp.schedule_import GROUP BY kind"
            )
        }

    def days(self) -> list[date]:
        """The distinct days staged."""
        return [
            date.fromisoformat(r[0])
            for r in self.conn.execute("SELECT DISTINCT day FROM temp.schedule_import ORDER BY day")
        ]

    def apply(self) -> None:
        """Upsert every staged row into the schedule, all or nothing."""
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO schedule(agent_id, day, half, kind) "
                "SELECT agent_id, day, half, kind FROM temp.schedule_import WHERE true "
                "ON CONFLICT(agent_id, day, half) DO UPDATE SET kind = excluded.kind"
            )

    def close(self) -> None:
        """Drop the staged rows."""
        self.conn.execute("DROP TABLE IF EXISTS temp.schedule_import")
