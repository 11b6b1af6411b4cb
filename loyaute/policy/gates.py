"""The legal gates (rules A1–A7): nothing runs for the telework-check purpose until they hold.

Each gate says whether it holds and, when it does not, what is missing, in words the DPO can act
on. ``fingerprint`` hashes the *material* configuration (sources, application mapping, half-day
windows, code table, eligible families, retention, mode, k, purposes) — not the gate dates and
references themselves — so that the committee's opinion is tied to what it was shown (A4).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loyaute.config import Settings
from loyaute.errors import GateError
from loyaute.i18n import tr
from loyaute.policy.register import Register, uncovered
from loyaute.policy.scope import agent_t0, common_t0

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

__all__ = ["Gate", "agent_t0", "common_t0", "evaluate", "fingerprint", "require", "status"]


@dataclass(frozen=True)
class Gate:
    """One gate's state."""

    id: str
    title: str
    ok: bool
    reason: str


RETENTION_KEYS = (
    "case_retention_days",
    "notification_retention_days",
    "objection_retention_days",
    "access_request_retention_days",
    "statement_retention_months",
    "account_retention_days",
)
"""Retention periods added after the first deployments (issue 11)."""


def fingerprint(settings: Settings, register: Register) -> str:
    """SHA-256 of the material configuration, canonical JSON (64 hex digits).

    Settings added later (the retention of cases, notifications…, remote log locations and
    transfers) count only once they differ from their default: a changed period or a new
    storage is material (A4), but upgrading loyaute must not invalidate a committee opinion
    given on an unchanged configuration."""
    p = register.purpose
    material: dict[str, Any] = {
        "timezone": settings.timezone,
        "half_days": settings.half_days.model_dump(),
        "codes": settings.schedule.codes.model_dump(),
        "pending_days": settings.schedule.pending_days,
        "apps": [a.model_dump() for a in settings.apps],
        "sources": settings.sources.model_dump(),
        "mode": p.mode,
        "eligible_job_families": sorted(p.eligible_job_families),
        "k_min": p.k_min,
        "retention_after_month_end_days": p.retention_after_month_end_days,
        "audit_retention_months": p.audit_retention_months,
        "validity_study": {
            "enabled": register.validity_study.enabled,
            "reliability_threshold": register.validity_study.reliability_threshold,
        },
        "data_categories": p.data_categories,
        "recipients": p.recipients,
    }
    defaults = type(p).model_fields
    for key in RETENTION_KEYS:
        if getattr(p, key) != defaults[key].default:
            material[key] = getattr(p, key)
    if p.processors:
        material["processors"] = p.processors
    if settings.ingest.remote_locations:
        material["remote_locations"] = sorted(settings.ingest.remote_locations)
    if register.transfers:
        material["transfers"] = [t.model_dump() for t in register.transfers]
    canonical = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _missing(pairs: Iterable[tuple[str, object]]) -> list[str]:
    return [
        name for name, value in pairs if not value or (isinstance(value, str) and not value.strip())
    ]


def evaluate(
    settings: Settings,
    register: Register,
    agents_without_notice: int = 0,
    agents_total: int | None = None,
) -> list[Gate]:
    """The state of gates A1–A7, in order."""
    c, p = register.controller, register.purpose
    gates: list[Gate] = []

    missing = _missing(
        [
            ("controller.name", c.name),
            ("controller.dpo_contact", c.dpo_contact),
            ("purpose.legal_basis", p.legal_basis),
            ("purpose.legal_text", p.legal_text),
            ("purpose.registered_on", p.registered_on),
        ]
    )
    # Categories, recipients and security measures are derived from what loyaute does
    # (policy/processing.py); what the DPO must add is the storage outside the organisation.
    missing += [
        f"transfers ({where})"
        for where in uncovered(settings.ingest.remote_locations, register.transfers)
    ]
    gates.append(
        Gate(
            "A1",
            tr("Inscription au registre (art. 30)", "Register entry (art. 30)"),
            not missing,
            tr(
                f"à remplir dans register.toml : {', '.join(missing)}",
                f"to fill in register.toml: {', '.join(missing)}",
            )
            if missing
            else tr(f"inscrite le {p.registered_on}", f"registered on {p.registered_on}"),
        )
    )

    missing = _missing(
        [
            ("purpose.dpia_approved_on", p.dpia_approved_on),
            ("purpose.dpia_dpo_opinion", p.dpia_dpo_opinion),
            ("purpose.dpia_staff_views", p.dpia_staff_views),
            ("purpose.dpia_residual_risk", p.dpia_residual_risk),
        ]
    )
    if p.dpia_residual_risk == "high" and not p.cnil_consultation_ref.strip():
        missing.append("purpose.cnil_consultation_ref (risque résiduel élevé, art. 36)")
    if p.mode == "crosscheck" and not p.dpia_subsidiarity.strip():
        missing.append("purpose.dpia_subsidiarity (mode crosscheck, D2)")
    gates.append(
        Gate(
            "A2",
            tr("AIPD approuvée (art. 35)", "DPIA approved (art. 35)"),
            not missing,
            tr(f"à remplir : {', '.join(missing)}", f"to fill: {', '.join(missing)}")
            if missing
            else tr(f"approuvée le {p.dpia_approved_on}", f"approved on {p.dpia_approved_on}"),
        )
    )

    basis_ok = p.legal_basis in ("public_task", "legal_obligation") and bool(p.legal_text.strip())
    gates.append(
        Gate(
            "A3",
            tr("Base légale", "Legal basis"),
            basis_ok,
            tr(
                f"{p.legal_basis} — {p.legal_text}",
                f"{p.legal_basis} — {p.legal_text}",
            )
            if basis_ok
            else tr(
                "purpose.legal_basis doit être public_task ou legal_obligation, avec purpose.legal_text",
                "purpose.legal_basis must be public_task or legal_obligation, with purpose.legal_text",
            ),
        )
    )

    current = fingerprint(settings, register)
    missing = _missing(
        [
            ("purpose.committee_opinion_on", p.committee_opinion_on),
            ("purpose.committee_minutes_ref", p.committee_minutes_ref),
            ("purpose.committee_config_fingerprint", p.committee_config_fingerprint),
        ]
    )
    if missing:
        a4 = Gate(
            "A4",
            tr("Avis du comité social", "Staff committee opinion"),
            False,
            tr(f"à remplir : {', '.join(missing)}", f"to fill: {', '.join(missing)}"),
        )
    elif p.committee_config_fingerprint.strip() != current:
        a4 = Gate(
            "A4",
            tr("Avis du comité social", "Staff committee opinion"),
            False,
            tr(
                "la configuration a changé depuis l'avis du comité : un nouvel avis est nécessaire "
                f"(empreinte actuelle {current[:16]}…, avis sur {p.committee_config_fingerprint[:16]}…)",
                "the configuration changed since the committee's opinion: a new opinion is needed "
                f"(current fingerprint {current[:16]}…, opinion on {p.committee_config_fingerprint[:16]}…)",
            ),
        )
    else:
        a4 = Gate(
            "A4",
            tr("Avis du comité social", "Staff committee opinion"),
            True,
            tr(
                f"avis du {p.committee_opinion_on} ({p.committee_minutes_ref})",
                f"opinion of {p.committee_opinion_on} ({p.committee_minutes_ref})",
            ),
        )
    gates.append(a4)

    missing = _missing(
        [
            ("purpose.deliberation_effective_on", p.deliberation_effective_on),
            ("purpose.committee_opinion_on", p.committee_opinion_on),
            ("purpose.dpia_approved_on", p.dpia_approved_on),
        ]
    )
    gates.append(
        Gate(
            "A5",
            tr("Date de départ T0 par agent", "Per-agent start date T0"),
            not missing,
            tr(
                f"T0 = max(notice, avis, AIPD, délibération) ; manque : {', '.join(missing)}",
                f"T0 = max(notice, opinion, DPIA, délibération); missing: {', '.join(missing)}",
            )
            if missing
            else tr(
                f"T0 commun au plus tôt le {common_t0(register)} ; puis date de la notice de chaque agent",
                f"common T0 at the earliest {common_t0(register)}; then each agent's notice date",
            ),
        )
    )
    gates.append(
        Gate(
            "A6",
            tr("Pas de données antérieures à T0", "No data before T0"),
            True,
            tr(
                "toute donnée datée d'avant le T0 de l'agent est refusée et comptée ; `purge` supprime "
                "tout reliquat",
                "anything dated before the agent's T0 is refused and counted; `purge` removes leftovers",
            ),
        )
    )
    a7_title = tr("Information des agents (art. 12–13, 21)", "Agents informed (arts. 12–13, 21)")
    if agents_total == 0:
        gates.append(
            Gate(
                "A7",
                a7_title,
                False,
                tr("annuaire vide : `directory import`", "empty directory: `directory import`"),
            )
        )
        return gates
    gates.append(
        Gate(
            "A7",
            a7_title,
            agents_without_notice == 0,
            tr(
                f"{agents_without_notice} agent(s) sans date de remise de la notice : rien n'est "
                "conservé pour eux (`notice record`)",
                f"{agents_without_notice} agent(s) without a notice delivery date: nothing is kept "
                "for them (`notice record`)",
            )
            if agents_without_notice
            else tr("chaque agent a reçu la notice", "every agent received the notice"),
        )
    )
    return gates


def status(ws: Workspace) -> list[Gate]:
    """The gates of a workspace, with the directory counts A7 needs."""
    return evaluate(ws.settings, ws.register, ws.db.agents.without_notice(), ws.db.agents.count())


INDIVIDUAL_GATES = ("A1", "A2", "A3", "A4", "A5")
"""The gates every individual output needs (E1), the committee fingerprint included (A4)."""


def failing(gates: list[Gate], ids: Iterable[str] = INDIVIDUAL_GATES) -> list[Gate]:
    """The listed gates that do not hold."""
    wanted = set(ids)
    return [g for g in gates if g.id in wanted and not g.ok]


def require(gates: list[Gate], ids: Iterable[str], action: str) -> None:
    """Raise ``GateError`` naming every listed gate that does not hold."""
    wanted = set(ids)
    failing = [g for g in gates if g.id in wanted and not g.ok]
    if failing:
        detail = " ; ".join(f"{g.id} {g.reason}" for g in failing)
        raise GateError(
            tr(f"{action} refusé : {detail}", f"{action} refused: {detail}"),
            hint=tr("voir `loyaute gates`", "see `loyaute gates`"),
        )
