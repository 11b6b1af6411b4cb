"""An authenticated command line (rule E9; issue 9, finding 2): commands that show or change
individual data, cases, rights, statements or the audit log act as a signed-in account — a
session opened with ``loyaute login`` or a personal token — never as a name taken from an option
or the environment; without one they exit 77. The command × role matrix mirrors the web's route
× role matrix (tests/web/test_routes.py).
"""

from __future__ import annotations

import json
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from loyaute.accounts import open_session
from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.policy.cases import answer_case
from loyaute.policy.rights import object_to_processing, open_dispute
from loyaute.policy.roles import Identity
from loyaute.workspace import Workspace
from tests.builders import (
    DPO,
    MON,
    OPERATOR,
    PASSWORD,
    STAFF,
    add_accounts,
    agent,
    cli_env,
    local,
    make_workspace,
    manager,
    vpn_session,
    write_logs,
)
from tests.policy import test_cases as cases_mod
from tests.reports.test_presence import NOW

RUNNER = CliRunner()


def run(home: Path, *args: str, env: dict[str, str] | None = None, stdin: str = "") -> Result:
    return RUNNER.invoke(app, ["--home", str(home), *args], env=env or {}, input=stdin)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FixedClock:
    """The CLI's clock, fixed on the workspaces' day (they were built on it)."""
    fixed = FixedClock(NOW)
    monkeypatch.setattr("loyaute.workspace.SystemClock", lambda: fixed)
    return fixed


@pytest.fixture
def home(tmp_path: Path, clock: FixedClock) -> Path:
    """A gated workspace with a DPO account and a sessions file of its own."""
    ws = make_workspace(tmp_path, now=NOW)
    add_accounts(ws, DPO)
    ws.close()
    return ws.paths.home


def session_env(tmp_path: Path) -> dict[str, str]:
    return {"LOYAUTE_SESSION_FILE": str(tmp_path / "config" / "sessions.json")}


def audit(home: Path) -> list[dict[str, object]]:
    with Workspace.open(home, FixedClock(NOW)) as ws:
        return [e.__dict__ for e in ws.audit.entries()]


# --- without an account -------------------------------------------------------------------------

NEEDS_ACCOUNT = [
    ["case", "show", "1"],
    ["access-export", "A1", "--out", "export"],
    ["audit", "show"],
    ["audit", "verify"],
    ["audit", "alerts"],
    ["declare", "--date", "2026-03-24", "--half", "AM", "--kind", "phone"],
    ["statement", "show", "--month", "2026-03"],
    ["rights", "list"],
]


@pytest.mark.parametrize("args", NEEDS_ACCOUNT, ids=[" ".join(a[:2]) for a in NEEDS_ACCOUNT])
def test_e9_without_a_session_the_command_exits_77(
    home: Path, tmp_path: Path, args: list[str]
) -> None:
    """E9: no session, no token: exit 77 and a French message naming ``loyaute login`` — even
    with LOYAUTE_ACTOR naming the DPO (the environment names nobody)."""
    before = len(audit(home))
    result = run(home, *args, env={**session_env(tmp_path), "LOYAUTE_ACTOR": DPO.login})
    assert result.exit_code == 77, result.stderr
    assert "loyaute login" in result.stderr
    assert "aucune session" in result.stderr
    assert len(audit(home)) == before  # nothing was done in anyone's name
    assert not (tmp_path / "export").exists()


@pytest.mark.parametrize("option", ["--actor", "--as"])
def test_e9_identity_options_are_gone(home: Path, tmp_path: Path, option: str) -> None:
    """E9: ``--actor`` and ``--as`` no longer exist (usage error, exit 2)."""
    result = run(home, "case", "show", "1", option, DPO.login, env=session_env(tmp_path))
    assert result.exit_code == 2


# --- login, logout, the session file ------------------------------------------------------------


def test_e9_login_then_the_audit_names_the_account(home: Path, tmp_path: Path) -> None:
    """E9: ``loyaute login LOGIN --password-stdin`` opens a session for the OS user (a 0600 file
    in a 0700 folder); the commands then act as that account, and the audit log names it and its
    role; ``audit show`` is itself audited."""
    env = session_env(tmp_path)
    result = run(home, "login", DPO.login, "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.stderr
    sessions = Path(env["LOYAUTE_SESSION_FILE"])
    assert stat.S_IMODE(sessions.stat().st_mode) == 0o600
    assert stat.S_IMODE(sessions.parent.stat().st_mode) == 0o700
    stored = json.loads(sessions.read_text(encoding="utf-8"))
    assert list(stored) == [str(home.resolve())]
    token = next(iter(stored.values()))
    assert token not in Path(home / "store" / "state.db").read_bytes().decode("latin-1")

    export = tmp_path / "export"
    result = run(home, "access-export", "A1", "--out", str(export), env=env)
    assert result.exit_code == 0, result.stderr
    result = run(home, "audit", "show", "--json", env=env)
    assert result.exit_code == 0, result.stderr
    entries = audit(home)
    [signed] = [e for e in entries if e["action"] == "sign_in"]
    assert (signed["actor"], signed["role"]) == (DPO.login, "dpo")
    [exported] = [e for e in entries if e["action"] == "access_export"]
    assert (exported["actor"], exported["role"], exported["agent_id"]) == (DPO.login, "dpo", "A1")
    [shown] = [e for e in entries if e["action"] == "audit_show"]
    assert (shown["actor"], shown["role"]) == (DPO.login, "dpo")


def test_e9_a_wrong_password_opens_nothing_and_is_audited(home: Path, tmp_path: Path) -> None:
    env = session_env(tmp_path)
    result = run(home, "login", DPO.login, "--password-stdin", env=env, stdin="mauvais\n")
    assert result.exit_code == 1
    assert "incorrect" in result.stderr
    assert not Path(env["LOYAUTE_SESSION_FILE"]).exists()
    assert run(home, "audit", "show", env=env).exit_code == 77
    refused = [e for e in audit(home) if e["action"] == "sign_in_refused"]
    assert [e["actor"] for e in refused] == [DPO.login]
    assert PASSWORD not in json.dumps(audit(home))
    assert "mauvais" not in json.dumps(audit(home))


def test_e9_logout_ends_the_session(home: Path, tmp_path: Path) -> None:
    env = session_env(tmp_path)
    assert run(home, "login", DPO.login, "--password-stdin", env=env, stdin=PASSWORD).exit_code == 0
    assert run(home, "audit", "verify", env=env).exit_code == 0
    assert run(home, "logout", env=env).exit_code == 0
    assert run(home, "audit", "verify", env=env).exit_code == 77
    with Workspace.open(home, FixedClock(NOW)) as ws:
        assert ws.db.conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0


def test_e9_an_idle_session_expires(home: Path, tmp_path: Path, clock: FixedClock) -> None:
    """H3: a command-line session is short-lived: 30 minutes without use end it."""
    env = session_env(tmp_path)
    assert run(home, "login", DPO.login, "--password-stdin", env=env, stdin=PASSWORD).exit_code == 0
    clock.instant += timedelta(minutes=29)
    assert run(home, "audit", "verify", env=env).exit_code == 0
    clock.instant += timedelta(minutes=31)
    assert run(home, "audit", "verify", env=env).exit_code == 77


def test_e9_a_web_session_is_no_command_line_session(home: Path, tmp_path: Path) -> None:
    """E9: a web session's token written into the sessions file opens nothing at the shell."""
    with Workspace.open(home, FixedClock(NOW)) as ws:
        token = open_session(ws.db, ws.clock, DPO)
    env = session_env(tmp_path)
    sessions = Path(env["LOYAUTE_SESSION_FILE"])
    sessions.parent.mkdir(mode=0o700)
    sessions.write_text(json.dumps({str(home.resolve()): token}), encoding="utf-8")
    assert run(home, "audit", "verify", env=env).exit_code == 77


# --- personal tokens ----------------------------------------------------------------------------


def test_e9_personal_token_for_automation_and_its_revocation(home: Path, tmp_path: Path) -> None:
    """E9: ``account token LOGIN`` (the account's password) prints a personal token once; passed
    as LOYAUTE_TOKEN it signs the command in as that account; revoked, it opens nothing."""
    result = run(home, "account", "token", DPO.login, "--password-stdin", stdin=PASSWORD)
    assert result.exit_code == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("lyt_")
    env = {**session_env(tmp_path), "LOYAUTE_TOKEN": token}
    assert run(home, "audit", "verify", env=env).exit_code == 0
    issued = next(e for e in audit(home) if e["action"] == "token_issued")
    details = issued["details"]
    assert isinstance(details, dict)
    number = str(details["token"])
    assert run(home, "account", "revoke", number, env=env).exit_code == 0
    result = run(home, "audit", "verify", env=env)
    assert result.exit_code == 77
    assert "révoqué" in result.stderr
    assert token not in json.dumps(audit(home))  # H3: never logged


def test_e9_a_wrong_or_expired_token_opens_nothing(
    home: Path, tmp_path: Path, clock: FixedClock
) -> None:
    env = {**session_env(tmp_path), "LOYAUTE_TOKEN": "lyt_inventé"}
    assert run(home, "audit", "verify", env=env).exit_code == 77
    result = run(
        home, "account", "token", DPO.login, "--password-stdin", "--days", "1", stdin=PASSWORD
    )
    token = result.stdout.strip().splitlines()[-1]
    env["LOYAUTE_TOKEN"] = token
    assert run(home, "audit", "verify", env=env).exit_code == 0
    clock.instant += timedelta(days=1, seconds=1)
    assert run(home, "audit", "verify", env=env).exit_code == 77


def test_e9_account_token_needs_the_accounts_password(home: Path) -> None:
    result = run(home, "account", "token", DPO.login, "--password-stdin", stdin="pas le bon")
    assert result.exit_code == 1
    assert "lyt_" not in result.stdout


# --- parse is audited ---------------------------------------------------------------------------


def test_h1_parse_records_the_files_and_lines_read_never_the_logins(
    home: Path, tmp_path: Path
) -> None:
    """H1 (issue 9, finding 2): ``parse`` prints raw logins with exact times; within a workspace
    the audit log records which files were read and how many lines — never a login."""
    log = write_logs(
        tmp_path / "logs", "fgt.log", vpn_session("jdupont", local(MON, 9), local(MON, 10))
    )
    result = run(home, "parse", str(log))
    assert result.exit_code == 0, result.stderr
    assert "jdupont" in result.stdout
    [entry] = [e for e in audit(home) if e["action"] == "parse"]
    assert entry["details"] == {"files": {str(log): 2}}
    assert "jdupont" not in json.dumps(entry)
    assert str(entry["actor"]).startswith("os:")
    assert entry["role"] == "system"


# --- the command × role matrix (E5, E9) ---------------------------------------------------------

IDENTITIES: dict[str, Identity] = {
    "agent": agent("VF01"),
    "manager": manager("VF02"),
    "hr_reviewer": cases_mod.REVIEWER_ID,
    "dpo": DPO,
    "staff_rep": STAFF,
    "operator": OPERATOR,
}


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The cases workspace: a case on VF01 reviewed by claire.rh; two disputes and an objection
    to decide; an account for each identity of the matrix."""
    root = tmp_path_factory.mktemp("matrix")
    ws = cases_mod.make(root)
    add_accounts(ws, DPO, STAFF, OPERATOR, agent("VF01"), manager("VF02"))
    case = cases_mod.open_vf01(ws)
    disputes = {
        role: open_dispute(ws, agent("VF03"), date(2026, 3, 16), half, "panne")
        for role, half in (("hr_reviewer", "AM"), ("dpo", "PM"))
    }
    objection = object_to_processing(ws, agent("VF04"), "situation particulière")
    answer_case(ws, agent("VF01"), case, "ma réponse")
    home = ws.paths.home
    envs = {role: cli_env(home, who) for role, who in IDENTITIES.items()}
    ws.close()
    return {"home": home, "case": case, "disputes": disputes, "objection": objection, "envs": envs}


COMMANDS: list[tuple[str, frozenset[str]]] = [
    ("case show {case}", frozenset({"hr_reviewer"})),
    ("case answer {case} --text réponse", frozenset({"agent"})),
    ("case export {case} --out {out}", frozenset({"agent", "hr_reviewer"})),
    (
        "case open --agent VF02 --reviewer claire.rh --reason motif --from 2026-03-16 --to 2026-03-27",
        frozenset({"hr_reviewer"}),
    ),
    ("access-export VF01 --out {out}", frozenset({"dpo", "agent"})),
    ("audit show", frozenset({"dpo"})),
    ("audit verify", frozenset({"dpo", "staff_rep", "operator"})),
    ("audit alerts", frozenset({"dpo"})),
    ("declare --date 2026-03-16 --half AM --kind phone", frozenset({"agent"})),
    ("annotate --date 2026-03-16 --half AM --text note", frozenset({"agent"})),
    ("dispute open --date 2026-03-19 --half PM --reason motif", frozenset({"agent"})),
    ("dispute resolve {dispute} --resolution vu", frozenset({"hr_reviewer", "dpo"})),
    ("statement show --month 2026-03", frozenset({"manager"})),
    ("rights request --agent VF01", frozenset({"dpo"})),
    ("rights list", frozenset({"dpo"})),
    ("rights decide {objection} --decision rejected --reason motifs", frozenset({"dpo"})),
]


@pytest.mark.parametrize("role", list(IDENTITIES))
@pytest.mark.parametrize(
    ("command", "admitted"), COMMANDS, ids=[c.split(" {")[0][:40] for c, _ in COMMANDS]
)
def test_e5_e9_command_role_matrix(
    matrix: dict[str, object],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    admitted: frozenset[str],
    role: str,
) -> None:
    """E5/E9: each command, signed in as each role: an admitted role does it (exit 0), any other
    is refused (exit 1) and the refusal is audited with the account and its role."""
    monkeypatch.setattr("loyaute.workspace.SystemClock", lambda: FixedClock(NOW))
    home = Path(str(matrix["home"]))
    disputes = matrix["disputes"]
    assert isinstance(disputes, dict)
    args = command.format(
        case=matrix["case"],
        out=tmp_path / "out",
        dispute=disputes.get(role, disputes["dpo"]),
        objection=matrix["objection"],
    ).split()
    envs = matrix["envs"]
    assert isinstance(envs, dict)
    who = IDENTITIES[role]
    before = len(audit(home))
    result = run(home, *args, env=envs[role])
    added = audit(home)[before:]
    if role in admitted:
        assert result.exit_code == 0, (command, role, result.stderr)
        assert all(e["actor"] == who.login for e in added if e["action"] != "purge"), added
    else:
        assert result.exit_code == 1, (command, role, result.stderr)
        refused = [e for e in added if e["action"] == "refused"]
        assert refused, (command, role, added)
        assert (refused[-1]["actor"], refused[-1]["role"]) == (who.login, role)
        assert not (tmp_path / "out").exists()
