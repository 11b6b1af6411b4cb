"""Accounts, sessions (web and command line) and personal tokens; only hashes of secrets."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

from loyaute.store.state import Repo, row_to, transaction


class DuplicateAccount(Exception):
    """The login is taken."""


@dataclass(frozen=True)
class AccountRow:
    """An account as stored."""

    login: str
    password_hash: str
    role: str
    agent_id: str
    failed: int
    locked_until: str
    created_at: str
    origin: str = "local"
    """'local' (a loyaute password) or 'oidc' (signed in through the provider only)."""
    subject: str = ""
    """For 'oidc': the provider's issuer and subject, the person's stable identity there."""


@dataclass(frozen=True)
class SessionRow:
    """A session as stored, with its account's role and agent."""

    token_hash: str
    login: str
    csrf: str
    created_at: str
    expires_at: str
    kind: str
    role: str
    agent_id: str


@dataclass(frozen=True)
class TokenRow:
    """A personal token as stored, with its account's role and agent."""

    id: int
    login: str
    created_at: str
    expires_at: str
    revoked_at: str
    role: str
    agent_id: str


class AccountRepo(Repo):
    """accounts, sessions, tokens."""

    def add(self, login: str, password_hash: str, role: str, agent_id: str, at: str) -> None:
        """Create an account; ``DuplicateAccount`` when the login exists."""
        try:
            self.conn.execute(
                "INSERT INTO accounts(login, password_hash, role, agent_id, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (login, password_hash, role, agent_id, at),
            )
        except sqlite3.IntegrityError as exc:
            raise DuplicateAccount(login) from exc

    def get(self, login: str) -> AccountRow | None:
        """One account, or None."""
        row = self.conn.execute("SELECT * FROM accounts WHERE login = ?", (login,)).fetchone()
        return None if row is None else row_to(AccountRow, row)

    def all(self) -> list[AccountRow]:
        """Every account."""
        return [
            row_to(AccountRow, r)
            for r in self.conn.execute("SELECT * FROM accounts ORDER BY login")
        ]

    def set_failures(self, login: str, failed: int, locked_until: str) -> None:
        """Failure count and lock of an account."""
        self.conn.execute(
            "UPDATE accounts SET failed = ?, locked_until = ? WHERE login = ?",
            (failed, locked_until, login),
        )

    def set_password_hash(self, login: str, password_hash: str) -> None:
        """Replace a password hash (rehash on sign-in)."""
        self.conn.execute(
            "UPDATE accounts SET password_hash = ? WHERE login = ?", (password_hash, login)
        )

    def by_subject(self, subject: str) -> AccountRow | None:
        """The provider-signed-in account of a subject, or None."""
        row = self.conn.execute(
            "SELECT * FROM accounts WHERE origin = 'oidc' AND subject = ?", (subject,)
        ).fetchone()
        return None if row is None else row_to(AccountRow, row)

    def save_oidc(self, login: str, subject: str, role: str, agent_id: str, at: str) -> None:
        """Create or update the account of a person signed in through the provider: no usable
        password, role and agent as the provider and the directory say today."""
        with transaction(self.conn):
            updated = self.conn.execute(
                "UPDATE accounts SET role = ?, agent_id = ? WHERE origin = 'oidc' AND subject = ?",
                (role, agent_id, subject),
            ).rowcount
            if not updated:
                try:
                    self.conn.execute(
                        "INSERT INTO accounts(login, password_hash, role, agent_id, created_at, "
                        "origin, subject) VALUES (?, '!', ?, ?, ?, 'oidc', ?)",
                        (login, role, agent_id, at, subject),
                    )
                except sqlite3.IntegrityError as exc:
                    raise DuplicateAccount(login) from exc

    # --- pending provider sign-ins ------------------------------------------------------------

    def add_pending(
        self, state_hash: str, browser_hash: str, nonce: str, verifier: str, at: str
    ) -> None:
        """Keep a sign-in begun at the provider until the browser comes back."""
        self.conn.execute(
            "INSERT INTO oidc_pending(state_hash, browser_hash, nonce, verifier, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (state_hash, browser_hash, nonce, verifier, at),
        )

    def take_pending(self, state_hash: str) -> tuple[str, str, str, str] | None:
        """(browser hash, nonce, verifier, created at) of a pending sign-in, removed as it is
        read: a state serves once."""
        with transaction(self.conn):
            row = self.conn.execute(
                "SELECT browser_hash, nonce, verifier, created_at FROM oidc_pending "
                "WHERE state_hash = ?",
                (state_hash,),
            ).fetchone()
            self.conn.execute("DELETE FROM oidc_pending WHERE state_hash = ?", (state_hash,))
        return None if row is None else (row[0], row[1], row[2], row[3])

    def delete_pending_before(self, at: str) -> int:
        """Forget sign-ins begun before ``at`` and never finished."""
        return int(
            self.conn.execute("DELETE FROM oidc_pending WHERE created_at < ?", (at,)).rowcount
        )

    # --- sessions ---------------------------------------------------------------------------------

    def open_session(
        self, token_hash: str, login: str, csrf: str, created: str, expires: str, kind: str
    ) -> None:
        """Store a new session."""
        self.conn.execute(
            "INSERT INTO sessions(token_hash, login, csrf, created_at, expires_at, kind) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (token_hash, login, csrf, created, expires, kind),
        )

    def session(self, token_hash: str) -> SessionRow | None:
        """A session with its account's role, or None."""
        row = self.conn.execute(
            "SELECT s.*, a.role, a.agent_id FROM sessions s JOIN accounts a ON a.login = s.login "
            "WHERE token_hash = ?",
            (token_hash,),
        ).fetchone()
        return None if row is None else row_to(SessionRow, row)

    def touch_session(self, token_hash: str, expires: str) -> None:
        """Move a session's idle expiry."""
        self.conn.execute(
            "UPDATE sessions SET expires_at = ? WHERE token_hash = ?", (expires, token_hash)
        )

    def close_session(self, token_hash: str) -> None:
        """End a session."""
        self.conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    def csrf_of(self, token_hash: str) -> str | None:
        """A session's CSRF token."""
        row = self.conn.execute(
            "SELECT csrf FROM sessions WHERE token_hash = ?", (token_hash,)
        ).fetchone()
        return None if row is None else str(row[0])

    def delete_sessions_before(self, at: str) -> int:
        """Remove sessions expired before ``at``."""
        return int(self.conn.execute("DELETE FROM sessions WHERE expires_at < ?", (at,)).rowcount)

    def delete_accounts(self, logins: list[str]) -> int:
        """Delete accounts (their sessions and tokens go with them) and their disabled mark."""
        with transaction(self.conn):
            for login in logins:
                self.conn.execute("DELETE FROM disabled_accounts WHERE login = ?", (login,))
                self.conn.execute("DELETE FROM accounts WHERE login = ?", (login,))
        return len(logins)

    def disabled_since(self) -> dict[str, str]:
        """login → when it was disabled."""
        return {r[0]: r[1] for r in self.conn.execute("SELECT login, at FROM disabled_accounts")}

    # --- personal tokens --------------------------------------------------------------------------

    def add_token(self, token_hash: str, login: str, created: str, expires: str) -> int:
        """Store a personal token; its number."""
        cur = self.conn.execute(
            "INSERT INTO tokens(token_hash, login, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (token_hash, login, created, expires),
        )
        return int(cur.lastrowid or 0)

    def token(self, token_hash: str) -> TokenRow | None:
        """A token with its account's role, or None."""
        row = self.conn.execute(
            "SELECT t.id, t.login, t.created_at, t.expires_at, t.revoked_at, a.role, a.agent_id "
            "FROM tokens t JOIN accounts a ON a.login = t.login WHERE t.token_hash = ?",
            (token_hash,),
        ).fetchone()
        return None if row is None else row_to(TokenRow, row)

    def tokens_of(self, login: str) -> list[TokenRow]:
        """An account's tokens."""
        return [
            row_to(TokenRow, r)
            for r in self.conn.execute(
                "SELECT t.id, t.login, t.created_at, t.expires_at, t.revoked_at, a.role, a.agent_id "
                "FROM tokens t JOIN accounts a ON a.login = t.login WHERE t.login = ? ORDER BY t.id",
                (login,),
            )
        ]

    def delete_tokens_before(self, at: str) -> int:
        """Forget tokens that expired, or were revoked, before ``at``."""
        return int(
            self.conn.execute(
                "DELETE FROM tokens WHERE expires_at < ? OR (revoked_at != '' AND revoked_at < ?)",
                (at, at),
            ).rowcount
        )

    def revoke_token(self, token_id: int, login: str, at: str) -> bool:
        """Revoke one of an account's tokens; False when there is no such live token."""
        cur = self.conn.execute(
            "UPDATE tokens SET revoked_at = ? WHERE id = ? AND login = ? AND revoked_at = ''",
            (at, token_id, login),
        )
        return cur.rowcount == 1


@dataclass(frozen=True)
class Failures:
    """Failed sign-ins of one login from one address."""

    failures: int
    last_failure_at: str


def _digest(login: str) -> str:
    """What the sign-in tables keep of a login typed in: a digest, because what someone types
    in the login field may be their password (H3); equal logins give equal digests."""
    return hashlib.sha256(b"loyaute-signin\0" + login.encode("utf-8", "replace")).hexdigest()[:32]


class SigninRepo(Repo):
    """Failed sign-ins per login and address, the addresses a login signed in from, and
    disabled accounts (the sign-in backoff of ``accounts.py``). Logins typed in are kept as
    digests only."""

    def failures(self, login: str, address: str) -> Failures | None:
        """The failures of ``login`` from ``address``."""
        row = self.conn.execute(
            "SELECT failures, last_failure_at FROM signin_failures WHERE login = ? AND address = ?",
            (_digest(login), address),
        ).fetchone()
        return None if row is None else Failures(int(row[0]), str(row[1]))

    def recent_failures_elsewhere(self, login: str, since: str) -> int:
        """Failures of ``login`` since ``since`` from addresses it never signed in from."""
        row = self.conn.execute(
            "SELECT COALESCE(SUM(f.failures), 0) FROM signin_failures f WHERE f.login = ? "
            "AND f.last_failure_at >= ? AND NOT EXISTS (SELECT 1 FROM signin_known k "
            "WHERE k.login = f.login AND k.address = f.address)",
            (_digest(login), since),
        ).fetchone()
        return int(row[0])

    def is_known(self, login: str, address: str) -> bool:
        """True when ``login`` signed in from ``address`` before."""
        return (
            self.conn.execute(
                "SELECT 1 FROM signin_known WHERE login = ? AND address = ?",
                (_digest(login), address),
            ).fetchone()
            is not None
        )

    def fail(self, login: str, address: str, at: str) -> None:
        """Count a failure."""
        self.conn.execute(
            "INSERT INTO signin_failures(login, address, failures, last_failure_at) "
            "VALUES (?, ?, 1, ?) ON CONFLICT(login, address) DO UPDATE SET "
            "failures = failures + 1, last_failure_at = excluded.last_failure_at",
            (_digest(login), address, at),
        )

    def succeed(self, login: str, address: str, at: str) -> None:
        """Forget this address's failures and remember it as the login's."""
        key = _digest(login)
        self.conn.execute(
            "DELETE FROM signin_failures WHERE login = ? AND address = ?", (key, address)
        )
        self.conn.execute(
            "INSERT INTO signin_known(login, address, last_success_at) VALUES (?, ?, ?) "
            "ON CONFLICT(login, address) DO UPDATE SET last_success_at = excluded.last_success_at",
            (key, address, at),
        )

    def clear(self, login: str) -> int:
        """Forget every failure of a login (``account unlock``)."""
        return int(
            self.conn.execute(
                "DELETE FROM signin_failures WHERE login = ?", (_digest(login),)
            ).rowcount
        )

    def forget_before(self, failures_before: str, known_before: str) -> int:
        """Retention: failures last seen before ``failures_before`` (their backoff is long over)
        and addresses not used for a sign-in since ``known_before``."""
        with transaction(self.conn):
            a = self.conn.execute(
                "DELETE FROM signin_failures WHERE last_failure_at < ?", (failures_before,)
            ).rowcount
            b = self.conn.execute(
                "DELETE FROM signin_known WHERE last_success_at < ?", (known_before,)
            ).rowcount
        return int(a) + int(b)

    def disable(self, login: str, at: str, by: str) -> None:
        """Disable an account: no sign-in, sessions and tokens refused."""
        self.conn.execute(
            "INSERT INTO disabled_accounts(login, at, by) VALUES (?, ?, ?) "
            "ON CONFLICT(login) DO UPDATE SET at = excluded.at, by = excluded.by",
            (login, at, by),
        )
        self.conn.execute("DELETE FROM sessions WHERE login = ?", (login,))

    def enable(self, login: str) -> bool:
        """Enable a disabled account again."""
        return bool(
            self.conn.execute("DELETE FROM disabled_accounts WHERE login = ?", (login,)).rowcount
        )

    def failure_count(self, login: str) -> int:
        """Failed sign-ins of ``login`` not yet forgiven, from every address."""
        row = self.conn.execute(
            "SELECT COALESCE(SUM(failures), 0) FROM signin_failures WHERE login = ?",
            (_digest(login),),
        ).fetchone()
        return int(row[0])

    def disabled_logins(self) -> set[str]:
        """Every disabled account."""
        return {str(r[0]) for r in self.conn.execute("SELECT login FROM disabled_accounts")}

    def is_disabled(self, login: str) -> bool:
        """True when the account is disabled."""
        return (
            self.conn.execute(
                "SELECT 1 FROM disabled_accounts WHERE login = ?", (login,)
            ).fetchone()
            is not None
        )
