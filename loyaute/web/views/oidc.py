"""Sign-in with the organisation's OpenID Connect provider: the start of the flow, the way back,
and the provider's sign-out (``loyaute.oidc`` does the protocol; this module the HTTP).

The ``state`` is kept server-side (its hash) with the nonce and the PKCE verifier, bound to the
browser that began the sign-in by a random cookie (SameSite=Lax, so that it comes back with the
provider's top-level redirect; only its hash is kept), and used once. The session cookie keeps
every property of a password sign-in (HttpOnly, SameSite=Strict, Secure off loopback, CSRF
token, idle and absolute timeouts): it is the same session. Because a SameSite=Strict cookie set
on a response to a cross-site redirect is not sent with the next redirect, the callback answers
with a short page that moves on to the role's home itself.

Every refusal is audited (its kind, the login claim once known; never a token) and shown in
French, or English with ``?lang=en``.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from loyaute.accounts import begin_provider_sign_in, finish_provider_sign_in, provider_account
from loyaute.identity import LoginIndex
from loyaute.oidc import OidcRefusal, end_session_url, exchange, person, start, verify_id_token
from loyaute.secret_files import read_secret, resolve
from loyaute.store.accounts import DuplicateAccount
from loyaute.web.auth import HOME_OF_ROLE, guard, is_secure, start_session
from loyaute.web.context import Ctx
from loyaute.web.render import render

router = APIRouter()

BROWSER_COOKIE = "loyaute_oidc"
CALLBACK = "/auth/oidc/callback"
COOKIE_PATH = "/auth/oidc"


def _base(ctx: Ctx) -> str:
    configured = ctx.ws.settings.oidc.public_url.rstrip("/")
    return configured or str(ctx.request.base_url).rstrip("/")


def refuse(ctx: Ctx, refusal: OidcRefusal) -> Response:
    """The refusal page, and its audit record."""
    ctx.ws.audit.append(
        f"oidc:{refusal.login}" if refusal.login else "oidc:?",
        "anonymous",
        "sign_in_refused",
        reason=refusal.kind,
        details={"via": "oidc"},
    )
    response = render(ctx, "refused.html", status=refusal.status, message=refusal.text(ctx.lang))
    response.delete_cookie(BROWSER_COOKIE, path=COOKIE_PATH)
    return response


@router.get("/auth/oidc/start", response_class=HTMLResponse)
def oidc_start(ctx: Ctx = guard()) -> Response:
    """Send the browser to the provider (authorization code flow with PKCE)."""
    settings = ctx.ws.settings.oidc
    if not settings.enabled:
        return refuse(ctx, OidcRefusal("disabled"))
    try:
        begun = start(settings, _base(ctx) + CALLBACK)
    except OidcRefusal as refusal:
        return refuse(ctx, refusal)
    browser = secrets.token_urlsafe(32)
    begin_provider_sign_in(
        ctx.ws.db, ctx.ws.clock, begun.state, browser, begun.nonce, begun.verifier
    )
    response = RedirectResponse(begun.url, status_code=303)
    response.set_cookie(
        BROWSER_COOKIE,
        browser,
        max_age=600,
        httponly=True,
        samesite="lax",
        secure=is_secure(ctx),
        path=COOKIE_PATH,
    )
    return response


@router.get(CALLBACK, response_class=HTMLResponse)
def oidc_callback(
    ctx: Ctx = guard(),
    state: str = Query("", max_length=500),
    code: str = Query("", max_length=4000),
    error: str = Query("", max_length=200),
) -> Response:
    """The provider sends the browser back: check state, exchange the code, verify the ID
    token, find the agent and the role, open the session."""
    settings = ctx.ws.settings.oidc
    try:
        if not settings.enabled:
            raise OidcRefusal("disabled")
        pending = finish_provider_sign_in(
            ctx.ws.db, ctx.ws.clock, state, ctx.request.cookies.get(BROWSER_COOKIE, "")
        )
        if pending is None:
            raise OidcRefusal("bad_state")
        if error or not code:
            raise OidcRefusal("provider_error")
        nonce, verifier = pending
        secret = read_secret(
            resolve(ctx.ws.paths.home, settings.client_secret_file), "oidc.client_secret_file"
        )
        tokens = exchange(settings, secret, code, _base(ctx) + CALLBACK, verifier)
        claims = verify_id_token(settings, tokens, nonce, ctx.ws.clock.now())
        found = person(settings, claims, LoginIndex.load(ctx.ws.db))
        try:
            account = provider_account(
                ctx.ws.db, ctx.ws.clock, found.subject, found.login, found.role, found.agent_id
            )
        except DuplicateAccount:
            raise OidcRefusal("account_clash", found.login) from None
    except OidcRefusal as refusal:
        return refuse(ctx, refusal)
    response = render(ctx, "signed_in.html", home=HOME_OF_ROLE[account.role])
    start_session(ctx, account, response, via="oidc")
    response.delete_cookie(BROWSER_COOKIE, path=COOKIE_PATH)
    return response


def provider_sign_out(ctx: Ctx) -> str | None:
    """Where to send a person signed in through the provider once their loyaute session ends:
    the provider's end-session endpoint, back to the sign-in page afterwards."""
    return end_session_url(ctx.ws.settings.oidc, _base(ctx) + "/login")
