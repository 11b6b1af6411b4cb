"""``loyaute parse``: the operator's dry run of a source (CONTRACT.md)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from loyaute.cli import app
from tests.conftest import FIXTURES

FORTIGATE = FIXTURES / "fortigate" / "vpn_day.log"


def invoke(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(app, list(args))
    rows = [json.loads(ln) for ln in result.stdout.splitlines() if ln.startswith("{")]
    return result.exit_code, rows, result.stderr


def test_one_json_object_per_line_with_the_contract_fields() -> None:
    code, rows, _ = invoke("parse", str(FORTIGATE))
    assert code == 0
    assert [r["line"] for r in rows] == list(range(1, 15))
    event = next(r for r in rows if r["line"] == 3)
    assert set(event) >= {"ts", "login", "category", "interactive", "app", "start", "end"}
    assert event["ts"] == "2026-03-02T08:00:02.500000Z"  # UTC ISO-8601
    assert event["login"] == "cmartin"
    assert event["category"] == "vpn"
    assert event["interactive"] is True
    skipped = next(r for r in rows if r["line"] == 1)
    assert skipped["skipped"] == "not_vpn_event"
    assert "category" not in skipped


def test_no_workspace_needed(tmp_path: Path) -> None:
    """parse needs no workspace: it runs where none exists."""
    code, rows, _ = invoke("--home", str(tmp_path / "nowhere"), "parse", str(FORTIGATE))
    assert code == 0
    assert rows
    assert not (tmp_path / "nowhere").exists()


def test_forced_format_and_unknown_format() -> None:
    code, rows, _ = invoke("parse", "--format", "fortigate", str(FORTIGATE))
    assert code == 0
    assert rows
    code, rows, err = invoke("parse", "--format", "nope", str(FORTIGATE))
    assert code == 2
    assert not rows
    assert "nope" in err
    assert "fortigate" in err  # says which formats exist


def test_missing_and_unrecognised_files_are_reported_and_others_still_go_through(
    tmp_path: Path,
) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 40)
    code, rows, err = invoke("parse", str(tmp_path / "missing.log"), str(junk), str(FORTIGATE))
    assert code == 1
    assert len(rows) == 14  # the readable file went through
    assert "missing.log" in err
    assert "junk.bin" in err


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    data = FORTIGATE.read_bytes() * 400
    packed = gzip.compress(data)
    broken = tmp_path / "fgt.log.gz"
    broken.write_bytes(packed[: len(packed) // 2])
    code, rows, err = invoke("parse", str(broken))
    assert code == 1
    assert 0 < len(rows) < 14 * 400
    assert "tronqué" in err or "truncated" in err


def test_config_file_maps_proxy_apps(tmp_path: Path) -> None:
    config = tmp_path / "loyaute.toml"
    config.write_text(
        '[[apps]]\nname = "ines"\nhosts = ["ines.extranet.lenord.fr"]\npaths = ["/"]\n',
        encoding="utf-8",
    )
    log = tmp_path / "access.log"
    log.write_text(
        "ines.extranet.lenord.fr:443 192.0.2.10 - jdupont [02/Mar/2026:09:15:00 +0100] "
        '"GET /ines/dossier HTTP/1.1" 200 512 "-" "Mozilla/5.0"\n',
        encoding="utf-8",
    )
    code, rows, _ = invoke("parse", "--config", str(config), str(log))
    assert code == 0
    assert rows[0]["app"] == "ines"
    assert rows[0]["category"] == "apps"
    code, rows, _ = invoke("parse", str(log))
    assert rows[0]["skipped"] == "unmapped_app"


def test_invalid_config_exits_78_with_dotted_paths(tmp_path: Path) -> None:
    config = tmp_path / "loyaute.toml"
    config.write_text('timezone = "Mars/Olympus"\n[half_days]\nam = "12:00-07:00"\nfoo = 1\n')
    code, _, err = invoke("parse", "--config", str(config), str(FORTIGATE))
    assert code == 78
    assert "timezone" in err
    assert "half_days.am" in err
    assert "half_days.foo" in err


def test_english_messages() -> None:
    result = CliRunner().invoke(app, ["--lang", "en", "parse", str(FORTIGATE)])
    assert "Files read" in result.stderr
    result = CliRunner().invoke(app, ["--lang", "fr", "parse", str(FORTIGATE)])
    assert "Lecture des fichiers" in result.stderr
