"""The validity study (its own purpose, aggregate only): how often the measure misses real work.

For each job family, the share of on-site half-days that leave a trace in the sources that also
see on-site work (mail, business applications). A family below the reliability threshold is
shown as unreliable everywhere, and a review case opens only when the family's coverage over the
case's own weeks reaches the threshold by the lower bound of a 95 % Wilson interval. Family-weeks
with fewer than k agents are suppressed and left out of the sums; no total row is printed, so no
family can be subtracted out.

The study is aggregate only (E8): per-agent on-site half-days are kept until their week is
published, then only the family × week figures remain. So the ``agents`` of a row over several
weeks is the largest weekly count — at least that many distinct agents — since who was on site
in which week is no longer kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from loyaute import labels
from loyaute.errors import GateError
from loyaute.i18n import tr
from loyaute.reports.presence import (
    VALIDITY,
    closed_weeks,
    publish_weeks,
    week_cells,
    week_monday,
    weeks_between,
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
    today = ws.today()
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
        agents = max((by_week[w].agents for w in members), default=None)
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


Z95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95 % by default)."""
    if trials <= 0:
        return (0.0, 1.0)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(0.0, centre - margin), min(1.0, centre + margin))


@dataclass(frozen=True)
class Reliability:
    """A family's coverage over a case's weeks, and whether it is enough to open a case."""

    family: str
    weeks: list[str]
    on_site_half_days: int
    with_trace: int
    threshold: float

    @property
    def coverage(self) -> float | None:
        """Share of on-site half-days with a mail or application trace."""
        return self.with_trace / self.on_site_half_days if self.on_site_half_days else None

    @property
    def interval(self) -> tuple[float, float]:
        """Its 95 % Wilson interval."""
        return wilson(self.with_trace, self.on_site_half_days)

    @property
    def sufficient(self) -> bool:
        """True when the interval's lower bound reaches the threshold."""
        return self.on_site_half_days > 0 and self.interval[0] >= self.threshold

    def explain(self) -> str:
        """Why a case is refused, in plain words."""
        if not self.weeks:
            return tr(
                f"la couverture de la famille {self.family} sur la période du dossier n'est pas "
                "encore mesurée (semaines non publiées par l'étude de validité)",
                f"the coverage of the {self.family} family over the case's period is not measured "
                "yet (weeks not published by the validity study)",
            )
        if not self.on_site_half_days:
            return tr(
                f"la couverture de la famille {self.family} sur les semaines du dossier "
                f"({', '.join(labels.week(w) for w in self.weeks)}) ne peut pas être établie (trop peu d'agents, secret "
                "statistique)",
                f"the coverage of the {self.family} family over the case's weeks "
                f"({', '.join(labels.week(w) for w in self.weeks)}) cannot be established (too few agents, statistical "
                "secrecy)",
            )
        # The bounds shown are rounded outwards, so that a refused lower bound never reads as
        # the threshold itself.
        lo_shown = math.floor(self.interval[0] * 1000) / 1000
        hi_shown = math.ceil(self.interval[1] * 1000) / 1000
        share = self.coverage or 0.0
        return tr(
            f"couverture insuffisante de la famille {self.family} sur les semaines du dossier "
            f"({', '.join(labels.week(w) for w in self.weeks)}) : {share:.1%} ({self.with_trace}/{self.on_site_half_days}), "
            f"intervalle de confiance à 95 % [{lo_shown:.1%} ; {hi_shown:.1%}], dont la borne basse est "
            f"sous le seuil de {self.threshold:.0%}".replace(".", ","),
            f"insufficient coverage of the {self.family} family over the case's weeks "
            f"({', '.join(labels.week(w) for w in self.weeks)}): {share:.1%} ({self.with_trace}/{self.on_site_half_days}), "
            f"95 % confidence interval [{lo_shown:.1%}; {hi_shown:.1%}], whose lower bound is under the "
            f"{self.threshold:.0%} threshold",
        )


def case_reliability(ws: Workspace, family: str, day_from: date, day_to: date) -> Reliability:
    """Rule D5/G of issue 9: the family's coverage over the published weeks a case's period
    overlaps, from the frozen weekly cells (suppressed family-weeks do not count)."""
    study = ws.register.validity_study
    try:
        require_study(ws)
    except GateError:
        return Reliability(family, [], 0, 0, study.reliability_threshold)
    lo = day_from - timedelta(days=day_from.weekday())
    hi = day_to + timedelta(days=6 - day_to.weekday())
    weeks, _ = closed_weeks(ws, lo, hi, ws.today(), VALIDITY)
    publish_weeks(ws, weeks, VALIDITY)
    wanted = [w for w in weeks_between(lo, hi) if w in set(weeks)]
    cells = week_cells(ws, "validity", wanted).get(family, {})
    counted = [c for c in cells.values() if not c.suppressed]
    return Reliability(
        family,
        wanted,
        sum(c.telework for c in counted),
        sum(c.with_trace for c in counted),
        study.reliability_threshold,
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
