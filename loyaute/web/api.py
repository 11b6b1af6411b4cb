"""The JSON API (CONTRACT.md): sign-in, the caller's own records, a reviewer's case records,
aggregated presence. Described by ``/openapi.json``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field

from loyaute.i18n import tr
from loyaute.policy.access import AccessDenied, individual, refuse
from loyaute.policy.cases import reviewing
from loyaute.policy.roles import Action, Role
from loyaute.reports.runner import run_presence
from loyaute.web.auth import (
    SIGNED_IN,
    LocalPasswordsOff,
    SignInsBusy,
    TooManyAttempts,
    end_session,
    guard,
    sign_in,
    start_session,
    who,
)
from loyaute.web.context import Ctx

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
    """An error: what went wrong."""

    detail: str


@router.post(
    "/login",
    response_model=Me,
    responses={
        401: {"description": "wrong login or password, or account disabled", "model": Problem},
        429: {"description": "too many attempts from this address; retry later", "model": Problem},
    },
)
def api_login(body: LoginBody, response: Response, ctx: Ctx = guard()) -> Any:
    """Sign in: sets the session cookie. Wrong credentials and a locked account get the same
    401, so that the answer tells nothing about which logins exist."""
    try:
        account = sign_in(ctx, body.login, body.password)
    except LocalPasswordsOff:
        raise HTTPException(
            403,
            ctx.t(
                "connexion par mot de passe désactivée : utiliser le fournisseur d'identité",
                "password sign-in is off: use the identity provider",
            ),
        ) from None
    except SignInsBusy:
        raise HTTPException(
            429,
            ctx.t("beaucoup de connexions en ce moment, réessayer", "many sign-ins, retry"),
            headers={"retry-after": "1"},
        ) from None
    except TooManyAttempts:
        raise HTTPException(
            429,
            ctx.t(
                "trop de tentatives, réessayez dans une minute", "too many attempts, retry later"
            ),
        ) from None
    if account is None:
        raise HTTPException(
            401, ctx.t("identifiant ou mot de passe incorrect", "wrong login or password")
        )
    start_session(ctx, account, response)
    return Me(login=account.login, role=account.role.value, agent_id=account.agent_id)


@router.post("/logout")
def api_logout(response: Response, ctx: Ctx = guard(SIGNED_IN)) -> dict[str, str]:
    """Sign out."""
    end_session(ctx, response)
    return {"status": "signed out"}


@router.get("/me", response_model=Me)
def api_me(ctx: Ctx = guard(SIGNED_IN)) -> Any:
    """The account, its role and its agent id."""
    me = who(ctx)
    return Me(login=me.login, role=me.role.value, agent_id=me.agent_id)


@router.get("/me/records", response_model=list[RecordOut])
def api_my_records(ctx: Ctx = guard(Action.OWN_VIEW)) -> Any:
    """The caller's own half-day records (E6)."""
    me = who(ctx)
    data = individual(ctx.ws, me, Action.OWN_VIEW, me.agent_id, reason="API")
    return [r.as_dict() for r in data.records()]


@router.get(
    "/agents/{agent_id}/records",
    response_model=list[RecordOut],
    responses={403: {"description": "not the reviewer of an open case"}},
)
def api_agent_records(agent_id: str, ctx: Ctx = guard(SIGNED_IN)) -> Any:
    """Only for the reviewer of an open case on that agent (E4), for the case's period —
    telework half-days only (E8); audited."""
    me = who(ctx)
    case = reviewing(ctx.ws, me, agent_id)
    if case is None:
        if me.role is Role.AGENT and agent_id == me.agent_id:
            why = tr(
                "ses propres données : /api/me/records (E6)", "one's own data: /api/me/records (E6)"
            )
            raise refuse(ctx.ws, me, Action.RECORDS_VIEW, agent_id, why)
        # refuses and audits; re-identification outside a case alerts the DPO (H2)
        individual(ctx.ws, me, Action.RECORDS_VIEW, agent_id, reason="API")
        raise AccessDenied(tr("hors dossier d'examen (E4)", "outside a review case (E4)"))
    data = individual(
        ctx.ws, me, Action.RECORDS_VIEW, agent_id, case_id=case.id, reason=case.reason
    )
    return [r.as_dict() for r in data.records()]


@router.get("/reports/presence", response_model=PresenceOut)
def api_presence(
    ctx: Ctx = guard(Action.REPORT_PRESENCE),
    by: str = "service",
    period: str = "week",
) -> Any:
    """The aggregated report, with disclosure control and the reader's role applied."""
    if by not in ("service", "job_family"):
        by = "service"
    if period not in ("week", "month"):
        period = "week"
    report = run_presence(ctx.ws, who(ctx), by=by, period=period)
    return PresenceOut(
        parameters={k: str(v) for k, v in report.parameters.items()}, rows=report.rows
    )
