"""A deployment from the command line, as an operator and a DPO would run it (CONTRACT.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.config import Settings
from loyaute.demo import logs
from loyaute.demo.runner import demo_register, demo_settings
from loyaute.templates import loyaute_toml, register_toml
from tests.builders import DIRECTORY


def cli(home: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--home", str(home), *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_operator_and_dpo_flow(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    today = datetime.now(logs.PARIS).date()
    monday = today - timedelta(days=today.weekday() + 7)  # last week's Monday
    start = monday - timedelta(days=7)

    code, out, _ = cli(home, "init")
    assert code == 0
    assert (home / "loyaute.toml").is_file()

    # Nothing runs before the DPO has filled the register (A1–A3).
    (tmp_path / "directory.csv").write_text(DIRECTORY, encoding="utf-8")
    assert cli(home, "directory", "import", str(tmp_path / "directory.csv"))[0] == 0
    code, _, err = cli(home, "ingest", str(tmp_path))
    assert code == 1
    assert "A1" in err

    settings = demo_settings().model_copy(update={"schedule": Settings().schedule})
    (home / "loyaute.toml").write_text(loyaute_toml(settings), encoding="utf-8")
    (home / "register.toml").write_text(
        register_toml(demo_register(settings, start)), encoding="utf-8"
    )
    assert cli(home, "config", "check")[0] == 0

    rows = "".join(
        f"A1;{(monday + timedelta(days=i)).strftime('%d/%m/%Y')};JOUR;TLT\n" for i in range(5)
    )
    (tmp_path / "planning.csv").write_bytes(
        ("agent_id;date;half_day;code\n" + rows).encode("cp1252")
    )
    code, out, _ = cli(home, "schedule", "import", str(tmp_path / "planning.csv"))
    assert code == 0
    assert "10" in out  # ten half-days

    code, _, _ = cli(home, "notice", "record", "--all", "--on", start.isoformat())
    assert code == 0
    code, out, _ = cli(home, "gates")
    assert code == 0
    code, fp, _ = cli(home, "gates", "--fingerprint")
    assert len(fp.strip()) == 64

    at = datetime(monday.year, monday.month, monday.day, 9, 30, tzinfo=logs.PARIS).astimezone(UTC)
    lines = [logs.fgt_tunnel_up(at, "jdupont", 1, "198.51.100.7"), "garbage line"]
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "fgt.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, _ = cli(home, "ingest", "--report", "json", str(tmp_path / "logs"))
    assert code == 0, out
    report = json.loads(out)
    assert report["files"][0]["half_days_kept"] == 1
    assert report["files"][0]["skipped"] == {"not_vpn_event": 1}

    # Individual data and the audit log need a signed-in account (E9): the DPO signs in.
    code, _, err = cli(home, "access-export", "A1", "--out", str(tmp_path / "export"))
    assert code == 77
    assert "loyaute login" in err
    code, _, _ = cli(
        home,
        "account",
        "add",
        "--login",
        "dpo.lenord",
        "--role",
        "dpo",
        "--password",
        "une phrase de passe",
    )
    assert code == 0
    session = {"LOYAUTE_SESSION_FILE": str(tmp_path / "sessions.json")}
    result = CliRunner().invoke(
        app,
        ["--home", str(home), "login", "dpo.lenord", "--password-stdin"],
        input="une phrase de passe\n",
        env=session,
    )
    assert result.exit_code == 0, result.stderr
    code, out, _ = cli(home, "access-export", "A1", "--out", str(tmp_path / "export"), env=session)
    assert code == 0
    records = (tmp_path / "export" / "records.csv").read_text(encoding="utf-8").splitlines()
    assert f"{monday.isoformat()},AM,telework,trace,vpn,," in records

    code, out, _ = cli(home, "audit", "show", "--json", env=session)
    entries = [json.loads(line) for line in out.splitlines()]
    actions = [e["action"] for e in entries]
    assert "access_export" in actions
    assert "ingest" in actions
    assert "sign_in" in actions
    [export] = [e for e in entries if e["action"] == "access_export"]
    assert (export["actor"], export["role"]) == ("dpo.lenord", "dpo")  # E9: the account
    assert cli(home, "audit", "verify", env=session)[0] == 0
    assert cli(home, "logout", env=session)[0] == 0
    assert cli(home, "audit", "show", env=session)[0] == 77
    code, out, _ = cli(home, "purge", "--dry-run")
    assert code == 0


def test_bad_directory_lists_every_problem_and_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    cli(home, "init")
    good = tmp_path / "good.csv"
    good.write_text(DIRECTORY, encoding="utf-8")
    assert cli(home, "directory", "import", str(good))[0] == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "agent_id,display_name,service,job_family,manager_id,logins\n"
        'B1,X,S,F,,shared\nB2,Y,S,F,,shared\n,Z,S,F,,z\nB4,W,S,F,,"a b"\n',
        encoding="utf-8",
    )
    code, _, err = cli(home, "directory", "import", str(bad))
    assert code == 1
    assert "ligne 3" in err  # shared login
    assert "ligne 4" in err  # empty id
    assert "ligne 5" in err  # garbage login
    assert "rien n'a été modifié" in err
    code, _, _ = cli(home, "notice", "record", "--agent", "A1", "--on", "2026-01-05")
    assert code == 0  # the previous directory is still there


def test_uninitialised_workspace_is_refused_with_the_command_that_creates_it(
    tmp_path: Path,
) -> None:
    code, _, err = cli(tmp_path / "nothing", "gates")
    assert code == 1
    assert "init" in err
