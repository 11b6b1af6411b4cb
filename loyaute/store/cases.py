"""Review cases (D5, D6), the agent's answers, and the legal holds they put on records (F4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from loyaute.store.state import Repo, row_to, transaction


@dataclass(frozen=True)
class Case:
    """One review case."""

    id: int
    agent_id: str
    reviewer: str
    reason: str
    day_from: str
    day_to: str
    opened_at: str
    opened_by: str
    closed_at: str
    outcome: str
    evidence: str
    answer_due: str
    decided_by: str

    @property
    def is_open(self) -> bool:
        """Not closed yet."""
        return not self.closed_at


@dataclass(frozen=True)
class Answer:
    """The agent's answer to a case."""

    at: str
    text: str


@dataclass(frozen=True)
class Hold:
    """A legal hold on one pseudonym's records of a period (F4): it has an owner and an expiry."""

    id: int
    agent: str
    day_from: str
    day_to: str
    owner: str
    expires_on: str
    case_id: int


class CaseRepo(Repo):
    """Cases, answers and holds."""

    def open(
        self,
        agent_id: str,
        reviewer: str,
        reason: str,
        day_from: date,
        day_to: date,
        opened_at: str,
        opened_by: str,
        answer_due: date,
    ) -> int:
        """A new case; its number."""
        cur = self.conn.execute(
            "INSERT INTO cases(agent_id, reviewer, reason, day_from, day_to, opened_at, opened_by, "
            "answer_due) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                agent_id,
                reviewer,
                reason,
                day_from.isoformat(),
                day_to.isoformat(),
                opened_at,
                opened_by,
                answer_due.isoformat(),
            ),
        )
        return int(cur.lastrowid or 0)

    def get(self, case_id: int) -> Case | None:
        """One case, or None."""
        row = self.conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
        return None if row is None else row_to(Case, row)

    def of_agent(self, agent_id: str) -> list[Case]:
        """Cases about one agent, oldest first."""
        return [
            row_to(Case, r)
            for r in self.conn.execute(
                "SELECT * FROM cases WHERE agent_id = ? ORDER BY id", (agent_id,)
            )
        ]

    def of_reviewer(self, login: str) -> list[Case]:
        """Cases a reviewer conducts, newest first."""
        return [
            row_to(Case, r)
            for r in self.conn.execute(
                "SELECT * FROM cases WHERE reviewer = ? ORDER BY id DESC", (login,)
            )
        ]

    def open_for(self, agent_id: str, reviewer: str) -> Case | None:
        """The latest open case on an agent conducted by a reviewer."""
        row = self.conn.execute(
            "SELECT * FROM cases WHERE agent_id = ? AND reviewer = ? AND closed_at = '' "
            "ORDER BY id DESC LIMIT 1",
            (agent_id, reviewer),
        ).fetchone()
        return None if row is None else row_to(Case, row)

    def opened_per_month(self) -> dict[str, int]:
        """month (YYYY-MM) → cases opened (staff representatives' statistics)."""
        return {
            r[0]: int(r[1])
            for r in self.conn.execute(
                "SELECT substr(opened_at, 1, 7), COUNT(*) FROM cases GROUP BY 1 ORDER BY 1"
            )
        }

    def close(
        self, case_id: int, closed_at: str, outcome: str, evidence: str, decided_by: str
    ) -> None:
        """Record the decision and its evidence bundle."""
        self.conn.execute(
            "UPDATE cases SET closed_at = ?, outcome = ?, evidence = ?, decided_by = ? WHERE id = ?",
            (closed_at, outcome, evidence, decided_by, case_id),
        )

    def answer(self, case_id: int, at: str, text: str) -> None:
        """Add the agent's answer."""
        self.conn.execute(
            "INSERT INTO case_answers(case_id, at, text) VALUES (?, ?, ?)", (case_id, at, text)
        )

    def answers(self, case_id: int) -> list[Answer]:
        """The agent's answers, oldest first."""
        return [
            Answer(r[0], r[1])
            for r in self.conn.execute(
                "SELECT at, text FROM case_answers WHERE case_id = ? ORDER BY id", (case_id,)
            )
        ]

    # --- holds ------------------------------------------------------------------------------------

    def hold(
        self, pseudonym: str, day_from: date, day_to: date, owner: str, expires: date, case_id: int
    ) -> None:
        """Put a hold on a pseudonym's records of a period."""
        self.conn.execute(
            "INSERT INTO holds(agent, day_from, day_to, owner, expires_on, case_id) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                pseudonym,
                day_from.isoformat(),
                day_to.isoformat(),
                owner,
                expires.isoformat(),
                case_id,
            ),
        )

    def set_hold_expiry(self, case_id: int, expires: date) -> None:
        """Move the expiry of a case's holds (the appeal period after the decision)."""
        self.conn.execute(
            "UPDATE holds SET expires_on = ? WHERE case_id = ?", (expires.isoformat(), case_id)
        )

    def holds(self, today: date | None = None) -> list[Hold]:
        """Every hold (only the unexpired ones when ``today`` is given)."""
        if today is None:
            rows = self.conn.execute("SELECT * FROM holds ORDER BY id")
        else:
            rows = self.conn.execute(
                "SELECT * FROM holds WHERE expires_on >= ? ORDER BY id", (today.isoformat(),)
            )
        return [row_to(Hold, r) for r in rows]

    def delete_expired_holds(self, today: date) -> int:
        """Remove holds past their expiry."""
        return int(
            self.conn.execute(
                "DELETE FROM holds WHERE expires_on < ?", (today.isoformat(),)
            ).rowcount
        )

    # --- retention --------------------------------------------------------------------------------

    def closed_before(self, at: str) -> list[Case]:
        """Cases closed before ``at`` (an ISO instant), oldest first."""
        return [
            row_to(Case, r)
            for r in self.conn.execute(
                "SELECT * FROM cases WHERE closed_at != '' AND closed_at < ? ORDER BY id", (at,)
            )
        ]

    def delete_cases(self, case_ids: list[int]) -> tuple[int, int, int]:
        """Delete closed cases with their evidence bundle, the agent's answers and their holds;
        (cases, evidence bundles, answers) removed. An open case is never deleted here."""
        if not case_ids:
            return 0, 0, 0
        marks = ",".join("?" * len(case_ids))
        evidence = int(
            self.conn.execute(
                f"SELECT COUNT(*) FROM cases WHERE id IN ({marks}) AND closed_at != '' "
                "AND evidence != ''",
                case_ids,
            ).fetchone()[0]
        )
        with transaction(self.conn):
            answers = self.conn.execute(
                f"DELETE FROM case_answers WHERE case_id IN ({marks}) AND case_id IN "
                "(SELECT id FROM cases WHERE closed_at != '')",
                case_ids,
            ).rowcount
            self.conn.execute(
                f"DELETE FROM holds WHERE case_id IN ({marks}) AND case_id IN "
                "(SELECT id FROM cases WHERE closed_at != '')",
                case_ids,
            )
            cases = self.conn.execute(
                f"DELETE FROM cases WHERE id IN ({marks}) AND closed_at != ''", case_ids
            ).rowcount
        return int(cases), evidence, int(answers)

    def open_cases(self) -> list[Case]:
        """Every case not closed yet."""
        return [
            row_to(Case, r)
            for r in self.conn.execute("SELECT * FROM cases WHERE closed_at = '' ORDER BY id")
        ]
