"""What each agent says and asks: declarations (D2), annotations (D3), disputes (D4), objections
(G3), access requests (G1), notifications, and managers' monthly statements.

Reading one agent's rows is an individual access: outside ``loyaute/store/``, only the policy
core's one door (``policy/access.py``) uses the per-agent methods here; bulk methods serve
aggregates, retention and ingestion (a test walks the package and checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from loyaute.store.state import Repo, row_to, transaction

Key = tuple[str, str, str]
"""(agent id, ISO day, half)."""

PER_AGENT_TABLES = ("declarations", "annotations", "disputes")


@dataclass(frozen=True)
class Declaration:
    """How the agent says a telework half-day was worked (D2)."""

    day: str
    half: str
    kind: str
    note: str
    at: str


@dataclass(frozen=True)
class Annotation:
    """The agent's note on a half-day (D3)."""

    day: str
    half: str
    text: str
    at: str


@dataclass(frozen=True)
class Dispute:
    """A contested half-day (D4): frozen until a named person resolves it."""

    id: int
    agent_id: str
    day: str
    half: str
    reason: str
    opened_at: str
    resolved_by: str
    resolution: str
    resolved_at: str


@dataclass(frozen=True)
class Notification:
    """A message the agent sees in their portal and export."""

    at: str
    kind: str
    text: str


@dataclass(frozen=True)
class Objection:
    """An objection (G3) and its decision."""

    id: int
    agent_id: str
    reason: str
    since: str
    decided_on: str
    decision: str
    decision_reason: str


@dataclass(frozen=True)
class AccessRequest:
    """A right-of-access request (G1)."""

    id: int
    agent_id: str
    requested_on: str
    extended_reason: str
    answered_on: str


class IndividualRepo(Repo):
    """Per-agent records of the agent's side."""

    # --- declarations -----------------------------------------------------------------------------

    def declare(self, agent_id: str, day: date, half: str, kind: str, note: str, at: str) -> None:
        """Insert or replace the declaration of one half-day."""
        self.conn.execute(
            "INSERT INTO declarations(agent_id, day, half, kind, note, at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(agent_id, day, half) DO UPDATE SET kind = excluded.kind, "
            "note = excluded.note, at = excluded.at",
            (agent_id, day.isoformat(), half, kind, note, at),
        )

    def add_declarations(self, rows: list[tuple[str, str, str, str, str, str]]) -> None:
        """Bulk insert (agent, day, half, kind, note, at), keeping existing ones (the demo)."""
        with transaction(self.conn):
            self.conn.executemany(
                "INSERT OR IGNORE INTO declarations(agent_id, day, half, kind, note, at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def declarations_of(self, agent_id: str) -> list[Declaration]:
        """One agent's declarations, oldest first."""
        return [
            Declaration(r["day"], r["half"], r["kind"], r["note"], r["at"])
            for r in self.conn.execute(
                "SELECT * FROM declarations WHERE agent_id = ? ORDER BY day, half", (agent_id,)
            )
        ]

    def declared(self) -> set[Key]:
        """Every declared half-day (aggregates count them)."""
        return {
            (r[0], r[1], r[2])
            for r in self.conn.execute("SELECT agent_id, day, half FROM declarations")
        }

    def declared_count(self, agent_id: str, lo: date, hi: date) -> int:
        """How many half-days one agent declared in [lo, hi]."""
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM declarations WHERE agent_id = ? AND day BETWEEN ? AND ?",
                (agent_id, lo.isoformat(), hi.isoformat()),
            ).fetchone()[0]
        )

    # --- annotations ------------------------------------------------------------------------------

    def annotate(self, agent_id: str, day: date, half: str, text: str, at: str) -> None:
        """Insert or replace the annotation of one half-day."""
        self.conn.execute(
            "INSERT INTO annotations(agent_id, day, half, text, at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(agent_id, day, half) DO UPDATE SET text = excluded.text, at = excluded.at",
            (agent_id, day.isoformat(), half, text, at),
        )

    def annotations_of(self, agent_id: str) -> list[Annotation]:
        """One agent's annotations, oldest first."""
        return [
            Annotation(r["day"], r["half"], r["text"], r["at"])
            for r in self.conn.execute(
                "SELECT * FROM annotations WHERE agent_id = ? ORDER BY day, half", (agent_id,)
            )
        ]

    # --- disputes ---------------------------------------------------------------------------------

    def open_dispute(self, agent_id: str, day: date, half: str, reason: str, at: str) -> int:
        """A new dispute; its number."""
        cur = self.conn.execute(
            "INSERT INTO disputes(agent_id, day, half, reason, opened_at) VALUES (?, ?, ?, ?, ?)",
            (agent_id, day.isoformat(), half, reason, at),
        )
        return int(cur.lastrowid or 0)

    def dispute(self, dispute_id: int) -> Dispute | None:
        """One dispute, or None."""
        row = self.conn.execute("SELECT * FROM disputes WHERE id = ?", (dispute_id,)).fetchone()
        return None if row is None else row_to(Dispute, row)

    def is_disputed(self, agent_id: str, day: date, half: str) -> bool:
        """True when the half-day is under an unresolved dispute."""
        return (
            self.conn.execute(
                "SELECT 1 FROM disputes WHERE agent_id = ? AND day = ? AND half = ? "
                "AND resolved_at = ''",
                (agent_id, day.isoformat(), half),
            ).fetchone()
            is not None
        )

    def resolve_dispute(self, dispute_id: int, by: str, resolution: str, at: str) -> None:
        """Record who resolved a dispute, how and when."""
        self.conn.execute(
            "UPDATE disputes SET resolved_by = ?, resolution = ?, resolved_at = ? WHERE id = ?",
            (by, resolution, at, dispute_id),
        )

    def disputes_of(self, agent_id: str) -> list[Dispute]:
        """One agent's disputes, oldest first."""
        return [
            row_to(Dispute, r)
            for r in self.conn.execute(
                "SELECT * FROM disputes WHERE agent_id = ? ORDER BY id", (agent_id,)
            )
        ]

    def open_disputes(self) -> set[Key]:
        """Every half-day under an unresolved dispute (frozen, excluded from reports)."""
        return {
            (r[0], r[1], r[2])
            for r in self.conn.execute(
                "SELECT agent_id, day, half FROM disputes WHERE resolved_at = ''"
            )
        }

    def unresolved_disputes(self) -> list[Dispute]:
        """Disputes waiting for a person (HR, DPO)."""
        return [
            row_to(Dispute, r)
            for r in self.conn.execute("SELECT * FROM disputes WHERE resolved_at = '' ORDER BY id")
        ]

    # --- notifications ----------------------------------------------------------------------------

    def notify(self, agent_id: str, at: str, kind: str, text: str) -> None:
        """Leave a message for the agent."""
        self.conn.execute(
            "INSERT INTO notifications(agent_id, at, kind, text) VALUES (?, ?, ?, ?)",
            (agent_id, at, kind, text),
        )

    def notifications_of(self, agent_id: str) -> list[Notification]:
        """One agent's messages, oldest first."""
        return [
            Notification(r["at"], r["kind"], r["text"])
            for r in self.conn.execute(
                "SELECT at, kind, text FROM notifications WHERE agent_id = ? ORDER BY id",
                (agent_id,),
            )
        ]

    # --- objections -------------------------------------------------------------------------------

    def object(self, agent_id: str, reason: str, at: str) -> int:
        """A new objection; its number."""
        cur = self.conn.execute(
            "INSERT INTO objections(agent_id, reason, since) VALUES (?, ?, ?)",
            (agent_id, reason, at),
        )
        return int(cur.lastrowid or 0)

    def objection(self, objection_id: int) -> Objection | None:
        """One objection, or None."""
        row = self.conn.execute("SELECT * FROM objections WHERE id = ?", (objection_id,)).fetchone()
        return None if row is None else row_to(Objection, row)

    def decide_objection(self, objection_id: int, at: str, decision: str, reason: str) -> None:
        """Record the decision on an objection."""
        self.conn.execute(
            "UPDATE objections SET decided_on = ?, decision = ?, decision_reason = ? WHERE id = ?",
            (at, decision, reason, objection_id),
        )

    def objections_of(self, agent_id: str) -> list[Objection]:
        """One agent's objections, oldest first."""
        return [
            row_to(Objection, r)
            for r in self.conn.execute(
                "SELECT * FROM objections WHERE agent_id = ? ORDER BY id", (agent_id,)
            )
        ]

    def pending_objections(self) -> list[Objection]:
        """Objections waiting for a decision (the DPO's page)."""
        return [
            row_to(Objection, r)
            for r in self.conn.execute("SELECT * FROM objections WHERE decided_on = '' ORDER BY id")
        ]

    def objecting(self) -> set[str]:
        """Agents whose objection (G3) stops their processing: pending a decision, or upheld
        (then for good). A rejected objection lets processing resume."""
        return {
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT agent_id FROM objections WHERE decided_on = '' OR decision = 'upheld'"
            )
        }

    # --- access requests --------------------------------------------------------------------------

    def request_access(self, agent_id: str, on: date) -> int:
        """A new access request; its number."""
        cur = self.conn.execute(
            "INSERT INTO access_requests(agent_id, requested_on) VALUES (?, ?)",
            (agent_id, on.isoformat()),
        )
        return int(cur.lastrowid or 0)

    def access_request(self, request_id: int) -> AccessRequest | None:
        """One request, or None."""
        row = self.conn.execute(
            "SELECT * FROM access_requests WHERE id = ?", (request_id,)
        ).fetchone()
        return None if row is None else row_to(AccessRequest, row)

    def extend_access_request(self, request_id: int, reason: str) -> None:
        """The reasoned two-month extension."""
        self.conn.execute(
            "UPDATE access_requests SET extended_reason = ? WHERE id = ?", (reason, request_id)
        )

    def answer_access_requests(self, agent_id: str, on: date) -> None:
        """Mark the agent's open requests answered."""
        self.conn.execute(
            "UPDATE access_requests SET answered_on = ? WHERE agent_id = ? AND answered_on = ''",
            (on.isoformat(), agent_id),
        )

    def access_requests(self) -> list[AccessRequest]:
        """Every request, oldest first."""
        return [
            row_to(AccessRequest, r)
            for r in self.conn.execute("SELECT * FROM access_requests ORDER BY id")
        ]

    # --- statements -------------------------------------------------------------------------------

    def statement_validated_at(self, manager_id: str, month: str) -> str:
        """When a manager validated a month's statement ('' if not)."""
        row = self.conn.execute(
            "SELECT validated_at FROM statements WHERE manager_id = ? AND month = ?",
            (manager_id, month),
        ).fetchone()
        return "" if row is None else str(row[0])

    def validate_statement(self, manager_id: str, month: str, at: str) -> None:
        """Record the validation of a month's statement."""
        self.conn.execute(
            "INSERT INTO statements(manager_id, month, validated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(manager_id, month) DO UPDATE SET validated_at = excluded.validated_at",
            (manager_id, month, at),
        )

    # --- retention --------------------------------------------------------------------------------

    def rows_before(self, table: str, day: date) -> list[tuple[int, str, str]]:
        """(rowid, agent, day) of a per-agent table's rows dated before ``day``."""
        if table not in PER_AGENT_TABLES:
            raise ValueError(table)
        return [
            (r[0], r[1], r[2])
            for r in self.conn.execute(
                f"SELECT rowid, agent_id, day FROM {table} WHERE day < ?", (day.isoformat(),)
            )
        ]

    def delete_rows(self, table: str, rowids: list[int]) -> int:
        """Delete rows of a per-agent table by rowid."""
        if table not in PER_AGENT_TABLES:
            raise ValueError(table)
        self.conn.executemany(f"DELETE FROM {table} WHERE rowid = ?", [(i,) for i in rowids])
        return len(rowids)

    def notifications_before(self, at: str) -> list[tuple[int, str]]:
        """(id, agent) of messages left before ``at``."""
        return [
            (int(r[0]), str(r[1]))
            for r in self.conn.execute("SELECT id, agent_id FROM notifications WHERE at < ?", (at,))
        ]

    def delete_notifications(self, ids: list[int]) -> int:
        """Delete messages by id."""
        self.conn.executemany("DELETE FROM notifications WHERE id = ?", [(i,) for i in ids])
        return len(ids)

    def decided_objections(self) -> list[Objection]:
        """Objections with a decision, oldest first."""
        return [
            row_to(Objection, r)
            for r in self.conn.execute(
                "SELECT * FROM objections WHERE decided_on != '' ORDER BY id"
            )
        ]

    def delete_objections(self, ids: list[int]) -> int:
        """Delete decided objections by id (a pending one is never deleted here)."""
        self.conn.executemany(
            "DELETE FROM objections WHERE id = ? AND decided_on != ''", [(i,) for i in ids]
        )
        return len(ids)

    def answered_requests_before(self, day: date) -> list[tuple[int, str]]:
        """(id, agent) of access requests answered before ``day``."""
        return [
            (int(r[0]), str(r[1]))
            for r in self.conn.execute(
                "SELECT id, agent_id FROM access_requests WHERE answered_on != '' "
                "AND answered_on < ?",
                (day.isoformat(),),
            )
        ]

    def delete_access_requests(self, ids: list[int]) -> int:
        """Delete answered access requests by id (an unanswered one is never deleted here)."""
        self.conn.executemany(
            "DELETE FROM access_requests WHERE id = ? AND answered_on != ''", [(i,) for i in ids]
        )
        return len(ids)

    def delete_statements_before(self, month: str) -> int:
        """Forget validations of statements of months before ``month`` (YYYY-MM)."""
        return int(self.conn.execute("DELETE FROM statements WHERE month < ?", (month,)).rowcount)
