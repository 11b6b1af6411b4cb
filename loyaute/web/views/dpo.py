"""The DPO's console: gates, fingerprint, documents, alerts, access-request clocks, holds, the
audit log (its reading is itself audited) and retention."""

from __future__ import annotations

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from loyaute.policy import gates as gates_mod
from loyaute.policy.oversight import alerts, holds, read_audit, verify_audit
from loyaute.policy.retention import purge
from loyaute.policy.rights import access_request_clocks
from loyaute.policy.roles import Action
from loyaute.web.auth import check_csrf, guard, who
from loyaute.web.context import Ctx
from loyaute.web.render import back, render

router = APIRouter()


@router.get("/dpo", response_class=HTMLResponse)
def dpo_home(ctx: Ctx = guard(Action.ALERTS_READ)) -> Response:
    """Gates, fingerprint, documents, alerts, access requests, holds."""
    ws, me = ctx.ws, who(ctx)
    return render(
        ctx,
        "dpo.html",
        gates=gates_mod.status(ws),
        fingerprint=gates_mod.fingerprint(ws.settings, ws.register),
        alerts=alerts(ws, me, 50),
        requests=access_request_clocks(ws, me),
        holds=holds(ws, me),
        checkpoint=ws.audit.last_checkpoint(),
        outside=ws.audit.checkpoints.configured,
        done=ctx.request.query_params.get("done", ""),
    )


@router.get("/dpo/audit", response_class=HTMLResponse)
def dpo_audit(ctx: Ctx = guard(Action.AUDIT_READ)) -> Response:
    """The audit log and its verification (H1)."""
    me = who(ctx)
    found = verify_audit(ctx.ws, me)
    entries = read_audit(ctx.ws, me, limit=300)
    return render(
        ctx,
        "audit.html",
        entries=list(reversed(entries)),
        checked=found.checked,
        broken=found.broken,
        reason=found.reason,
        checkpoint=ctx.ws.audit.last_checkpoint(),
        outside=ctx.ws.audit.checkpoints.configured,
    )


@router.post("/dpo/purge", response_class=HTMLResponse)
def dpo_purge(ctx: Ctx = guard(Action.PURGE), csrf: str = Form("")) -> Response:
    """Apply retention now."""
    check_csrf(ctx, csrf)
    purge(ctx.ws, who=who(ctx), per_agent_t0=True)
    return back("/dpo", "purged")
