"""The validity study (its own purpose, aggregate only): how often the measure misses real work.

For each job family, the share of on-site half-days that leave a trace in the sources that also
see on-site work (mail, business applications). A family below the reliability threshold is
shown as unreliable everywhere and cannot be put in a review case. Family-weeks with fewer than k
agents are suppressed and left out of the sums; no total row is printed, so no family can be
subtracted out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from loyaute.errors import GateError
from loyaute.i18n import tr
from loyaute.reports.presence import (
    VALIDITY,
    closed_weeks,
    publish_weeks,
    span_agents,
    week_cells,
    week_monday,
)

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
    """Coverage of on-site work by mail and application traces, by job family.

    Figures come from the publication ledger, week by week as for presence (E3): only closed
    weeks with their data in are counted, each family-week is frozen once published and
    suppressed under k agents, and a family's row adds up only its published weeks (the weeks
    left out are counted in the parameters) — so two windows differ by published weeks of k
    agents or more, never by fewer, and no later objection, dispute or purge changes a figure."""
    require_study(ws)
    study = ws.register.validity_study
    today = ws.clock.now().astimezone(ws.settings.zone).date()
    if day_from is not None:
        lo = day_from
    else:  # from the Monday of the study's week; the frame drops the days before it
        lo = date.fromisoformat(study.registered_on)
        lo -= timedelta(days=lo.weekday())
    hi = day_to or today
    weeks, waiting = closed_weeks(ws, lo, hi, today, VALIDITY)
    publish_weeks(ws, weeks, VALIDITY)
    cells = week_cells(ws, "validity", weeks)
    k = ws.register.purpose.k_min
    rows = []
    left_out = 0
    for family in sorted(cells):
        by_week = cells[family]
        members = [w for w in weeks if w in by_week and not by_week[w].suppressed]
        left_out += sum(1 for w in weeks if w in by_week and by_week[w].suppressed)
        agents = span_agents(ws, "validity", family, members) if members else None
        if agents is None or agents < k:
            rows.append(
                dict.fromkeys(VALIDITY_COLUMNS, "") | {"job_family": family, "suppressed": True}
            )
            continue
        total = sum(by_week[w].telework for w in members)
        seen = sum(by_week[w].with_trace for w in members)
        coverage = seen / total if total else 0.0
        rows.append(
            {
                "job_family": family,
                "agents": agents,
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
            "from": week_monday(weeks[0]).isoformat() if weeks else "",
            "to": (week_monday(weeks[-1]) + timedelta(days=6)).isoformat() if weeks else "",
            "weeks": f"{weeks[0]}..{weeks[-1]}" if weeks else "",
            "awaiting_data": ", ".join(waiting),
            "family_weeks_left_out": left_out,
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
