"""The agent's access export (rules G2, I1, I2, E6): everything kept about them, and who looked.

``records.csv`` (every telework half-day kept, with declaration and annotation), ``study.csv``
(the on-site half-days the validity study holds about them until their week is published — a
separate purpose, never shown to anyone else, E8), ``viewers.csv`` (every access to their data:
when, who, in what role, what, why), ``export.json`` (all of it plus the legal basis, retention
dates and rights) and ``index.html`` (the same, readable, in French). The right of access never
stops: this export works even when the committee gate (A4) does not hold. Every export says that
a missing digital trace does not establish that no work was done (I2). It is made through the
one door (``policy/access.py``): by the agent themself, or by the DPO answering their request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from loyaute import labels
from loyaute.csvout import write_rows
from loyaute.i18n import tr, use_lang
from loyaute.policy.access import individual
from loyaute.policy.agent_data import RECORD_COLUMNS, AgentData
from loyaute.policy.roles import Action, Identity, Role
from loyaute.policy.scope import expires_on
from loyaute.policy.wording import cnil_complaint, label

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

NO_PROOF_FR = (
    "L'absence de trace numérique ne démontre pas une absence de travail : appels téléphoniques, "
    "visites à domicile, réunions, lecture et rédaction hors ligne n'en laissent aucune."
)
NO_PROOF_EN = (
    "A missing digital trace does not establish that no work was done: phone calls, home visits, "
    "meetings, reading and offline writing leave none."
)
VIEWER_COLUMNS = ("at", "actor", "role", "action", "reason")

RIGHTS_FR = [
    "Droit d'accès (art. 15 RGPD) : cet export, à tout moment, sans frais.",
    "Droit de rectification (art. 16) : annoter chaque demi-journée depuis le portail.",
    "Droit à la limitation (art. 18) : contester un enregistrement, qui est alors gelé.",
    "Droit d'opposition (art. 21) : le traitement vous concernant s'arrête dans l'attente d'une "
    "décision motivée.",
    "Droit à l'effacement des données collectées illégalement (art. 17).",
    "Aucune décision n'est prise de manière automatisée (art. 22) : toute décision est humaine.",
    f"Réclamation auprès de la CNIL (art. 77) : {cnil_complaint('fr')}.",
]


@dataclass
class ExportResult:
    """Where the export was written and what it holds."""

    out: Path
    records: int
    viewers: int
    study: int = 0


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("loyaute", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(labels.jinja_filters())  # the HTML export uses labels; CSV keeps codes
    return env


def build_export(ws: Workspace, data: AgentData) -> dict[str, Any]:
    """The export's content (also the JSON file)."""
    records = data.records()
    study = data.study()
    viewers = [
        {"at": e.at, "actor": e.actor, "role": e.role, "action": e.action, "reason": e.reason}
        for e in data.viewers()
    ]
    purpose = ws.register.purpose
    t0 = data.t0
    retention = [
        {
            "date": r.date,
            "kept_until": (
                expires_on(date.fromisoformat(r.date), purpose.retention_after_month_end_days)
                - timedelta(days=1)
            ).isoformat(),
        }
        for r in records
    ]
    agent = data.agent
    return {
        **data.side(),
        "agent": {
            "agent_id": agent.agent_id,
            "display_name": agent.display_name,
            "service": agent.service,
            "job_family": agent.job_family,
        },
        "generated_at": ws.clock.now().isoformat(timespec="seconds"),
        "controller": ws.register.controller.name,
        "dpo_contact": ws.register.controller.dpo_contact,
        "purpose": "contrôle des traces numériques pendant le télétravail",
        "legal_basis": purpose.legal_basis,
        "legal_basis_label": (
            label(purpose.legal_basis, "fr", "legal_basis") if purpose.legal_basis else ""
        ),
        "legal_text": purpose.legal_text,
        "mode": purpose.mode,
        "t0": t0.isoformat() if t0 else None,
        "sources": list(ws.settings.sources.enabled),
        "retention": {
            "records_days_after_month_end": purpose.retention_after_month_end_days,
            "audit_months": purpose.audit_retention_months,
            "per_record": retention,
        },
        "records": [r.as_dict() for r in records],
        "validity_study": {
            "purpose": "étude de validité (finalité distincte, agrégée seulement)",
            "visible_to": "vous seul (et le DPO lorsqu'il répond à votre demande d'accès)",
            "kept_until": "publication de la semaine (chiffres par famille de métiers et semaine)",
            "records": [r.as_dict() for r in study],
        },
        "viewers": viewers,
        "rights": RIGHTS_FR,
        "statement": {"fr": NO_PROOF_FR, "en": NO_PROOF_EN},
    }


def write_export(ws: Workspace, who: Identity, agent_id: str, out: Path) -> ExportResult:
    """Write the files of the export into ``out``; the door checks and audits it first, so the
    export lists itself among the accesses."""
    action = Action.OWN_EXPORT if who.role is Role.AGENT else Action.ACCESS_EXPORT
    data = individual(
        ws,
        who,
        action,
        agent_id,
        reason=tr("droit d'accès (art. 15 RGPD)", "right of access (GDPR art. 15)"),
    )
    content = build_export(ws, data)
    out.mkdir(parents=True, exist_ok=True)
    for name, columns, rows in (
        ("records.csv", RECORD_COLUMNS, content["records"]),
        ("study.csv", RECORD_COLUMNS, content["validity_study"]["records"]),
        ("viewers.csv", VIEWER_COLUMNS, content["viewers"]),
    ):
        with (out / name).open("w", newline="", encoding="utf-8") as f:
            write_rows(f, columns, rows)
    (out / "export.json").write_text(
        json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    with use_lang("fr"):  # the readable export is in French (rule G2), whoever asks
        html = _environment().get_template("access_export.html").render(**content)
    (out / "index.html").write_text(html, encoding="utf-8")
    data.answer_access_requests()
    return ExportResult(
        out,
        len(content["records"]),
        len(content["viewers"]),
        len(content["validity_study"]["records"]),
    )
