"""Oversight: the audit log read by the DPO (itself audited), its verification, the staff
representatives' statistics, the DPO's alerts and the operator's ingest health (E5, H1, H2).

Reading the audit log is reading who looked at whom: only the DPO does, and every read is written
to the log. Statistics count individual accesses by month and role, never naming anyone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from loyaute.i18n import tr
from loyaute.policy.access import require_action
from loyaute.policy.roles import INDIVIDUAL_ACTIONS, Action, Identity
from loyaute.store.audit import Entry, Verification
from loyaute.store.cases import Hold
from loyaute.store.collector import CollectorStatus
from loyaute.store.operations import Alert, IngestProblem, ManifestEntry

if TYPE_CHECKING:
    from loyaute.workspace import Workspace


def read_audit(
    ws: Workspace, who: Identity, agent_id: str | None = None, limit: int | None = None
) -> list[Entry]:
    """The audit log (or the entries about one agent), oldest first; the read is audited."""
    require_action(ws, who, Action.AUDIT_READ)
    entries = list(ws.audit.entries(agent_id))
    if limit is not None:
        entries = entries[-limit:]
    ws.audit.append(
        who.login,
        who.role.value,
        Action.AUDIT_READ.value,
        agent_id=agent_id or "",
        reason=tr("lecture du journal des accès", "access log read"),
        details={"entries": len(entries)},
    )
    return entries


def verify_audit(ws: Workspace, who: Identity) -> Verification:
    """The chain checked against its MACs, its anchor, its retention and its checkpoints."""
    require_action(ws, who, Action.AUDIT_VERIFY)
    return ws.audit.verify_all()


@dataclass(frozen=True)
class AuditStatistics:
    """Individual accesses by month and role, and cases opened by month — no names."""

    views: list[tuple[str, str, int]]
    cases: list[tuple[str, int]]


def audit_statistics(ws: Workspace, who: Identity) -> AuditStatistics:
    """What the staff representatives see of the audit log."""
    require_action(ws, who, Action.AUDIT_STATISTICS)
    names = {a.value for a in INDIVIDUAL_ACTIONS}
    views: Counter[tuple[str, str]] = Counter()
    for e in ws.audit.entries():
        if e.action in names:
            views[(e.at[:7], e.role)] += 1
    return AuditStatistics(
        [(m, r, n) for (m, r), n in sorted(views.items())],
        sorted(ws.db.cases.opened_per_month().items()),
    )


def alerts(ws: Workspace, who: Identity, limit: int | None = None) -> list[Alert]:
    """The DPO's alerts (H2), newest first."""
    require_action(ws, who, Action.ALERTS_READ)
    return ws.db.alerts.latest(limit) if limit else list(reversed(ws.db.alerts.all()))


def holds(ws: Workspace, who: Identity) -> list[Hold]:
    """Legal holds with their owner and expiry (F4), for the DPO."""
    require_action(ws, who, Action.ALERTS_READ)
    return ws.db.cases.holds()


@dataclass(frozen=True)
class IngestHealth:
    """What the operator sees: files read and reasons, the collector's health and counters —
    no activity data (E5)."""

    files: list[ManifestEntry]
    quarantine: list[tuple[str, int]]
    collector: CollectorStatus | None = None
    totals: list[tuple[str, int, int, int, int, dict[str, int]]] = field(default_factory=list)
    """Per source format: files, lines, events, half-days kept, lines set aside by reason."""
    problems: list[IngestProblem] = field(default_factory=list)
    """The last files that failed or were refused."""


def ingest_health(ws: Workspace, who: Identity, limit: int = 200) -> IngestHealth:
    """Files read, quarantined lines by reason, and the last health snapshot of the collector."""
    require_action(ws, who, Action.INGEST_HEALTH)
    return IngestHealth(
        ws.db.manifest.recent(limit),
        ws.db.manifest.quarantine_by_reason(),
        ws.db.collector.status(),
        ws.db.manifest.totals_by_format(),
        ws.db.manifest.problems(),
    )
