"""Rule D1: the vocabulary is "trace recorded" / "no digital trace recorded" — never "absent",
"inactive", "not working" or "fraud", anywhere: code and its enums, messages, templates, the CLI's
help in French and English, exports, documents and reports.

"absence" is another word and is allowed: the I2 sentence says « l'absence de trace numérique ne
démontre pas une absence de travail ».
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.i18n import lang, set_lang
from loyaute.ingest.pipeline import DROP_RULES
from loyaute.policy.agent_data import RECORD_COLUMNS, STATUSES
from loyaute.policy.documents import write_document
from loyaute.policy.rights import DECLARATION_KINDS, annotate, open_dispute
from loyaute.policy.roles import Action, Purpose, Role
from loyaute.reports.access_export import write_export
from loyaute.reports.presence import PRESENCE_COLUMNS
from loyaute.reports.runner import NO_PROOF
from loyaute.reports.validity import VALIDITY_COLUMNS
from loyaute.sources.base import Reason
from tests.builders import DPO, agent, cli_env
from tests.conftest import ROOT
from tests.policy import test_cases as cases_mod
from tests.reports.test_presence import NOW

PACKAGE = ROOT / "loyaute"

# The banned words of D1 (and the forms French and English give them), whole words only.
BANNED = re.compile(
    r"\b("
    r"absent(?:e|s|es)?"  # absent, absente(s)
    r"|inacti(?:f|fs|ve|ves)"  # inactif(s), inactive(s) — French and English
    r"|inactivit(?:é|és|y|ies)"  # inactivité, inactivity
    r"|not\s+working"
    r"|fraud(?:e|es|s|ulent|uleux|uleuse|uleuses)?"  # fraud, fraude, frauduleux…
    r")\b",
    re.IGNORECASE,
)


def banned_words(text: str) -> list[str]:
    """Every banned word in ``text``."""
    return [m.group(0) for m in BANNED.finditer(text)]


def hits(name: str, text: str) -> list[str]:
    """``name:line: word — line`` for every banned word."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        for word in banned_words(line):
            out.append(f"{name}:{number}: {word!r} — {line.strip()[:120]}")
    return out


@pytest.fixture(autouse=True)
def keep_language() -> Iterator[None]:
    before = lang()
    yield
    set_lang(before)


# --- the scanner itself --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sample",
    [
        "Agent absent le lundi",
        "ABSENT",
        "l'agente est absente",
        "statut : inactif",
        "Inactive agents",
        "taux d'inactivité",
        "inactivity score",
        "agent not working",
        "Not   Working",
        "suspicion de fraude",
        "fraud alert",
        "comportement frauduleux",
        'status = "absent"',
    ],
)
def test_d1_scanner_catches_banned_words(sample: str) -> None:
    """D1: the scanner is not vacuous — each banned word is caught, in any case."""
    assert banned_words(sample)
    assert hits("sample", f"ok\n{sample}\n") == [
        f"sample:2: {w!r} — {sample.strip()[:120]}" for w in banned_words(sample)
    ]


@pytest.mark.parametrize(
    "sample",
    [
        *NO_PROOF,
        "aucune trace numérique enregistrée",
        "no digital trace recorded",
        "trace recorded",
        "l'absence de trace",
        "absences",
        "absentéisme",  # another word (not in the list)
        "interactive",
        "activity",
    ],
)
def test_d1_scanner_allows_the_right_vocabulary(sample: str) -> None:
    """D1: the prescribed vocabulary, "absence" and words merely containing a banned one pass."""
    assert banned_words(sample) == []


# --- the code, its enums and its templates -------------------------------------------------------


def package_files() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    )


def test_d1_sources_messages_and_templates() -> None:
    """D1: no file of the package — Python sources (messages, enums, comments), templates of
    exports and documents — uses a banned word."""
    files = package_files()
    assert any(p.suffix == ".py" for p in files)
    assert any(p.parent.name == "docs" and p.suffix == ".md" for p in files)
    assert any(p.suffix == ".html" for p in files)
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        found += hits(str(path.relative_to(ROOT)), text)
    assert found == [], "\n".join(found)


def test_d1_enums_and_columns() -> None:
    """D1: statuses, declaration kinds, roles, actions, drop reasons, skip reasons and columns."""
    values: list[str] = [
        *STATUSES,
        *DECLARATION_KINDS,
        *(r.value for r in Role),
        *(a.value for a in Action),
        *(p.value for p in Purpose),
        *RECORD_COLUMNS,
        *PRESENCE_COLUMNS,
        *VALIDITY_COLUMNS,
        *(r.value for r in Reason),
        *(str(r) for r in DROP_RULES),
    ]
    assert "no_trace" in values
    assert [v for v in values if banned_words(v.replace("_", " "))] == []


# --- the CLI's help, in both languages -----------------------------------------------------------

HELP_SCRIPT = """
from typer.main import get_command
from typer.testing import CliRunner
from loyaute.cli import app

def walk(command, path):
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from walk(sub, [*path, name])

runner = CliRunner()
for path in walk(get_command(app), []):
    result = runner.invoke(app, [*path, "--help"])
    print("=== " + " ".join(path) + f" exit={result.exit_code}")
    print(result.output)
"""


@pytest.mark.parametrize(
    ("language", "marker"),
    [("fr", "Espace de travail (défaut ./loyaute-home)"), ("en", "Workspace (default")],
)
def test_d1_cli_help_in_both_languages(language: str, marker: str) -> None:
    """D1: the --help of every command and sub-command, in French and in English (the language
    is chosen when the CLI is loaded, so each language runs in its own interpreter)."""
    env = {**os.environ, "LOYAUTE_LANG": language, "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", HELP_SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    blocks = done.stdout.split("=== ")[1:]
    assert len(blocks) >= 30  # every command and sub-command was asked for its help
    assert all(" exit=0" in b.splitlines()[0] for b in blocks), [
        b.splitlines()[0] for b in blocks if " exit=0" not in b.splitlines()[0]
    ]
    assert "report presence" in done.stdout
    assert marker in " ".join(done.stdout.split())
    found = hits(f"help[{language}]", done.stdout)
    assert found == [], "\n".join(found)


# --- what the product writes ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An access export, the three documents (fr, en; Markdown, HTML), the presence and validity
    reports and a case view in every format, from a workspace with data of every kind."""
    root = tmp_path_factory.mktemp("vocabulary")
    ws = cases_mod.make(root)
    texts: dict[str, str] = {}
    try:
        annotate(ws, agent("VF01"), date(2026, 3, 19), "PM", "réunion")
        open_dispute(ws, agent("VF01"), date(2026, 3, 16), "AM", "panne du VPN")
        case_id = cases_mod.open_vf01(ws)
        write_export(ws, DPO, "VF01", root / "export")
        for path in sorted((root / "export").iterdir()):
            texts[f"export/{path.name}"] = path.read_text(encoding="utf-8")
        for kind in ("register", "dpia", "notice"):
            for language in ("fr", "en"):
                for ext in ("md", "html"):
                    out = write_document(ws, kind, root / f"{kind}.{language}.{ext}", language)
                    texts[out.name] = out.read_text(encoding="utf-8")
        home = ws.paths.home
    finally:
        ws.close()
    language_before = lang()
    patch = pytest.MonkeyPatch()
    patch.setattr("loyaute.workspace.SystemClock", lambda: FixedClock(NOW))
    try:
        runner = CliRunner()
        for language in ("fr", "en"):
            for fmt in ("table", "csv", "json"):
                for args in (
                    ["report", "presence", "--period", "week"],
                    ["report", "presence", "--by", "job_family", "--period", "month"],
                    ["report", "validity"],
                    ["case", "show", str(case_id)],
                ):
                    result = runner.invoke(
                        app,
                        ["--home", str(home), "--lang", language, *args, "--format", fmt],
                        env={"COLUMNS": "200", **cli_env(home, cases_mod.REVIEWER_ID)},
                    )
                    assert result.exit_code == 0, (args, result.stderr)
                    texts[f"{' '.join(args[:2])} {fmt} {language}"] = result.stdout + result.stderr
    finally:
        patch.undo()
        set_lang(language_before)
    return texts


def test_d1_outputs(outputs: dict[str, str]) -> None:
    """D1: nothing the product writes — access export, documents, reports, case view — uses a
    banned word."""
    assert {"export/records.csv", "export/export.json", "export/index.html"} <= set(outputs)
    assert len([k for k in outputs if k.startswith(("register", "dpia", "notice"))]) == 12
    assert "disputed" in outputs["export/records.csv"]
    assert json.loads(outputs["export/export.json"])["annotations"]
    found = []
    for name, text in sorted(outputs.items()):
        found += hits(name, text)
    assert found == [], "\n".join(found)
