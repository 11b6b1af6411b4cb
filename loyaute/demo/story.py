"""The demo's story: what a person finds when they sign in to each role, seeded through the same
functions the pages and commands use (so every step is checked and audited as it would be):

* a review case opened by the HR reviewer on an agent who has a demo account, and that agent's
  answer;
* a half-day the same agent contests (frozen until someone resolves it, D4);
* an objection by another agent (processing of that agent stops, G3);
* a DPO alert: the HR reviewer tried to read an agent's half-days without a case (E4, H2);
* declarations of every kind (system, phone, home visit, meeting, field, other).

``summary_lines`` explains each figure of the build in the command's language.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from loyaute import labels
from loyaute.errors import LoyauteError
from loyaute.i18n import tr
from loyaute.policy.access import AccessDenied, individual
from loyaute.policy.cases import answer_case, open_case
from loyaute.policy.rights import object_to_processing, open_dispute
from loyaute.policy.roles import Action, Identity, Role

if TYPE_CHECKING:
    from loyaute.demo.department import DemoData
    from loyaute.demo.runner import DemoSummary
    from loyaute.workspace import Workspace


@dataclass
class Story:
    """What was seeded, for the summary (empty fields: that step could not be seeded)."""

    case: int = 0
    case_agent: str = ""
    case_period: tuple[str, str] = ("", "")
    answered: bool = False
    dispute: tuple[str, str, str] = ("", "", "")
    """(agent login, day, half)"""
    objection_agent: str = ""
    alert: str = ""
    declarations: Counter[str] = field(default_factory=Counter)


def _published_week(ws: Workspace, agent_id: str) -> tuple[date, date] | None:
    """The agent's telework days in the latest week the reports have published."""
    data = individual(ws, Identity(agent_id, Role.AGENT, agent_id), Action.OWN_VIEW, agent_id)
    settle = ws.settings.reports.settle_days
    today = ws.today()
    days = sorted({date.fromisoformat(r.date) for r in data.records() if r.scheduled == "telework"})
    closed = [d for d in days if d + timedelta(days=6 - d.weekday() + settle) < today]
    if not closed:
        return None
    monday = closed[-1] - timedelta(days=closed[-1].weekday())
    week = [d for d in closed if d >= monday]
    return week[0], week[-1]


def seed_story(ws: Workspace, data: DemoData, accounts: list[tuple[str, str, str, str]]) -> Story:
    """Seed the case and its answer, a dispute, an objection and an alert."""
    story = Story()
    hr = next(
        (
            Identity(login, Role.HR_REVIEWER)
            for login, _, role, _ in accounts
            if role == "hr_reviewer"
        ),
        None,
    )
    agents = [(login, agent_id) for login, _, role, agent_id in accounts if role == "agent"]
    # the first agent account is left untouched (the one the tests and the README use first)
    for login, agent_id in agents[1:]:
        if hr is None:
            break
        period = _published_week(ws, agent_id)
        if period is None:
            continue
        try:
            number = open_case(
                ws,
                hr,
                agent_id,
                hr.login,
                "Réclamation écrite du chef de service sur cette semaine (démonstration)",
                *period,
            )
        except LoyauteError:
            continue  # a family whose coverage is insufficient: no case can concern it
        me = Identity(login, Role.AGENT, agent_id)
        answer_case(
            ws,
            me,
            number,
            "Ces jours-là j'étais en rendez-vous téléphoniques avec les usagers ; le planning "
            "des appels est dans le dossier partagé du service.",
        )
        story.case, story.case_agent = number, login
        story.case_period = (period[0].isoformat(), period[1].isoformat())
        story.answered = True
        own = individual(ws, me, Action.OWN_VIEW, agent_id).records()
        candidates = [r for r in own if r.status == "no_trace"] or [
            r for r in own if r.status == "trace"
        ]
        outside = [
            r for r in candidates if not period[0].isoformat() <= r.date <= period[1].isoformat()
        ]
        pool = outside or candidates
        if pool:
            target = pool[-1]
            open_dispute(
                ws,
                me,
                date.fromisoformat(target.date),
                target.half_day,
                "Je travaillais sur un dossier papier à la maison, sans connexion ce matin-là.",
            )
            story.dispute = (login, target.date, target.half_day)
        break
    with_account = {agent_id for _, agent_id in agents} | {a for _, _, _, a in accounts if a}
    objector = next(
        (a.agent_id for a in reversed(data.agents) if a.agent_id not in with_account), ""
    )
    if objector:
        object_to_processing(
            ws,
            Identity(objector, Role.AGENT, objector),
            "Je m'oppose au traitement de mes connexions : je travaille surtout au téléphone.",
        )
        story.objection_agent = objector
    if hr is not None:
        looked_at = next((a.agent_id for a in data.agents if a.agent_id not in with_account), "")
        try:
            individual(ws, hr, Action.RECORDS_VIEW, looked_at, reason="curiosité (démonstration)")
        except AccessDenied:
            story.alert = hr.login  # refused, audited, and the DPO is alerted (E4, H2)
    return story


def summary_lines(summary: DemoSummary) -> list[str]:
    """What the demo built, each figure explained."""
    report, data, story = summary.report, summary.data, summary.story
    kept = sum(f.kept for f in report.files)
    pending = sum(f.pending for f in report.files)
    dropped: Counter[str] = Counter()
    unmatched: set[str] = set()
    for f in report.files:
        dropped.update(f.dropped)
        unmatched.update(f.unmatched)
    lines_read = sum(f.lines for f in report.files)
    n = labels.number
    out = [
        tr(
            f"Espace de travail de démonstration : {summary.home}",
            f"Demo workspace: {summary.home}",
        ),
        tr(
            f"{n(len(data.agents))} agents, {n(len(data.days))} jours ouvrés "
            f"{labels.span(data.days[0], data.days[-1])} (semaines encore dans la durée de "
            "conservation : aucune page n'est vide).",
            f"{n(len(data.agents))} agents, {n(len(data.days))} working days, "
            f"{labels.span(data.days[0], data.days[-1])} (weeks still within retention: no "
            "page is empty).",
        ),
        tr(
            f"{n(len(report.files))} fichiers de journaux lus (VPN, messagerie, applications), "
            f"{n(lines_read)} lignes.",
            f"{n(len(report.files))} log files read (VPN, mail, applications), {n(lines_read)} lines.",
        ),
        tr(
            f"{n(kept)} demi-journées conservées : une par agent et demi-journée de télétravail "
            "(pour le contrôle) ou sur site (pour l'étude de validité), jamais plus fin.",
            f"{n(kept)} half-days kept: one per agent and telework half-day (for the check) or "
            "on-site half-day (for the validity study), never finer.",
        ),
    ]
    if pending:
        out.append(
            tr(
                f"{n(pending)} demi-journées en attente du planning.",
                f"{n(pending)} half-days waiting for the schedule.",
            )
        )
    if dropped:
        out.append(
            tr(
                "Demi-journées avec trace écartées, et pourquoi (jamais conservées) :",
                "Half-days with a trace dropped, and why (never kept):",
            )
        )
        out += [
            f"  {n(count)} — {labels.label('fate', rule)}"
            for rule, count in sorted(dropped.items())
        ]
    if summary.late_notices:
        out.append(
            tr(
                f"Notice remise deux semaines plus tard à {', '.join(summary.late_notices)} : "
                "leurs premières semaines ne sont pas conservées (T0, règle A5).",
                f"Notice delivered two weeks late to {', '.join(summary.late_notices)}: their "
                "first weeks are not kept (T0, rule A5).",
            )
        )
    if unmatched:
        out.append(
            tr(
                f"Identifiants inconnus de l'annuaire (traces ignorées) : {', '.join(sorted(unmatched))}",
                f"Logins not in the directory (traces ignored): {', '.join(sorted(unmatched))}",
            )
        )
    if story is not None:
        out.append(tr("Ce que la démonstration met en scène :", "What the demo stages:"))
        if story.case:
            out.append(
                tr(
                    f"  dossier d'examen n° {story.case} ouvert par le relecteur RH sur l'agent "
                    f"{story.case_agent}, {labels.span(*story.case_period)} ; l'agent a répondu "
                    "(page « Dossiers d'examen » du relecteur, portail de l'agent)",
                    f"  review case #{story.case} opened by the HR reviewer on agent "
                    f"{story.case_agent}, {labels.span(*story.case_period)}; the agent answered "
                    "(the reviewer's cases page, the agent's portal)",
                )
            )
        if story.dispute[0]:
            login, day, half = story.dispute
            out.append(
                tr(
                    f"  demi-journée contestée par {login} : {labels.day(day)}, "
                    f"{labels.label('half', half)} — gelée jusqu'à décision (D4)",
                    f"  half-day contested by {login}: {labels.day(day)}, "
                    f"{labels.label('half', half)} — frozen until decided (D4)",
                )
            )
        if story.objection_agent:
            out.append(
                tr(
                    f"  opposition de l'agent {story.objection_agent} : plus rien n'est traité "
                    "pour lui en attendant la décision du DPO (G3)",
                    f"  objection by agent {story.objection_agent}: nothing more is processed "
                    "for them pending the DPO's decision (G3)",
                )
            )
        if story.alert:
            out.append(
                tr(
                    f"  alerte du DPO : {story.alert} a tenté de voir les demi-journées d'un "
                    "agent sans dossier ouvert ; c'est refusé et signalé (E4, H2)",
                    f"  DPO alert: {story.alert} tried to see an agent's half-days without an "
                    "open case; refused and reported (E4, H2)",
                )
            )
        if story.declarations:
            mix = ", ".join(
                f"{labels.label('declaration', k)} {n(v)}"
                for k, v in story.declarations.most_common()
            )
            out.append(tr(f"  déclarations des agents : {mix}", f"  agents' declarations: {mix}"))
    out.append(
        tr(
            f"Comptes de démonstration, un par rôle ({summary.home / 'demo-accounts.csv'}) :",
            f"Demo accounts, one per role ({summary.home / 'demo-accounts.csv'}):",
        )
    )
    out += [
        f"  {labels.label('role', role):<28} {login:<24} {secret}"
        for login, secret, role, _ in summary.accounts
    ]
    return out
