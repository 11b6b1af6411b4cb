"""The manager's home: aggregates of their own service, and the monthly statement of their
agents' declarations — never traces (D2, E5). Viewing and validating a statement are separate;
only a closed month can be validated."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from loyaute.policy.rights import show_statement, validate_statement
from loyaute.policy.roles import Action, Role
from loyaute.reports.runner import managed_services
from loyaute.web.auth import check_csrf, guard, who
from loyaute.web.context import Ctx
from loyaute.web.render import back, month_of, render
from loyaute.web.views.reports import presence_view

router = APIRouter()


@router.get("/manager", response_class=HTMLResponse)
def manager_home(ctx: Ctx = guard(Role.MANAGER), month: str | None = None) -> Response:
    """Aggregates of the managed service; the form to see a month's statement."""
    me = who(ctx)
    first = month_of(month, ctx.ws.today())
    return render(
        ctx,
        "manager.html",
        services=sorted(managed_services(ctx.ws, me)),
        month=first.strftime("%Y-%m"),
        done=ctx.request.query_params.get("done", ""),
        **presence_view(ctx, "service", "week"),
    )


@router.get("/manager/statement", response_class=HTMLResponse)
def manager_statement(
    ctx: Ctx = guard(Action.STATEMENT_VIEW), month: str | None = None
) -> Response:
    """D2: show a month's statement of declarations (one audit record, shown to each agent);
    the last closed month by default. Viewing validates nothing."""
    if month is None:
        first = ctx.ws.today().replace(day=1)
        month = (first - timedelta(days=1)).strftime("%Y-%m")
    statement = show_statement(ctx.ws, who(ctx), month)
    return render(ctx, "statement.html", statement=statement, month=month)


@router.post("/manager/statement/validate", response_class=HTMLResponse)
def manager_validate(
    ctx: Ctx = guard(Action.STATEMENT_VALIDATE), csrf: str = Form(""), month: str = Form(...)
) -> Response:
    """D2: validate a closed month's statement."""
    check_csrf(ctx, csrf)
    validate_statement(ctx.ws, who(ctx), month)
    return back("/manager", "validated")
