"""The validity study (its own purpose, aggregate only): how often the measure misses real work.

For each job family, the share of on-site half-days that leave a trace in the sources that also
see on-site work (mail, business applications). A family below the reliability threshold is
shown as unreliable everywhere and cannot be put in a review case. Families with fewer than k
agents are suppressed; no total row is printed, so no family can be subtracted out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from loyaute.errors import GateError
from loyaute.i18n import tr
from loyaute.reports.frames import half_day_frame

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

VALIDITY_COLUMNS = (
    "job_family",
    "agents",
    "on_site_half_days",
    "with_trace",
    "coverage",
    "reliable",
    "suppressed",
)


@dataclass
class ValidityReport:
    """Rows by job family and the parameters printed with them."""

    rows: list[dict[str, Any]]
    parameters: dict[str, Any] = field(default_factory=dict)


def require_study(ws: Workspace) -> None:
    """The study runs only when enabled and registered."""
    study = ws.register.validity_study
    if not study.enabled or not study.registered_on:
        raise GateError(
            tr(
                "étude de validité non activée ou non inscrite au registre "
                "([validity_study] enabled et registered_on)",
                "validity study not enabled or not registered ([validity_study] enabled, registered_on)",
            )
        )


def validity(
    ws: Workspace, day_from: date | None = None, day_to: date | None = None
) -> ValidityReport:
    """Coverage of on-site work by mail and application traces, by job family."""
    require_study(ws)
    study = ws.register.validity_study
    lo = day_from or date.fromisoformat(study.registered_on)
    hi = day_to or ws.clock.now().astimezone(ws.settings.zone).date()
    frame = half_day_frame(ws, "on_site", lo, hi)
    k = ws.register.purpose.k_min
    agents: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for agent_id, family, seen in zip(
        frame.column("agent_id").to_pylist(),
        frame.column("job_family").to_pylist(),
        frame.column("mail_or_apps").to_pylist(),
        strict=True,
    ):
        agents[family].add(agent_id)
        counts[family][0] += 1
        counts[family][1] += bool(seen)
    rows = []
    for family in sorted(counts):
        n = len(agents[family])
        total, seen = counts[family]
        if n < k:
            rows.append(
                dict.fromkeys(VALIDITY_COLUMNS, "") | {"job_family": family, "suppressed": True}
            )
            continue
        coverage = seen / total if total else 0.0
        rows.append(
            {
                "job_family": family,
                "agents": n,
                "on_site_half_days": total,
                "with_trace": seen,
                "coverage": round(coverage, 4),
                "reliable": coverage >= study.reliability_threshold,
                "suppressed": False,
            }
        )
    return ValidityReport(
        rows,
        {
            "k_min": k,
            "threshold": study.reliability_threshold,
            "from": lo.isoformat(),
            "to": hi.isoformat(),
            "sources": "mail, apps",
        },
    )


def family_reliability(ws: Workspace) -> dict[str, bool | None]:
    """job family → reliable (True/False), or None when suppressed or not measured."""
    try:
        report = validity(ws)
    except GateError:
        return {}
    return {
        r["job_family"]: (None if r["suppressed"] else bool(r["reliable"])) for r in report.rows
    }
