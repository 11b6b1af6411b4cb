"""Conformance with the public samples in ../shared/corpus (skipped when absent).

``loyaute parse`` on every log file of the corpus must run without error and find the user and
time that the peers' expected outputs give (Elastic's ``*-expected*.json``, logstash-patterns-
core's expected JSON). Lines loyaute sets aside (a negotiation, a back-end request) are still
read that far: the skip record carries the same user and time.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from loyaute.cli import app

pytestmark = pytest.mark.corpus

LOG_SUFFIXES = {".log", ".LOG", ".ini"}


def run_parse(*args: str) -> tuple[int, list[dict[str, Any]]]:
    result = CliRunner().invoke(app, ["parse", *args])
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, rows


def by_line(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    out = {r["line"]: r for r in rows}
    assert len(out) == len(rows), "one record per line"
    return out


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def log_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in LOG_SUFFIXES)


def test_every_log_file_parses_without_error(corpus: Path) -> None:
    """Each log file of the corpus: exit 0, and one record (event or skip) per line."""
    files = log_files(corpus)
    assert len(files) >= 15
    for path in files:
        args = ["--format", "fortigate", str(path)] if path.suffix == ".ini" else [str(path)]
        code, rows = run_parse(*args)
        assert code == 0, path
        n_lines = len(path.read_bytes().rstrip(b"\n").split(b"\n"))
        assert sorted(r["line"] for r in rows) == list(range(1, n_lines + 1)), path


def test_whole_corpus_directory_reports_non_logs_without_crashing(corpus: Path) -> None:
    """A directory with READMEs and JSON beside the logs: the logs are read, the rest reported."""
    result = CliRunner().invoke(app, ["parse", str(corpus)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 0, result.stderr  # logs were read; the rest is said, not hidden
    assert "README.md" in result.stderr
    assert sum(1 for ln in result.stdout.splitlines() if ln.startswith("{")) > 250


def test_fortigate_7_6_expected(corpus: Path) -> None:
    """Elastic's expected output for FortiOS 7.6 IKEv2 dial-up: user = eapuser, time = eventtime."""
    expected = json.loads(
        (corpus / "fortigate" / "elastic_test-fortinet-7-6.log-expected.EXCERPT.json").read_text()
    )["expected"]
    code, rows = run_parse(str(corpus / "fortigate" / "elastic_test-fortinet-7-6.log"))
    assert code == 0
    got = by_line(rows)
    # The excerpt holds the expected entries of the file's last lines.
    first = max(got) - len(expected) + 1
    for offset, exp in enumerate(expected):
        row = got[first + offset]
        assert row["login"] == exp["source"]["user"]["name"]
        assert abs((instant(row["ts"]) - instant(exp["event"]["start"])).total_seconds()) < 0.001
    stats = got[max(got)]
    assert stats["category"] == "vpn"  # the 37141 statistics line is a session trace
    duration_s = expected[-1]["event"]["duration"] / 1e9
    span = instant(stats["end"]) - instant(stats["start"])
    assert span.total_seconds() == pytest.approx(duration_s)


def test_iis10_expected(corpus: Path) -> None:
    """Elastic's expected IIS output: UTC time, DOMAIN\\user; Anonymous is no user for us."""
    expected = json.loads(
        (
            corpus / "iis_exchange" / "elastic_test-iis10-access.log-expected.EXCERPT.json"
        ).read_text()
    )["expected"]
    code, rows = run_parse(str(corpus / "iis_exchange" / "elastic_test-iis10-access.log"))
    assert code == 0
    got = by_line(rows)
    for offset, exp in enumerate(expected):
        row = got[4 + offset]  # entries 4-6 of the expected file
        assert instant(row["ts"]) == instant(exp["@timestamp"])
        user = exp["user"]
        if user["name"] == "Anonymous":
            assert "login" not in row or row["login"] is None
        else:
            assert row["login"] == f"{user['domain']}\\{user['name']}"
    assert got[4]["category"] == "mail"
    assert got[5]["skipped"] == "backend"  # port 444: counted at the front end only


def test_logstash_httpd_expected(corpus: Path) -> None:
    """logstash-patterns-core HTTPD_COMBINEDLOG: the authenticated user of each line."""
    expected = json.loads(
        (corpus / "reverse_proxy" / "logstash-patterns-core_httpd_spec_expected.json").read_text()
    )["expected"]
    code, rows = run_parse(
        str(corpus / "reverse_proxy" / "logstash-patterns-core_httpd_spec_lines.log")
    )
    assert code == 0
    got = by_line(rows)
    for exp in expected:
        if "user.name" in exp:
            assert got[exp["line"]].get("login") == exp["user.name"]


def test_known_users_and_times(corpus: Path) -> None:
    """Spot checks on the other samples: the traces a person at work leaves."""
    cases = [
        ("fortigate/wazuh_fortigate.EXCERPT.ini", "my_user_name", "vpn"),
        ("fortigate/letsdefend_39424_ssl-web.log", "letsdefend-user", "vpn"),
        ("fortigate/elastic_test-fortinet-6-2.EXCERPT.log", "skubas", "vpn"),
        ("iis_exchange/community_exchange_iis_lines.log", "XXXXXXX\\seanryan", "mail"),
        (
            "iis_exchange/exchange_httpproxy/Autodiscover_HttpProxy_2023010919-1.LOG",
            "DOMAIN\\username",
            "mail",
        ),
    ]
    for rel, login, category in cases:
        path = corpus / rel
        args = ["--format", "fortigate", str(path)] if path.suffix == ".ini" else [str(path)]
        _, rows = run_parse(*args)
        found = [r for r in rows if r.get("login") == login and "skipped" not in r]
        assert found, rel
        assert all(r["category"] == category for r in found)
    _, rows = run_parse(str(corpus / "fortigate" / "letsdefend_39424_ssl-web.log"))
    # date=2022-05-21 time=14:06:38 tz=+0300 but eventtime (preferred) says 12:08:33.959 UTC
    assert rows[0]["ts"] == "2022-05-21T12:08:33.959078Z"


def test_fortigate_7_4_ipsec_statistics_under_another_log_id(corpus: Path) -> None:
    """FortiOS 7.4 sample: IPsec tunnel statistics with logid 0101037100 (not the table's
    0101037141) are a session trace of xauthuser, alive for its duration; the sample's UTM
    web-filter line stays no VPN event."""
    path = corpus / "fortigate" / "elastic_test-fortinet-7-4.EXCERPT.log"
    code, rows = run_parse(str(path))
    assert code == 0
    stats = [r for r in rows if "skipped" not in r]
    assert [r["login"] for r in stats] == ["skubas", "skubas", "user1"]  # endpoint add/close
    ipsec = stats[-1]
    assert ipsec["ts"] == "2021-06-17T23:55:26.411127Z"  # eventtime
    span = instant(ipsec["end"]) - instant(ipsec["start"])
    assert span.total_seconds() == 919
    skipped = {r["line"]: r["skipped"] for r in rows if "skipped" in r}
    assert skipped[6] == "not_vpn_event"  # type="utm" subtype="webfilter"


def test_headerless_httpproxy_corpus_rows_read_as_with_their_header(
    corpus: Path, tmp_path: Path
) -> None:
    """Each public HttpProxy file cut from its # lines (an excerpt, a forwarded stream) gives
    the same users and times as the file with its header."""
    files = sorted((corpus / "iis_exchange" / "exchange_httpproxy").glob("*.LOG"))
    assert files
    for path in files:
        data = path.read_bytes()
        kept = [ln for ln in data.splitlines(keepends=True) if not ln.startswith(b"#")]
        cut = tmp_path / path.name
        cut.write_bytes(b"".join(kept))
        _, with_header = run_parse(str(path))
        code, without = run_parse(str(cut))
        assert code == 0, path.name
        assert [(r.get("login"), r.get("ts"), r.get("skipped")) for r in without] == [
            (r.get("login"), r.get("ts"), r.get("skipped"))
            for r in with_header
            if r.get("skipped") != "header"
        ], path.name


def test_corpus_fortigate_lines_separated_by_nul(corpus: Path, tmp_path: Path) -> None:
    """The FortiGate samples relayed with NUL between records: the same record per line."""
    for path in sorted((corpus / "fortigate").glob("*.log")):
        relayed = tmp_path / path.name
        relayed.write_bytes(path.read_bytes().rstrip(b"\n").replace(b"\n", b"\x00") + b"\x00")
        _, plain = run_parse(str(path))
        code, rows = run_parse(str(relayed))
        assert code == 0, path.name
        assert [{k: v for k, v in r.items() if k != "file"} for r in rows] == [
            {k: v for k, v in r.items() if k != "file"} for r in plain
        ], path.name
