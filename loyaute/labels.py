"""Words and numbers as a person reads them: the label of every code shown to someone, and
numbers, dates, weeks and times formatted by Babel in the current language (``i18n.lang()``).

Used only at the edges — the web pages, the human-readable documents and exports, the command
line's tables — never in CSV or JSON, which keep their machine names (CONTRACT.md). A code without
a label is shown as it is: the French-text test lists known codes and fails when one shows.

Babel is imported on first use, so that the command line starts without it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from loyaute.i18n import lang
from loyaute.policy import wording

ZONE = ZoneInfo("Europe/Paris")

Pair = tuple[str, str]

HALF_DAY: dict[str, Pair] = {"AM": ("matin", "morning"), "PM": ("après-midi", "afternoon")}
STATUS: dict[str, Pair] = {
    "trace": ("trace enregistrée", "trace recorded"),
    "no_trace": ("aucune trace numérique enregistrée", "no digital trace recorded"),
    "disputed": ("contesté (gelé)", "disputed (frozen)"),
    "out_of_scope": ("hors du champ", "out of scope"),
}
SCHEDULED: dict[str, Pair] = {
    "telework": ("télétravail", "telework"),
    "on_site": ("sur site", "on site"),
    "leave": ("congé ou absence autorisée", "leave"),
    "field": ("terrain ou mission", "field or mission"),
    "training": ("formation", "training"),
    "union": ("activité syndicale", "union time"),
    "unknown": ("inconnu", "unknown"),
}
DECLARATION: dict[str, Pair] = {
    "system": ("travail sur le système", "work on the system"),
    "phone": ("au téléphone", "on the phone"),
    "home_visit": ("visite à domicile", "home visit"),
    "meeting": ("en réunion", "in a meeting"),
    "field": ("sur le terrain", "in the field"),
    "other": ("autre", "other"),
}
CATEGORY: dict[str, Pair] = {
    "vpn": ("VPN", "VPN"),
    "mail": ("messagerie", "mail"),
    "apps": ("applications métier", "business applications"),
}
ROLE: dict[str, Pair] = {
    "operator": ("exploitant (DSI)", "IT operator"),
    "dpo": ("DPO", "DPO"),
    "hr_reviewer": ("relecteur RH", "HR reviewer"),
    "manager": ("responsable de service", "manager"),
    "agent": ("agent", "agent"),
    "staff_rep": ("représentant du personnel", "staff representative"),
    "system": ("loyaute (automatique)", "loyaute (automatic)"),
    "anonymous": ("personne non connectée", "not signed in"),
}
ACTION: dict[str, Pair] = {
    "portal": ("consultation de son portail", "own portal viewed"),
    "own_view": ("consultation de ses propres données", "own data viewed"),
    "own_export": ("export de ses propres données", "own data exported"),
    "declare": ("déclaration", "declaration"),
    "annotate": ("annotation", "annotation"),
    "dispute": ("contestation", "dispute"),
    "case_answer": ("réponse à un dossier", "case answered"),
    "case_export": ("export d'un dossier", "case exported"),
    "objection": ("opposition", "objection"),
    "case_open": ("ouverture d'un dossier", "case opened"),
    "case_view": ("consultation d'un dossier", "case viewed"),
    "case_close": ("clôture d'un dossier", "case closed"),
    "records_view": ("consultation de demi-journées", "half-days viewed"),
    "dispute_resolved": ("contestation tranchée", "dispute resolved"),
    "access_export": ("export d'accès (droit d'accès)", "access export"),
    "access_request": ("demande d'accès", "access request"),
    "objection_decided": ("décision sur une opposition", "objection decided"),
    "statement_view": ("consultation d'un relevé mensuel", "monthly statement viewed"),
    "statement_validate": ("validation d'un relevé mensuel", "monthly statement validated"),
    "report_presence": ("rapport agrégé des traces", "aggregate trace report"),
    "report_validity": ("étude de validité", "validity study"),
    "report_traces": ("colonnes de traces des agrégats", "trace columns of aggregates"),
    "audit_show": ("lecture du journal des accès", "access log read"),
    "audit_verify": ("vérification du journal", "access log verified"),
    "audit_statistics": ("statistiques du journal", "access log statistics"),
    "alerts_read": ("lecture des alertes", "alerts read"),
    "docs_read": ("lecture d'un document", "document read"),
    "notice_read": ("lecture de la notice", "notice read"),
    "purge": ("application des durées de conservation", "retention applied"),
    "accounts_manage": ("gestion des comptes", "accounts managed"),
    "ingest": ("lecture de journaux (ingestion)", "logs ingested"),
    "ingest_health": ("état de l'ingestion", "ingest health"),
    "parse": ("essai de lecture", "dry-run parse"),
    "sign_in": ("connexion", "sign-in"),
    "sign_in_refused": ("connexion refusée", "sign-in refused"),
    "sign_out": ("déconnexion", "sign-out"),
    "refused": ("accès refusé", "access refused"),
    "token_revoked": ("jeton révoqué", "token revoked"),
    "token_issued": ("jeton délivré", "token issued"),
    "account_add": ("création d'un compte", "account created"),
    "account_unlock": ("déblocage d'un compte", "account unlocked"),
    "account_disable": ("désactivation d'un compte", "account disabled"),
    "account_enable": ("réactivation d'un compte", "account enabled"),
    "pre_t0_refused": ("données antérieures à T0 refusées", "pre-T0 data refused"),
    "pre_t0_purge": ("purge des données antérieures à T0", "pre-T0 purge"),
    "reidentify": ("ré-identification", "re-identification"),
    "alert": ("alerte", "alert"),
    "backfill_refused": ("données antérieures à T0 refusées (A6)", "pre-T0 data refused (A6)"),
    "notice_recorded": ("remise de la notice enregistrée", "notice delivery recorded"),
    "directory_import": ("import de l'annuaire", "directory imported"),
    "directory_sync": ("synchronisation de l'annuaire", "directory synchronised"),
    "directory_sync_failed": ("échec de synchronisation de l'annuaire", "directory sync failed"),
    "directory_sync_stopped": ("synchronisation de l'annuaire arrêtée", "directory sync stopped"),
    "collect": ("collecte continue", "continuous collection"),
    "rescope": ("nouveau tri des demi-journées en attente", "pending half-days sorted again"),
}
ALERT_KIND: dict[str, Pair] = {
    "bulk_views": ("consultations individuelles en nombre", "bulk individual views"),
    "reidentification_outside_case": (
        "tentative de ré-identification hors dossier",
        "re-identification attempted outside a case",
    ),
    "repeated_refusals": ("refus d'accès répétés", "repeated access refusals"),
}
COLUMN: dict[str, Pair] = {
    "group": ("groupe", "group"),
    "period": ("période", "period"),
    "agents": ("agents", "agents"),
    "telework_half_days": ("demi-journées de télétravail", "telework half-days"),
    "with_trace": ("avec trace numérique", "with a digital trace"),
    "declared": ("déclarées", "declared"),
    "without_trace": ("sans trace numérique", "without a digital trace"),
    "share_with_trace": ("part avec trace", "share with a trace"),
    "suppressed": ("masqué", "suppressed"),
    "job_family": ("famille de métiers", "job family"),
    "service": ("service", "service"),
    "on_site_half_days": ("demi-journées sur site", "on-site half-days"),
    "coverage": ("couverture", "coverage"),
    "reliable": ("couverture suffisante", "sufficient coverage"),
    # report audit (E7)
    "table": ("tableau", "table"),
    "week": ("semaine", "week"),
    "cells": ("cellules", "cells"),
    "published": ("publiées", "published"),
    "withheld_k": ("masquées : moins de k agents", "withheld: fewer than k agents"),
    "withheld_complementary": ("masquées : complémentaires", "withheld: complementary"),
    "withheld_protection": ("masquées : protection", "withheld: protection"),
    "protected_cells": ("cellules protégées", "protected cells"),
    "groups": ("groupes protégés", "groups protected"),
    "narrowest": (
        "intervalle le plus étroit (demi-journées)",
        "narrowest interval (half-days)",
    ),
    "rechecked": ("revérifiée depuis le registre", "rechecked from the ledger"),
    "status": ("état", "status"),
    # case view, statements, access requests, alerts
    "agent_id": ("matricule", "agent id"),
    "display_name": ("nom", "name"),
    "date": ("date", "date"),
    "half_day": ("demi-journée", "half-day"),
    "scheduled": ("planning", "schedule"),
    "categories": ("traces", "traces"),
    "declaration": ("déclaration", "declaration"),
    "annotation": ("annotation", "annotation"),
    "id": ("n°", "no."),
    "requested_on": ("demandée le", "requested on"),
    "since": ("reçue le", "received on"),
    "reason": ("motif", "reason"),
    "due_on": ("échéance", "due on"),
    "at": ("le", "at"),
    "kind": ("nature", "kind"),
    "actor": ("compte", "account"),
    "detail": ("détail", "detail"),
}
PARAMETER: dict[str, Pair] = {
    "k_min": ("seuil de masquage (k agents au moins)", "suppression threshold (at least k agents)"),
    "by": ("regroupement", "grouped by"),
    "period": ("période", "period"),
    "weeks": ("semaines publiées", "weeks published"),
    "settle_days": (
        "délai avant publication d'une semaine (jours)",
        "days before a week is published",
    ),
    "awaiting_data": ("semaines closes en attente de données", "closed weeks awaiting data"),
    "suppression": ("masquage", "suppression"),
    "suppressed_rows": ("lignes masquées", "suppressed rows"),
    "traces": ("traces", "traces"),
    "statement": ("avertissement", "caveat"),
    "threshold": ("seuil de couverture suffisante", "sufficient-coverage threshold"),
    "from": ("du", "from"),
    "to": ("au", "to"),
    "family_weeks_left_out": (
        "semaines de famille écartées (masquées)",
        "family weeks left out (suppressed)",
    ),
    "sources": ("sources comptées", "sources counted"),
    "protection_half_days": (
        "protection exigée (demi-journées sans trace)",
        "protection required (half-days without a trace)",
    ),
    "narrowest_overall": ("intervalle le plus étroit laissé", "narrowest interval left"),
    "weeks_to_review": ("semaines à revoir", "weeks to review"),
    "method": ("méthode", "method"),
    "meaning": ("lecture", "how to read it"),
}
VALUE: dict[str, Pair] = {
    "service": ("service", "service"),
    "job_family": ("famille de métiers", "job family"),
    "week": ("semaine", "week"),
    "month": ("mois", "month"),
    "range": ("toute la période", "whole range"),
    "mail, apps": ("messagerie, applications métier", "mail, business applications"),
}
# The register's codes (legal bases, modes, risk levels) have their words in policy/wording.py,
# the one table the documents use too: a page and the register never word a code two ways.
MODE: dict[str, Pair] = wording.GROUPS["mode"]
REGISTER_CODE: dict[str, Pair] = wording.GROUPS["legal_basis"] | wording.GROUPS["risk"]
REQUEST_STATUS: dict[str, Pair] = {
    "open": ("en cours", "open"),
    "answered": ("répondue", "answered"),
    "extended": ("prolongée", "extended"),
    "overdue": ("en retard", "overdue"),
    "warning": ("échéance proche", "due soon"),
}
FATE: dict[str, Pair] = {
    "telework": ("conservées pour le contrôle (télétravail)", "kept for the check (telework)"),
    "on_site": (
        "conservées pour l'étude de validité (sur site)",
        "kept for the validity study (on site)",
    ),
    "pending": ("en attente du planning", "waiting for the schedule"),
    "objection": ("écartées : l'agent s'est opposé au traitement", "dropped: the agent objected"),
    "no_t0": (
        "écartées : notice d'information pas encore remise",
        "dropped: information notice not delivered yet",
    ),
    "before_t0": (
        "écartées : antérieures à la date de début de l'agent (T0)",
        "dropped: before the agent's start date (T0)",
    ),
    "out_of_scope": (
        "écartées : ni télétravail ni sur site au planning (congé, mission, formation…)",
        "dropped: neither telework nor on site in the schedule (leave, mission, training…)",
    ),
    "not_eligible": (
        "écartées : famille de métiers non éligible",
        "dropped: job family not eligible",
    ),
    "pending_expired": (
        "écartées : planning toujours inconnu après le délai d'attente",
        "dropped: schedule still unknown after the waiting period",
    ),
}
BOOLEAN: dict[bool, Pair] = {True: ("oui", "yes"), False: ("non", "no")}

TABLES: dict[str, dict[str, Pair]] = {
    "half": HALF_DAY,
    "status": STATUS,
    "scheduled": SCHEDULED,
    "declaration": DECLARATION,
    "category": CATEGORY,
    "role": ROLE,
    "action": ACTION,
    "alert": ALERT_KIND,
    "column": COLUMN,
    "parameter": PARAMETER,
    "value": VALUE,
    "mode": MODE,
    "register": REGISTER_CODE,
    "request": REQUEST_STATUS,
    "fate": FATE,
}


def pick(pair: Pair) -> str:
    """The text of a (French, English) pair in the current language."""
    return pair[1] if lang() == "en" else pair[0]


def label(kind: str, code: Any) -> str:
    """The label of a code of one kind (``label("half", "AM")`` → "matin"); the code itself when
    the table does not know it."""
    if isinstance(code, bool):
        return pick(BOOLEAN[code])
    pair = TABLES[kind].get(str(code))
    return pick(pair) if pair else ("" if code is None else str(code))


def declaration(text: str | None) -> str:
    """A declaration as stored (``phone (note)``) with its kind's label: "au téléphone (note)"."""
    if not text:
        return ""
    kind, sep, rest = text.partition(" (")
    return label("declaration", kind) + (f" ({rest}" if sep else "")


def alert(kind: str, detail: str) -> str:
    """What an alert says, in a sentence: "9 consultations individuelles en 24 heures"."""
    if kind == "bulk_views" and detail.isdigit():
        return pick(
            (
                f"{number(int(detail))} consultations individuelles en 24 heures",
                f"{number(int(detail))} individual views in 24 hours",
            )
        )
    if kind == "repeated_refusals" and detail.isdigit():
        return pick(
            (
                f"{number(int(detail))} accès refusés en 24 heures",
                f"{number(int(detail))} refused accesses in 24 hours",
            )
        )
    if kind == "reidentification_outside_case":
        role, _, action = detail.partition(" ")
        return pick(("par un compte", "by an account")) + (
            f" {label('role', role)}{pick((' :', ':'))} {label('action', action)}"
            if action
            else f" {detail}"
        )
    return detail


OBJECTION_DECISION: dict[str, Pair] = {
    "upheld": ("accueillie", "upheld"),
    "rejected": ("rejetée", "rejected"),
}


def notification(kind: str, text: str) -> str:
    """A message left for an agent, worded in the reader's language from the facts kept
    (``AgentData.notify``); a message kept as a sentence (before facts were kept) as it is."""
    try:
        f = json.loads(text)
    except ValueError:
        return text
    if not isinstance(f, dict):
        return text
    if kind == "case_opened":
        return pick(
            (
                f"Un dossier d'examen n° {f['case']} a été ouvert sur la période du "
                f"{day(f['from'], 'long')} au {day(f['to'], 'long')}. Relecteur : {f['reviewer']}. "
                f"Motif : {f['reason']}. Vous pouvez y répondre jusqu'au {day(f['due'], 'long')} "
                "inclus ; aucune décision ne peut être prise avant votre réponse ou cette date.",
                f"Review case #{f['case']} was opened for {day(f['from'], 'long')} to "
                f"{day(f['to'], 'long')}. Reviewer: {f['reviewer']}. Reason: {f['reason']}. You "
                f"may answer until {day(f['due'], 'long')} included; no decision can be taken "
                "before your answer or that date.",
            )
        )
    if kind == "case_closed":
        return pick(
            (
                f"Le dossier n° {f['case']} est clos. Décision de {f['by']} : {f['outcome']}. "
                "Vous pouvez exporter le dossier complet et former un recours.",
                f"Case #{f['case']} is closed. Decision by {f['by']}: {f['outcome']}. You may "
                "export the full case file and appeal.",
            )
        )
    if kind == "dispute_resolved":
        half = label("half", f["half"])
        return pick(
            (
                f"Votre contestation du {day(f['day'], 'long')}, {half}, a été examinée par "
                f"{f['by']} : {f['resolution']}",
                f"Your dispute of {day(f['day'], 'long')}, {half}, was resolved by {f['by']}: "
                f"{f['resolution']}",
            )
        )
    if kind == "objection_decided":
        decision = pick(OBJECTION_DECISION.get(f["decision"], (f["decision"],) * 2))
        return pick(
            (
                f"Décision sur votre opposition : {decision} — {f['reason']}",
                f"Decision on your objection: {decision} — {f['reason']}",
            )
        )
    return text


def _notification_of(n: Any) -> str:
    """A notification row (a dataclass on the pages, a dict in the access export), worded."""
    if isinstance(n, dict):
        return notification(n["kind"], n["text"])
    return notification(n.kind, n.text)


def register_words(text: str) -> str:
    """A sentence from the register (a gate's reason) with its codes as words: "public_task" →
    "mission d'intérêt public (art. 6-1-e RGPD)"."""
    for code, pair in (REGISTER_CODE | MODE).items():
        if code in text:
            text = re.sub(rf"(?<![\w-]){re.escape(code)}(?![\w-])", pick(pair), text)
    # the register's dates ("inscrite le 2026-10-03") as people read them
    return re.sub(r"(?<![\w-])\d{4}-\d{2}-\d{2}(?![\w-])", lambda m: day(m.group(), "long"), text)


def categories(value: str | list[str] | None) -> str:
    """``vpn;mail`` → "VPN, messagerie"."""
    if not value:
        return ""
    codes = value.split(";") if isinstance(value, str) else value
    return ", ".join(label("category", c) for c in codes if c)


def _locale() -> str:
    return "en_GB" if lang() == "en" else "fr_FR"


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def day(value: date | str | None, style: str = "full") -> str:
    """ "jeudi 3 décembre 2026" (``full``), "jeu. 3 déc." (``short``), "3 décembre 2026"
    (``long``)."""
    if value in (None, ""):
        return ""
    from babel.dates import format_date  # noqa: PLC0415 - lazy: the CLI starts without Babel

    assert value is not None
    pattern = {"full": "full", "long": "long", "short": "EEE d MMM", "weekday": "EEEE d"}[style]
    return str(format_date(_as_date(value), pattern, locale=_locale()))


def span(lo: date | str, hi: date | str) -> str:
    """ "du 2 au 6 novembre 2026"."""
    a, b = _as_date(lo), _as_date(hi)
    from babel.dates import format_date  # noqa: PLC0415

    loc = _locale()
    if lang() == "en":
        return (
            f"{format_date(a, 'd MMMM y', locale=loc)} to {format_date(b, 'd MMMM y', locale=loc)}"
        )
    first = (
        "d"
        if (a.year, a.month) == (b.year, b.month)
        else ("d MMMM" if a.year == b.year else "d MMMM y")
    )
    start = format_date(a, first, locale=loc)
    if a.day == 1:
        start = "1er" + start[1:]
    end = format_date(b, "d MMMM y", locale=loc)
    if b.day == 1:
        end = "1er" + end[1:]
    return f"du {start} au {end}"


def week(week_id: str) -> str:
    """``2026-W45`` → "semaine du 2 au 6 novembre 2026" (Monday to Friday)."""
    try:
        year, number = week_id.split("-W")
        monday = date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        return week_id
    text = span(monday, monday + timedelta(days=4))
    return ("week of " + text) if lang() == "en" else "semaine " + text


def week_short(week_id: str) -> str:
    """``2026-W45`` → "2–6 nov." (for a chart's axis)."""
    try:
        year, number = week_id.split("-W")
        monday = date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        return week_id
    from babel.dates import format_date  # noqa: PLC0415

    friday = monday + timedelta(days=4)
    loc = _locale()
    if monday.month == friday.month:
        return f"{monday.day}–{format_date(friday, 'd MMM', locale=loc)}"
    return (
        f"{format_date(monday, 'd MMM', locale=loc)} – {format_date(friday, 'd MMM', locale=loc)}"
    )


def month(month_id: str | date) -> str:
    """``2026-11`` → "novembre 2026"."""
    from babel.dates import format_date  # noqa: PLC0415

    try:
        first = month_id if isinstance(month_id, date) else date.fromisoformat(f"{month_id}-01")
    except ValueError:
        return str(month_id)
    return str(format_date(first, "LLLL y", locale=_locale()))


def period(value: str) -> str:
    """A report's period: an ISO week, a month, or a range of weeks ``W..W``."""
    if ".." in value:
        lo, _, hi = value.partition("..")
        try:
            y1, n1 = lo.split("-W")
            y2, n2 = hi.split("-W")
            monday = date.fromisocalendar(int(y1), int(n1), 1)
            sunday = date.fromisocalendar(int(y2), int(n2), 7)
        except ValueError:
            return value
        return span(monday, sunday)
    if "-W" in value:
        return week(value)
    if len(value) == 7 and value[4] == "-":
        return month(value)
    return value


def when(value: datetime | str | None) -> str:
    """A moment in local time (Europe/Paris): "6 décembre 2026 à 01:29"."""
    if value in (None, ""):
        return ""
    assert value is not None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    from babel.dates import format_datetime  # noqa: PLC0415

    pattern = "d MMMM y 'at' HH:mm" if lang() == "en" else "d MMMM y 'à' HH:mm"
    return str(format_datetime(moment, pattern, tzinfo=ZONE, locale=_locale()))


def number(value: Any) -> str:
    """1306462 → "1 306 462"; 0.5 → "0,5"."""
    if value in (None, ""):
        return ""
    if isinstance(value, bool):
        return label("value", value)
    from babel.numbers import format_decimal  # noqa: PLC0415

    try:
        return str(format_decimal(value, locale=_locale()))
    except (TypeError, ValueError, ArithmeticError):
        return str(value)


def percent(value: Any, digits: int = 0) -> str:
    """0.9528 → "95 %" (or "95,3 %" with one digit)."""
    if value in (None, ""):
        return ""
    from babel.numbers import format_percent  # noqa: PLC0415

    pattern = "#,##0" + ("." + "0" * digits if digits else "") + " %"
    if lang() == "en":
        pattern = pattern.replace(" %", "%")
    return str(format_percent(float(value), pattern, locale=_locale()))


CLASSIFIED = re.compile(r"(?:^|, )(service|job_family)=")


def protected_cells(text: str) -> str:
    """``service=Voirie, job_family=Éducation`` (the audit's protected cells) → "service Voirie ;
    famille de métiers Éducation" (a group's name may itself hold a comma)."""
    parts = CLASSIFIED.split(text)
    if len(parts) < 3:
        return text
    return " ; ".join(
        f"{label('value', kind)} {group}"
        for kind, group in zip(parts[1::2], parts[2::2], strict=True)
    )


def cell(column: str, value: Any) -> str:
    """A report's cell as a person reads it (the same figure CSV gives as a machine value)."""
    if value in (None, ""):
        return ""
    if column in ("share_with_trace", "coverage"):
        return percent(value, 1)
    if column in ("period", "week"):
        return period(str(value))
    if column == "protected_cells":
        return protected_cells(str(value))
    if column in ("reliable", "suppressed"):
        if column == "reliable":
            return pick(("suffisante", "sufficient") if value else ("insuffisante", "insufficient"))
        return label("column", "suppressed") if value else ""
    if isinstance(value, bool):
        return label("value", value)
    if isinstance(value, (int, float)):
        return number(value)
    return str(value)


def row_cell(column: str, row: dict[str, Any]) -> str:
    """One cell of a command line table, read with its row (an alert's detail needs its kind)."""
    value = row.get(column)
    if value in (None, ""):
        return ""
    if column == "half_day":
        return label("half", value)
    if column == "scheduled":
        return label("scheduled", value)
    if column == "status":
        pair = STATUS.get(str(value)) or REQUEST_STATUS.get(str(value))
        return pick(pair) if pair else str(value)
    if column == "declaration":
        return declaration(str(value))
    if column == "categories":
        return categories(value)
    if column == "date":
        return day(value)
    if column in ("requested_on", "due_on"):
        return day(value, "long")
    if column == "at":
        return when(value)
    if column == "kind":
        return label("alert", value)
    if column == "detail" and "kind" in row:
        return alert(str(row["kind"]), str(value))
    if column in ("agent_id", "id", "display_name", "actor", "annotation", "group", "table"):
        return str(value)
    return cell(column, value)


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def parameter(key: str, value: Any) -> str:
    """A report parameter's value as a person reads it."""
    if value in (None, ""):
        return pick(("aucune", "none"))
    if key in {"weeks", "awaiting_data"}:
        return ", ".join(period(v.strip()) for v in str(value).split(",") if v.strip())
    if key == "threshold":
        return percent(value)
    if key in ("from", "to") or (isinstance(value, str) and ISO_DAY.fullmatch(value)):
        return day(str(value), "long")
    if isinstance(value, str) and ISO_MOMENT.match(value):
        return when(value)
    if key in ("by", "period", "sources"):
        return label("value", value)
    if isinstance(value, bool):
        return label("value", value)
    if isinstance(value, (int, float)):
        return number(value)
    return str(value)


def jinja_filters() -> dict[str, Any]:
    """The filters of the pages and human-readable exports: codes, numbers, dates and weeks as a
    person reads them, in the current language."""
    return {
        "label": lambda code, kind: label(kind, code),
        "day": day,
        "when": when,
        "week": week,
        "month": month,
        "period": period,
        "num": number,
        "pct": percent,
        "cell": lambda value, column: cell(column, value),
        "param": lambda value, key: parameter(key, value),
        "categories": categories,
        "declaration": declaration,
        "register": register_words,
        "notification": _notification_of,
    }
