"""The web app: server-rendered pages, French first, and a small JSON API under ``/api/``.

``create_app`` builds it for a workspace. Security follows OWASP ASVS level 2: Argon2id passwords
with lockout, random session tokens (only their hash stored) in HttpOnly, SameSite=Strict cookies,
a CSRF token on every form, a per-address limit on sign-in attempts, and headers that forbid
framing and inline script. No personal data goes into URLs of pages or into server logs.

Every route declares the roles it admits (``guard``); the one error handler turns loyaute's own
errors into pages or JSON. Individual data is read only through ``policy.access``, which checks
and audits, exactly as on the command line.
"""

from __future__ import annotations

import contextlib
import logging
import os
from http.cookies import CookieError, SimpleCookie
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loyaute import __version__
from loyaute.clock import Clock
from loyaute.i18n import tr, use_lang
from loyaute.store.failures import explain
from loyaute.web import errors
from loyaute.web.auth import (
    HOME_OF_ROLE,
    PERMISSIONS,
    LoginLimiter,
    register_permissions,
)
from loyaute.web.context import LANG_COOKIE, WorkspaceCache, negotiate
from loyaute.web.render import templates

log = logging.getLogger("loyaute.web")

__all__ = ["HOME_OF_ROLE", "PERMISSIONS", "create_app"]

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)

_HEADERS = [
    ("content-security-policy", CSP),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    # same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with the
    # site's own forms, which the cross-site check below would refuse.
    ("referrer-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
    ("cross-origin-opener-policy", "same-origin"),
]


class SecurityHeaders:
    """Headers on every response (plain ASGI: no per-request overhead of a wrapped call);
    no caching of pages that carry personal data; the language choice kept in a cookie.

    It also answers an unexpected error itself: a bare 500 that carries the same headers, and a
    log line naming only the kind of error — never its message or the request, which may hold
    what someone typed (H3)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        query = scope.get("query_string", b"").decode("latin-1")
        pairs = (p.partition("=") for p in query.split("&"))
        lang = next((v for k, _, v in pairs if k == "lang"), "")
        chosen = _request_lang(scope, lang)
        if scope.get("method") not in ("GET", "HEAD", "OPTIONS") and not same_origin(scope):
            # A form posted from another site — sign-in included, which no session token
            # protects — is refused before any handler runs (OWASP: verify the Origin header).
            await _refuse_cross_site(send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in _HEADERS:
                    headers.append(name, value)
                if not path.startswith("/static/"):
                    headers.append("cache-control", "no-store")
                if lang in ("fr", "en"):
                    headers.append(
                        "set-cookie",
                        f"{LANG_COOKIE}={lang}; Max-Age=31536000; Path=/; HttpOnly; SameSite=strict",
                    )
            await send(message)

        try:
            with use_lang(chosen):  # tr() in domain code answers in this request's language
                await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            # A full disk or a damaged database is the operator's to fix (503); anything else is
            # a bug (500). The kind goes to the server log; the visitor sees no path or trace.
            unavailable = explain(exc) is not None
            log.error(
                "%s %s on %s",
                "workspace unavailable:" if unavailable else "internal error",
                type(exc).__name__,
                scope.get("method", ""),
            )
            if not started:
                with use_lang(chosen):
                    body = (
                        tr(
                            "Service momentanément indisponible ; l'exploitant en est averti. "
                            "Réessayez dans quelques minutes.",
                            "Service unavailable for the moment; the operator is told. Try "
                            "again in a few minutes.",
                        )
                        if unavailable
                        else tr(
                            "Erreur interne : l'exploitant peut la retrouver dans le journal du "
                            "serveur. Revenez à la page précédente et réessayez.",
                            "Internal error: the operator can find it in the server log. Go back "
                            "and try again.",
                        )
                    ).encode()
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": 503 if unavailable else 500,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})


def _request_lang(scope: Scope, asked: str) -> str:
    """The language of a request from its raw headers (before any handler runs)."""
    headers: dict[bytes, bytes] = dict(scope.get("headers") or [])
    cookies = SimpleCookie()
    with contextlib.suppress(CookieError):
        cookies.load(headers.get(b"cookie", b"").decode("latin-1"))
    cookie = cookies.get(LANG_COOKIE)
    return negotiate(
        asked,
        cookie.value if cookie else None,
        headers.get(b"accept-language", b"").decode("latin-1"),
    )


def same_origin(scope: Scope) -> bool:
    """True unless the browser says the request comes from another origin (no Origin header:
    not a cross-site browser request)."""
    headers: dict[bytes, bytes] = dict(scope.get("headers") or [])
    origin = headers.get(b"origin")
    if origin is None:
        return True
    host = headers.get(b"host", b"").decode("latin-1")
    return bool(origin.decode("latin-1").partition("://")[2] == host)


async def _refuse_cross_site(send: Send) -> None:
    body = b"Origine refusee / Cross-site request refused"
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    headers += [(name.encode(), value.encode()) for name, value in _HEADERS]
    headers.append((b"cache-control", b"no-store"))
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})


HOME_ENV = "LOYAUTE_HOME"


def app_from_env() -> FastAPI:
    """The app for the workspace named by ``LOYAUTE_HOME``: the factory each server process
    calls when ``loyaute serve --workers N`` runs several (sessions and the audit log live in
    SQLite and are shared; the sign-in rate limits are counted per process)."""
    return create_app(Path(os.environ[HOME_ENV]))


def create_app(
    home: Path, clock: Clock | None = None, secure_cookies: bool | None = None
) -> FastAPI:
    """The app for the workspace at ``home``."""
    from loyaute.web import api  # noqa: PLC0415 - the views import the web stack
    from loyaute.web.views import ROUTERS  # noqa: PLC0415

    app = FastAPI(
        title="loyaute",
        version=__version__,
        description="Contrôle des traces numériques en télétravail, loyal par construction.",
        docs_url=None,
        redoc_url=None,
    )
    cache = WorkspaceCache(home) if clock is None else WorkspaceCache(home, clock)
    with cache.open() as ws:  # fails early on a missing or invalid workspace, or a wrong key
        _ = ws.pseudonymizer
    app.state.cache = cache
    app.state.env = templates()
    app.state.limiter = LoginLimiter()
    app.state.secure_cookies = secure_cookies
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(packages=[("loyaute.web", "static")]), name="static")
    app.include_router(api.router)
    for router in ROUTERS:
        app.include_router(router)

    errors.install(app)
    register_permissions(api.router, *ROUTERS)
    return app
