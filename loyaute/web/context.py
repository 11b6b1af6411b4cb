"""Per-request context: a workspace with its own database connections, the session, the language.

Settings and register are parsed once and re-read when their files change. A file that no longer
parses while the server runs does not take the site down: the last good configuration stays in
use, the problem is kept for the DPO's and the operator's banner (nobody else sees it), and
``/healthz`` reports ``degraded``. Each request gets fresh SQLite connections (they are not
shared between threads) and closes them when it ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request

from loyaute import labels
from loyaute.accounts import Session, get_session
from loyaute.clock import Clock, SystemClock
from loyaute.config import Settings
from loyaute.errors import ConfigError
from loyaute.i18n import LANGS, lang
from loyaute.identity import Pseudonymizer, load_key
from loyaute.policy.register import Register
from loyaute.policy.roles import Identity
from loyaute.workspace import Paths, Workspace

SESSION_COOKIE = "loyaute_session"
LANG_COOKIE = "loyaute_lang"


@dataclass
class WorkspaceCache:
    """Parsed configuration, reloaded when a file's modification time changes; the last good
    one is kept when a changed file does not parse."""

    home: Path
    clock: Clock = field(default_factory=SystemClock)
    problem: str = ""
    """Why the configuration on disk is not in use ('' when it is)."""
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
                try:
                    ws = Workspace.open(self.home, self.clock)
                except ConfigError as exc:
                    if self._files is None:
                        raise  # no good configuration to fall back on: the server cannot start
                    self.problem = str(exc)
                else:
                    self._files = (ws.settings, ws.register)
                    self.problem = ""
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
    config_problem: str = ""

    @property
    def account(self) -> Identity | None:
        """The signed-in account, if any."""
        return self.session.account if self.session else None

    def t(self, fr: str, en: str) -> str:
        """French or English text for this request."""
        return en if self.lang == "en" else fr

    def label(self, kind: str, code: object) -> str:
        """The label of a code in this request's language (``labels.label``)."""
        return labels.label(kind, code)


def negotiate(asked: str | None, cookie: str | None, accept_language: str) -> str:
    """``?lang=``, else the language cookie, else Accept-Language, else French."""
    for choice in (asked, cookie):
        if choice in LANGS:
            return choice
    best = ("fr", 0.0)
    for part in accept_language.split(","):
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


def negotiate_lang(request: Request) -> str:
    """The request's language (see ``negotiate``)."""
    return negotiate(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language", ""),
    )


def context(request: Request) -> Iterator[Ctx]:
    """FastAPI dependency: the request's context, closed when the request ends."""
    cache: WorkspaceCache = request.app.state.cache
    ws = cache.open()
    try:
        token = request.cookies.get(SESSION_COOKIE)
        session = get_session(ws.db, ws.clock, token)
        # the middleware has set the request's language (i18n.use_lang) for domain code too
        yield Ctx(request, ws, session, lang(), token, cache.problem)
    finally:
        ws.close()
