"""Individual review cases (rules D5, D6, E1, E4, F4): never systematic, always human.

A case names a reviewer, a written reason and a period. It opens only when every gate holds (the
committee fingerprint included), in cross-check mode, for a period after the agent's T0, for an
eligible family the validity study found reliable, and for an agent without a pending objection.
Opening notifies the agent and puts a hold (owner, expiry) on the period's records; only the
reviewer sees the case, re-identified, for its period, and every view is audited. The agent can
answer; closing records a human decision with its evidence bundle, which the agent can export.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loyaute.errors import GateError, InputError, UsageError
from loyaute.i18n import tr
from loyaute.policy import gates as gates_mod
from loyaute.policy.access import Grant, check_alerts, individual_access
from loyaute.policy.rights import agent_side, notify
from loyaute.reports.agent_view import RecordRow, agent_records, t0_of
from loyaute.reports.validity import family_reliability
from loyaute.store.state import objecting_agents

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

HOLD_OPEN_DAYS = 365
"""A hold while a case is open expires after a year at most (F4: no hold without expiry)."""


@dataclass
class CaseView:
    """What the reviewer sees: the agent re-identified, the period's records and their side."""

    case: dict[str, Any]
    agent: dict[str, Any]
    records: list[RecordRow]
    answers: list[dict[str, Any]]


def _now(ws: Workspace) -> str:
    return ws.clock.now().isoformat(timespec="seconds")


def open_case(
    ws: Workspace,
    opened_by: str,
    agent_id: str,
    reviewer: str,
    reason: str,
    day_from: date,
    day_to: date,
    role: str = "hr_reviewer",
) -> int:
    """Open a case after every check; notify the agent; hold the period's records.

    Every refusal — a gate, the mode, the period, the family, an objection, the opener's role — is
    audited against the agent and counts towards the DPO's repeated-refusal alert (H1, H2)."""
    if not reason.strip() or not reviewer.strip():
        raise UsageError(
            tr(
                "un dossier nomme un relecteur et un motif écrit (D5)",
                "a case names a reviewer and a written reason (D5)",
            )
        )
    if day_to < day_from:
        raise UsageError(tr("période vide", "empty period"))
    agent = ws.state.execute("SELECT * FROM agents WHERE agent_id = ?", (agent_id,)).fetchone()
    if agent is None:
        raise InputError(tr(f"agent inconnu : {agent_id}", f"unknown agent: {agent_id}"))
    refusals = [
        f"{g.id} {g.reason}"
        for g in gates_mod.evaluate(ws.settings, ws.register)
        if g.id in ("A1", "A2", "A3", "A4", "A5") and not g.ok
    ]
    if role != "hr_reviewer":
        refusals.append(
            tr(
                f"seul un relecteur RH ouvre un dossier, pas le rôle {role} (E5)",
                f"only an HR reviewer opens a case, not the role {role} (E5)",
            )
        )
    if ws.register.purpose.mode != "crosscheck":
        refusals.append(
            tr(
                "mode déclaratif : aucun dossier sur les traces (D2)",
                "declarative mode: no case on traces (D2)",
            )
        )
    t0 = t0_of(ws, agent_id)
    if t0 is None or day_from < t0:
        refusals.append(
            tr(
                f"la période commence avant le T0 de l'agent ({t0}) (E1)",
                f"the period starts before the agent's T0 ({t0}) (E1)",
            )
        )
    today = ws.clock.now().astimezone(ws.settings.zone).date()
    if day_to > today:
        refusals.append(tr("la période déborde sur l'avenir", "the period runs into the future"))
    family = agent["job_family"]
    if family.casefold() not in {f.casefold() for f in ws.register.purpose.eligible_job_families}:
        refusals.append(
            tr(
                f"famille de métiers {family} non éligible (B5)",
                f"job family {family} not eligible (B5)",
            )
        )
    reliable = family_reliability(ws).get(family)
    if reliable is not True:
        why = (
            tr("non fiable selon l'étude de validité", "unreliable according to the validity study")
            if reliable is False
            else tr(
                "fiabilité non établie par l'étude de validité",
                "reliability not established by the validity study",
            )
        )
        refusals.append(tr(f"famille de métiers {family} {why}", f"job family {family} {why}"))
    if agent_id in objecting_agents(ws.state):
        refusals.append(
            tr(
                "opposition de l'agent en attente de décision ou accueillie (G3)",
                "the agent's objection awaits a decision or was upheld (G3)",
            )
        )
    if refusals:
        ws.audit.append(
            opened_by,
            role,
            "refused",
            agent_id=agent_id,
            reason="; ".join(refusals),
            details={"attempted": "case_open"},
        )
        check_alerts(ws, opened_by)
        raise GateError(
            tr("dossier refusé : ", "case refused: ") + " ; ".join(refusals),
            hint=tr("voir `loyaute gates`", "see `loyaute gates`"),
        )
    cur = ws.state.execute(
        "INSERT INTO cases(agent_id, reviewer, reason, day_from, day_to, opened_at, opened_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            agent_id,
            reviewer,
            reason.strip(),
            day_from.isoformat(),
            day_to.isoformat(),
            _now(ws),
            opened_by,
        ),
    )
    case_id = int(cur.lastrowid or 0)
    ws.state.execute(
        "INSERT INTO holds(agent, day_from, day_to, owner, expires_on, case_id) VALUES (?, ?, ?, ?, ?, ?)",
        (
            ws.pseudonymizer.pseudonym(agent_id),
            day_from.isoformat(),
            day_to.isoformat(),
            reviewer,
            (today + timedelta(days=HOLD_OPEN_DAYS)).isoformat(),
            case_id,
        ),
    )
    notify(
        ws,
        agent_id,
        "case_opened",
        tr(
            f"Un dossier d'examen n° {case_id} a été ouvert sur la période du {day_from} au {day_to}. "
            f"Relecteur : {reviewer}. Motif : {reason}. Vous pouvez y répondre avant toute décision.",
            f"Review case #{case_id} was opened for {day_from} to {day_to}. Reviewer: {reviewer}. "
            f"Reason: {reason}. You may answer before any decision.",
        ),
    )
    ws.audit.append(
        opened_by,
        role,
        "case_open",
        agent_id=agent_id,
        reason=reason.strip(),
        details={"case": case_id, "from": day_from.isoformat(), "to": day_to.isoformat()},
    )
    return case_id


def _case(ws: Workspace, case_id: int) -> dict[str, Any]:
    row = ws.state.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
    if row is None:
        raise InputError(tr(f"dossier inconnu : {case_id}", f"unknown case: {case_id}"))
    return dict(row)


def _period_records(ws: Workspace, case: dict[str, Any]) -> list[RecordRow]:
    return agent_records(
        ws,
        case["agent_id"],
        date.fromisoformat(case["day_from"]),
        date.fromisoformat(case["day_to"]),
    )


def show_case(ws: Workspace, case_id: int, actor: str, role: str = "hr_reviewer") -> CaseView:
    """E4: the reviewer sees the agent re-identified, only for the case's period; audited."""
    case = _case(ws, case_id)
    individual_access(
        ws, actor, role, "case_view", case["agent_id"], case["reason"], case_id=case_id
    )
    agent = dict(
        ws.state.execute(
            "SELECT agent_id, display_name, service, job_family FROM agents WHERE agent_id = ?",
            (case["agent_id"],),
        ).fetchone()
    )
    answers = [
        dict(r)
        for r in ws.state.execute(
            "SELECT at, text FROM case_answers WHERE case_id = ? ORDER BY id", (case_id,)
        )
    ]
    return CaseView(case, agent, _period_records(ws, case), answers)


def answer_case(ws: Workspace, case_id: int, agent_id: str, text: str) -> None:
    """D5: the agent answers before any decision."""
    case = _case(ws, case_id)
    if case["agent_id"] != agent_id:
        raise InputError(tr("ce dossier ne vous concerne pas", "this case is not about you"))
    if case["closed_at"]:
        raise InputError(tr("dossier clos", "case closed"))
    if not text.strip():
        raise UsageError(tr("réponse vide", "empty answer"))
    ws.state.execute(
        "INSERT INTO case_answers(case_id, at, text) VALUES (?, ?, ?)",
        (case_id, _now(ws), text.strip()),
    )
    ws.audit.append(
        agent_id,
        "agent",
        "case_answer",
        agent_id=agent_id,
        reason=tr("réponse de l'agent", "agent's answer"),
        details={"case": case_id},
    )


def close_case(
    ws: Workspace, case_id: int, actor: str, outcome: str, role: str = "hr_reviewer"
) -> dict[str, Any]:
    """D6: the reviewer records a human decision with its evidence bundle; the hold then lasts
    for the appeal period (F4). Nothing is decided automatically (C7)."""
    case = _case(ws, case_id)
    if case["closed_at"]:
        raise InputError(tr(f"dossier {case_id} déjà clos", f"case {case_id} already closed"))
    if not outcome.strip():
        raise UsageError(tr("la décision doit être écrite", "the decision must be written"))
    grant: Grant = individual_access(
        ws, actor, role, "case_close", case["agent_id"], outcome.strip(), case_id=case_id
    )
    side = agent_side(ws, case["agent_id"])
    lo, hi = case["day_from"], case["day_to"]
    bundle = {
        "case": {
            k: case[k]
            for k in ("id", "agent_id", "reviewer", "reason", "day_from", "day_to", "opened_at")
        },
        "decided_by": grant.actor,
        "outcome": outcome.strip(),
        "records": [r.as_dict() for r in _period_records(ws, case)],
        "declarations": [d for d in side["declarations"] if lo <= d["day"] <= hi],
        "annotations": [a for a in side["annotations"] if lo <= a["day"] <= hi],
        "answers": [
            dict(r)
            for r in ws.state.execute(
                "SELECT at, text FROM case_answers WHERE case_id = ?", (case_id,)
            )
        ],
        "access_log": [
            {"at": e.at, "actor": e.actor, "role": e.role, "action": e.action, "reason": e.reason}
            for e in ws.audit.entries(case["agent_id"])
        ],
        "statement": tr(
            "L'absence de trace numérique ne démontre pas une absence de travail.",
            "A missing digital trace does not establish that no work was done.",
        ),
    }
    now = ws.clock.now()
    appeal = (now.date() + timedelta(days=ws.settings.reports.appeal_period_days)).isoformat()
    ws.state.execute(
        "UPDATE cases SET closed_at = ?, outcome = ?, evidence = ? WHERE id = ?",
        (
            now.isoformat(timespec="seconds"),
            outcome.strip(),
            json.dumps(bundle, ensure_ascii=False),
            case_id,
        ),
    )
    ws.state.execute("UPDATE holds SET expires_on = ? WHERE case_id = ?", (appeal, case_id))
    notify(
        ws,
        case["agent_id"],
        "case_closed",
        tr(
            f"Le dossier n° {case_id} est clos : {outcome}. Vous pouvez exporter le dossier complet.",
            f"Case #{case_id} is closed: {outcome}. You may export the full case file.",
        ),
    )
    return bundle


def export_case(
    ws: Workspace, case_id: int, out: Path, actor: str, role: str, own_agent_id: str | None = None
) -> Path:
    """D6: the case file (decision and evidence bundle) for the agent."""
    case = _case(ws, case_id)
    individual_access(
        ws,
        actor,
        role,
        "case_export" if role == "agent" else "case_view",
        case["agent_id"],
        case["reason"],
        case_id=case_id,
        own_agent_id=own_agent_id,
    )
    out.mkdir(parents=True, exist_ok=True)
    content = {"case": case, "evidence": json.loads(case["evidence"]) if case["evidence"] else None}
    path = out / f"case-{case_id}.json"
    path.write_text(json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
