"""Need to know (rule E5) and the one gate every individual access goes through (E1, E4, H1, H2).

``individual_access`` is the only way to read one agent's data: it checks who asks and why, writes
the audit log entry, and counts towards the DPO's alerts. A refusal is audited too, and repeated
refusals, bulk views or an attempt to re-identify someone outside a case raise an alert (H2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from loyaute.errors import LoyauteError
from loyaute.i18n import tr
from loyaute.policy import gates as gates_mod

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

ROLES = ("operator", "dpo", "hr_reviewer", "manager", "agent", "staff_rep")

# Aggregate reports each role may read (E5). The operator runs ingestion and sees no activity data.
AGGREGATE_ROLES = {
    "presence": {"dpo", "hr_reviewer", "manager", "staff_rep"},
    "validity": {"dpo", "hr_reviewer", "staff_rep"},
}
TRACE_COLUMNS_DECLARATIVE = {"dpo", "staff_rep"}
"""In declarative mode (D2) only oversight roles see trace aggregates; managers and HR see
telework half-days and declarations."""

INDIVIDUAL_ACTIONS = {
    "case_view",
    "case_open",
    "case_close",
    "access_export",
    "records_view",
    "reidentify",
}


class AccessDenied(LoyauteError):
    """The caller may not see or do this; the refusal was audited."""


@dataclass(frozen=True)
class Grant:
    """What an allowed individual access may cover."""

    actor: str
    role: str
    agent_id: str
    reason: str
    case_id: int | None = None


def refuse(
    ws: Workspace, actor: str, role: str, action: str, agent_id: str, why: str
) -> AccessDenied:
    """Audit a refused access (H1), check the DPO's alerts (H2) and return the error to raise."""
    ws.audit.append(
        actor, role, "refused", agent_id=agent_id, reason=why, details={"attempted": action}
    )
    check_alerts(ws, actor)
    return AccessDenied(tr(f"accès refusé : {why}", f"access refused: {why}"))


def check_role(ws: Workspace, actor: str, role: str, report: str) -> None:
    """Refuse an aggregate report the role may not read (E5)."""
    if role not in ROLES:
        raise refuse(
            ws, actor, role, report, "", tr(f"rôle inconnu {role}", f"unknown role {role}")
        )
    if role not in AGGREGATE_ROLES[report]:
        raise refuse(
            ws,
            actor,
            role,
            report,
            "",
            tr(
                f"le rôle {role} n'a pas accès au rapport {report} (E5)",
                f"role {role} may not read the {report} report (E5)",
            ),
        )


def individual_access(
    ws: Workspace,
    actor: str,
    role: str,
    action: str,
    agent_id: str,
    reason: str,
    case_id: int | None = None,
    own_agent_id: str | None = None,
) -> Grant:
    """Check and audit one access to one agent's data; raise ``AccessDenied`` otherwise.

    * the agent themself may always see their own data (E6);
    * the DPO may export it to answer the right of access (G2);
    * anyone else only as the reviewer of an open case on that agent (E4), with every gate
      holding, the committee fingerprint included (E1, A4).
    """
    refusal = _refusal(ws, actor, role, action, agent_id, case_id, own_agent_id)
    if refusal is not None:
        raise refuse(ws, actor, role, action, agent_id, refusal)
    ws.audit.append(
        actor,
        role,
        action,
        agent_id=agent_id,
        reason=reason,
        details={"case": case_id} if case_id else {},
    )
    check_alerts(ws, actor)
    return Grant(actor, role, agent_id, reason, case_id)


def _refusal(
    ws: Workspace,
    actor: str,
    role: str,
    action: str,
    agent_id: str,
    case_id: int | None,
    own_agent_id: str | None,
) -> str | None:
    """Why this access is refused, or None when it is allowed."""
    if role == "agent":
        if own_agent_id != agent_id:
            return tr(
                "un agent ne voit que ses propres données (E6)",
                "an agent sees only their own data (E6)",
            )
        return None
    if role == "dpo" and action == "access_export":
        return None
    if case_id is None:
        ws.state.execute(
            "INSERT INTO alerts(at, kind, actor, detail) VALUES (?, 'reidentification_outside_case', ?, ?)",
            (ws.clock.now().isoformat(timespec="seconds"), actor, f"{role} {action}"),
        )
        return tr("hors dossier d'examen (E4)", "outside a review case (E4)")
    if role != "hr_reviewer":
        return tr(
            f"le rôle {role} ne consulte aucune donnée individuelle (E5)",
            f"the role {role} sees no individual data (E5)",
        )
    case = ws.state.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
    if case is None or case["agent_id"] != agent_id:
        return tr(
            f"dossier {case_id} inconnu pour cet agent", f"case {case_id} unknown for this agent"
        )
    if case["reviewer"] != actor:
        return tr(
            f"seul le relecteur du dossier {case_id} y a accès (E4)",
            f"only the reviewer of case {case_id} may see it (E4)",
        )
    if case["closed_at"] and action != "case_view":
        return tr(f"dossier {case_id} clos", f"case {case_id} is closed")
    gates = gates_mod.evaluate(ws.settings, ws.register)
    failing = [g for g in gates if g.id in ("A1", "A2", "A3", "A4", "A5") and not g.ok]
    if failing:
        return "; ".join(f"{g.id} {g.reason}" for g in failing)
    return None


def check_alerts(ws: Workspace, actor: str) -> None:
    """Raise DPO alerts for bulk individual views and repeated refusals in the last 24 hours."""
    since = (ws.clock.now() - timedelta(hours=24)).isoformat(timespec="seconds")
    rows = ws.audit.conn.execute(
        "SELECT action, COUNT(*) FROM audit WHERE actor = ? AND at >= ? GROUP BY action",
        (actor, since),
    ).fetchall()
    counts = {r[0]: r[1] for r in rows}
    views = sum(v for k, v in counts.items() if k in INDIVIDUAL_ACTIONS)
    refused = counts.get("refused", 0)
    settings = ws.settings.reports
    now = ws.clock.now().isoformat(timespec="seconds")
    for kind, value, limit in (
        ("bulk_views", views, settings.bulk_view_alert),
        ("repeated_refusals", refused, settings.refused_alert),
    ):
        if value >= limit:
            recent = ws.state.execute(
                "SELECT 1 FROM alerts WHERE kind = ? AND actor = ? AND at >= ?",
                (kind, actor, since),
            ).fetchone()
            if not recent:
                ws.state.execute(
                    "INSERT INTO alerts(at, kind, actor, detail) VALUES (?, ?, ?, ?)",
                    (now, kind, actor, f"{value} en 24 h / in 24 h"),
                )
