"""Aggregated telework presence (rules E2, E3): by service or job family, by week, month or range.

Publication follows a fixed lattice: ISO weeks, and months made of the ISO weeks whose Thursday
falls in them, so every figure is a sum of weekly cells and nothing can be subtracted across
periods of different shapes. A week is published once it is closed (``settle_days`` after its
Sunday) and its data is in (the schedule reaches it, the loaded logs reach its last scheduled
day), with the service and job-family tables protected together (``disclosure.protect``), and
then frozen in the publication ledger: later reports show the same figures, so a late declaration,
a dispute, an objection or the purge of the records cannot be read off a difference between two
reports. The distinct agents of multi-week rows are frozen too, as spans of weeks
(``published_spans``). A month or range row is published only when none of its weeks is
suppressed for that group.

Each week's tables are protected together before they are frozen: primary and complementary
suppression (E3, ``disclosure``), then the auditor of ``protection`` (E7), which withholds more
until no group of fewer than k agents and no withheld cell can be narrowed, by integer
programming over everything published and what the schedule tells a reader, to an interval of
half-days without a trace narrower than the protection level.

The distinct agents of a range come from each week's membership, frozen when the week was
published, so an objection, a departure or a move after that changes no published figure. Agent
counts of overlapping ranges can still be differenced into the number of agents of a group
scheduled in one stretch of weeks and not another: a count of schedules, which a reader who knows
the schedule has anyway (E7's attacker), never of traces.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from loyaute.policy.aggregate import (
    first_scheduled_day,
    half_day_frame,
    last_traced_day,
    scheduled_days_from,
)
from loyaute.reports.disclosure import Cell
from loyaute.reports.protection import AtomFacts, protect
from loyaute.store.publication import WeekAudit

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


def data_is_in(ws: Workspace, weeks: list[str]) -> set[str]:
    """The weeks whose data is in: the schedule reaches the week, and the loaded logs reach its
    last scheduled day (a week with nothing scheduled is in once the schedule goes beyond it)."""
    if not weeks:
        return set()
    traced = last_traced_day(ws)
    if traced is None:
        return set()
    last_day: dict[str, date] = {}
    for day in scheduled_days_from(ws, week_monday(weeks[0])):
        week = week_id(day)
        last_day[week] = max(day, last_day.get(week, day))
    reached = max(last_day, default="")
    return {
        w
        for w in weeks
        if (w in last_day and last_day[w] <= traced) or (w not in last_day and w < reached)
    }


@dataclass(frozen=True)
class Lattice:
    """What one kind of report freezes week by week in the publication ledger."""

    kind: str  # the half-days counted: "telework" or "on_site"
    classifications: tuple[str, ...]  # ledger names of the tables, protected together
    columns: tuple[str, ...]  # the frame column each table groups by
    flags: tuple[str, str | None]  # frame columns counted (with_trace, declared)
    spans: bool = True
    """Whether ranges count distinct agents (from frozen weekly membership); the validity study
    keeps no per-agent membership (E8) and shows the largest weekly count instead."""


PRESENCE = Lattice("telework", CLASSIFICATIONS, CLASSIFICATIONS, ("trace", "declared"))
VALIDITY = Lattice("on_site", ("validity",), ("job_family",), ("mail_or_apps", None), spans=False)

Item = tuple[str, tuple[str, ...], bool, bool]
"""One counted half-day: agent, its groups (one per table), and the two counted flags."""

ATOM_SEPARATOR = "\x1f"


def atom_key(atom: tuple[str, ...]) -> str:
    """An atom (one group per table) as stored in the ledger."""
    return ATOM_SEPARATOR.join(atom)


def _published(ws: Workspace, lattice: Lattice) -> set[str]:
    return ws.db.publication.weeks(lattice.classifications[0])


def closed_weeks(
    ws: Workspace, lo: date, hi: date, today: date, lattice: Lattice = PRESENCE
) -> tuple[list[str], list[str]]:
    """Weeks in [lo, hi] that may be published — closed (their Sunday ``settle_days`` in the
    past) and with their data in (``data_is_in``) — and the closed weeks still awaiting data.
    A week is frozen once published, so it must not be published before its data is in."""
    settle = ws.settings.reports.settle_days
    closed = [
        w for w in weeks_between(lo, hi) if week_monday(w) + timedelta(days=6 + settle) < today
    ]
    published = _published(ws, lattice)
    data_in = data_is_in(ws, [w for w in closed if w not in published])
    ready = [w for w in closed if w in published or w in data_in]
    waiting = [w for w in closed if w not in set(ready)]
    return ready, waiting


def publish_weeks(ws: Workspace, weeks: list[str], lattice: Lattice = PRESENCE) -> None:
    """Compute, protect (E3, E7) and freeze the cells of every week not yet published, then the
    distinct agent counts of the spans of published weeks that begin or end with one of them,
    from the weekly membership frozen with each week."""
    published = _published(ws, lattice)
    todo = sorted(w for w in weeks if w not in published)
    if not todo:
        return
    frame = half_day_frame(
        ws, lattice.kind, week_monday(todo[0]), week_monday(todo[-1]) + timedelta(days=6)
    )
    first, second = lattice.flags
    seconds = frame.column(second).to_pylist() if second else [False] * frame.num_rows
    wanted = set(todo)
    by_week: dict[str, list[Item]] = defaultdict(list)
    for agent_id, groups, day, flag, other in zip(
        frame.column("agent_id").to_pylist(),
        zip(*(frame.column(c).to_pylist() for c in lattice.columns), strict=True),
        frame.column("day").to_pylist(),
        frame.column(first).to_pylist(),
        seconds,
        strict=True,
    ):
        week = week_id(day)
        if week in wanted:
            by_week[week].append((agent_id, groups, bool(flag), bool(other)))
    for week in todo:
        _publish_week(ws, lattice, week, by_week.get(week, []))
    if lattice.spans:
        _publish_spans(ws, lattice, wanted)


def _publish_week(ws: Workspace, lattice: Lattice, week: str, items: list[Item]) -> None:
    """Protect the tables of one week together (``protection.protect``: E3, then E7) and freeze
    them with their audit, their atoms and their membership."""
    k = ws.register.purpose.k_min
    level = ws.register.purpose.protection_half_days
    atom_agents: dict[tuple[str, ...], set[str]] = defaultdict(set)
    counts: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    for agent_id, atom, flag, other in items:
        atom_agents[atom].add(agent_id)
        v = counts[atom]
        v[0] += 1
        v[1] += flag
        v[2] += other
    cells: list[Cell] = []
    for position, classification in enumerate(lattice.classifications):
        groups: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        for atom in atom_agents:
            groups[atom[position]].add(atom)
        for group, atoms in groups.items():
            agents = set().union(*(atom_agents[a] for a in atoms))
            cells.append(Cell(classification, group, frozenset(atoms), len(agents)))
    facts = {a: AtomFacts(len(atom_agents[a]), counts[a][0]) for a in atom_agents}
    values = {a: {"with_trace": counts[a][1], "declared": counts[a][2]} for a in atom_agents}
    decision = protect(cells, facts, values, k, level)
    now = ws.clock.now().isoformat(timespec="seconds")
    rows: list[tuple[str, str, str, int, int, int, int, int, str, str]] = []
    for cell in cells:
        reason = decision.suppressed.get(cell.key, "")
        totals = [sum(counts[a][i] for a in cell.atoms) for i in range(3)]
        count, tele, trace, declared = (0, 0, 0, 0) if reason else (cell.agents, *totals)
        rows.append(
            (
                cell.classification,
                cell.group,
                week,
                count,
                tele,
                trace,
                declared,
                int(bool(reason)),
                now,
                reason,
            )
        )
    if not rows:
        # An empty week is published as such, so it is not recomputed later.
        rows.append((lattice.classifications[0], "", week, 0, 0, 0, 0, 0, now, ""))
    narrowest = decision.narrowest
    audit = WeekAudit(
        lattice.classifications[0],
        week,
        decision.targets,
        narrowest.width if narrowest else -1,
        narrowest.target.kind if narrowest else "",
        narrowest.measure if narrowest else "",
        level,
        now,
    )
    members = (
        {
            (ws.pseudonymizer.pseudonym(agent_id), atom_key(atom))
            for atom, agents in atom_agents.items()
            for agent_id in agents
        }
        if lattice.spans
        else set()
    )
    ws.db.publication.publish_week(
        rows,
        audit,
        [(atom_key(a), f.agents, f.telework) for a, f in sorted(facts.items())],
        sorted(members),
    )


def _publish_spans(ws: Workspace, lattice: Lattice, new: set[str]) -> None:
    """Freeze the number of distinct agents of every span of a group's published weeks that
    begins or ends with a newly published week (month and range rows read them), from the
    membership frozen with each week: a later objection, departure or move changes no published
    figure, and a week published late (its data came late) still gets its spans. A span stops
    at a week whose membership is no longer kept (retention)."""
    ledger = lattice.classifications[0]
    rows = []
    for position, classification in enumerate(lattice.classifications):
        group_weeks = ws.db.publication.group_weeks(classification)
        all_weeks = sorted({w for weeks in group_weeks.values() for w in weeks})
        membership = ws.db.publication.members(ledger, all_weeks)
        for group, weeks in group_weeks.items():
            present = {
                w: {
                    m
                    for m, atom in membership[w].items()
                    if atom.split(ATOM_SEPARATOR)[position] == group
                }
                for w in weeks
                if w in membership
            }
            for i, week in enumerate(weeks):
                if week not in new or not present.get(week):
                    continue
                for stretch, forward in ((weeks[i::-1], False), (weeks[i:], True)):
                    seen: set[str] = set()
                    for other in stretch:
                        if not present.get(other):
                            break  # that week's membership is gone (retention): no exact count
                        seen |= present[other]
                        span = (week, other) if forward else (other, week)
                        rows.append((classification, group, *span, len(seen)))
    ws.db.publication.add_spans(rows)


def week_cells(
    ws: Workspace, classification: str, weeks: list[str]
) -> dict[str, dict[str, WeekCell]]:
    """group → week → frozen cell."""
    out: dict[str, dict[str, WeekCell]] = defaultdict(dict)
    for week in weeks:
        for c in ws.db.publication.cells(classification, week):
            out[c.group][week] = WeekCell(
                c.agents, c.telework, c.with_trace, c.declared, c.suppressed
            )
    return out


def span_agents(ws: Workspace, classification: str, group: str, weeks: list[str]) -> int | None:
    """The frozen distinct agent count of a span of weeks (None when it was never computable)."""
    return ws.db.publication.span(classification, group, weeks[0], weeks[-1])


def _row(
    group: str, period: str, agents: int | None, cells: list[WeekCell], suppressed: bool
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
        "agents": "" if agents is None else agents,
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
    today = ws.today()
    hi = day_to or today
    if day_from is not None:
        lo = day_from
    else:  # everything kept: from the Monday of the first scheduled day
        lo = first_scheduled_day(ws) or hi + timedelta(days=1)
        lo -= timedelta(days=lo.weekday())
    weeks, waiting = closed_weeks(ws, lo, hi, today)
    publish_weeks(ws, weeks)
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
            agents = None if suppressed else span_agents(ws, by, group, members)
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
            "awaiting_data": ", ".join(waiting),
            "suppression": "primaire (< k agents) et complémentaire (tables service × famille)",
            "suppressed_rows": sum(1 for r in rows if r["suppressed"]),
        },
    )
