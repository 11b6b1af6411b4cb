"""French and English words for the codes loyaute shows to people (and the legal references its
documents cite), in one importable table with no web or CLI dependency.

Configuration files, exports and the API keep their codes (``public_task``, ``crosscheck``,
``medium``…: the contract promises them); a document or a page written for a person shows the
label instead. ``label(code, lang)`` finds a code in any group; a code that means two things in
two groups (``system`` is a role and a declaration, ``field`` a schedule kind and a declaration,
``other`` both too) needs its group: ``label("field", "fr", group="declaration")``. An unknown
code raises ``KeyError`` rather than slipping through untranslated — a test renders every French
document and page and fails on a raw code.

The CNIL's address is here, once: the notice, the access export and any page quote
``cnil_complaint(lang)``.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "CNIL",
    "GROUPS",
    "LEGAL_BASIS_ARTICLES",
    "cnil_complaint",
    "codes",
    "label",
    "labels",
    "member_state_law",
    "percent",
]

Pair = tuple[str, str]
"""(French, English)."""

GROUPS: dict[str, dict[str, Pair]] = {
    "legal_basis": {
        "public_task": (
            "mission d'intérêt public (art. 6(1)(e) du RGPD)",
            "public task: a task carried out in the public interest (GDPR art. 6(1)(e))",
        ),
        "legal_obligation": (
            "obligation légale (art. 6(1)(c) du RGPD)",
            "legal obligation (GDPR art. 6(1)(c))",
        ),
        "legitimate_interest": (
            "intérêt légitime (art. 6(1)(f) du RGPD)",
            "legitimate interest (GDPR art. 6(1)(f))",
        ),
        "consent": ("consentement (art. 6(1)(a) du RGPD)", "consent (GDPR art. 6(1)(a))"),
    },
    "mode": {
        "declarative": ("déclaratif", "declarative"),
        "crosscheck": ("recoupement", "cross-check"),
    },
    "risk": {
        "low": ("faible", "low"),
        "medium": ("modéré", "moderate"),
        "high": ("élevé", "high"),
    },
    "level": {
        # the CNIL PIA method's four-step scale of severity and likelihood
        "negligible": ("négligeable", "negligible"),
        "limited": ("limitée", "limited"),
        "significant": ("importante", "significant"),
        "maximum": ("maximale", "maximum"),
    },
    "feared_event": {
        "illegitimate_access": (
            "accès illégitime aux données",
            "illegitimate access to the data",
        ),
        "unwanted_modification": (
            "modification non désirée des données",
            "unwanted modification of the data",
        ),
        "disappearance": ("disparition des données", "disappearance of the data"),
        "misreading": (
            "lecture d'une absence de trace comme une absence de travail",
            "a missing trace read as missing work",
        ),
    },
    "role": {
        "operator": ("exploitant informatique (DSI)", "IT operator"),
        "dpo": ("délégué à la protection des données (DPO)", "data protection officer (DPO)"),
        "hr_reviewer": ("relecteur des ressources humaines", "HR reviewer"),
        "manager": ("responsable hiérarchique", "manager"),
        "agent": ("agent", "agent"),
        "staff_rep": ("représentant du personnel", "staff representative"),
        "system": ("loyaute (traitement automatique)", "loyaute (automatic processing)"),
    },
    "source": {
        "fortigate": (
            "connexions VPN FortiClient (pare-feu FortiGate)",
            "FortiClient VPN connections (FortiGate firewall)",
        ),
        "exchange-iis": (
            "messagerie Outlook, webmail, mobile (journaux Exchange)",
            "Outlook, webmail and mobile mail (Exchange logs)",
        ),
        "exchange-httpproxy": (
            "messagerie (journaux HttpProxy Exchange)",
            "mail (Exchange HttpProxy logs)",
        ),
        "proxy": (
            "applications métier via le portail extranet",
            "business applications through the extranet portal",
        ),
        "authentic2": ("connexions au portail Publik", "sign-ins to the Publik portal"),
        "csv": ("journal CSV décrit dans la configuration", "CSV log described in the settings"),
        "jsonl": (
            "journal JSON décrit dans la configuration",
            "JSON log described in the settings",
        ),
        "directory_csv": (
            "annuaire des agents (export CSV)",
            "staff directory (CSV export)",
        ),
        "directory_ldap": (
            "annuaire des agents (LDAP / Active Directory)",
            "staff directory (LDAP / Active Directory)",
        ),
        "schedule": (
            "planning de gestion des temps (export Octime ou équivalent)",
            "time-management schedule (Octime export or equivalent)",
        ),
        "agents": (
            "les agents eux-mêmes (déclarations, annotations, contestations, réponses, demandes)",
            "the agents themselves (declarations, annotations, disputes, answers, requests)",
        ),
        "staff_users": (
            "les utilisateurs de loyaute (dossiers, décisions, validations, accès)",
            "loyaute's users (cases, decisions, validations, accesses)",
        ),
    },
    "category": {
        "vpn": ("VPN", "VPN"),
        "mail": ("messagerie", "mail"),
        "apps": ("applications", "applications"),
    },
    "schedule_kind": {
        "telework": ("télétravail", "telework"),
        "on_site": ("sur site", "on site"),
        "leave": ("congé ou maladie", "leave or sickness"),
        "field": ("mission ou terrain", "mission or field work"),
        "training": ("formation", "training"),
        "union": ("décharge syndicale", "union time"),
        "other": ("autre", "other"),
        "unknown": ("inconnu", "unknown"),
    },
    "status": {
        "trace": ("trace numérique enregistrée", "digital trace recorded"),
        "no_trace": ("aucune trace numérique enregistrée", "no digital trace recorded"),
        "disputed": ("contesté (gelé)", "disputed (frozen)"),
        "out_of_scope": ("hors du champ", "out of scope"),
    },
    "declaration": {
        "system": ("travail sur le système", "work on the system"),
        "phone": ("téléphone", "phone"),
        "home_visit": ("visite à domicile", "home visit"),
        "meeting": ("réunion", "meeting"),
        "field": ("terrain", "field work"),
        "other": ("autre", "other"),
    },
    "half_day": {"AM": ("matin", "morning"), "PM": ("après-midi", "afternoon")},
    "decision": {"upheld": ("accueillie", "upheld"), "rejected": ("rejetée", "rejected")},
    "data_subject": {
        "agents": (
            "agents en télétravail des familles de métiers éligibles",
            "teleworking agents of the eligible job families",
        ),
        "directory_agents": (
            "tous les agents de l'annuaire (rattachement des traces, notice, planning)",
            "every agent in the directory (matching traces, notice, schedule)",
        ),
        "staff_users": (
            "utilisateurs de loyaute : responsables, relecteurs RH, DPO, représentants du "
            "personnel, exploitants (leurs accès sont journalisés)",
            "loyaute's users: managers, HR reviewers, DPO, staff representatives, operators "
            "(their accesses are logged)",
        ),
    },
    "data_category": {
        "directory": (
            "annuaire : identifiant, nom, service, famille de métiers, responsable, date de départ",
            "directory: identifier, name, service, job family, manager, leaving date",
        ),
        "logins": (
            "identifiants de connexion de l'agent (pour rattacher les traces ; gardés dans "
            "l'annuaire, jamais dans les demi-journées)",
            "the agent's logins (to match traces; kept in the directory, never in the half-days)",
        ),
        "schedule": (
            "planning : date, demi-journée, nature (télétravail, sur site, autre)",
            "schedule: date, half-day, kind (telework, on site, other)",
        ),
        "notice": ("date de remise de la notice d'information", "notice delivery date"),
        "records": (
            "par demi-journée de télétravail, sous pseudonyme : une trace numérique enregistrée "
            "ou non, et sa catégorie (VPN, messagerie, applications)",
            "per telework half-day, under a pseudonym: whether a digital trace was recorded, and "
            "its category (VPN, mail, applications)",
        ),
        "study": (
            "étude de validité : demi-journées sur site sous pseudonyme (trace de messagerie ou "
            "d'applications, oui ou non) jusqu'à la publication de leur semaine",
            "validity study: on-site half-days under a pseudonym (mail or application trace, yes "
            "or no) until their week is published",
        ),
        "agent_side": (
            "ce que dit l'agent : déclarations, annotations, contestations, oppositions, "
            "demandes d'accès, réponses aux dossiers",
            "what the agent says: declarations, annotations, disputes, objections, access "
            "requests, answers to cases",
        ),
        "cases": (
            "dossiers d'examen : relecteur, motif, période, décision et son dossier de preuves, "
            "notifications à l'agent",
            "review cases: reviewer, reason, period, decision and its evidence bundle, "
            "notifications to the agent",
        ),
        "statements": (
            "validation des relevés mensuels de déclarations par les responsables",
            "managers' validation of the monthly statements of declarations",
        ),
        "audit": (
            "journal des accès : qui (identifiant et rôle de l'utilisateur), quand, quelle "
            "action, sur quel agent, pour quel motif ; alertes au DPO",
            "access log: who (user's login and role), when, what action, about which agent, "
            "for what reason; DPO alerts",
        ),
        "accounts": (
            "comptes des utilisateurs : identifiant, rôle, empreinte du mot de passe, sessions, "
            "jetons, tentatives de connexion (empreintes)",
            "users' accounts: login, role, password hash, sessions, tokens, sign-in attempts "
            "(digests)",
        ),
        "quarantine": (
            "quelques lignes de journal illisibles, identifiants masqués (diagnostic)",
            "a few unreadable log lines, identifiers masked (diagnosis)",
        ),
    },
    "record": {
        "records": ("demi-journées de télétravail (traces)", "telework half-days (traces)"),
        "study": ("demi-journées sur site (étude de validité)", "on-site half-days (study)"),
        "pending": (
            "demi-journées en attente de planning",
            "half-days waiting for their schedule",
        ),
        "schedule": ("planning", "schedule"),
        "agent_side": (
            "déclarations, annotations et contestations",
            "declarations, annotations and disputes",
        ),
        "directory": ("annuaire et identifiants de connexion", "directory and logins"),
        "notices": ("dates de remise de la notice", "notice delivery dates"),
        "cases": ("dossiers d'examen", "review cases"),
        "evidence": ("dossiers de preuves des décisions", "evidence bundles of decisions"),
        "case_answers": ("réponses des agents aux dossiers", "agents' answers to cases"),
        "notifications": ("notifications aux agents", "notifications to agents"),
        "objections": ("oppositions et décisions", "objections and decisions"),
        "access_requests": ("demandes d'accès", "access requests"),
        "statements": ("validations des relevés mensuels", "statement validations"),
        "holds": ("gels (dossiers, contestations)", "holds (cases, disputes)"),
        "aggregates": ("agrégats publiés sans pseudonyme", "published aggregates (no pseudonym)"),
        "publication_details": (
            "composition figée des groupes publiés (pseudonymes et effectifs par service et "
            "famille de métiers, pour l'audit de divulgation)",
            "frozen membership of published groups (pseudonyms and counts by service and job "
            "family, for the disclosure audit)",
        ),
        "audit": ("journal des accès", "access log"),
        "alerts": ("alertes au DPO", "DPO alerts"),
        "accounts": ("comptes des utilisateurs", "user accounts"),
        "sessions": ("sessions de connexion", "sign-in sessions"),
        "tokens": ("jetons personnels", "personal tokens"),
        "signin_traces": ("traces de tentatives de connexion", "sign-in attempt traces"),
        "quarantine": ("lignes illisibles masquées", "masked unreadable lines"),
    },
}
"""group → code → (French, English)."""

LEGAL_BASIS_ARTICLES: dict[str, str] = {
    "public_task": "6(1)(e)",
    "legal_obligation": "6(1)(c)",
    "legitimate_interest": "6(1)(f)",
    "consent": "6(1)(a)",
}

_PUBLIC_SERVICE_LAW: Pair = (
    "décret n° 2016-151 du 11 février 2016 relatif aux conditions et modalités de mise en œuvre "
    "du télétravail dans la fonction publique, article 7 (la délibération fixe, après avis du "
    "comité social, les modalités de contrôle et de comptabilisation du temps de travail)",
    "French décret n° 2016-151 of 11 February 2016 on telework in the public service, article 7 "
    "(the délibération sets, after the staff committee's opinion, how working time is "
    "controlled and counted)",
)
_LABOUR_CODE: Pair = (
    "Code du travail, articles L1121-1 (restrictions justifiées et proportionnées), L1222-4 "
    "(information préalable du salarié) et L2312-38 (information et consultation du CSE)",
    "French Labour Code, articles L1121-1 (justified and proportionate restrictions), L1222-4 "
    "(prior information of the employee) and L2312-38 (works council consulted)",
)

CNIL: Pair = (
    "Commission nationale de l'informatique et des libertés (CNIL), 3 place de Fontenoy, "
    "TSA 80715, 75334 Paris Cedex 07 — plainte en ligne : https://www.cnil.fr/fr/plaintes",
    "Commission nationale de l'informatique et des libertés (CNIL, the French supervisory "
    "authority), 3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07, France — online "
    "complaint: https://www.cnil.fr/fr/plaintes",
)
"""Where a complaint goes (GDPR art. 77): the one address every document and page quotes."""


def _index(lang: str) -> int:
    return 1 if lang == "en" else 0


def label(code: str, lang: str = "fr", group: str | None = None) -> str:
    """The person-facing word for ``code`` in ``lang`` (``fr`` unless ``en``). Without ``group``
    the code must mean one thing in every group that has it; ``KeyError`` when it is unknown,
    ``ValueError`` when it is ambiguous."""
    if group is not None:
        return GROUPS[group][code][_index(lang)]
    found = {table[code] for table in GROUPS.values() if code in table}
    if not found:
        raise KeyError(code)
    if len(found) > 1:
        raise ValueError(f"{code!r} means several things: pass group=")
    return found.pop()[_index(lang)]


def labels(group: str, lang: str = "fr") -> dict[str, str]:
    """code → word, for one group (a page's select options, a table's legend)."""
    return {code: pair[_index(lang)] for code, pair in GROUPS[group].items()}


def codes() -> Mapping[str, frozenset[str]]:
    """group → its codes (the tests that look for raw codes in French text read this)."""
    return {group: frozenset(table) for group, table in GROUPS.items()}


def member_state_law(public_authority: bool, lang: str = "fr") -> str:
    """The national law the legal basis rests on besides the organisation's own act (GDPR
    art. 6(3)): the décret on telework in the public service for a public employer, the Labour
    Code for private-law staff."""
    return (_PUBLIC_SERVICE_LAW if public_authority else _LABOUR_CODE)[_index(lang)]


def cnil_complaint(lang: str = "fr") -> str:
    """The CNIL's postal and online addresses for a complaint (GDPR art. 77)."""
    return CNIL[_index(lang)]


def percent(share: float, lang: str = "fr") -> str:
    """``0.9`` → ``90 %`` (French, with its narrow no-break space and decimal comma) or
    ``90%``."""
    value = round(share * 100, 1)
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text.replace('.', ',')}\u202f%" if lang != "en" else f"{text}%"
