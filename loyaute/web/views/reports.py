"""Aggregate pages (E2, E3): telework half-days with and without a trace, and the validity study."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from loyaute import labels
from loyaute.policy.roles import Action, Role
from loyaute.reports.presence import PRESENCE_COLUMNS
from loyaute.reports.runner import run_presence, run_validity
from loyaute.reports.validity import VALIDITY_COLUMNS
from loyaute.web import charts
from loyaute.web.auth import guard, who
from loyaute.web.context import Ctx
from loyaute.web.render import render

router = APIRouter()


def presence_view(ctx: Ctx, by: str, period: str) -> dict[str, Any]:
    """The report, its heatmap and its columns, for the signed-in reader."""
    report = run_presence(ctx.ws, who(ctx), by=by, period=period)
    groups = sorted({r["group"] for r in report.rows})
    periods = sorted({r["period"] for r in report.rows})
    values: dict[tuple[str, str], Any] = {}
    for r in report.rows:
        if r["suppressed"]:
            values[(r["group"], r["period"])] = "suppressed"
        elif r["share_with_trace"] != "":
            values[(r["group"], r["period"])] = r["share_with_trace"]
    title = ctx.t(
        "Part des demi-journées de télétravail avec trace, par groupe et période",
        "Share of telework half-days with a trace, by group and period",
    )
    chart = ""
    if values:
        if len(groups) <= 2 < len(periods):
            # one or two groups (a manager's service): one line per period reads on a phone
            swapped = {(p, g): v for (g, p), v in values.items()}
            chart = charts.heatmap(periods, groups, swapped, title, period_label, str)
        else:
            chart = charts.heatmap(groups, periods, values, title, str, period_short)
    return {
        "report": report,
        "columns": PRESENCE_COLUMNS,
        "chart": chart,
        "by": by,
        "period": period,
        "scale": charts.scale_items(),
        "traces_hidden": "traces" in report.parameters,
    }


def period_label(value: str) -> str:
    """A period as a row of the chart: "semaine du 2 au 6 novembre 2026"."""
    text = labels.period(value)
    return text[:1].upper() + text[1:]


def period_short(value: str) -> str:
    """A period as a column of the chart: "2–6 nov." or "novembre 2026"."""
    return labels.week_short(value) if "-W" in value and ".." not in value else labels.period(value)


@router.get("/reports/presence", response_class=HTMLResponse)
def presence_page(
    ctx: Ctx = guard(Action.REPORT_PRESENCE),
    by: str = "service",
    period: str = "week",
) -> Response:
    """E2/E3: aggregated half-days with a heatmap; suppressed cells drawn as such."""
    if by not in ("service", "job_family") or period not in ("week", "month"):
        by, period = "service", "week"
    if who(ctx).role is Role.MANAGER:
        by = "service"
    return render(ctx, "presence.html", **presence_view(ctx, by, period))


@router.get("/reports/validity", response_class=HTMLResponse)
def validity_page(ctx: Ctx = guard(Action.REPORT_VALIDITY)) -> Response:
    """The validity study: coverage by job family against the reliability threshold."""
    report = run_validity(ctx.ws, who(ctx))
    chart = charts.coverage(
        report.rows,
        float(report.parameters["threshold"]),
        ctx.t("Couverture par famille de métiers", "Coverage by job family"),
    )
    return render(ctx, "validity.html", report=report, columns=VALIDITY_COLUMNS, chart=chart)
