"""Sign-in, sessions and the guard every route declares (rules E5, E9, H3).

A route declares what it does — an action of the permission table (``policy/roles.py``), a role's
home page, any signed-in account, or nothing (public) — and ``guard`` admits exactly the roles the
table gives. Sign-in, the session cookie, the CSRF token and the per-address limit of sign-in
attempts live here; the views never handle a password or a cookie themselves.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Any

from fastapi import APIRouter, Depends, Response
from fastapi.routing import APIRoute

from loyaute.i18n import tr
from loyaute.policy.access import AccessDenied
from loyaute.policy.roles import ACCOUNT_ROLES, Action, Identity, Role, roles_for
from loyaute.web.context import SESSION_COOKIE, Ctx, context

HOME_OF_ROLE: dict[str, str] = {
    Role.AGENT: "/me",
    Role.MANAGER: "/manager",
    Role.HR_REVIEWER: "/hr",
    Role.DPO: "/dpo",
    Role.STAFF_REP: "/staff",
    Role.OPERATOR: "/operator",
}
ALL_ROLES = frozenset(r.value for r in ACCOUNT_ROLES)

PERMISSIONS: dict[tuple[str, str], frozenset[str] | None] = {}
"""(method, path) → roles admitted (None: public). Filled from the routers; the route × role
matrix test walks it and fails on a route that declares nothing."""


class NotSignedIn(Exception):
    """No valid session."""


class Forbidden(Exception):
    """Signed in, but the role may not use this route."""


class _Anyone:
    """Marker: any signed-in account."""


SIGNED_IN = _Anyone()


def guard(what: Action | Role | _Anyone | None = None) -> Any:
    """Dependency declaring (and enforcing) who a route admits: the roles the permission table
    gives an ``Action``, the owner of a role's home (``Role``), any signed-in account
    (``SIGNED_IN``), or everyone (nothing)."""
    if what is None:
        admitted: frozenset[str] | None = None
    elif isinstance(what, _Anyone):
        admitted = ALL_ROLES
    elif isinstance(what, Role):
        admitted = frozenset({what.value})
    else:
        admitted = frozenset(r.value for r in roles_for(what))

    def check(ctx: Ctx = Depends(context)) -> Ctx:
        if admitted is None:
            return ctx
        if ctx.account is None:
            raise NotSignedIn
        if ctx.account.role not in admitted:
            ctx.ws.audit.append(
                ctx.account.login,
                ctx.account.role.value,
                "refused",
                reason=f"route {ctx.request.url.path}",
            )
            raise Forbidden
        return ctx

    check.admitted = admitted  # type: ignore[attr-defined]
    return Depends(check)


def who(ctx: Ctx) -> Identity:
    """The signed-in identity of a guarded route."""
    if ctx.account is None:
        raise NotSignedIn
    return ctx.account


def register_permissions(*routers: APIRouter) -> None:
    """Record each route's admitted roles from its ``guard`` dependency (read from the routers
    themselves: recent FastAPI no longer flattens included routers into ``app.routes``)."""
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            admitted = [
                getattr(d.call, "admitted")  # noqa: B009 - set by guard, unknown to the type
                for d in route.dependant.dependencies
                if hasattr(d.call, "admitted")
            ]
            for method in route.methods or ():
                if admitted:
                    PERMISSIONS[(method, route.path)] = admitted[-1]


class LoginLimiter:
    """Sign-in attempts within ``window`` seconds: at most ``per_login`` for one login from one
    address, and ``per_address`` in all from one address (a whole office may share one behind
    the proxy). Lockout of the account itself is in ``accounts.authenticate``."""

    def __init__(self, per_login: int = 10, per_address: int = 300, window: float = 60.0) -> None:
        self.per_login = per_login
        self.per_address = per_address
        self.window = window
        self.seen: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, client: str, login: str) -> bool:
        """Record an attempt; False when over a limit."""
        now = time.monotonic()
        with self._lock:
            ok = True
            for key, limit in (
                ((client, login.casefold()), self.per_login),
                ((client, ""), self.per_address),
            ):
                q = self.seen[key]
                while q and now - q[0] > self.window:
                    q.popleft()
                ok = ok and len(q) < limit
            if ok:
                self.seen[(client, login.casefold())].append(now)
                self.seen[(client, "")].append(now)
            return ok


def is_secure(ctx: Ctx) -> bool:
    """Mark the session cookie Secure unless the app is reached on loopback over plain HTTP
    (the demo); ``create_app(secure_cookies=…)`` forces either way."""
    forced = ctx.request.app.state.secure_cookies
    if forced is not None:
        return bool(forced)
    host = ctx.request.url.hostname or ""
    return ctx.request.url.scheme == "https" or host not in (
        "127.0.0.1",
        "localhost",
        "::1",
        "testserver",
    )


def sign_in(ctx: Ctx, login: str, password: str) -> Identity | None:
    """Check the credentials (None when refused); over the rate limit, ``TooManyAttempts``."""
    from loyaute.accounts import PasswordChecksBusy, authenticate  # noqa: PLC0415 - Argon2 here

    if not ctx.ws.settings.oidc.local_passwords:
        _refused(ctx, login, "local_passwords_off")
        raise LocalPasswordsOff
    client = ctx.request.client.host if ctx.request.client else "?"
    if not ctx.request.app.state.limiter.allow(client, login):
        _refused(ctx, login, "too_many_attempts")
        raise TooManyAttempts
    try:
        account = authenticate(
            ctx.ws.db, ctx.ws.clock, login, password, client, ctx.ws.settings.accounts
        )
    except PasswordChecksBusy:
        _refused(ctx, login, "password_checks_busy")
        raise SignInsBusy from None
    if account is None:
        _refused(ctx, login, "password")
    return account


def _refused(ctx: Ctx, login: str, why: str) -> None:
    """Audit a refused password sign-in. The login is named only when it is an account's: what
    someone typed in the login field may be their password (H3)."""
    known = ctx.ws.db.accounts.get(login) is not None
    ctx.ws.audit.append(
        login if known else "?", "anonymous", "sign_in_refused", reason=why, details={"via": "web"}
    )


class TooManyAttempts(Exception):
    """Over the sign-in rate limit."""


class SignInsBusy(TooManyAttempts):
    """Every password check of this process is taken: retry in a second (``Retry-After``)."""


class LocalPasswordsOff(Exception):
    """Local passwords are switched off (``oidc.local_passwords = false``)."""


def start_session(ctx: Ctx, account: Identity, response: Response, via: str = "web") -> None:
    """Open a session for ``account`` and set its cookie on ``response``."""
    from loyaute.accounts import open_session  # noqa: PLC0415

    token = open_session(ctx.ws.db, ctx.ws.clock, account)
    ctx.ws.audit.append(account.login, account.role.value, "sign_in", reason=via)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=is_secure(ctx),
        path="/",
    )


def end_session(ctx: Ctx, response: Response) -> None:
    """Close the session and clear its cookie."""
    from loyaute.accounts import close_session  # noqa: PLC0415

    close_session(ctx.ws.db, ctx.token)
    response.delete_cookie(SESSION_COOKIE, path="/")


def check_csrf(ctx: Ctx, token: str) -> None:
    """Refuse a form without the session's CSRF token."""
    if ctx.session is None or not token or token != ctx.session.csrf:
        raise AccessDenied(tr("jeton CSRF invalide", "invalid CSRF token"))
