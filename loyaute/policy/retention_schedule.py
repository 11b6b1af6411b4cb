"""Every kind of record loyaute keeps and how long, in words, from the live configuration.

``policy/retention.py`` applies these periods; this module says them once, for the register
entry (GDPR art. 30(1)(f)), the notice (art. 13(2)(a)) and the DPIA. A test purges each kind at
its boundary and another finds each period in each document, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from loyaute.policy.retention import TOKEN_KEEP_DAYS

if TYPE_CHECKING:
    from loyaute.workspace import Workspace


@dataclass(frozen=True)
class Period:
    """How long one kind of record is kept, in words (French, English)."""

    record: str
    """Its code in ``policy/wording.py``'s ``record`` group."""
    fr: str
    en: str

    def text(self, lang: str) -> str:
        """The period in ``lang``."""
        return self.en if lang == "en" else self.fr


def schedule(ws: Workspace) -> list[Period]:
    """Every kind of record loyaute keeps and how long, from the live configuration: what the
    purge above applies, said once for the register entry, the notice and the DPIA."""
    from loyaute.accounts import IDLE_MINUTES, SESSION_HOURS, TOKEN_DAYS  # noqa: PLC0415
    from loyaute.policy.cases import HOLD_OPEN_DAYS  # noqa: PLC0415 - cases import the door

    p = ws.register.purpose
    days = p.retention_after_month_end_days
    appeal = ws.settings.reports.appeal_period_days
    audit = p.audit_retention_months
    out = [
        Period(
            "records",
            f"{days} jours après la fin du mois de la demi-journée ; au-delà seulement sous un "
            "gel (dossier d'examen ou contestation, F4)",
            f"{days} days after the end of the half-day's month; longer only under a hold "
            "(review case or dispute, F4)",
        ),
    ]
    if ws.register.validity_study.enabled:
        out.append(
            Period(
                "study",
                f"jusqu'à la publication de leur semaine (au plus {days} jours après la fin du "
                "mois) ; ensuite seuls restent des chiffres par famille de métiers et semaine",
                f"until their week is published (at most {days} days after the month's end); "
                "then only figures by job family and week remain",
            )
        )
    pending = ws.settings.schedule.pending_days
    out += [
        Period(
            "pending",
            f"{pending} jours au plus, en attendant le planning",
            f"{pending} days at most, waiting for the schedule",
        ),
        Period(
            "schedule",
            f"comme les demi-journées : {days} jours après la fin du mois",
            f"as the half-days: {days} days after the month's end",
        ),
        Period(
            "agent_side",
            f"avec la demi-journée qu'elles concernent : {days} jours après la fin du mois",
            f"with the half-day they concern: {days} days after the month's end",
        ),
        Period(
            "directory",
            "tant que l'agent figure dans l'annuaire ; après son départ, jusqu'à la suppression "
            "de ses dernières demi-journées",
            "while the agent is in the directory; after they leave, until their last "
            "half-days are deleted",
        ),
        Period(
            "notices",
            "avec l'entrée d'annuaire de l'agent",
            "with the agent's directory entry",
        ),
        Period(
            "cases",
            f"ouvert : jusqu'à sa clôture (gel de {HOLD_OPEN_DAYS} jours au plus) ; clos : "
            f"{p.case_retention_days} jours après la clôture, jamais avant la fin du délai de "
            f"recours ({appeal} jours)",
            f"open: until closed (hold of {HOLD_OPEN_DAYS} days at most); closed: "
            f"{p.case_retention_days} days after closing, never before the appeal period "
            f"({appeal} days) ends",
        ),
        Period(
            "evidence",
            f"avec son dossier : {p.case_retention_days} jours après la clôture",
            f"with its case: {p.case_retention_days} days after closing",
        ),
        Period(
            "case_answers",
            f"avec leur dossier : {p.case_retention_days} jours après la clôture",
            f"with their case: {p.case_retention_days} days after closing",
        ),
        Period(
            "notifications",
            f"{p.notification_retention_days} jours après leur envoi",
            f"{p.notification_retention_days} days after they were sent",
        ),
        Period(
            "objections",
            "en attente : jusqu'à la décision ; rejetée : "
            f"{p.objection_retention_days} jours après la décision ; accueillie : tant que "
            "l'agent figure dans l'annuaire (elle arrête le traitement)",
            f"pending: until decided; rejected: {p.objection_retention_days} days after the "
            "decision; upheld: while the agent is in the directory (it stops the processing)",
        ),
        Period(
            "access_requests",
            f"jusqu'à la réponse, puis {p.access_request_retention_days} jours",
            f"until answered, then {p.access_request_retention_days} days",
        ),
        Period(
            "statements",
            f"{p.statement_retention_months} mois après la fin du mois du relevé",
            f"{p.statement_retention_months} months after the end of the statement's month",
        ),
        Period(
            "holds",
            f"jusqu'à leur échéance : {HOLD_OPEN_DAYS} jours au plus pour un dossier ouvert, "
            f"{appeal} jours après la décision",
            f"until they expire: {HOLD_OPEN_DAYS} days at most for an open case, {appeal} days "
            "after the decision",
        ),
        Period("aggregates", "3 ans", "3 years"),
        Period(
            "publication_details",
            f"comme les demi-journées : {days} jours après la fin du mois de la semaine publiée",
            f"as the half-days: {days} days after the end of the published week's month",
        ),
        Period("audit", f"{audit} mois", f"{audit} months"),
        Period(
            "alerts",
            f"{audit} mois, comme le journal des accès",
            f"{audit} months, as the access log",
        ),
        Period(
            "accounts",
            f"tant que le compte sert ; {p.account_retention_days} jours après sa désactivation "
            "ou le départ de l'agent",
            f"while the account is in use; {p.account_retention_days} days after it is "
            "disabled or its agent leaves",
        ),
        Period(
            "sessions",
            f"jusqu'à leur expiration : {IDLE_MINUTES} minutes sans activité, {SESSION_HOURS} "
            "heures au plus",
            f"until they expire: {IDLE_MINUTES} idle minutes, {SESSION_HOURS} hours at most",
        ),
        Period(
            "tokens",
            f"jusqu'à leur expiration ({TOKEN_DAYS} jours au plus) ou révocation, puis "
            f"{TOKEN_KEEP_DAYS} jours",
            f"until they expire ({TOKEN_DAYS} days at most) or are revoked, then "
            f"{TOKEN_KEEP_DAYS} days",
        ),
        Period(
            "signin_traces",
            "échecs : 1 jour après le dernier ; adresses habituelles : 1 an sans connexion",
            "failures: 1 day after the last; usual addresses: 1 year without a sign-in",
        ),
        Period(
            "quarantine",
            f"{p.quarantine_retention_days} jours, identifiants masqués",
            f"{p.quarantine_retention_days} days, identifiers masked",
        ),
    ]
    return out


UNSETTLED_FR = (
    "Tant qu'un agent a un dossier d'examen ouvert, une demande d'accès sans réponse, une "
    "opposition en attente ou une contestation non résolue, rien de ce qui le concerne n'est "
    "supprimé avant que ce soit réglé."
)
UNSETTLED_EN = (
    "While an agent has an open review case, an unanswered access request, a pending objection "
    "or an unresolved dispute, nothing about them is deleted before it is settled."
)
