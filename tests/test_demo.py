"""The synthetic Département end to end: what is stored is exactly the ground truth the generator
knows, filtered by the rules (B4 scope, B5 families, A5 T0, C9 windows)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.demo.population import ELIGIBLE_FAMILIES
from loyaute.demo.runner import DemoSummary, run_demo
from loyaute.errors import WorkspaceError
from loyaute.ingest.engine import LocalEngine
from loyaute.workspace import Workspace

NOW = datetime(2026, 3, 20, 17, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    home = tmp_path_factory.mktemp("demo") / "home"
    return run_demo(home, agents=60, weeks=2, seed=5, clock=FixedClock(NOW), engine=LocalEngine(1))


def test_stored_records_are_the_truth_within_the_rules(demo: DemoSummary) -> None:
    data = demo.data
    ws = Workspace.open(demo.home, FixedClock(NOW))
    notices = {r[0]: date.fromisoformat(r[1]) for r in ws.db.conn.execute("SELECT * FROM notices")}
    by_pseudonym = {ws.pseudonymizer.pseudonym(a.agent_id): a for a in data.agents}
    got = {}
    for table, scope in (("records", "telework"), ("study", "on_site")):
        for r in ws.activity.read(table).to_pylist():
            assert r["scope"] == scope  # E8: the study's half-days are kept apart
            agent = by_pseudonym[r["agent"]]
            cats = {c for c in ("vpn", "mail", "apps") if r[c]}
            got[(agent.agent_id, r["day"], r["half"])] = (r["scope"], cats)
    expected = {}
    for a in data.agents:
        for day in data.days:
            code = data.codes[(a.agent_id, day)]
            if day < notices[a.agent_id]:
                continue
            for half in ("AM", "PM"):
                cats = data.truth.get((a.agent_id, day, half), set())
                if not cats:
                    continue
                if code == "TLT" and a.job_family in ELIGIBLE_FAMILIES:
                    expected[(a.agent_id, day, half)] = ("telework", cats)
                elif code == "PRES":
                    expected[(a.agent_id, day, half)] = ("on_site", cats)
    assert got == expected
    assert len(got) > 200
    ws.close()


def test_rules_visible_in_the_report(demo: DemoSummary) -> None:
    dropped: dict[str, int] = {}
    for f in demo.report.files:
        for k, v in f.dropped.items():
            dropped[k] = dropped.get(k, 0) + v
    assert dropped["not_eligible"] > 0  # social work is excluded (B5)
    assert dropped["before_t0"] > 0  # three agents got their notice two weeks late (A5)
    assert dropped["out_of_scope"] > 0  # mail from the phone on field days (B4)
    assert any(f.unmatched for f in demo.report.files)  # the contractor
    assert {f.format for f in demo.report.files} == {"fortigate", "exchange-iis", "proxy"}
    assert any(f.path.endswith(".gz") for f in demo.report.files)
    assert not demo.report.failed


def test_gates_hold_on_the_demo(demo: DemoSummary) -> None:
    result = CliRunner().invoke(app, ["--home", str(demo.home), "gates"])
    assert result.exit_code == 0, result.stdout
    for gate in ("A1", "A2", "A3", "A4", "A5", "A6", "A7"):
        assert gate in result.stdout


def test_demo_refuses_to_overwrite_a_real_workspace(tmp_path: Path) -> None:
    home = tmp_path / "real"
    home.mkdir()
    (home / "precious.txt").write_text("do not delete")
    with pytest.raises(WorkspaceError):
        run_demo(home, agents=10, weeks=1, clock=FixedClock(NOW), engine=LocalEngine(1))
    assert (home / "precious.txt").read_text() == "do not delete"


def test_demo_command_prints_a_summary(tmp_path: Path) -> None:
    home = tmp_path / "d"
    result = CliRunner().invoke(
        app, ["--home", str(home), "demo", "--agents", "20", "--weeks", "1"]
    )
    assert result.exit_code == 0, result.stderr
    assert str(home) in result.stdout
    assert "demi-journées conservées" in result.stdout
    # running it again recreates the demo workspace
    again = CliRunner().invoke(app, ["--home", str(home), "demo", "--agents", "20", "--weeks", "1"])
    assert again.exit_code == 0
