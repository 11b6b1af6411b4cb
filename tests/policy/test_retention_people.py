"""Every kind of record loyaute keeps has a period and an automatic purge (issue 11; rules
F4, G1, G3, D5, D6): closed cases with their evidence bundle and answers, notifications,
objections, access requests, statement validations, DPO alerts, accounts, sessions and tokens.
Each is purged one day after its period and kept one day before; what an open case, an
unanswered request, a pending objection or an appeal hold needs is never purged.

Records are written through the repositories at chosen instants, then the workspace is opened
on a later fixed clock and ``purge`` runs, as it does before every ingest and report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from loyaute.accounts import create_account, issue_token
from loyaute.clock import FixedClock
from loyaute.policy.retention import TOKEN_KEEP_DAYS, first_statement_month_kept, purge
from loyaute.policy.roles import Identity, Role
from loyaute.workspace import Workspace
from tests.builders import NOW, PASSWORD, SYSTEM, make_workspace

DAY = timedelta(days=1)


def iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


def purge_at(home: Path, when: datetime) -> tuple[Workspace, dict[str, int]]:
    """Open the workspace at ``when``, purge, and hand it back (the caller closes it)."""
    ws = Workspace.open(home, FixedClock(when))
    report = purge(ws, who=SYSTEM)
    return ws, dict(report.removed)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    ws = make_workspace(tmp_path)
    path = ws.paths.home
    ws.close()
    return path


def write(home: Path, action: Callable[[Workspace], object]) -> None:
    with Workspace.open(home, FixedClock(NOW)) as ws, ws.db.transaction():
        action(ws)


def closed_case(ws: Workspace, agent_id: str = "A1", closed: datetime = NOW) -> int:
    """A case opened and closed at ``closed``, with an answer and an evidence bundle; its
    appeal hold already expired."""
    case_id = ws.db.cases.open(
        agent_id,
        "rh.test",
        "motif",
        date(2026, 3, 2),
        date(2026, 3, 6),
        iso(closed),
        "rh.test",
        closed.date(),
    )
    ws.db.cases.answer(case_id, iso(closed), "ma réponse")
    ws.db.cases.close(case_id, iso(closed), "sans suite", '{"records": []}', "rh.test")
    return case_id


# --- cases, their evidence bundle and the agent's answers -------------------------------------


@pytest.mark.parametrize(("offset", "kept"), [(-1, True), (1, False)])
def test_f_closed_case_with_evidence_and_answers_boundary(
    home: Path, offset: int, kept: bool
) -> None:
    """A closed case, its evidence bundle and the agent's answer are kept
    ``case_retention_days`` after closing (365 by default), then purged together."""
    write(home, closed_case)
    ws, removed = purge_at(home, NOW + (365 + offset) * DAY)
    try:
        assert bool(ws.db.cases.of_agent("A1")) is kept
        count = ws.db.conn.execute("SELECT COUNT(*) FROM case_answers").fetchone()[0]
        assert (count == 1) is kept
    finally:
        ws.close()
    if not kept:
        assert removed["cases_expired"] == 1
        assert removed["evidence_expired"] == 1
        assert removed["case_answers_expired"] == 1


def test_f4_an_open_case_is_never_purged_and_a_held_one_waits_for_its_hold(home: Path) -> None:
    """An open case stays however old; a closed case whose appeal hold still runs stays until
    the hold expires."""

    def seed(ws: Workspace) -> None:
        ws.db.cases.open(
            "A2",
            "rh.test",
            "ouvert",
            date(2026, 3, 2),
            date(2026, 3, 6),
            iso(NOW),
            "rh.test",
            NOW.date(),
        )
        held = closed_case(ws, "A4")
        ws.db.cases.hold("p", date(2026, 3, 2), date(2026, 3, 6), "rh.test", date(2027, 6, 1), held)

    write(home, seed)
    ws, _ = purge_at(home, NOW + 400 * DAY)
    try:
        assert ws.db.cases.of_agent("A2")
        assert ws.db.cases.of_agent("A4")
    finally:
        ws.close()
    ws, removed = purge_at(home, datetime(2027, 6, 3, 8, tzinfo=NOW.tzinfo))
    try:
        assert ws.db.cases.of_agent("A2")  # still open
        assert not ws.db.cases.of_agent("A4")
        assert removed["cases_expired"] == 1
    finally:
        ws.close()


def test_g1_an_unanswered_request_keeps_everything_about_the_agent(home: Path) -> None:
    """While an access request waits for its answer, nothing about the agent is purged: their
    old case, notifications and rejected objection stay; answered, they go."""

    def seed(ws: Workspace) -> None:
        closed_case(ws, "A1")
        ws.db.individual.notify("A1", iso(NOW), "case_closed", "clos")
        number = ws.db.individual.object("A1", "motif", iso(NOW))
        ws.db.individual.decide_objection(number, iso(NOW), "rejected", "motif")
        ws.db.individual.request_access("A1", NOW.date())

    write(home, seed)
    later = NOW + 500 * DAY
    ws, _ = purge_at(home, later)
    try:
        assert ws.db.cases.of_agent("A1")
        assert ws.db.individual.notifications_of("A1")
        assert ws.db.individual.objections_of("A1")
        ws.db.individual.answer_access_requests("A1", later.date())
    finally:
        ws.close()
    ws, removed = purge_at(home, later + DAY)
    try:
        assert not ws.db.cases.of_agent("A1")
        assert not ws.db.individual.notifications_of("A1")
        assert not ws.db.individual.objections_of("A1")
        assert len(ws.db.individual.access_requests()) == 1  # answered yesterday: kept
    finally:
        ws.close()
    assert removed["cases_expired"] == 1


# --- notifications, objections, access requests, statements ------------------------------------


@pytest.mark.parametrize(("offset", "kept"), [(-1, True), (1, False)])
def test_f_notifications_boundary(home: Path, offset: int, kept: bool) -> None:
    """Messages to an agent are kept ``notification_retention_days`` (365)."""
    write(home, lambda ws: ws.db.individual.notify("A1", iso(NOW), "case_opened", "ouvert"))
    ws, _ = purge_at(home, NOW + (365 + offset) * DAY)
    try:
        assert bool(ws.db.individual.notifications_of("A1")) is kept
    finally:
        ws.close()


@pytest.mark.parametrize(("offset", "kept"), [(-1, True), (1, False)])
def test_g3_rejected_objection_boundary_pending_and_upheld_stay(
    home: Path, offset: int, kept: bool
) -> None:
    """A rejected objection goes ``objection_retention_days`` (365) after its decision; a
    pending one never goes, and an upheld one stays while the agent is in the directory (it is
    what stops their processing)."""

    def seed(ws: Workspace) -> None:
        rejected = ws.db.individual.object("A1", "motif", iso(NOW))
        ws.db.individual.decide_objection(rejected, iso(NOW), "rejected", "motif")
        upheld = ws.db.individual.object("A4", "motif", iso(NOW))
        ws.db.individual.decide_objection(upheld, iso(NOW), "upheld", "motif")

    write(home, seed)
    ws, _ = purge_at(home, NOW + (365 + offset) * DAY)
    try:
        assert bool(ws.db.individual.objections_of("A1")) is kept
        assert ws.db.individual.objections_of("A4")
        assert "A4" in ws.db.individual.objecting()
    finally:
        ws.close()


def test_g3_a_pending_objection_is_never_purged(home: Path) -> None:
    write(home, lambda ws: ws.db.individual.object("A2", "motif", iso(NOW)))
    ws, _ = purge_at(home, NOW + 1000 * DAY)
    try:
        assert ws.db.individual.pending_objections()
    finally:
        ws.close()


@pytest.mark.parametrize(("offset", "kept"), [(-1, True), (1, False)])
def test_g1_answered_access_request_boundary(home: Path, offset: int, kept: bool) -> None:
    """An answered request is kept ``access_request_retention_days`` (365) after its answer; an
    unanswered one is never purged."""

    def seed(ws: Workspace) -> None:
        ws.db.individual.request_access("A1", NOW.date())
        ws.db.individual.answer_access_requests("A1", NOW.date())
        ws.db.individual.request_access("A2", NOW.date())

    write(home, seed)
    ws, _ = purge_at(home, NOW + (365 + offset) * DAY)
    try:
        agents = [r.agent_id for r in ws.db.individual.access_requests()]
    finally:
        ws.close()
    assert ("A1" in agents) is kept
    assert "A2" in agents


@pytest.mark.parametrize(("today", "kept"), [(date(2027, 3, 31), True), (date(2027, 4, 1), False)])
def test_d2_statement_validation_boundary(home: Path, today: date, kept: bool) -> None:
    """A manager's validation of March 2026 is kept 12 months after the month's end
    (``statement_retention_months``): through 31 March 2027, not after."""
    write(home, lambda ws: ws.db.individual.validate_statement("A3", "2026-03", iso(NOW)))
    when = datetime(today.year, today.month, today.day, 8, tzinfo=NOW.tzinfo)
    ws, _ = purge_at(home, when)
    try:
        assert bool(ws.db.individual.statement_validated_at("A3", "2026-03")) is kept
    finally:
        ws.close()


def test_first_statement_month_kept() -> None:
    assert first_statement_month_kept(12, date(2027, 3, 31)) == "2026-03"
    assert first_statement_month_kept(12, date(2027, 4, 1)) == "2026-04"
    assert first_statement_month_kept(1, date(2026, 2, 28)) == "2026-01"
    assert first_statement_month_kept(1, date(2026, 3, 1)) == "2026-02"


# --- alerts, accounts, sessions, tokens -------------------------------------------------------


@pytest.mark.parametrize(("offset", "kept"), [(-1, True), (1, False)])
def test_f5_alerts_follow_the_audit_retention(home: Path, offset: int, kept: bool) -> None:
    """DPO alerts name staff users: kept as long as the access log (12 months = 365 days)."""
    write(home, lambda ws: ws.db.alerts.add(iso(NOW), "bulk_view", "rh.test", "20 vues"))
    ws, _ = purge_at(home, NOW + (365 + offset) * DAY)
    try:
        assert bool(ws.db.alerts.all()) is kept
    finally:
        ws.close()


@pytest.mark.parametrize(("offset", "kept"), [(-1, True), (1, False)])
def test_disabled_account_boundary_with_its_sessions_and_tokens(
    home: Path, offset: int, kept: bool
) -> None:
    """A disabled account goes ``account_retention_days`` (90) after it was disabled, with its
    tokens."""

    def seed(ws: Workspace) -> None:
        create_account(ws.db, ws.clock, "cst.parti", PASSWORD, "staff_rep")
        issue_token(ws.db, ws.clock, Identity("cst.parti", Role.STAFF_REP), days=400)
        ws.db.signins.disable("cst.parti", iso(NOW), "dpo.test")

    write(home, seed)
    ws, _ = purge_at(home, NOW + (90 + offset) * DAY)
    try:
        assert (ws.db.accounts.get("cst.parti") is not None) is kept
        assert bool(ws.db.accounts.tokens_of("cst.parti")) is kept
        assert ws.db.accounts.get("rh.test") is not None  # a usable account stays
    finally:
        ws.close()


def test_a_departed_agents_account_goes_unless_they_review_an_open_case(home: Path) -> None:
    """The account of an agent who left goes ``account_retention_days`` after the departure;
    the account of the reviewer of an open case stays whatever happens."""

    def seed(ws: Workspace) -> None:
        create_account(ws.db, ws.clock, "agent.a1", PASSWORD, "agent", "A1")
        ws.db.signins.disable("rh.test", iso(NOW), "dpo.test")
        ws.db.cases.open(
            "A2",
            "rh.test",
            "ouvert",
            date(2026, 3, 2),
            date(2026, 3, 6),
            iso(NOW),
            "rh.test",
            NOW.date(),
        )
        ws.db.conn.execute("UPDATE agents SET left_on = ? WHERE agent_id = 'A1'", ("2026-03-31",))

    write(home, seed)
    ws, removed = purge_at(home, NOW + 91 * DAY)
    try:
        assert ws.db.accounts.get("agent.a1") is None
        assert ws.db.accounts.get("rh.test") is not None
    finally:
        ws.close()
    assert removed["accounts_expired"] == 1


def test_expired_sessions_go_live_ones_stay(home: Path) -> None:
    def seed(ws: Workspace) -> None:
        ws.db.accounts.open_session("old", "rh.test", "c", iso(NOW), iso(NOW + DAY / 24), "web")
        ws.db.accounts.open_session("new", "rh.test", "c", iso(NOW), iso(NOW + 2 * DAY), "cli")

    write(home, seed)
    ws, removed = purge_at(home, NOW + DAY)
    try:
        assert ws.db.accounts.session("old") is None
        assert ws.db.accounts.session("new") is not None
    finally:
        ws.close()
    assert removed["sessions_expired"] == 1


@pytest.mark.parametrize(("offset", "kept"), [(-1, True), (1, False)])
def test_expired_or_revoked_tokens_boundary(home: Path, offset: int, kept: bool) -> None:
    """A token is listed ``TOKEN_KEEP_DAYS`` after it expired or was revoked, then goes."""

    def seed(ws: Workspace) -> None:
        issue_token(ws.db, ws.clock, Identity("rh.test", Role.HR_REVIEWER), days=1)

    write(home, seed)
    ws, _ = purge_at(home, NOW + (1 + TOKEN_KEEP_DAYS + offset) * DAY)
    try:
        assert bool(ws.db.accounts.tokens_of("rh.test")) is kept
    finally:
        ws.close()


def test_a_dry_run_purges_nothing_of_people(home: Path) -> None:
    """``purge --dry-run`` leaves every record of people in place."""
    write(home, closed_case)
    with Workspace.open(home, FixedClock(NOW + 400 * DAY)) as ws:
        purge(ws, dry_run=True, who=SYSTEM)
        assert ws.db.cases.of_agent("A1")


def test_the_purge_is_audited_with_counts_not_identities(home: Path) -> None:
    """Each purge is written to the audit log with what it removed, by kind."""
    write(home, closed_case)
    ws, removed = purge_at(home, NOW + 400 * DAY)
    try:
        entry = [e for e in ws.audit.entries() if e.action == "purge"][-1]
    finally:
        ws.close()
    assert removed["cases_expired"] == 1
    assert entry.details["removed"]["cases_expired"] == 1
    assert "A1" not in str(entry.details)


# --- every table is accounted for --------------------------------------------------------------

TABLES: dict[str, str | None] = {
    "meta": None,  # workspace settings: the key's fingerprint, the last import's columns
    "agents": "directory",
    "logins": "directory",
    "schedule": "schedule",
    "notices": "notices",
    "manifest": None,  # files read: content digests, paths and counts, nobody's data
    "manifest_on_disk": None,
    "ingest_problems": None,  # the last files that failed or were refused: paths and reasons
    "declarations": "agent_side",
    "annotations": "agent_side",
    "disputes": "agent_side",
    "statements": "statements",
    "objections": "objections",
    "access_requests": "access_requests",
    "cases": "cases",
    "case_answers": "case_answers",
    "notifications": "notifications",
    "holds": "holds",
    "alerts": "alerts",
    "published_cells": "aggregates",
    "published_audit": "aggregates",  # each week's protection reached: counts, no pseudonym
    "published_atoms": "publication_details",
    "published_members": "publication_details",
    "published_spans": "aggregates",
    "accounts": "accounts",
    "sessions": "sessions",
    "oidc_pending": None,  # digests of a sign-in begun at the provider, ten minutes at most
    "tokens": "tokens",
    "signin_failures": "signin_traces",
    "signin_known": "signin_traces",
    "disabled_accounts": "accounts",
    "followed_files": None,  # offsets of followed log files
    "collector_status": None,  # the collector's counters
    "quarantine": "quarantine",
}
"""Each table of the state database → the kind of record whose period the documents print
(None: it holds nothing about a person, and why)."""


def test_every_table_of_the_state_has_a_printed_period(home: Path) -> None:
    """A new table must say which period covers it: the documents cannot forget a kind of
    record the tool keeps."""
    from loyaute.policy.retention_schedule import schedule  # noqa: PLC0415
    from loyaute.store.state import SCHEMA  # noqa: PLC0415

    tables = set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA))
    assert tables == set(TABLES)
    with Workspace.open(home, FixedClock(NOW)) as ws:
        printed = {p.record for p in schedule(ws)}
    missing = {t: kind for t, kind in TABLES.items() if kind is not None and kind not in printed}
    assert missing == {}
