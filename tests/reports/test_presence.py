"""The aggregated presence report end to end (rules E2, E3, E5, D2, D4, G3, H1, I2, C8).

Workspaces are built directly: a directory, a telework schedule, notices, and half-day records
written to the activity store, so every expected figure is known from the construction. The
clock stands on Monday 20 April 2026: with the default ``settle_days`` (10), ISO weeks 10 to 14
(2 March – 5 April) are closed and published, week 15 is still open.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.demo.runner import DemoSummary, run_demo
from loyaute.errors import ConfigError, UsageError
from loyaute.i18n import lang, set_lang
from loyaute.identity import parse_directory, store_directory
from loyaute.ingest.engine import LocalEngine
from loyaute.policy.access import AccessDenied
from loyaute.policy.aggregate import half_day_frame
from loyaute.policy.notices import record_notices
from loyaute.policy.rights import declare, object_to_processing, open_dispute
from loyaute.policy.roles import Identity
from loyaute.reports.presence import PRESENCE_COLUMNS, week_id, week_monday, week_month
from loyaute.reports.runner import NO_PROOF, run_presence
from loyaute.schedule import import_schedule
from loyaute.store.records import RECORD_SCHEMA
from loyaute.workspace import Workspace
from tests.builders import SYSTEM, agent, cli_env, make_workspace, person, schedule_csv

START = date(2026, 3, 2)  # Monday of ISO week 10; the gates hold and every notice is given then
NOW = datetime(2026, 4, 20, 16, 0, tzinfo=UTC)
CLOSED = ["2026-W10", "2026-W11", "2026-W12", "2026-W13", "2026-W14"]
OPEN_WEEK = "2026-W15"
COLUMNS = [
    "group",
    "period",
    "agents",
    "telework_half_days",
    "with_trace",
    "declared",
    "without_trace",
    "share_with_trace",
    "suppressed",
]
COUNTS = COLUMNS[2:7]  # agents … without_trace

HalfDay = tuple[str, date, str]


# --- building workspaces -----------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """One agent of a hand-made directory."""

    agent_id: str
    service: str
    family: str
    manager: str = ""

    @property
    def display_name(self) -> str:
        return f"Agent {self.agent_id} Nommé"


def build(
    root: Path,
    people: list[Person],
    telework: Iterable[HalfDay],
    traces: Iterable[HalfDay],
    *,
    k: int = 10,
    mode: str = "crosscheck",
    now: datetime = NOW,
    on_site: Iterable[HalfDay] = (),
    on_site_mail: Iterable[HalfDay] = (),
    validity: bool = True,
    register_update: dict[str, Any] | None = None,
) -> Workspace:
    """A gated workspace (tests/builders.py) holding exactly the given people, schedule and
    records: ``traces`` are telework half-days with a VPN trace, ``on_site_mail`` on-site
    half-days with a mail trace (validity study)."""
    ws = make_workspace(
        root,
        now=now,
        start=START,
        schedule=[],
        register_update={"k_min": k, "mode": mode, **(register_update or {})},
        validity=validity,
    )
    lines = ["agent_id,display_name,service,job_family,manager_id,logins"]
    lines += [
        f"{p.agent_id},{p.display_name},{p.service},{p.family},{p.manager},{p.agent_id.lower()}"
        for p in people
    ]
    (root / "people.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    store_directory(ws.db, parse_directory(root / "people.csv", ws.settings.directory), ws.today())
    rows = [(a, d, h, "TLT") for a, d, h in telework] + [(a, d, h, "PRES") for a, d, h in on_site]
    (root / "plan.csv").write_text(schedule_csv(rows), encoding="utf-8")
    import_schedule(ws.db, [root / "plan.csv"], ws.settings.schedule)
    record_notices(ws, SYSTEM, START, [p.agent_id for p in people])
    write_records(ws, [(*t, "telework") for t in traces] + [(*t, "on_site") for t in on_site_mail])
    return ws


def write_records(ws: Workspace, items: list[tuple[str, date, str, str]]) -> None:
    """Half-day records as ingestion would store them (pseudonymised, one partition a day):
    telework half-days in the check's records, on-site ones in the validity study's (E8)."""
    by_day: dict[tuple[str, date], list[tuple[str, date, str, str]]] = defaultdict(list)
    for agent_id, day, half, scope in items:
        table = "records" if scope == "telework" else "study"
        by_day[(table, day)].append((ws.pseudonymizer.pseudonym(agent_id), day, half, scope))
    changes: dict[str, dict[date, pa.Table | None]] = {"records": {}, "study": {}}
    for (table, day), rows in by_day.items():
        changes[table][day] = pa.table(
            {
                "agent": [r[0] for r in rows],
                "day": pa.array([r[1] for r in rows], pa.date32()),
                "half": [r[2] for r in rows],
                "scope": [r[3] for r in rows],
                "vpn": [r[3] == "telework" for r in rows],
                "mail": [r[3] == "on_site" for r in rows],
                "apps": [False] * len(rows),
            },
            schema=RECORD_SCHEMA,
        )
    if any(changes.values()):
        ws.activity.commit(changes)


def team(prefix: str, n: int, service: str, family: str, manager: str = "") -> list[Person]:
    return [Person(f"{prefix}{i:02d}", service, family, manager) for i in range(n)]


# The standard Département of these tests (k = 10):
#   Finances = 12 finances + 2 managers (the family "finances" is the service minus 2 people)
#   RH       = 11 administratif + 1 manager
#   Social   = 4 administratif + 3 social workers (not eligible, B5)
PEOPLE = (
    team("F", 12, "Finances", "finances", "FM00")
    + team("FM", 2, "Finances", "encadrement")
    + team("R", 11, "RH", "administratif", "RM00")
    + team("RM", 1, "RH", "encadrement")
    + team("S", 4, "Social", "administratif", "SM00")
    + team("T", 3, "Social", "travail_social", "SM00")
)
ELIGIBLE = [p for p in PEOPLE if p.family != "travail_social"]
# Everyone teleworks on Monday and Thursday, weeks 10 to 15.
TELEWORK_DAYS = [START + timedelta(weeks=w, days=d) for w in range(6) for d in (0, 3)]
TELEWORK = [(p.agent_id, d, h) for p in PEOPLE for d in TELEWORK_DAYS for h in ("AM", "PM")]


def no_trace(agent_id: str, day: date, half: str) -> bool:
    """One agent in three leaves no digital trace on Thursday afternoons."""
    return half == "PM" and day.weekday() == 3 and int(agent_id[-2:]) % 3 == 0


TRACES = [t for t in TELEWORK if not no_trace(*t)]


def truth(
    classification: str, group: str, weeks: Iterable[str], people: list[Person] = ELIGIBLE
) -> dict[str, int]:
    """The expected figures of one row, from the construction."""
    wanted = set(weeks)
    members = {
        p.agent_id
        for p in people
        if (p.service if classification == "service" else p.family) == group
    }
    half_days = [t for t in TELEWORK if t[0] in members and week_id(t[1]) in wanted]
    with_trace = sum(1 for t in half_days if not no_trace(*t))
    return {
        "agents": len({t[0] for t in half_days}),
        "telework_half_days": len(half_days),
        "with_trace": with_trace,
        "declared": 0,
        "without_trace": len(half_days) - with_trace,
    }


@pytest.fixture(scope="module")
def standard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The standard Département, in cross-check mode; read-only tests share it."""
    ws = build(tmp_path_factory.mktemp("standard"), PEOPLE, TELEWORK, TRACES)
    yield ws
    ws.close()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Workspace]:
    """The standard Département for a test that changes it."""
    ws = build(tmp_path, PEOPLE, TELEWORK, TRACES)
    yield ws
    ws.close()


@pytest.fixture
def cli_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI opens its workspace with the system clock: make that clock say NOW."""
    monkeypatch.setattr("loyaute.workspace.SystemClock", lambda: FixedClock(NOW))


@pytest.fixture(autouse=True)
def keep_language() -> Iterator[None]:
    """``--lang`` sets the process language: put it back after each test."""
    before = lang()
    yield
    set_lang(before)


def rows_by(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["group"], r["period"]): r for r in rows}


def report(ws: Workspace, by: str = "service", period: str | None = None, **kw: Any) -> Any:
    return run_presence(ws, person("dpo.test", "dpo"), by, period, **kw)


def cli(home: Path, *args: str, who: Identity | None = None) -> tuple[int, str, str]:
    env = cli_env(home, who) if who is not None else {}
    result = CliRunner().invoke(app, ["--home", str(home), *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def flat(text: str) -> str:
    """Output with line wrapping undone (rich wraps long lines at the console width)."""
    return " ".join(text.split())


# --- columns, rows and figures (E2) ------------------------------------------------------------


def test_e2_csv_columns_and_suppressed_rows(standard: Workspace, cli_clock: None) -> None:
    """E2/E3 (CONTRACT.md): the CSV has exactly the contract's columns in order; a suppressed
    row says ``suppressed=true`` and leaves every count empty; a published one says ``false``."""
    code, out, err = cli(standard.paths.home, "report", "presence", "--format", "csv")
    assert code == 0, err
    reader = csv.DictReader(io.StringIO(out))
    assert reader.fieldnames == COLUMNS
    assert tuple(COLUMNS) == PRESENCE_COLUMNS
    rows = list(reader)
    hidden = [r for r in rows if r["suppressed"] == "true"]
    shown = [r for r in rows if r["suppressed"] == "false"]
    assert hidden
    assert shown
    assert len(hidden) + len(shown) == len(rows)
    for r in hidden:
        assert all(r[c] == "" for c in [*COUNTS, "share_with_trace"]), r
        assert r["group"]
        assert r["period"]
    for r in shown:
        assert all(r[c] != "" for c in COUNTS), r


def test_e2_week_rows_match_the_half_days(standard: Workspace) -> None:
    """E2: one row per group and closed week; ``agents`` counts distinct agents with a telework
    half-day; every figure equals the construction."""
    rows = rows_by(report(standard, "job_family", "week").rows)
    assert {p for _, p in rows} == set(CLOSED)
    for week in CLOSED:
        for family in ("finances", "administratif"):
            row = rows[(family, week)]
            assert row["suppressed"] is False
            assert {c: row[c] for c in COUNTS} == truth("job_family", family, [week])
    assert rows[("finances", "2026-W10")]["agents"] == 12
    assert rows[("administratif", "2026-W10")]["agents"] == 15  # 11 in RH + 4 in Social
    assert ("travail_social", "2026-W10") not in rows  # not eligible (B5): never counted


def test_e2_month_rows_are_sums_of_their_weeks(standard: Workspace) -> None:
    """E2: a month is made of the ISO weeks whose Thursday falls in it (W10–W13 → March, W14 →
    April), and its figures are the sums of those weeks."""
    rows = rows_by(report(standard, "job_family", "month").rows)
    assert {p for _, p in rows} == {"2026-03", "2026-04"}
    assert [week_month(w) for w in CLOSED] == ["2026-03"] * 4 + ["2026-04"]
    march = rows[("finances", "2026-03")]
    expected = truth("job_family", "finances", CLOSED[:4])
    assert {c: march[c] for c in expected} == expected
    assert march["telework_half_days"] == 12 * 4 * 4
    april = rows[("administratif", "2026-04")]
    expected = truth("job_family", "administratif", CLOSED[4:])
    assert {c: april[c] for c in expected} == expected


def test_e2_range_rows_cover_the_whole_window(standard: Workspace) -> None:
    """E2: without ``--period`` there is one row per group over every closed week of the range;
    ``--from``/``--to`` keep only the whole weeks inside the window."""
    rows = report(standard, "job_family").rows
    assert {r["period"] for r in rows} == {"2026-W10..2026-W14"}
    assert len(rows) == len({r["group"] for r in rows})
    fin = rows_by(rows)[("finances", "2026-W10..2026-W14")]
    expected = truth("job_family", "finances", CLOSED)
    assert {c: fin[c] for c in expected} == expected

    # 4 March (a Wednesday) to 29 March (a Sunday): weeks 11, 12 and 13 only
    rows = report(standard, "job_family", day_from=date(2026, 3, 4), day_to=date(2026, 3, 29)).rows
    assert {r["period"] for r in rows} == {"2026-W11..2026-W13"}
    fin = rows_by(rows)[("finances", "2026-W11..2026-W13")]
    expected = truth("job_family", "finances", CLOSED[1:4])
    assert {c: fin[c] for c in expected} == expected


def test_e2_default_range_covers_everything_kept(tmp_path: Path) -> None:
    """E2 (CONTRACT.md: the default range is everything kept): when the schedule starts on a
    Wednesday, that first week's half-days are kept (after T0) and must be in the default
    report, as they are when ``--from`` names its Monday."""
    days = [START + timedelta(weeks=w, days=d) for w in range(6) for d in (2, 3)]
    telework = [(p.agent_id, d, h) for p in PEOPLE for d in days for h in ("AM", "PM")]
    ws = build(tmp_path, PEOPLE, telework, telework)
    try:
        explicit = report(ws, "job_family", "week", day_from=START)
        assert explicit.parameters["weeks"] == "2026-W10..2026-W14"
        assert rows_by(explicit.rows)[("finances", "2026-W10")]["telework_half_days"] == 48
        default = report(ws, "job_family", "week")
        assert default.parameters["weeks"] == "2026-W10..2026-W14"
    finally:
        ws.close()


def test_e2_without_trace_and_share(standard: Workspace) -> None:
    """E2: ``without_trace = telework_half_days − with_trace`` and the share is their ratio, in
    every published row of every shape."""
    checked = 0
    for by in ("service", "job_family"):
        for period in ("week", "month", None):
            for row in report(standard, by, period).rows:
                if row["suppressed"]:
                    continue
                assert row["without_trace"] == row["telework_half_days"] - row["with_trace"]
                assert row["share_with_trace"] == round(
                    row["with_trace"] / row["telework_half_days"], 4
                )
                checked += 1
    assert checked >= 20
    # and the figures are not trivially zero: one agent in three leaves no trace on Thursday PM
    row = rows_by(report(standard, "service", "week").rows)[("RH", "2026-W10")]
    assert row["without_trace"] == 5


# --- disclosure control end to end (E3) --------------------------------------------------------


def test_e3_primary_and_complementary_suppression_end_to_end(standard: Workspace) -> None:
    """E3: Social (4 eligible agents) and the managers (3) are under k: suppressed. Finances has
    14 agents, but minus the 12 of the published ``finances`` family it would give the two
    managers' figures: it is suppressed too (complementary)."""
    services = rows_by(report(standard, "service", "week").rows)
    families = rows_by(report(standard, "job_family", "week").rows)
    for week in CLOSED:
        assert services[("Social", week)]["suppressed"] is True
        assert families[("encadrement", week)]["suppressed"] is True
        assert families[("finances", week)]["suppressed"] is False
        assert services[("Finances", week)]["suppressed"] is True
        assert services[("RH", week)]["suppressed"] is False


def test_e3_published_rows_have_at_least_k_agents(standard: Workspace) -> None:
    """E3/C8: no published row is about fewer than k agents, so no row is about one person."""
    for by in ("service", "job_family"):
        for period in ("week", "month", None):
            for row in report(standard, by, period).rows:
                assert row["suppressed"] or row["agents"] >= 10, row


def test_e3_k_can_never_be_set_below_five(tmp_path: Path) -> None:
    """E3: k_min = 4 in register.toml is a configuration error naming the key."""
    ws = make_workspace(tmp_path)
    home = ws.paths.home
    ws.close()
    text = (home / "register.toml").read_text(encoding="utf-8")
    assert "k_min = 10" in text
    (home / "register.toml").write_text(text.replace("k_min = 10", "k_min = 4"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Workspace.open(home, FixedClock(NOW))
    assert any("k_min" in p.path for p in info.value.problems)
    (home / "register.toml").write_text(text.replace("k_min = 10", "k_min = 5"), encoding="utf-8")
    Workspace.open(home, FixedClock(NOW)).close()


def test_e3_k_min_from_the_register_is_applied(tmp_path: Path) -> None:
    """E3: k is the register's, not a constant: the administratif family (15 agents), published
    with k = 10, is suppressed with k = 16."""
    ws = build(tmp_path / "k16", PEOPLE, TELEWORK, TRACES, k=16)
    rows = rows_by(report(ws, "job_family", "week").rows)
    assert rows[("administratif", "2026-W10")]["suppressed"] is True
    assert report(ws).parameters["k_min"] == 16
    ws.close()


# --- the publication ledger: no differencing between reports (E3) ------------------------------


# the shapes whose rows the changes below touch: every period of the family table, and the weeks
# of the service table (its other rows add up the same weeks)
ALL_SHAPES = [
    ("job_family", "week"),
    ("job_family", "month"),
    ("job_family", None),
    ("service", "week"),
]


def snapshot(ws: Workspace, **kw: Any) -> dict[tuple[str, str | None], list[dict[str, Any]]]:
    return {(by, period): report(ws, by, period, **kw).rows for by, period in ALL_SHAPES}


def changed(
    before: dict[tuple[str, str | None], list[dict[str, Any]]],
    after: dict[tuple[str, str | None], list[dict[str, Any]]],
) -> list[tuple[Any, Any]]:
    out = []
    for shape, rows in before.items():
        new = rows_by(after[shape])
        for key, row in rows_by(rows).items():
            if new.get(key) != row:
                out.append((row, new.get(key)))
    return out


def test_e3_late_declaration_does_not_change_a_published_week(fresh: Workspace) -> None:
    """E3 (frozen ledger): a declaration made after week 12 is published changes none of the
    figures later reports show for it, so nothing can be read off the difference."""
    before = snapshot(fresh)
    declare(fresh, agent("F03"), date(2026, 3, 19), "PM", "phone")
    after = snapshot(fresh)
    assert changed(before, after) == []


def test_e3_declaration_before_publication_is_counted(fresh: Workspace) -> None:
    """D2/E2, the other side of the ledger test: a declaration made before its week is published
    is counted in ``declared``."""
    declare(fresh, agent("F03"), date(2026, 3, 19), "PM", "phone")
    rows = rows_by(report(fresh, "job_family", "week").rows)
    assert rows[("finances", "2026-W12")]["declared"] == 1
    assert rows[("finances", "2026-W11")]["declared"] == 0


def test_e3_objection_after_publication_changes_no_published_figure(fresh: Workspace) -> None:
    """E3 (frozen ledger) with G3: an agent who objects after publication stops being processed,
    but the figures already published must stay as they were — otherwise the difference between
    two reports tells that one agent of the group objected (a count about one person)."""
    before = snapshot(fresh)
    object_to_processing(fresh, agent("F05"), "raisons personnelles")
    after = snapshot(fresh)
    assert changed(before, after) == []


def test_e3_dispute_after_publication_changes_no_published_figure(fresh: Workspace) -> None:
    """E3 (frozen ledger) with D4: disputes opened after publication on every telework half-day
    of one agent in week 14 do not move any published figure (week, month, range)."""
    before = snapshot(fresh)
    for day in (date(2026, 3, 30), date(2026, 4, 2)):
        for half in ("AM", "PM"):
            open_dispute(fresh, agent("R04"), day, half, "j'étais en réunion")
    after = snapshot(fresh)
    assert changed(before, after) == []


def test_e3_published_figures_survive_record_retention(tmp_path: Path) -> None:
    """E3/F3: aggregates outlive the half-day records (3 years against F2's month + 31 days);
    a report on the same window after the records are purged shows the same figures."""
    ws = build(tmp_path, PEOPLE, TELEWORK, TRACES)
    window = {"day_from": date(2026, 3, 2), "day_to": date(2026, 4, 5)}
    before = snapshot(ws, **window)
    home = ws.paths.home
    ws.close()
    later = Workspace.open(home, FixedClock(NOW + timedelta(days=60)))
    try:
        after = snapshot(later, **window)
        assert later.activity.read("records").num_rows == 0  # F2 purged them meanwhile
    finally:
        later.close()
    assert changed(before, after) == []


def test_e3_open_weeks_are_not_published(fresh: Workspace) -> None:
    """E3: a week is published only ``settle_days`` after its Sunday (late logs and declarations
    first); week 15 (6–12 April) is not closed on 20 April, then is once the clock moves on."""
    for by, period in ALL_SHAPES:
        result = report(fresh, by, period)
        assert result.parameters["weeks"] == "2026-W10..2026-W14"
        assert all(OPEN_WEEK not in r["period"] for r in result.rows)
    assert not fresh.db.conn.execute(
        "SELECT 1 FROM published_cells WHERE week = ?", (OPEN_WEEK,)
    ).fetchone()
    home = fresh.paths.home
    later = Workspace.open(home, FixedClock(NOW + timedelta(days=3)))  # Sunday 12 + 10 < 23
    try:
        rows = rows_by(run_presence(later, person("dpo", "dpo"), "job_family", "week").rows)
        assert rows[("finances", OPEN_WEEK)]["telework_half_days"] == 12 * 4
    finally:
        later.close()


# --- what is counted: disputes and objections (D4, G3) -----------------------------------------


def test_d4_disputed_half_day_is_excluded(fresh: Workspace) -> None:
    """D4: a half-day under an open dispute is frozen: not counted in the report."""
    open_dispute(fresh, agent("F01"), date(2026, 3, 16), "AM", "panne du VPN")
    rows = rows_by(report(fresh, "job_family", "week").rows)
    expected = truth("job_family", "finances", ["2026-W12"])
    assert rows[("finances", "2026-W12")]["telework_half_days"] == (
        expected["telework_half_days"] - 1
    )
    assert rows[("finances", "2026-W12")]["with_trace"] == expected["with_trace"] - 1
    assert rows[("finances", "2026-W11")]["telework_half_days"] == 48


def test_g3_objecting_agent_is_not_counted(fresh: Workspace) -> None:
    """G3: processing of an agent who objected stops pending a decision: their half-days are not
    in the report (weeks published after the objection)."""
    object_to_processing(fresh, agent("R02"), "situation particulière")
    rows = rows_by(report(fresh, "service", "week").rows)
    expected = truth("service", "RH", ["2026-W10"])
    assert rows[("RH", "2026-W10")]["agents"] == expected["agents"] - 1 == 11
    assert rows[("RH", "2026-W10")]["telework_half_days"] == expected["telework_half_days"] - 4


# --- who sees what (D2, E5) --------------------------------------------------------------------


@pytest.fixture(scope="module")
def declarative(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = build(tmp_path_factory.mktemp("declarative"), PEOPLE, TELEWORK, TRACES, mode="declarative")
    yield ws
    ws.close()


@pytest.mark.parametrize("role", ["manager", "hr_reviewer"])
def test_d2_declarative_mode_hides_traces_from_managers_and_hr(
    declarative: Workspace, role: str
) -> None:
    """D2: in declarative mode, managers and HR see telework half-days and declarations, never
    trace figures."""
    result = run_presence(declarative, person("RM00", role, "RM00"), "service", "week")
    shown = [r for r in result.rows if not r["suppressed"]]
    assert shown
    for row in shown:
        assert row["with_trace"] == row["without_trace"] == row["share_with_trace"] == ""
        assert row["telework_half_days"] == 48
        assert row["declared"] == 0
    assert "traces" in result.parameters


@pytest.mark.parametrize("role", ["dpo", "staff_rep"])
def test_d2_declarative_mode_shows_traces_to_oversight_roles(
    declarative: Workspace, role: str
) -> None:
    """D2: the DPO and the staff representatives still see the trace figures (oversight)."""
    rows = rows_by(run_presence(declarative, person("x", role), "service", "week").rows)
    assert (
        rows[("RH", "2026-W10")]["with_trace"] == truth("service", "RH", ["2026-W10"])["with_trace"]
    )
    assert rows[("RH", "2026-W10")]["without_trace"] == 5


def test_d2_crosscheck_mode_shows_traces_to_hr(standard: Workspace) -> None:
    """D2: the masking is the declarative mode's: in cross-check mode HR sees trace figures."""
    rows = rows_by(run_presence(standard, person("rh", "hr_reviewer"), "service", "week").rows)
    assert rows[("RH", "2026-W10")]["with_trace"] == 43


def test_e5_manager_sees_only_their_own_service(standard: Workspace) -> None:
    """E5: a manager sees the aggregates of their own service, not the others'; the family
    table (which crosses services) is refused to them."""
    rows = run_presence(standard, person("RM00", "manager", "RM00"), "service", "week").rows
    assert rows
    assert {r["group"] for r in rows} == {"RH"}
    rows = run_presence(standard, person("FM00", "manager", "FM00"), "service", "month").rows
    assert {r["group"] for r in rows} == {"Finances"}
    with pytest.raises(UsageError):
        run_presence(standard, person("RM00", "manager", "RM00"), "job_family", "week")


@pytest.mark.parametrize("role", ["operator", "agent"])
def test_e5_operator_and_agent_may_not_read_the_report(standard: Workspace, role: str) -> None:
    """E5: the IT operator runs ingestion but sees no activity data; an agent sees only their
    own records. Both are refused the report, and the refusal is audited."""
    with pytest.raises(AccessDenied):
        run_presence(standard, person(f"who.{role}", role, "X"), "service", "week")
    last = list(standard.audit.entries())[-1]
    assert (last.actor, last.role, last.action) == (f"who.{role}", role, "refused")
    assert last.details["attempted"] == "report_presence"


def test_e5_refusal_from_the_cli(standard: Workspace, cli_clock: None) -> None:
    """E5: the CLI refuses with exit 1 and a one-line reason."""
    code, out, err = cli(
        standard.paths.home, "report", "presence", who=person("dsi.op", "operator")
    )
    assert code == 1
    assert "operator" in err
    assert "RH" not in out


# --- audit, statement, no individual rows (H1, I2, C8) -----------------------------------------


def test_h1_every_report_is_audited(standard: Workspace) -> None:
    """H1: each report run leaves an audit entry with its reader, role and parameters."""
    count = len(list(standard.audit.entries()))
    run_presence(standard, person("staff.rep", "staff_rep"), "job_family", "month")
    entries = list(standard.audit.entries())
    assert len(entries) > count
    last = entries[-1]
    assert (last.actor, last.role, last.action) == ("staff.rep", "staff_rep", "report_presence")
    assert last.details["k_min"] == "10"
    assert last.details["by"] == "job_family"
    assert last.details["period"] == "month"


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_i2_every_report_prints_its_parameters_and_the_statement(
    standard: Workspace, cli_clock: None, fmt: str
) -> None:
    """I2/D1: whatever the format, the report prints its parameters (k, the weeks) and the
    sentence that a missing digital trace does not establish absence of work. In CSV the
    standard output stays a clean CSV (header first), so the sentence may go to stderr."""
    for language, sentence in (("fr", NO_PROOF[0]), ("en", NO_PROOF[1])):
        code, out, err = cli(
            standard.paths.home, "--lang", language, "report", "presence", "--format", fmt
        )
        assert code == 0, err
        everything = flat(out + "\n" + err)
        assert flat(sentence) in everything, (fmt, language)
        assert "k_min" in everything
        assert "2026-W10..2026-W14" in everything
        if fmt == "csv":
            assert out.splitlines()[0] == ",".join(COLUMNS)
        if fmt == "json":
            assert json.loads(out)["parameters"]["statement"] == sentence


def test_c8_no_row_is_about_an_agent_and_nothing_is_ranked(
    standard: Workspace, cli_clock: None
) -> None:
    """C8: rows are groups (services, job families), never agents; no agent id, name or
    pseudonym appears in any output; rows are ordered by period then group name, not by any
    figure (no ranking)."""
    services = {p.service for p in PEOPLE}
    families = {p.family for p in PEOPLE}
    for by, groups in (("service", services), ("job_family", families)):
        for period in ("week", "month", None):
            rows = report(standard, by, period).rows
            assert {r["group"] for r in rows} <= groups
            assert [list(r) for r in rows] == [COLUMNS] * len(rows)
            assert [(r["period"], r["group"]) for r in rows] == sorted(
                (r["period"], r["group"]) for r in rows
            )
    code, out, _ = cli(standard.paths.home, "report", "presence", "--format", "json")
    assert code == 0
    code2, out2, _ = cli(
        standard.paths.home, "report", "presence", "--by", "job_family", "--period", "week"
    )
    assert code2 == 0
    for p in PEOPLE:
        for text in (out, out2):
            assert p.agent_id not in text
            assert p.display_name not in text
            assert standard.pseudonymizer.pseudonym(p.agent_id) not in text


# --- on the demo Département --------------------------------------------------------------------

DEMO_NOW = datetime(2026, 3, 20, 17, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    """Four weeks of the synthetic Département (Friday 20 February to Thursday 19 March): with
    ``settle_days`` = 10, weeks 8 (its Friday only), 9 and 10 are closed."""
    home = tmp_path_factory.mktemp("demo") / "home"
    return run_demo(
        home, agents=150, weeks=4, seed=5, clock=FixedClock(DEMO_NOW), engine=LocalEngine(1)
    )


@pytest.mark.parametrize("by", ["service", "job_family"])
def test_e2_report_presence_on_the_demo_from_the_cli(
    demo: DemoSummary, monkeypatch: pytest.MonkeyPatch, by: str
) -> None:
    """E2/E3 on the demo workspace: ``loyaute report presence`` answers with the contract's
    columns, published rows of at least k agents, suppressed rows empty, and no agent named."""
    monkeypatch.setattr("loyaute.workspace.SystemClock", lambda: FixedClock(DEMO_NOW))
    code, out, err = cli(
        demo.home, "report", "presence", "--by", by, "--period", "week", "--format", "csv"
    )
    assert code == 0, err
    reader = csv.DictReader(io.StringIO(out))
    assert reader.fieldnames == COLUMNS
    rows = list(reader)
    shown = [r for r in rows if r["suppressed"] == "false"]
    assert shown
    assert [r for r in rows if r["suppressed"] == "true"]
    assert all(int(r["agents"]) >= 10 for r in shown)
    assert all(
        int(r["without_trace"]) == int(r["telework_half_days"]) - int(r["with_trace"])
        for r in shown
    )
    assert {r["period"] for r in rows} <= {"2026-W08", "2026-W09", "2026-W10"}
    groups = {a.service if by == "service" else a.job_family for a in demo.data.agents}
    assert {r["group"] for r in rows} <= groups
    for member in demo.data.agents:
        assert member.agent_id not in out
        assert member.display_name not in out
    code, out, err = cli(demo.home, "report", "presence", "--by", by)
    assert code == 0, err
    assert flat(NO_PROOF[0]) in flat(out)


# --- the end-to-end property (E3) --------------------------------------------------------------

PROPERTY_WEEKS = ["2026-W12", "2026-W13", "2026-W14"]  # March, March, April
PROPERTY_SERVICES = ("S1", "S2")
PROPERTY_FAMILIES = ("administratif", "finances")


@st.composite
def departments(draw: st.DrawFn) -> dict[str, Any]:
    """A random directory (two services × two eligible families, plus social workers), random
    weekly telework schedules and traces, k from 5 to 7, and a random sequence of queries."""
    k = draw(st.integers(5, 7))
    # a social worker (not eligible, never counted) whose schedule starts the window on Monday
    people: list[Person] = [Person("Z000", "S1", "travail_social")]
    telework: list[HalfDay] = [("Z000", week_monday("2026-W12"), "AM")]
    traces: list[HalfDay] = []
    n = 0
    for service in PROPERTY_SERVICES:
        for family in (*PROPERTY_FAMILIES, "travail_social"):
            for _ in range(draw(st.integers(0, k + 4))):
                people.append(Person(f"P{n:03d}", service, family))
                n += 1
    for p in people:
        # which of the three weeks (and the open week 15) the agent teleworks, and which
        # of their telework half-days leave a trace
        weeks = draw(st.integers(0, 15))
        gaps = draw(st.integers(0, 255))
        for i in range(4):
            if not weeks >> i & 1:
                continue
            day = week_monday("2026-W12") + timedelta(weeks=i, days=1)  # a Tuesday
            for j, half in enumerate(("AM", "PM")):
                telework.append((p.agent_id, day, half))
                if not gaps >> (2 * i + j) & 1:
                    traces.append((p.agent_id, day, half))
    days = st.dates(date(2026, 3, 9), date(2026, 4, 20))
    queries = draw(
        st.lists(
            st.tuples(
                st.sampled_from(("service", "job_family")),
                st.sampled_from(("week", "month", None)),
                st.none() | days,
                st.none() | days,
            ),
            min_size=1,
            max_size=5,
        )
    )
    return {"k": k, "people": people, "telework": telework, "traces": traces, "queries": queries}


WeeklyAtom = tuple[str, str, str]  # (service, family, week)


def covered_weeks(period: str, weeks: list[str]) -> list[str]:
    """The closed weeks a published row adds up."""
    if re.fullmatch(r"\d{4}-W\d{2}", period):
        return [period]
    if re.fullmatch(r"\d{4}-\d{2}", period):
        return [w for w in weeks if week_month(w) == period]
    return list(weeks)


def week_range(parameter: str) -> list[str]:
    if not parameter:
        return []
    first, last = parameter.split("..")
    out, monday = [], week_monday(first)
    while monday <= week_monday(last):
        out.append(week_id(monday))
        monday += timedelta(days=7)
    return out


def determined_sets(
    equations: list[frozenset[Any]], members: dict[Any, set[str]], k: int
) -> list[frozenset[Any]]:
    """Every non-empty set of atoms about fewer than k agents (union of their agents) whose total
    the equations determine. Exact rational elimination with the atoms of k agents or more first:
    the rows whose pivot falls on a small atom span the combinations that avoid every big atom,
    and a 0/1 vector of that span has its pivot entries (0 or 1) as coefficients — so trying the
    0/1 combinations of those rows finds every such set."""
    big = sorted((a for a in members if len(members[a]) >= k), key=repr)
    small = sorted((a for a in members if len(members[a]) < k), key=repr)
    order = big + small
    index = {a: i for i, a in enumerate(order)}
    basis: list[tuple[int, list[Fraction]]] = []
    for eq in equations:
        v = [Fraction(0)] * len(order)
        for atom in eq:
            v[index[atom]] = Fraction(1)
        for pivot, row in basis:
            if v[pivot]:
                factor = v[pivot]
                v = [a - factor * b for a, b in zip(v, row, strict=True)]
        pivot = next((i for i, x in enumerate(v) if x), None)
        if pivot is None:
            continue
        v = [x / v[pivot] for x in v]
        basis = [(p, [a - row[pivot] * b for a, b in zip(row, v, strict=True)]) for p, row in basis]
        basis.append((pivot, v))
    on_small = [row for pivot, row in basis if pivot >= len(big)]
    assert len(on_small) <= 16, "instance too large for the enumeration"
    found = []
    for mask in range(1, 2 ** len(on_small)):
        total = [Fraction(0)] * len(order)
        for i, row in enumerate(on_small):
            if mask >> i & 1:
                total = [a + b for a, b in zip(total, row, strict=True)]
        if any(x not in (0, 1) for x in total):
            continue
        chosen = frozenset(order[i] for i, x in enumerate(total) if x == 1)
        agents = set().union(*(members[a] for a in chosen))
        if len(agents) < k:
            found.append(chosen)
    return found


def test_determined_sets_finds_a_difference() -> None:
    """The oracle of the property below can fail: a service and the family it almost entirely
    is determine the remaining atom."""
    members: dict[Any, set[str]] = {
        ("S", "F", "w"): {str(i) for i in range(12)},
        ("S", "G", "w"): {"x", "y"},
    }
    service = frozenset(members)
    family = frozenset({("S", "F", "w")})
    assert determined_sets([service, family], members, 10) == [frozenset({("S", "G", "w")})]
    assert determined_sets([service], members, 10) == []


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@given(departments())
def test_e3_no_sequence_of_reports_determines_a_count_under_k(
    tmp_path_factory: pytest.TempPathFactory, department: dict[str, Any]
) -> None:
    """E3 (property, end to end): for random directories, schedules and query sequences (random
    ``--by``, ``--period``, ``--from``/``--to``), every published figure is correct, and no
    combination of all the published numbers determines a count about fewer than k agents —
    across groups of a period, periods of a group, and reports with different windows."""
    k = department["k"]
    ws = build(
        tmp_path_factory.mktemp("prop"),
        department["people"],
        department["telework"],
        department["traces"],
        k=k,
    )
    try:
        # the atoms, from the product's own frame of counted half-days
        members: dict[WeeklyAtom, set[str]] = defaultdict(set)
        sums: dict[WeeklyAtom, list[int]] = defaultdict(lambda: [0, 0, 0])
        for week in PROPERTY_WEEKS:
            monday = week_monday(week)
            frame = half_day_frame(ws, "telework", monday, monday + timedelta(days=6)).to_pylist()
            for r in frame:
                atom = (r["service"], r["job_family"], week)
                members[atom].add(r["agent_id"])
                sums[atom][0] += 1
                sums[atom][1] += bool(r["trace"])
                sums[atom][2] += bool(r["declared"])
        expected_rows = sum(
            1
            for a, d, _ in department["telework"]
            if week_id(d) in PROPERTY_WEEKS
            and next(p for p in department["people"] if p.agent_id == a).family != "travail_social"
        )
        assert sum(s[0] for s in sums.values()) == expected_rows

        weekly: list[frozenset[WeeklyAtom]] = []
        distinct: dict[frozenset[str], list[frozenset[tuple[str, str]]]] = defaultdict(list)
        for by, period, lo, hi in department["queries"]:
            result = run_presence(ws, person("dpo", "dpo"), by, period, day_from=lo, day_to=hi)
            weeks = week_range(result.parameters["weeks"])
            assert set(weeks) <= {"2026-W11", *PROPERTY_WEEKS}  # week 15 is still open
            position = 0 if by == "service" else 1
            for row in result.rows:
                span = covered_weeks(row["period"], weeks)
                atoms = frozenset(
                    a for a in members if a[position] == row["group"] and a[2] in span
                )
                agents = set().union(*(members[a] for a in atoms))
                if row["suppressed"]:
                    assert all(row[c] == "" for c in COUNTS)
                    if len(agents) >= k:
                        event("a row of k agents or more suppressed (complementary)")
                    continue
                assert row["agents"] == len(agents) >= k
                assert row["telework_half_days"] == sum(sums[a][0] for a in atoms)
                assert row["with_trace"] == sum(sums[a][1] for a in atoms)
                assert row["declared"] == sum(sums[a][2] for a in atoms)
                weekly.append(atoms)
                if len(span) > 1:
                    # distinct agents over several weeks: a sum over (service, family) pairs
                    distinct[frozenset(span)].append(frozenset((a[0], a[1]) for a in atoms))
        assert determined_sets(weekly, members, k) == []
        for span, equations in distinct.items():
            pair_members: dict[tuple[str, str], set[str]] = defaultdict(set)
            for atom, who in members.items():
                if atom[2] in span:
                    pair_members[(atom[0], atom[1])] |= who
            assert determined_sets(equations, pair_members, k) == []
    finally:
        ws.close()
