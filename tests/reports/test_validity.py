"""The validity study (its own, aggregate-only purpose): how often mail and application traces
miss on-site work, by job family; reliable at ``coverage >= threshold`` (0.90 by default); small
families suppressed (E3); runs only when enabled and registered.

Controlled data: every agent is on site on Tuesdays and Wednesdays of ISO weeks 10 to 14 (20
half-days each), and the test chooses which half-days leave a mail trace.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.config import load_settings
from loyaute.demo.population import ELIGIBLE_FAMILIES
from loyaute.demo.runner import DemoSummary, run_demo
from loyaute.errors import GateError
from loyaute.i18n import lang, set_lang
from loyaute.ingest.engine import LocalEngine
from loyaute.policy.access import AccessDenied
from loyaute.policy.gates import fingerprint
from loyaute.policy.register import load_register
from loyaute.reports.runner import NO_PROOF, run_validity
from loyaute.reports.validity import VALIDITY_COLUMNS, family_reliability
from loyaute.store.records import RECORD_SCHEMA
from loyaute.templates import register_toml
from loyaute.workspace import Workspace
from tests.builders import DPO, person
from tests.reports.test_presence import NOW, START, HalfDay, build, team

ON_SITE_DAYS = [START + timedelta(weeks=w, days=d) for w in range(5) for d in (1, 2)]
PEOPLE = (
    team("VF", 10, "Finances", "finances")
    + team("VA", 10, "RH", "administratif")
    + team("VE", 3, "RH", "encadrement")
    + team("VT", 10, "Social", "travail_social")
)
ON_SITE = [(p.agent_id, d, h) for p in PEOPLE for d in ON_SITE_DAYS for h in ("AM", "PM")]


def missed(agent_id: str, day: date, half: str) -> bool:
    """Which on-site half-days leave no mail or application trace."""
    family = agent_id[:2]
    index = ON_SITE_DAYS.index(day)
    if family in ("VF", "VA") and half == "PM" and index in (1, 3):
        return True  # 2 of 20 per agent: finances at exactly 0.90
    if agent_id == "VA00" and half == "AM" and index == 0:
        return True  # one more in administratif: 179 / 200 = 0.895
    # social workers miss 8 of 20 (0.60); managers (VE) never miss
    return family == "VT" and index < 4


MAIL = [t for t in ON_SITE if not missed(*t)]


@pytest.fixture(autouse=True)
def keep_language() -> Iterator[None]:
    """``--lang`` sets the process language: put it back after each test."""
    before = lang()
    yield
    set_lang(before)


def open_study(root: Path, **kw: Any) -> Workspace:
    return build(root, PEOPLE, [], [], on_site=ON_SITE, on_site_mail=MAIL, **kw)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = open_study(tmp_path_factory.mktemp("study"))
    yield ws
    ws.close()


def set_study(home: Path, **update: Any) -> None:
    """Change ``[validity_study]`` in register.toml, with the committee fingerprint kept current
    (A4), as a DPO would after a new opinion."""
    settings = load_settings(home / "loyaute.toml")
    register = load_register(home / "register.toml")
    register = register.model_copy(
        update={"validity_study": register.validity_study.model_copy(update=update)}
    )
    register = register.model_copy(
        update={
            "purpose": register.purpose.model_copy(
                update={"committee_config_fingerprint": fingerprint(settings, register)}
            )
        }
    )
    (home / "register.toml").write_text(register_toml(register), encoding="utf-8")


def by_family(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["job_family"]: r for r in rows}


def cli(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--home", str(home), *args])
    return result.exit_code, result.stdout, result.stderr


def test_validity_coverage_and_reliability(study: Workspace) -> None:
    """Coverage is the share of on-site half-days with a mail or application trace; a family is
    reliable at coverage ≥ 0.90 — exactly 0.90 is reliable, 0.895 is not."""
    rows = by_family(run_validity(study, DPO).rows)
    assert rows["finances"] == {
        "job_family": "finances",
        "agents": 10,
        "on_site_half_days": 200,
        "with_trace": 180,
        "coverage": 0.9,
        "reliable": True,
        "suppressed": False,
    }
    assert rows["administratif"]["with_trace"] == 179
    assert rows["administratif"]["coverage"] == 0.895
    assert rows["administratif"]["reliable"] is False
    assert rows["travail_social"]["coverage"] == 0.6
    assert rows["travail_social"]["reliable"] is False
    assert family_reliability(study) == {
        "finances": True,
        "administratif": False,
        "travail_social": False,
        "encadrement": None,
    }


def test_e3_validity_small_family_is_suppressed(study: Workspace) -> None:
    """E3: the three managers form a family under k: suppressed, every figure empty, and there is
    no total row that would give them back by subtraction."""
    rows = run_validity(study, DPO).rows
    managers = by_family(rows)["encadrement"]
    assert managers["suppressed"] is True
    assert all(managers[c] == "" for c in VALIDITY_COLUMNS if c not in ("job_family", "suppressed"))
    assert {r["job_family"] for r in rows} == {
        "finances",
        "administratif",
        "encadrement",
        "travail_social",
    }


def test_validity_vpn_alone_is_not_coverage(tmp_path: Path) -> None:
    """Coverage counts mail and application traces only: a VPN connection from the office says
    nothing about on-site work being visible."""
    people = team("VF", 10, "Finances", "finances")
    on_site = [(p.agent_id, ON_SITE_DAYS[0], "AM") for p in people]
    ws = build(tmp_path, people, [], [], on_site=on_site)
    try:
        write_records_vpn(ws, on_site)
        row = by_family(run_validity(ws, DPO).rows)["finances"]
        assert (row["on_site_half_days"], row["with_trace"], row["coverage"]) == (10, 0, 0.0)
        assert row["reliable"] is False
    finally:
        ws.close()


def write_records_vpn(ws: Workspace, half_days: list[HalfDay]) -> None:
    day = half_days[0][1]
    ws.activity.commit(
        {
            "study": {
                day: pa.table(
                    {
                        "agent": [ws.pseudonymizer.pseudonym(a) for a, _, _ in half_days],
                        "day": pa.array([d for _, d, _ in half_days], pa.date32()),
                        "half": [h for _, _, h in half_days],
                        "scope": ["on_site"] * len(half_days),
                        "vpn": [True] * len(half_days),
                        "mail": [False] * len(half_days),
                        "apps": [False] * len(half_days),
                    },
                    schema=RECORD_SCHEMA,
                )
            }
        }
    )


def test_validity_threshold_is_the_registers(tmp_path: Path) -> None:
    """The reliability threshold comes from ``[validity_study] reliability_threshold``: at 0.85
    the administratif family (0.895) becomes reliable, social work (0.60) stays unreliable."""
    ws = open_study(tmp_path)
    home = ws.paths.home
    ws.close()
    set_study(home, reliability_threshold=0.85)
    ws = Workspace.open(home, FixedClock(NOW))
    try:
        report = run_validity(ws, DPO)
        rows = by_family(report.rows)
        assert rows["administratif"]["reliable"] is True
        assert rows["travail_social"]["reliable"] is False
        assert report.parameters["threshold"] == 0.85
    finally:
        ws.close()


def test_validity_refused_when_the_study_is_disabled(tmp_path: Path) -> None:
    """The study is a purpose of its own: disabled, it does not run (and the on-site half-days
    are not even counted)."""
    ws = open_study(tmp_path, validity=False)
    try:
        with pytest.raises(GateError) as info:
            run_validity(ws, DPO)
        assert "validity_study" in str(info.value)
        assert family_reliability(ws) == {}
    finally:
        ws.close()


def test_validity_refused_when_the_study_is_not_registered(tmp_path: Path) -> None:
    """Enabled but without its register date, the study does not run either; the CLI says so
    with exit 1."""
    ws = open_study(tmp_path)
    home = ws.paths.home
    ws.close()
    set_study(home, registered_on="")
    ws = Workspace.open(home, FixedClock(NOW))
    try:
        with pytest.raises(GateError):
            run_validity(ws, DPO)
    finally:
        ws.close()
    code, out, err = cli(home, "report", "validity")
    assert code == 1
    assert err.strip()
    assert "finances" not in out


def test_cli_refusal_names_the_setting_to_fill(tmp_path: Path) -> None:
    """CONTRACT.md (a one-line reason on stderr): the refusal names what to fill —
    ``[validity_study] enabled, registered_on`` — and the square brackets of the setting's table
    reach the reader intact."""
    ws = open_study(tmp_path, validity=False)
    home = ws.paths.home
    ws.close()
    code, _, err = cli(home, "--lang", "en", "report", "validity")
    assert code == 1
    assert "[validity_study]" in " ".join(err.split())


def test_validity_counts_only_days_after_the_study_was_registered(tmp_path: Path) -> None:
    """On-site half-days before the study's register date are not part of it."""
    ws = open_study(tmp_path)
    home = ws.paths.home
    ws.close()
    set_study(home, registered_on=ON_SITE_DAYS[2].isoformat())  # Tuesday of week 11
    ws = Workspace.open(home, FixedClock(NOW))
    try:
        row = by_family(run_validity(ws, DPO).rows)["finances"]
        assert row["on_site_half_days"] == 10 * 16
    finally:
        ws.close()


@pytest.mark.parametrize("role", ["manager", "operator", "agent"])
def test_e5_validity_roles(study: Workspace, role: str) -> None:
    """E5: the study is for the DPO, HR and staff representatives; others are refused and the
    refusal is audited."""
    with pytest.raises(AccessDenied):
        run_validity(study, person(f"x.{role}", role, "X"))
    last = list(study.audit.entries())[-1]
    assert (last.actor, last.action) == (f"x.{role}", "refused")
    for allowed in ("dpo", "hr_reviewer", "staff_rep"):
        assert run_validity(study, person("y", allowed)).rows


def test_h1_i2_validity_is_audited_and_states_its_limits(study: Workspace) -> None:
    """H1: each run is audited; I2: it carries its parameters and the sentence that a missing
    trace does not establish absence of work."""
    report = run_validity(study, DPO)
    assert report.parameters["statement"] == NO_PROOF[0]
    assert report.parameters["k_min"] == 10
    assert report.parameters["threshold"] == 0.9
    last = list(study.audit.entries())[-1]
    assert (last.actor, last.role, last.action) == (DPO.login, "dpo", "report_validity")


def test_validity_csv_columns(study: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """CONTRACT.md: ``report validity --format csv`` columns, in order."""
    monkeypatch.setattr("loyaute.workspace.SystemClock", lambda: FixedClock(NOW))
    code, out, err = cli(study.paths.home, "report", "validity", "--format", "csv")
    assert code == 0, err
    reader = csv.DictReader(io.StringIO(out))
    assert reader.fieldnames == [
        "job_family",
        "agents",
        "on_site_half_days",
        "with_trace",
        "coverage",
        "reliable",
        "suppressed",
    ]
    rows = {r["job_family"]: r for r in reader}
    assert rows["finances"]["reliable"] == "true"
    assert rows["travail_social"]["reliable"] == "false"
    assert rows["encadrement"]["suppressed"] == "true"
    assert rows["encadrement"]["coverage"] == ""


def test_e3_validity_windows_cannot_be_differenced(tmp_path: Path) -> None:
    """E3 (between reports with different windows): on Monday 30 March a single finance agent is
    on site, without a trace. Two published validity figures for the finances family, one to 29
    March and one to 30 March, would differ by that one person's half-days: the two windows must
    not both publish different figures."""
    extra = [("VF00", date(2026, 3, 30), "AM"), ("VF00", date(2026, 3, 30), "PM")]
    ws = build(tmp_path, PEOPLE, [], [], on_site=ON_SITE + extra, on_site_mail=MAIL)
    try:
        first = by_family(run_validity(ws, DPO, date(2026, 3, 2), date(2026, 3, 29)).rows)[
            "finances"
        ]
        second = by_family(run_validity(ws, DPO, date(2026, 3, 2), date(2026, 3, 30)).rows)[
            "finances"
        ]
    finally:
        ws.close()
    published_both = not first["suppressed"] and not second["suppressed"]
    assert not published_both or first == second, (first, second)


# --- on the demo Département ---------------------------------------------------------------------

DEMO_NOW = datetime(2026, 3, 20, 17, 0, tzinfo=UTC)
REPORT_NOW = DEMO_NOW + timedelta(days=14)
"""Two weeks on: the demo\'s weeks are closed (settle_days) and its validity study published."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    home = tmp_path_factory.mktemp("demo") / "home"
    return run_demo(
        home, agents=60, weeks=2, seed=5, clock=FixedClock(DEMO_NOW), engine=LocalEngine(1)
    )


def test_demo_social_work_is_unreliable_and_an_eligible_family_is_reliable(
    demo: DemoSummary,
) -> None:
    """On the synthetic Département the social-work family (home visits, phone) shows up as
    unreliable, and at least one eligible family is reliable."""
    ws = Workspace.open(demo.home, FixedClock(REPORT_NOW))
    try:
        rows = by_family(run_validity(ws, DPO).rows)
    finally:
        ws.close()
    social = rows["travail_social"]
    assert social["suppressed"] is False
    assert social["reliable"] is False
    assert social["coverage"] < 0.9
    reliable = [
        f
        for f, r in rows.items()
        if f in ELIGIBLE_FAMILIES and not r["suppressed"] and r["reliable"] is True
    ]
    assert reliable


def test_demo_validity_from_the_cli(demo: DemoSummary, monkeypatch: pytest.MonkeyPatch) -> None:
    """``loyaute report validity`` works on the demo workspace (CSV)."""
    monkeypatch.setattr("loyaute.workspace.SystemClock", lambda: FixedClock(REPORT_NOW))
    code, out, err = cli(demo.home, "report", "validity", "--format", "csv")
    assert code == 0, err
    rows = {r["job_family"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["travail_social"]["reliable"] == "false"
    assert any(r["reliable"] == "true" for r in rows.values())
