"""Local accounts, passwords, sessions and personal tokens (rules E9, H3; OWASP ASVS level 2).

Passwords are hashed with Argon2id (64 MiB a check): a server process runs a bounded number of
checks at once, the others wait briefly or are told to come back (429), so a burst of sign-ins
cannot exhaust its memory. Every sign-in costs exactly one check and gets the same answer,
whether the login is unknown, the password wrong, the account disabled or the address in
backoff, so neither the answer nor its time tells which logins exist. There is no lockout of the
account itself — that would let anyone lock anyone out: failures are counted per login *and
address*; after ``free_failures`` of them, each new attempt from that address waits, doubling up
to ``backoff_max_seconds``, and a burst of failures from addresses the login never signed in from
slows those addresses only — never the owner's usual ones. Sessions (web or command line) and
personal tokens are random secrets of which only a hash is stored, sessions with an absolute and
an idle expiry, tokens with an expiry and a revocation.
Accounts are linked to directory agents (an agent reads their own data; a manager, the aggregates
of the services they manage). Whoever signs in becomes an ``Identity``: the only way an action
names its author.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from loyaute.clock import Clock
from loyaute.config import AccountsSettings
from loyaute.errors import InputError, LoyauteError, UsageError
from loyaute.i18n import tr
from loyaute.policy.roles import ACCOUNT_ROLES, Identity, Role
from loyaute.store.accounts import DuplicateAccount

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from loyaute.store.state import Database

Account = Identity
"""A signed-in person."""

MIN_PASSWORD = 12
SESSION_HOURS = 8
IDLE_MINUTES = 30
TOKEN_DAYS = 90
TOKEN_PREFIX = "lyt_"


class _Hasher:
    """Argon2id, imported and set up on first use: a command that checks no password (``ingest``,
    ``--help``) neither imports argon2 nor hashes anything at start-up."""

    def __init__(self) -> None:
        self._real: PasswordHasher | None = None
        self._lock = threading.Lock()

    def real(self) -> PasswordHasher:
        """argon2's hasher with its default (OWASP) parameters."""
        if self._real is None:
            with self._lock:
                if self._real is None:
                    from argon2 import PasswordHasher  # noqa: PLC0415 - lazy

                    self._real = PasswordHasher()
        return self._real

    def hash(self, password: str) -> str:
        """An Argon2id hash of ``password``."""
        return self.real().hash(password)

    def verify(self, stored: str, password: str) -> bool:
        """True when ``password`` matches ``stored`` (argon2's exceptions otherwise)."""
        return bool(self.real().verify(stored, password))

    def check_needs_rehash(self, stored: str) -> bool:
        """True when ``stored`` was made with weaker parameters than today's."""
        return bool(self.real().check_needs_rehash(stored))


_hasher = _Hasher()
_dummy_lock = threading.Lock()
_dummy: list[str] = []


def _dummy_hash() -> str:
    """A hash to verify against when the login is unknown, so both paths cost the same time;
    made once per process, on its first sign-in whatever the outcome (not at import: commands
    that check no password must not pay for it)."""
    if not _dummy:
        with _dummy_lock:
            if not _dummy:
                _dummy.append(_Hasher().hash(secrets.token_hex(16)))
    return _dummy[0]


class Session:
    """An open session: its account and its CSRF token."""

    __slots__ = ("account", "csrf")

    def __init__(self, account: Identity, csrf: str) -> None:
        self.account = account
        self.csrf = csrf


def _now(clock: Clock) -> str:
    return clock.now().isoformat(timespec="seconds")


def create_account(
    db: Database, clock: Clock, login: str, password: str, role: str, agent_id: str = ""
) -> Identity:
    """Add an account; the password is checked for length and hashed with Argon2id."""
    if role not in {r.value for r in ACCOUNT_ROLES}:
        roles = ", ".join(r.value for r in ACCOUNT_ROLES)
        raise UsageError(tr(f"rôle parmi {roles}", f"role among {roles}"))
    if not login.strip() or login != login.strip():
        raise UsageError(tr("identifiant vide ou entouré d'espaces", "empty or padded login"))
    if len(password) < MIN_PASSWORD:
        raise UsageError(
            tr(
                f"mot de passe d'au moins {MIN_PASSWORD} caractères",
                f"password of at least {MIN_PASSWORD} characters",
            )
        )
    if role in ("agent", "manager") and not agent_id:
        raise UsageError(
            tr(
                "un compte agent ou responsable est lié à un agent de l'annuaire",
                "an agent or manager account is linked to a directory agent",
            )
        )
    if agent_id and db.agents.get(agent_id) is None:
        raise InputError(tr(f"agent inconnu : {agent_id}", f"unknown agent: {agent_id}"))
    try:
        db.accounts.add(login, _hasher.hash(password), role, agent_id, _now(clock))
    except DuplicateAccount as exc:
        raise InputError(
            tr(f"le compte {login} existe déjà", f"account {login} already exists")
        ) from exc
    return Identity(login, Role(role), agent_id)


class PasswordChecksBusy(LoyauteError):
    """Every password check of this process is taken: come back in a moment (HTTP 429)."""


_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _slot(size: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        if size not in _slots:
            _slots[size] = threading.BoundedSemaphore(size)
        return _slots[size]


def authenticate(
    db: Database,
    clock: Clock,
    login: str,
    password: str,
    address: str = "?",
    settings: AccountsSettings | None = None,
) -> Identity | None:
    """The account when the password is right, the account enabled and the address not in
    backoff; None otherwise — after exactly one Argon2 check in every case."""
    settings = settings or AccountsSettings()
    slot = _slot(settings.concurrent_password_checks)
    if not slot.acquire(timeout=settings.password_check_wait_ms / 1000):
        raise PasswordChecksBusy(
            tr(
                "trop de connexions en cours : réessayer dans un instant",
                "too many sign-ins at once: retry in a moment",
            )
        )
    try:
        return _authenticate(db, clock, login, password, address, settings)
    finally:
        slot.release()


def must_wait(
    db: Database, clock: Clock, login: str, address: str, settings: AccountsSettings
) -> datetime | None:
    """Until when attempts of ``login`` from ``address`` are refused (None: they are not)."""
    now = clock.now()
    failed = db.signins.failures(login, address)
    if failed is not None and failed.failures >= settings.free_failures:
        delay = min(
            settings.backoff_base_seconds * 2 ** (failed.failures - settings.free_failures),
            settings.backoff_max_seconds,
        )
        until = datetime.fromisoformat(failed.last_failure_at) + timedelta(seconds=delay)
        if now < until:
            return until
    if not db.signins.is_known(login, address):
        hour_ago = (now - timedelta(hours=1)).isoformat(timespec="seconds")
        if (
            db.signins.recent_failures_elsewhere(login, hour_ago)
            >= settings.unknown_address_failures
        ):
            return now + timedelta(minutes=1)
    return None


def _authenticate(
    db: Database,
    clock: Clock,
    login: str,
    password: str,
    address: str,
    settings: AccountsSettings,
) -> Identity | None:
    from argon2.exceptions import (  # noqa: PLC0415 - lazy
        InvalidHashError,
        VerificationError,
        VerifyMismatchError,
    )

    now = _now(clock)
    # Made before the branch: the first sign-in of a process pays for it on either path.
    dummy = _dummy_hash()
    row = db.accounts.get(login)
    refused = (
        row is None
        or row.origin != "local"  # an account of the identity provider has no password here
        or db.signins.is_disabled(login)
        or must_wait(db, clock, login, address, settings) is not None
    )
    stored = row.password_hash if row is not None and not refused else dummy
    ok = False
    with contextlib.suppress(VerifyMismatchError, VerificationError, InvalidHashError):
        ok = _hasher.verify(stored, password)
    if refused or not ok or row is None:
        db.signins.fail(login[:200], address[:100], now)
        return None
    db.signins.succeed(login, address[:100], now)
    if _hasher.check_needs_rehash(row.password_hash):
        db.accounts.set_password_hash(login, _hasher.hash(password))
    return Identity(row.login, Role(row.role), row.agent_id)


def unlock(db: Database, login: str) -> int:
    """``account unlock``: forget the login's failures (every address)."""
    return db.signins.clear(login)


def set_disabled(db: Database, clock: Clock, login: str, disabled: bool, by: str) -> None:
    """``account disable`` / ``enable``: a disabled account signs in nowhere, its sessions end
    and its tokens stop working."""
    if db.accounts.get(login) is None:
        raise InputError(tr(f"compte inconnu : {login}", f"unknown account: {login}"))
    if disabled:
        db.signins.disable(login, _now(clock), by)
    else:
        db.signins.enable(login)


def digest(token: str) -> str:
    """The stored form of a session or personal token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def open_session(db: Database, clock: Clock, account: Identity, kind: str = "web") -> str:
    """A new session token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    db.accounts.open_session(
        digest(token),
        account.login,
        secrets.token_urlsafe(24),
        now.isoformat(timespec="seconds"),
        (now + timedelta(minutes=IDLE_MINUTES)).isoformat(timespec="seconds"),
        kind,
    )
    return token


def get_session(db: Database, clock: Clock, token: str | None, kind: str = "web") -> Session | None:
    """The session of a token, if open and not idle too long; refreshes the idle clock. A web
    session is no command-line session, and the reverse."""
    if not token:
        return None
    row = db.accounts.session(digest(token))
    now = clock.now()
    if row is None or row.kind != kind or db.signins.is_disabled(row.login):
        return None
    expires = datetime.fromisoformat(row.expires_at)
    idle_limit = now + timedelta(minutes=IDLE_MINUTES)
    if expires <= now:
        db.accounts.close_session(row.token_hash)
        return None
    absolute = datetime.fromisoformat(row.created_at) + timedelta(hours=SESSION_HOURS)
    refreshed = min(idle_limit, absolute)
    # Written at most once a minute: a write (and its flush) on every request is not needed.
    if refreshed - expires > timedelta(minutes=1):
        db.accounts.touch_session(row.token_hash, refreshed.isoformat(timespec="seconds"))
    return Session(Identity(row.login, Role(row.role), row.agent_id), row.csrf)


def close_session(db: Database, token: str | None) -> None:
    """Log out."""
    if token:
        db.accounts.close_session(digest(token))


def issue_token(
    db: Database, clock: Clock, account: Identity, days: int = TOKEN_DAYS
) -> tuple[int, str]:
    """A new personal token for automation (shown once; only its hash is stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    number = db.accounts.add_token(
        digest(token),
        account.login,
        now.isoformat(timespec="seconds"),
        (now + timedelta(days=days)).isoformat(timespec="seconds"),
    )
    return number, token


def token_identity(db: Database, clock: Clock, token: str | None) -> Identity | None:
    """The account of a live personal token (not expired, not revoked), or None."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    row = db.accounts.token(digest(token))
    if row is None or row.revoked_at or datetime.fromisoformat(row.expires_at) <= clock.now():
        return None
    if db.signins.is_disabled(row.login):
        return None
    return Identity(row.login, Role(row.role), row.agent_id)


def revoke_token(db: Database, clock: Clock, account: Identity, token_id: int) -> None:
    """Revoke one of the account's own tokens."""
    if not db.accounts.revoke_token(token_id, account.login, _now(clock)):
        raise InputError(
            tr(f"jeton {token_id} inconnu ou déjà révoqué", f"token {token_id} unknown or revoked")
        )


OIDC_PENDING_MINUTES = 10
"""How long a sign-in begun at the identity provider may take to come back."""


def provider_account(
    db: Database, clock: Clock, subject: str, login: str, role: str, agent_id: str
) -> Identity:
    """The account of a person the identity provider signed in (created on first sign-in;
    role and agent refreshed at each one, as the groups and the directory say today). A local
    account with the same login is never taken over: ``DuplicateAccount``."""
    existing = db.accounts.by_subject(subject)
    if existing is None:
        db.accounts.save_oidc(login, subject, role, agent_id, _now(clock))
        return Identity(login, Role(role), agent_id)
    db.accounts.save_oidc(existing.login, subject, role, agent_id, _now(clock))
    return Identity(existing.login, Role(role), agent_id)


def begin_provider_sign_in(
    db: Database, clock: Clock, state: str, browser: str, nonce: str, verifier: str
) -> None:
    """Keep a sign-in begun at the provider (only hashes of the state and of the browser's
    binding cookie; unfinished ones older than ten minutes are forgotten)."""
    now = clock.now()
    db.accounts.delete_pending_before(
        (now - timedelta(minutes=OIDC_PENDING_MINUTES)).isoformat(timespec="seconds")
    )
    db.accounts.add_pending(digest(state), digest(browser), nonce, verifier, _now(clock))


def finish_provider_sign_in(
    db: Database, clock: Clock, state: str, browser: str
) -> tuple[str, str] | None:
    """(nonce, verifier) of the sign-in this state began in this browser, used up; None when
    unknown, already used, expired or begun in another browser."""
    if not state:
        return None
    row = db.accounts.take_pending(digest(state))
    if row is None:
        return None
    browser_hash, nonce, verifier, created = row
    fresh = clock.now() - datetime.fromisoformat(created) <= timedelta(minutes=OIDC_PENDING_MINUTES)
    if not fresh or not browser or not secrets.compare_digest(browser_hash, digest(browser)):
        return None
    return nonce, verifier
