"""Schedule import (Octime-like export) and the code table.

One row per agent, date and half-day with a code; the code table of ``loyaute.toml`` maps codes to
kinds. Only what scope needs is kept (rule B4): ``telework`` and ``on_site`` half-days as such,
every other kind (leave, sickness, training, missions, field days, union time) as a bare
``other`` without its code, and codes the table does not know as ``unknown`` (reported so the
operator can map them). Rows are upserted per agent, date and half-day, all or nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from loyaute.config import ScheduleSettings
from loyaute.i18n import tr
from loyaute.identity import ImportProblems, read_csv_rows

if TYPE_CHECKING:
    from loyaute.store.state import Database

HALVES = ("AM", "PM")
_HALF_WORDS = {
    "am": ("AM",),
    "matin": ("AM",),
    "pm": ("PM",),
    "après-midi": ("PM",),
    "apres-midi": ("PM",),
    "aprèsmidi": ("PM",),
    "jour": ("AM", "PM"),
    "journée": ("AM", "PM"),
    "journee": ("AM", "PM"),
}
KEPT_KINDS = ("telework", "on_site")


def parse_day(text: str) -> date | None:
    """ISO ``YYYY-MM-DD`` or French ``DD/MM/YYYY``."""
    t = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(t, fmt).date()
        except ValueError:
            continue
    return None


def kind_table(settings: ScheduleSettings) -> dict[str, str]:
    """Upper-cased code → stored kind (``telework``, ``on_site`` or ``other``)."""
    table: dict[str, str] = {}
    codes = settings.codes
    for kind in ("leave", "field", "training", "union"):
        for code in getattr(codes, kind):
            table[code.strip().upper()] = "other"
    for code in codes.telework:
        table[code.strip().upper()] = "telework"
    for code in codes.on_site:
        table[code.strip().upper()] = "on_site"
    return table


@dataclass
class ScheduleReport:
    """What an import did."""

    rows: int = 0
    half_days: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    unknown_codes: Counter[str] = field(default_factory=Counter)
    days: set[date] = field(default_factory=set)


def import_schedule(db: Database, paths: list[Path], settings: ScheduleSettings) -> ScheduleReport:
    """Validate every row of every file, then upsert them all in one transaction."""
    table = kind_table(settings)
    known_agents = set(db.agents.all())
    report = ScheduleReport()
    values: dict[tuple[str, str, str], str] = {}
    for path in paths:
        problems: list[str] = []
        header, rows = read_csv_rows(path)
        columns = {
            "agent_id": settings.agent_id_column,
            "date": settings.date_column,
            "half_day": settings.half_day_column,
            "code": settings.code_column,
        }
        missing = [c for c in columns.values() if c not in header]
        if missing:
            raise ImportProblems(
                path,
                [
                    tr(
                        f"ligne 1 : colonne(s) manquante(s) {missing}",
                        f"line 1: missing column(s) {missing}",
                    )
                ],
            )
        for line, row in rows:
            if "__width__" in row:
                problems.append(
                    tr(
                        f"ligne {line} : {row['__width__']} colonnes au lieu de {len(header)}",
                        f"line {line}: {row['__width__']} columns instead of {len(header)}",
                    )
                )
                continue
            agent_id = row[columns["agent_id"]]
            day = parse_day(row[columns["date"]])
            halves = _HALF_WORDS.get(row[columns["half_day"]].strip().lower())
            code = row[columns["code"]].strip().upper()
            if agent_id not in known_agents:
                problems.append(
                    tr(
                        f"ligne {line} : agent « {agent_id} » introuvable dans l'annuaire",
                        f"line {line}: agent '{agent_id}' not in the directory",
                    )
                )
            if day is None:
                problems.append(
                    tr(
                        f"ligne {line} : date illisible « {row[columns['date']]} »",
                        f"line {line}: unreadable date '{row[columns['date']]}'",
                    )
                )
            if halves is None:
                problems.append(
                    tr(
                        f"ligne {line} : demi-journée illisible « {row[columns['half_day']]} » "
                        "(AM, PM, matin, après-midi, JOUR)",
                        f"line {line}: unreadable half-day '{row[columns['half_day']]}' "
                        "(AM, PM, matin, après-midi, JOUR)",
                    )
                )
            if not code:
                problems.append(tr(f"ligne {line} : code vide", f"line {line}: empty code"))
            if agent_id not in known_agents or day is None or halves is None or not code:
                continue
            kind = table.get(code)
            if kind is None:
                kind = "unknown"
                report.unknown_codes[code] += 1
            report.rows += 1
            report.days.add(day)
            for half in halves:
                values[(agent_id, day.isoformat(), half)] = kind
        if problems:
            raise ImportProblems(path, problems)
    db.schedule.upsert([(a, d, h, k) for (a, d, h), k in values.items()])
    report.half_days = len(values)
    report.kinds.update(values.values())
    return report
