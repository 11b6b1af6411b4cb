"""Every rule of ../shared/spec/LEGAL.md is named by at least one test (issue 9): a test name
``test_b3_…`` or the words "rule B3" / "B3:" in a test file. A rule a later issue brings is
listed in ``PENDING`` with that issue — and the test fails as soon as it is covered, so the list
never lies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

LEGAL = ROOT.parent / "shared" / "spec" / "LEGAL.md"
TESTS = ROOT / "tests"

PENDING: dict[str, str] = {}


def rules() -> list[str]:
    """Rule IDs of LEGAL.md: table rows (``| A1 |``), refusals (``C1 …``), rights and audit."""
    text = LEGAL.read_text(encoding="utf-8")
    found = set(re.findall(r"^\|\s*([A-I]\d+)\s*\|", text, re.MULTILINE))
    found |= set(re.findall(r"(?:^|·)\s*([CGHI]\d+)\s", text, re.MULTILINE))
    return sorted(found, key=lambda r: (r[0], int(r[1:])))


def named_in_tests() -> set[str]:
    found: set[str] = set()
    for path in TESTS.rglob("test_*.py"):
        text = path.read_text(encoding="utf-8")
        found |= {m.upper() for m in re.findall(r"def test_([a-i]\d+)_", text)}
        found |= set(re.findall(r"\brules?\s+([A-I]\d+)\b", text))
        found |= set(re.findall(r"\b([A-I]\d+)[:/]", text))
    return found


@pytest.fixture(scope="module")
def legal() -> list[str]:
    if not LEGAL.is_file():
        pytest.skip("../shared/spec/LEGAL.md is absent")
    return rules()


def test_the_rulebook_is_read(legal: list[str]) -> None:
    """The parser finds the whole rulebook (not vacuous): A1–A7, B1–B6, C1–C10, D1–D6, E1–E9,
    F1–F6, G1–G4, H1–H5, I1–I3."""
    expected = (
        [f"A{i}" for i in range(1, 8)]
        + [f"B{i}" for i in range(1, 7)]
        + [f"C{i}" for i in range(1, 11)]
        + [f"D{i}" for i in range(1, 7)]
        + [f"E{i}" for i in range(1, 10)]
        + [f"F{i}" for i in range(1, 7)]
        + [f"G{i}" for i in range(1, 5)]
        + [f"H{i}" for i in range(1, 6)]
        + [f"I{i}" for i in range(1, 4)]
    )
    assert legal == expected


def test_every_rule_is_named_by_a_test(legal: list[str]) -> None:
    named = named_in_tests()
    missing = [r for r in legal if r not in named and r not in PENDING]
    assert missing == [], f"rules no test names: {missing}"


def test_pending_rules_are_really_pending(legal: list[str]) -> None:
    """A rule marked pending that a test now names must leave ``PENDING``."""
    named = named_in_tests()
    assert sorted(r for r in PENDING if r in named) == []
    assert set(PENDING) <= set(legal)


def test_scanner_is_not_vacuous(tmp_path: Path) -> None:
    assert {"A1", "E9", "D5"} <= named_in_tests()
