"""The schedule: one kind per agent, date and half-day (``telework``, ``on_site``, ``other``,
``unknown``). Who teleworks when is personal data: only the policy core and ingestion read it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from loyaute.store.state import Repo, transaction

Key = tuple[str, str, str]
"""(agent id, ISO day, half)."""


class ScheduleRepo(Repo):
    """Schedule rows."""

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
