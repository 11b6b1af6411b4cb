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
from loyaute.identity import WIDTH, ImportProblems, csv_rows

if TYPE_CHECKING:
    from loyaute.store.schedule import ScheduleStaging
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
    repeated: int = 0
    """Rows for a half-day already given in this import: the same kind again in a file, or
    replaced by a later file of the import (counted, not refused)."""


BATCH_ROWS = 20_000
MAX_PROBLEMS = 1000
"""Problems kept to show (every one is counted)."""


class _Problems:
    """Problems of one file: the first ``MAX_PROBLEMS`` kept, all counted."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.count = 0

    def add(self, text: str) -> None:
        self.count += 1
        if len(self.shown) < MAX_PROBLEMS:
            self.shown.append(text)

    def raise_if_any(self, path: Path) -> None:
        if self.count:
            more = self.count - len(self.shown)
            extra = (
                [tr(f"… et {more} autre(s) problème(s)", f"… and {more} more problem(s)")]
                if more
                else []
            )
            raise ImportProblems(path, self.shown + extra)


def import_schedule(db: Database, paths: list[Path], settings: ScheduleSettings) -> ScheduleReport:
    """Validate every row of every file, then upsert them all in one transaction.

    Files of any size are read row by row and staged on disk (``ScheduleStaging``): memory stays
    bounded. Two rows of one file that give one half-day two different kinds are a problem: the
    import is refused, naming both lines. The same kind twice is counted, not refused; a later
    file of the import replaces an earlier one's rows, as a later import would."""
    table = kind_table(settings)
    known_agents = set(db.agents.all())
    report = ScheduleReport()
    columns = {
        "agent_id": settings.agent_id_column,
        "date": settings.date_column,
        "half_day": settings.half_day_column,
        "code": settings.code_column,
    }
    days: dict[str, date | None] = {}
    staged = 0
    staging = db.schedule.staging()
    try:
        for number, path in enumerate(paths, 1):
            problems = _Problems()
            with csv_rows(path) as (header, rows):
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
                batch: list[tuple[str, str, str, str, int, int]] = []
                for line, row in rows:
                    checked = _check_row(
                        row, line, header, columns, known_agents, days, table, problems, report
                    )
                    if checked is None:
                        continue
                    agent_id, day, halves, kind = checked
                    for half in halves:
                        batch.append((agent_id, day, half, kind, number, line))
                    if len(batch) >= BATCH_ROWS:
                        staging.add(batch)
                        staged += len(batch)
                        batch.clear()
                staging.add(batch)
                staged += len(batch)
            problems.raise_if_any(path)
            _refuse_conflicts(staging, path)
        kinds = staging.kinds()
        staging.apply()
    finally:
        staging.close()
    report.kinds.update(kinds)
    report.half_days = sum(kinds.values())
    report.repeated = staged - report.half_days
    report.days = {d for d in days.values() if d is not None}
    return report


def _check_row(
    row: dict[str, str],
    line: int,
    header: list[str],
    columns: dict[str, str],
    known_agents: set[str],
    days: dict[str, date | None],
    table: dict[str, str],
    problems: _Problems,
    report: ScheduleReport,
) -> tuple[str, str, tuple[str, ...], str] | None:
    """One row checked: (agent, ISO day, halves, kind), or None after noting its problems."""
    if WIDTH in row:
        problems.add(
            tr(
                f"ligne {line} : {row[WIDTH]} colonnes au lieu de {len(header)}",
                f"line {line}: {row[WIDTH]} columns instead of {len(header)}",
            )
        )
        return None
    agent_id = row[columns["agent_id"]]
    raw_day = row[columns["date"]]
    if raw_day not in days:
        days[raw_day] = parse_day(raw_day)
    day = days[raw_day]
    halves = _HALF_WORDS.get(row[columns["half_day"]].strip().lower())
    code = row[columns["code"]].strip().upper()
    ok = True
    if agent_id not in known_agents:
        ok = False
        problems.add(
            tr(
                f"ligne {line} : agent « {agent_id} » introuvable dans l'annuaire",
                f"line {line}: agent '{agent_id}' not in the directory",
            )
        )
    if day is None:
        ok = False
        problems.add(
            tr(
                f"ligne {line} : date illisible « {raw_day} »",
                f"line {line}: unreadable date '{raw_day}'",
            )
        )
    if halves is None:
        ok = False
        problems.add(
            tr(
                f"ligne {line} : demi-journée illisible « {row[columns['half_day']]} » "
                "(AM, PM, matin, après-midi, JOUR)",
                f"line {line}: unreadable half-day '{row[columns['half_day']]}' "
                "(AM, PM, matin, après-midi, JOUR)",
            )
        )
    if not code:
        ok = False
        problems.add(tr(f"ligne {line} : code vide", f"line {line}: empty code"))
    if not ok or day is None or halves is None:
        return None
    kind = table.get(code)
    if kind is None:
        kind = "unknown"
        report.unknown_codes[code] += 1
    report.rows += 1
    return agent_id, day.isoformat(), halves, kind


CONFLICTS_SHOWN = 50


def _refuse_conflicts(staging: ScheduleStaging, path: Path) -> None:
    """Refuse the file when two of its rows give one half-day two kinds, naming both lines."""
    count, shown = staging.conflicts(CONFLICTS_SHOWN)
    if not count:
        return
    problems = [
        tr(
            f"ligne {c.other_line} : {c.agent_id} le {c.day} {c.half} est « {c.other_kind} », "
            f"mais « {c.kind} » ligne {c.line}",
            f"line {c.other_line}: {c.agent_id} on {c.day} {c.half} is '{c.other_kind}', "
            f"but '{c.kind}' on line {c.line}",
        )
        for c in shown
    ]
    if count > len(shown):
        more = count - len(shown)
        problems.append(
            tr(f"… et {more} autre(s) demi-journée(s) en conflit", f"… and {more} more conflicts")
        )
    problems.append(
        tr(
            "deux lignes donnent deux codes différents à la même demi-journée : corriger l'export "
            "(une seule ligne par agent, date et demi-journée), puis relancer",
            "two rows give one half-day two different codes: fix the export (one row per agent, "
            "date and half-day), then run again",
        )
    )
    raise ImportProblems(path, problems)
