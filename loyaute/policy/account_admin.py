"""The DPO's accounts page and the ``account unlock|disable|enable`` commands: one function each
for listing and changing accounts, checked (``ACCOUNTS_MANAGE``) and audited the same way from
the web and the command line (E9).

There is no lockout to configure: repeated failures slow down one login from one address
(``[accounts]`` backoff settings, ``accounts.must_wait``); ``unlock`` forgets them at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from loyaute.accounts import set_disabled, unlock
from loyaute.errors import InputError, UsageError
from loyaute.i18n import tr
from loyaute.policy.access import require_action
from loyaute.policy.roles import Action, Identity

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

CHANGES = ("unlock", "disable", "enable")


@dataclass(frozen=True)
class AccountLine:
    """An account as the DPO's page lists it (never a password hash)."""

    login: str
    role: str
    agent_id: str
    origin: str
    created_at: str
    failures: int
    disabled: bool


def list_accounts(ws: Workspace, who: Identity) -> list[AccountLine]:
    """Every account with its failed sign-ins and whether it is disabled."""
    require_action(ws, who, Action.ACCOUNTS_MANAGE)
    disabled = ws.db.signins.disabled_logins()
    return [
        AccountLine(
            a.login,
            a.role,
            a.agent_id,
            a.origin,
            a.created_at,
            ws.db.signins.failure_count(a.login),
            a.login in disabled,
        )
        for a in sorted(ws.db.accounts.all(), key=lambda a: (a.role, a.login))
    ]


def change_account(ws: Workspace, who: Identity, login: str, what: str) -> None:
    """Unlock (forget failed sign-ins), disable or enable an account; audited."""
    require_action(ws, who, Action.ACCOUNTS_MANAGE)
    if what not in CHANGES:
        raise UsageError(tr(f"action inconnue : {what}", f"unknown action: {what}"))
    if ws.db.accounts.get(login) is None:
        raise InputError(tr(f"compte inconnu : {login}", f"unknown account: {login}"))
    if what == "disable" and login == who.login:
        raise InputError(
            tr("on ne désactive pas son propre compte", "one cannot disable one's own account")
        )
    if what == "unlock":
        unlock(ws.db, login)
    else:
        set_disabled(ws.db, ws.clock, login, what == "disable", who.login)
    ws.audit.append(who.login, who.role.value, f"account_{what}", details={"login": login})
