"""One agent's data, as one grant of the door (``policy/access.py``) allows it.

``AgentData`` is a capability: only ``access.access`` creates one, after checking who asks, for
what, in which case and under which gates, and after writing the audit record. Every read it
offers stays inside what the grant covers (the case's period for a reviewer; telework half-days
only, never the validity study's on-site half-days, except for the agent themself — E8), and
every write it performs is audited in the same transaction.

The rows an agent sees of themself are exactly the rows a reviewer of a case on them would see
for the case's period (E6); nothing before the agent's T0 is ever shown (I1).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from loyaute.policy.roles import Action, Identity, Role
from loyaute.policy.scope import Scope
from loyaute.store.audit import Entry
from loyaute.store.cases import Answer, Case
from loyaute.store.directory import Agent
from loyaute.store.individual import Annotation, Declaration, Dispute, Notification, Objection
from loyaute.store.query import rows_of

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

STATUSES = ("trace", "no_trace", "disputed", "out_of_scope")
RECORD_COLUMNS = (
    "date",
    "half_day",
    "scheduled",
    "status",
    "categories",
    "declaration",
    "annotation",
)

_DOOR = object()
"""The key only ``policy/access.py`` holds: no other code can create an ``AgentData``."""


@dataclass(frozen=True)
class RecordRow:
    """One half-day as the agent (and any reviewer of a case on them) sees it."""

    date: str
    half_day: str
    scheduled: str
    status: str
    categories: str
    declaration: str = ""
    annotation: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The row as a mapping, in the contract's column order."""
        return asdict(self)


class AgentData:
    """What one grant allows on one agent's data."""

    def __init__(
        self,
        ws: Workspace,
        who: Identity,
        action: Action,
        agent: Agent,
        scope: Scope,
        *,
        period: tuple[date, date] | None = None,
        case: Case | None = None,
        key: object = None,
    ) -> None:
        if key is not _DOOR:
            raise TypeError("AgentData is granted only by policy.access (E9)")
        self._ws = ws
        self.who = who
        self.action = action
        self.agent = agent
        self.case = case
        self._scope = scope
        self._period = period

    # --- what the grant covers --------------------------------------------------------------------

    @property
    def agent_id(self) -> str:
        """The agent this grant is about."""
        return self.agent.agent_id

    @property
    def own(self) -> bool:
        """True when the agent reads or changes their own data."""
        return self.who.role is Role.AGENT and self.who.agent_id == self.agent.agent_id

    @property
    def t0(self) -> date | None:
        """The agent's T0 (A5)."""
        facts = self._scope.of(self.agent.agent_id)
        return facts.t0 if facts else None

    @property
    def pseudonym(self) -> str:
        """The agent's keyed pseudonym."""
        return self._ws.pseudonymizer.pseudonym(self.agent.agent_id)

    def _bounds(self, lo: date | None, hi: date | None) -> tuple[date, date] | None:
        t0 = self.t0
        if t0 is None:
            return None
        start, end = t0, self._scope.today
        if self._period is not None:
            start, end = max(start, self._period[0]), min(end, self._period[1])
        if lo is not None:
            start = max(start, lo)
        if hi is not None:
            end = min(end, hi)
        return (start, end) if start <= end else None

    def _in_period(self, day: str) -> bool:
        if self._period is None:
            return True
        return self._period[0].isoformat() <= day <= self._period[1].isoformat()

    # --- reads ------------------------------------------------------------------------------------

    def records(self, lo: date | None = None, hi: date | None = None) -> list[RecordRow]:
        """Telework half-days kept about the agent, oldest first (the check's records only:
        the validity study's on-site half-days never appear here, E8)."""
        bounds = self._bounds(lo, hi)
        facts = self._scope.of(self.agent.agent_id)
        if bounds is None or facts is None:
            return []
        ws, db = self._ws, self._ws.db
        pseudonym = self.pseudonym
        stored = rows_of(ws.activity, "records", pseudonym)
        declarations = {(d.day, d.half): _declaration_text(d) for d in self.declarations()}
        annotations = {(a.day, a.half): a.text for a in self.annotations()}
        disputed = {
            (d.day, d.half) for d in db.individual.disputes_of(self.agent_id) if not d.resolved_at
        }
        rows: list[RecordRow] = []
        for day_text, half, kind in db.schedule.of_agent(self.agent_id, *bounds):
            if kind != "telework":
                continue
            if not self._scope.kept(pseudonym, date.fromisoformat(day_text)):
                continue  # past retention and not held: nothing is kept any more (F2, F4)
            key = (day_text, half)
            record = stored.get(key)
            if not facts.eligible:
                status, cats = "out_of_scope", ""
            elif key in disputed:
                status, cats = "disputed", record[1] if record else ""  # D4: frozen
            elif record is not None:
                status, cats = "trace", record[1]
            else:
                status, cats = "no_trace", ""
            rows.append(
                RecordRow(
                    day_text,
                    half,
                    "telework",
                    status,
                    cats,
                    declarations.get(key, ""),
                    annotations.get(key, ""),
                )
            )
        return rows

    def study(self) -> list[RecordRow]:
        """On-site half-days the validity study holds about the agent until their week is
        published — shown to the agent themself only, never to anyone else (E8)."""
        if not self.own and self.who.role is not Role.DPO:
            return []
        bounds = self._bounds(None, None)
        if bounds is None:
            return []
        stored = rows_of(self._ws.activity, "study", self.pseudonym)
        lo, hi = (d.isoformat() for d in bounds)
        return [
            RecordRow(day, half, "on_site", "trace", cats)
            for (day, half), (_, cats) in sorted(stored.items())
            if lo <= day <= hi
        ]

    def kind_of(self, day: date, half: str) -> str | None:
        """The schedule kind of one of the agent's half-days (None: not in the schedule)."""
        return self._ws.db.schedule.kind_of(self.agent_id, day, half)

    def is_disputed(self, day: date, half: str) -> bool:
        """True when the half-day is under an unresolved dispute."""
        return self._ws.db.individual.is_disputed(self.agent_id, day, half)

    def declarations(self) -> list[Declaration]:
        """The agent's declarations (within the grant's period)."""
        return [
            d
            for d in self._ws.db.individual.declarations_of(self.agent_id)
            if self._in_period(d.day)
        ]

    def annotations(self) -> list[Annotation]:
        """The agent's annotations (within the grant's period)."""
        return [
            a
            for a in self._ws.db.individual.annotations_of(self.agent_id)
            if self._in_period(a.day)
        ]

    def disputes(self) -> list[Dispute]:
        """The agent's disputes (within the grant's period)."""
        return [
            d for d in self._ws.db.individual.disputes_of(self.agent_id) if self._in_period(d.day)
        ]

    def notifications(self) -> list[Notification]:
        """Messages left for the agent."""
        return self._ws.db.individual.notifications_of(self.agent_id)

    def objections(self) -> list[Objection]:
        """The agent's objections and their decisions."""
        return self._ws.db.individual.objections_of(self.agent_id)

    def cases(self) -> list[Case]:
        """Cases about the agent."""
        return self._ws.db.cases.of_agent(self.agent_id)

    def answers(self, case_id: int) -> list[Answer]:
        """The agent's answers to one of their cases."""
        case = self._ws.db.cases.get(case_id)
        if case is None or case.agent_id != self.agent_id:
            return []
        return self._ws.db.cases.answers(case_id)

    def viewers(self) -> list[Entry]:
        """Every audit entry about the agent: who looked, when, in what role, why (E6)."""
        return list(self._ws.audit.entries(self.agent_id))

    def side(self) -> dict[str, list[dict[str, Any]]]:
        """Declarations, annotations, disputes, notifications, cases and objections, as data."""
        return {
            "declarations": [asdict(d) for d in self.declarations()],
            "annotations": [asdict(a) for a in self.annotations()],
            "disputes": [
                {k: v for k, v in asdict(d).items() if k != "agent_id"} for d in self.disputes()
            ],
            "notifications": [asdict(n) for n in self.notifications()],
            "cases": [
                {
                    **{
                        k: getattr(c, k)
                        for k in (
                            "id",
                            "reviewer",
                            "reason",
                            "day_from",
                            "day_to",
                            "opened_at",
                            "answer_due",
                            "closed_at",
                            "outcome",
                        )
                    },
                    "answers": [asdict(a) for a in self.answers(c.id)],
                }
                for c in self.cases()
            ],
            "objections": [
                {k: v for k, v in asdict(o).items() if k != "agent_id"} for o in self.objections()
            ],
        }

    # --- writes -----------------------------------------------------------------------------------

    @contextmanager
    def write(self, reason: str, details: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Change the agent's data: the change and its audit record commit together. The
        block may add to the record's details (a new case's number, say)."""
        recorded = dict(details or {})
        with self._ws.db.transaction():
            yield recorded
            self._ws.audit.append(
                self.who.login,
                self.who.role.value,
                self.action.value,
                agent_id=self.agent_id,
                reason=reason,
                details=recorded,
            )

    def answer_access_requests(self) -> None:
        """The export answers the agent's open access requests (G1)."""
        self._ws.db.individual.answer_access_requests(self.agent_id, self._scope.today)

    def notify(self, kind: str, facts: dict[str, str | int]) -> None:
        """Leave the agent a message (inside ``write``, with the change it tells of). What it
        says is kept as its facts (JSON) and worded when it is shown, in the reader's language
        (``labels.notification``): the agent may read it in another language than the person
        whose act it tells of."""
        text = json.dumps(facts, ensure_ascii=False, sort_keys=True)
        self._ws.db.individual.notify(self.agent_id, self.now(), kind, text)

    def now(self) -> str:
        """The current instant, as stored."""
        return self._ws.clock.now().isoformat(timespec="seconds")


def _declaration_text(d: Declaration) -> str:
    return d.kind + (f" ({d.note})" if d.note else "")
