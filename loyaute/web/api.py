"""The JSON API (CONTRACT.md): sign-in, the caller's own records, a reviewer's case records,
aggregated presence. Described by ``/openapi.json``."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field

from loyaute.accounts import authenticate, close_session
from loyaute.i18n import tr
from loyaute.policy.access import AccessDenied, individual_access, refuse
from loyaute.reports.agent_view import agent_records
from loyaute.reports.runner import run_presence
from loyaute.web.app import HOME_OF_ROLE, guard
from loyaute.web.context import SESSION_COOKIE, Ctx, start_session

router = APIRouter(prefix="/api")


class LoginBody(BaseModel):
    """Credentials."""

    login: str = Field(max_length=200)
    password: str = Field(max_length=500)


class Me(BaseModel):
    """The signed-in account."""

    login: str
    role: str
    agent_id: str


class RecordOut(BaseModel):
    """One half-day, as in records.csv."""

    date: str
    half_day: str
    scheduled: str
    status: str
    categories: str
    declaration: str
    annotation: str


class PresenceOut(BaseModel):
    """The aggregated report with its parameters."""

    parameters: dict[str, Any]
    rows: list[dict[str, Any]]


class Problem(BaseModel):
    """An error: what went wrong, in French then English."""

    detail: str


@router.post(
    "/login",
    response_model=Me,
    responses={
        401: {"description": "wrong login or password, or account locked", "model": Problem},
        429: {"description": "too many attempts from this address; retry later", "model": Problem},
    },
)
def api_login(body: LoginBody, response: Response, ctx: Ctx = guard()) -> Any:
    """Sign in: sets the session cookie. Wrong credentials and a locked account get the same
    401, so that the answer tells nothing about which logins exist."""
    limiter = ctx.request.app.state.limiter
    client = ctx.request.client.host if ctx.request.client else "?"
    if not limiter.allow(client, body.login):
        raise HTTPException(
            429, "trop de tentatives, réessayez dans une minute / too many attempts, retry later"
        )
    account = authenticate(ctx.ws.state, ctx.ws.clock, body.login, body.password)
    if account is None:
        raise HTTPException(401, "identifiant ou mot de passe incorrect / wrong login or password")
    start_session(ctx, account, response)
    return Me(login=account.login, role=account.role, agent_id=account.agent_id)


@router.post("/logout")
def api_logout(response: Response, ctx: Ctx = guard(*HOME_OF_ROLE)) -> dict[str, str]:
    """Sign out."""
    close_session(ctx.ws.state, ctx.token)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"status": "signed out"}


@router.get("/me", response_model=Me)
def api_me(ctx: Ctx = guard(*HOME_OF_ROLE)) -> Any:
    """The account, its role and its agent id."""
    assert ctx.account is not None
    return Me(login=ctx.account.login, role=ctx.account.role, agent_id=ctx.account.agent_id)


@router.get("/me/records", response_model=list[RecordOut])
def api_my_records(ctx: Ctx = guard("agent", "manager")) -> Any:
    """The caller's own half-day records (E6)."""
    assert ctx.account is not None
    return [r.as_dict() for r in agent_records(ctx.ws, ctx.account.agent_id)]


@router.get(
    "/agents/{agent_id}/records",
    response_model=list[RecordOut],
    responses={403: {"description": "not the reviewer of an open case"}},
)
def api_agent_records(agent_id: str, ctx: Ctx = guard(*HOME_OF_ROLE)) -> Any:
    """Only for the reviewer of an open case on that agent (E4), for the case's period; audited."""
    assert ctx.account is not None
    row = ctx.ws.state.execute(
        "SELECT id, reason, day_from, day_to FROM cases WHERE agent_id = ? AND reviewer = ? AND closed_at = '' ORDER BY id DESC LIMIT 1",
        (agent_id, ctx.account.login),
    ).fetchone()
    if row is None:
        if ctx.account.role == "agent" and agent_id == ctx.account.agent_id:
            why = tr(
                "ses propres données : /api/me/records (E6)", "one's own data: /api/me/records (E6)"
            )
            raise refuse(ctx.ws, ctx.account.login, "agent", "records_view", agent_id, why)
        individual_access(  # refuses and audits; re-identification outside a case alerts (H2)
            ctx.ws,
            ctx.account.login,
            ctx.account.role,
            "records_view",
            agent_id,
            "API",
            case_id=None,
        )
        raise AccessDenied(tr("hors dossier d'examen (E4)", "outside a review case (E4)"))
    individual_access(
        ctx.ws,
        ctx.account.login,
        ctx.account.role,
        "records_view",
        agent_id,
        row["reason"],
        case_id=row["id"],
    )
    return [
        r.as_dict()
        for r in agent_records(
            ctx.ws, agent_id, date.fromisoformat(row["day_from"]), date.fromisoformat(row["day_to"])
        )
    ]


@router.get("/reports/presence", response_model=PresenceOut)
def api_presence(
    ctx: Ctx = guard("dpo", "hr_reviewer", "staff_rep", "manager"),
    by: str = "service",
    period: str = "week",
) -> Any:
    """The aggregated report, with disclosure control and the reader's role applied."""
    assert ctx.account is not None
    if by not in ("service", "job_family"):
        by = "service"
    if period not in ("week", "month"):
        period = "week"
    report = run_presence(
        ctx.ws,
        ctx.account.login,
        ctx.account.role,
        by=by,
        period=period,
        manager_id=ctx.account.agent_id or None,
    )
    return PresenceOut(
        parameters={k: str(v) for k, v in report.parameters.items()}, rows=report.rows
    )
