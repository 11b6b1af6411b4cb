"""Delivery of the information notice (rules A5, A7): each agent's date, the start of their T0."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from loyaute.errors import InputError
from loyaute.i18n import tr
from loyaute.policy.roles import Identity

if TYPE_CHECKING:
    from loyaute.workspace import Workspace


def record_notices(ws: Workspace, who: Identity, on: date, agent_ids: list[str] | None) -> int:
    """Record that the notice was delivered on ``on`` to these agents (every agent when None)."""
    known = set(ws.db.agents.all())  # the current directory: a departed agent gets no notice
    if agent_ids is None:
        targets = sorted(known)
    else:
        unknown = [a for a in agent_ids if a not in known]
        if unknown:
            raise InputError(
                tr(
                    f"agent(s) inconnu(s) : {', '.join(unknown)}",
                    f"unknown agent(s): {', '.join(unknown)}",
                )
            )
        targets = agent_ids
    if not targets:
        raise InputError(
            tr(
                "l'annuaire est vide : `directory import` d'abord",
                "empty directory: run `directory import` first",
            )
        )
    ws.db.notices.record(targets, on)
    ws.audit.append(
        who.login,
        who.role.value,
        "notice_recorded",
        reason=tr("remise de la notice d'information", "notice delivered"),
        details={"agents": len(targets), "on": on.isoformat()},
    )
    return len(targets)
