"""The legal gates A1–A7 (LEGAL.md section A) and the configuration fingerprint (A4).

``evaluate`` says for each gate whether it holds and, when it does not, what is missing in words
the DPO can act on; ``require`` refuses an action naming every failing gate it needs.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner, Result

from loyaute.cli import app
from loyaute.config import Settings
from loyaute.errors import GateError
from loyaute.policy.gates import Gate, agent_t0, common_t0, evaluate, fingerprint, require
from loyaute.policy.register import Register
from loyaute.templates import loyaute_toml, register_toml
from tests.conftest import FIXTURES

GATE_IDS = ["A1", "A2", "A3", "A4", "A5", "A6", "A7"]
NEW_OPINION = re.compile(r"nouvel avis|new opinion")

FILLED: dict[str, Any] = {
    "controller": {
        "name": "Département du Nord",
        "public_authority": True,
        "dpo_contact": "dpo@lenord.fr",
    },
    "purpose": {
        "mode": "declarative",
        "legal_basis": "public_task",
        "legal_text": "Délibération 2026-12 du 26 janvier 2026, art. 4",
        "registered_on": "2026-01-15",
        "dpia_approved_on": "2026-02-01",
        "dpia_dpo_opinion": "Favorable sous réserve du mode déclaratif",
        "dpia_staff_views": "Recueillies le 20 janvier 2026",
        "dpia_residual_risk": "medium",
        "committee_opinion_on": "2026-02-10",
        "committee_minutes_ref": "CST-2026-02-PV",
        "deliberation_effective_on": "2026-03-01",
        "eligible_job_families": ["informatique", "administratif"],
    },
}


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with dotted-key changes applied (``{"purpose.k_min": 12}``)."""
    data = copy.deepcopy(base)
    for dotted, value in changes.items():
        *tables, key = dotted.split(".")
        node = data
        for t in tables:
            node = node.setdefault(t, {})
        node[key] = value
    return data


def settings_with(**changes: Any) -> Settings:
    """Default settings with dotted-key changes (``half_days.am``)."""
    return Settings.model_validate(merged(Settings().model_dump(), _dotted(changes)))


def _dotted(changes: dict[str, Any]) -> dict[str, Any]:
    return {k.replace("__", "."): v for k, v in changes.items()}


def register_with(settings: Settings | None = None, **changes: Any) -> Register:
    """The filled register with changes; the committee saw the *resulting* configuration unless
    ``purpose__committee_config_fingerprint`` is given."""
    data = merged(FILLED, _dotted(changes))
    reg = Register.model_validate(data)
    if "purpose.committee_config_fingerprint" not in _dotted(changes):
        data["purpose"]["committee_config_fingerprint"] = fingerprint(settings or Settings(), reg)
        reg = Register.model_validate(data)
    return reg


def gate(gates: list[Gate], gid: str) -> Gate:
    (found,) = [g for g in gates if g.id == gid]
    return found


def state(settings: Settings, register: Register, without_notice: int = 0) -> dict[str, bool]:
    return {g.id: g.ok for g in evaluate(settings, register, without_notice)}


def test_evaluate_returns_a1_to_a7_in_order() -> None:
    """Rules A1–A7: one entry per gate, in order, each with a title and a reason."""
    gates = evaluate(Settings(), Register())
    assert [g.id for g in gates] == GATE_IDS
    assert all(g.title and g.reason for g in gates)


def test_a_filled_register_holds_every_gate() -> None:
    """Rules A1–A7: the baseline the other tests break one field at a time."""
    assert state(Settings(), register_with()) == dict.fromkeys(GATE_IDS, True)


def test_a_fresh_register_holds_no_gate_a1_to_a5() -> None:
    """Rules A1–A5: init's empty register blocks everything."""
    s = state(Settings(), Register())
    assert [gid for gid in ("A1", "A2", "A3", "A4", "A5") if s[gid]] == []


# --- A1 -----------------------------------------------------------------------------------------


def test_a1_names_every_missing_field_of_a_fresh_register() -> None:
    """Rule A1: the refusal names each missing field."""
    a1 = gate(evaluate(Settings(), Register()), "A1")
    assert not a1.ok
    for name in (
        "controller.name",
        "controller.dpo_contact",
        "purpose.legal_basis",
        "purpose.legal_text",
        "purpose.registered_on",
    ):
        assert name in a1.reason


@pytest.mark.parametrize(
    ("field", "empty"),
    [
        ("controller.name", ""),
        ("controller.name", "   "),
        ("controller.dpo_contact", ""),
        ("purpose.legal_basis", ""),
        ("purpose.legal_text", ""),
        ("purpose.legal_text", " \t"),
        ("purpose.registered_on", ""),
    ],
)
def test_a1_fails_naming_the_one_missing_field(field: str, empty: Any) -> None:
    """Rule A1 (art. 30): controller, DPO, legal basis and text, registration date — each
    missing one blocks and is named alone (categories, recipients and security measures are
    derived from the configuration: tests/test_documents_truth.py)."""
    reg = register_with(**{field.replace(".", "__"): empty})
    a1 = gate(evaluate(Settings(), reg), "A1")
    assert not a1.ok
    assert field in a1.reason
    others = {
        "controller.name",
        "controller.dpo_contact",
        "purpose.legal_text",
        "purpose.registered_on",
    } - {field}
    assert not [o for o in others if o in a1.reason]


def test_a1_holds_when_filled() -> None:
    """Rule A1: filled and registered, the gate holds and says when."""
    a1 = gate(evaluate(Settings(), register_with()), "A1")
    assert a1.ok
    assert "2026-01-15" in a1.reason


# --- A2 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "purpose.dpia_approved_on",
        "purpose.dpia_dpo_opinion",
        "purpose.dpia_staff_views",
        "purpose.dpia_residual_risk",
    ],
)
def test_a2_needs_each_dpia_item(field: str) -> None:
    """Rule A2: approval date, DPO opinion, staff views, residual risk — each one is needed."""
    reg = register_with(**{field.replace(".", "__"): ""})
    a2 = gate(evaluate(Settings(), reg), "A2")
    assert not a2.ok
    assert field in a2.reason


@pytest.mark.parametrize("risk", ["low", "medium"])
def test_a2_low_or_medium_risk_needs_no_cnil_consultation(risk: str) -> None:
    """Rule A2 / art. 36 boundary: below "high" no CNIL prior consultation is needed."""
    reg = register_with(purpose__dpia_residual_risk=risk)
    assert gate(evaluate(Settings(), reg), "A2").ok


def test_a2_high_risk_needs_the_cnil_consultation_reference() -> None:
    """Rule A2 / art. 36: residual risk "high" needs cnil_consultation_ref."""
    reg = register_with(purpose__dpia_residual_risk="high")
    a2 = gate(evaluate(Settings(), reg), "A2")
    assert not a2.ok
    assert "cnil_consultation_ref" in a2.reason
    reg = register_with(
        purpose__dpia_residual_risk="high", purpose__cnil_consultation_ref="CNIL 2026-0042"
    )
    assert gate(evaluate(Settings(), reg), "A2").ok


def test_a2_crosscheck_needs_the_subsidiarity_section() -> None:
    """Rules A2, D2: cross-check mode needs dpia_subsidiarity; declarative mode does not."""
    assert gate(evaluate(Settings(), register_with()), "A2").ok  # declarative, no subsidiarity
    reg = register_with(purpose__mode="crosscheck")
    a2 = gate(evaluate(Settings(), reg), "A2")
    assert not a2.ok
    assert "dpia_subsidiarity" in a2.reason
    blank = register_with(purpose__mode="crosscheck", purpose__dpia_subsidiarity="   ")
    assert not gate(evaluate(Settings(), blank), "A2").ok
    reg = register_with(
        purpose__mode="crosscheck",
        purpose__dpia_subsidiarity="Les déclarations seules ne permettent pas …",
    )
    assert gate(evaluate(Settings(), reg), "A2").ok


# --- A3 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("basis", ["public_task", "legal_obligation"])
def test_a3_holds_with_public_task_or_legal_obligation(basis: str) -> None:
    """Rule A3: art. 6(1)(e) or 6(1)(c), with its legal text."""
    a3 = gate(evaluate(Settings(), register_with(purpose__legal_basis=basis)), "A3")
    assert a3.ok
    assert basis in a3.reason


def test_a3_needs_the_legal_text() -> None:
    """Rule A3: the basis alone is not enough — the text it rests on is needed."""
    a3 = gate(evaluate(Settings(), register_with(purpose__legal_text="")), "A3")
    assert not a3.ok
    assert "legal_text" in a3.reason


@pytest.mark.parametrize("basis", ["legitimate_interest", "consent", ""])
def test_a3_fails_on_other_bases(basis: str) -> None:
    """Rule A3: legitimate interest or consent never open the gate (a private-law controller
    passes config check with them, but this purpose still needs 6(1)(e) or 6(1)(c))."""
    reg = register_with(controller__public_authority=False, purpose__legal_basis=basis)
    assert not gate(evaluate(Settings(), reg), "A3").ok


@pytest.mark.parametrize("basis", ["legitimate_interest", "consent"])
def test_a3_public_authority_register_does_not_validate(basis: str) -> None:
    """Rule A3: a public authority's register with legitimate interest or consent is invalid."""
    with pytest.raises(ValidationError, match="A3"):
        register_with(purpose__legal_basis=basis)


# --- A4 and the fingerprint ---------------------------------------------------------------------


def test_fingerprint_is_64_hex_and_stable() -> None:
    """Rule A4: a SHA-256 hex digest, the same for equal configurations built separately."""
    fp = fingerprint(Settings(), register_with())
    assert re.fullmatch(r"[0-9a-f]{64}", fp)
    assert fingerprint(Settings(), register_with()) == fp
    assert fingerprint(Settings.model_validate({}), Register.model_validate(FILLED)) == fp
    reordered = register_with(purpose__eligible_job_families=["administratif", "informatique"])
    assert fingerprint(Settings(), reordered) == fp


EXTRA_APP = {"name": "grand-angle", "hosts": ["grandangle.extranet.example.org"], "paths": ["/"]}
GENERIC = {"name": "badgeuse", "format": "csv", "category": "apps", "login": "user"}


@pytest.mark.parametrize(
    ("settings_changes", "register_changes"),
    [
        pytest.param(
            {"sources.enabled": [*Settings().sources.enabled, "csv"]}, {}, id="source-added"
        ),
        pytest.param({"sources.enabled": ["fortigate"]}, {}, id="sources-removed"),
        pytest.param(
            {
                "sources.generic": [GENERIC],
                "sources.enabled": [*Settings().sources.enabled, "badgeuse"],
            },
            {},
            id="generic-source",
        ),
        pytest.param({"apps": [EXTRA_APP]}, {}, id="app-added"),
        pytest.param({"half_days.am": "07:30-12:30"}, {}, id="am-window"),
        pytest.param({"half_days.pm": "12:30-19:00"}, {}, id="pm-window"),
        pytest.param({"schedule.codes.telework": ["TLT", "TT", "TLTX"]}, {}, id="telework-code"),
        pytest.param({"schedule.codes.on_site": ["PRES"]}, {}, id="on-site-code"),
        pytest.param({"sources.exchange.count_background": True}, {}, id="count-background"),
        pytest.param({"timezone": "Europe/Brussels"}, {}, id="timezone"),
        pytest.param({}, {"purpose.retention_after_month_end_days": 30}, id="retention-shorter"),
        pytest.param(
            {},
            {
                "purpose.retention_after_month_end_days": 62,
                "purpose.retention_justification": "AIPD §4",
            },
            id="retention-longer",
        ),
        pytest.param({}, {"purpose.audit_retention_months": 24}, id="audit-retention"),
        pytest.param(
            {},
            {"purpose.eligible_job_families": ["informatique", "administratif", "social"]},
            id="job-family-added",
        ),
        pytest.param({}, {"purpose.mode": "crosscheck"}, id="mode"),
        pytest.param({}, {"purpose.k_min": 11}, id="k-min"),
        pytest.param({}, {"validity_study.enabled": True}, id="validity-study"),
    ],
)
def test_fingerprint_changes_with_each_material_change(
    settings_changes: dict[str, Any], register_changes: dict[str, Any]
) -> None:
    """Rule A4: a new source, a new output, a longer retention, a new eligible family — any
    material change of what the committee was shown changes the fingerprint."""
    base = fingerprint(Settings(), Register.model_validate(FILLED))
    settings = Settings.model_validate(merged(Settings().model_dump(), settings_changes))
    register = Register.model_validate(merged(FILLED, register_changes))
    assert fingerprint(settings, register) != base


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("controller.name", "Conseil départemental du Nord"),
        ("controller.dpo_contact", "dpo2@lenord.fr"),
        ("purpose.registered_on", "2026-01-20"),
        ("purpose.committee_opinion_on", "2026-02-12"),
        ("purpose.committee_minutes_ref", "CST-2026-03-PV"),
        ("purpose.committee_config_fingerprint", "f" * 64),
        ("purpose.dpia_dpo_opinion", "Favorable"),
        ("purpose.dpia_staff_views", "Autres vues"),
        ("purpose.dpia_approved_on", "2026-02-03"),
        ("purpose.deliberation_effective_on", "2026-03-02"),
        ("purpose.cnil_consultation_ref", "CNIL 2026-0042"),
        ("purpose.legal_text", "Délibération 2026-12, art. 5"),
    ],
)
def test_fingerprint_ignores_gate_dates_and_references(field: str, value: str) -> None:
    """Rule A4: filling the gates (dates, references, the opinion's own fingerprint) is not a
    change of configuration — otherwise recording the opinion would invalidate it."""
    base = fingerprint(Settings(), Register.model_validate(FILLED))
    changed = Register.model_validate(merged(FILLED, {field: value}))
    assert fingerprint(Settings(), changed) == base


def test_fingerprint_ignores_ingest_tuning() -> None:
    """Rule A4: worker count and chunk size change how fast, not what is processed."""
    base = fingerprint(Settings(), register_with())
    tuned = settings_with(ingest__workers=4, ingest__chunk_bytes=1 << 20)
    assert fingerprint(tuned, register_with()) == base


def test_a4_holds_when_the_committee_saw_the_current_configuration() -> None:
    """Rule A4: opinion date, minutes and the current fingerprint recorded — the gate holds."""
    a4 = gate(evaluate(Settings(), register_with()), "A4")
    assert a4.ok
    assert "CST-2026-02-PV" in a4.reason


@pytest.mark.parametrize(
    "field",
    [
        "purpose.committee_opinion_on",
        "purpose.committee_minutes_ref",
        "purpose.committee_config_fingerprint",
    ],
)
def test_a4_needs_date_minutes_and_fingerprint(field: str) -> None:
    """Rule A4: the opinion is recorded with its date, minutes reference and fingerprint."""
    reg = register_with(**{field.replace(".", "__"): ""})
    a4 = gate(evaluate(Settings(), reg), "A4")
    assert not a4.ok
    assert field in a4.reason


def test_a4_a_different_fingerprint_asks_for_a_new_opinion() -> None:
    """Rule A4: an opinion on another configuration does not count — "new opinion" needed."""
    reg = register_with(purpose__committee_config_fingerprint="0" * 64)
    a4 = gate(evaluate(Settings(), reg), "A4")
    assert not a4.ok
    assert NEW_OPINION.search(a4.reason)


def test_a4_a_source_added_after_the_opinion_blocks_individual_outputs() -> None:
    """Rule A4 ("what a test shows"): change a source in the config; individual outputs refuse
    and say why."""
    reg = register_with()  # the committee saw the default settings
    changed = settings_with(sources__enabled=[*Settings().sources.enabled, "csv"])
    gates = evaluate(changed, reg)
    assert gate(gates, "A4").ok is False
    assert NEW_OPINION.search(gate(gates, "A4").reason)
    with pytest.raises(GateError) as info:
        require(gates, ["A1", "A2", "A3", "A4", "A5"], "case show")
    assert "A4" in str(info.value)
    assert NEW_OPINION.search(str(info.value))
    # and a new opinion on the new configuration lifts it
    renewed = register_with(changed, purpose__committee_opinion_on="2026-04-02")
    assert gate(evaluate(changed, renewed), "A4").ok


# --- A5 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "notice", "expected"),
    [
        pytest.param({}, "2026-04-01", date(2026, 4, 1), id="notice-latest"),
        pytest.param(
            {"purpose__committee_opinion_on": "2026-05-01"},
            "2026-03-15",
            date(2026, 5, 1),
            id="committee-latest",
        ),
        pytest.param(
            {"purpose__dpia_approved_on": "2026-05-02"},
            "2026-03-15",
            date(2026, 5, 2),
            id="dpia-latest",
        ),
        pytest.param(
            {"purpose__deliberation_effective_on": "2026-05-03"},
            "2026-03-15",
            date(2026, 5, 3),
            id="deliberation-latest",
        ),
        pytest.param({}, "2026-03-01", date(2026, 3, 1), id="notice-on-the-common-date"),
        pytest.param({}, "2025-12-01", date(2026, 3, 1), id="notice-before-everything"),
    ],
)
def test_a5_t0_is_the_latest_of_the_four_dates(
    changes: dict[str, str], notice: str, expected: date
) -> None:
    """Rule A5: T0 = max(notice, committee opinion, DPIA approval, délibération)."""
    assert agent_t0(register_with(**changes), notice) == expected


@pytest.mark.parametrize("notice", [None, ""])
def test_a5_no_notice_no_t0(notice: str | None) -> None:
    """Rules A5, A7: an agent without a delivery date has no T0."""
    assert agent_t0(register_with(), notice) is None


@pytest.mark.parametrize(
    "field",
    [
        "purpose__committee_opinion_on",
        "purpose__dpia_approved_on",
        "purpose__deliberation_effective_on",
    ],
)
def test_a5_a_missing_common_date_means_no_t0(field: str) -> None:
    """Rule A5: without any one of the common dates there is no T0 for anyone, and gate A5 names
    the missing date."""
    reg = register_with(**{field: ""})
    assert common_t0(reg) is None
    assert agent_t0(reg, "2026-04-01") is None
    a5 = gate(evaluate(Settings(), reg), "A5")
    assert not a5.ok
    assert field.replace("__", ".") in a5.reason


def test_a5_common_t0() -> None:
    """Rule A5: the common part of T0 is the latest of opinion, DPIA and délibération."""
    assert common_t0(register_with()) == date(2026, 3, 1)
    assert gate(evaluate(Settings(), register_with()), "A5").ok


# --- A7 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "ok"), [(0, True), (1, False), (3, False)])
def test_a7_counts_agents_without_notice(count: int, ok: bool) -> None:
    """Rule A7: every agent's delivery date is recorded; the gate counts those without."""
    a7 = gate(evaluate(Settings(), register_with(), count), "A7")
    assert a7.ok is ok
    if not ok:
        assert re.search(rf"\b{count}\b", a7.reason)


# --- require ------------------------------------------------------------------------------------


def test_require_names_every_failing_gate_requested() -> None:
    """Rules A1–A7: the refusal names each failing gate asked for, with its reason, and exits 1."""
    gates = evaluate(Settings(), Register(), agents_without_notice=2)
    with pytest.raises(GateError) as info:
        require(gates, ["A1", "A2", "A4", "A6", "A7"], "ingest")
    message = str(info.value)
    assert info.value.exit_code == 1
    for gid in ("A1", "A2", "A4", "A7"):
        assert re.search(rf"\b{gid}\b", message), gid
    assert "controller.name" in message
    assert "ingest" in message
    assert not re.search(r"\bA3\b", message)  # failing, but not asked for
    assert not re.search(r"\bA5\b", message)
    assert not re.search(r"\bA6\b", message)  # asked for, but holds


def test_require_passes_when_the_requested_gates_hold() -> None:
    """Rules A1–A7: holding gates let the action through; a failing gate not asked for too."""
    gates = evaluate(Settings(), register_with(), agents_without_notice=4)
    require(gates, ["A1", "A2", "A3", "A4", "A5", "A6"], "report presence")
    with pytest.raises(GateError):
        require(gates, ["A7"], "report presence")


# --- the CLI ------------------------------------------------------------------------------------


def run(home: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--home", str(home), *args])


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    assert run(path, "init").exit_code == 0
    return path


def test_cli_gates_on_a_fresh_workspace(home: Path) -> None:
    """Rules A1–A7, CONTRACT ``gates``: exit 1 and a line for each gate, with its reason."""
    result = run(home, "gates")
    assert result.exit_code == 1
    for gid in GATE_IDS:
        assert re.search(rf"^\W*{gid}\W", result.stdout, re.MULTILINE), gid
    assert "controller.name" in result.stdout


def test_cli_gates_fingerprint_prints_only_the_fingerprint(home: Path) -> None:
    """CONTRACT ``gates --fingerprint``: only the current fingerprint (hex), exit 0."""
    result = run(home, "gates", "--fingerprint")
    assert result.exit_code == 0
    assert re.fullmatch(r"[0-9a-f]{64}\n", result.stdout)
    assert result.stdout.strip() == fingerprint(Settings(), Register())
    full = run(home, "gates")
    assert result.stdout.strip() in full.stdout.replace("\n", "")


def test_cli_gates_hold_after_the_dpo_fills_the_register(home: Path) -> None:
    """Rules A1–A7 end to end: the DPO fills the register, the committee is shown
    ``gates --fingerprint``, the DPO records it, every agent gets the notice — ``gates`` exits 0.
    A source added afterwards changes the fingerprint and blocks again on A4 (rule A4)."""
    register = home / "register.toml"
    register.write_text(
        register_toml(register_with(purpose__committee_config_fingerprint="")), encoding="utf-8"
    )
    shown = run(home, "gates", "--fingerprint").stdout.strip()
    register.write_text(
        register_toml(register_with(purpose__committee_config_fingerprint=shown)), encoding="utf-8"
    )
    assert run(home, "gates", "--fingerprint").stdout.strip() == shown
    directory = FIXTURES / "workspace" / "directory.csv"
    assert run(home, "directory", "import", str(directory)).exit_code == 0
    partial = run(home, "notice", "record", "--agent", "A001", "--on", "2026-03-02")
    assert partial.exit_code == 0, partial.stderr
    blocked = run(home, "gates")
    assert blocked.exit_code == 1
    assert re.search(r"A7\W.*\b2 agent", blocked.stdout)
    assert run(home, "notice", "record", "--all", "--on", "2026-03-02").exit_code == 0
    result = run(home, "gates")
    assert result.exit_code == 0, result.stdout

    changed = settings_with(sources__enabled=[*Settings().sources.enabled, "csv"])
    (home / "loyaute.toml").write_text(loyaute_toml(changed), encoding="utf-8")
    assert run(home, "gates", "--fingerprint").stdout.strip() != shown
    again = run(home, "gates")
    assert again.exit_code == 1
    assert re.search(r"^\W*A4\W", again.stdout, re.MULTILINE)
