"""The README's two commands in either order (issue 12): `make demo` leaves ./loyaute-home
behind, and no test may read it — the autouse fixture of tests/conftest.py points LOYAUTE_HOME
at a temporary folder, and every command honours it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyaute.cli import app

LOG = (
    "ines.extranet.lenord.fr:443 192.0.2.10 - jdupont [02/Mar/2026:09:15:00 +0100] "
    '"GET /ines/dossier HTTP/1.1" 200 512 "-" "Mozilla/5.0"\n'
)


def test_a_demo_workspace_in_the_current_directory_is_never_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ./loyaute-home whose loyaute.toml maps the application: `parse` without --config does
    not see it (it reads $LOYAUTE_HOME, set by the fixture), so the line stays unmapped."""
    poisoned = tmp_path / "loyaute-home"
    poisoned.mkdir()
    (poisoned / "loyaute.toml").write_text(
        '[[apps]]\nname = "ines"\nhosts = ["ines.extranet.lenord.fr"]\npaths = ["/"]\n',
        encoding="utf-8",
    )
    log = tmp_path / "access.log"
    log.write_text(LOG, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["parse", str(log)])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout.splitlines()[0])
    assert row.get("skipped") == "unmapped_app", row
    # the control: the same workspace named explicitly is read
    result = CliRunner().invoke(app, ["--home", str(poisoned), "parse", str(log)])
    assert json.loads(result.stdout.splitlines()[0])["app"] == "ines"
