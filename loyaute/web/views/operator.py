"""The operator's home: ingest health — files read, lines and reasons; no activity data (E5)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from loyaute.policy.oversight import ingest_health
from loyaute.policy.roles import Action
from loyaute.web.auth import guard, who
from loyaute.web.context import Ctx
from loyaute.web.render import render

router = APIRouter()


@router.get("/operator", response_class=HTMLResponse)
def operator_home(ctx: Ctx = guard(Action.INGEST_HEALTH)) -> Response:
    """Files read and quarantined lines by reason."""
    health = ingest_health(ctx.ws, who(ctx))
    return render(ctx, "operator.html", files=health.files, quarantine=health.quarantine)
