"""Individual review cases (rules D5, D6, E1, E4, F4): never systematic, always human.

A case names a reviewer, a written reason and a period. It opens only when every gate holds (the
committee fingerprint included), in cross-check mode, for a period after the agent's T0, for an
eligible family whose coverage by the validity study over the case's own weeks reaches the
threshold by the lower bound of a 95 % Wilson interval, and for an agent without a pending
objection. Opening notifies the agent, gives them an answer period (``case_answer_days`` working
days) and puts a hold (owner, expiry) on the period's records; only the named reviewer sees the
case, re-identified, for its period — telework half-days only (E8) — and every view is audited.
It cannot be closed before the agent has answered or the answer period has ended; closing
records a written human decision with its evidence bundle, notifies the agent, who can export it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loyaute import labels
from loyaute.errors import GateError, InputError, UsageError
from loyaute.i18n import tr
from loyaute.policy import gates as gates_mod
from loyaute.policy import scope as scope_mod
from loyaute.policy.access import AccessDenied, check_alerts, individual, refuse
from loyaute.policy.agent_data import RecordRow
from loyaute.policy.roles import Action, Identity, Role
from loyaute.store.cases import Answer, Case
from loyaute.store.directory import Agent

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

HOLD_OPEN_DAYS = 365
"""A hold while a case is open expires after a year at most (F4: no hold without expiry)."""

NO_PROOF = (
    "L'absence de trace numérique ne démontre pas une absence de travail.",
    "A missing digital trace does not establish that no work was done.",
)


@dataclass
class CaseView:
    """What the reviewer sees: the agent re-identified, the period's records and their side."""

    case: Case
    agent: Agent
    records: list[RecordRow]
    answers: list[Answer]


@cache
def _holidays(year: int) -> frozenset[date]:
    import holidays  # noqa: PLC0415 - only cases count working days

    return frozenset(holidays.country_holidays("FR", years=year))


def working_days_after(start: date, count: int) -> date:
    """The ``count``-th working day after ``start`` (Monday to Friday, French public holidays
    excluded): the last day of an answer period that starts on ``start``."""
    day = start
    left = count
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in _holidays(day.year):
            left -= 1
    return day


def _refuse_open(ws: Workspace, who: Identity, agent_id: str, refusals: list[str]) -> GateError:
    ws.audit.append(
        who.login,
        who.role.value,
        "refused",
        agent_id=agent_id,
        reason="; ".join(refusals),
        details={"attempted": Action.CASE_OPEN.value},
    )
    check_alerts(ws, who.login)
    return GateError(tr("dossier refusé : ", "case refused: ") + " ; ".join(refusals))


def open_case(
    ws: Workspace,
    who: Identity,
    agent_id: str,
    reviewer: str,
    reason: str,
    day_from: date,
    day_to: date,
) -> int:
    """Open a case after every check; notify the agent; hold the period's records.

    Every refusal — a gate, the mode, the period, the family and its coverage, an objection, the
    opener's role, the reviewer — is audited against the agent and counts towards the DPO's
    repeated-refusal alert (H1, H2)."""
    from loyaute.reports.validity import case_reliability  # noqa: PLC0415 - reports use policy

    if not reason.strip() or not reviewer.strip():
        raise UsageError(
            tr(
                "un dossier nomme un relecteur et un motif écrit (D5)",
                "a case names a reviewer and a written reason (D5)",
            )
        )
    if day_to < day_from:
        raise UsageError(tr("période vide", "empty period"))
    if ws.db.agents.get(agent_id) is None:
        raise InputError(tr(f"agent inconnu : {agent_id}", f"unknown agent: {agent_id}"))
    refusals = [
        f"{g.id} {g.reason}"
        for g in gates_mod.failing(gates_mod.evaluate(ws.settings, ws.register))
    ]
    if who.role is not Role.HR_REVIEWER:
        refusals.append(
            tr(
                f"seul un relecteur RH ouvre un dossier, pas le rôle {who.role} (E5)",
                f"only an HR reviewer opens a case, not the role {who.role} (E5)",
            )
        )
    named = ws.db.accounts.get(reviewer)
    if named is None or named.role != Role.HR_REVIEWER:
        refusals.append(
            tr(
                f"le relecteur nommé ({reviewer}) n'est pas un compte de relecteur RH",
                f"the named reviewer ({reviewer}) is not an HR reviewer account",
            )
        )
    if ws.register.purpose.mode != "crosscheck":
        refusals.append(
            tr(
                "mode déclaratif : aucun dossier sur les traces (D2)",
                "declarative mode: no case on traces (D2)",
            )
        )
    scope = scope_mod.load(ws, [agent_id])
    facts = scope.of(agent_id)
    assert facts is not None
    if facts.t0 is None or day_from < facts.t0:
        refusals.append(
            tr(
                f"la période commence avant le T0 de l'agent ({facts.t0}) (E1)",
                f"the period starts before the agent's T0 ({facts.t0}) (E1)",
            )
        )
    if day_to > scope.today:
        refusals.append(tr("la période déborde sur l'avenir", "the period runs into the future"))
    if not facts.eligible:
        refusals.append(
            tr(
                f"famille de métiers {facts.job_family} non éligible (B5)",
                f"job family {facts.job_family} not eligible (B5)",
            )
        )
    else:
        reliability = case_reliability(ws, facts.job_family, day_from, day_to)
        if not reliability.sufficient:
            refusals.append(reliability.explain())
    if facts.objecting:
        refusals.append(
            tr(
                "opposition de l'agent en attente de décision ou accueillie (G3)",
                "the agent's objection awaits a decision or was upheld (G3)",
            )
        )
    if refusals:
        raise _refuse_open(ws, who, agent_id, refusals)
    data = individual(ws, who, Action.CASE_OPEN, agent_id)
    opened = ws.clock.now()
    due = working_days_after(scope.today, ws.register.purpose.case_answer_days)
    details = {
        "from": day_from.isoformat(),
        "to": day_to.isoformat(),
        "answer_due": due.isoformat(),
    }
    with data.write(reason.strip(), details) as recorded:
        case_id = ws.db.cases.open(
            agent_id,
            reviewer,
            reason.strip(),
            day_from,
            day_to,
            opened.isoformat(timespec="seconds"),
            who.login,
            due,
        )
        recorded["case"] = case_id
        ws.db.cases.hold(
            data.pseudonym,
            day_from,
            day_to,
            reviewer,
            scope.today + timedelta(days=HOLD_OPEN_DAYS),
            case_id,
        )
        data.notify(
            "case_opened",
            {
                "case": case_id,
                "from": str(day_from),
                "to": str(day_to),
                "reviewer": reviewer,
                "reason": reason.strip(),
                "due": str(due),
            },
        )
    return case_id


def _case(ws: Workspace, case_id: int) -> Case:
    found = ws.db.cases.get(case_id)
    if found is None:
        raise InputError(tr(f"dossier inconnu : {case_id}", f"unknown case: {case_id}"))
    return found


def show_case(ws: Workspace, who: Identity, case_id: int) -> CaseView:
    """E4: the named reviewer sees the agent re-identified, only for the case's period, telework
    half-days only (E8); audited."""
    found = ws.db.cases.get(case_id)
    if found is None:
        raise refuse(
            ws,
            who,
            Action.CASE_VIEW,
            "",
            tr(f"dossier {case_id} inconnu", f"unknown case {case_id}"),
        )
    data = individual(
        ws, who, Action.CASE_VIEW, found.agent_id, case_id=case_id, reason=found.reason
    )
    return CaseView(found, data.agent, data.records(), data.answers(case_id))


def answer_case(ws: Workspace, who: Identity, case_id: int, text: str) -> None:
    """D5: the agent answers before any decision."""
    if not text.strip():
        raise UsageError(tr("réponse vide", "empty answer"))
    found = ws.db.cases.get(case_id)
    if found is None or found.agent_id != who.agent_id:
        # Whether the case exists is nobody's business but its agent's and reviewer's.
        raise refuse(
            ws,
            who,
            Action.CASE_ANSWER,
            who.agent_id,
            tr(f"aucun dossier n° {case_id} ne vous concerne", f"no case #{case_id} is about you"),
        )
    if not found.is_open:
        raise InputError(tr("dossier clos", "case closed"))
    data = individual(ws, who, Action.CASE_ANSWER, who.agent_id)
    with data.write(tr("réponse de l'agent", "agent's answer"), {"case": case_id}):
        ws.db.cases.answer(case_id, data.now(), text.strip())


def may_close(ws: Workspace, case: Case) -> tuple[bool, str]:
    """D5: a case may be decided once the agent has answered or the answer period is over."""
    if ws.db.cases.answers(case.id):
        return True, ""
    today = ws.today()
    due = date.fromisoformat(case.answer_due) if case.answer_due else today - timedelta(days=1)
    if today > due:
        return True, ""
    until = labels.day(due, "long")
    return False, tr(
        f"l'agent peut répondre jusqu'au {until} inclus et n'a pas encore répondu : aucune "
        "décision avant sa réponse ou la fin de ce délai (D5)",
        f"the agent may answer until {until} included and has not answered yet: no decision "
        "before their answer or the end of that period (D5)",
    )


def close_case(ws: Workspace, who: Identity, case_id: int, outcome: str) -> dict[str, Any]:
    """D6: the reviewer records a written human decision with its evidence bundle; the agent is
    notified; the hold then lasts for the appeal period (F4). Nothing is decided automatically
    (C7)."""
    found = _case(ws, case_id)
    if not found.is_open:
        raise InputError(tr(f"dossier {case_id} déjà clos", f"case {case_id} already closed"))
    if not outcome.strip():
        raise UsageError(tr("la décision doit être écrite", "the decision must be written"))
    data = individual(ws, who, Action.CASE_CLOSE, found.agent_id, case_id=case_id)
    allowed, why = may_close(ws, found)
    if not allowed:
        raise refuse(ws, who, Action.CASE_CLOSE, found.agent_id, why)
    bundle: dict[str, Any] = {
        "case": {
            k: getattr(found, k)
            for k in (
                "id",
                "agent_id",
                "reviewer",
                "reason",
                "day_from",
                "day_to",
                "opened_at",
                "answer_due",
            )
        },
        "decided_by": who.login,
        "outcome": outcome.strip(),
        "records": [r.as_dict() for r in data.records()],
        "declarations": [d.__dict__ for d in data.declarations()],
        "annotations": [a.__dict__ for a in data.annotations()],
        "answers": [a.__dict__ for a in data.answers(case_id)],
        "access_log": [
            {"at": e.at, "actor": e.actor, "role": e.role, "action": e.action, "reason": e.reason}
            for e in data.viewers()
        ],
        "statement": tr(*NO_PROOF),
    }
    now = ws.clock.now()
    appeal = ws.today() + timedelta(days=ws.settings.reports.appeal_period_days)
    with data.write(outcome.strip(), {"case": case_id}):
        ws.db.cases.close(
            case_id,
            now.isoformat(timespec="seconds"),
            outcome.strip(),
            json.dumps(bundle, ensure_ascii=False),
            who.login,
        )
        ws.db.cases.set_hold_expiry(case_id, appeal)
        data.notify("case_closed", {"case": case_id, "by": who.login, "outcome": outcome.strip()})
    return bundle


def export_case(ws: Workspace, who: Identity, case_id: int, out: Path) -> Path:
    """D6: the case file (decision and evidence bundle), for the agent (or its reviewer)."""
    found = ws.db.cases.get(case_id)
    if found is None or (who.role is Role.AGENT and found.agent_id != who.agent_id):
        raise refuse(
            ws,
            who,
            Action.CASE_EXPORT,
            who.agent_id,
            tr(f"aucun dossier n° {case_id} ne vous concerne", f"no case #{case_id} is about you"),
        )
    action = Action.CASE_EXPORT if who.role is Role.AGENT else Action.CASE_VIEW
    individual(ws, who, action, found.agent_id, case_id=case_id, reason=found.reason)
    out.mkdir(parents=True, exist_ok=True)
    content = {
        "case": found.__dict__,
        "evidence": json.loads(found.evidence) if found.evidence else None,
    }
    path = out / f"case-{case_id}.json"
    path.write_text(json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def cases_of_reviewer(ws: Workspace, who: Identity) -> list[Case]:
    """The cases a reviewer conducts (their own work list)."""
    if who.role is not Role.HR_REVIEWER:
        raise AccessDenied(tr("réservé aux relecteurs RH", "for HR reviewers only"))
    return ws.db.cases.of_reviewer(who.login)


def reviewing(ws: Workspace, who: Identity, agent_id: str) -> Case | None:
    """The open case on an agent that this person reviews, if any."""
    if who.role is not Role.HR_REVIEWER:
        return None
    return ws.db.cases.open_for(agent_id, who.login)
