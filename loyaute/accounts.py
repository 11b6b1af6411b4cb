"""Local accounts, passwords and sessions (rule H3, OWASP ASVS level 2).

Passwords are hashed with Argon2id; a login is locked for a while after repeated failures;
sessions are random tokens of which only a hash is stored, with an absolute and an idle expiry.
Accounts are linked to directory agents (an agent reads their own data; a manager, the aggregates
of the services they manage).
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from loyaute.clock import Clock
from loyaute.errors import InputError, UsageError
from loyaute.i18n import tr
from loyaute.policy.access import ROLES

MIN_PASSWORD = 12
MAX_FAILURES = 5
LOCK_MINUTES = 15
SESSION_HOURS = 8
IDLE_MINUTES = 30

_hasher = PasswordHasher()
# A hash to verify against when the login is unknown, so both paths cost the same time.
_DUMMY = _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class Account:
    """A signed-in person."""

    login: str
    role: str
    agent_id: str


@dataclass(frozen=True)
class Session:
    """An open session: its account and its CSRF token."""

    account: Account
    csrf: str


def create_account(
    conn: sqlite3.Connection, clock: Clock, login: str, password: str, role: str, agent_id: str = ""
) -> Account:
    """Add an account; the password is checked for length and hashed with Argon2id."""
    if role not in ROLES:
        raise UsageError(tr(f"rôle parmi {', '.join(ROLES)}", f"role among {', '.join(ROLES)}"))
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
    if (
        agent_id
        and conn.execute("SELECT 1 FROM agents WHERE agent_id = ?", (agent_id,)).fetchone() is None
    ):
        raise InputError(tr(f"agent inconnu : {agent_id}", f"unknown agent: {agent_id}"))
    try:
        conn.execute(
            "INSERT INTO accounts(login, password_hash, role, agent_id, created_at) VALUES (?, ?, ?, ?, ?)",
            (
                login,
                _hasher.hash(password),
                role,
                agent_id,
                clock.now().isoformat(timespec="seconds"),
            ),
        )
    except sqlite3.IntegrityError as exc:
        raise InputError(
            tr(f"le compte {login} existe déjà", f"account {login} already exists")
        ) from exc
    return Account(login, role, agent_id)


def authenticate(
    conn: sqlite3.Connection, clock: Clock, login: str, password: str
) -> Account | None:
    """The account when the password is right and the login not locked; None otherwise."""
    now = clock.now()
    row = conn.execute("SELECT * FROM accounts WHERE login = ?", (login,)).fetchone()
    if row is None:
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher.verify(_DUMMY, password)
        return None
    if row["locked_until"] and datetime.fromisoformat(row["locked_until"]) > now:
        return None
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        failed = row["failed"] + 1
        locked = (
            (now + timedelta(minutes=LOCK_MINUTES)).isoformat(timespec="seconds")
            if failed >= MAX_FAILURES
            else ""
        )
        conn.execute(
            "UPDATE accounts SET failed = ?, locked_until = ? WHERE login = ?",
            (0 if locked else failed, locked, login),
        )
        return None
    conn.execute("UPDATE accounts SET failed = 0, locked_until = '' WHERE login = ?", (login,))
    if _hasher.check_needs_rehash(row["password_hash"]):
        conn.execute(
            "UPDATE accounts SET password_hash = ? WHERE login = ?", (_hasher.hash(password), login)
        )
    return Account(row["login"], row["role"], row["agent_id"])


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def open_session(conn: sqlite3.Connection, clock: Clock, account: Account) -> str:
    """A new session token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    conn.execute(
        "INSERT INTO sessions(token_hash, login, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        (
            _digest(token),
            account.login,
            secrets.token_urlsafe(24),
            now.isoformat(timespec="seconds"),
            (now + timedelta(minutes=IDLE_MINUTES)).isoformat(timespec="seconds"),
        ),
    )
    return token


def get_session(conn: sqlite3.Connection, clock: Clock, token: str | None) -> Session | None:
    """The session of a token, if open and not idle too long; refreshes the idle clock."""
    if not token:
        return None
    row = conn.execute(
        "SELECT s.*, a.role, a.agent_id FROM sessions s JOIN accounts a ON a.login = s.login WHERE token_hash = ?",
        (_digest(token),),
    ).fetchone()
    now = clock.now()
    if row is None:
        return None
    expires = datetime.fromisoformat(row["expires_at"])
    idle_limit = now + timedelta(minutes=IDLE_MINUTES)
    if expires <= now:
        conn.execute("DELETE FROM sessions WHERE token_hash = ?", (row["token_hash"],))
        return None
    absolute = datetime.fromisoformat(row["created_at"]) + timedelta(hours=SESSION_HOURS)
    refreshed = min(idle_limit, absolute)
    # Written at most once a minute: a write (and its flush) on every request is not needed.
    if refreshed - expires > timedelta(minutes=1):
        conn.execute(
            "UPDATE sessions SET expires_at = ? WHERE token_hash = ?",
            (refreshed.isoformat(timespec="seconds"), row["token_hash"]),
        )
    return Session(Account(row["login"], row["role"], row["agent_id"]), row["csrf"])


def close_session(conn: sqlite3.Connection, token: str | None) -> None:
    """Log out."""
    if token:
        conn.execute("DELETE FROM sessions WHERE token_hash = ?", (_digest(token),))
