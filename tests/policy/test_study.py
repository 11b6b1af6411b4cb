"""The validity study stays aggregate-only (rule E8; issue 9, E and finding 1).

On-site half-days are kept per agent, apart from the check's records, only until their week is
published; then only job family × week figures remain, and the per-agent rows are deleted by an
audited purge. Until then the agent — and only the agent (or the DPO answering their access
request) — sees what the study holds about them; no case, reviewer, manager or statement does.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from pathlib import Path

from loyaute.clock import FixedClock
from loyaute.policy.access import individual
from loyaute.policy.retention import purge
from loyaute.policy.rights import show_statement
from loyaute.policy.roles import Action
from loyaute.reports.access_export import write_export
from loyaute.reports.runner import run_validity
from loyaute.workspace import Workspace
from tests.builders import DPO, agent, manager, records
from tests.reports import test_validity as study
from tests.reports.test_presence import NOW, START, build, team

PEOPLE = [*team("VF", 10, "Finances", "finances", "VF09")]
ON_SITE = [(p.agent_id, d, h) for p in PEOPLE for d in study.ON_SITE_DAYS for h in ("AM", "PM")]
TELEWORK_DAYS = [START + timedelta(weeks=w) for w in range(5)]  # Mondays of weeks 10 to 14
TELEWORK = [(p.agent_id, d, h) for p in PEOPLE for d in TELEWORK_DAYS for h in ("AM", "PM")]
BEFORE = datetime(2026, 3, 13, 16, 0, tzinfo=NOW.tzinfo)
"""Friday of week 11: no week is published yet (settle_days = 10)."""


def make(root: Path, now: datetime = BEFORE) -> Workspace:
    return build(root, PEOPLE, TELEWORK, TELEWORK, on_site=ON_SITE, on_site_mail=ON_SITE, now=now)


def reopen(ws: Workspace, now: datetime) -> Workspace:
    home = ws.paths.home
    ws.close()
    return Workspace.open(home, FixedClock(now))


def pseudonyms(ws: Workspace, table: str) -> set[tuple[str, str]]:
    return {(r["agent"], r["day"].isoformat()) for r in ws.activity.read(table).to_pylist()}


def test_e8_on_site_half_days_are_kept_apart_from_the_checks_records(tmp_path: Path) -> None:
    """E8: the study's half-days live in a table of their own, scope ``on_site``; the check's
    records hold telework half-days only."""
    ws = make(tmp_path)
    try:
        assert {r["scope"] for r in ws.activity.read("records").to_pylist()} == {"telework"}
        assert {r["scope"] for r in ws.activity.read("study").to_pylist()} == {"on_site"}
        assert ws.activity.read("study").num_rows == len(ON_SITE)
    finally:
        ws.close()


def test_e8_per_agent_rows_go_once_their_week_is_published(tmp_path: Path) -> None:
    """E8: once a week is published, its per-agent on-site rows are deleted by an audited purge
    (counts and dates, never identities); the family × week figures remain and do not move."""
    ws = make(tmp_path)
    assert ws.activity.read("study").num_rows == len(ON_SITE)
    # 20 April: weeks 10 to 14 are closed and their data is in.
    ws = reopen(ws, NOW)
    try:
        report = purge(ws)
        reduced = report.removed["study_reduced"]
        assert reduced == len(ON_SITE)
        assert ws.activity.read("study").num_rows == 0
        [entry] = [e for e in ws.audit.entries() if e.action == "purge"]
        assert entry.details["removed"]["study_reduced"] == len(ON_SITE)
        text = json.dumps(entry.details)
        assert not any(p.agent_id in text for p in PEOPLE)
        assert not any(ws.pseudonymizer.pseudonym(p.agent_id) in text for p in PEOPLE)
        rows = {r["job_family"]: r for r in run_validity(ws, DPO).rows}
        assert (rows["finances"]["on_site_half_days"], rows["finances"]["with_trace"]) == (
            len(ON_SITE),
            len(ON_SITE),
        )
        again = {r["job_family"]: r for r in run_validity(ws, DPO).rows}
        assert again == rows  # frozen: nothing left to recompute from
    finally:
        ws.close()


def test_e8_only_published_weeks_are_reduced(tmp_path: Path) -> None:
    """E8 boundary: on 24 March weeks 10 and 11 are published (their Sunday + 10 days is past),
    week 12 is not: its rows stay until it is."""
    ws = reopen(make(tmp_path), datetime(2026, 3, 26, 9, 0, tzinfo=NOW.tzinfo))
    try:
        purge(ws)
        left = {d for _, d in pseudonyms(ws, "study")}
        early = {d.isoformat() for d in study.ON_SITE_DAYS if d < date(2026, 3, 16)}
        later = {d.isoformat() for d in study.ON_SITE_DAYS if d >= date(2026, 3, 16)}
        assert not left & early
        assert left == later
    finally:
        ws.close()


def test_e8_the_agent_sees_what_the_study_holds_and_no_one_else(tmp_path: Path) -> None:
    """E8/E6: the agent's own view offers the study's rows (labelled as such); the records any
    reviewer could see, and the manager's statement, hold telework half-days only."""
    ws = make(tmp_path)
    try:
        own = individual(ws, agent("VF01"), Action.OWN_VIEW, "VF01")
        mine = own.study()
        assert {r.scheduled for r in mine} == {"on_site"}
        assert len(mine) == sum(1 for t in ON_SITE if t[0] == "VF01" and t[1] <= BEFORE.date())
        assert {r.scheduled for r in records(ws, "VF01")} == {"telework"}
        statement = show_statement(ws, manager("VF09"), "2026-03")
        by_agent = {line.agent_id: line for line in statement.lines}
        march = [t for t in TELEWORK if t[0] == "VF01" and t[1] <= BEFORE.date()]
        assert by_agent["VF01"].telework_half_days == len(march)  # never the on-site days
    finally:
        ws.close()


def test_e8_the_access_export_shows_the_study_in_its_own_section(tmp_path: Path) -> None:
    """E8/G2: the agent's export holds the study's rows in ``study.csv`` and a section of
    ``export.json`` labelled as visible to them only; ``records.csv`` holds telework only."""
    ws = make(tmp_path)
    try:
        result = write_export(ws, agent("VF01"), "VF01", tmp_path / "out")
        assert result.study > 0
        with (tmp_path / "out" / "records.csv").open(encoding="utf-8") as f:
            assert {r["scheduled"] for r in csv.DictReader(f)} == {"telework"}
        with (tmp_path / "out" / "study.csv").open(encoding="utf-8") as f:
            study_rows = list(csv.DictReader(f))
        assert {r["scheduled"] for r in study_rows} == {"on_site"}
        assert len(study_rows) == result.study
        content = json.loads((tmp_path / "out" / "export.json").read_text(encoding="utf-8"))
        section = content["validity_study"]
        assert "vous seul" in section["visible_to"]
        assert len(section["records"]) == result.study
        html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
        assert "Étude de validité" in html
        assert "jamais d'un relecteur" in html
    finally:
        ws.close()


def test_e8_a_reviewer_sees_no_study_row_even_through_an_agent_in_scope(tmp_path: Path) -> None:
    """E8: the study's rows are never part of what a grant other than the agent's own (or the
    DPO's access export) reads."""
    ws = make(tmp_path)
    try:
        export = individual(ws, DPO, Action.ACCESS_EXPORT, "VF01")
        assert export.study()  # the DPO answers the agent's right of access
        manager_view = individual(ws, manager("VF09"), Action.STATEMENT_VIEW, "VF01")
        assert manager_view.study() == []
    finally:
        ws.close()
