"""The agent's side and the DPO's watch: declarations (D2), annotations (D3), disputes (D4),
access requests and their clock (G1), objection (G3), alerts (H2), monthly statements (D2).

Most tests use the small gated workspace of ``tests/builders.py``: four agents, A3 manages the
others, everyone teleworks every day of the week of 23 March 2026, the clock on 31 March.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.errors import GateError, InputError, LoyauteError, UsageError
from loyaute.i18n import lang, set_lang
from loyaute.policy.access import AccessDenied, individual
from loyaute.policy.aggregate import half_day_frame
from loyaute.policy.cases import show_case
from loyaute.policy.rights import (
    DECLARATION_KINDS,
    access_request_clocks,
    annotate,
    decide_objection,
    declare,
    extend_access_request,
    object_to_processing,
    open_dispute,
    record_access_request,
    resolve_dispute,
    show_statement,
    validate_statement,
)
from loyaute.policy.roles import Action, Identity
from loyaute.reports.access_export import write_export
from loyaute.workspace import Workspace
from tests.builders import (
    DPO,
    MON,
    NOW,
    TUE,
    agent,
    cli_env,
    local,
    make_workspace,
    manager,
    person,
    records,
    run_ingest,
    side,
    stored,
    vpn_session,
    week_schedule,
    write_logs,
)
from tests.policy import test_cases as cases_mod

WED = date(2026, 3, 25)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    """Telework all week for A1, A2, A4; A1 on site on Wednesday afternoon; A3 teleworks only
    on Monday."""
    schedule = [r for r in week_schedule() if r[0] in ("A1", "A2", "A4") and r[1] != WED]
    schedule += [("A1", WED, "AM", "TLT"), ("A1", WED, "PM", "PRES")]
    schedule += [("A2", WED, "JOUR", "TLT"), ("A4", WED, "JOUR", "TLT")]
    schedule += [("A3", MON, "JOUR", "TLT")]
    workspace = make_workspace(tmp_path, schedule=schedule)
    yield workspace
    workspace.close()


@pytest.fixture(autouse=True)
def french() -> Iterator[None]:
    before = lang()
    set_lang("fr")
    yield
    set_lang(before)


def set_now(ws: Workspace, when: datetime) -> None:
    """Move the workspace's fixed clock (the audit log reads the same clock)."""
    assert isinstance(ws.clock, FixedClock)
    ws.clock.instant = when


def cli(home: Path, *args: str, who: Identity = DPO) -> tuple[int, str, str]:
    """Run the CLI signed in as ``who``, on a wide console (tables do not fold long words)."""
    result = CliRunner().invoke(
        app, ["--home", str(home), *args], env={"COLUMNS": "250", **cli_env(home, who)}
    )
    return result.exit_code, result.stdout, result.stderr


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def record(ws: Workspace, agent_id: str, day: date, half: str) -> dict[str, str]:
    rows = [
        r.as_dict()
        for r in records(ws, agent_id)
        if (r.date, r.half_day)
        == (
            day.isoformat(),
            half,
        )
    ]
    assert len(rows) == 1, rows
    return rows[0]


# --- D2: declarations ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", DECLARATION_KINDS)
def test_d2_every_declaration_kind_on_a_telework_half_day(ws: Workspace, kind: str) -> None:
    """D2: the agent declares how a telework half-day was worked, among the six kinds; the
    declaration shows in their records and is audited."""
    assert set(DECLARATION_KINDS) == {"system", "phone", "home_visit", "meeting", "field", "other"}
    declare(ws, agent("A1"), MON, "PM", kind, "note")
    assert record(ws, "A1", MON, "PM")["declaration"].startswith(kind)
    last = [e for e in ws.audit.entries("A1") if e.action == "declare"][-1]
    assert (last.actor, last.details["kind"]) == (agent("A1").login, kind)


def test_d2_unknown_kind_is_refused(ws: Workspace) -> None:
    """D2: only the listed kinds ("absent from work" is not one of them)."""
    with pytest.raises(UsageError):
        declare(ws, agent("A1"), MON, "PM", "sick")
    with pytest.raises(UsageError):
        declare(ws, agent("A1"), MON, "XX", "phone")
    assert not side(ws, "A1")["declarations"]


def test_d2_only_scheduled_telework_half_days(ws: Workspace) -> None:
    """D2: an on-site half-day, or a day with nothing scheduled, cannot be declared."""
    declare(ws, agent("A1"), WED, "AM", "system")  # telework in the morning
    with pytest.raises(InputError):
        declare(ws, agent("A1"), WED, "PM", "system")  # on site in the afternoon
    with pytest.raises(InputError):
        declare(ws, agent("A3"), TUE, "AM", "system")  # A3 has nothing scheduled on Tuesday
    assert [(d["day"], d["half"]) for d in side(ws, "A1")["declarations"]] == [
        (WED.isoformat(), "AM")
    ]


def test_d2_nothing_before_t0(tmp_path: Path) -> None:
    """D2/A5: a half-day before the agent's T0 is not kept, so it cannot be declared; the day of
    T0 can."""
    workspace = make_workspace(tmp_path, notices={"A1": TUE, "A2": MON, "A3": MON, "A4": MON})
    try:
        with pytest.raises(InputError):
            declare(workspace, agent("A1"), MON, "AM", "phone")
        declare(workspace, agent("A1"), TUE, "AM", "phone")
    finally:
        workspace.close()


def test_d2_declaration_from_the_cli(ws: Workspace) -> None:
    """D2: ``loyaute declare`` records the declaration."""
    home = ws.paths.home
    code, _, err = cli(
        home,
        "declare",
        "--date",
        "2026-03-24",
        "--half",
        "am",
        "--kind",
        "meeting",
        who=agent("A4"),
    )
    assert code == 0, err
    assert [d["kind"] for d in side(ws, "A4")["declarations"]] == ["meeting"]
    code, _, err = cli(
        home, "declare", "--date", "2026-03-24", "--half", "AM", "--kind", "nap", who=agent("A4")
    )
    assert code == 2
    # E6/E9: an agent declares for themself only, whatever the option says
    code, _, err = cli(
        home,
        "declare",
        "--agent",
        "A1",
        "--date",
        "2026-03-24",
        "--half",
        "AM",
        "--kind",
        "meeting",
        who=agent("A4"),
    )
    assert code == 1
    assert not side(ws, "A1")["declarations"]


# --- D3: annotations -----------------------------------------------------------------------------


def test_d3_annotation_travels_with_the_record(ws: Workspace, tmp_path: Path) -> None:
    """D3: an annotation shows in the agent's records, in records.csv and export.json of the
    access export, and on any half-day kept (telework or on site)."""
    annotate(ws, agent("A1"), MON, "AM", "visite chez un usager, téléphone coupé")
    annotate(ws, agent("A1"), WED, "PM", "réunion au siège")
    assert record(ws, "A1", MON, "AM")["annotation"] == "visite chez un usager, téléphone coupé"
    write_export(ws, DPO, "A1", tmp_path / "export")
    rows = {(r["date"], r["half_day"]): r for r in read_csv(tmp_path / "export" / "records.csv")}
    assert rows[(MON.isoformat(), "AM")]["annotation"] == "visite chez un usager, téléphone coupé"
    content = json.loads((tmp_path / "export" / "export.json").read_text(encoding="utf-8"))
    assert {a["text"] for a in content["annotations"]} == {
        "visite chez un usager, téléphone coupé",
        "réunion au siège",
    }
    assert [e for e in ws.audit.entries("A1") if e.action == "annotate"]


def test_d3_annotation_in_the_case_view(tmp_path: Path) -> None:
    """D3: the annotation reaches the reviewer of a case with the record it belongs to."""
    workspace = cases_mod.make(tmp_path)
    try:
        annotate(workspace, agent("VF01"), date(2026, 3, 19), "PM", "appels aux usagers")
        case_id = cases_mod.open_vf01(workspace)
        view = show_case(workspace, cases_mod.REVIEWER_ID, case_id)
        annotated = [r for r in view.records if r.annotation]
        assert [(r.date, r.half_day, r.annotation) for r in annotated] == [
            ("2026-03-19", "PM", "appels aux usagers")
        ]
    finally:
        workspace.close()


def test_d3_empty_annotation_is_refused(ws: Workspace) -> None:
    with pytest.raises(UsageError):
        annotate(ws, agent("A1"), MON, "AM", "   ")
    assert not side(ws, "A1")["annotations"]


# --- D4: disputes --------------------------------------------------------------------------------


def test_d4_dispute_freezes_the_record(ws: Workspace, tmp_path: Path) -> None:
    """D4: a contested half-day shows as ``disputed`` to the agent (and in records.csv) and is
    left out of what reports count, until it is resolved."""
    before = half_day_frame(ws, "telework", MON, MON).num_rows
    number = open_dispute(ws, agent("A1"), MON, "PM", "le VPN était en panne")
    assert record(ws, "A1", MON, "PM")["status"] == "disputed"
    assert record(ws, "A1", MON, "AM")["status"] in ("trace", "no_trace")
    frame = half_day_frame(ws, "telework", MON, MON).to_pylist()
    assert len(frame) == before - 1
    assert ("A1", "PM") not in {(r["agent_id"], r["half"]) for r in frame}
    write_export(ws, DPO, "A1", tmp_path / "e")
    rows = {(r["date"], r["half_day"]): r for r in read_csv(tmp_path / "e" / "records.csv")}
    assert rows[(MON.isoformat(), "PM")]["status"] == "disputed"
    with pytest.raises(InputError):
        open_dispute(ws, agent("A1"), MON, "PM", "encore")  # already frozen
    assert number > 0


def test_d4_resolution_by_a_named_person_is_shown_to_the_agent(
    ws: Workspace, tmp_path: Path
) -> None:
    """D4: a named person resolves the dispute with a reason; the record counts again; the agent
    is notified with the name and the reason, and sees both in the access export."""
    before = half_day_frame(ws, "telework", MON, MON).num_rows
    number = open_dispute(ws, agent("A1"), MON, "PM", "le VPN était en panne")
    paule = person("Paule Durand", "hr_reviewer")
    with pytest.raises(UsageError):
        resolve_dispute(ws, paule, number, " ")
    assert record(ws, "A1", MON, "PM")["status"] == "disputed"
    resolve_dispute(ws, paule, number, "panne confirmée par la DSI")
    assert record(ws, "A1", MON, "PM")["status"] in ("trace", "no_trace")
    assert half_day_frame(ws, "telework", MON, MON).num_rows == before
    note = side(ws, "A1")["notifications"][-1]
    assert note["kind"] == "dispute_resolved"
    assert "Paule Durand" in note["text"]
    assert "panne confirmée par la DSI" in note["text"]
    write_export(ws, DPO, "A1", tmp_path / "e")
    content = json.loads((tmp_path / "e" / "export.json").read_text(encoding="utf-8"))
    [dispute] = content["disputes"]
    assert dispute["resolved_by"] == "Paule Durand"
    assert dispute["resolution"] == "panne confirmée par la DSI"
    assert dispute["resolved_at"]
    assert any(n["kind"] == "dispute_resolved" for n in content["notifications"])
    with pytest.raises(InputError):
        resolve_dispute(ws, paule, number, "deux fois")
    resolved = [e for e in ws.audit.entries("A1") if e.action == "dispute_resolved"]
    assert [e.actor for e in resolved] == ["Paule Durand"]


# --- G1: access requests -------------------------------------------------------------------------


def status(ws: Workspace, request: int) -> tuple[str, str]:
    [clock] = [c for c in access_request_clocks(ws, DPO) if c.id == request]
    return clock.status, clock.due_on


def test_g1_access_request_clock(ws: Workspace) -> None:
    """G1: the request is open for 19 days, warns from day 20, is due on day 30 and overdue
    after."""
    asked = date(2026, 3, 31)
    request = record_access_request(ws, DPO, "A1", asked)
    due = (asked + timedelta(days=30)).isoformat()
    for days, expected in ((0, "open"), (19, "open"), (20, "warning"), (30, "warning")):
        set_now(ws, NOW + timedelta(days=days))
        assert status(ws, request) == (expected, due), days
    set_now(ws, NOW + timedelta(days=31))
    assert status(ws, request) == ("overdue", due)


def test_g1_reasoned_extension_adds_two_months(ws: Workspace) -> None:
    """G1 (art. 12(3)): an extension needs a reason and pushes the deadline by two months."""
    asked = date(2026, 3, 31)
    request = record_access_request(ws, DPO, "A1", asked)
    with pytest.raises(UsageError):
        extend_access_request(ws, DPO, request, "  ")
    assert status(ws, request)[0] == "open"
    extend_access_request(ws, DPO, request, "demande portant sur trois années de données")
    state, due = status(ws, request)
    assert state == "extended"
    extra = (date.fromisoformat(due) - asked).days - 30
    assert 59 <= extra <= 62  # two months
    set_now(ws, datetime.combine(date.fromisoformat(due), NOW.timetz()))
    assert status(ws, request)[0] == "extended"
    set_now(ws, datetime.combine(date.fromisoformat(due) + timedelta(days=1), NOW.timetz()))
    assert status(ws, request)[0] == "overdue"


def test_g1_access_export_answers_the_request(ws: Workspace, tmp_path: Path) -> None:
    """G1/G2: writing the agent's access export answers their open request (not others')."""
    mine = record_access_request(ws, DPO, "A1", date(2026, 3, 31))
    other = record_access_request(ws, DPO, "A4", date(2026, 3, 31))
    set_now(ws, NOW + timedelta(days=25))
    write_export(ws, DPO, "A1", tmp_path / "out")
    assert status(ws, mine)[0] == "answered"
    assert status(ws, other)[0] == "warning"


def test_g1_cli_lists_requests_and_warns(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """G1 from the CLI: ``rights request`` then ``rights list`` warns once day 20 is reached."""
    home = ws.paths.home
    code, out, err = cli(home, "rights", "request", "--agent", "A1", "--on", "2026-03-31")
    assert code == 0, err
    number = out.strip().splitlines()[-1]
    monkeypatch.setattr(
        "loyaute.workspace.SystemClock", lambda: FixedClock(NOW + timedelta(days=5))
    )
    code, out, err = cli(home, "rights", "list")
    assert code == 0
    assert "en cours" in out  # the status "open", labelled (issue 12)
    assert not err.strip()
    monkeypatch.setattr(
        "loyaute.workspace.SystemClock", lambda: FixedClock(NOW + timedelta(days=21))
    )
    code, out, err = cli(home, "rights", "list")
    assert code == 0
    assert "échéance proche" in out  # the status "warning", labelled
    assert err.strip()
    code, _, err = cli(home, "rights", "extend", number, "--reason", "volume")
    assert code == 0, err


# --- G3: objection -------------------------------------------------------------------------------


def vpn_monday(tmp_path: Path, name: str) -> Path:
    return write_logs(
        tmp_path / "logs", name, vpn_session("jdupont", local(MON, 9), local(MON, 10))
    )


def test_g3_objection_stops_ingest(ws: Workspace, tmp_path: Path) -> None:
    """G3: while the objection awaits a decision nothing is kept about the agent: their traces
    are dropped at ingest and counted as ``objection``."""
    object_to_processing(ws, agent("A1"), "raisons tenant à ma situation")
    report = run_ingest(ws, [vpn_monday(tmp_path, "a.log")])
    assert sum(f.dropped.get("objection", 0) for f in report.files) == 1
    assert not {r for r in stored(ws) if r[0] == "A1"}


def test_g3_objection_stops_reports(ws: Workspace) -> None:
    """G3: the agent's half-days leave what reports count."""
    before = {r["agent_id"] for r in half_day_frame(ws, "telework", MON, MON).to_pylist()}
    assert "A1" in before
    object_to_processing(ws, agent("A1"), "situation particulière")
    after = {r["agent_id"] for r in half_day_frame(ws, "telework", MON, MON).to_pylist()}
    assert after == before - {"A1"}


def test_g3_rejected_objection_resumes_processing(ws: Workspace, tmp_path: Path) -> None:
    """G3: a documented decision (reasons required) ends the pause; the agent is told."""
    objection = object_to_processing(ws, agent("A1"), "situation particulière")
    with pytest.raises(UsageError):
        decide_objection(ws, DPO, objection, "rejected", " ")
    with pytest.raises(UsageError):
        decide_objection(ws, DPO, objection, "maybe", "motifs")
    decide_objection(ws, DPO, objection, "rejected", "motifs légitimes impérieux : art. 21(1)")
    report = run_ingest(ws, [vpn_monday(tmp_path, "b.log")])
    assert sum(f.dropped.get("objection", 0) for f in report.files) == 0
    assert ("A1", MON.isoformat(), "AM", "telework", "vpn") in stored(ws)
    note = side(ws, "A1")["notifications"][-1]
    assert note["kind"] == "objection_decided"
    assert "motifs légitimes impérieux" in note["text"]
    decided = [e for e in ws.audit.entries("A1") if e.action == "objection_decided"]
    assert decided
    assert decided[-1].reason == "motifs légitimes impérieux : art. 21(1)"
    with pytest.raises(InputError):
        decide_objection(ws, DPO, objection, "upheld", "deux fois")


def test_g3_upheld_objection_keeps_processing_stopped(ws: Workspace, tmp_path: Path) -> None:
    """G3: an upheld objection stops the agent's processing for good."""
    objection = object_to_processing(ws, agent("A1"), "situation particulière")
    decide_objection(ws, DPO, objection, "upheld", "situation particulière établie")
    report = run_ingest(ws, [vpn_monday(tmp_path, "c.log")])
    assert sum(f.dropped.get("objection", 0) for f in report.files) == 1
    assert "A1" not in {r["agent_id"] for r in half_day_frame(ws, "telework", MON, MON).to_pylist()}


def test_g3_upheld_objection_is_one_decided_objection(ws: Workspace) -> None:
    """G3: an upheld objection stays one objection, decided — not a new one awaiting a decision
    that the agent and the DPO would see pending for ever — and cannot be decided again."""
    objection = object_to_processing(ws, agent("A1"), "situation particulière")
    decide_objection(ws, DPO, objection, "upheld", "situation particulière établie")
    rows = ws.db.conn.execute(
        "SELECT id, decided_on, decision FROM objections WHERE agent_id = 'A1'"
    )
    assert [(r[0], bool(r[1]), r[2]) for r in rows] == [(objection, True, "upheld")]
    with pytest.raises(LoyauteError):
        decide_objection(ws, DPO, objection, "rejected", "revirement")
    assert "A1" in ws.db.individual.objecting()


# --- H2: alerts to the DPO -----------------------------------------------------------------------


def alerts(ws: Workspace) -> list[tuple[str, str]]:
    return [(a.kind, a.actor) for a in ws.db.alerts.all()]


def test_h2_reidentification_outside_a_case_alerts_the_dpo(ws: Workspace) -> None:
    """H2/E4: trying to see who is behind a pseudonym without a case is refused, audited, and
    raises a DPO alert that ``audit alerts`` shows."""
    with pytest.raises(AccessDenied):
        individual(
            ws, person("curieux.rh", "hr_reviewer"), Action.RECORDS_VIEW, "A1", reason="pour voir"
        )
    assert ("reidentification_outside_case", "curieux.rh") in alerts(ws)
    last = list(ws.audit.entries("A1"))[-1]
    assert (last.actor, last.action) == ("curieux.rh", "refused")
    code, out, _ = cli(ws.paths.home, "audit", "alerts")
    assert code == 0
    assert "tentative de ré-identification hors dossier" in out  # its kind, labelled
    assert "curieux.rh" in out


def test_h2_repeated_refusals_alert_the_dpo(ws: Workspace) -> None:
    """H2: refused attempts by one person within 24 hours alert the DPO at ``refused_alert``
    (3 by default), not before."""
    limit = ws.settings.reports.refused_alert
    assert limit == 3
    nosy = agent("A4")
    for i in range(limit):
        assert ("repeated_refusals", nosy.login) not in alerts(ws), i
        with pytest.raises(AccessDenied):
            individual(ws, nosy, Action.OWN_VIEW, "A1", reason="curiosité")
    assert ("repeated_refusals", nosy.login) in alerts(ws)
    assert ("reidentification_outside_case", nosy.login) not in alerts(ws)
    code, out, _ = cli(ws.paths.home, "audit", "alerts")
    assert code == 0
    assert "refus d'accès répétés" in out


def test_h2_repeated_refused_case_openings_alert_the_dpo(tmp_path: Path) -> None:
    """H2: refused attempts to open a case count as refused attempts too: three in a row by the
    same person alert the DPO."""
    workspace = cases_mod.make(tmp_path)
    try:
        for _ in range(3):
            with pytest.raises(GateError):
                cases_mod.open_vf01(workspace, agent_id="VT01")  # social work: refused
        assert "repeated_refusals" in {
            k for k, a in alerts(workspace) if a == cases_mod.OPENER.login
        }
    finally:
        workspace.close()


def test_h2_bulk_individual_views_alert_the_dpo(tmp_path: Path) -> None:
    """H2: individual views by one person within 24 hours alert the DPO at ``bulk_view_alert``
    (20 by default), not before."""
    workspace = cases_mod.make(tmp_path)
    try:
        case_id = cases_mod.open_vf01(workspace)
        limit = workspace.settings.reports.bulk_view_alert
        assert limit == 20
        reviewer = cases_mod.REVIEWER_ID
        for _ in range(limit - 1):
            show_case(workspace, reviewer, case_id)
        assert ("bulk_views", reviewer.login) not in alerts(workspace)
        show_case(workspace, reviewer, case_id)
        assert ("bulk_views", reviewer.login) in alerts(workspace)
        code, out, _ = cli(workspace.paths.home, "audit", "alerts")
        assert code == 0
        assert "consultations individuelles en nombre" in out
    finally:
        workspace.close()


# --- D2: the manager's monthly statement ---------------------------------------------------------


def test_d2_statement_shows_declarations_never_traces(ws: Workspace) -> None:
    """D2/E5: the manager's statement of their agents: telework half-days and declarations, no
    trace figure. Viewing it is one audit record naming every agent shown (issue 9, finding 4),
    which each of them sees as one line; viewing validates nothing."""
    declare(ws, agent("A1"), MON, "AM", "phone")
    declare(ws, agent("A1"), TUE, "PM", "home_visit")
    declare(ws, agent("A4"), MON, "AM", "system")
    before = ws.audit.head()
    statement = show_statement(ws, manager("A3"), "2026-03")
    lines = statement.lines
    assert [r.agent_id for r in lines] == ["A1", "A2", "A4"]  # not A3, not another team
    for line in lines:
        assert set(vars(line)) == {"agent_id", "display_name", "telework_half_days", "declared"}
    by_agent = {r.agent_id: r for r in lines}
    assert by_agent["A1"].telework_half_days == 13  # six days and a Wednesday morning
    assert by_agent["A1"].declared == 2
    assert by_agent["A4"].declared == 1
    views = [e for e in ws.audit.entries() if e.seq > before]
    assert [(e.actor, e.role, e.action) for e in views] == [
        (manager("A3").login, "manager", "statement_view")
    ]
    assert views[0].details["subjects"] == ["A1", "A2", "A4"]
    for agent_id in ("A1", "A2", "A4"):
        seen = [e for e in ws.audit.entries(agent_id) if e.action == "statement_view"]
        assert len(seen) == 1, agent_id
    assert not [e for e in ws.audit.entries("A3") if e.action == "statement_view"]
    assert statement.validated_at == ""
    assert ws.db.individual.statement_validated_at("A3", "2026-03") == ""


def test_d2_viewing_twice_is_two_readable_lines_not_one_per_agent_each(ws: Workspace) -> None:
    """D2/H1: each view is one record; an agent's "who looked" list grows by one per view."""
    show_statement(ws, manager("A3"), "2026-03")
    show_statement(ws, manager("A3"), "2026-03")
    assert len([e for e in ws.audit.entries("A1") if e.action == "statement_view"]) == 2
    assert len([e for e in ws.audit.entries() if e.action == "statement_view"]) == 2


def test_d2_only_a_closed_month_can_be_validated(ws: Workspace) -> None:
    """D2 (issue 9, finding 4): the current month cannot be validated (31 March: March is not
    over), a future month is refused for viewing and validating; a closed month validates once
    the clock has moved into the next month."""
    with pytest.raises(InputError):
        validate_statement(ws, manager("A3"), "2026-03")
    for month in ("2026-04", "2027-05"):
        with pytest.raises(InputError):
            show_statement(ws, manager("A3"), month)
        with pytest.raises(InputError):
            validate_statement(ws, manager("A3"), month)
    assert ws.db.individual.statement_validated_at("A3", "2026-03") == ""
    assert not show_statement(ws, manager("A3"), "2026-03").closed
    set_now(ws, datetime(2026, 4, 1, 8, 0, tzinfo=NOW.tzinfo))  # 10:00 in Paris: April
    assert show_statement(ws, manager("A3"), "2026-03").closed
    at = validate_statement(ws, manager("A3"), "2026-03")
    assert ws.db.individual.statement_validated_at("A3", "2026-03") == at
    [entry] = [e for e in ws.audit.entries() if e.action == "statement_validate"]
    assert entry.actor == manager("A3").login
    assert entry.details["subjects"] == ["A1", "A2", "A4"]


def test_d2_the_last_evening_of_the_month_is_not_closed(ws: Workspace) -> None:
    """D2 boundary: 31 March 23:30 in Paris (21:30 UTC) is still March; 1 April 00:30 Paris
    (31 March 22:30 UTC) is April."""
    set_now(ws, datetime(2026, 3, 31, 21, 30, tzinfo=NOW.tzinfo))
    with pytest.raises(InputError):
        validate_statement(ws, manager("A3"), "2026-03")
    set_now(ws, datetime(2026, 3, 31, 22, 30, tzinfo=NOW.tzinfo))
    assert validate_statement(ws, manager("A3"), "2026-03")


def test_d2_statement_from_the_cli_has_no_trace(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """D2: the CLI statement shows declarations only — no trace column, no category — and
    ``statement show`` does not validate."""
    monkeypatch.setattr("loyaute.workspace.SystemClock", lambda: FixedClock(NOW))
    run_ingest(ws, [vpn_monday(ws.paths.home.parent, "s.log")])
    assert ("A1", MON.isoformat(), "AM", "telework", "vpn") in stored(ws)
    code, out, err = cli(
        ws.paths.home, "statement", "show", "--month", "2026-03", who=manager("A3")
    )
    assert code == 0, err
    assert "Jeanne Dupont" in out
    for word in ("trace", "vpn", "mail", "apps", "no_trace"):
        assert word not in out.lower()
    assert ws.db.individual.statement_validated_at("A3", "2026-03") == ""
    code, _, err = cli(
        ws.paths.home, "statement", "validate", "--month", "2026-03", who=manager("A3")
    )
    assert code == 1
    assert "pas terminé" in err


def test_d2_statement_refusals(ws: Workspace) -> None:
    """E5: an agent's account (A1 manages nobody) is refused; a malformed month is usage."""
    with pytest.raises(AccessDenied):
        show_statement(ws, agent("A1"), "2026-03")
    with pytest.raises(UsageError):
        show_statement(ws, manager("A3"), "mars")
