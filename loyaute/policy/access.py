"""The one door to individual data (rules E1, E4–E6, E9, H1, H2).

Every read or change of one agent's data — from the web or the command line — goes through
``access``: it checks the identity's role against the permission table (``policy/roles.py``), the
purpose (the agent's own rights, a right-of-access export, a review case, a monthly statement),
the open case and its reviewer, and the gates; it writes the audit record; and only then does it
hand out the data, as ``AgentData`` capabilities limited to what the grant covers. No other code
path reads individual rows: a test walks the package and fails if one does.

A refusal is audited too, and repeated refusals, bulk views or an attempt to re-identify
someone outside a case raise a DPO alert (H2). A failure while checking refuses: the door fails
closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from loyaute.errors import LoyauteError
from loyaute.i18n import tr
from loyaute.policy import gates as gates_mod
from loyaute.policy import scope as scope_mod
from loyaute.policy.agent_data import _DOOR, AgentData
from loyaute.policy.roles import INDIVIDUAL_ACTIONS, OWN_ACTIONS, Action, Identity, Role
from loyaute.store.cases import Case

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

WRITE_ACTIONS = frozenset(
    {
        Action.DECLARE,
        Action.ANNOTATE,
        Action.DISPUTE,
        Action.CASE_ANSWER,
        Action.OBJECT,
        Action.CASE_OPEN,
        Action.CASE_CLOSE,
        Action.DISPUTE_RESOLVE,
        Action.OBJECTION_DECIDE,
        Action.ACCESS_REQUEST,
        Action.STATEMENT_VALIDATE,
    }
)
"""Actions whose audit record is written with the change, in the same transaction
(``AgentData.write``); a read's record is written by the door before any row is handed out."""

CASE_ACTIONS = frozenset({Action.CASE_VIEW, Action.CASE_CLOSE, Action.RECORDS_VIEW})


class AccessDenied(LoyauteError):
    """The caller may not see or do this; the refusal was audited."""


def refuse(
    ws: Workspace, who: Identity, action: Action | str, agent_id: str, why: str
) -> AccessDenied:
    """Audit a refused access (H1), check the DPO's alerts (H2) and return the error to raise."""
    ws.audit.append(
        who.login,
        who.role.value,
        "refused",
        agent_id=agent_id,
        reason=why,
        details={"attempted": str(action)},
    )
    check_alerts(ws, who.login)
    return AccessDenied(tr(f"accès refusé : {why}", f"access refused: {why}"))


def access(
    ws: Workspace,
    who: Identity,
    action: Action,
    agent_ids: Sequence[str],
    *,
    case_id: int | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> list[AgentData]:
    """Check and audit an access to the data of ``agent_ids``; the data, or ``AccessDenied``.

    * the agent themself may always see and act on their own data (E6, rights never stop);
    * the DPO may export an agent's data to answer the right of access (G2), record access
      requests and decide objections, and resolves disputes as HR reviewers do (D4);
    * a manager sees the declarations of the agents they manage in a monthly statement (D2);
    * anyone else only as the reviewer of an open case on that agent (E4), with every gate
      holding, the committee fingerprint included (E1, A4).
    One audit record covers the whole access, naming every agent concerned."""
    if not agent_ids:
        raise ValueError("an access names at least one agent")
    subject = agent_ids[0] if len(agent_ids) == 1 else ""
    try:
        refusal, case = _check(ws, who, action, agent_ids, case_id)
        scope = scope_mod.load(ws, agent_ids)
    except AccessDenied:
        raise
    except Exception as exc:
        # A failure while checking is a refusal, never a grant (fail closed).
        raise refuse(
            ws, who, action, subject, tr("vérification impossible", "check failed")
        ) from exc
    if refusal is not None:
        if refusal.alert:
            ws.db.alerts.add(
                _now(ws), "reidentification_outside_case", who.login, f"{who.role} {action}"
            )
        raise refuse(ws, who, action, subject, refusal.why)
    period = None
    if case is not None and action in CASE_ACTIONS:
        period = (date.fromisoformat(case.day_from), date.fromisoformat(case.day_to))
    granted = []
    for agent_id in agent_ids:
        agent = ws.db.agents.get(agent_id)
        if agent is None:  # checked above; a directory import in between refuses
            raise refuse(ws, who, action, agent_id, tr("agent inconnu", "unknown agent"))
        granted.append(
            AgentData(ws, who, action, agent, scope, period=period, case=case, key=_DOOR)
        )
    if action not in WRITE_ACTIONS:
        audit_details = dict(details or {})
        if case is not None:
            audit_details["case"] = case.id
        ws.audit.append(
            who.login,
            who.role.value,
            action.value,
            agent_id=subject,
            reason=reason,
            details=audit_details,
            subjects=list(agent_ids) if len(agent_ids) > 1 else None,
        )
        check_alerts(ws, who.login)
    return granted


def individual(
    ws: Workspace,
    who: Identity,
    action: Action,
    agent_id: str,
    *,
    case_id: int | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AgentData:
    """``access`` for one agent."""
    (data,) = access(ws, who, action, [agent_id], case_id=case_id, reason=reason, details=details)
    return data


class _Refusal:
    def __init__(self, why: str, alert: bool = False) -> None:
        self.why = why
        self.alert = alert


def _check(
    ws: Workspace, who: Identity, action: Action, agent_ids: Sequence[str], case_id: int | None
) -> tuple[_Refusal | None, Case | None]:
    """Why this access is refused (None when allowed), and the case it is made in."""
    if not who.may(action):
        return (
            _Refusal(
                tr(
                    f"le rôle {who.role} ne peut pas faire « {action} » (E5)",
                    f"the role {who.role} may not do '{action}' (E5)",
                )
            ),
            None,
        )
    unknown = [a for a in agent_ids if ws.db.agents.get(a) is None]
    if unknown:
        return _Refusal(tr(f"agent inconnu : {unknown[0]}", f"unknown agent: {unknown[0]}")), None
    if action in OWN_ACTIONS:
        if any(a != who.agent_id for a in agent_ids) or not who.agent_id:
            return (
                _Refusal(
                    tr(
                        "un agent ne voit que ses propres données (E6)",
                        "an agent sees only their own data (E6)",
                    )
                ),
                None,
            )
        return None, None
    if action is Action.STATEMENT_VIEW or action is Action.STATEMENT_VALIDATE:
        managed = (
            {a.agent_id for a in ws.db.agents.of_manager(who.agent_id)} if who.agent_id else set()
        )
        if not set(agent_ids) <= managed:
            return (
                _Refusal(
                    tr(
                        "un responsable ne voit que les agents qu'il encadre (E5)",
                        "a manager sees only the agents they manage (E5)",
                    )
                ),
                None,
            )
        return None, None
    if action in (
        Action.ACCESS_EXPORT,
        Action.ACCESS_REQUEST,
        Action.OBJECTION_DECIDE,
        Action.DISPUTE_RESOLVE,
    ):
        return None, None  # rights and disputes: the role is enough (rights never stop)
    if action is Action.CASE_OPEN:
        return _gates_refusal(ws), None
    # the case actions: only the reviewer of a case on that agent (E4)
    if case_id is None:
        return _Refusal(
            tr("hors dossier d'examen (E4)", "outside a review case (E4)"), alert=True
        ), None
    case = ws.db.cases.get(case_id)
    if case is None or [case.agent_id] != list(agent_ids):
        return _Refusal(
            tr(
                f"dossier {case_id} inconnu pour cet agent",
                f"case {case_id} unknown for this agent",
            )
        ), None
    if case.reviewer != who.login:
        return _Refusal(
            tr(
                f"seul le relecteur du dossier {case_id} y a accès (E4)",
                f"only the reviewer of case {case_id} may see it (E4)",
            )
        ), case
    if not case.is_open and action is not Action.CASE_VIEW:
        return _Refusal(tr(f"dossier {case_id} clos", f"case {case_id} is closed")), case
    return _gates_refusal(ws), case


def _gates_refusal(ws: Workspace) -> _Refusal | None:
    failing = gates_mod.failing(gates_mod.evaluate(ws.settings, ws.register))
    if failing:
        return _Refusal("; ".join(f"{g.id} {g.reason}" for g in failing))
    return None


def _now(ws: Workspace) -> str:
    return ws.clock.now().isoformat(timespec="seconds")


def check_alerts(ws: Workspace, actor: str) -> None:
    """Raise DPO alerts for bulk individual views and repeated refusals in the last 24 hours."""
    since = (ws.clock.now() - timedelta(hours=24)).isoformat(timespec="seconds")
    counts = ws.audit.counts_since(actor, since)
    views = sum(v for k, v in counts.items() if k in INDIVIDUAL_ACTIONS)
    refused = counts.get("refused", 0)
    limits = ws.settings.reports
    for kind, value, limit in (
        ("bulk_views", views, limits.bulk_view_alert),
        ("repeated_refusals", refused, limits.refused_alert),
    ):
        if value >= limit and not ws.db.alerts.raised_since(kind, actor, since):
            ws.db.alerts.add(_now(ws), kind, actor, str(value))


def require_action(ws: Workspace, who: Identity, action: Action) -> None:
    """Refuse (audited) an action the permission table does not give the role (E5): the check
    of actions that read no individual data (aggregates, oversight pages)."""
    if not who.may(action):
        raise refuse(
            ws,
            who,
            action,
            "",
            tr(
                f"le rôle {who.role} ne peut pas faire « {action} » (E5)",
                f"the role {who.role} may not do '{action}' (E5)",
            ),
        )


SYSTEM = Identity("loyaute", Role.SYSTEM)
"""loyaute itself: automatic retention."""
