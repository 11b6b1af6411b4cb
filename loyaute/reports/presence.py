"""Aggregated telework presence (rules E2, E3): by service or job family, by week, month or range.

Publication follows a fixed lattice: ISO weeks, and months made of the ISO weeks whose Thursday
falls in them, so every figure is a sum of weekly cells and nothing can be subtracted across
periods of different shapes. A week is published once it is closed (``settle_days`` after its
Sunday), with the service and job-family tables protected together (``disclosure.protect``), and
then frozen in the publication ledger: later reports show the same figures, so a late declaration
or a dispute cannot be read off a difference between two reports. A month or range row is
published only when none of its weeks is suppressed for that group.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from loyaute.reports.disclosure import Cell, protect
from loyaute.reports.frames import half_day_frame

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

CLASSIFICATIONS = ("service", "job_family")
PRESENCE_COLUMNS = (
    "group",
    "period",
    "agents",
    "telework_half_days",
    "with_trace",
    "declared",
    "without_trace",
    "share_with_trace",
    "suppressed",
)
TRACE_COLUMNS = ("with_trace", "without_trace", "share_with_trace")


def week_id(day: date) -> str:
    """``2026-W13``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(week: str) -> date:
    """The Monday of an ISO week id."""
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def week_month(week: str) -> str:
    """The month a week belongs to: the month of its Thursday (``2026-03``)."""
    thursday = week_monday(week) + timedelta(days=3)
    return f"{thursday.year}-{thursday.month:02d}"


def weeks_between(lo: date, hi: date) -> list[str]:
    """ISO weeks wholly inside [lo, hi]."""
    start = lo + timedelta(days=(7 - lo.weekday()) % 7)
    out = []
    while start + timedelta(days=6) <= hi:
        out.append(week_id(start))
        start += timedelta(days=7)
    return out


@dataclass
class WeekCell:
    """One frozen weekly cell."""

    agents: int
    telework: int
    with_trace: int
    declared: int
    suppressed: bool


@dataclass
class PresenceReport:
    """Rows and the parameters printed with them."""

    rows: list[dict[str, Any]]
    parameters: dict[str, Any] = field(default_factory=dict)


def closed_weeks(ws: Workspace, lo: date, hi: date, today: date) -> list[str]:
    """Weeks in [lo, hi] that are closed: their Sunday is ``settle_days`` in the past."""
    settle = ws.settings.reports.settle_days
    return [w for w in weeks_between(lo, hi) if week_monday(w) + timedelta(days=6 + settle) < today]


def publish_week(ws: Workspace, week: str) -> None:
    """Compute, protect and freeze both tables of one week, unless already published."""
    if ws.state.execute("SELECT 1 FROM published_cells WHERE week = ? LIMIT 1", (week,)).fetchone():
        return
    monday = week_monday(week)
    frame = half_day_frame(ws, "telework", monday, monday + timedelta(days=6))
    k = ws.register.purpose.k_min
    atom_agents: dict[tuple[str, str], set[str]] = defaultdict(set)
    values: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for agent_id, service, family, trace, declared in zip(
        frame.column("agent_id").to_pylist(),
        frame.column("service").to_pylist(),
        frame.column("job_family").to_pylist(),
        frame.column("trace").to_pylist(),
        frame.column("declared").to_pylist(),
        strict=True,
    ):
        atom = (service, family)
        atom_agents[atom].add(agent_id)
        v = values[atom]
        v[0] += 1
        v[1] += bool(trace)
        v[2] += bool(declared)
    cells: list[Cell] = []
    for position, classification in enumerate(CLASSIFICATIONS):
        groups: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for atom in atom_agents:
            groups[atom[position]].add(atom)
        for group, atoms in groups.items():
            agents = set().union(*(atom_agents[a] for a in atoms))
            cells.append(Cell(classification, group, frozenset(atoms), len(agents)))
    suppressed = protect(cells, {a: len(s) for a, s in atom_agents.items()}, k)
    now = ws.clock.now().isoformat(timespec="seconds")
    rows = []
    for cell in cells:
        hidden = cell.key in suppressed
        tele = sum(values[a][0] for a in cell.atoms)
        trace = sum(values[a][1] for a in cell.atoms)
        decl = sum(values[a][2] for a in cell.atoms)
        rows.append(
            (
                cell.classification,
                cell.group,
                week,
                cell.agents if not hidden else 0,
                tele if not hidden else 0,
                trace if not hidden else 0,
                decl if not hidden else 0,
                int(hidden),
                now,
            )
        )
    if not rows:
        # An empty week is published as such, so it is not recomputed later.
        rows.append(("service", "", week, 0, 0, 0, 0, 0, now))
    ws.state.executemany(
        "INSERT OR IGNORE INTO published_cells(classification, grp, week, agents, telework, "
        "with_trace, declared, suppressed, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def week_cells(
    ws: Workspace, classification: str, weeks: list[str]
) -> dict[str, dict[str, WeekCell]]:
    """group → week → frozen cell."""
    out: dict[str, dict[str, WeekCell]] = defaultdict(dict)
    for week in weeks:
        for r in ws.state.execute(
            "SELECT grp, agents, telework, with_trace, declared, suppressed FROM published_cells "
            "WHERE classification = ? AND week = ? AND grp != ''",
            (classification, week),
        ):
            out[r[0]][week] = WeekCell(r[1], r[2], r[3], r[4], bool(r[5]))
    return out


def distinct_agents(ws: Workspace, group_column: str, group: str, weeks: list[str]) -> int:
    """Agents with at least one counted telework half-day in these weeks (live data)."""
    if not weeks:
        return 0
    lo = week_monday(weeks[0])
    hi = week_monday(weeks[-1]) + timedelta(days=6)
    frame = half_day_frame(ws, "telework", lo, hi)
    wanted = set(weeks)
    return len(
        {
            a
            for a, g, d in zip(
                frame.column("agent_id").to_pylist(),
                frame.column(group_column).to_pylist(),
                frame.column("day").to_pylist(),
                strict=True,
            )
            if g == group and week_id(d) in wanted
        }
    )


def _row(
    group: str, period: str, agents: int, cells: list[WeekCell], suppressed: bool
) -> dict[str, Any]:
    if suppressed:
        return dict.fromkeys(PRESENCE_COLUMNS, "") | {
            "group": group,
            "period": period,
            "suppressed": True,
        }
    tele = sum(c.telework for c in cells)
    trace = sum(c.with_trace for c in cells)
    return {
        "group": group,
        "period": period,
        "agents": agents,
        "telework_half_days": tele,
        "with_trace": trace,
        "declared": sum(c.declared for c in cells),
        "without_trace": tele - trace,
        "share_with_trace": round(trace / tele, 4) if tele else "",
        "suppressed": False,
    }


def presence(
    ws: Workspace,
    by: str = "service",
    period: str | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
    groups: set[str] | None = None,
) -> PresenceReport:
    """The aggregated report (rows not yet masked for the reader's role)."""
    if by not in CLASSIFICATIONS:
        raise ValueError(by)
    today = ws.clock.now().astimezone(ws.settings.zone).date()
    lo = day_from or date(2000, 1, 3)
    hi = day_to or today
    earliest = ws.state.execute("SELECT MIN(day) FROM schedule").fetchone()[0]
    if day_from is None and earliest:
        lo = date.fromisoformat(earliest)
    weeks = closed_weeks(ws, lo, hi, today)
    for week in weeks:
        publish_week(ws, week)
    cells = week_cells(ws, by, weeks)
    rows: list[dict[str, Any]] = []
    for group in sorted(cells):
        if groups is not None and group not in groups:
            continue
        by_week = cells[group]
        if period == "week":
            for week in weeks:
                if week in by_week:
                    c = by_week[week]
                    rows.append(_row(group, week, c.agents, [c], c.suppressed))
            continue
        buckets: dict[str, list[str]] = defaultdict(list)
        for week in weeks:
            if week in by_week:
                buckets[
                    week_month(week) if period == "month" else f"{weeks[0]}..{weeks[-1]}"
                ].append(week)
        for label, members in buckets.items():
            suppressed = any(by_week[w].suppressed for w in members)
            agents = 0 if suppressed else distinct_agents(ws, by, group, members)
            rows.append(_row(group, label, agents, [by_week[w] for w in members], suppressed))
    rows.sort(key=lambda r: (r["period"], r["group"]))
    return PresenceReport(
        rows,
        {
            "k_min": ws.register.purpose.k_min,
            "by": by,
            "period": period or "range",
            "weeks": f"{weeks[0]}..{weeks[-1]}" if weeks else "",
            "settle_days": ws.settings.reports.settle_days,
            "suppression": "primaire (< k agents) et complémentaire (tables service × famille)",
            "suppressed_rows": sum(1 for r in rows if r["suppressed"]),
        },
    )
