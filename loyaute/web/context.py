"""Per-request context: a workspace with its own database connections, the session, the language.

Settings and register are parsed once and re-read when their files change; each request gets
fresh SQLite connections (they are not shared between threads) and closes them when it ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request, Response

from loyaute.accounts import Account, Session, get_session, open_session
from loyaute.clock import Clock, SystemClock
from loyaute.config import Settings
from loyaute.i18n import LANGS
from loyaute.identity import Pseudonymizer, load_key
from loyaute.policy.register import Register
from loyaute.workspace import Paths, Workspace

SESSION_COOKIE = "loyaute_session"
LANG_COOKIE = "loyaute_lang"


@dataclass
class WorkspaceCache:
    """Parsed configuration, reloaded when a file's modification time changes."""

    home: Path
    clock: Clock = field(default_factory=SystemClock)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stamp: tuple[float, float] | None = None
    _files: tuple[Settings, Register] | None = None
    _keys: dict[Path, tuple[tuple[int, int, int], Pseudonymizer]] = field(default_factory=dict)

    def open(self) -> Workspace:
        """A workspace for one request (its databases are opened on first use)."""
        paths = Paths(self.home)
        stamp = (paths.settings.stat().st_mtime, paths.register.stat().st_mtime)
        with self._lock:
            if self._files is None or stamp != self._stamp:
                ws = Workspace.open(self.home, self.clock)
                self._files = (ws.settings, ws.register)
                self._stamp = stamp
            settings, register = self._files
        return Workspace(paths, settings, register, self.clock, key_loader=self._pseudonymizer)

    def _pseudonymizer(self, key: Path) -> Pseudonymizer:
        """The keyed pseudonymiser, read once — again only when the key file changes, its
        permissions included (``load_key`` checks them)."""
        try:
            info = key.stat()
        except FileNotFoundError:
            return load_key(key)  # raises the workspace error that says what to do
        stamp = (info.st_mtime_ns, info.st_ctime_ns, info.st_mode)
        with self._lock:
            known = self._keys.get(key)
            if known is None or known[0] != stamp:
                known = (stamp, load_key(key))
                self._keys[key] = known
            return known[1]


@dataclass
class Ctx:
    """What a route handler works with."""

    request: Request
    ws: Workspace
    session: Session | None
    lang: str
    token: str | None

    @property
    def account(self) -> Account | None:
        """The signed-in account, if any."""
        return self.session.account if self.session else None

    def t(self, fr: str, en: str) -> str:
        """French or English text for this request."""
        return en if self.lang == "en" else fr


def is_secure(request: Request) -> bool:
    """Mark the session cookie Secure unless the app is reached on loopback over plain HTTP
    (the demo); ``create_app(secure_cookies=…)`` forces either way."""
    forced = request.app.state.secure_cookies
    if forced is not None:
        return bool(forced)
    host = request.url.hostname or ""
    return request.url.scheme == "https" or host not in (
        "127.0.0.1",
        "localhost",
        "::1",
        "testserver",
    )


def start_session(ctx: Ctx, account: Account, response: Response) -> None:
    """Open a session for ``account`` and set its cookie on ``response``."""
    token = open_session(ctx.ws.state, ctx.ws.clock, account)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=is_secure(ctx.request),
        path="/",
    )


def negotiate_lang(request: Request) -> str:
    """``?lang=``, else the language cookie, else Accept-Language, else French."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in LANGS:
        return asked
    header = request.headers.get("accept-language", "")
    best = ("fr", 0.0)
    for part in header.split(","):
        piece = part.strip().split(";")
        code = piece[0].strip().lower()[:2]
        quality = 1.0
        if len(piece) > 1 and piece[1].strip().startswith("q="):
            try:
                quality = float(piece[1].strip()[2:])
            except ValueError:
                quality = 0.0
        if code in LANGS and quality > best[1]:
            best = (code, quality)
    return best[0]


def context(request: Request) -> Iterator[Ctx]:
    """FastAPI dependency: the request's context, closed when the request ends."""
    cache: WorkspaceCache = request.app.state.cache
    ws = cache.open()
    try:
        token = request.cookies.get(SESSION_COOKIE)
        session = get_session(ws.state, ws.clock, token)
        yield Ctx(request, ws, session, negotiate_lang(request), token)
    finally:
        ws.close()
