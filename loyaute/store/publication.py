"""The publication ledger: weekly aggregate cells and span agent counts, frozen once published
(rules E3, E7, F3), and the audit of each week's protection.

Two tables serve the publication of later weeks and the re-audit and are kept only as long as
the half-day records (F2): the atoms of each week (service × family: agents and telework
half-days, what a reader knows from the schedule), and each week's members (pseudonyms and their
atom), so that a range's distinct agents come from the membership frozen when its weeks were
published — an objection, a departure or a move changes no published figure."""

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
    suppressed_by: str = ""


@dataclass(frozen=True)
class WeekAudit:
    """The protection reached by one published week (E7)."""

    classification: str
    week: str
    targets: int
    narrowest: int
    """Width of the narrowest interval among the protected groups (-1: nothing to protect)."""
    narrowest_kind: str
    narrowest_measure: str
    protection_level: int
    audited_at: str


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

    def add_cells(
        self, rows: Iterable[tuple[str, str, str, int, int, int, int, int, str, str]]
    ) -> None:
        """Freeze cells (classification, group, week, agents, telework, with_trace, declared,
        suppressed, published_at, suppressed_by); a cell already frozen is never changed."""
        with transaction(self.conn):
            self.conn.executemany(
                "INSERT OR IGNORE INTO published_cells(classification, grp, week, agents, "
                "telework, with_trace, declared, suppressed, published_at, suppressed_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                list(rows),
            )

    def publish_week(
        self,
        cells: Iterable[tuple[str, str, str, int, int, int, int, int, str, str]],
        audit: WeekAudit,
        atoms: Iterable[tuple[str, int, int]],
        members: Iterable[tuple[str, str]],
    ) -> None:
        """Freeze one week at once: its cells, its audit, its atoms (atom, agents, telework) and
        its members (pseudonym, atom) under the audit's classification."""
        c, w = audit.classification, audit.week
        with transaction(self.conn):
            self.add_cells(cells)
            self.conn.execute(
                "INSERT OR IGNORE INTO published_audit(classification, week, targets, narrowest, "
                "narrowest_kind, narrowest_measure, protection_level, audited_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    c,
                    w,
                    audit.targets,
                    audit.narrowest,
                    audit.narrowest_kind,
                    audit.narrowest_measure,
                    audit.protection_level,
                    audit.audited_at,
                ),
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO published_atoms(classification, week, atom, agents, "
                "telework) VALUES (?, ?, ?, ?, ?)",
                [(c, w, *a) for a in atoms],
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO published_members(classification, week, member, atom) "
                "VALUES (?, ?, ?, ?)",
                [(c, w, *m) for m in members],
            )

    def audits(self, classification: str) -> list[WeekAudit]:
        """The audit of every published week of a classification, in week order."""
        return [
            WeekAudit(classification, *r)
            for r in self.conn.execute(
                "SELECT week, targets, narrowest, narrowest_kind, narrowest_measure, "
                "protection_level, audited_at FROM published_audit WHERE classification = ? "
                "ORDER BY week",
                (classification,),
            )
        ]

    def atoms(self, classification: str, week: str) -> dict[str, tuple[int, int]]:
        """atom → (agents, telework half-days) of a published week, while kept."""
        return {
            r[0]: (int(r[1]), int(r[2]))
            for r in self.conn.execute(
                "SELECT atom, agents, telework FROM published_atoms "
                "WHERE classification = ? AND week = ?",
                (classification, week),
            )
        }

    def members(self, classification: str, weeks: Iterable[str]) -> dict[str, dict[str, str]]:
        """week → member → atom, for the given published weeks whose membership is kept."""
        out: dict[str, dict[str, str]] = {}
        for week in weeks:
            rows = self.conn.execute(
                "SELECT member, atom FROM published_members WHERE classification = ? AND week = ?",
                (classification, week),
            ).fetchall()
            if rows:
                out[week] = {str(r[0]): str(r[1]) for r in rows}
        return out

    def forget_details_before(self, week: str) -> int:
        """Retention (F2): the atoms and members of the weeks before ``week``."""
        with transaction(self.conn):
            a = self.conn.execute("DELETE FROM published_atoms WHERE week < ?", (week,)).rowcount
            b = self.conn.execute("DELETE FROM published_members WHERE week < ?", (week,)).rowcount
        return int(a) + int(b)

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
            PublishedCell(classification, r[0], week, r[1], r[2], r[3], r[4], bool(r[5]), r[6])
            for r in self.conn.execute(
                "SELECT grp, agents, telework, with_trace, declared, suppressed, suppressed_by "
                "FROM published_cells WHERE classification = ? AND week = ? AND grp != ''",
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
            for table in ("published_audit", "published_atoms", "published_members"):
                self.conn.executemany(
                    f"DELETE FROM {table} WHERE week = ?",
                    [(w,) for w in weeks],
                )
        return len(weeks)
