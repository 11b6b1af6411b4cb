"""The agent's access export (G2), with nothing before T0 (I1) and the statement on every export
(I2); the access itself is audited (H1) and still possible when the committee gate fails (A4)."""

from __future__ import annotations

import csv
import json
from html import unescape
from pathlib import Path

from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.reports.access_export import NO_PROOF_EN, NO_PROOF_FR, write_export
from tests.builders import (
    DPO,
    MON,
    TUE,
    cli_env,
    local,
    make_workspace,
    run_ingest,
    vpn_session,
    write_logs,
)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def test_g2_export_files_and_columns(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    run_ingest(
        ws,
        [
            write_logs(
                tmp_path / "logs", "fgt.log", vpn_session("jdupont", local(MON, 9), local(MON, 10))
            )
        ],
    )
    result = write_export(ws, DPO, "A1", tmp_path / "out")
    header, rows = read_csv(tmp_path / "out" / "records.csv")
    assert header == [
        "date",
        "half_day",
        "scheduled",
        "status",
        "categories",
        "declaration",
        "annotation",
    ]
    assert rows[0] == {
        "date": "2026-03-23",
        "half_day": "AM",
        "scheduled": "telework",
        "status": "trace",
        "categories": "vpn",
        "declaration": "",
        "annotation": "",
    }
    assert rows[1]["status"] == "no_trace"  # the afternoon of a telework day without a trace
    assert {r["status"] for r in rows} <= {"trace", "no_trace", "disputed", "out_of_scope"}
    assert len(rows) == result.records == 14  # the week of telework, both halves
    header, viewers = read_csv(tmp_path / "out" / "viewers.csv")
    assert header == ["at", "actor", "role", "action", "reason"]
    assert viewers[-1]["action"] == "access_export"  # the export lists itself (H1)
    assert viewers[-1]["actor"] == DPO.login
    content = json.loads((tmp_path / "out" / "export.json").read_text(encoding="utf-8"))
    for key in (
        "records",
        "viewers",
        "legal_basis",
        "legal_text",
        "retention",
        "rights",
        "statement",
    ):
        assert content[key], key
    assert content["legal_basis"] == "public_task"
    assert content["retention"]["per_record"][0] == {
        "date": "2026-03-23",
        "kept_until": "2026-05-01",
    }
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in html
    assert "Qui a consulté vos données" in html
    ws.close()


def test_i2_every_export_says_a_missing_trace_is_not_missing_work(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    write_export(ws, DPO, "A4", tmp_path / "out")
    html = unescape((tmp_path / "out" / "index.html").read_text(encoding="utf-8"))
    content = json.loads((tmp_path / "out" / "export.json").read_text(encoding="utf-8"))
    assert NO_PROOF_FR in html
    assert content["statement"] == {"fr": NO_PROOF_FR, "en": NO_PROOF_EN}
    ws.close()


def test_i1_nothing_before_t0_is_exportable(tmp_path: Path) -> None:
    """I1: records dated before the agent's T0 are never exportable, even by the DPO."""
    ws = make_workspace(tmp_path, notices={"A1": TUE, "A2": MON, "A3": MON, "A4": MON})
    write_export(ws, DPO, "A1", tmp_path / "out")
    _, rows = read_csv(tmp_path / "out" / "records.csv")
    assert rows
    assert min(r["date"] for r in rows) == "2026-03-24"
    ws.close()


def test_ineligible_family_is_shown_out_of_scope(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    write_export(ws, DPO, "A2", tmp_path / "out")
    _, rows = read_csv(tmp_path / "out" / "records.csv")
    assert rows
    assert {r["status"] for r in rows} == {"out_of_scope"}
    ws.close()


def test_access_export_works_when_the_committee_gate_fails(tmp_path: Path) -> None:
    """A4 blocks individual outputs, except the agent's right of access, which never stops."""
    ws = make_workspace(tmp_path, register_update={"committee_config_fingerprint": "0" * 64})
    home = ws.paths.home
    ws.close()
    result = CliRunner().invoke(
        app,
        ["--home", str(home), "access-export", "A1", "--out", str(tmp_path / "o")],
        env=cli_env(home, DPO),
    )
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "o" / "records.csv").is_file()


def test_unknown_agent_is_refused(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    home = ws.paths.home
    ws.close()
    result = CliRunner().invoke(
        app,
        ["--home", str(home), "access-export", "Z9", "--out", str(tmp_path / "o")],
        env=cli_env(home, DPO),
    )
    assert result.exit_code == 1
    assert "Z9" in result.stderr
