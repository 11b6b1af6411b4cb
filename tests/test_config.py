"""loyaute.toml: typed, closed, every problem reported with its dotted path."""

from __future__ import annotations

from pathlib import Path

import pytest

from loyaute.config import Settings, load_settings, window_minutes
from loyaute.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "loyaute.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))
    assert info.value.exit_code == 78
    return {p.path: p.message for p in info.value.problems}


def test_defaults_are_the_contract() -> None:
    s = Settings()
    assert s.timezone == "Europe/Paris"
    assert (s.half_days.am, s.half_days.pm) == ("07:00-12:30", "12:30-20:00")
    assert s.schedule.codes.telework == ["TLT", "TT"]
    assert s.schedule.codes.union == ["ASA", "DS"]
    assert s.schedule.pending_days == 7


def test_contract_example_loads(tmp_path: Path) -> None:
    text = """
timezone = "Europe/Paris"
[half_days]
am = "07:00-12:30"
pm = "12:30-20:00"
[schedule.codes]
telework = ["TLT", "TT"]
on_site  = ["PRES", "SITE"]
leave    = ["CA", "RTT", "MAL", "CONGE"]
field    = ["MIS", "TERRAIN", "VAD"]
training = ["FORM"]
union    = ["ASA", "DS"]
[[apps]]
name = "grand-angle"
hosts = ["grandangle.extranet.example.org"]
paths = ["/"]
"""
    s = load_settings(write(tmp_path, text))
    assert s.apps[0].name == "grand-angle"


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
timezone = "Nowhere/City"
unknown_top = 1
[half_days]
am = "7h-12h"
[schedule]
pending_days = 90
[[apps]]
name = "x"
hosts = ["a"]
paths = ["no-slash"]
""",
    )
    assert "timezone" in found
    assert "unknown_top" in found
    assert "half_days.am" in found
    assert "schedule.pending_days" in found
    assert "apps.0.paths" in found


def test_windows_must_be_ordered(tmp_path: Path) -> None:
    found = problems(tmp_path, '[half_days]\nam = "07:00-13:00"\npm = "12:30-20:00"\n')
    assert "half_days" in found


def test_a_code_cannot_be_two_kinds(tmp_path: Path) -> None:
    found = problems(tmp_path, '[schedule.codes]\ntelework = ["TLT"]\nleave = ["tlt"]\n')
    assert any(path.startswith("schedule.codes") for path in found)


def test_syntax_error_is_a_config_error(tmp_path: Path) -> None:
    found = problems(tmp_path, "timezone = \n")
    assert "(syntaxe)" in found


@pytest.mark.parametrize(
    ("text", "minutes"), [("07:00-12:30", (420, 750)), ("00:00-24:00", (0, 1440))]
)
def test_window_minutes(text: str, minutes: tuple[int, int]) -> None:
    assert window_minutes(text) == minutes


@pytest.mark.parametrize("text", ["12:30-07:00", "7:00-12:00", "07:60-08:00", "24:30-25:00"])
def test_window_minutes_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"HH:MM|invalid|fin"):
        window_minutes(text)


def test_collect_settings_are_checked_with_their_paths(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
[collect]
tcp = "514"
metrics = "0.0.0.0:9108"
commit_every_seconds = 0
""",
    )
    assert "collect.tcp" in found
    assert "collect.metrics" in found  # loopback only
    assert "collect.commit_every_seconds" in found
    found = problems(tmp_path, '[collect]\ntls = "0.0.0.0:6514"\n')
    assert any("tls_cert_file" in m for m in found.values())
    found = problems(tmp_path, '[collect]\nformat = "nope"\n')
    assert any("collect.format" in m for m in found.values())


def test_collect_settings_load(tmp_path: Path) -> None:
    s = load_settings(
        write(
            tmp_path,
            """
[collect]
udp = "[::1]:5514"
relp = "127.0.0.1:2514"
follow = ["/var/log/fortigate/fgt.log", "/mnt/exchange/u_ex*.log"]
metrics = "127.0.0.1:9108"
""",
        )
    )
    assert s.collect.udp == "[::1]:5514"
    assert s.collect.follow[1].endswith("*.log")
