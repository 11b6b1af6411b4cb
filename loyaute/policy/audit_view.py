"""The DPO's audit page: the log filtered by person, action and date, a page at a time, each
person named the same way everywhere — their agent id, then their account's login when they have
one ("A00006 · resp.mrousseau") — whether they acted or were looked at. Reading is audited (H1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from loyaute.i18n import tr
from loyaute.policy.access import require_action
from loyaute.policy.roles import Action, Identity
from loyaute.store.audit import Entry

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    """What the DPO asked for (empty: everything)."""

    person: str = ""
    action: str = ""
    day_from: date | None = None
    day_to: date | None = None
    page: int = 1


@dataclass(frozen=True)
class AuditPage:
    """One page of matching entries, newest first, with the names to show."""

    entries: list[Entry]
    total: int
    page: int
    pages: int
    actions: list[str]
    names: dict[str, str]
    """actor login or agent id → how the page names that person."""


def audit_page(ws: Workspace, who: Identity, wanted: AuditFilter) -> AuditPage:
    """The entries matching ``wanted``, newest first, ``PAGE_SIZE`` at a time."""
    require_action(ws, who, Action.AUDIT_READ)
    accounts = ws.db.accounts.all()
    agent_of_login = {a.login: a.agent_id for a in accounts if a.agent_id}
    logins_of_agent: dict[str, list[str]] = {}
    for a in accounts:
        if a.agent_id:
            logins_of_agent.setdefault(a.agent_id, []).append(a.login)

    def name(key: str) -> str:
        agent = agent_of_login.get(key, key if key in logins_of_agent else "")
        if not agent:
            return key
        logins = logins_of_agent.get(agent, [])
        return " · ".join([agent, *logins])

    person = wanted.person.strip().casefold()
    same = {person}
    if person:
        for login, agent in agent_of_login.items():
            if person in (login.casefold(), agent.casefold()):
                same |= {login.casefold(), agent.casefold()}
    lo = wanted.day_from.isoformat() if wanted.day_from else ""
    hi = wanted.day_to.isoformat() if wanted.day_to else ""
    everything = list(ws.audit.entries())
    matching = [
        e
        for e in everything
        if (not person or e.actor.casefold() in same or e.agent_id.casefold() in same)
        and (not wanted.action or e.action == wanted.action)
        and (not lo or e.at[:10] >= lo)
        and (not hi or e.at[:10] <= hi)
    ]
    matching.reverse()
    pages = max(1, -(-len(matching) // PAGE_SIZE))
    page = min(max(1, wanted.page), pages)
    shown = matching[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    names = {k: name(k) for e in shown for k in (e.actor, e.agent_id) if k}
    # reading about one agent is an access to that agent's data: they will see it (E6)
    target = next((e.agent_id for e in matching if person and e.agent_id.casefold() in same), "")
    ws.audit.append(
        who.login,
        who.role.value,
        Action.AUDIT_READ.value,
        agent_id=target,
        reason=tr("lecture du journal des accès", "access log read"),
        details={
            "entries": len(shown),
            "page": page,
            "filtered": bool(person or wanted.action or lo or hi),
        },
    )
    return AuditPage(
        shown, len(matching), page, pages, sorted({e.action for e in everything}), names
    )
