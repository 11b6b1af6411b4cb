"""The command line's own words (issue 12): help headings and usage errors in the command's
language, through the console script as a person runs it — French by default, English with
``LOYAUTE_LANG=en`` — with Click's exit codes unchanged (2 for a usage error)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

LOYAUTE = Path(sys.executable).with_name("loyaute")
"""The console script, as a person runs it (its name is the one the messages show)."""

ENGLISH_CLICK = (
    "Usage:",
    "Error:",
    "Try '",
    "Show this message",
    "No such",
    "Missing ",
    "[default",
)


def _run(tmp_path: Path, *args: str, lang: str = "fr") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LOYAUTE_LANG=lang)
    env.pop("LOYAUTE_HOME", None)
    return subprocess.run(
        [str(LOYAUTE), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--nosuch",), "Erreur : option inconnue : --nosuch"),
        (("repport",), "Erreur : commande inconnue : « repport » Vouliez-vous dire 'report' ?"),
        (("directory", "import"), "Erreur : argument manquant : 'file'"),
        (("demo", "--agents", "many"), "Erreur : valeur invalide pour '--agents' : "),
    ],
)
def test_a_usage_error_is_said_in_french_with_clicks_exit_code(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    done = _run(tmp_path, *args)
    assert done.returncode == 2
    assert said in done.stderr
    assert "Utilisation : loyaute" in done.stderr
    assert "Aide : « loyaute" in done.stderr
    assert [w for w in ENGLISH_CLICK if w in done.stderr] == []
    assert done.stdout == ""


def test_the_same_error_in_english_on_request(tmp_path: Path) -> None:
    done = _run(tmp_path, "--nosuch", lang="en")
    assert done.returncode == 2
    assert "Usage: loyaute" in done.stderr
    assert "Error: no such option: --nosuch" in done.stderr
    assert "Erreur" not in done.stderr


def test_help_pages_have_french_headings_and_notes(tmp_path: Path) -> None:
    done = _run(tmp_path, "demo", "--help")
    assert done.returncode == 0
    text = done.stdout
    assert text.startswith("Utilisation : loyaute demo")
    assert "Options :" in text
    assert "[défaut : 500; 10<=x<=20000]" in text
    assert "[variable d'environnement : PORT; défaut : 8000]" in text
    assert "Afficher cette aide et quitter." in text
    assert [w for w in ENGLISH_CLICK if w in text] == []
    group = _run(tmp_path, "--help").stdout
    assert "Commandes :" in group
    english = _run(tmp_path, "demo", "--help", lang="en").stdout
    assert english.startswith("Usage: loyaute demo")
    assert "[env var: PORT; default: 8000]" in english
    assert "Show this message and exit." in english


def test_a_group_without_its_command_shows_its_help(tmp_path: Path) -> None:
    done = _run(tmp_path, "account")
    assert done.returncode == 2
    assert "Commandes :" in done.stderr
    assert "Erreur" not in done.stderr


def test_the_commands_own_exit_codes_pass_through(tmp_path: Path) -> None:
    """A command's refusal keeps its code: no workspace here is exit 1 with loyaute's message."""
    done = _run(tmp_path, "gates")
    assert done.returncode not in (0, 2)
    assert "pas d'espace de travail" in done.stderr
    version = _run(tmp_path, "--version")
    assert version.returncode == 0
    assert version.stdout.startswith("loyaute ")


def test_lang_option_words_the_help_too(tmp_path: Path) -> None:
    """``--lang en`` among the root options reaches the help texts, worded when the command line
    is built; a command's own ``--lang`` (the documents' language) does not switch the CLI."""
    done = _run(tmp_path, "--lang", "en", "demo", "--help")
    assert done.stdout.startswith("Usage: loyaute demo")
    assert "Number of agents." in done.stdout
    error = _run(tmp_path, "--home", "x", "--lang=en", "--nosuch")
    assert "Error: no such option: --nosuch" in error.stderr
    docs = _run(tmp_path, "docs", "--lang", "en", "--help")
    assert docs.stdout.startswith("Utilisation : loyaute docs")
