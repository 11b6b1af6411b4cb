"""The agent's access export (rules G2, I1, I2, E6): everything kept about them, and who looked.

``records.csv`` (every half-day kept, with declaration and annotation), ``viewers.csv`` (every
access to their data: when, who, in what role, what, why), ``export.json`` (all of it plus the
legal basis, retention dates and rights) and ``index.html`` (the same, readable, in French). The
right of access never stops: this export works even when the committee gate (A4) does not hold.
Every export says that a missing digital trace does not establish that no work was done (I2).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from loyaute.errors import InputError
from loyaute.i18n import tr
from loyaute.policy.retention import expires_on
from loyaute.policy.rights import agent_side, close_access_requests
from loyaute.reports.agent_view import RECORD_COLUMNS, RecordRow, agent_records, t0_of

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
    "Réclamation auprès de la CNIL : www.cnil.fr/plaintes, 3 place de Fontenoy, 75007 Paris.",
]


@dataclass
class ExportResult:
    """Where the export was written and what it holds."""

    out: Path
    records: int
    viewers: int


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("loyaute", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def build_export(ws: Workspace, agent_id: str) -> dict[str, Any]:
    """The export's content (also the JSON file)."""
    agent = ws.state.execute("SELECT * FROM agents WHERE agent_id = ?", (agent_id,)).fetchone()
    if agent is None:
        raise InputError(tr(f"agent inconnu : {agent_id}", f"unknown agent: {agent_id}"))
    records: list[RecordRow] = agent_records(ws, agent_id)
    viewers = [
        {"at": e.at, "actor": e.actor, "role": e.role, "action": e.action, "reason": e.reason}
        for e in ws.audit.entries(agent_id)
    ]
    purpose = ws.register.purpose
    t0 = t0_of(ws, agent_id)
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
    side = agent_side(ws, agent_id)
    return {
        **side,
        "agent": {
            "agent_id": agent["agent_id"],
            "display_name": agent["display_name"],
            "service": agent["service"],
            "job_family": agent["job_family"],
        },
        "generated_at": ws.clock.now().isoformat(timespec="seconds"),
        "controller": ws.register.controller.name,
        "dpo_contact": ws.register.controller.dpo_contact,
        "purpose": "contrôle des traces numériques pendant le télétravail",
        "legal_basis": purpose.legal_basis,
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
        "viewers": viewers,
        "rights": RIGHTS_FR,
        "statement": {"fr": NO_PROOF_FR, "en": NO_PROOF_EN},
    }


def write_export(
    ws: Workspace, agent_id: str, out: Path, actor: str, role: str = "dpo"
) -> ExportResult:
    """Write the four files of the export into ``out`` and audit it."""
    # Audited first, so the export lists itself among the accesses.
    ws.audit.append(
        actor,
        role,
        "access_export",
        agent_id=agent_id,
        reason=tr("droit d'accès (art. 15 RGPD)", "right of access (GDPR art. 15)"),
    )
    content = build_export(ws, agent_id)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "records.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(RECORD_COLUMNS))
        writer.writeheader()
        writer.writerows(content["records"])
    with (out / "viewers.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(VIEWER_COLUMNS))
        writer.writeheader()
        writer.writerows(content["viewers"])
    (out / "export.json").write_text(
        json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    html = _environment().get_template("access_export.html").render(**content)
    (out / "index.html").write_text(html, encoding="utf-8")
    close_access_requests(ws, agent_id)
    return ExportResult(out, len(content["records"]), len(content["viewers"]))
