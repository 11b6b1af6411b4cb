"""Individual review cases (rules D5, D6, E1, E4, F4): never systematic, always human.

A base workspace where a case on a finance agent opens, and one test per condition that, alone
failing, refuses it. The families: finances (10 agents, coverage 0.90: reliable), administratif
(10, 0.895: unreliable), encadrement (3: suppressed in the study, reliability not established),
travail_social and technique (10 each, not eligible; technique fully covered). The clock stands
on 20 April 2026; records are those of ISO weeks 10 to 15.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.config import load_settings
from loyaute.demo.runner import DemoSummary, run_demo
from loyaute.errors import GateError, InputError, UsageError
from loyaute.i18n import lang, set_lang
from loyaute.ingest.engine import LocalEngine
from loyaute.policy.access import AccessDenied
from loyaute.policy.cases import answer_case, close_case, export_case, open_case, show_case
from loyaute.policy.gates import fingerprint
from loyaute.policy.notices import record_notices
from loyaute.policy.register import load_register
from loyaute.policy.retention import purge
from loyaute.policy.rights import (
    agent_side,
    annotate,
    decide_objection,
    declare,
    object_to_processing,
)
from loyaute.reports.agent_view import RECORD_COLUMNS, agent_records
from loyaute.reports.runner import NO_PROOF
from loyaute.reports.validity import family_reliability
from loyaute.templates import register_toml
from loyaute.workspace import Workspace
from tests.reports import test_validity as study
from tests.reports.test_presence import NOW, START, build, team

PEOPLE = [*study.PEOPLE, *team("VQ", 10, "Routes", "technique")]
DAYS = [START + timedelta(weeks=w, days=d) for w in range(6) for d in (0, 3)]  # Mon, Thu
TELEWORK = [(p.agent_id, d, h) for p in PEOPLE for d in DAYS for h in ("AM", "PM")]
TRACES = [t for t in TELEWORK if not (t[2] == "PM" and t[1].weekday() == 3)]
VQ_ON_SITE = [
    (p.agent_id, d, h)
    for p in PEOPLE
    if p.family == "technique"
    for d in study.ON_SITE_DAYS
    for h in ("AM", "PM")
]
ON_SITE = study.ON_SITE + VQ_ON_SITE
MAIL = study.MAIL + VQ_ON_SITE

FROM, TO = date(2026, 3, 16), date(2026, 3, 27)  # ISO weeks 12 and 13
REVIEWER = "claire.rh"
REASON = "Réclamation précise d'un usager sur la permanence téléphonique du 19 mars"


def make(root: Path, **kw: Any) -> Workspace:
    return build(root, PEOPLE, TELEWORK, TRACES, on_site=ON_SITE, on_site_mail=MAIL, **kw)


def rewrite_register(
    home: Path,
    purpose: dict[str, Any] | None = None,
    validity_study: dict[str, Any] | None = None,
    refingerprint: bool = True,
) -> None:
    """Change register.toml as the DPO would; ``refingerprint`` records a new committee opinion
    on the changed configuration (A4), else the opinion is left on the old one."""
    settings = load_settings(home / "loyaute.toml")
    register = load_register(home / "register.toml")
    register = register.model_copy(
        update={
            "purpose": register.purpose.model_copy(update=purpose or {}),
            "validity_study": register.validity_study.model_copy(update=validity_study or {}),
        }
    )
    if refingerprint:
        register = register.model_copy(
            update={
                "purpose": register.purpose.model_copy(
                    update={"committee_config_fingerprint": fingerprint(settings, register)}
                )
            }
        )
    (home / "register.toml").write_text(register_toml(register), encoding="utf-8")


def reopen(ws: Workspace, now: datetime = NOW) -> Workspace:
    home = ws.paths.home
    ws.close()
    return Workspace.open(home, FixedClock(now))


def open_vf01(ws: Workspace, **kw: Any) -> int:
    args: dict[str, Any] = {
        "opened_by": "drh.chef",
        "agent_id": "VF01",
        "reviewer": REVIEWER,
        "reason": REASON,
        "day_from": FROM,
        "day_to": TO,
    }
    args.update(kw)
    return open_case(ws, **args)


def cases(ws: Workspace) -> int:
    return int(ws.state.execute("SELECT COUNT(*) FROM cases").fetchone()[0])


def assert_refused(ws: Workspace, marker: str, **kw: Any) -> str:
    """The case is refused with ``marker`` in the reason, nothing is opened, and the refusal is
    audited."""
    before = cases(ws)
    with pytest.raises(GateError) as info:
        open_vf01(ws, **kw)
    assert marker in str(info.value), str(info.value)
    assert cases(ws) == before
    last = list(ws.audit.entries())[-1]
    assert (last.action, last.agent_id) == ("refused", kw.get("agent_id", "VF01"))
    assert last.details == {"attempted": "case_open"}
    return str(info.value)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """Refusal tests that change nothing share this workspace."""
    ws = make(tmp_path_factory.mktemp("base"))
    yield ws
    ws.close()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Workspace]:
    ws = make(tmp_path)
    yield ws
    ws.close()


@pytest.fixture(autouse=True)
def french() -> Iterator[None]:
    """Messages in French (the default), whatever an earlier ``--lang`` did; restored after."""
    before = lang()
    set_lang("fr")
    yield
    set_lang(before)


# --- opening: every condition, one at a time (D5, E1, B5, G3, A1–A5) ----------------------------


def test_d5_case_opens_when_every_condition_holds(fresh: Workspace) -> None:
    """D5/F4: with every gate holding, cross-check mode, a period after T0, an eligible and
    reliable family: the case opens, names its reviewer, reason and period, notifies the agent,
    holds the period's records (owner and expiry) and is audited."""
    case_id = open_vf01(fresh)
    row = dict(fresh.state.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone())
    assert (row["agent_id"], row["reviewer"], row["reason"]) == ("VF01", REVIEWER, REASON)
    assert (row["day_from"], row["day_to"]) == (FROM.isoformat(), TO.isoformat())
    assert row["closed_at"] == ""
    notes = [n for n in agent_side(fresh, "VF01")["notifications"] if n["kind"] == "case_opened"]
    assert len(notes) == 1
    for text in (REVIEWER, FROM.isoformat(), TO.isoformat(), f"{case_id}"):
        assert text in notes[0]["text"]
    assert not agent_side(fresh, "VF02")["notifications"]
    holds = [dict(r) for r in fresh.state.execute("SELECT * FROM holds")]
    assert len(holds) == 1
    hold = holds[0]
    assert hold["agent"] == fresh.pseudonymizer.pseudonym("VF01")
    assert (hold["day_from"], hold["day_to"]) == (FROM.isoformat(), TO.isoformat())
    assert hold["owner"] == REVIEWER
    assert hold["expires_on"]  # F4: no hold without expiry
    assert date.fromisoformat(hold["expires_on"]) > NOW.date()
    entry = [e for e in fresh.audit.entries("VF01") if e.action == "case_open"]
    assert entry
    assert entry[-1].reason == REASON


def test_d5_empty_reason_or_reviewer_is_refused(base: Workspace) -> None:
    """D5: a case names a reviewer and a written reason."""
    before = cases(base)
    with pytest.raises(UsageError):
        open_vf01(base, reason="   ")
    with pytest.raises(UsageError):
        open_vf01(base, reviewer="")
    assert cases(base) == before


GATE_FAILURES = [
    ({"registered_on": ""}, "A1"),
    ({"dpia_dpo_opinion": ""}, "A2"),
    ({"committee_minutes_ref": ""}, "A4"),
]


@pytest.mark.parametrize(("update", "gate"), GATE_FAILURES)
def test_e1_case_refused_while_a_gate_fails(
    tmp_path: Path, update: dict[str, Any], gate: str
) -> None:
    """E1: no individual output unless every A gate holds; the refusal names the gate."""
    ws = make(tmp_path)
    rewrite_register(ws.paths.home, purpose=update)
    ws = reopen(ws)
    try:
        with pytest.raises(GateError) as info:
            open_vf01(ws)
        assert gate in str(info.value)
        assert cases(ws) == 0
    finally:
        ws.close()


@pytest.mark.parametrize(("update", "gate"), GATE_FAILURES)
def test_h1_case_refused_by_a_gate_is_audited(
    tmp_path: Path, update: dict[str, Any], gate: str
) -> None:
    """H1/H2: a refused attempt at a case action is written to the audit log like the other
    refusals of ``case open`` (which are), so that repeated attempts can alert the DPO."""
    ws = make(tmp_path)
    rewrite_register(ws.paths.home, purpose=update)
    ws = reopen(ws)
    try:
        with pytest.raises(GateError):
            open_vf01(ws)
        last = list(ws.audit.entries())[-1]
        assert (last.actor, last.action, last.agent_id) == ("drh.chef", "refused", "VF01"), gate
    finally:
        ws.close()


def test_a4_configuration_changed_since_the_committee_opinion(tmp_path: Path) -> None:
    """A4/E1: a new eligible job family changes the configuration fingerprint; until a new
    committee opinion is recorded on it, no case opens, and the refusal says why."""
    ws = make(tmp_path)
    rewrite_register(
        ws.paths.home,
        purpose={
            "eligible_job_families": [
                *ws.register.purpose.eligible_job_families,
                "technique",
            ]
        },
        refingerprint=False,
    )
    ws = reopen(ws)
    try:
        with pytest.raises(GateError) as info:
            open_vf01(ws)
        assert "A4" in str(info.value)
        assert cases(ws) == 0
    finally:
        ws.close()
    # the control: the same change with a new opinion on it lets the case open
    ws = make(tmp_path / "again")
    rewrite_register(
        ws.paths.home,
        purpose={
            "eligible_job_families": [*ws.register.purpose.eligible_job_families, "technique"]
        },
    )
    ws = reopen(ws)
    try:
        assert open_vf01(ws) > 0
    finally:
        ws.close()


def test_d2_no_case_in_declarative_mode(tmp_path: Path) -> None:
    """D2: declarative mode (the default) uses no trace for review: no case opens."""
    ws = make(tmp_path, mode="declarative")
    try:
        assert_refused(ws, "D2")
    finally:
        ws.close()


def test_e1_period_before_the_agents_t0_is_refused(base: Workspace) -> None:
    """E1/A5: the period must start on or after the agent's own T0 (their notice date)."""
    assert_refused(base, "T0", day_from=START - timedelta(days=1), day_to=TO)


def test_e1_period_before_a_late_notice_is_refused(fresh: Workspace) -> None:
    """E1/A5: an agent who received the notice late has a later T0; a period starting before it
    is refused although it is after every common date, and a period after it opens."""
    record_notices(fresh, date(2026, 3, 18), ["VF01"], actor="test")
    assert_refused(fresh, "T0", day_from=FROM, day_to=TO)
    assert open_vf01(fresh, day_from=date(2026, 3, 18), day_to=TO) > 0


def test_case_period_in_the_future_is_refused(base: Workspace) -> None:
    """D5: a case looks at what happened, never at days to come."""
    assert_refused(base, "avenir", day_from=FROM, day_to=NOW.date() + timedelta(days=1))
    assert_refused(
        base,
        "avenir",
        day_from=NOW.date() + timedelta(days=1),
        day_to=NOW.date() + timedelta(days=2),
    )


def test_b5_ineligible_family_is_refused(base: Workspace) -> None:
    """B5: a family outside the eligible ones is never reviewed, even when the study finds its
    traces reliable (technique: full coverage)."""
    message = assert_refused(base, "B5", agent_id="VQ01")
    assert "non fiable" not in message
    assert "unreliable" not in message


def test_unreliable_family_is_refused(base: Workspace) -> None:
    """The validity study found the administratif family unreliable (0.895 < 0.90): its agents
    cannot be put in a review case."""
    message = assert_refused(base, "administratif", agent_id="VA01")
    assert "B5" not in message
    assert "fiab" in message or "reliab" in message


def test_family_without_established_reliability_is_refused(base: Workspace) -> None:
    """A family the study could not measure (3 managers, suppressed) is not reliable either."""
    assert_refused(base, "encadrement", agent_id="VE01")


def test_social_work_is_refused(base: Workspace) -> None:
    """B5 and the study: social work is neither eligible nor reliable."""
    message = assert_refused(base, "B5", agent_id="VT01")
    assert "travail_social" in message


def test_no_case_without_the_validity_study(tmp_path: Path) -> None:
    """Without the validity study no family's reliability is established: no case opens."""
    ws = make(tmp_path, validity=False)
    try:
        assert_refused(ws, "finances")
    finally:
        ws.close()


def test_g3_pending_objection_blocks_the_case(fresh: Workspace) -> None:
    """G3: while the agent's objection awaits a decision, no case opens; once it is rejected by a
    documented decision, it may."""
    # The validity study is published first, as it is in use; a frozen study does not move when
    # one agent objects (E3), so the family's reliability survives the objection.
    assert family_reliability(fresh)["finances"] is True
    objection = object_to_processing(fresh, "VF01", "situation familiale")
    assert_refused(fresh, "G3")
    decide_objection(fresh, objection, "rejected", "motifs légitimes impérieux", by="dpo")
    assert open_vf01(fresh) > 0


# --- showing, answering, closing (E4, D3, D5, D6) ---------------------------------------------


@pytest.fixture
def opened(fresh: Workspace) -> tuple[Workspace, int]:
    annotate(fresh, "VF01", date(2026, 3, 19), "PM", "appels aux usagers toute l'après-midi")
    annotate(fresh, "VF01", date(2026, 3, 2), "AM", "hors période")
    declare(fresh, "VF01", date(2026, 3, 23), "AM", "phone", "permanence")
    return fresh, open_vf01(fresh)


def test_e4_reviewer_sees_the_agent_reidentified_for_the_period_only(
    opened: tuple[Workspace, int],
) -> None:
    """E4: the case's reviewer sees the agent's name and only the case's period; D3: the agent's
    annotation travels with the record; D2: the declaration too."""
    ws, case_id = opened
    view = show_case(ws, case_id, REVIEWER)
    assert view.agent["display_name"] == "Agent VF01 Nommé"
    assert view.agent["agent_id"] == "VF01"
    assert view.records
    assert all(FROM.isoformat() <= r.date <= TO.isoformat() for r in view.records)
    everything = agent_records(ws, "VF01")
    assert any(r.date < FROM.isoformat() for r in everything)  # there was more to show
    rows = {(r.date, r.half_day, r.scheduled): r for r in view.records}
    assert rows[("2026-03-19", "PM", "telework")].annotation == (
        "appels aux usagers toute l'après-midi"
    )
    assert rows[("2026-03-19", "PM", "telework")].status == "no_trace"
    assert rows[("2026-03-23", "AM", "telework")].declaration.startswith("phone")
    assert rows[("2026-03-16", "AM", "telework")].status == "trace"
    assert "hors période" not in json.dumps([r.as_dict() for r in view.records])


def test_e4_every_view_is_audited(opened: tuple[Workspace, int]) -> None:
    """E4/H1: each view by the reviewer is an audit entry with the case and its reason."""
    ws, case_id = opened
    for _ in range(3):
        show_case(ws, case_id, REVIEWER)
    views = [e for e in ws.audit.entries("VF01") if e.action == "case_view"]
    assert len(views) == 3
    assert all(e.actor == REVIEWER and e.details.get("case") == case_id for e in views)
    assert all(e.reason == REASON for e in views)


@pytest.mark.parametrize(("actor", "role"), [("autre.rh", "hr_reviewer"), ("dpo", "dpo")])
def test_e4_nobody_else_sees_the_case(opened: tuple[Workspace, int], actor: str, role: str) -> None:
    """E4: anyone but the case's reviewer — another HR reviewer, the DPO — is refused, and the
    refusal is audited against the agent."""
    ws, case_id = opened
    with pytest.raises(AccessDenied):
        show_case(ws, case_id, actor, role)
    last = list(ws.audit.entries())[-1]
    assert (last.actor, last.action, last.agent_id) == (actor, "refused", "VF01")
    assert not [e for e in ws.audit.entries("VF01") if e.action == "case_view"]


def test_e5_an_operator_sees_no_case_even_when_named_reviewer(fresh: Workspace) -> None:
    """E5: IT operators run ingestion but see no activity data — being named reviewer of a case
    does not change what their role may see."""
    case_id = open_vf01(fresh, reviewer="it.ops")
    with pytest.raises(AccessDenied):
        show_case(fresh, case_id, "it.ops", "operator")
    assert not [e for e in fresh.audit.entries("VF01") if e.action == "case_view"]


def test_e1_case_view_refused_when_a_gate_fails_after_opening(
    opened: tuple[Workspace, int],
) -> None:
    """E1/A4: a configuration change after the case opened blocks the view until a new opinion."""
    ws, case_id = opened
    rewrite_register(ws.paths.home, purpose={"k_min": 11}, refingerprint=False)
    ws2 = reopen(ws)
    try:
        with pytest.raises(AccessDenied) as info:
            show_case(ws2, case_id, REVIEWER)
        assert "A4" in str(info.value)
    finally:
        ws2.close()


def test_d5_agent_answers_before_the_decision(opened: tuple[Workspace, int]) -> None:
    """D5: the agent answers; the reviewer sees the answer; nobody else can answer for them."""
    ws, case_id = opened
    answer_case(ws, case_id, "VF01", "J'assurais la permanence téléphonique ce jour-là.")
    assert [a["text"] for a in show_case(ws, case_id, REVIEWER).answers] == [
        "J'assurais la permanence téléphonique ce jour-là."
    ]
    with pytest.raises(InputError):
        answer_case(ws, case_id, "VF02", "ce n'est pas mon dossier")
    with pytest.raises(UsageError):
        answer_case(ws, case_id, "VF01", "  ")


def test_d6_close_records_a_human_decision_with_its_evidence(
    opened: tuple[Workspace, int],
) -> None:
    """D6: closing records who decided, the outcome, and the evidence bundle: the period's
    records, annotations, declarations, the agent's answers, the access log and the statement;
    the agent is notified; F4: the hold now lasts for the appeal period."""
    ws, case_id = opened
    answer_case(ws, case_id, "VF01", "Permanence téléphonique.")
    show_case(ws, case_id, REVIEWER)
    bundle = close_case(ws, case_id, REVIEWER, "Aucune suite : activité attestée par l'agent.")
    assert bundle["decided_by"] == REVIEWER
    assert bundle["outcome"] == "Aucune suite : activité attestée par l'agent."
    assert bundle["records"]
    assert all(FROM.isoformat() <= r["date"] <= TO.isoformat() for r in bundle["records"])
    assert [a["text"] for a in bundle["annotations"]] == ["appels aux usagers toute l'après-midi"]
    assert [(d["day"], d["kind"]) for d in bundle["declarations"]] == [("2026-03-23", "phone")]
    assert [a["text"] for a in bundle["answers"]] == ["Permanence téléphonique."]
    actions = [e["action"] for e in bundle["access_log"]]
    assert "case_open" in actions
    assert "case_view" in actions
    assert bundle["statement"] in NO_PROOF
    stored = ws.state.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
    assert stored["closed_at"]
    assert json.loads(stored["evidence"]) == bundle
    kinds = [n["kind"] for n in agent_side(ws, "VF01")["notifications"]]
    assert kinds == ["case_opened", "case_closed"]
    hold = ws.state.execute("SELECT expires_on FROM holds WHERE case_id = ?", (case_id,)).fetchone()
    appeal = ws.settings.reports.appeal_period_days
    assert hold[0] == (NOW.date() + timedelta(days=appeal)).isoformat()
    # a decision is taken once; after it the agent can no longer answer
    with pytest.raises(InputError):
        close_case(ws, case_id, REVIEWER, "autre décision")
    with pytest.raises(InputError):
        answer_case(ws, case_id, "VF01", "trop tard")


def test_d6_only_the_reviewer_decides_and_in_writing(opened: tuple[Workspace, int]) -> None:
    """D6: another person cannot close the case; an empty outcome is no decision."""
    ws, case_id = opened
    with pytest.raises(AccessDenied):
        close_case(ws, case_id, "autre.rh", "sanction")
    with pytest.raises(UsageError):
        close_case(ws, case_id, REVIEWER, " ")
    assert (
        ws.state.execute("SELECT closed_at FROM cases WHERE id = ?", (case_id,)).fetchone()[0] == ""
    )


def test_d6_agent_exports_the_case_file(opened: tuple[Workspace, int], tmp_path: Path) -> None:
    """D6: the agent exports the case in full (decision and evidence); another agent cannot."""
    ws, case_id = opened
    close_case(ws, case_id, REVIEWER, "Aucune suite.")
    path = export_case(ws, case_id, tmp_path / "out", "VF01", "agent", own_agent_id="VF01")
    content = json.loads(path.read_text(encoding="utf-8"))
    assert content["case"]["outcome"] == "Aucune suite."
    assert content["evidence"]["records"]
    assert content["evidence"]["annotations"]
    actions = [e.action for e in ws.audit.entries("VF01")]
    assert "case_close" in actions
    assert "case_export" in actions
    with pytest.raises(AccessDenied):
        export_case(ws, case_id, tmp_path / "other", "VF02", "agent", own_agent_id="VF02")
    assert not (tmp_path / "other").exists()


# --- holds and retention (F4) ------------------------------------------------------------------


def held_days(ws: Workspace, agent_id: str) -> set[str]:
    pseudonym = ws.pseudonymizer.pseudonym(agent_id)
    return {
        r["day"].isoformat()
        for r in ws.activity.read("records").to_pylist()
        if r["agent"] == pseudonym
    }


def test_f4_hold_keeps_the_case_records_past_retention_then_expires(tmp_path: Path) -> None:
    """F4: March records expire on 2 May (F2); the case's records are kept past that while the
    case is open, and after closing until the appeal period ends; then they are purged."""
    ws = make(tmp_path)
    case_id = open_vf01(ws)
    in_period = {d.isoformat() for d in DAYS if FROM <= d <= TO} | {
        d.isoformat() for d in study.ON_SITE_DAYS if FROM <= d <= TO
    }
    assert in_period <= held_days(ws, "VF01")

    may = datetime(2026, 5, 10, 12, 0, tzinfo=NOW.tzinfo)
    ws = reopen(ws, may)
    purge(ws, actor="test")
    kept = held_days(ws, "VF01")
    assert in_period <= kept  # held
    assert "2026-03-02" not in kept  # VF01's own days outside the period: purged
    assert not {d for d in held_days(ws, "VF02") if d < "2026-04"}  # nobody else's March
    view = show_case(ws, case_id, REVIEWER)  # the reviewer still sees the whole period
    assert {r.date for r in view.records} == in_period
    close_case(ws, case_id, REVIEWER, "Aucune suite.")
    appeal_end = may.date() + timedelta(days=ws.settings.reports.appeal_period_days)

    ws = reopen(ws, datetime.combine(appeal_end, may.timetz()))
    purge(ws, actor="test")
    assert in_period <= held_days(ws, "VF01")  # the last day of the appeal period

    ws = reopen(ws, datetime.combine(appeal_end + timedelta(days=1), may.timetz()))
    try:
        purge(ws, actor="test")
        assert held_days(ws, "VF01") == set()
        assert ws.state.execute("SELECT COUNT(*) FROM holds").fetchone()[0] == 0
    finally:
        ws.close()


# --- the whole lifecycle from the CLI, on the demo Département ---------------------------------

DEMO_NOW = datetime(2026, 3, 20, 17, 0, tzinfo=NOW.tzinfo)
REPORT_NOW = DEMO_NOW + timedelta(days=14)
"""Two weeks on: the demo\'s weeks are closed (settle_days) and its validity study published."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    home = tmp_path_factory.mktemp("demo") / "home"
    return run_demo(
        home, agents=60, weeks=2, seed=5, clock=FixedClock(DEMO_NOW), engine=LocalEngine(1)
    )


def demo_agent(demo: DemoSummary, family: str, skip: int = 0) -> str:
    """An agent of ``family`` whose notice was on time and who has telework half-days."""
    found = [
        a.agent_id
        for a in demo.data.agents
        if a.job_family == family
        and a.agent_id not in demo.late_notices
        and any(demo.data.codes[(a.agent_id, d)] == "TLT" for d in demo.data.days)
    ]
    return found[skip]


def cli(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--home", str(home), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def demo_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("loyaute.workspace.SystemClock", lambda: FixedClock(REPORT_NOW))


def test_d5_case_opens_on_the_demo_for_an_eligible_reliable_agent(demo: DemoSummary) -> None:
    """D5 on the demo: an administratif agent (eligible, reliable) can be put in a case; a social
    worker cannot."""
    ws = Workspace.open(demo.home, FixedClock(REPORT_NOW))
    try:
        first, last = demo.data.days[0], demo.data.days[-1]
        agent = demo_agent(demo, "administratif", skip=1)
        case_id = open_case(ws, "drh", agent, "rh.demo", "réclamation", first, last)
        assert any(n["kind"] == "case_opened" for n in agent_side(ws, agent)["notifications"])
        assert ws.state.execute("SELECT 1 FROM holds WHERE case_id = ?", (case_id,)).fetchone()
        with pytest.raises(GateError):
            open_case(ws, "drh", demo_agent(demo, "travail_social"), "rh.demo", "x", first, last)
    finally:
        ws.close()


def test_cli_full_case_lifecycle_on_the_demo(
    demo: DemoSummary, demo_clock: None, tmp_path: Path
) -> None:
    """D5, D6, E4 from the command line on the demo workspace: open (the number alone on the
    last line) → show --format csv (agent_id then the records.csv columns, the period only) →
    the agent answers → close → the agent exports the case file."""
    home = demo.home
    agent = demo_agent(demo, "administratif")
    first, last = demo.data.days[0], demo.data.days[-1]
    code, out, err = cli(
        home,
        "case",
        "open",
        "--agent",
        agent,
        "--reviewer",
        "rh.demo",
        "--reason",
        "Réclamation d'un usager",
        "--from",
        first.isoformat(),
        "--to",
        last.isoformat(),
        "--actor",
        "drh",
    )
    assert code == 0, err
    number = out.strip().splitlines()[-1]
    assert number.isdigit()

    code, out, err = cli(
        home, "case", "show", number, "--format", "csv", "--actor", "rh.demo", "--as", "hr_reviewer"
    )
    assert code == 0, err
    reader = csv.DictReader(io.StringIO(out))
    assert reader.fieldnames == ["agent_id", *RECORD_COLUMNS]
    assert list(RECORD_COLUMNS) == [
        "date",
        "half_day",
        "scheduled",
        "status",
        "categories",
        "declaration",
        "annotation",
    ]
    rows = list(reader)
    assert rows
    assert {r["agent_id"] for r in rows} == {agent}
    assert all(first.isoformat() <= r["date"] <= last.isoformat() for r in rows)
    assert {r["status"] for r in rows} <= {"trace", "no_trace", "disputed", "out_of_scope"}

    code, _, err = cli(home, "case", "show", number, "--actor", "quelqu.un", "--as", "hr_reviewer")
    assert code == 1
    assert err

    code, _, err = cli(
        home, "case", "answer", number, "--agent", agent, "--text", "J'étais en réunion."
    )
    assert code == 0, err
    code, _, err = cli(
        home, "case", "close", number, "--outcome", "Aucune suite.", "--actor", "rh.demo"
    )
    assert code == 0, err
    code, out, err = cli(
        home, "case", "export", number, "--out", str(tmp_path / "case"), "--agent", agent
    )
    assert code == 0, err
    content = json.loads((tmp_path / "case" / f"case-{number}.json").read_text(encoding="utf-8"))
    assert content["evidence"]["outcome"] == "Aucune suite."
    assert [a["text"] for a in content["evidence"]["answers"]] == ["J'étais en réunion."]
    assert content["evidence"]["records"]


def test_cli_case_open_refused_for_social_work(demo: DemoSummary, demo_clock: None) -> None:
    """The CLI refuses (exit 1, one line on stderr) a case on an unreliable, ineligible family."""
    first, last = demo.data.days[0], demo.data.days[-1]
    code, out, err = cli(
        demo.home,
        "case",
        "open",
        "--agent",
        demo_agent(demo, "travail_social"),
        "--reviewer",
        "rh.demo",
        "--reason",
        "x",
        "--from",
        first.isoformat(),
        "--to",
        last.isoformat(),
    )
    assert code == 1
    assert "travail_social" in err
    assert not out.strip().splitlines() or not out.strip().splitlines()[-1].isdigit()


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_i2_case_show_states_the_limits_in_every_format(
    demo: DemoSummary, demo_clock: None, fmt: str
) -> None:
    """I2: a case view is an individual export; whatever its format, it states that a missing
    digital trace does not establish absence of work (on stderr for CSV, so stdout stays CSV)."""
    ws = Workspace.open(demo.home, FixedClock(REPORT_NOW))
    try:
        case_id = open_case(
            ws,
            "drh",
            demo_agent(demo, "administratif", skip=2),
            "rh.i2",
            "réclamation",
            demo.data.days[0],
            demo.data.days[-1],
        )
    finally:
        ws.close()
    code, out, err = cli(
        demo.home, "case", "show", str(case_id), "--format", fmt, "--actor", "rh.i2"
    )
    assert code == 0, err
    assert " ".join(NO_PROOF[0].split()) in " ".join((out + " " + err).split())
