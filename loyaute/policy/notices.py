"""Delivery of the information notice (rules A5, A7): each agent's date, the start of their T0."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from loyaute.errors import InputError
from loyaute.i18n import tr
from loyaute.store.state import transaction

if TYPE_CHECKING:
    from loyaute.workspace import Workspace


def record_notices(ws: Workspace, on: date, agent_ids: list[str] | None, actor: str) -> int:
    """Record that the notice was delivered on ``on`` to these agents (every agent when None)."""
    known = {r[0] for r in ws.state.execute("SELECT agent_id FROM agents")}
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
    with transaction(ws.state):
        ws.state.executemany(
            "INSERT INTO notices(agent_id, delivered_on) VALUES (?, ?) "
            "ON CONFLICT(agent_id) DO UPDATE SET delivered_on = excluded.delivered_on",
            [(a, on.isoformat()) for a in targets],
        )
    ws.audit.append(
        actor,
        "dpo",
        "notice_recorded",
        reason=tr("remise de la notice d'information", "notice delivered"),
        details={"agents": len(targets), "on": on.isoformat()},
    )
    return len(targets)
