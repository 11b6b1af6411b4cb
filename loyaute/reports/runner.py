"""One runner for every aggregate output: it checks the gates and the reader's role, applies
retention and disclosure control, masks what the role may not see, and writes the audit log.
A new report cannot skip any of these: it is added here or it does not exist.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from loyaute.errors import UsageError
from loyaute.i18n import tr
from loyaute.policy import gates as gates_mod
from loyaute.policy.access import require_action
from loyaute.policy.retention import purge
from loyaute.policy.roles import Action, Identity, Role
from loyaute.reports.disclosure_audit import AuditReport, disclosure_audit
from loyaute.reports.presence import TRACE_COLUMNS, PresenceReport, presence
from loyaute.reports.validity import ValidityReport, validity

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

NO_PROOF = (
    "L'absence de trace numérique ne démontre pas une absence de travail.",
    "A missing digital trace does not establish that no work was done.",
)


def _prepare(ws: Workspace, who: Identity, action: Action) -> None:
    gates = gates_mod.evaluate(ws.settings, ws.register)
    gates_mod.require(gates, ("A1", "A2", "A3"), tr("rapport", "report"))
    purge(ws, wait=False)
    require_action(ws, who, action)


def managed_services(ws: Workspace, who: Identity) -> set[str]:
    """Services of the agents a manager manages (E5: a manager's own service)."""
    return ws.db.agents.services_of_manager(who.agent_id) if who.agent_id else set()


def run_presence(
    ws: Workspace,
    who: Identity,
    by: str = "service",
    period: str | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
) -> PresenceReport:
    """``report presence`` for a reader in a role."""
    _prepare(ws, who, Action.REPORT_PRESENCE)
    groups = None
    if who.role is Role.MANAGER:
        if by != "service":
            raise UsageError(
                tr(
                    "un responsable voit les agrégats de son service (--by service)",
                    "a manager sees their own service's aggregates (--by service)",
                )
            )
        groups = managed_services(ws, who)
    report = presence(ws, by=by, period=period, day_from=day_from, day_to=day_to, groups=groups)
    if ws.register.purpose.mode == "declarative" and not who.may(Action.REPORT_TRACES):
        for row in report.rows:
            for column in TRACE_COLUMNS:
                row[column] = ""
        report.parameters["traces"] = tr(
            "masquées (mode déclaratif, D2)", "hidden (declarative mode, D2)"
        )
    report.parameters["statement"] = tr(*NO_PROOF)
    ws.audit.append(
        who.login,
        who.role.value,
        Action.REPORT_PRESENCE.value,
        reason=tr("rapport agrégé", "aggregate report"),
        details={k: str(v) for k, v in report.parameters.items() if k != "statement"},
    )
    return report


def run_validity(
    ws: Workspace, who: Identity, day_from: date | None = None, day_to: date | None = None
) -> ValidityReport:
    """``report validity`` for a reader in a role."""
    _prepare(ws, who, Action.REPORT_VALIDITY)
    report = validity(ws, day_from, day_to)
    report.parameters["statement"] = tr(*NO_PROOF)
    ws.audit.append(
        who.login,
        who.role.value,
        Action.REPORT_VALIDITY.value,
        reason=tr("étude de validité", "validity study"),
        details={k: str(v) for k, v in report.parameters.items() if k != "statement"},
    )
    return report


def run_audit(ws: Workspace, who: Identity) -> AuditReport:
    """``report audit`` (E7): the protection reached by what was published, for the DPO and
    the staff representatives."""
    _prepare(ws, who, Action.REPORT_AUDIT)
    report = disclosure_audit(ws)
    ws.audit.append(
        who.login,
        who.role.value,
        Action.REPORT_AUDIT.value,
        reason=tr("audit de la protection des agrégats", "aggregate protection audit"),
        details={k: str(v) for k, v in report.parameters.items() if k in AUDIT_LOGGED},
    )
    return report


AUDIT_LOGGED = ("k_min", "protection_half_days", "narrowest_overall", "weeks_to_review")
