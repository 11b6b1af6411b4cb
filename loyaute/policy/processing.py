"""What the processing is, derived from the live configuration: who receives what, which data
about whom, from which sources, stored where, protected how.

The register entry (GDPR art. 30(1)), the notice (arts. 13–14) and the DPIA (art. 35(7)(a))
describe the same processing; they read it here, so that none of them can list a recipient,
a source or a category the others forget — or that the software does not have. Everything is in
codes and (French, English) pairs; ``policy/wording.py`` gives the codes their words.

Recipients follow the roles in use: every role that has an account, or that the identity
provider's groups give (``[[oidc.roles]]``), and the DPO always; what each receives follows the
permission table (``policy/roles.py``) and the mode (D2). Processors are the operators of the
storage named in ``[[transfers]]`` (not internal) and those the DPO lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from loyaute.policy.register import Transfer
from loyaute.policy.roles import Role
from loyaute.policy.wording import label

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

Pair = tuple[str, str]


@dataclass(frozen=True)
class Recipient:
    """One recipient (or category of recipients) and what it receives."""

    code: str
    """A role code, ``processor``, ``technical`` or ``other``."""
    name: Pair
    receives: Pair

    def text(self, lang: str) -> str:
        """``name : what it receives``."""
        i = 1 if lang == "en" else 0
        return f"{self.name[i]}{' : ' if i == 0 else ': '}{self.receives[i]}"


def roles_in_use(ws: Workspace) -> set[Role]:
    """Roles with an account, or given by the identity provider's groups; the DPO always."""
    roles = {Role(a.role) for a in ws.db.accounts.all()}
    if ws.settings.oidc.enabled:
        roles |= {Role(r.role) for r in ws.settings.oidc.roles}
    return roles | {Role.DPO}


def _role_receives(role: Role, declarative: bool, k: int) -> Pair:
    if role is Role.MANAGER:
        seen = (
            ("des déclarations", "declarations")
            if declarative
            else (
                "des traces et des déclarations",
                "traces and declarations",
            )
        )
        return (
            f"agrégats {seen[0]} de son service (groupes de moins de {k} agents masqués) ; "
            "relevé mensuel nominatif des demi-journées de télétravail déclarées par ses agents, "
            "jamais leurs traces, qu'il valide",
            f"aggregates of {seen[1]} of their own service (groups under {k} agents "
            "suppressed); the named monthly statement of their agents' declared telework "
            "half-days, never their traces, which they validate",
        )
    if role is Role.HR_REVIEWER:
        if declarative:
            return (
                "agrégats des déclarations ; examen des contestations ; aucun dossier sur les "
                "traces n'est possible en mode déclaratif",
                "aggregates of declarations; review of disputes; no case on traces is possible "
                "in declarative mode",
            )
        return (
            "dossiers d'examen dont il est le relecteur nommé : l'agent ré-identifié, ses "
            "demi-journées de télétravail de la période, ses déclarations, annotations et "
            "réponses ; agrégats ; examen des contestations",
            "review cases they are the named reviewer of: the agent re-identified, their "
            "telework half-days of the period, declarations, annotations and answers; "
            "aggregates; review of disputes",
        )
    if role is Role.STAFF_REP:
        return (
            "agrégats, étude de validité, registre, analyse d'impact et statistiques du journal "
            "des accès ; aucune donnée individuelle",
            "aggregates, validity study, register, impact assessment and access-log "
            "statistics; no individual data",
        )
    if role is Role.DPO:
        return (
            "export complet des données d'un agent qui exerce son droit d'accès, journal des "
            "accès et alertes, décisions sur les oppositions et les contestations",
            "the full export of an agent exercising their right of access, the access log and "
            "alerts, decisions on objections and disputes",
        )
    if role is Role.OPERATOR:
        return (
            "aucune donnée d'activité : il fait lire les journaux et voit l'état de l'ingestion",
            "no activity data: they have the logs read and see the state of ingestion",
        )
    return ("ses propres données", "their own data")


ROLE_ORDER = (Role.MANAGER, Role.HR_REVIEWER, Role.STAFF_REP, Role.DPO, Role.OPERATOR)


def recipients(ws: Workspace) -> list[Recipient]:
    """Every recipient of the processing, in a fixed order."""
    p = ws.register.purpose
    declarative = p.mode == "declarative"
    used = roles_in_use(ws)
    out = [
        Recipient(
            role.value,
            (label(role.value, "fr", "role"), label(role.value, "en", "role")),
            _role_receives(role, declarative, p.k_min),
        )
        for role in ROLE_ORDER
        if role in used
    ]
    for t in processors(ws):
        out.append(
            Recipient(
                "processor",
                (
                    f"{t.holder} (sous-traitant, {t.country})",
                    f"{t.holder} (processor, {t.country})",
                ),
                (
                    f"stockage des journaux bruts que loyaute lit ({t.location}), contrat "
                    f"{t.contract_ref}",
                    f"storage of the raw logs loyaute reads ({t.location}), contract "
                    f"{t.contract_ref}",
                ),
            )
        )
    for other in p.processors:
        out.append(Recipient("processor", ("sous-traitant", "processor"), (other, other)))
    technical = ", ".join(p.technical_access)
    out.append(
        Recipient(
            "technical",
            (
                "accès technique à l'espace de travail (compte de service, sauvegardes)",
                "technical access to the workspace (service account, backups)",
            ),
            (
                technical or "[fonctions à nommer : purpose.technical_access]",
                technical or "[functions to name: purpose.technical_access]",
            ),
        )
    )
    for other in p.recipients:
        out.append(Recipient("other", ("autre destinataire", "other recipient"), (other, other)))
    return out


def processors(ws: Workspace) -> list[Transfer]:
    """Storage operated by someone else than the organisation."""
    return [t for t in ws.register.transfers if not t.internal]


def transfers_outside_eu(ws: Workspace) -> list[Transfer]:
    """Storage outside the European Union (arts. 44–49)."""
    return [t for t in ws.register.transfers if t.outside_eu]


def data_categories(ws: Workspace) -> list[str]:
    """Codes of the ``data_category`` group, as the configuration makes them."""
    out = ["directory", "logins", "schedule", "notice", "records"]
    if ws.register.validity_study.enabled:
        out.append("study")
    out.append("agent_side")
    if ws.register.purpose.mode == "crosscheck" or ws.db.cases.opened_per_month():
        out.append("cases")
    out += ["statements", "audit", "accounts", "quarantine"]
    return out


def data_subjects() -> list[str]:
    """Codes of the ``data_subject`` group."""
    return ["agents", "directory_agents", "staff_users"]


def log_sources(ws: Workspace) -> list[str]:
    """Codes of the ``source`` group for the log formats enabled (a generic source by its
    format)."""
    generic = {g.name: g.format for g in ws.settings.sources.generic}
    return list(dict.fromkeys(generic.get(s, s) for s in ws.settings.sources.enabled))


def sources(ws: Workspace) -> list[str]:
    """Codes of the ``source`` group: the log formats enabled, the directory, the schedule, and
    what people enter themselves."""
    directory = "directory_ldap" if ws.settings.directory.ldap.url else "directory_csv"
    return [*log_sources(ws), directory, "schedule", "agents", "staff_users"]


def security_measures(ws: Workspace) -> list[Pair]:
    """The measures loyaute applies, as configured, then the DPO's own."""
    s, p = ws.settings, ws.register.purpose
    out: list[Pair] = [
        (
            "pseudonymisation à la lecture des journaux (HMAC à clé, clé hors du magasin)",
            "pseudonymisation as logs are read (keyed HMAC, key outside the store)",
        ),
        (
            "minimisation : une information par demi-journée de télétravail, aucune heure, "
            "adresse IP, URL, durée ni nombre de connexions",
            "minimisation: one fact per telework half-day, no time, IP address, URL, duration "
            "or number of connections",
        ),
        (
            f"secret statistique : groupes de moins de {p.k_min} agents masqués, masquage "
            "complémentaire, publication figée ; avant chaque publication, un auditeur de "
            "divulgation vérifie par programmation linéaire en nombres entiers, sur tout ce qui "
            "est déjà publié, qu'aucun petit groupe ni aucune case masquée ne peut être cerné à "
            f"moins de {p.protection_half_days} demi-journées sans trace près (E7)",
            f"statistical disclosure control: groups under {p.k_min} agents suppressed, "
            "complementary suppression, frozen publication; before each publication, a "
            "disclosure auditor checks by integer linear programming, against everything "
            "already published, that no small group and no withheld cell can be narrowed to "
            f"fewer than {p.protection_half_days} half-days without a trace (E7)",
        ),
        (
            "accès par rôle et besoin d'en connaître, une seule porte d'accès aux données "
            "individuelles qui vérifie et journalise",
            "role-based, need-to-know access through one door to individual data that checks "
            "and logs",
        ),
        (
            "journal des accès chaîné et scellé par une clé, vérifiable ; alertes au DPO",
            "keyed, hash-chained, verifiable access log; DPO alerts",
        ),
    ]
    if s.audit.checkpoint_file or s.audit.checkpoint_syslog:
        out.append(
            (
                "points de contrôle du journal des accès hors de l'espace de travail",
                "access-log checkpoints outside the workspace",
            )
        )
    out.append(
        (
            "comptes protégés (Argon2id, blocage progressif, sessions courtes, jetons CSRF)",
            "protected accounts (Argon2id, progressive backoff, short sessions, CSRF tokens)",
        )
    )
    if s.oidc.enabled:
        out.append(
            (
                "connexion par le fournisseur d'identité de l'organisation (OpenID Connect)",
                "sign-in through the organisation's identity provider (OpenID Connect)",
            )
        )
    if s.directory.ldap.url:
        out.append(
            (
                "annuaire lu en LDAP chiffré (LDAPS ou StartTLS)",
                "directory read over encrypted LDAP (LDAPS or StartTLS)",
            )
        )
    out += [
        (
            "fichiers de l'espace de travail réservés à son propriétaire (0600/0700)",
            "workspace files readable by their owner only (0600/0700)",
        ),
        (
            "durées de conservation appliquées automatiquement et journalisées",
            "retention periods applied automatically, and logged",
        ),
    ]
    out += [(m, m) for m in p.security_measures]
    return out
