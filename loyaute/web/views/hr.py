"""The HR reviewer's home: their cases, opening one, its view and its decision (D5, D6, E4)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from loyaute.policy.cases import cases_of_reviewer, close_case, may_close, open_case, show_case
from loyaute.policy.roles import Action
from loyaute.reports.access_export import NO_PROOF_EN, NO_PROOF_FR
from loyaute.web import charts
from loyaute.web.auth import check_csrf, guard, who
from loyaute.web.context import Ctx
from loyaute.web.render import CaseId, back, day_of, render

router = APIRouter()


@router.get("/hr", response_class=HTMLResponse)
def hr_home(ctx: Ctx = guard(Action.CASE_VIEW)) -> Response:
    """The reviewer's cases and the form to open one."""
    return render(
        ctx,
        "hr.html",
        cases=cases_of_reviewer(ctx.ws, who(ctx)),
        mode=ctx.ws.register.purpose.mode,
        done=ctx.request.query_params.get("done", ""),
    )


@router.post("/hr/cases", response_class=HTMLResponse)
def hr_open_case(
    ctx: Ctx = guard(Action.CASE_OPEN),
    csrf: str = Form(""),
    agent_id: str = Form(..., max_length=100),
    reason: str = Form(..., max_length=2000),
    day_from: str = Form(...),
    day_to: str = Form(...),
) -> Response:
    """D5: open a case (the reviewer is the signed-in person)."""
    check_csrf(ctx, csrf)
    me = who(ctx)
    number = open_case(ctx.ws, me, agent_id, me.login, reason, day_of(day_from), day_of(day_to))
    return RedirectResponse(f"/hr/cases/{number}", status_code=303)


@router.get("/hr/cases/{case_id}", response_class=HTMLResponse)
def hr_case(case_id: CaseId, ctx: Ctx = guard(Action.CASE_VIEW)) -> Response:
    """E4: the case's period, re-identified, for its reviewer only; audited."""
    view = show_case(ctx.ws, who(ctx), case_id)
    days: list[str] = []
    lo, hi = date.fromisoformat(view.case.day_from), date.fromisoformat(view.case.day_to)
    while lo <= hi:
        days.append(lo.isoformat())
        lo += timedelta(days=1)
    chart = charts.calendar(
        days,
        {(r.date, r.half_day): r.status for r in view.records},
        ctx.t("Demi-journées de la période", "Half-days of the period"),
    )
    closable, why = may_close(ctx.ws, view.case)
    return render(
        ctx,
        "case.html",
        view=view,
        chart=chart,
        closable=closable,
        why_not=why,
        statement=ctx.t(NO_PROOF_FR, NO_PROOF_EN),
    )


@router.post("/hr/cases/{case_id}/close", response_class=HTMLResponse)
def hr_close_case(
    case_id: CaseId,
    ctx: Ctx = guard(Action.CASE_CLOSE),
    csrf: str = Form(""),
    outcome: str = Form(..., max_length=4000),
) -> Response:
    """D6: record the human decision with its evidence bundle."""
    check_csrf(ctx, csrf)
    close_case(ctx.ws, who(ctx), case_id, outcome)
    return back("/hr", "closed")
