"""Safe exports (issue 10, findings 7 and 8): no CSV cell a spreadsheet would run as a formula,
and no text from the configuration run as HTML in a page or a standalone document."""

from __future__ import annotations

import ast
import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.csvout import FORMULA_PREFIXES, cell
from loyaute.policy.documents import write_document
from loyaute.policy.rights import annotate, declare
from loyaute.reports.access_export import write_export
from loyaute.workspace import Workspace
from tests.builders import DPO, MON, NOW, agent, cli_env, make_workspace
from tests.conftest import ROOT
from tests.policy import test_cases as cases_mod
from tests.reports.test_presence import NOW as PRESENCE_NOW

PAYLOADS = ['=HYPERLINK("http://x")', "+cmd|'/C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tx", "\rx"]


def unsafe_cells(text: str) -> list[str]:
    return [
        c for row in csv.reader(io.StringIO(text)) for c in row if c.startswith(FORMULA_PREFIXES)
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_is_written_as_text(payload: str) -> None:
    """OWASP: a leading quote before =, +, -, @, tab, CR; every character kept."""
    assert cell(payload) == "'" + payload
    assert cell("ordinary text") == "ordinary text"
    assert cell(True) == "true"
    assert cell(None) == ""


def test_every_csv_writer_of_the_package_goes_through_csvout() -> None:
    """Finding 7: the product writes CSV only through ``loyaute/csvout.py`` (the demo's own
    input files aside: they are inputs, not exports)."""
    writers = []
    for path in (ROOT / "loyaute").rglob("*.py"):
        if path.name == "csvout.py" or "demo" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("writer", "DictWriter")
                and isinstance(node.value, ast.Name)
                and node.value.id == "csv"
            ):
                writers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert writers == []


def test_access_export_csv_files_are_safe(tmp_path: Path) -> None:
    """Finding 7: an annotation and a declaration note starting with a formula, and a case
    reason in viewers.csv, come out as text in records.csv, study.csv and viewers.csv."""
    ws = cases_mod.make(tmp_path)
    annotate(ws, agent("VF01"), date(2026, 3, 16), "AM", PAYLOADS[0])
    declare(ws, agent("VF01"), date(2026, 3, 19), "AM", "phone", PAYLOADS[1])
    cases_mod.open_vf01(ws, reason=PAYLOADS[3])
    write_export(ws, DPO, "VF01", tmp_path / "out")
    for name in ("records.csv", "study.csv", "viewers.csv"):
        text = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert unsafe_cells(text) == [], name
    with (tmp_path / "out" / "records.csv").open(encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    assert "'" + PAYLOADS[0] in {r["annotation"] for r in records}
    with (tmp_path / "out" / "viewers.csv").open(encoding="utf-8") as f:
        viewers = list(csv.DictReader(f))
    assert "'" + PAYLOADS[3] in {v["reason"] for v in viewers}
    ws.close()


def test_report_and_case_csv_are_safe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 7: a directory service named like a formula is written as text by ``report
    presence --format csv``; a case's annotation by ``case show --format csv``."""
    from tests.reports.test_presence import build, team  # noqa: PLC0415

    people = team("F", 12, "=1+2", "finances")
    days = [date(2026, 3, 2 + 7 * w) for w in range(5)]
    telework = [(p.agent_id, d, h) for p in people for d in days for h in ("AM", "PM")]
    ws = build(tmp_path / "report", people, telework, telework)
    home = ws.paths.home
    ws.close()
    monkeypatch.setattr("loyaute.workspace.SystemClock", lambda: FixedClock(PRESENCE_NOW))
    result = CliRunner().invoke(
        app, ["--home", str(home), "report", "presence", "--period", "week", "--format", "csv"]
    )
    assert result.exit_code == 0, result.stderr
    assert "'=1+2" in result.stdout
    assert unsafe_cells(result.stdout) == []

    ws = cases_mod.make(tmp_path / "case")
    annotate(ws, agent("VF01"), date(2026, 3, 16), "AM", PAYLOADS[2])
    number = cases_mod.open_vf01(ws)
    home = ws.paths.home
    ws.close()
    result = CliRunner().invoke(
        app,
        ["--home", str(home), "case", "show", str(number), "--format", "csv"],
        env=cli_env(home, cases_mod.REVIEWER_ID),
    )
    assert result.exit_code == 0, result.stderr
    assert "'" + PAYLOADS[2] in result.stdout
    assert unsafe_cells(result.stdout) == []


# --- HTML (finding 8) -----------------------------------------------------------------------------

HOSTILE = '<img src=x onerror="alert(1)">Département'


def hostile_register(home: Path) -> None:
    text = (home / "register.toml").read_text(encoding="utf-8")
    text = re.sub(
        r'(\[controller\][^\[]*?\nname = )"[^"]*"',
        lambda m: m.group(1) + '"' + HOSTILE.replace('"', '\\"') + '"',
        text,
    )
    (home / "register.toml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("kind", ["notice", "register", "dpia"])
def test_configuration_text_is_never_html_in_documents(tmp_path: Path, kind: str) -> None:
    """Finding 8: the controller's name with an ``<img onerror>`` is shown as text in the
    standalone HTML document, which also forbids any script by its own CSP."""
    ws = make_workspace(tmp_path)
    home = ws.paths.home
    ws.close()
    hostile_register(home)
    with Workspace.open(home, FixedClock(NOW)) as ws:
        out = write_document(ws, kind, tmp_path / f"{kind}.html", "fr")
    page = out.read_text(encoding="utf-8")
    assert "<img" not in page
    assert "&lt;img src=x onerror=" in page
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    assert "default-src 'none'" in policy.group(1)
    assert "script-src" not in policy.group(1)  # none allowed: default-src 'none' applies


def test_configuration_text_is_never_html_on_the_notice_page(tmp_path: Path) -> None:
    from anyio.from_thread import start_blocking_portal  # noqa: PLC0415

    from tests.web.support import Web  # noqa: PLC0415

    ws = make_workspace(tmp_path)
    home = ws.paths.home
    from tests.builders import add_accounts  # noqa: PLC0415

    add_accounts(ws, DPO)
    ws.close()
    hostile_register(home)
    from loyaute.web.app import create_app  # noqa: PLC0415
    from tests.web.support import Client  # noqa: PLC0415

    del Web
    with start_blocking_portal() as portal:
        client = Client(portal, create_app(home, clock=FixedClock(NOW)))
        r = client.post("/login", data={"login": DPO.login, "password": "correct horse battery"})
        assert r.status_code == 303
        page = client.get("/notice").text
        client.close()
    assert "<img" not in page
    assert "&lt;img src=x onerror=" in page


def test_the_access_export_page_forbids_scripts(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    annotate(ws, agent("A1"), MON, "AM", "<script>alert(1)</script>")
    write_export(ws, DPO, "A1", tmp_path / "out")
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "default-src 'none'" in page
    ws.close()
