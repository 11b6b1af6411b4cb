"""Driving a source over files: compression, read errors, byte ranges, records ending with NUL,
detection and the reason a file is not read.

A line that cannot be parsed is never fatal (FORMATS.md, "Rules for every source"); a file that
cannot be read at all is reported with its reason and the others go through; a file that breaks
part-way keeps what was read and says so. Every line is accounted for: an event or a skip record.
"""

from __future__ import annotations

import bz2
import gzip
import json
import random
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.config import Settings
from loyaute.errors import InputError, UnknownFormatError
from loyaute.ingest.files import ReadError, split_points
from loyaute.ingest.reading import (
    FILE_REASON_TEXT,
    FileReason,
    FileResult,
    UnrecognisedFileError,
    file_reason_text,
    nul_to_newline,
    parse_blocks,
    parse_file,
    resolve_source,
    summarize,
)
from loyaute.sources import build_sources
from loyaute.sources.base import Parsed, Reason, Source
from loyaute.sources.exchange_iis import ExchangeIisSource
from loyaute.sources.fortigate import FortiGateSource
from loyaute.sources.proxy import AppMapping, ProxySource
from tests.conftest import FIXTURES, events, skips, utc

APPS = (
    AppMapping("grand-angle", ("grandangle.extranet.lenord.fr",)),
    AppMapping("ines", ("ines.extranet.lenord.fr",)),
    AppMapping("publik", ("agents.demarches.lenord.fr",), ("/backoffice/",)),
)
PROXY = ProxySource(apps=APPS, default_host="grandangle.extranet.lenord.fr")


def proxy_data(n: int, seed: int = 7) -> bytes:
    """``n`` vhost_combined lines of varied outcome (events, no user, 401, unmapped, probes)."""
    rng = random.Random(seed)
    hosts = [
        "ines.extranet.lenord.fr:443",
        "grandangle.extranet.lenord.fr:443",
        "www.lenord.fr:443",
    ]
    users = ["jdupont", "LENORD\\mmartin", "jean.dupont@lenord.fr", "-"]
    paths = ["/ines/dossiers/", "/ga/mandats/", "/backoffice/", "/healthcheck.htm"]
    out = []
    for i in range(n):
        out.append(
            "{host} 10.{a}.{b}.{c} - {user} [12/Oct/2026:{h:02d}:{m:02d}:{s:02d} +0200] "
            '"GET {path}{r} HTTP/1.1" {status} {size} "-" "Mozilla/5.0 (X11; rv:{ua})"\n'.format(
                host=rng.choice(hosts),
                a=rng.randrange(256),
                b=rng.randrange(256),
                c=rng.randrange(256),
                user=rng.choice(users),
                h=7 + i % 12,
                m=rng.randrange(60),
                s=rng.randrange(60),
                path=rng.choice(paths),
                r=rng.randrange(10**6),
                status=rng.choice(["200", "200", "302", "401"]),
                size=rng.randrange(10**5),
                ua=rng.randrange(10**4),
            )
        )
    return "".join(out).encode()


def fortigate_data(n: int) -> bytes:
    """FortiOS SSL-VPN up/down/statistics lines amid traffic lines."""
    users = ["jdupont", "mmartin", "ldurand"]
    out = []
    base = 1791612001  # 2026-10-10T06:00:01Z
    for i in range(n):
        t = base + i * 37
        user = users[i % 3]
        kind = i % 4
        if kind == 0:
            body = (
                f'logid="0101039947" type="event" subtype="vpn" level="information" vd="root" '
                f'logdesc="SSL VPN tunnel up" action="tunnel-up" tunneltype="ssl-tunnel" '
                f'remip=192.0.2.{i % 200} user="{user}" group="VPN-AGENTS"'
            )
        elif kind == 1:
            body = (
                f'logid="0101039949" type="event" subtype="vpn" level="information" vd="root" '
                f'logdesc="SSL VPN statistics" action="tunnel-stats" tunneltype="ssl-tunnel" '
                f'remip=192.0.2.{i % 200} user="{user}" duration={i * 10}'
            )
        elif kind == 2:
            body = (
                f'logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" '
                f'srcip=10.1.1.{i % 200} dstip=10.2.2.2 action="accept" proto=6'
            )
        else:
            body = (
                f'logid="0101039948" type="event" subtype="vpn" level="information" vd="root" '
                f'logdesc="SSL VPN tunnel down" action="tunnel-down" tunneltype="ssl-tunnel" '
                f'remip=192.0.2.{i % 200} user="{user}" duration={3600 + i}'
            )
        out.append(
            f'date=2026-10-10 time=08:00:00 devname="FG-LENORD-01" devid="FG100FTK00000001" '
            f'eventtime={t}000000000 tz="+0200" {body}\n'
        )
    return "".join(out).encode()


IIS_LAYOUT_A = (
    "#Software: Microsoft Internet Information Services 10.0\n"
    "#Version: 1.0\n"
    "#Date: 2026-10-12 06:00:00\n"
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
    "cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n"
)
# A layout the headerless guesser cannot read: a range inside it needs the #Fields in force.
IIS_LAYOUT_B = (
    "#Software: Microsoft Internet Information Services 10.0\n"
    "#Version: 1.0\n"
    "#Date: 2026-10-12 12:00:00\n"
    "#Fields: date time cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip sc-status "
    "time-taken\n"
)
IIS_REQUESTS = [
    ("POST", "/owa/service.svc", "action=GetItem&UA=0&ID=-1&AC=1"),
    (
        "POST",
        "/Microsoft-Server-ActiveSync/default.eas",
        "User=mmartin&DeviceId=LENORD0001&DeviceType=iPhone&Cmd=SendMail",
    ),
    (
        "POST",
        "/Microsoft-Server-ActiveSync/default.eas",
        "User=mmartin&DeviceId=LENORD0001&DeviceType=iPhone&Cmd=Ping",
    ),
    ("POST", "/mapi/emsmdb/", "MailboxId=0001@lenord.fr"),
    ("GET", "/owa/healthcheck.htm", "-"),
]
IIS_USERS = ["LENORD\\jdupont", "jean.dupont@lenord.fr", "mmartin", "-"]


def iis_data(n: int) -> bytes:
    """Two IIS sections with different ``#Fields`` layouts (a restart mid-file)."""
    out = [IIS_LAYOUT_A]
    for i in range(n):
        method, stem, query = IIS_REQUESTS[i % 5]
        port = 444 if i % 7 == 0 else 443
        status = 401 if i % 11 == 0 else 200
        out.append(
            f"2026-10-12 07:{i % 60:02d}:{i // 60:02d} 10.0.0.5 {method} {stem} {query} {port} "
            f"{IIS_USERS[i % 4]} 10.20.30.41 Mozilla/5.0+(Windows+NT+10.0) - {status} 0 0 "
            f"{i * 10}\n"
        )
    out.append(IIS_LAYOUT_B)
    for i in range(n):
        method, stem, query = IIS_REQUESTS[i % 5]
        status = 302 if i % 3 == 0 else 200
        out.append(
            f"2026-10-12 12:{i % 60:02d}:{i // 60:02d} {method} {stem} {query} 443 "
            f"{IIS_USERS[(i + 1) % 4]} 10.20.30.41 {status} {i * 10}\n"
        )
    return "".join(out).encode()


def whole(
    path: Path, source: Source, chunk_bytes: int = 1 << 20, max_line_bytes: int = 1 << 16
) -> Parsed:
    return Parsed.concat(
        parse_file(path, source, chunk_bytes=chunk_bytes, max_line_bytes=max_line_bytes)
    )


def whole_bytes(tmp_path: Path, data: bytes) -> Parsed:
    path = tmp_path / "intact.log"
    path.write_bytes(data)
    return whole(path, PROXY)


def numbered(parsed: Parsed, offset: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Events and skips with line numbers moved by ``offset``."""
    return (
        [dict(e, line=e["line"] + offset) for e in events(parsed)],
        [dict(s, line=s["line"] + offset) for s in skips(parsed)],
    )


def compress(kind: str, data: bytes) -> bytes:
    if kind == "gzip":
        return gzip.compress(data)
    if kind == "bz2":
        return bz2.compress(data)
    if kind == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


# --- compression ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["gzip", "bz2", "zstd"])
@pytest.mark.parametrize("name", ["access.log", "access.log.gz", "access.log.1"])
def test_compressed_files_parse_like_the_plain_file(tmp_path: Path, kind: str, name: str) -> None:
    """Plain, .gz, .bz2 and .zst give identical events and skips, whatever the file name."""
    data = proxy_data(3000)
    plain = tmp_path / "plain.log"
    plain.write_bytes(data)
    packed = tmp_path / kind / name
    packed.parent.mkdir()
    packed.write_bytes(compress(kind, data))
    expected = whole(plain, PROXY)
    got = whole(packed, PROXY, chunk_bytes=8192, max_line_bytes=4096)
    assert events(got) == events(expected)
    assert skips(got) == skips(expected)
    assert expected.events.num_rows > 100
    assert expected.lines == 3000


def test_fixture_read_through_gzip_named_log(tmp_path: Path) -> None:
    """A gzip file named ``.log`` is decompressed (magic bytes), not parsed as garbage."""
    data = (FIXTURES / "proxy" / "apache_combined.log").read_bytes()
    path = tmp_path / "access.log"
    path.write_bytes(gzip.compress(data))
    result = summarize(path, PROXY)
    assert result.error is None
    assert result.lines == data.count(b"\n")
    assert result.events == 5
    assert result.skipped[Reason.MALFORMED] == 3


# --- read errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["gzip", "bz2", "zstd"])
def test_truncated_compressed_file_keeps_what_was_read_and_says_so(
    tmp_path: Path, kind: str
) -> None:
    """A file cut part-way: the lines before the break are counted, and ``error`` is set."""
    data = proxy_data(20_000)
    packed = compress(kind, data)
    path = tmp_path / "access.log"
    path.write_bytes(packed[: len(packed) // 2])
    result = summarize(path, PROXY)
    assert result.error is not None
    assert "truncated" in result.error
    assert 0 < result.lines < 20_000
    assert result.events > 0
    assert result.lines == result.events + sum(result.skipped.values())


def test_truncated_gzip_parse_file_yields_then_raises(tmp_path: Path) -> None:
    """``parse_file`` yields the readable blocks, then raises ReadError."""
    data = proxy_data(20_000)
    packed = gzip.compress(data)
    path = tmp_path / "access.log.gz"
    path.write_bytes(packed[: len(packed) // 2])
    got: list[Parsed] = []
    with pytest.raises(ReadError):
        got.extend(parse_file(path, PROXY, chunk_bytes=1 << 16))
    parsed = Parsed.concat(got)
    assert parsed.lines > 0
    lines = sorted([e["line"] for e in events(parsed)] + [s["line"] for s in skips(parsed)])
    assert lines == list(range(1, parsed.lines + 1))
    # The complete lines read before the break parse exactly as in the intact file.
    intact = whole_bytes(tmp_path, data)
    complete = parsed.lines - 1  # the last one may be cut
    assert [e for e in events(parsed) if e["line"] <= complete] == [
        e for e in events(intact) if e["line"] <= complete
    ]


@pytest.mark.parametrize("magic", [b"\x1f\x8b", b"\x1f\x8b\x08\x00", b"BZh9", b"\x28\xb5\x2f\xfd"])
def test_corrupt_compressed_file_is_reported_not_a_crash(tmp_path: Path, magic: bytes) -> None:
    """Magic bytes followed by junk: ``error`` set, nothing counted, no exception."""
    path = tmp_path / "junk.log"
    path.write_bytes(magic + random.Random(1).randbytes(5000))
    result = summarize(path, PROXY)
    assert result.error is not None
    assert result.lines == 0
    assert result.events == 0
    with pytest.raises(InputError):
        resolve_source(path, build_sources(Settings()), None)


def test_summarize_intact_file_has_no_error(tmp_path: Path) -> None:
    """An intact file: no error, every line counted once."""
    path = tmp_path / "access.log"
    path.write_bytes(proxy_data(500))
    result = summarize(path, PROXY)
    assert result.error is None
    assert result.format == "proxy"
    assert result.lines == 500
    assert result.lines == result.events + sum(result.skipped.values())
    assert result.interactive == result.events


# --- long lines through a source ------------------------------------------------------------


def test_long_line_is_one_line_too_long_skip_and_numbering_continues(tmp_path: Path) -> None:
    """A line over ``max_line_bytes`` is one ``line_too_long`` skip at its own line number; the
    lines after it keep their numbers."""
    lines = proxy_data(6).splitlines(keepends=True)
    monster = (
        b'ines.extranet.lenord.fr:443 10.0.0.1 - jdupont [12/Oct/2026:09:00:00 +0200] "GET /'
        + (b"a" * 5000)
        + b' HTTP/1.1" 200 1\n'
    )
    data = b"".join(lines[:3]) + monster + b"".join(lines[3:])
    path = tmp_path / "access.log"
    path.write_bytes(data)
    reference = tmp_path / "reference.log"
    reference.write_bytes(b"".join(lines[:3]) + b"placeholder\n" + b"".join(lines[3:]))
    got = whole(path, PROXY, chunk_bytes=256, max_line_bytes=1024)
    ref = whole(reference, PROXY)
    assert ref.events.num_rows > 0
    assert [s for s in skips(got) if s["reason"] == Reason.LINE_TOO_LONG] == [
        {"line": 4, "reason": "line_too_long", "ts": None, "login": None}
    ]
    assert events(got) == events(ref)
    assert got.lines == 7


# --- byte ranges ----------------------------------------------------------------------------

RANGE_CASES = [
    ("fortigate", FortiGateSource(), lambda: fortigate_data(400)),
    ("proxy", PROXY, lambda: proxy_data(400)),
    ("exchange-iis", ExchangeIisSource(), lambda: iis_data(120)),
]


@pytest.mark.parametrize(("name", "source", "make"), RANGE_CASES, ids=[c[0] for c in RANGE_CASES])
@pytest.mark.parametrize("parts", [2, 3, 7])
def test_parse_by_byte_ranges_equals_whole_file(
    tmp_path: Path, name: str, source: Source, make: Callable[[], bytes], parts: int
) -> None:
    """A splittable source parsed over ``split_points`` ranges gives the same events and skips
    as the whole file (line numbers are per range: shifted back here). IIS needs the layout in
    force at the range start (``prefix_state``)."""
    data = make()
    path = tmp_path / f"{name}.log"
    path.write_bytes(data)
    assert source.splittable
    ranges = split_points(path, parts, min_part_bytes=256)
    assert len(ranges) == parts
    full = whole(path, source)
    got_events: list[dict[str, Any]] = []
    got_skips: list[dict[str, Any]] = []
    merged = FileResult(str(path), source.name)
    for start, end in ranges:
        offset = data[:start].count(b"\n")
        part = Parsed.concat(
            parse_file(path, source, chunk_bytes=512, max_line_bytes=4096, byte_range=(start, end))
        )
        evs, sks = numbered(part, offset)
        got_events += evs
        got_skips += sks
        merged.merge(summarize(path, source, chunk_bytes=512, byte_range=(start, end)))
    assert full.events.num_rows > 10
    assert sorted(got_events, key=lambda r: r["line"]) == events(full)
    assert sorted(got_skips, key=lambda r: r["line"]) == skips(full)
    total = summarize(path, source)
    assert (merged.lines, merged.events, merged.interactive, merged.skipped) == (
        total.lines,
        total.events,
        total.interactive,
        total.skipped,
    )


def test_iis_range_in_second_layout_reads_with_that_layout(tmp_path: Path) -> None:
    """The IIS case alone: a range starting after the second ``#Fields`` gives that
    section's events (the layout comes from before the range)."""
    data = iis_data(120)
    path = tmp_path / "u_ex261012.log"
    path.write_bytes(data)
    start = data.index(b"#Fields: date time cs-method")
    start = data.index(b"\n", start) + 1
    part = whole_range(path, (start, len(data)))
    assert part.events.num_rows > 0
    assert Reason.MALFORMED not in part.skip_counts()
    assert {e["ts"].hour for e in events(part)} == {12}


def whole_range(path: Path, byte_range: tuple[int, int]) -> Parsed:
    return Parsed.concat(parse_file(path, ExchangeIisSource(), byte_range=byte_range))


# --- resolve_source -------------------------------------------------------------------------


def test_resolve_source_empty_file_is_input_error(tmp_path: Path) -> None:
    """An empty file cannot be detected: InputError naming the file."""
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.log"):
        resolve_source(path, build_sources(Settings()), None)


def test_resolve_source_blank_file_is_input_error(tmp_path: Path) -> None:
    """Only blank lines: InputError."""
    path = tmp_path / "blank.log"
    path.write_bytes(b"\n\r\n   \n")
    with pytest.raises(InputError):
        resolve_source(path, build_sources(Settings()), None)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_resolve_source_binary_junk_is_input_error(tmp_path: Path, seed: int) -> None:
    """Random bytes are no log: InputError with a hint to give --format, never a crash."""
    junk = random.Random(seed).randbytes(64 << 10)
    if junk.startswith((b"\x1f\x8b", b"BZh", b"\x28\xb5\x2f\xfd")):
        junk = b"\x00" + junk
    path = tmp_path / "junk.bin"
    path.write_bytes(junk)
    with pytest.raises(InputError) as info:
        resolve_source(path, build_sources(Settings()), None)
    assert "junk.bin" in info.value.message
    assert info.value.hint is not None
    assert "--format" in info.value.hint


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: proxy_data(50), "proxy"),
        (lambda: fortigate_data(50), "fortigate"),
        (lambda: iis_data(30), "exchange-iis"),
        ((FIXTURES / "generic" / "authentic2_journal.csv").read_bytes, "authentic2"),
    ],
    ids=["proxy", "fortigate", "exchange-iis", "authentic2"],
)
def test_resolve_source_detects_each_format(
    tmp_path: Path, make: Callable[[], bytes], expected: str
) -> None:
    """Detection by the first lines, also through gzip."""
    data = make()
    sources = build_sources(Settings())
    for name, content in (("f.log", data), ("f.log.1", gzip.compress(data))):
        path = tmp_path / name
        path.write_bytes(content)
        assert resolve_source(path, sources, None).name == expected


def test_resolve_source_forced_format_is_used(tmp_path: Path) -> None:
    """``--format`` wins over detection, even for a file another source recognises."""
    path = tmp_path / "f.log"
    path.write_bytes(proxy_data(10))
    sources = build_sources(Settings())
    assert resolve_source(path, sources, "fortigate").name == "fortigate"


# --- records ending with NUL ----------------------------------------------------------------

NUL_FIXTURE = FIXTURES / "fortigate" / "nul_separated.log"
NUL_RECORDS = NUL_FIXTURE.read_bytes().rstrip(b"\x00").split(b"\x00")
FORTIGATE = FortiGateSource()


def test_nul_separated_records_are_read_one_per_line(tmp_path: Path) -> None:
    """Ten tunnel-ups separated by NUL (a syslog relay's framing): ten events, numbered 1 to 10,
    each with its own person and time. Before: one event, the other nine silently lost."""
    assert len(NUL_RECORDS) == 10
    got = Parsed.concat(parse_file(NUL_FIXTURE, FORTIGATE))
    assert got.lines == 10
    assert [(e["line"], e["login"], e["ts"]) for e in events(got)] == [
        (i, f"nul_user{i:02d}", utc(2026, 3, 3, 8, i)) for i in range(1, 11)
    ]
    result = summarize(NUL_FIXTURE, FORTIGATE)
    assert (result.lines, result.events, result.error) == (10, 10, None)


@pytest.mark.parametrize(
    "end",
    [b"\x00\n", b"\x00\r\n", b"\x00\x00\x00", b"\x00\x00\n", b"\n"],
    ids=["nul-lf", "nul-crlf", "nul-run", "nul-run-lf", "lf"],
)
def test_a_nul_run_and_the_newline_after_it_end_one_record(tmp_path: Path, end: bytes) -> None:
    """A run of NULs, and a newline right after it, end one record: never an extra blank one."""
    path = tmp_path / "fgt.log"
    path.write_bytes(b"".join(r + end for r in NUL_RECORDS))
    result = summarize(path, FORTIGATE)
    assert (result.lines, result.events, dict(result.skipped)) == (10, 10, {})


def test_nul_framed_stream_longer_than_max_line_bytes_loses_nothing(tmp_path: Path) -> None:
    """A NUL-only stream has no newline at all: it is cut at its NULs, not read as one endless
    line (which would have been one line_too_long for the whole file)."""
    path = tmp_path / "relay.log"
    path.write_bytes(b"\x00".join(NUL_RECORDS * 300))
    result = summarize(path, FORTIGATE, chunk_bytes=4096, max_line_bytes=1024)
    assert (result.lines, result.events, dict(result.skipped)) == (3000, 3000, {})


def test_nul_record_too_long_is_one_line_too_long_and_numbering_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "relay.log"
    path.write_bytes(b"\x00".join([*NUL_RECORDS[:3], b"x" * 5000, *NUL_RECORDS[3:]]) + b"\x00")
    got = Parsed.concat(parse_file(path, FORTIGATE, chunk_bytes=512, max_line_bytes=1024))
    assert [s["line"] for s in skips(got)] == [4]
    assert skips(got)[0]["reason"] == Reason.LINE_TOO_LONG
    assert [e["line"] for e in events(got)] == [1, 2, 3, *range(5, 12)]


def test_nul_records_in_the_middle_of_a_newline_file(tmp_path: Path) -> None:
    """NULs appearing after the first bytes split records too; the lines before keep their
    numbers (a file without NUL is numbered as an editor shows it)."""
    lines = (FIXTURES / "fortigate" / "vpn_day.log").read_bytes().splitlines(keepends=True)
    data = b"".join(lines) + b"\x00".join(NUL_RECORDS[:3]) + b"\n"
    path = tmp_path / "mixed.log"
    path.write_bytes((b"padding line\n" * 20_000) + data)
    got = Parsed.concat(parse_file(path, FORTIGATE, chunk_bytes=8192))
    assert got.lines == 20_000 + 14 + 3
    mine = [e for e in events(got) if e["login"].startswith("nul_user")]
    assert [e["line"] for e in mine] == [20_015, 20_016, 20_017]
    assert events(got)[0]["line"] == 20_003  # line 3 of vpn_day.log, after the padding


@pytest.mark.parametrize("kind", ["gzip", "bz2", "zstd"])
def test_nul_framed_compressed_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "relay.log"
    path.write_bytes(compress(kind, NUL_FIXTURE.read_bytes() * 50))
    result = summarize(path, FORTIGATE, chunk_bytes=2048, max_line_bytes=1024)
    assert (result.lines, result.events, result.error) == (500, 500, None)


def test_truncated_nul_framed_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    packed = gzip.compress(b"\x00".join(NUL_RECORDS * 2000))
    path = tmp_path / "relay.log.gz"
    path.write_bytes(packed[: len(packed) // 2])
    result = summarize(path, FORTIGATE)
    assert result.error is not None
    assert "truncated" in result.error
    assert 0 < result.events < 20_000
    assert result.lines == result.events + sum(result.skipped.values())


def test_nul_framed_byte_ranges_equal_the_whole_file(tmp_path: Path) -> None:
    """Ranges are cut after a newline; with ``\\0\\n`` record ends each range reads whole
    records, and together they give the whole file's events."""
    path = tmp_path / "relay.log"
    path.write_bytes(b"".join(r + b"\x00\n" for r in NUL_RECORDS * 40))
    ranges = split_points(path, 3, min_part_bytes=256)
    assert len(ranges) == 3
    logins = [
        e["login"]
        for start, end in ranges
        for e in events(Parsed.concat(parse_file(path, FORTIGATE, byte_range=(start, end))))
    ]
    assert logins == [e["login"] for e in events(Parsed.concat(parse_file(path, FORTIGATE)))]
    assert len(logins) == 400


def test_nul_to_newline() -> None:
    assert nul_to_newline(b"a\x00b\x00\x00\nc\x00\r\nd\n\x00e") == b"a\nb\nc\nd\n\ne"
    data = b"no nul here\n"
    assert nul_to_newline(data) is data


RECORD_PARTS = st.lists(
    st.tuples(
        st.text("abc\r ", min_size=2, max_size=12).map(str.encode),
        st.sampled_from([b"\x00", b"\x00\x00", b"\x00\n", b"\x00\r\n", b"\n", b"\x00\x00\r\n"]),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(parts=RECORD_PARTS, chunk=st.integers(1, 40), tail=st.booleans())
def test_nul_framing_does_not_depend_on_where_reads_are_cut(
    tmp_path_factory: pytest.TempPathFactory,
    parts: list[tuple[bytes, bytes]],
    chunk: int,
    tail: bool,
) -> None:
    """However the file is read in pieces (a NUL run, a CR or a newline cut across two reads),
    the records are those of the whole file read at once, each accounted for once."""
    data = b"\x00" + b"".join(record + end for record, end in parts) + (b"last" if tail else b"")
    path = tmp_path_factory.mktemp("nul") / "f.log"
    path.write_bytes(data)
    blocks = list(parse_blocks(path, PROXY, chunk_bytes=chunk, max_line_bytes=1 << 16))
    text = b"".join(bytes(c.data) for c, _ in blocks if c is not None)
    assert text == nul_to_newline(data)
    expected = text.count(b"\n") + (0 if text.endswith(b"\n") else 1)
    assert sum(p.lines for _, p in blocks) == expected


# --- the reason a file is not read ------------------------------------------------------------

NGINX_ERROR = FIXTURES / "proxy" / "nginx_error.log"
APACHE_ERROR = FIXTURES / "proxy" / "apache_error.log"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", FileReason.EMPTY),
        (b"\n\r\n   \n", FileReason.EMPTY),
        (b"\x00" * 500, FileReason.EMPTY),
        (bytes(range(256)) * 40, FileReason.BINARY),
        (random.Random(4).randbytes(20_000).replace(b"\x1f\x8b", b"  "), FileReason.BINARY),
        ("2026-03-03 ligne\r\n".encode("utf-16"), FileReason.UTF16),
        ("2026-03-03 ligne\r\n".encode("utf-16-le") * 30, FileReason.UTF16),
        (NGINX_ERROR.read_bytes(), FileReason.ERROR_LOG),
        (APACHE_ERROR.read_bytes(), FileReason.ERROR_LOG),
        (b"# Notes\n\nThese logs come from the extranet proxy.\n", FileReason.UNRECOGNISED),
    ],
    ids=[
        "empty",
        "blank-lines",
        "nul-only",
        "binary",
        "random-bytes",
        "utf16-bom",
        "utf16-no-bom",
        "nginx-error",
        "apache-error",
        "prose",
    ],
)
def test_a_file_no_source_reads_is_refused_with_its_reason(
    tmp_path: Path, content: bytes, reason: FileReason
) -> None:
    """Empty, binary, UTF-16, an Apache/nginx error log, anything else: each refused with its
    reason code and a French / English text naming the file."""
    path = tmp_path / "refused.log"
    path.write_bytes(content)
    with pytest.raises(UnrecognisedFileError) as info:
        resolve_source(path, build_sources(Settings()), None)
    exc = info.value
    assert exc.reason is reason
    assert isinstance(exc, UnknownFormatError)  # an InputError: callers that catch it still do
    fr, en = FILE_REASON_TEXT[reason]
    assert exc.message == f"{path}: {fr} / {en}"


def test_error_log_share_boundary(tmp_path: Path) -> None:
    """An error log is said so when at least half of the first lines are error-log lines."""
    error = NGINX_ERROR.read_bytes().splitlines(keepends=True)[:2]
    path = tmp_path / "mixed.log"
    path.write_bytes(b"".join(error) + b"some note\nanother note\n")
    with pytest.raises(UnrecognisedFileError) as info:
        resolve_source(path, build_sources(Settings()), None)
    assert info.value.reason is FileReason.ERROR_LOG
    path.write_bytes(b"".join(error) + b"some note\nanother note\nthird note\n")
    with pytest.raises(UnrecognisedFileError) as info:
        resolve_source(path, build_sources(Settings()), None)
    assert info.value.reason is FileReason.UNRECOGNISED


def test_every_file_reason_has_french_and_english_text() -> None:
    assert set(FILE_REASON_TEXT) == set(FileReason)
    for reason, (fr, en) in FILE_REASON_TEXT.items():
        assert fr
        assert en
        assert fr != en
        assert file_reason_text(reason) == fr
        assert file_reason_text(reason, "en") == en
    assert file_reason_text("no_such_code") == "no_such_code"


def test_nul_framed_file_is_detected_from_its_records(tmp_path: Path) -> None:
    path = tmp_path / "relay.log"
    path.write_bytes(NUL_FIXTURE.read_bytes())
    assert resolve_source(path, build_sources(Settings()), None).name == "fortigate"


def test_utf16_text_is_never_split_at_its_nul_bytes(tmp_path: Path) -> None:
    """With --format given, a UTF-16 file is refused before reading: its NUL bytes are no
    record ends."""
    path = tmp_path / "export.csv"
    path.write_bytes("timestamp,user\r\n2026-03-03T08:00:00Z,jdupont\r\n".encode("utf-16"))
    with pytest.raises(ReadError, match="UTF-16"):
        list(parse_file(path, PROXY))
    assert summarize(path, PROXY).error is not None


def test_refused_files_do_not_stop_the_others(tmp_path: Path) -> None:
    """The reading layer's contract for a run over several files: each refused file gives its
    reason, every readable file is read in full."""
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    files = [empty, NGINX_ERROR, FIXTURES / "fortigate" / "vpn_day.log", NUL_FIXTURE]
    sources = build_sources(Settings())
    refused: dict[str, FileReason] = {}
    read: dict[str, int] = {}
    for path in files:
        try:
            source = resolve_source(path, sources, None)
        except UnrecognisedFileError as exc:
            refused[path.name] = exc.reason
            continue
        read[path.name] = summarize(path, source).events
    assert refused == {"empty.log": FileReason.EMPTY, "nginx_error.log": FileReason.ERROR_LOG}
    assert read == {"vpn_day.log": 8, "nul_separated.log": 10}


# --- ``loyaute parse`` on the intake shapes ---------------------------------------------------


def parse_cli(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(app, ["parse", *args])
    rows = [json.loads(ln) for ln in result.stdout.splitlines() if ln.startswith("{")]
    return result.exit_code, rows, result.stderr


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


HEADERLESS_HTTPPROXY = FIXTURES / "exchange_httpproxy" / "Owa_HttpProxy_excerpt_headerless.LOG"


@pytest.mark.parametrize(
    ("path", "line", "login", "ts", "category"),
    [
        (
            FIXTURES / "fortigate" / "csv_format.log",
            2,
            "jean dupont",
            utc(2026, 3, 3, 9, 2, 25),
            "vpn",
        ),
        (FIXTURES / "fortigate" / "cef_variants.log", 1, "cef6_user", utc(2026, 3, 3, 8), "vpn"),
        (
            FIXTURES / "fortigate" / "cef_variants.log",
            4,
            "stripped_user",
            utc(2026, 3, 3, 8, 30),
            "vpn",
        ),
        (FIXTURES / "fortigate" / "classification.log", 1, "xauth_user", utc(2026, 3, 3, 8), "vpn"),
        (NUL_FIXTURE, 10, "nul_user10", utc(2026, 3, 3, 8, 10), "vpn"),
        (
            HEADERLESS_HTTPPROXY,
            8,
            "LENORD\\mmartin",
            utc(2026, 3, 10, 7, 32, 58, 901000),
            "mail",
        ),
    ],
    ids=[
        "csv",
        "cef-fortinetfortigate",
        "cef-no-header",
        "ipsec-stats-other-id",
        "nul",
        "httpproxy",
    ],
)
def test_loyaute_parse_gives_person_and_time(
    path: Path, line: int, login: str, ts: datetime, category: str
) -> None:
    """``loyaute parse`` detects each shape and gives the person and the UTC time."""
    code, rows, _ = parse_cli(str(path))
    assert code == 0
    row = next(r for r in rows if r["line"] == line)
    assert "skipped" not in row
    assert (row["login"], instant(row["ts"]), row["category"]) == (login, ts, category)


def test_loyaute_parse_reads_a_spaced_user_name_in_its_file_layout(tmp_path: Path) -> None:
    config = tmp_path / "loyaute.toml"
    config.write_text(
        '[[apps]]\nname = "grand-angle"\nhosts = ["grandangle.extranet.lenord.fr"]\n'
        '[sources.proxy]\ndefault_host = "grandangle.extranet.lenord.fr"\n',
        encoding="utf-8",
    )
    log = FIXTURES / "proxy" / "spaced_user_combined.log"
    code, rows, _ = parse_cli("--config", str(config), str(log))
    assert code == 0
    got = {r["line"]: (r.get("login"), r.get("skipped"), r["ts"]) for r in rows}
    assert got[2] == ("john doe", None, "2024-01-15T09:00:00Z")
    assert got[5] == (None, "ambiguous_layout", "2026-03-03T08:03:00Z")


def test_loyaute_parse_reports_each_refused_file_and_reads_the_others(tmp_path: Path) -> None:
    """An empty file, an nginx error log and an unknown file beside a FortiGate log: every
    record of the log is printed, stderr names each refused file with its reason on its row of
    the summary, and the run succeeds: the files that are logs were read."""
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    notes = tmp_path / "notes.txt"
    notes.write_text("Journaux du proxy extranet, copiés le 3 mars.\n", encoding="utf-8")
    code, rows, err = parse_cli(
        str(empty), str(NGINX_ERROR), str(notes), str(FIXTURES / "fortigate" / "vpn_day.log")
    )
    assert code == 0, err
    assert [r["line"] for r in rows] == list(range(1, 15))
    lines = err.splitlines()
    for name, text in [
        ("empty.log", "fichier vide"),
        ("nginx_error.log", "journal d'erreurs"),
        ("notes.txt", "format non reconnu"),
    ]:
        row = [ln for ln in lines if ln.startswith(name)]
        assert len(row) == 1, (name, err)
        assert text in row[0], row
    code, _, err = parse_cli(str(empty), str(notes))
    assert code == 1  # nothing at all was read
