"""The agent's side and the rights: declarations (D2), annotations (D3), disputes (D4), objection
(G3), access requests and their clock (G1), managers' monthly statements (D2).

Each function acts as an authenticated identity through the one door (``policy/access.py``):
the door checks and audits; a change and its audit record commit together. A disputed half-day
is frozen — excluded from reports and review cases — until a named person resolves it; the
resolution and its reason are kept and shown to the agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from loyaute import labels
from loyaute.errors import InputError, UsageError
from loyaute.i18n import tr
from loyaute.policy.access import access, individual, require_action
from loyaute.policy.agent_data import AgentData
from loyaute.policy.roles import Action, Identity
from loyaute.policy.scope import month_end

if TYPE_CHECKING:
    from loyaute.store.individual import Objection
    from loyaute.workspace import Workspace

DECLARATION_KINDS = ("system", "phone", "home_visit", "meeting", "field", "other")
ACCESS_DEADLINE_DAYS = 30
ACCESS_WARNING_DAYS = 20
ACCESS_EXTENSION_DAYS = 61


def _own(ws: Workspace, who: Identity, action: Action, agent_id: str | None) -> AgentData:
    return individual(ws, who, action, agent_id or who.agent_id)


def _check_half_day(data: AgentData, day: date, half: str, telework_only: bool) -> None:
    if half not in ("AM", "PM"):
        raise UsageError(tr("demi-journée : AM ou PM", "half-day: AM or PM"))
    t0 = data.t0
    if t0 is None or day < t0:
        raise InputError(
            tr(
                f"{day} est antérieur au T0 de l'agent : rien n'est conservé",
                f"{day} is before the agent's T0: nothing is kept",
            )
        )
    if telework_only and data.kind_of(day, half) != "telework":
        raise InputError(
            tr(
                f"{day} {half} n'est pas une demi-journée de télétravail au planning",
                f"{day} {half} is not a scheduled telework half-day",
            )
        )


def declare(
    ws: Workspace,
    who: Identity,
    day: date,
    half: str,
    kind: str,
    note: str = "",
    agent_id: str | None = None,
) -> None:
    """D2: the agent declares how a telework half-day was worked."""
    if kind not in DECLARATION_KINDS:
        raise UsageError(
            tr(
                f"déclaration parmi {', '.join(DECLARATION_KINDS)}",
                f"declaration among {', '.join(DECLARATION_KINDS)}",
            )
        )
    data = _own(ws, who, Action.DECLARE, agent_id)
    _check_half_day(data, day, half, telework_only=True)
    details = {"day": day.isoformat(), "half": half, "kind": kind}
    with data.write(tr("déclaration de l'agent", "agent's declaration"), details):
        ws.db.individual.declare(data.agent_id, day, half, kind, note, data.now())


def annotate(
    ws: Workspace, who: Identity, day: date, half: str, text: str, agent_id: str | None = None
) -> None:
    """D3: the agent annotates a half-day; the annotation travels with the record everywhere."""
    if not text.strip():
        raise UsageError(tr("annotation vide", "empty annotation"))
    data = _own(ws, who, Action.ANNOTATE, agent_id)
    _check_half_day(data, day, half, telework_only=False)
    details = {"day": day.isoformat(), "half": half}
    with data.write(tr("annotation de l'agent", "agent's annotation"), details):
        ws.db.individual.annotate(data.agent_id, day, half, text.strip(), data.now())


def open_dispute(
    ws: Workspace, who: Identity, day: date, half: str, reason: str, agent_id: str | None = None
) -> int:
    """D4: the agent contests a record; it is frozen until a named person resolves it."""
    if not reason.strip():
        raise UsageError(tr("motif de contestation vide", "empty reason"))
    data = _own(ws, who, Action.DISPUTE, agent_id)
    _check_half_day(data, day, half, telework_only=False)
    if data.is_disputed(day, half):
        raise InputError(
            tr("cette demi-journée est déjà contestée", "this half-day is already disputed")
        )
    with data.write(reason.strip(), {"day": day.isoformat(), "half": half}) as details:
        number = ws.db.individual.open_dispute(data.agent_id, day, half, reason.strip(), data.now())
        details["dispute"] = number
    return number


def resolve_dispute(ws: Workspace, who: Identity, dispute_id: int, resolution: str) -> None:
    """D4: a named person (HR reviewer or DPO) resolves a dispute, with a reason kept and shown
    to the agent."""
    if not resolution.strip():
        raise UsageError(tr("motif de la résolution obligatoire", "a reason is required"))
    require_action(ws, who, Action.DISPUTE_RESOLVE)
    found = ws.db.individual.dispute(dispute_id)
    if found is None or found.resolved_at:
        raise InputError(
            tr(
                f"contestation {dispute_id} inconnue ou déjà résolue",
                f"dispute {dispute_id} unknown or already resolved",
            )
        )
    data = individual(ws, who, Action.DISPUTE_RESOLVE, found.agent_id)
    with data.write(resolution.strip(), {"dispute": dispute_id}):
        ws.db.individual.resolve_dispute(dispute_id, who.login, resolution.strip(), data.now())
        data.notify(
            "dispute_resolved",
            {
                "day": str(found.day),
                "half": found.half,
                "by": who.login,
                "resolution": resolution.strip(),
            },
        )


def object_to_processing(
    ws: Workspace, who: Identity, reason: str, agent_id: str | None = None
) -> int:
    """G3: processing of that agent stops (no ingest, no reports, no case) pending a decision."""
    if not reason.strip():
        raise UsageError(tr("motif de l'opposition vide", "empty reason"))
    data = _own(ws, who, Action.OBJECT, agent_id)
    with data.write(reason.strip()) as details:
        number = ws.db.individual.object(data.agent_id, reason.strip(), data.now())
        details["objection"] = number
    return number


DECISIONS = {
    "upheld": ("accueillie", "upheld"),
    "rejected": ("rejetée", "rejected"),
}


def decide_objection(
    ws: Workspace, who: Identity, objection_id: int, decision: str, reason: str
) -> None:
    """G3: the DPO's documented decision on an objection (``upheld`` stops processing for good)."""
    if decision not in DECISIONS:
        raise UsageError(tr("décision : upheld ou rejected", "decision: upheld or rejected"))
    if not reason.strip():
        raise UsageError(tr("la décision doit être motivée", "the decision must give its reasons"))
    require_action(ws, who, Action.OBJECTION_DECIDE)
    found = ws.db.individual.objection(objection_id)
    if found is None or found.decided_on:
        raise InputError(
            tr(
                f"opposition {objection_id} inconnue ou déjà tranchée",
                f"objection {objection_id} unknown or already decided",
            )
        )
    data = individual(ws, who, Action.OBJECTION_DECIDE, found.agent_id)
    with data.write(reason.strip(), {"decision": decision, "objection": objection_id}):
        ws.db.individual.decide_objection(objection_id, data.now(), decision, reason.strip())
        data.notify("objection_decided", {"decision": decision, "reason": reason.strip()})


def pending_objections(ws: Workspace, who: Identity) -> list[Objection]:
    """G3: the objections waiting for the DPO's decision, oldest first (addressed to the DPO:
    reading them is part of deciding them)."""
    require_action(ws, who, Action.OBJECTION_DECIDE)
    return ws.db.individual.pending_objections()


def record_access_request(ws: Workspace, who: Identity, agent_id: str, on: date) -> int:
    """G1: the DPO records an access request, with its one-month clock."""
    data = individual(ws, who, Action.ACCESS_REQUEST, agent_id)
    with data.write(tr("demande d'accès (art. 15)", "access request (art. 15)")) as details:
        number = ws.db.individual.request_access(agent_id, on)
        details["request"] = number
    return number


def extend_access_request(ws: Workspace, who: Identity, request_id: int, reason: str) -> None:
    """G1: the reasoned two-month extension (art. 12(3)), audited on the agent's record."""
    if not reason.strip():
        raise UsageError(
            tr("la prolongation doit être motivée", "the extension must give its reasons")
        )
    require_action(ws, who, Action.ACCESS_REQUEST)
    found = ws.db.individual.access_request(request_id)
    if found is None:
        raise InputError(tr(f"demande {request_id} inconnue", f"unknown request {request_id}"))
    data = individual(ws, who, Action.ACCESS_REQUEST, found.agent_id)
    with data.write(reason.strip(), {"request": request_id, "extended": True}):
        ws.db.individual.extend_access_request(request_id, reason.strip())


@dataclass(frozen=True)
class RequestClock:
    """Where an access request stands."""

    id: int
    agent_id: str
    requested_on: str
    due_on: str
    status: str  # answered, open, warning, extended, overdue


def access_request_clocks(ws: Workspace, who: Identity) -> list[RequestClock]:
    """Every access request with its deadline and state (warning at day 20, due at day 30)."""
    require_action(ws, who, Action.ACCESS_REQUEST)
    today = ws.today()
    out = []
    for r in ws.db.individual.access_requests():
        requested = date.fromisoformat(r.requested_on)
        due = requested + timedelta(
            days=ACCESS_DEADLINE_DAYS + (ACCESS_EXTENSION_DAYS if r.extended_reason else 0)
        )
        if r.answered_on:
            status = "answered"
        elif today > due:
            status = "overdue"
        elif r.extended_reason:
            status = "extended"
        elif (today - requested).days >= ACCESS_WARNING_DAYS:
            status = "warning"
        else:
            status = "open"
        out.append(RequestClock(r.id, r.agent_id, r.requested_on, due.isoformat(), status))
    return out


# --- monthly statements (D2) ------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    """One agent's line of a monthly statement: declarations, never traces."""

    agent_id: str
    display_name: str
    telework_half_days: int
    declared: int


@dataclass(frozen=True)
class Statement:
    """A manager's monthly statement of declarations."""

    month: str
    lines: list[StatementLine]
    validated_at: str
    closed: bool
    """Only a closed month can be validated."""


def _month(text: str, today: date) -> tuple[date, date]:
    try:
        first = date.fromisoformat(text + "-01")
    except ValueError as exc:
        raise UsageError(tr("mois AAAA-MM", "month YYYY-MM")) from exc
    if first > today:
        raise InputError(
            tr(
                f"{text} n'a pas commencé : aucun relevé à afficher",
                f"{text} has not started: there is no statement yet",
            )
        )
    return first, month_end(first)


def show_statement(ws: Workspace, who: Identity, month: str) -> Statement:
    """D2: the statement of a month for the agents a manager manages — telework half-days and
    declarations, never traces. One audit record per statement, naming every agent shown."""
    first, last = _month(month, ws.today())
    managed = [a.agent_id for a in ws.db.agents.of_manager(who.agent_id)] if who.agent_id else []
    if not managed:
        require_action(ws, who, Action.STATEMENT_VIEW)
        return Statement(month, [], "", last < ws.today())
    granted = access(
        ws,
        who,
        Action.STATEMENT_VIEW,
        managed,
        reason=tr(
            f"relevé mensuel de {labels.month(month)}",
            f"monthly statement of {labels.month(month)}",
        ),
        details={"month": month},
    )
    lines = []
    for data in granted:
        rows = data.records(first, last)
        lines.append(
            StatementLine(
                data.agent_id,
                data.agent.display_name,
                len(rows),
                sum(1 for r in rows if r.declaration),
            )
        )
    validated = ws.db.individual.statement_validated_at(who.agent_id, month)
    return Statement(month, lines, validated, last < ws.today())


def validate_statement(ws: Workspace, who: Identity, month: str) -> str:
    """D2: the manager validates a closed month's statement (never the current or a future
    month); returns when it was validated."""
    first, last = _month(month, ws.today())
    if last >= ws.today():
        raise InputError(
            tr(
                f"le mois {month} n'est pas terminé : il sera validable à partir du "
                f"{last + timedelta(days=1)}",
                f"{month} is not over: it can be validated from {last + timedelta(days=1)}",
            )
        )
    require_action(ws, who, Action.STATEMENT_VALIDATE)
    managed = [a.agent_id for a in ws.db.agents.of_manager(who.agent_id)] if who.agent_id else []
    if not managed:
        raise InputError(
            tr("aucun agent ne vous est rattaché", "no agent reports to you"),
        )
    granted = access(ws, who, Action.STATEMENT_VALIDATE, managed)
    now = granted[0].now()
    with ws.db.transaction():
        ws.db.individual.validate_statement(who.agent_id, month, now)
        ws.audit.append(
            who.login,
            who.role.value,
            Action.STATEMENT_VALIDATE.value,
            reason=tr(f"validation du relevé {month}", f"statement {month} validated"),
            details={"month": month, "from": first.isoformat()},
            subjects=managed,
        )
    return now
