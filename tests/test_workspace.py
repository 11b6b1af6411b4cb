"""The workspace (CONTRACT.md "Workspace"): ``init``, refusal on a missing workspace, ``config check``.

``config check`` validates both files and the environment and lists every problem with its
dotted path (exit 78); the register bounds it enforces are rules A3, E3, F2, F5, F6, and the key's
place and mode are rules B6 and H3.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import stat
import tomllib
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner, Result

from loyaute.cli import app
from loyaute.config import Settings
from loyaute.policy.gates import evaluate
from loyaute.policy.register import Register
from loyaute.workspace import Paths, Workspace, check
from tests.conftest import FIXTURES

DIRECTORY = FIXTURES / "workspace" / "directory.csv"
SCHEDULE = FIXTURES / "workspace" / "schedule.csv"
VPN_LOG = FIXTURES / "fortigate" / "vpn_day.log"

GATE_FIELDS = {
    "controller": ["name", "dpo_contact"],
    "purpose": [
        "legal_basis",
        "legal_text",
        "registered_on",
        "dpia_approved_on",
        "dpia_dpo_opinion",
        "dpia_staff_views",
        "dpia_residual_risk",
        "dpia_subsidiarity",
        "cnil_consultation_ref",
        "committee_opinion_on",
        "committee_minutes_ref",
        "committee_config_fingerprint",
        "deliberation_effective_on",
    ],
}


def run(home: Path, *args: str) -> Result:
    """``loyaute --home HOME ARGS…``; stdout and stderr stay separate."""
    return CliRunner().invoke(app, ["--home", str(home), *args])


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A freshly initialised workspace."""
    path = tmp_path / "ws"
    result = run(path, "init")
    assert result.exit_code == 0, result.stderr
    return path


def set_key(path: Path, table: str, key: str, value: str) -> None:
    """Replace ``key = …`` inside ``[table]`` ("" for the top level) of a TOML file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    current = ""
    done = False
    for i, line in enumerate(lines):
        header = re.match(r"^\[([^\[\]]+)\]\s*$", line)
        if header:
            current = header.group(1)
            continue
        if current == table and re.match(rf"^{re.escape(key)}\s*=", line):
            lines[i] = f"{key} = {value}"
            done = True
            break
    assert done, f"{table}.{key} not found in {path.name}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def problem_paths(home: Path) -> dict[str, str]:
    """``config check`` problems by dotted path (the domain function behind the command)."""
    return {p.path: p.message for p in check(home)}


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (SQLite side files left out)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


def is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def is_model_list(annotation: Any) -> bool:
    return get_origin(annotation) is list and any(is_model(a) for a in get_args(annotation))


def compare_with_model(
    model: BaseModel, data: dict[str, Any], text: str, prefix: str = ""
) -> list[str]:
    """Differences between a parsed TOML table and a model instance, as dotted paths.

    An array of tables whose default is empty cannot be written as a value; the template shows it
    as a commented ``# [[path]]`` line, which counts as present.
    """
    diffs: list[str] = []
    fields = type(model).model_fields
    for extra in sorted(set(data) - set(fields)):
        diffs.append(f"unknown key {prefix}{extra}")
    for name, info in fields.items():
        path = f"{prefix}{name}"
        value = getattr(model, name)
        if is_model_list(info.annotation) and value == [] and name not in data:
            if not re.search(rf"^#\s*\[\[{re.escape(path)}\]\]", text, re.MULTILINE):
                diffs.append(f"missing {path}")
            continue
        if name not in data:
            diffs.append(f"missing {path}")
        elif is_model(info.annotation):
            if not isinstance(data[name], dict):
                diffs.append(f"{path} is not a table")
            else:
                diffs += compare_with_model(value, data[name], text, f"{path}.")
        elif is_model_list(info.annotation):
            if data[name] != [item.model_dump() for item in value]:
                diffs.append(f"{path} = {data[name]!r}, default {value!r}")
        elif data[name] != value:
            diffs.append(f"{path} = {data[name]!r}, default {value!r}")
    return diffs


# --- init ---------------------------------------------------------------------------------------


def test_init_writes_every_setting_with_its_default(home: Path) -> None:
    """CONTRACT Workspace: loyaute.toml holds every setting of ``Settings``, valued at its default."""
    text = (home / "loyaute.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert compare_with_model(Settings(), data, text) == []
    # a handful named explicitly, so that a model and template drifting together still shows
    assert data["timezone"] == "Europe/Paris"
    assert data["half_days"] == {"am": "07:00-12:30", "pm": "12:30-20:00"}
    assert data["schedule"]["codes"]["union"] == ["ASA", "DS"]
    assert data["key_file"] == "secrets/pseudonym.key"


def test_every_setting_is_commented(home: Path) -> None:
    """CONTRACT Workspace: every setting is present *commented* — a comment line above each key."""
    lines = (home / "loyaute.toml").read_text(encoding="utf-8").splitlines()
    bare = [
        line
        for i, line in enumerate(lines)
        if re.match(r"^[a-z_]+ = ", line) and (i == 0 or not lines[i - 1].startswith("#"))
    ]
    assert bare == []


def test_compare_with_model_sees_a_missing_key() -> None:
    """The comparison helper above is not blind: a dropped or changed key is reported."""
    data = Settings().model_dump()
    del data["half_days"]["pm"]
    data["timezone"] = "UTC"
    diffs = compare_with_model(Settings(), data, "# [[apps]]\n# [[sources.generic]]\n")
    assert "missing half_days.pm" in diffs
    assert any(d.startswith("timezone") for d in diffs)
    without_apps = Settings().model_dump()
    del without_apps["apps"]
    assert "missing apps" in compare_with_model(Settings(), without_apps, "")
    assert compare_with_model(Settings(), without_apps, "# [[apps]]\n") == []


def test_init_writes_the_register_template_with_empty_gates(home: Path) -> None:
    """CONTRACT Workspace, rules A1–A4: register.toml has every key of ``Register``, gates empty."""
    text = (home / "register.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert compare_with_model(Register(), data, text) == []
    for table, keys in GATE_FIELDS.items():
        for key in keys:
            assert data[table][key] == "", f"{table}.{key} should be empty"
    assert data["purpose"]["eligible_job_families"] == []
    assert data["controller"]["public_authority"] is True
    assert data["purpose"]["mode"] == "declarative"
    assert data["validity_study"]["enabled"] is False
    assert data["validity_study"]["registered_on"] == ""


def test_a_fresh_register_holds_no_gate(home: Path) -> None:
    """Rules A1–A5: nothing runs on the template as written."""
    ws = Workspace.open(home)
    try:
        gates = {g.id: g.ok for g in evaluate(ws.settings, ws.register)}
    finally:
        ws.close()
    assert [gid for gid in ("A1", "A2", "A3", "A4", "A5") if gates[gid]] == []


def test_init_creates_the_key_0600_in_a_0700_folder(home: Path) -> None:
    """Rules B6, H3: the key has its own file, mode 0600, in a folder only its owner enters."""
    key = home / "secrets" / "pseudonym.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert re.fullmatch(r"[0-9a-f]{64}", key.read_text(encoding="ascii").strip())
    # outside the stores
    assert not key.resolve().is_relative_to((home / "store").resolve())
    assert not key.resolve().is_relative_to((home / "audit").resolve())


def test_two_workspaces_get_different_keys(tmp_path: Path) -> None:
    """Rule B6: the key is random, not a constant shipped with the product."""
    for name in ("a", "b"):
        assert run(tmp_path / name, "init").exit_code == 0
    key_a = (tmp_path / "a" / "secrets" / "pseudonym.key").read_bytes()
    key_b = (tmp_path / "b" / "secrets" / "pseudonym.key").read_bytes()
    assert key_a != key_b


def test_init_creates_empty_stores(home: Path) -> None:
    """CONTRACT Workspace: the stores exist and are empty."""
    ws = Workspace.open(home)
    try:
        for table in ("agents", "logins", "schedule", "notices", "manifest", "quarantine"):
            assert ws.db.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
        assert list(ws.audit.entries()) == []
        assert ws.audit.verify() == (0, None)
        assert ws.activity.partitions("records") == {}
        assert ws.activity.partitions("pending") == {}
    finally:
        ws.close()
    assert (home / "store" / "activity").is_dir()


def test_init_prints_the_next_steps(tmp_path: Path) -> None:
    """CONTRACT Workspace: init succeeds with exit 0 and points to the checks."""
    result = run(tmp_path / "ws", "init")
    assert result.exit_code == 0
    said = " ".join(result.stdout.split())  # rich wraps at 80 columns
    assert "loyaute config check" in said
    assert "loyaute gates" in said
    assert "register.toml" in said


def test_reinit_is_refused_and_overwrites_nothing(home: Path) -> None:
    """CONTRACT Workspace: a second init refuses (exit 1) and leaves every file as it was."""
    set_key(home / "loyaute.toml", "half_days", "am", '"08:00-12:00"')
    set_key(home / "register.toml", "controller", "name", '"Département du Nord"')
    before = snapshot(home)
    result = run(home, "init")
    assert result.exit_code == 1
    assert result.stderr.strip()
    assert snapshot(home) == before


@pytest.mark.parametrize("existing", ["loyaute.toml", "register.toml"])
def test_init_over_a_stray_settings_file_overwrites_nothing(tmp_path: Path, existing: str) -> None:
    """CONTRACT Workspace: an existing loyaute.toml or register.toml is never overwritten."""
    home = tmp_path / "ws"
    home.mkdir()
    (home / existing).write_text("# mine\n", encoding="utf-8")
    result = run(home, "init")
    assert result.exit_code == 1
    assert existing in result.stderr
    assert (home / existing).read_text(encoding="utf-8") == "# mine\n"


def test_init_never_replaces_an_existing_key(tmp_path: Path) -> None:
    """Rule B6: a key restored before init is never replaced (the pseudonyms depend on it)."""
    home = tmp_path / "ws"
    key = home / "secrets" / "pseudonym.key"
    key.parent.mkdir(parents=True)
    key.write_text("ab" * 32 + "\n", encoding="ascii")
    key.chmod(0o600)
    result = run(home, "init")
    assert result.exit_code == 1
    assert key.read_text(encoding="ascii") == "ab" * 32 + "\n"
    assert "ab" * 32 not in result.stderr + result.stdout  # rule H3


def test_a_refused_init_leaves_no_half_made_workspace(tmp_path: Path) -> None:
    """CONTRACT Workspace: when init refuses (here: a key already exists), it leaves nothing half
    made — otherwise every command sends the operator to ``init``, which then refuses because of
    the files the failed init itself wrote."""
    home = tmp_path / "ws"
    key = home / "secrets" / "pseudonym.key"
    key.parent.mkdir(parents=True)
    key.write_text("ab" * 32 + "\n", encoding="ascii")
    key.chmod(0o600)
    before = snapshot(home)
    assert run(home, "init").exit_code == 1
    assert snapshot(home) == before


# --- every other command needs an initialised workspace -----------------------------------------


def _command(name: str, tmp_path: Path) -> list[str]:
    return {
        "gates": ["gates"],
        "gates --fingerprint": ["gates", "--fingerprint"],
        "directory import": ["directory", "import", str(DIRECTORY)],
        "schedule import": ["schedule", "import", str(SCHEDULE)],
        "notice record": ["notice", "record", "--all", "--on", "2026-03-01"],
        "ingest": ["ingest", str(VPN_LOG)],
        "access-export": ["access-export", "A001", "--out", str(tmp_path / "export")],
        "audit show": ["audit", "show"],
        "audit verify": ["audit", "verify"],
        "purge": ["purge"],
        "purge --dry-run": ["purge", "--dry-run"],
        "config check": ["config", "check"],
    }[name]


COMMANDS = [
    "gates",
    "gates --fingerprint",
    "directory import",
    "schedule import",
    "notice record",
    "ingest",
    "access-export",
    "audit show",
    "audit verify",
    "purge",
    "purge --dry-run",
    "config check",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_commands_refuse_a_missing_workspace(tmp_path: Path, command: str) -> None:
    """CONTRACT Workspace: exit 1, naming the command that creates it; nothing is created."""
    home = tmp_path / "nowhere"
    result = run(home, *_command(command, tmp_path))
    assert result.exit_code == 1, result.stdout + result.stderr
    assert f"loyaute --home {home} init" in result.stderr
    assert not home.exists()
    assert not (tmp_path / "export").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_commands_refuse_an_uninitialised_folder(tmp_path: Path, command: str) -> None:
    """CONTRACT Workspace: a folder that was never initialised (here holding only copies of the
    two files) is refused the same way, and left as it was."""
    home = tmp_path / "half"
    home.mkdir()
    (home / "notes.txt").write_text("not a workspace\n", encoding="utf-8")
    before = snapshot(home)
    result = run(home, *_command(command, tmp_path))
    assert result.exit_code == 1, result.stdout + result.stderr
    assert f"loyaute --home {home} init" in result.stderr
    assert snapshot(home) == before


@pytest.mark.parametrize("command", ["gates", "audit verify", "config check", "directory import"])
def test_files_without_the_init_marker_are_not_a_workspace(tmp_path: Path, command: str) -> None:
    """CONTRACT Workspace: loyaute.toml and register.toml copied by hand do not make a workspace
    (no key, no stores); the command still names ``init``."""
    home = tmp_path / "copied"
    home.mkdir()
    (home / "loyaute.toml").write_text('timezone = "Europe/Paris"\n', encoding="utf-8")
    (home / "register.toml").write_text("", encoding="utf-8")
    result = run(home, *_command(command, tmp_path))
    assert result.exit_code == 1
    assert f"loyaute --home {home} init" in result.stderr


def test_home_defaults_to_loyaute_home_env(tmp_path: Path) -> None:
    """CONTRACT Workspace: DIR defaults to $LOYAUTE_HOME."""
    home = tmp_path / "from-env"
    result = CliRunner().invoke(app, ["init"], env={"LOYAUTE_HOME": str(home)})
    assert result.exit_code == 0, result.stderr
    assert (home / "loyaute.toml").is_file()
    assert (home / "register.toml").is_file()


# --- config check -------------------------------------------------------------------------------


def test_config_check_accepts_a_fresh_workspace(home: Path) -> None:
    """CONTRACT: ``config check`` exits 0 on what ``init`` wrote."""
    result = run(home, "config", "check")
    assert result.exit_code == 0, result.stderr
    assert problem_paths(home) == {}


def test_config_check_lists_problems_of_both_files_with_dotted_paths(home: Path) -> None:
    """CONTRACT exit 78: every problem of both files at once, each with its dotted path."""
    set_key(home / "loyaute.toml", "half_days", "am", '"7h-12h"')
    set_key(home / "loyaute.toml", "schedule", "pending_days", "90")
    set_key(home / "register.toml", "purpose", "k_min", "4")
    set_key(home / "register.toml", "purpose", "audit_retention_months", "40")
    set_key(home / "register.toml", "purpose", "quarantine_retention_days", "32")
    set_key(home / "register.toml", "purpose", "dpia_residual_risk", '"extreme"')
    result = run(home, "config", "check")
    assert result.exit_code == 78
    for path in (
        "loyaute.toml:half_days.am",
        "loyaute.toml:schedule.pending_days",
        "register.toml:purpose.k_min",
        "register.toml:purpose.audit_retention_months",
        "register.toml:purpose.quarantine_retention_days",
        "register.toml:purpose.dpia_residual_risk",
    ):
        assert re.search(rf"^\s*- {re.escape(path)}: ", result.stderr, re.MULTILINE), path


def test_config_check_reports_an_unknown_key(home: Path) -> None:
    """CONTRACT: unknown keys are problems too (a typo never silently falls back to a default)."""
    with (home / "register.toml").open("a", encoding="utf-8") as f:
        f.write("[purpose_typo]\nk_min = 3\n")
    result = run(home, "config", "check")
    assert result.exit_code == 78
    assert "register.toml:purpose_typo" in result.stderr


def test_config_check_reports_a_syntax_error(home: Path) -> None:
    """CONTRACT exit 78: a TOML syntax error is a configuration problem, not a traceback."""
    (home / "loyaute.toml").write_text("timezone = \n", encoding="utf-8")
    result = run(home, "config", "check")
    assert result.exit_code == 78
    assert "loyaute.toml:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_config_check_lists_every_problem_at_once(home: Path) -> None:
    """CONTRACT exit 78 "listing every problem": the cross-field rules (A3 legal basis, F2
    retention) are reported together with the per-field ones, not only once those are fixed."""
    set_key(home / "register.toml", "purpose", "k_min", "4")
    set_key(home / "register.toml", "purpose", "retention_after_month_end_days", "400")
    set_key(home / "register.toml", "purpose", "legal_basis", '"legitimate_interest"')
    result = run(home, "config", "check")
    assert result.exit_code == 78
    assert "register.toml:purpose.k_min" in result.stderr
    assert "retention_after_month_end_days" in result.stderr
    assert "legitimate_interest" in result.stderr


def test_config_check_lists_environment_and_file_problems_together(home: Path) -> None:
    """CONTRACT exit 78, rule B6: a key readable by others is reported even when loyaute.toml
    also has a problem elsewhere (its key_file is valid)."""
    set_key(home / "loyaute.toml", "half_days", "am", '"7h-12h"')
    (home / "secrets" / "pseudonym.key").chmod(0o644)
    result = run(home, "config", "check")
    assert result.exit_code == 78
    assert "loyaute.toml:half_days.am" in result.stderr
    assert "loyaute.toml:key_file" in result.stderr


# --- environment: the key (B6, H3) --------------------------------------------------------------


def test_config_check_reports_a_missing_key(home: Path) -> None:
    """CONTRACT config check "key present", rule B6."""
    (home / "secrets" / "pseudonym.key").unlink()
    result = run(home, "config", "check")
    assert result.exit_code == 78
    assert "loyaute.toml:key_file" in result.stderr
    assert "pseudonym.key" in result.stderr


def test_config_check_reports_a_key_readable_by_others(home: Path) -> None:
    """Rules B6, H3: mode 0644 is refused, and the message never shows the key."""
    key = home / "secrets" / "pseudonym.key"
    secret = key.read_text(encoding="ascii").strip()
    key.chmod(0o644)
    result = run(home, "config", "check")
    assert result.exit_code == 78
    assert "loyaute.toml:key_file" in result.stderr
    assert "600" in result.stderr
    assert secret not in result.stderr + result.stdout
    assert secret[:16] not in result.stderr + result.stdout


def test_config_check_accepts_the_key_back_at_0600(home: Path) -> None:
    """Rule B6 boundary: the same key at 0600 passes (0640 and 0604 do not)."""
    key = home / "secrets" / "pseudonym.key"
    for mode in (0o640, 0o604):
        key.chmod(mode)
        assert run(home, "config", "check").exit_code == 78, oct(mode)
    key.chmod(0o600)
    assert run(home, "config", "check").exit_code == 0


@pytest.mark.parametrize("absolute", [False, True])
def test_config_check_refuses_a_key_inside_the_store(home: Path, absolute: bool) -> None:
    """Rule B6: the key lives outside the store — key_file pointing into store/ is refused."""
    inside = home / "store" / "pseudonym.key"
    shutil.copy2(home / "secrets" / "pseudonym.key", inside)
    inside.chmod(0o600)
    value = str(inside) if absolute else "store/pseudonym.key"
    set_key(home / "loyaute.toml", "", "key_file", f'"{value}"')
    result = run(home, "config", "check")
    assert result.exit_code == 78
    assert "loyaute.toml:key_file" in result.stderr
    assert "B6" in result.stderr


def test_config_check_accepts_a_key_on_a_vault_mount(home: Path, tmp_path: Path) -> None:
    """Rule B6: key_file may be an absolute path outside the workspace (a vault mount)."""
    vault = tmp_path / "vault"
    vault.mkdir(mode=0o700)
    shutil.move(home / "secrets" / "pseudonym.key", vault / "pseudonym.key")
    set_key(home / "loyaute.toml", "", "key_file", f'"{vault / "pseudonym.key"}"')
    result = run(home, "config", "check")
    assert result.exit_code == 0, result.stderr


def test_config_check_reports_a_missing_store(home: Path) -> None:
    """CONTRACT config check "store writable": a store folder that is gone is reported."""
    shutil.rmtree(home / "store" / "activity")
    result = run(home, "config", "check")
    assert result.exit_code == 78
    assert "store" in result.stderr


# --- register bounds ----------------------------------------------------------------------------


@pytest.mark.parametrize("basis", ["legitimate_interest", "consent"])
def test_a3_public_authority_cannot_use_legitimate_interest_or_consent(
    home: Path, basis: str
) -> None:
    """Rule A3: config check rejects legitimate_interest / consent when public_authority = true."""
    set_key(home / "register.toml", "purpose", "legal_basis", f'"{basis}"')
    set_key(home / "register.toml", "purpose", "legal_text", '"Délibération 2026-12, art. 4"')
    result = run(home, "config", "check")
    assert result.exit_code == 78
    assert re.search(rf"^\s*- register\.toml:.*{basis}.*A3", result.stderr, re.MULTILINE)


@pytest.mark.parametrize("basis", ["legitimate_interest", "consent"])
def test_a3_problem_carries_the_dotted_path_of_legal_basis(home: Path, basis: str) -> None:
    """Rule A3 + CONTRACT exit 78 "every problem with its dotted path": the problem is located at
    ``register.toml:purpose.legal_basis``."""
    set_key(home / "register.toml", "purpose", "legal_basis", f'"{basis}"')
    assert "register.toml:purpose.legal_basis" in problem_paths(home)


@pytest.mark.parametrize("basis", ["public_task", "legal_obligation"])
def test_a3_public_task_and_legal_obligation_are_accepted(home: Path, basis: str) -> None:
    """Rule A3: the two bases open to a public authority pass config check."""
    set_key(home / "register.toml", "purpose", "legal_basis", f'"{basis}"')
    set_key(home / "register.toml", "purpose", "legal_text", '"Délibération 2026-12, art. 4"')
    result = run(home, "config", "check")
    assert result.exit_code == 0, result.stderr


def test_a3_applies_to_public_authorities(home: Path) -> None:
    """Rule A3 boundary: the refusal is tied to public_authority = true."""
    set_key(home / "register.toml", "purpose", "legal_basis", '"legitimate_interest"')
    assert run(home, "config", "check").exit_code == 78
    set_key(home / "register.toml", "controller", "public_authority", "false")
    assert run(home, "config", "check").exit_code == 0


def test_a3_unknown_basis_is_rejected(home: Path) -> None:
    """Rule A3: a basis outside the list is a typed error at purpose.legal_basis."""
    set_key(home / "register.toml", "purpose", "legal_basis", '"contract"')
    result = run(home, "config", "check")
    assert result.exit_code == 78
    assert "register.toml:purpose.legal_basis" in result.stderr


@pytest.mark.parametrize(("k", "ok"), [(4, False), (0, False), (5, True), (10, True), (25, True)])
def test_e3_k_min_never_below_5(home: Path, k: int, ok: bool) -> None:
    """Rule E3: k may be raised, never set below 5."""
    set_key(home / "register.toml", "purpose", "k_min", str(k))
    result = run(home, "config", "check")
    if ok:
        assert result.exit_code == 0, result.stderr
    else:
        assert result.exit_code == 78
        assert "register.toml:purpose.k_min" in result.stderr
        assert "E3" in result.stderr


@pytest.mark.parametrize(
    ("days", "justification", "ok"),
    [
        (31, "", True),
        (0, "", True),
        (32, "", False),
        (32, "AIPD §4.2 : contrôle trimestriel", True),
        (365, "AIPD §4.2 : contrôle annuel", True),
        (366, "AIPD §4.2 : contrôle annuel", False),
        (400, "", False),
        (-1, "", False),
    ],
)
def test_f2_record_retention_bounds(home: Path, days: int, justification: str, ok: bool) -> None:
    """Rule F2: 31 days after month end; longer only with a justification; 365 at most."""
    set_key(home / "register.toml", "purpose", "retention_after_month_end_days", str(days))
    set_key(home / "register.toml", "purpose", "retention_justification", f'"{justification}"')
    result = run(home, "config", "check")
    if ok:
        assert result.exit_code == 0, result.stderr
    else:
        assert result.exit_code == 78
        assert "retention_after_month_end_days" in result.stderr
        assert "F2" in result.stderr


@pytest.mark.parametrize(("days", "justification"), [(32, ""), (366, "AIPD §4.2")])
def test_f2_problem_carries_the_dotted_path_of_the_retention(
    home: Path, days: int, justification: str
) -> None:
    """Rule F2 + CONTRACT exit 78 "every problem with its dotted path": the problem is located at
    ``register.toml:purpose.retention_after_month_end_days``."""
    set_key(home / "register.toml", "purpose", "retention_after_month_end_days", str(days))
    set_key(home / "register.toml", "purpose", "retention_justification", f'"{justification}"')
    assert "register.toml:purpose.retention_after_month_end_days" in problem_paths(home)


@pytest.mark.parametrize(("months", "ok"), [(11, False), (12, True), (36, True), (37, False)])
def test_f5_audit_retention_12_to_36_months(home: Path, months: int, ok: bool) -> None:
    """Rule F5: the audit log is kept 12 months by default, 36 at most, never under 12."""
    set_key(home / "register.toml", "purpose", "audit_retention_months", str(months))
    result = run(home, "config", "check")
    if ok:
        assert result.exit_code == 0, result.stderr
    else:
        assert result.exit_code == 78
        assert "register.toml:purpose.audit_retention_months" in result.stderr


@pytest.mark.parametrize(("days", "ok"), [(0, True), (7, True), (31, True), (32, False)])
def test_f6_quarantine_31_days_at_most(home: Path, days: int, ok: bool) -> None:
    """Rule F6: quarantined input is kept 7 days by default, 31 at most."""
    set_key(home / "register.toml", "purpose", "quarantine_retention_days", str(days))
    result = run(home, "config", "check")
    if ok:
        assert result.exit_code == 0, result.stderr
    else:
        assert result.exit_code == 78
        assert "register.toml:purpose.quarantine_retention_days" in result.stderr


def test_an_invalid_register_blocks_every_workspace_command(home: Path) -> None:
    """CONTRACT exit 78: a command opening the workspace refuses an invalid register (here A3)."""
    set_key(home / "register.toml", "purpose", "legal_basis", '"consent"')
    result = run(home, "gates")
    assert result.exit_code == 78
    assert "consent" in result.stderr


def test_paths_keep_the_audit_log_and_key_outside_the_store(tmp_path: Path) -> None:
    """Rules H1, B6: the workspace layout puts the audit log and the key apart from the store."""
    paths = Paths(tmp_path)
    store = paths.store.resolve()
    assert not paths.audit.resolve().is_relative_to(store)
    assert not paths.key(Settings()).resolve().is_relative_to(store)
    assert paths.audit != paths.state


def test_state_database_is_sqlite_with_its_schema(home: Path) -> None:
    """CONTRACT Workspace "empty stores": the state database is created with its tables."""
    conn = sqlite3.connect(home / "store" / "state.db")
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    assert {"agents", "logins", "schedule", "notices"} <= tables
    assert "audit" not in tables  # rule H1: the audit log has its own database


# --- owner-only files (issue 9, finding 6) ------------------------------------------------------


def modes(home: Path) -> dict[str, int]:
    """Relative path → permission bits of every folder and file of the workspace."""
    out = {".": stat.S_IMODE(home.stat().st_mode)}
    for path in home.rglob("*"):
        out[path.relative_to(home).as_posix()] = stat.S_IMODE(path.stat().st_mode)
    return out


def test_h3_workspace_folders_are_0700_and_files_0600(tmp_path: Path) -> None:
    """H3 (issue 9, finding 6): the workspace holds personal data and its key — every folder is
    0700 and every file 0600, the state and audit databases included (they were 0644), even
    under a permissive umask, and after an ingest wrote Parquet files."""
    import os  # noqa: PLC0415

    from tests.builders import (  # noqa: PLC0415
        MON,
        local,
        make_workspace,
        run_ingest,
        vpn_session,
        write_logs,
    )

    previous = os.umask(0o022)
    try:
        ws = make_workspace(tmp_path)
        run_ingest(
            ws,
            [
                write_logs(
                    tmp_path / "logs",
                    "fgt.log",
                    vpn_session("jdupont", local(MON, 9), local(MON, 10)),
                )
            ],
        )
        home = ws.paths.home
        ws.close()
    finally:
        os.umask(previous)
    found = modes(home)
    assert "store/state.db" in found
    assert "audit/audit.db" in found
    assert any(p.endswith(".parquet") for p in found)
    loose = {
        p: f"{m:04o}" for p, m in found.items() if m != (0o700 if (home / p).is_dir() else 0o600)
    }
    assert loose == {}


def test_h3_config_check_reports_looser_modes(home: Path) -> None:
    """H3: ``config check`` names every folder or file others may read, with the mode to set."""
    (home / "store" / "state.db").chmod(0o644)
    (home / "audit").chmod(0o755)
    result = run(home, "config", "check")
    assert result.exit_code == 78
    assert "state.db est en 0644 : 0600 attendu" in result.stderr
    assert "audit est en 0755 : 0700 attendu" in result.stderr
    (home / "store" / "state.db").chmod(0o600)
    (home / "audit").chmod(0o700)
    assert run(home, "config", "check").exit_code == 0
