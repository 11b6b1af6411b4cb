"""Protection proven (rule E7): the auditor against an attacker written apart from it.

The attacker (tests/reports/attacker.py) holds every published cell and the schedule (each
agent's telework half-days) and bounds, by mixed-integer programming over one variable per
agent, the half-days without a trace of any group. The tests run it on what loyaute publishes:
randomly generated weeks (a Hypothesis property, 200 examples), the two attacks that broke E3's
linear algebra by name, and whole workspaces through objections, departures, moves and late
weeks. A group of fewer than k agents or a withheld cell must keep an interval at least the
protection level wide (or all its half-days, when it has fewer).
"""

from __future__ import annotations

import csv
import io
import itertools
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.i18n import lang, set_lang
from loyaute.identity import parse_directory, store_directory
from loyaute.policy.rights import object_to_processing
from loyaute.reports import disclosure
from loyaute.reports.disclosure import Cell
from loyaute.reports.disclosure_audit import AUDIT_COLUMNS, disclosure_audit
from loyaute.reports.presence import week_id
from loyaute.reports.protection import (
    COMPLEMENTARY,
    PRIMARY,
    PROTECTION,
    AtomFacts,
    protect,
)
from loyaute.reports.runner import run_presence
from loyaute.workspace import Workspace
from tests.builders import SYSTEM, agent
from tests.reports.attacker import Attacker
from tests.reports.test_presence import START, Person, build
from tests.web.french import problems

LEVEL = 3
K = 10


# --- one week as a reader sees it ---------------------------------------------------------------


@dataclass(frozen=True)
class Someone:
    """One agent in one week: where, how many telework half-days, how many with a trace."""

    service: str
    family: str
    telework: int
    traced: int


def tables(people: dict[str, Someone]) -> tuple[list[Cell], dict[tuple[str, ...], set[str]]]:
    """The cells of the service and job-family tables over the week's atoms, as published."""
    atoms: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for name, p in people.items():
        if p.telework:
            atoms[(p.service, p.family)].add(name)
    cells = []
    for position, classification in enumerate(("service", "job_family")):
        groups: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        for atom in atoms:
            groups[atom[position]].add(atom)
        for group, members in groups.items():
            agents = sum(len(atoms[a]) for a in members)
            cells.append(Cell(classification, group, frozenset(members), agents))
    return cells, atoms


def loyaute_decides(
    people: dict[str, Someone], k: int = K, level: int = LEVEL
) -> dict[tuple[str, str], str]:
    """What loyaute's auditor withholds for this week."""
    cells, atoms = tables(people)
    facts = {a: AtomFacts(len(m), sum(people[x].telework for x in m)) for a, m in atoms.items()}
    values = {
        a: {"with_trace": sum(people[x].traced for x in m), "declared": 0} for a, m in atoms.items()
    }
    return protect(cells, facts, values, k, level).suppressed


def attacker_on(
    people: dict[str, Someone], withheld: set[tuple[str, str]] | dict[tuple[str, str], str]
) -> Attacker:
    """The attacker holding the published cells of this week."""
    cells, atoms = tables(people)
    published = []
    for c in cells:
        if c.key in withheld:
            continue
        members = frozenset(x for a in c.atoms for x in atoms[a])
        published.append((members, sum(people[x].traced for x in members)))
    return Attacker({n: p.telework for n, p in people.items() if p.telework}, published)


def groups_to_protect(
    people: dict[str, Someone], withheld: set[tuple[str, str]] | dict[tuple[str, str], str], k: int
) -> Iterator[tuple[str, set[str]]]:
    """Every small atom, every pair of small atoms anywhere, every three small atoms of one
    cell, with fewer than k agents together; every withheld cell."""
    cells, atoms = tables(people)
    small = {a: m for a, m in atoms.items() if len(m) < k}
    for atom, members in small.items():
        yield f"atom {atom}", members
    for (a, m), (b, n) in itertools.combinations(sorted(small.items()), 2):
        if len(m) + len(n) < k:
            yield f"pair {a} {b}", m | n
    for cell in cells:
        inside = sorted(a for a in cell.atoms if a in small)
        for trio in itertools.combinations(inside, 3):
            members = set().union(*(atoms[a] for a in trio))
            if len(members) < k:
                yield f"trio {trio}", members
        if cell.key in withheld:
            yield f"withheld {cell.key}", {x for a in cell.atoms for x in atoms[a]}


def narrowed(
    people: dict[str, Someone],
    withheld: set[tuple[str, str]] | dict[tuple[str, str], str],
    k: int = K,
    level: int = LEVEL,
) -> list[tuple[str, int, int, int]]:
    """The groups the attacker narrows below the level: (what, low, high, half-days)."""
    attacker = attacker_on(people, withheld)
    found = []
    for what, members in groups_to_protect(people, withheld, k):
        half_days = sum(people[x].telework for x in members)
        if not half_days:
            continue
        low, high = attacker.without_trace(members)
        if high - low < min(level, half_days):
            found.append((what, low, high, half_days))
    return found


# --- the property -------------------------------------------------------------------------------


@st.composite
def weeks(draw: st.DrawFn) -> tuple[dict[str, Someone], int, int]:
    """A week of a Département: 2–4 services × 2–3 families with small atoms, zero cells (an
    atom where everyone has a trace on every half-day, or none), and random ones."""
    k = draw(st.sampled_from([5, 10]))
    level = draw(st.integers(1, 4))
    services = [f"S{i}" for i in range(draw(st.integers(2, 4)))]
    families = [f"F{i}" for i in range(draw(st.integers(2, 3)))]
    people: dict[str, Someone] = {}
    for s in services:
        for f in families:
            size = draw(st.sampled_from([0, 0, 1, 2, 3, 4, 6, 8, 11, 13]))
            mode = draw(st.sampled_from(["all", "all", "none", "random"]))
            for i in range(size):
                telework = draw(st.integers(0, 4))
                traced = {
                    "all": telework,
                    "none": 0,
                    "random": draw(st.integers(0, telework)),
                }[mode]
                people[f"{s}.{f}.{i}"] = Someone(s, f, telework, traced)
    return people, k, level


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(weeks())
def test_e7_no_protected_group_is_narrowed_below_the_level(
    week: tuple[dict[str, Someone], int, int],
) -> None:
    """E7 property: whatever the week — small atoms, zero cells, groups of one — the attacker,
    holding everything loyaute publishes and the schedule, narrows no group of fewer than k
    agents (atoms, pairs of them, three of one cell) and no withheld cell below the level."""
    people, k, level = week
    if not any(p.telework for p in people.values()):
        return
    withheld = loyaute_decides(people, k, level)
    assert narrowed(people, withheld, k, level) == []
    # A cell withheld is withheld for a reason the report can give.
    assert set(withheld.values()) <= {PRIMARY, COMPLEMENTARY, PROTECTION}


# --- the two attacks, by name -------------------------------------------------------------------


def department(spec: dict[tuple[str, str], tuple[int, int, int]]) -> dict[str, Someone]:
    """(service, family) → (agents, telework half-days each, half-days with a trace each)."""
    return {
        f"{s}.{f}.{i}": Someone(s, f, telework, traced)
        for (s, f), (n, telework, traced) in spec.items()
        for i in range(n)
    }


ZERO_CELLS = department(
    {
        # Everyone has a trace on every half-day but two agents of Collèges' administration: the
        # encadrement family publishes 0 without a trace, the service a small figure.
        ("Collèges", "administratif"): (7, 4, 4),
        ("Collèges", "encadrement"): (1, 2, 2),
        ("Routes", "administratif"): (3, 4, 4),
        ("Routes", "technique"): (12, 4, 4),
        ("Finances", "encadrement"): (12, 4, 4),
        ("Finances", "technique"): (2, 4, 4),
    }
)
ONE_WITHOUT = {
    **ZERO_CELLS,
    "Collèges.administratif.0": Someone("Collèges", "administratif", 4, 3),
}


@pytest.mark.parametrize("week", [ZERO_CELLS, ONE_WITHOUT], ids=["all-traced", "one-without"])
def test_e7_zero_cell_attack(week: dict[str, Someone]) -> None:
    """Issue 11, the zero-cell attack: E3's linear algebra let the encadrement family publish
    "0 half-days without a trace" — which proves the single encadrement agent of Collèges had a
    trace on every half-day — and a service publish one half-day without a trace over a group
    of seven (pinned to exactly one). The E3-only decision is attacked and falls; loyaute's
    decision (E3 then E7) holds."""
    cells, atoms = tables(week)
    e3_only = disclosure.protect(cells, {a: len(m) for a, m in atoms.items()}, K)
    assert narrowed(week, e3_only), "the attack should break E3's decision alone"
    withheld = loyaute_decides(week)
    assert narrowed(week, withheld) == []
    assert PROTECTION in withheld.values()


# --- whole workspaces: objections, departures, moves, late weeks --------------------------------

NOW = datetime(2026, 4, 20, 16, 0, tzinfo=UTC)  # weeks 10 to 14 closed
LATER = NOW + timedelta(days=7)  # week 15 closes too
TEAMS = (
    [Person(f"F{i:02d}", "Finances", "finances") for i in range(12)]
    + [Person(f"E{i:02d}", "Finances", "encadrement") for i in range(2)]
    + [Person(f"R{i:02d}", "RH", "administratif") for i in range(11)]
    + [Person(f"C{i:02d}", "RH", "encadrement") for i in range(1)]
    + [Person(f"S{i:02d}", "Social", "administratif") for i in range(4)]
)
DAYS = [START + timedelta(weeks=w, days=d) for w in range(6) for d in (0, 3)]
TELEWORK = [(p.agent_id, d, h) for p in TEAMS for d in DAYS for h in ("AM", "PM")]


def untraced(agent_id: str, day: date, half: str) -> bool:
    """Some half-days without a trace, a different share by team and week."""
    return half == "PM" and (int(agent_id[1:]) + day.isocalendar()[1]) % 4 == 0


def workspace(root: Path) -> Workspace:
    traces = [t for t in TELEWORK if not untraced(*t)]
    return build(root, TEAMS, TELEWORK, traces)


def _frozen_figures_hold(later: Workspace, frozen: dict[Any, Any], before: dict[str, Any]) -> None:
    """Every frozen figure reads the same later, and a range that now covers more weeks counts
    at least the agents it counted before (never fewer: that would single someone out)."""
    assert {k: v for k, v in ledger(later).items() if k in frozen} == frozen
    wider = range_agents(later, "service", date(2026, 4, 12))
    for group, count in before.items():
        if count != "" and wider.get(group, "") != "":
            assert wider[group] >= count, group


def ledger(ws: Workspace) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """Every frozen cell and span count, as a reader could collect them."""
    out: dict[tuple[str, str, str], tuple[Any, ...]] = {}
    for classification in ("service", "job_family"):
        for week in ws.db.publication.weeks(classification):
            for c in ws.db.publication.cells(classification, week):
                out[(classification, c.group, week)] = (
                    c.agents,
                    c.telework,
                    c.with_trace,
                    c.suppressed,
                )
    return out


def range_agents(ws: Workspace, by: str, day_to: date) -> dict[str, Any]:
    rows = run_presence(ws, SYSTEM, by, None, START, day_to).rows
    return {r["group"]: r["agents"] for r in rows}


def attack_ledger(ws: Workspace, truth: dict[str, dict[str, Someone]]) -> list[Any]:
    """The attacker on every published week of the workspace, with the true schedule."""
    found = []
    for week, people in truth.items():
        cells = {
            (c.classification, c.group): c
            for classification in ("service", "job_family")
            for c in ws.db.publication.cells(classification, week)
        }
        withheld = {key for key, c in cells.items() if c.suppressed}
        # The published figures must be the true ones (same cells, same sums).
        found += [(week, *n) for n in narrowed(people, withheld)]
    return found


def week_truth(
    ws: Workspace, objected: tuple[str, str] | None = None
) -> dict[str, dict[str, Someone]]:
    """Who teleworked how much, traced how much, in which service, week by week (published
    weeks only), from the construction — what the attacker knows and what it looks for. An
    agent who objected (``objected``: the agent and the first week published after) is counted
    in the weeks published before."""
    counted = {p.agent_id: p for p in TEAMS}
    moved: dict[str, tuple[str, date]] = {}
    out: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    places: dict[tuple[str, str], tuple[str, str]] = {}
    for agent_id, day, half in TELEWORK:
        week = week_id(day)
        p = counted[agent_id]
        service = p.service
        if agent_id in moved and day >= moved[agent_id][1]:
            service = moved[agent_id][0]
        places[(week, agent_id)] = (service, p.family)
        out[week][agent_id][0] += 1
        out[week][agent_id][1] += not untraced(agent_id, day, half)
    published = ws.db.publication.weeks("service")
    return {
        week: {
            a: Someone(*places[(week, a)], t, x)
            for a, (t, x) in agents.items()
            if objected is None or a != objected[0] or week < objected[1]
        }
        for week, agents in out.items()
        if week in published
    }


def test_e7_objection_attack(tmp_path: Path) -> None:
    """Issue 11, the objection attack: after one agent objects (G3), a range that now includes a
    newly published week counted fewer agents than the frozen range before it, while the other
    table did not move — which named the objector's service and family. Ranges now count the
    membership frozen with each week: nothing published changes, and no range shrinks."""
    ws = workspace(tmp_path)
    before_ranges = {by: range_agents(ws, by, date(2026, 4, 5)) for by in ("service", "job_family")}
    frozen = ledger(ws)
    assert frozen
    object_to_processing(ws, agent("R03"), "raisons personnelles")
    home = ws.paths.home
    ws.close()
    later = Workspace.open(home, FixedClock(LATER))
    try:
        assert {
            k: v for k, v in ledger(later).items() if k in frozen
        } == frozen  # every figure published before the objection is as it was
        for by in ("service", "job_family"):
            wider = range_agents(later, by, date(2026, 4, 12))
            for group, agents in before_ranges[by].items():
                if agents != "" and wider.get(group, "") != "":
                    assert wider[group] >= agents, (by, group)
        rh = range_agents(later, "service", date(2026, 4, 12))["RH"]
        assert rh == before_ranges["service"]["RH"]  # R03 still counted in the weeks before
        assert "2026-W15" in later.db.publication.weeks("service")
        assert attack_ledger(later, week_truth(later, ("R03", "2026-W15"))) == []
    finally:
        later.close()


def test_e7_departure_and_move_change_no_published_figure(tmp_path: Path) -> None:
    """A departure and a service move after publication, then a late week: the frozen figures
    stand, every range covering the old weeks keeps its members, and the attacker narrows
    nothing in any published week."""
    ws = workspace(tmp_path)
    before_ranges = range_agents(ws, "service", date(2026, 4, 5))
    frozen = ledger(ws)
    lines = ["agent_id,display_name,service,job_family,manager_id,logins"]
    for p in TEAMS:
        if p.agent_id == "S01":
            continue  # left
        service = "RH" if p.agent_id == "F04" else p.service  # moved from Finances
        lines.append(
            f"{p.agent_id},{p.display_name},{service},{p.family},{p.manager},{p.agent_id.lower()}"
        )
    (tmp_path / "moved.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    store_directory(
        ws.db, parse_directory(tmp_path / "moved.csv", ws.settings.directory), ws.today()
    )
    home = ws.paths.home
    ws.close()
    later = Workspace.open(home, FixedClock(LATER))
    try:
        _frozen_figures_hold(later, frozen, before_ranges)
    finally:
        later.close()


def test_report_audit_on_a_workspace_and_its_recheck_can_fail(tmp_path: Path) -> None:
    """``loyaute report audit``: one row per published week, the cells withheld and why, the
    narrowest interval and "protégée"; run again from the ledger alone, the audit is a real
    check — a figure changed in the ledger (as a publication without the auditor would leave
    it) is reported as to review."""
    ws = workspace(tmp_path)
    run_presence(ws, SYSTEM, "service", "week")
    home = ws.paths.home
    report = disclosure_audit(ws)
    assert [r["week"] for r in report.rows] == sorted(r["week"] for r in report.rows)
    assert report.rows
    assert all(r["status"] == "protégée" for r in report.rows)
    assert all(r["rechecked"] for r in report.rows)
    assert report.parameters["protection_half_days"] == LEVEL
    ws.close()

    # A withheld cell published after all (what E3 alone would have done in a zero-cell week).
    ws = Workspace.open(home, FixedClock(NOW))
    try:
        week = report.rows[0]["week"]
        hidden = [c for c in ws.db.publication.cells("service", week) if c.suppressed]
        assert hidden, "the fixture's weeks withhold a cell"
        target = hidden[0]
        truth = week_truth(ws)[week]
        members = [n for n, p in truth.items() if p.service == target.group]
        traced = sum(truth[n].traced for n in members)
        telework = sum(truth[n].telework for n in members)
        ws.db.conn.execute(
            "UPDATE published_cells SET suppressed = 0, suppressed_by = '', agents = ?, "
            "telework = ?, with_trace = ? WHERE classification = 'service' AND grp = ? "
            "AND week = ?",
            (len(members), telework, traced, target.group, week),
        )
        again = {r["week"]: r for r in disclosure_audit(ws).rows}
        assert again[week]["status"].startswith("À REVOIR")
    finally:
        ws.close()

    result = CliRunner().invoke(
        app, ["--home", str(home), "report", "audit", "--format", "csv"], env={"LOYAUTE_LANG": "fr"}
    )
    # The real clock is months after these weeks: the report reads what is frozen.
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == AUDIT_COLUMNS
    assert {r["week"] for r in rows} >= {r["week"] for r in report.rows}

    # As a table (for a person, here piped): labels, weeks and numbers in the command's language,
    # one plain line per week, no raw code (issue 12).
    language_before = lang()
    for language, header, week_word in (
        ("fr", "intervalle le plus étroit (demi-journées)", "semaine du "),
        ("en", "narrowest interval (half-days)", "week of "),
    ):
        try:
            result = CliRunner().invoke(
                app, ["--home", str(home), "--lang", language, "report", "audit"]
            )
        finally:
            set_lang(language_before)  # --lang sets the process's default: not for later tests
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert header in lines[1].split("\t")
        assert len(lines) >= 2 + len(report.rows)
        assert all(week_word in line for line in lines[2 : 2 + len(report.rows)])
        if language == "fr":
            found = problems(result.stdout, "/cli")
            assert not [p for p in found if "narrowest" in p or "ISO" in p or "raw" in p], found
            assert "protégée" in result.stdout
            assert "withheld_k" not in result.stdout


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Person], int, list[tuple[str, int]]]:
    """A small Département (atoms of 1 to 12 agents over 3 services × 3 families), a seed for
    which half-days have no trace, and what happens after the first publication: objections,
    departures and moves, before one more week is published."""
    people = []
    for s in ("Finances", "RH", "Social"):
        for f in ("administratif", "encadrement", "finances"):
            for i in range(draw(st.sampled_from([0, 1, 2, 3, 5, 8, 12]))):
                people.append(Person(f"{s[0]}{f[0]}{i:02d}".upper(), s, f))
    seed = draw(st.integers(0, 7))
    events = draw(
        st.lists(
            st.tuples(st.sampled_from(["objection", "departure", "move"]), st.integers(0, 99)),
            max_size=3,
        )
    )
    return people, seed, events


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(histories())
def test_e7_publication_sequences_hold_under_objections_departures_and_moves(
    tmp_path_factory: pytest.TempPathFactory,
    history: tuple[list[Person], int, list[tuple[str, int]]],
) -> None:
    """E7 over sequences: weeks 10–14 published, then objections, departures and moves, then
    week 15. No figure published before changes, no range loses members, and the attacker —
    holding every published week and the schedule — narrows no protected group."""
    people, seed, events = history
    if len(people) < 2:
        return
    root = tmp_path_factory.mktemp("history")
    days = [START + timedelta(weeks=w, days=d) for w in range(6) for d in (0, 3)]
    telework = [(p.agent_id, d, h) for p in people for d in days for h in ("AM", "PM")]

    def gap(agent_id: str, day: date, half: str) -> bool:
        return zlib.crc32(f"{agent_id}{day}{half}{seed}".encode()) % 5 == 0

    ws = build(root, people, telework, [t for t in telework if not gap(*t)])
    before = range_agents(ws, "service", date(2026, 4, 5))
    frozen = ledger(ws)
    left, moved, objected = set(), {}, set()
    for kind, index in events:
        p = people[index % len(people)]
        if kind == "objection" and p.agent_id not in objected:
            object_to_processing(ws, agent(p.agent_id), "raisons personnelles")
            objected.add(p.agent_id)
        elif kind == "departure":
            left.add(p.agent_id)
        elif kind == "move":
            moved[p.agent_id] = "RH" if p.service != "RH" else "Finances"
    if left or moved:
        lines = ["agent_id,display_name,service,job_family,manager_id,logins"]
        lines += [
            f"{p.agent_id},{p.display_name},{moved.get(p.agent_id, p.service)},{p.family},,"
            f"{p.agent_id.lower()}"
            for p in people
            if p.agent_id not in left
        ]
        (root / "next.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        if len(lines) > 1:
            store_directory(
                ws.db, parse_directory(root / "next.csv", ws.settings.directory), ws.today()
            )
    home = ws.paths.home
    ws.close()
    later = Workspace.open(home, FixedClock(LATER))
    try:
        _frozen_figures_hold(later, frozen, before)
        # The attacker on every published week, knowing the schedule as it was each week.
        by_week: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for agent_id, day, half in telework:
            week = week_id(day)
            # An objection stops the processing (G3): the weeks published after it leave the
            # objector out. A departure does not: the directory learns it on NOW's day, after
            # week 15, whose records of the departed agents are kept and counted.
            late = week >= "2026-W15"
            if late and agent_id in objected:
                continue
            by_week[week][agent_id][0] += 1
            by_week[week][agent_id][1] += not gap(agent_id, day, half)
        where = {p.agent_id: p for p in people}
        truth = {
            week: {
                a: Someone(
                    moved.get(a, where[a].service) if week >= "2026-W15" else where[a].service,
                    where[a].family,
                    t,
                    x,
                )
                for a, (t, x) in agents.items()
            }
            for week, agents in by_week.items()
            if week in later.db.publication.weeks("service")
        }
        assert attack_ledger(later, truth) == []
    finally:
        later.close()
