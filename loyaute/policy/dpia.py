"""The DPIA's risk study, after the CNIL's PIA method: feared events, their severity and
likelihood before and after the measures, from the live configuration.

The CNIL's method (PIA guides, "Méthode" and "Bases de connaissances") studies three feared
events for the people concerned — illegitimate access to the data, unwanted modification,
disappearance — each rated for severity and likelihood on a four-step scale (négligeable,
limitée, importante, maximale), first as the raw processing would be, then with the measures
applied. loyaute adds the event that the unions and the law (GDPR art. 5(1)(d)) name for this
processing: a missing digital trace read as missing work.

The ratings are a draft for the DPO, not a verdict: they follow from what the configuration
does (the mode, the validity study, storage outside the organisation or the EU, checkpoints of
the access log outside the workspace), and the DPO records the residual risk they retain in
register.toml (``dpia_residual_risk``). The "before" column rates the naive processing the
product replaces — nominative connection lists handed to management.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from loyaute.policy.processing import processors, transfers_outside_eu

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

LEVELS = ("negligible", "limited", "significant", "maximum")
"""The CNIL's scale, 1 to 4 (codes of the ``level`` group of ``policy/wording.py``)."""

Pair = tuple[str, str]


@dataclass(frozen=True)
class Risk:
    """One feared event, rated before and after the measures."""

    event: str
    """Code of the ``feared_event`` group."""
    impacts: Pair
    threats: Pair
    severity_before: int
    likelihood_before: int
    severity_after: int
    likelihood_after: int
    measures: list[Pair]

    def level(self) -> str:
        """The residual risk as ``low``, ``medium`` or ``high`` (``risk`` group): high when
        both severity and likelihood stay significant or more, medium when one does."""
        return _level(self.severity_after, self.likelihood_after)


def _level(severity: int, likelihood: int) -> str:
    if severity >= 3 and likelihood >= 3:
        return "high"
    if severity >= 3 or likelihood >= 3:
        return "medium"
    return "low"


def overall(risks: list[Risk]) -> str:
    """The highest residual level among the feared events."""
    order = ("low", "medium", "high")
    return max((r.level() for r in risks), key=order.index, default="low")


def risks(ws: Workspace) -> list[Risk]:
    """The four feared events with their ratings and the measures that lower them."""
    p, s = ws.register.purpose, ws.settings
    declarative = p.mode == "declarative"
    study = ws.register.validity_study.enabled
    outside_eu = bool(transfers_outside_eu(ws))
    outsiders = bool(processors(ws))
    checkpoints = bool(s.audit.checkpoint_file or s.audit.checkpoint_syslog)

    access_measures: list[Pair] = [
        (
            "pseudonymes à la collecte ; ré-identification seulement dans un dossier, par son "
            "relecteur (E4)",
            "pseudonyms at collection; re-identification only in a case, by its reviewer (E4)",
        ),
        (
            "besoin d'en connaître par rôle ; l'exploitant ne voit aucune donnée d'activité (E5)",
            "need to know by role; the operator sees no activity data (E5)",
        ),
        (
            f"agrégats protégés : groupes de moins de {p.k_min} agents masqués (E3) ; un "
            "auditeur de divulgation contrôle chaque publication avec tout ce qui est déjà "
            "publié et masque davantage tant qu'un petit groupe ou une case masquée peut être "
            f"cerné à moins de {p.protection_half_days} demi-journées sans trace près (E7)",
            f"protected aggregates: groups under {p.k_min} agents suppressed (E3); a "
            "disclosure auditor checks each publication together with everything already "
            "published and suppresses more while a small group or a withheld cell can be "
            f"narrowed to fewer than {p.protection_half_days} half-days without a trace (E7)",
        ),
        (
            "chaque accès individuel journalisé, visible de l'agent ; alertes au DPO (H1, H2, E6)",
            "every individual access logged and shown to the agent; DPO alerts (H1, H2, E6)",
        ),
    ]
    if outsiders:
        access_measures.append(
            (
                "stockage hors de l'organisation sous contrat de sous-traitance (art. 28) ; "
                "seules des clés réduites en sortent",
                "storage outside the organisation under a processing contract (art. 28); only "
                "reduced keys leave it",
            )
        )
    misreading_measures: list[Pair] = [
        (
            "vocabulaire « aucune trace numérique enregistrée », jamais d'absence ; chaque "
            "export rappelle qu'une absence de trace ne prouve pas une absence de travail (D1, I2)",
            'the words "no digital trace recorded", never absence; every export says a missing '
            "trace does not establish missing work (D1, I2)",
        ),
        (
            "l'agent annote et conteste chaque demi-journée ; une contestation gèle la donnée (D3, D4)",
            "the agent annotates and disputes each half-day; a dispute freezes the record (D3, D4)",
        ),
        (
            "aucune décision automatisée : décision humaine, après la réponse de l'agent (C7, D5, D6)",
            "no automated decision: a human decision, after the agent's answer (C7, D5, D6)",
        ),
    ]
    if declarative:
        misreading_measures.insert(
            0,
            (
                "mode déclaratif : l'agent déclare chaque demi-journée ; les responsables voient "
                "les déclarations, jamais les traces (D2)",
                "declarative mode: the agent declares each half-day; managers see declarations, "
                "never traces (D2)",
            ),
        )
    else:
        misreading_measures.insert(
            0,
            (
                "mode recoupement : les traces d'un agent ne sont examinées que dans un dossier "
                "motivé, pour une période bornée, l'agent informé et entendu (D5)",
                "cross-check mode: an agent's traces are examined only in a reasoned case, for a "
                "bounded period, the agent informed and heard (D5)",
            ),
        )
    if study:
        misreading_measures.append(
            (
                "étude de validité : une famille de métiers mal couverte ne peut faire l'objet "
                "d'aucun dossier (E8)",
                "validity study: a job family that is poorly covered cannot be put in a case (E8)",
            )
        )
    return [
        Risk(
            "illegitimate_access",
            (
                "habitudes de travail d'un agent connues de collègues ou de sa hiérarchie hors "
                "de tout besoin : pression, stigmatisation, perte de confiance",
                "an agent's working habits known to colleagues or management without need: "
                "pressure, stigma, loss of trust",
            ),
            (
                "responsable ou collègue curieux, compte dérobé, copie de journaux, prestataire",
                "a curious manager or colleague, a stolen account, a copy of logs, a provider",
            ),
            3,
            3,
            2,
            3 if outside_eu else 2 if outsiders else 1,
            access_measures,
        ),
        Risk(
            "unwanted_modification",
            (
                "une demi-journée « sans trace » ajoutée ou une annotation effacée : décision "
                "injuste fondée sur une donnée fausse",
                'a half-day "without a trace" added or an annotation erased: an unfair '
                "decision based on false data",
            ),
            (
                "erreur d'ingestion, administrateur de la base, relecteur malveillant",
                "an ingest error, a database administrator, a malicious reviewer",
            ),
            3,
            2,
            2,
            1 if checkpoints else 2,
            [
                (
                    "magasin en générations remplacées atomiquement, liste blanche de colonnes",
                    "store in atomically switched generations, a whitelist of columns",
                ),
                (
                    "l'agent voit exactement ce que voit un relecteur et peut le contester (E6, D4)",
                    "the agent sees exactly what a reviewer sees and can dispute it (E6, D4)",
                ),
                (
                    "journal des accès chaîné et scellé ; `audit verify` détecte toute retouche (H1, H4)"
                    + (" ; points de contrôle hors de l'espace de travail" if checkpoints else ""),
                    "keyed hash-chained access log; `audit verify` detects any edit (H1, H4)"
                    + ("; checkpoints outside the workspace" if checkpoints else ""),
                ),
            ],
        ),
        Risk(
            "disappearance",
            (
                "l'agent ne peut plus produire ses annotations, ses réponses ou le dossier d'une "
                "décision qui le concerne",
                "the agent can no longer show their annotations, answers or the file of a "
                "decision about them",
            ),
            (
                "purge prématurée, panne de disque, suppression malveillante",
                "an early purge, a disk failure, a malicious deletion",
            ),
            2,
            2,
            2,
            1,
            [
                (
                    "gels : rien de ce qu'un dossier ou une contestation ouverts utilisent n'est "
                    "purgé (F4)",
                    "holds: nothing an open case or dispute uses is purged (F4)",
                ),
                (
                    "l'agent exporte à tout moment toutes ses données et le dossier d'une décision "
                    "(G2, D6)",
                    "the agent exports all their data and a decision's file at any time (G2, D6)",
                ),
                (
                    "un disque plein ou une base endommagée sont signalés, rien n'est écrit à moitié",
                    "a full disk or a damaged database is reported, nothing is half-written",
                ),
            ],
        ),
        Risk(
            "misreading",
            (
                "soupçon infondé, retrait du télétravail ou sanction pour un agent qui "
                "travaillait au téléphone, en visite ou en réunion",
                "unfounded suspicion, loss of telework or a sanction for an agent who worked on "
                "the phone, on a visit or in a meeting",
            ),
            (
                "lecture hâtive d'une liste de connexions, mesure peu fiable pour certains métiers",
                "a hasty reading of connection lists, a measure unreliable for some jobs",
            ),
            4,
            4,
            2 if declarative else 3,
            1 if declarative else 2,
            misreading_measures,
        ),
    ]
