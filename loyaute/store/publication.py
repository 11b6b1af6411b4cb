"""The publication ledger: weekly aggregate cells and span agent counts, frozen once published
(rules E3, F3). It holds no pseudonym and no per-agent row."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from loyaute.store.state import Repo, transaction


@dataclass(frozen=True)
class PublishedCell:
    """One frozen weekly cell (counts are zero when suppressed)."""

    classification: str
    group: str
    week: str
    agents: int
    telework: int
    with_trace: int
    declared: int
    suppressed: bool


class PublicationRepo(Repo):
    """published_cells and published_spans."""

    def weeks(self, classification: str) -> set[str]:
        """Weeks published for a classification."""
        return {
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT week FROM published_cells WHERE classification = ?",
                (classification,),
            )
        }

    def add_cells(self, rows: Iterable[tuple[str, str, str, int, int, int, int, int, str]]) -> None:
        """Freeze cells (classification, group, week, agents, telework, with_trace, declared,
        suppressed, published_at); a cell already frozen is never changed."""
        with transaction(self.conn):
            self.conn.executemany(
                "INSERT OR IGNORE INTO published_cells(classification, grp, week, agents, "
                "telework, with_trace, declared, suppressed, published_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                list(rows),
            )

    def group_weeks(self, classification: str) -> dict[str, list[str]]:
        """group → its published weeks, in order."""
        out: dict[str, list[str]] = {}
        for r in self.conn.execute(
            "SELECT grp, week FROM published_cells WHERE classification = ? AND grp != '' "
            "ORDER BY week",
            (classification,),
        ):
            out.setdefault(r[0], []).append(r[1])
        return out

    def cells(self, classification: str, week: str) -> list[PublishedCell]:
        """The frozen cells of one week (the empty-week marker excluded)."""
        return [
            PublishedCell(classification, r[0], week, r[1], r[2], r[3], r[4], bool(r[5]))
            for r in self.conn.execute(
                "SELECT grp, agents, telework, with_trace, declared, suppressed FROM published_cells "
                "WHERE classification = ? AND week = ? AND grp != ''",
                (classification, week),
            )
        ]

    def add_spans(self, rows: Iterable[tuple[str, str, str, str, int]]) -> None:
        """Freeze span counts (classification, group, first week, last week, agents)."""
        with transaction(self.conn):
            self.conn.executemany(
                "INSERT OR IGNORE INTO published_spans(classification, grp, first_week, "
                "last_week, agents) VALUES (?, ?, ?, ?, ?)",
                list(rows),
            )

    def span(self, classification: str, group: str, first: str, last: str) -> int | None:
        """The frozen distinct agent count of a span, or None."""
        row = self.conn.execute(
            "SELECT agents FROM published_spans WHERE classification = ? AND grp = ? "
            "AND first_week = ? AND last_week = ?",
            (classification, group, first, last),
        ).fetchone()
        return None if row is None else int(row[0])

    def all_weeks(self) -> set[str]:
        """Every week in the ledger."""
        return {r[0] for r in self.conn.execute("SELECT DISTINCT week FROM published_cells")}

    def delete_weeks(self, weeks: list[str]) -> int:
        """Remove the cells of these weeks and the spans that begin with them (F3)."""
        with transaction(self.conn):
            self.conn.executemany(
                "DELETE FROM published_cells WHERE week = ?", [(w,) for w in weeks]
            )
            self.conn.executemany(
                "DELETE FROM published_spans WHERE first_week = ?", [(w,) for w in weeks]
            )
        return len(weeks)
