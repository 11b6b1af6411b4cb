"""``report audit``: the protection reached by everything published (rules E3, E7).

For each published week of each table (presence; the validity study when it runs), what the
auditor decided when the week was published — cells shown, cells withheld and why (fewer than k
agents, complementary, protection), the groups it protected and the narrowest interval of
half-days without a trace it left about any of them — and, while the week's atoms are kept (as
long as the half-day records), the same audit run again from the frozen ledger alone, as an
outside attacker would: the published figures and the schedule's counts, nothing else.

Only widths are shown, never the bounds themselves: a width says how well a group is protected,
a bound would be a new figure about it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from loyaute.i18n import tr
from loyaute.policy.aggregate import first_scheduled_day
from loyaute.reports.disclosure import Cell
from loyaute.reports.presence import (
    ATOM_SEPARATOR,
    PRESENCE,
    VALIDITY,
    Lattice,
    closed_weeks,
    publish_weeks,
)
from loyaute.reports.protection import (
    COMPLEMENTARY,
    PRIMARY,
    PROTECTION,
    AtomFacts,
    Interval,
    intervals,
    targets_of,
)

if TYPE_CHECKING:
    from loyaute.store.publication import PublishedCell
    from loyaute.workspace import Workspace

AUDIT_COLUMNS = (
    "table",
    "week",
    "cells",
    "published",
    "withheld_k",
    "withheld_complementary",
    "withheld_protection",
    "protected_cells",
    "groups",
    "narrowest",
    "rechecked",
    "status",
)

TABLE_NAMES = {"presence": ("présence (traces numériques)", "presence (digital traces)")}


@dataclass
class AuditReport:
    """Rows (one per published week and table) and the parameters printed with them."""

    rows: list[dict[str, Any]]
    parameters: dict[str, Any] = field(default_factory=dict)


def _recheck(
    lattice: Lattice, cells: list[PublishedCell], atoms: dict[str, tuple[int, int]], k: int
) -> list[Interval]:
    """The audit of one week from the ledger alone (published figures and atoms' counts)."""
    facts = {tuple(key.split(ATOM_SEPARATOR)): AtomFacts(*v) for key, v in atoms.items()}
    rebuilt: list[Cell] = []
    figures: list[tuple[str, frozenset[tuple[str, ...]], int]] = []
    withheld: dict[tuple[str, str], str] = {}
    for cell in cells:
        position = lattice.classifications.index(cell.classification)
        members = frozenset(a for a in facts if a[position] == cell.group)
        agents = sum(facts[a].agents for a in members)
        rebuilt.append(Cell(cell.classification, cell.group, members, agents))
        if cell.suppressed:
            withheld[(cell.classification, cell.group)] = cell.suppressed_by or PRIMARY
        else:
            figures.append((cell.classification, members, cell.with_trace))
    return intervals(facts, figures, targets_of(rebuilt, facts, k, withheld), "with_trace")


def disclosure_audit(ws: Workspace) -> AuditReport:
    """The report (rows not masked: it shows no figure about any group). Closed weeks whose data
    is in are published first, as a presence report would."""
    first = first_scheduled_day(ws)
    if first is not None:
        weeks, _ = closed_weeks(ws, first - timedelta(days=first.weekday()), ws.today(), ws.today())
        publish_weeks(ws, weeks)
    k = ws.register.purpose.k_min
    level = ws.register.purpose.protection_half_days
    lattices: list[tuple[str, Lattice]] = [("presence", PRESENCE)]
    if ws.register.validity_study.enabled:
        lattices.append(("validity", VALIDITY))
    rows: list[dict[str, Any]] = []
    narrowest_all: int | None = None
    for name, lattice in lattices:
        ledger = lattice.classifications[0]
        audits = {a.week: a for a in ws.db.publication.audits(ledger)}
        for week in sorted(ws.db.publication.weeks(ledger)):
            cells = [
                c
                for classification in lattice.classifications
                for c in ws.db.publication.cells(classification, week)
            ]
            reasons = Counter(c.suppressed_by or PRIMARY for c in cells if c.suppressed)
            protected = sorted(
                f"{c.classification}={c.group}" for c in cells if c.suppressed_by == PROTECTION
            )
            stored = audits.get(week)
            atoms = ws.db.publication.atoms(ledger, week)
            rechecked: list[Interval] | None = (
                _recheck(lattice, cells, atoms, k) if atoms and stored else None
            )
            if rechecked is not None:
                groups = len({i.target for i in rechecked})
                width = min((i.width for i in rechecked), default=-1)
                ok = all(i.protected(level) for i in rechecked)
            elif stored is not None:
                groups, width, ok = stored.targets, stored.narrowest, True
            else:
                groups, width, ok = 0, -1, True
            if stored is None:
                status = tr("publiée avant l'auditeur (E3 seul)", "published before the auditor")
            elif not ok:
                status = tr("À REVOIR : protection insuffisante", "TO REVIEW: under-protected")
            else:
                status = tr("protégée", "protected")
            if width >= 0:
                narrowest_all = width if narrowest_all is None else min(narrowest_all, width)
            rows.append(
                {
                    "table": tr(*TABLE_NAMES[name])
                    if name in TABLE_NAMES
                    else tr("étude de validité", "validity study"),
                    "week": week,
                    "cells": len(cells),
                    "published": sum(1 for c in cells if not c.suppressed),
                    "withheld_k": reasons[PRIMARY],
                    "withheld_complementary": reasons[COMPLEMENTARY],
                    "withheld_protection": reasons[PROTECTION],
                    "protected_cells": ", ".join(protected),
                    "groups": groups,
                    "narrowest": "" if width < 0 else width,
                    "rechecked": rechecked is not None,
                    "status": status,
                }
            )
    return AuditReport(
        rows,
        {
            "k_min": k,
            "protection_half_days": level,
            "narrowest_overall": "" if narrowest_all is None else narrowest_all,
            "weeks_to_review": sum(
                1 for r in rows if str(r["status"]).startswith(("À REVOIR", "TO REVIEW"))
            ),
            "method": tr(
                "programmation linéaire en nombres entiers (HiGHS) sur tout ce qui est publié et "
                "les effectifs connus du planning",
                "integer linear programming (HiGHS) over everything published and the counts "
                "known from the schedule",
            ),
            "meaning": tr(
                "« narrowest » : largeur, en demi-journées sans trace, du plus étroit des "
                "intervalles qu'un lecteur peut déduire pour un groupe de moins de k agents ou "
                f"une cellule masquée ; elle doit rester d'au moins {level} (ou couvrir toutes "
                "les demi-journées du groupe s'il en a moins)",
                "narrowest: width, in half-days without a trace, of the narrowest interval a "
                "reader can infer about a group of fewer than k agents or a withheld cell; at "
                f"least {level} required (or all the group's half-days when it has fewer)",
            ),
        },
    )
