"""The DPO's console: gates, fingerprint, documents, alerts, access-request clocks, holds, the
audit log (paged and filtered; its reading is itself audited), objections to decide (G3), accounts (unlock, disable,
enable; audited) and retention."""

from __future__ import annotations

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from loyaute.policy import gates as gates_mod
from loyaute.policy.account_admin import change_account, list_accounts
from loyaute.policy.audit_view import AuditFilter, audit_page
from loyaute.policy.oversight import alerts, holds, verify_audit
from loyaute.policy.retention import purge
from loyaute.policy.rights import (
    DECISIONS,
    access_request_clocks,
    decide_objection,
    pending_objections,
)
from loyaute.policy.roles import Action
from loyaute.web.auth import check_csrf, guard, who
from loyaute.web.context import Ctx
from loyaute.web.render import back, day_of, render

router = APIRouter()


@router.get("/dpo", response_class=HTMLResponse)
def dpo_home(ctx: Ctx = guard(Action.ALERTS_READ)) -> Response:
    """Gates, fingerprint, documents, alerts, objections to decide, access requests, holds."""
    ws, me = ctx.ws, who(ctx)
    return render(
        ctx,
        "dpo.html",
        gates=gates_mod.status(ws),
        fingerprint=gates_mod.fingerprint(ws.settings, ws.register),
        alerts=alerts(ws, me, 50),
        requests=access_request_clocks(ws, me),
        objections=pending_objections(ws, me),
        holds=holds(ws, me),
        checkpoint=ws.audit.last_checkpoint(),
        outside=ws.audit.checkpoints.configured,
        done=ctx.request.query_params.get("done", ""),
    )


@router.get("/dpo/audit", response_class=HTMLResponse)
def dpo_audit(
    ctx: Ctx = guard(Action.AUDIT_READ),
    person: str = "",
    action: str = "",
    day_from: str = "",
    day_to: str = "",
    page: int = 1,
) -> Response:
    """The audit log, filtered by person, action and date, a page at a time, and its
    verification (H1)."""
    me = who(ctx)
    found = verify_audit(ctx.ws, me)
    wanted = AuditFilter(
        person[:200],
        action[:100],
        day_of(day_from) if day_from else None,
        day_of(day_to) if day_to else None,
        max(1, min(page, 1_000_000)),
    )
    shown = audit_page(ctx.ws, me, wanted)
    return render(
        ctx,
        "audit.html",
        shown=shown,
        wanted=wanted,
        query={"person": person, "action": action, "day_from": day_from, "day_to": day_to},
        checked=found.checked,
        broken=found.broken,
        reason=found.reason,
        checkpoint=ctx.ws.audit.last_checkpoint(),
        outside=ctx.ws.audit.checkpoints.configured,
    )


@router.get("/dpo/accounts", response_class=HTMLResponse)
def dpo_accounts(ctx: Ctx = guard(Action.ACCOUNTS_MANAGE)) -> Response:
    """Accounts with their failed sign-ins; unlock, disable, enable."""
    return render(
        ctx,
        "accounts.html",
        accounts=list_accounts(ctx.ws, who(ctx)),
        me=who(ctx).login,
        done=ctx.request.query_params.get("done", ""),
    )


@router.post("/dpo/accounts", response_class=HTMLResponse)
def dpo_account_change(
    ctx: Ctx = guard(Action.ACCOUNTS_MANAGE),
    csrf: str = Form(""),
    login: str = Form(..., max_length=200),
    change: str = Form(..., max_length=20),
) -> Response:
    """Unlock, disable or enable an account (audited)."""
    check_csrf(ctx, csrf)
    change_account(ctx.ws, who(ctx), login, change)
    return back("/dpo/accounts", change if change in ("unlock", "disable", "enable") else "")


@router.post("/dpo/objections", response_class=HTMLResponse)
def dpo_objection_decide(
    ctx: Ctx = guard(Action.OBJECTION_DECIDE),
    csrf: str = Form(""),
    number: int = Form(..., ge=1, le=2**62),
    decision: str = Form(..., max_length=20),
    reason: str = Form(..., max_length=4000),
) -> Response:
    """G3: the DPO's reasoned decision on an objection (audited; the agent is told)."""
    check_csrf(ctx, csrf)
    decide_objection(ctx.ws, who(ctx), number, decision, reason)
    return back("/dpo", decision if decision in DECISIONS else "")


@router.post("/dpo/purge", response_class=HTMLResponse)
def dpo_purge(ctx: Ctx = guard(Action.PURGE), csrf: str = Form("")) -> Response:
    """Apply retention now."""
    check_csrf(ctx, csrf)
    purge(ctx.ws, who=who(ctx), per_agent_t0=True)
    return back("/dpo", "purged")
