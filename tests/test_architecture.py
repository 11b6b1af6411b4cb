"""The design holds by construction (issue 9, rules E9 and STYLE.md): each guarantee lives in one
place, and a test walks the package to prove that nothing goes around it.

* Only ``loyaute/store/`` runs SQL: no SQL text elsewhere, and a ruff rule bans ``sqlite3`` and
  ``duckdb`` outside it.
* The one door (E9): reports, the web app and the command line never touch the activity store or
  the individual tables; they go through ``policy.access`` (individual data), ``policy.aggregate``
  (the aggregate purpose) and the other policy functions. ``AgentData`` — the capability the door
  hands out — is created in ``policy/access.py`` and nowhere else.
* Each rule exists once: "today" in the organisation's zone, T0, eligibility, the role list.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

from loyaute.policy.roles import ACCOUNT_ROLES, PERMISSIONS, Action, Role
from tests.conftest import ROOT

PACKAGE = ROOT / "loyaute"
EDGES = ("reports", "web", "cli")
"""The layers that show data to people: they must go through the policy core."""

SQL = re.compile(
    r"\b(SELECT\b[\s\S]+\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
    r"CREATE\s+(TABLE|INDEX|VIEW)|ALTER\s+TABLE|PRAGMA\s+\w+)",
    re.IGNORECASE,
)
REPOSITORIES_OF_INDIVIDUAL_DATA = {"individual", "schedule", "cases", "notices"}
"""``ws.db.<name>``: per-agent rows (declarations, disputes, schedules, cases, notices)."""


def modules(*folders: str) -> list[Path]:
    found = []
    for folder in folders or ("",):
        found += sorted((PACKAGE / folder).rglob("*.py"))
    return found


def strings(tree: ast.AST) -> list[tuple[int, str]]:
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_sql_outside_the_store() -> None:
    """Issue 9: ``grep`` finds no SQL string outside ``loyaute/store/``."""
    found = []
    for path in modules():
        if path.is_relative_to(PACKAGE / "store"):
            continue
        for line, text in strings(ast.parse(path.read_text(encoding="utf-8"))):
            if SQL.search(text):
                found.append(f"{path.relative_to(ROOT)}:{line}: {text[:60]!r}")
    assert found == [], "\n".join(found)


def test_the_sql_scanner_is_not_vacuous() -> None:
    """The scanner finds the store's own SQL (else the test above proves nothing)."""
    hits = [
        text
        for path in modules("store")
        for _, text in strings(ast.parse(path.read_text(encoding="utf-8")))
        if SQL.search(text)
    ]
    assert len(hits) > 50


def test_ruff_bans_sql_drivers_outside_the_store() -> None:
    """Issue 9: a ruff banned-api rule keeps ``sqlite3`` and ``duckdb`` in ``loyaute/store/``, as
    Typer in ``loyaute/cli/`` and the web framework in ``loyaute/web/``; only the folder allowed a
    module lifts its ban (a nested ruff.toml)."""
    root = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    banned = set(root["tool"]["ruff"]["lint"]["flake8-tidy-imports"]["banned-api"])
    assert {"sqlite3", "duckdb", "typer", "fastapi", "starlette"} <= banned
    lifted = {
        "store": {"sqlite3", "duckdb"},
        "cli": {"typer"},
        "web": {"fastapi", "starlette"},
    }
    for folder, allowed in lifted.items():
        nested = tomllib.loads((PACKAGE / folder / "ruff.toml").read_text(encoding="utf-8"))
        assert nested["extend"] == "../../pyproject.toml"
        bans = set(nested["lint"]["flake8-tidy-imports"]["banned-api"])
        assert bans == banned - allowed, folder
    nested_configs = {p.parent.name for p in PACKAGE.rglob("ruff.toml")}
    assert nested_configs == set(lifted)


def test_rule_e9_the_edges_never_touch_individual_data_directly() -> None:
    """E9 (issue 9, C): no code of reports/, web/ or cli/ reads the activity store, the audit
    entries or the individual tables itself — only through the policy core."""
    found = []
    for path in modules(*EDGES):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith(
                    (
                        "loyaute.store.records",
                        "loyaute.store.query",
                        "loyaute.store.individual",
                        "loyaute.store.state",
                    )
                )
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: import {node.module}")
            if not isinstance(node, ast.Attribute):
                continue
            value = node.value
            through_db = isinstance(value, ast.Attribute) and value.attr == "db"
            if (through_db and node.attr in REPOSITORIES_OF_INDIVIDUAL_DATA) or node.attr in (
                "activity",
                "conn",
                "entries",
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}")
    assert found == [], "\n".join(found)


def test_the_door_scanner_catches_a_direct_read(tmp_path: Path) -> None:
    """The walk above is not vacuous: the patterns it refuses are the ones the policy core uses."""
    policy = [
        path
        for path in modules("policy")
        if re.search(
            r"\.db\.(individual|schedule|cases)\b|\.activity\b|\.entries\(", path.read_text()
        )
    ]
    assert {p.name for p in policy} >= {"agent_data.py", "aggregate.py", "retention.py"}


def test_rule_e9_agent_data_is_granted_by_the_door_only() -> None:
    """E9: ``AgentData`` is created only in ``policy/access.py`` (with the key only it holds),
    and refuses to be created without that key."""
    from loyaute.policy.agent_data import AgentData  # noqa: PLC0415

    makers = []
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "AgentData":
                makers.append(path.relative_to(PACKAGE).as_posix())
            if isinstance(node, ast.Name) and node.id == "_DOOR":
                makers.append(f"key:{path.relative_to(PACKAGE).as_posix()}")
    assert sorted(set(makers)) == [
        "key:policy/access.py",
        "key:policy/agent_data.py",
        "policy/access.py",
    ]
    with pytest.raises(TypeError):
        AgentData(None, None, None, None, None)  # type: ignore[arg-type]


def test_today_t0_and_eligibility_are_computed_once() -> None:
    """Issue 9, J: "today in the local zone", T0 and eligibility each exist in one place
    (``Workspace.today``, ``policy/scope.py``); everyone else asks there."""
    today = re.compile(r"astimezone\([^)]*zone\)\.date\(\)")
    eligibility = re.compile(r"eligible_job_families")
    t0 = re.compile(r"delivered_on|committee_opinion_on.*dpia_approved_on")
    places: dict[str, set[str]] = {"today": set(), "eligibility": set(), "t0": set()}
    for path in modules():
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(PACKAGE).as_posix()
        if today.search(text):
            places["today"].add(name)
        if eligibility.search(text) and not name.startswith(
            ("policy/register", "policy/gates", "templates", "demo/")
        ):
            places["eligibility"].add(name)
        if t0.search(text) and not name.startswith(("store/", "policy/register")):
            places["t0"].add(name)
    assert places["today"] == {"workspace.py"}
    assert places["eligibility"] == {"policy/scope.py"}
    assert places["t0"] == {"policy/scope.py"}


def test_roles_and_actions_live_in_one_table() -> None:
    """Issue 9, B: roles, actions and purposes are StrEnums of ``policy/roles.py``, with one
    permission table that both the CLI and the web read; the role names are written nowhere
    else as a list."""
    assert set(PERMISSIONS) == set(Role)
    assert Role.SYSTEM not in ACCOUNT_ROLES
    granted = set().union(*PERMISSIONS.values())
    assert granted == set(Action), set(Action) - granted
    pattern = re.compile(r"\(\s*\"operator\",\s*\"dpo\",\s*\"hr_reviewer\"")
    lists = [
        p.relative_to(PACKAGE).as_posix()
        for p in modules()
        if pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert lists == []


def test_the_web_and_the_cli_read_the_same_permission_table() -> None:
    """Issue 9, B: web routes declare actions of the table (``guard(Action.…)``) — no route
    lists roles by hand."""
    found = []
    for path in modules("web"):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"guard\(([^)]*)\)", text):
            argument = m.group(1).strip()
            if argument and not argument.startswith(("Action.", "Role.", "SIGNED_IN", "what")):
                found.append(f"{path.name}: guard({argument})")
    assert found == []
