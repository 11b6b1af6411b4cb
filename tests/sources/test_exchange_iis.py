"""Exchange IIS W3C logs (FORMATS.md, "Exchange"): layouts, UTC times, front end, users, probes,
the interactive/background table, line accounting, chunking, and rule B2 of LEGAL.md."""

from __future__ import annotations

import mmap
import os
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyaute.config import Settings
from loyaute.ingest.engine import LocalEngine, Task, plan
from loyaute.ingest.files import head
from loyaute.ingest.reading import FileResult, summarize, summarize_task
from loyaute.sources import build_sources, detect
from loyaute.sources.base import EVENT_SCHEMA, SKIP_SCHEMA, Chunk, Parsed, Reason, split_lines
from loyaute.sources.columns import day_us, time_us
from loyaute.sources.exchange_iis import (
    ACTIVESYNC,
    INTERACTIVE,
    NOT_EXCHANGE,
    PROBE,
    ExchangeIisSource,
    Layout,
    guess_fields,
    parse_fields_directive,
    protocol_of,
    request_class,
    stem_class,
)
from loyaute.sources.people import decode_text, login_reason
from tests.conftest import FIXTURES, events, parse_bytes, parse_in_chunks, reasons, skips, utc

DIR = FIXTURES / "exchange_iis"
FRONTEND = DIR / "u_ex260310_frontend.log"
RESTART = DIR / "u_ex260311_restart.log"
EXCERPT = DIR / "excerpt_headerless.log"
CRLF_BLANK = DIR / "u_ex260313_crlf_blank.log"
CP1252 = DIR / "u_ex260314_cp1252.log"
BACKEND = DIR / "u_ex260310_backend.log"
PROBES = DIR / "u_ex260315_probes.log"
FORMS = DIR / "u_ex260316_forms_signin.log"
BOM_SOFTWARE = DIR / "u_ex260317_bom.log"
BOM_FIELDS = DIR / "u_ex260318_bom_fields.log"
ALL_FILES = [
    FRONTEND,
    RESTART,
    EXCERPT,
    CRLF_BLANK,
    CP1252,
    BACKEND,
    PROBES,
    FORMS,
    BOM_SOFTWARE,
    BOM_FIELDS,
]
LF_FILES_WITH_HEADER = [FRONTEND, RESTART, CP1252, BACKEND, PROBES, FORMS]

SOURCE = ExchangeIisSource()

# The default Exchange front-end layout, and the two layouts the restart fixture switches to.
FIELDS_A = (
    "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
    "cs(Referer) sc-status sc-substatus sc-win32-status time-taken"
)
FIELDS_B = (
    "date time s-computername s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
    "cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken"
)
FIELDS_C = (
    "date time s-sitename s-computername s-ip cs-method cs-uri-stem cs-uri-query s-port "
    "cs-username c-ip cs-version cs(User-Agent) cs(Cookie) cs(Referer) cs-host sc-status "
    "sc-substatus sc-win32-status sc-bytes cs-bytes time-taken"
)
HEADER_A = b"#Fields: " + FIELDS_A.encode() + b"\n"
EDGE = "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)"
IPHONE = "Apple-iPhone14C3/2104.91"
EAS = "/Microsoft-Server-ActiveSync/default.eas"
DEVICE = "DeviceId=7B2C9E4F1A3D5C8E0B6F2A4D9C1E3B5A&DeviceType=iPhone"

EXCHANGE_APPS = {"owa", "activesync", "mapi", "ews", "rpc", "autodiscover", "oab", "ecp"}
FORBIDDEN_IN_OUTPUT = ("10.20.", "192.0.2.", "10.30.", "fe80:", "/", "http", "Mozilla", "Apple-")


def line(
    *,
    date: str = "2026-03-10",
    time: str = "08:15:42",
    method: str = "POST",
    stem: str = "/owa/service.svc",
    query: str = "action=GetItem&EP=1&ID=-4&AC=1",
    port: str = "443",
    user: str = "LENORD\\jdupont",
    ua: str = EDGE,
    status: str = "200",
    taken: str = "58",
) -> bytes:
    """One line in the default Exchange layout (FIELDS_A)."""
    return (
        f"{date} {time} 10.20.1.5 {method} {stem} {query} {port} {user} 192.0.2.41 {ua} - "
        f"{status} 0 0 {taken}"
    ).encode()


def parse_one(raw: bytes, source: ExchangeIisSource = SOURCE) -> Parsed:
    """Parse one line under the default layout: line 1 is the directive, line 2 the line."""
    parsed = parse_bytes(source, HEADER_A + raw + b"\n")
    assert parsed.lines == 2
    return parsed


def outcome(parsed: Parsed, number: int) -> str | tuple[str, bool, str]:
    """What became of one line: its skip reason, or (login, interactive, app) of its event."""
    found = [e for e in events(parsed) if e["line"] == number]
    missed = [s for s in skips(parsed) if s["line"] == number]
    assert len(found) + len(missed) == 1, f"line {number}: {found} {missed}"
    if found:
        ev = found[0]
        return (ev["login"], ev["interactive"], ev["app"])
    return str(missed[0]["reason"])


def outcomes(parsed: Parsed, expected: dict[int, Any] | None = None) -> dict[int, Any]:
    """Every line's outcome, keyed by line number. Where ``expected`` allows several reasons
    (a set), an outcome among them is reported as that set, so one comparison checks all."""
    numbers = [e["line"] for e in events(parsed)] + [s["line"] for s in skips(parsed)]
    found = {n: outcome(parsed, n) for n in sorted(numbers)}
    for n, allowed in (expected or {}).items():
        if isinstance(allowed, frozenset) and found.get(n) in allowed:
            found[n] = allowed
    return found


def single_event(raw: bytes) -> dict[str, Any]:
    parsed = parse_one(raw)
    evs = events(parsed)
    assert len(evs) == 1, skips(parsed)
    return evs[0]


def single_reason(raw: bytes) -> str:
    parsed = parse_one(raw)
    assert events(parsed) == [], events(parsed)
    return str(skips(parsed)[1]["reason"])


def count_lines(data: bytes) -> int:
    body = data[:-1] if data.endswith(b"\n") else data
    return body.count(b"\n") + 1 if data else 0


def assert_accounted(parsed: Parsed, n: int) -> None:
    numbers = sorted(
        parsed.events.column("line").to_pylist() + parsed.skipped.column("line").to_pylist()
    )
    assert numbers == list(range(1, n + 1))


# --- Whole files -------------------------------------------------------------------------------

J, M, P = "LENORD\\jdupont", "LENORD\\mmartin", "LENORD\\pleroy"
JD = "jean.dupont@lenord.fr"

# A 401 challenge without a user fails two rules; either reason is right.
CHALLENGE = frozenset({"no_user", "failed_status"})

FRONTEND_EXPECTED: dict[int, Any] = {
    1: "header",
    2: "header",
    3: "header",
    4: "header",
    5: "probe",
    6: (M, False, "activesync"),
    7: "no_user",
    8: (J, True, "owa"),
    9: (J, False, "owa"),
    10: (J, False, "owa"),
    11: (J, True, "owa"),
    12: (J, True, "owa"),
    13: (J, False, "owa"),
    14: (J, True, "owa"),
    15: (J, True, "owa"),
    16: (J, False, "owa"),
    17: CHALLENGE,
    18: (JD, False, "mapi"),
    19: (JD, False, "mapi"),
    20: (P, False, "autodiscover"),
    21: (P, False, "rpc"),
    22: (P, False, "rpc"),
    23: (P, False, "oab"),
    24: (P, False, "ews"),
    25: "failed_status",
    26: (M, False, "activesync"),
    27: (M, True, "activesync"),
    28: "probe",
    29: "not_a_person",
    30: "not_a_person",
    31: "not_exchange",
    32: (J, True, "ecp"),
    33: ("lenord%5Cjdupont", True, "activesync"),
    34: (J, True, "owa"),
}


def test_front_end_day_file_gives_the_expected_outcome_for_every_line() -> None:
    """A normal front-end day file (FORMATS.md, "Exchange" table): each line is the expected
    event (login as written, interactive flag, Exchange protocol) or skip reason."""
    parsed = parse_bytes(SOURCE, FRONTEND.read_bytes())
    assert outcomes(parsed, FRONTEND_EXPECTED) == FRONTEND_EXPECTED


RESTART_EXPECTED: dict[int, Any] = {
    **dict.fromkeys((1, 2, 3, 4, 7, 8, 9, 10, 13, 14, 15, 16), "header"),
    5: (J, True, "owa"),
    6: (M, False, "activesync"),
    11: (P, True, "owa"),
    12: (JD, False, "mapi"),
    17: (P, True, "activesync"),
    18: (M, True, "ecp"),
}


def test_fields_directive_is_reread_at_every_restart() -> None:
    """#Fields is re-read at each directive: after a restart the layout adds s-computername and
    drops cs(Referer) (same width, so only the directive tells), then adds s-sitename, cs-host,
    bytes; the user, stem and status columns move and the parser follows them."""
    parsed = parse_bytes(SOURCE, RESTART.read_bytes())
    assert outcomes(parsed) == RESTART_EXPECTED


def test_time_taken_is_read_from_its_own_column_under_each_layout() -> None:
    """start = logged time − time-taken, with time-taken found by the directive in force (the
    last column, not sc-bytes or cs-bytes which sit just before it in the third layout)."""
    by_line = {e["line"]: e for e in events(parse_bytes(SOURCE, RESTART.read_bytes()))}
    assert by_line[5]["start"] == utc(2026, 3, 11, 7, 30, 2) - timedelta(milliseconds=250)
    assert by_line[11]["start"] == utc(2026, 3, 11, 12, 5, 10) - timedelta(milliseconds=46)
    assert by_line[17]["start"] == utc(2026, 3, 11, 16, 42, 9) - timedelta(milliseconds=2350)
    assert by_line[18]["start"] == utc(2026, 3, 11, 16, 45, 0) - timedelta(milliseconds=93)


EXCERPT_EXPECTED: dict[int, Any] = {
    1: (J, True, "owa"),
    2: (M, False, "ews"),
    3: (P, True, "activesync"),
    4: ("marie.martin@lenord.fr", True, "ecp"),
    5: "backend",
    6: "malformed",
    7: "probe",
    8: (J, True, "owa"),
    9: "malformed",
}


def test_headerless_excerpt_is_read_among_the_common_layouts() -> None:
    """Lines cut from their header (a forwarded stream) are recognised among the common layouts
    (default Exchange, with s-computername and X-Forwarded-For, with s-sitename/cs-host/bytes);
    a cut line and TLS bytes are malformed."""
    parsed = parse_bytes(SOURCE, EXCERPT.read_bytes())
    assert outcomes(parsed) == EXCERPT_EXPECTED


def test_headerless_excerpt_times_use_the_guessed_time_taken() -> None:
    """Without a header, time-taken is still located (alone after the status, or after
    sc-bytes cs-bytes) and start = logged time − time-taken."""
    by_line = {e["line"]: e for e in events(parse_bytes(SOURCE, EXCERPT.read_bytes()))}
    assert by_line[1]["start"] == utc(2026, 3, 12, 8, 1, 12) - timedelta(milliseconds=203)
    assert by_line[2]["start"] == utc(2026, 3, 12, 8, 1, 15) - timedelta(milliseconds=52)
    assert by_line[3]["start"] == utc(2026, 3, 12, 8, 2, 40) - timedelta(milliseconds=733)
    assert by_line[4]["start"] == utc(2026, 3, 12, 8, 3, 5) - timedelta(milliseconds=281)


CRLF_EXPECTED: dict[int, Any] = {
    1: "header",
    2: "header",
    3: "header",
    4: "header",
    5: (J, True, "owa"),
    6: "blank",
    7: (M, True, "activesync"),
    8: (P, False, "ews"),
    9: "blank",
    10: "blank",
    11: (J, True, "ecp"),
    12: "blank",
}


def test_crlf_file_with_blank_lines() -> None:
    """CRLF line endings and blank lines: each blank line is its own "blank" skip and every
    other line keeps its number; no login or time carries the carriage return."""
    parsed = parse_bytes(SOURCE, CRLF_BLANK.read_bytes())
    assert outcomes(parsed) == CRLF_EXPECTED
    by_line = {e["line"]: e for e in events(parsed)}
    assert by_line[8]["start"] == utc(2026, 3, 13, 8, 13, 1) - timedelta(milliseconds=35)


def test_crlf_alone_reads_like_lf() -> None:
    """CRLF endings without blank lines give exactly the events of the LF file."""
    data = RESTART.read_bytes()
    lf = parse_bytes(SOURCE, data)
    crlf = parse_bytes(SOURCE, data.replace(b"\n", b"\r\n"))
    assert events(crlf) == events(lf)
    assert skips(crlf) == skips(lf)


def test_back_end_site_lines_are_never_traces() -> None:
    """Front end only: the back-end site (port 444) logs every request again, with real users
    or Anonymous; none of its lines is a trace."""
    parsed = parse_bytes(SOURCE, BACKEND.read_bytes())
    assert events(parsed) == []
    assert reasons(parsed) == {"header": 4, "backend": 6}


PROBES_EXPECTED: dict[int, Any] = {
    1: "header",
    2: "header",
    3: "header",
    4: "header",
    5: "probe",
    6: "probe",
    7: "probe",
    8: "probe",
    9: "probe",
    10: "probe",
    11: "probe",
    12: "not_a_person",
    13: "not_a_person",
    14: "not_a_person",
    15: "not_a_person",
    16: (J, True, "owa"),
}


def test_probes_and_technical_accounts_file() -> None:
    """Load-balancer /healthcheck.htm (any case, any service), AMProbe user agents (even with a
    person's login) are probes; HealthMailbox, SystemMailbox{…} and machine accounts ($) are
    never a person; the person's line in the same file stays a trace."""
    parsed = parse_bytes(SOURCE, PROBES.read_bytes())
    assert outcomes(parsed) == PROBES_EXPECTED


FORMS_EXPECTED: dict[int, Any] = {
    **dict.fromkeys((1, 2, 3, 4), "header"),
    5: "no_user",  # GET /owa/ without the sign-in cookies: sent to the sign-in page
    6: "no_user",  # the sign-in page, before anyone signs in
    7: "failed_status",  # POST /owa/auth.owa refused: LogoffReason=NoCookiesGetOrE14AuthPost
    8: "no_user",  # the sign-in page again, reason=2 (credentials refused)
    9: "failed_status",  # the same person refused again, under a UPN
    10: "failed_status",  # the sign-in page again with reason=2, this time with a user logged
    11: (J, True, "owa"),  # POST /owa/auth.owa accepted: 302 to the mailbox, no LogoffReason
    12: (J, True, "owa"),
    13: (J, True, "owa"),
    14: "failed_status",  # 440 login time-out
    15: "failed_status",  # GET /owa/ after the time-out: LogoffReason=LoginTimeoutGet, a 302
    16: "failed_status",  # the sign-in page again, reason=3 (timed out)
    17: "failed_status",  # /ecp/ refused the same way as OWA
    18: (M, True, "owa"),
    19: (M, True, "ecp"),
}


def test_failed_forms_sign_in_is_not_mail_activity() -> None:
    """Issue 14 item 5: a refused OWA forms sign-in is logged as a 302 like an accepted one, but
    Exchange writes LogoffReason=… into its query, and the browser then fetches the sign-in page
    with reason=2. Neither is a person reading mail (failed_status); an accepted sign-in, the
    mailbox page and the OWA actions after it stay interactive traces."""
    parsed = parse_bytes(SOURCE, FORMS.read_bytes())
    assert outcomes(parsed) == FORMS_EXPECTED


@pytest.mark.parametrize(
    ("method", "stem", "query", "status", "expected"),
    [
        ("POST", "/owa/auth.owa", "&cafeReqId=x;&LogoffReason=NoCookiesGetOrE14AuthPost", "302",
         "failed_status"),
        ("POST", "/owa/auth.owa", "&cafeReqId=x;&logoffreason=NoCookiesGetOrE14AuthPost", "302",
         "failed_status"),
        ("POST", "/owa/auth.owa", "&cafeReqId=x;", "302", (J, True, "owa")),
        ("POST", "/owa/auth.owa", "LogoffReason=NoCookiesGetOrE14AuthPost", "200",
         (J, True, "owa")),
        ("GET", "/owa/auth/logon.aspx", "url=https%3a%2f%2fmail%2fowa%2f&reason=2", "200",
         "failed_status"),
        ("GET", "/owa/auth/logon.aspx", "url=https%3a%2f%2fmail%2fowa%2f&reason=0", "200",
         (J, True, "owa")),
        ("GET", "/owa/auth/logon.aspx", "url=https%3a%2f%2fmail%2fowa%2f%3freason%3d2", "200",
         (J, True, "owa")),
        ("GET", "/owa/", "&ClientId=AB12&LogoffReason=NoCookiesGetOrE14AuthPost", "302",
         "failed_status"),
        ("POST", "/mapi/emsmdb/", "LogoffReason=NoCookiesGetOrE14AuthPost", "302",
         (J, False, "mapi")),
    ],
    ids=[
        "auth-refused",
        "auth-refused-any-case",
        "auth-accepted",
        "mark-without-redirect",
        "sign-in-page-again",
        "sign-in-page-first",
        "reason-inside-the-url",
        "mailbox-without-cookies",
        "mapi-has-no-forms-sign-in",
    ],
)  # fmt: skip
def test_forms_sign_in_refusal_boundaries(
    method: str, stem: str, query: str, status: str, expected: str | tuple[str, bool, str]
) -> None:
    """What the log shows of a refusal, and its boundaries: the LogoffReason mark on a 302 of a
    page behind the forms sign-in (/owa, /ecp), and reason=1…4 as the sign-in page's own
    parameter (not inside its url= value). A 2xx with the mark, or MAPI, which has no forms
    sign-in, are left as they were."""
    parsed = parse_one(line(method=method, stem=stem, query=query, status=status))
    assert outcome(parsed, 2) == expected


BOM_EXPECTED = {
    BOM_SOFTWARE: {
        **dict.fromkeys((1, 2, 3, 4), "header"),
        5: (J, False, "mapi"),
        6: (M, True, "owa"),
        7: ("pleroy", True, "activesync"),
    },
    BOM_FIELDS: {
        1: "header",
        2: (J, True, "owa"),
        3: (M, False, "ews"),
        4: "backend",
    },
}


@pytest.mark.parametrize("path", list(BOM_EXPECTED), ids=lambda p: p.name)
def test_utf8_bom_before_the_first_line_is_detected_and_read(path: Path) -> None:
    """Issue 14 item 7: a UTF-8 byte order mark before a first-line #Software or #Fields (Notepad,
    some shippers) neither defeats detection nor the layout: the marked line is a header, and a
    layout without cs-method (which no headerless guess could read) is followed."""
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert detect(head(path), build_sources(Settings())).name == "exchange-iis"
    assert SOURCE.sniff(head(path)) >= 85
    parsed = parse_bytes(SOURCE, path.read_bytes())
    assert outcomes(parsed) == BOM_EXPECTED[path]


def test_prefix_state_reads_the_layout_after_a_bom() -> None:
    """A range starting after a first-line #Fields behind a BOM resumes under that layout."""
    data = BOM_FIELDS.read_bytes()
    layout = SOURCE.prefix_state(data, line_offsets(data)[2])
    assert layout == Layout(("date", "time", "cs-uri-stem", "cs-uri-query", "s-port",
                             "cs-username", "sc-status", "time-taken"))  # fmt: skip


def test_bom_is_only_stripped_before_the_first_line() -> None:
    """A BOM in the middle of a file is not a directive marker: that line stays malformed."""
    data = HEADER_A + line() + b"\n" + b"\xef\xbb\xbf#Fields: date time\n" + line() + b"\n"
    parsed = parse_bytes(SOURCE, data)
    assert outcomes(parsed) == {
        1: "header",
        2: (J, True, "owa"),
        3: "malformed",
        4: (J, True, "owa"),
    }


# --- Time --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "time", "taken", "start"),
    [
        ("2026-03-10", "08:15:42", "0", datetime(2026, 3, 10, 8, 15, 42, tzinfo=UTC)),
        ("2026-03-10", "08:15:42", "1", datetime(2026, 3, 10, 8, 15, 41, 999000, tzinfo=UTC)),
        ("2026-03-10", "08:15:42", "187", datetime(2026, 3, 10, 8, 15, 41, 813000, tzinfo=UTC)),
        # An ActiveSync Ping holds up to an hour: its start is on the previous day.
        ("2026-03-10", "00:41:07", "3540000", datetime(2026, 3, 9, 23, 42, 7, tzinfo=UTC)),
    ],
)
def test_times_are_utc_and_start_is_logged_time_minus_time_taken(
    date: str, time: str, taken: str, start: datetime
) -> None:
    """date/time are UTC, always; the line is written when the request completes, so
    ts = end = logged time and start = logged time − time-taken (ms)."""
    ev = single_event(line(date=date, time=time, taken=taken))
    logged = datetime.fromisoformat(f"{date}T{time}+00:00")
    assert ev["ts"] == logged
    assert ev["ts"].utcoffset() == timedelta(0)
    assert ev["end"] == logged
    assert ev["start"] == start


@pytest.mark.parametrize(
    ("date", "time"),
    [("2026-03-29", "02:30:00"), ("2026-10-25", "02:30:00"), ("2026-10-25", "01:30:00")],
)
def test_paris_dst_hours_are_plain_utc_times(date: str, time: str) -> None:
    """IIS times are UTC, never local: 02:30 on the spring-forward day (which does not exist in
    Paris) and the autumn hour that happens twice in Paris are single, valid UTC instants."""
    ev = single_event(line(date=date, time=time))
    assert ev["ts"] == datetime.fromisoformat(f"{date}T{time}+00:00")


@pytest.mark.parametrize(
    ("date", "time"),
    [
        ("2026-02-30", "08:15:42"),
        ("2026-02-29", "08:15:42"),
        ("2026-13-01", "08:15:42"),
        ("2026-03-10", "25:00:00"),
        ("2026-03-10", "24:00:00"),
        ("2026-03-10", "12:60:00"),
        ("2026-03-10", "12:00:61"),
        ("10/03/2026", "08:15:42"),
    ],
)
def test_impossible_dates_and_times_are_bad_time(date: str, time: str) -> None:
    """An impossible date or time is "bad_time", never a trace and never raised."""
    assert single_reason(line(date=date, time=time)) == "bad_time"


@pytest.mark.parametrize(
    ("date", "time"),
    [("2024-02-29", "08:15:42"), ("2026-03-10", "23:59:59"), ("2026-03-10", "00:00:00")],
)
def test_boundary_dates_and_times_are_valid(date: str, time: str) -> None:
    """The boundary of bad_time: a leap day, 23:59:59 and midnight are valid times."""
    ev = single_event(line(date=date, time=time))
    assert ev["ts"] == datetime.fromisoformat(f"{date}T{time}+00:00")


# --- Front end, status, users --------------------------------------------------------------------


@pytest.mark.parametrize(("port", "is_trace"), [("443", True), ("80", True), ("444", False)])
def test_only_the_front_end_is_a_trace(port: str, is_trace: bool) -> None:
    """Front end only: port 444 (the back-end site) → "backend"; 443 and 80 are front end."""
    parsed = parse_one(line(port=port))
    if is_trace:
        assert len(events(parsed)) == 1
    else:
        assert events(parsed) == []
        assert skips(parsed)[1]["reason"] == "backend"


def test_back_end_ports_are_a_setting() -> None:
    """The back-end port comes from the source's settings (a site moved to another port)."""
    custom = ExchangeIisSource(backend_ports=frozenset({b"8444"}))
    moved = parse_one(line(port="8444"), custom)
    assert events(moved) == []
    assert skips(moved)[1]["reason"] == "backend"
    assert len(events(parse_one(line(port="444"), custom))) == 1


@pytest.mark.parametrize("status", ["200", "204", "302", "304", "399"])
def test_2xx_and_3xx_statuses_are_traces(status: str) -> None:
    """A trace needs a 2xx/3xx status (the OWA sign-in answers 302)."""
    assert single_event(line(status=status))["login"] == J


@pytest.mark.parametrize("status", ["401", "403", "440", "500", "503", "199", "400"])
def test_other_statuses_are_failed_status(status: str) -> None:
    """Outside 2xx/3xx → "failed_status" (401 is the authentication challenge before the real
    request; 440 is OWA's login time-out)."""
    assert single_reason(line(status=status)) == "failed_status"


def test_anonymous_401_challenge_is_never_a_trace() -> None:
    """The 401 challenge usually has no user: it is skipped (no user or failed status)."""
    assert single_reason(line(user="-", status="401")) in {"no_user", "failed_status"}


@pytest.mark.parametrize("user", ["-", "Anonymous", "anonymous", "N/A", "(null)"])
def test_null_users_are_no_user(user: str) -> None:
    """A trace needs a user: "-", Anonymous and the other null markers → "no_user", and the
    skip record carries no login."""
    parsed = parse_one(line(user=user))
    assert events(parsed) == []
    assert skips(parsed)[1]["reason"] == "no_user"
    assert skips(parsed)[1]["login"] is None


@pytest.mark.parametrize(
    "user",
    [
        "LENORD\\HealthMailbox4b1d9e2f7a3c4e5d8f6a0b2c4d6e8f01",
        "HealthMailbox0c2e4a6b8d1f3a5c@lenord.fr",
        "LENORD\\healthmailbox0c2e4a6b",
        "SystemMailbox{1f05a927-7709-4e35-9dbe-d0f608fb781a}@lenord.fr",
        "LENORD\\EXCH01$",
        "SRV-GED01$",
        "SYSTEM",
        "LENORD\\SYSTEM",
    ],
)
def test_technical_accounts_are_not_a_person(user: str) -> None:
    """HealthMailbox*, SystemMailbox{…}, machine accounts ending in $ and SYSTEM →
    "not_a_person", whatever the request."""
    assert single_reason(line(user=user)) == "not_a_person"


@pytest.mark.parametrize("user", ["LENORD\\jdupont", "LENORD\\jdupont$x", "jean.dupont@lenord.fr"])
def test_person_logins_next_to_the_technical_rules_are_kept(user: str) -> None:
    """Boundary of not_a_person: a $ inside a login is not a machine account."""
    assert single_event(line(user=user))["login"] == user


@pytest.mark.parametrize(
    "user",
    [
        "LENORD\\jdupont",
        "jdupont",
        "JDUPONT",
        "jdupont@lenord.fr",
        "jean.dupont@lenord.fr",
        "lenord%5Cjdupont",
        "LENORD%5CJDupont",
    ],
)
def test_login_is_reported_exactly_as_written(user: str) -> None:
    """A parser reports the login as written: no URL-decoding, no domain stripping, no case
    folding (the identity layer does that)."""
    assert single_event(line(user=user))["login"] == user


def test_utf8_user_name_decodes() -> None:
    """A UTF-8 user name (IIS's default log encoding) decodes to the right Unicode."""
    raw = line(user="LENORD\\héloïse")
    assert b"h\xc3\xa9lo\xc3\xafse" in raw
    assert single_event(raw)["login"] == "LENORD\\héloïse"


def test_windows_1252_user_names_decode_to_unicode() -> None:
    """Windows-1252 user names (older IIS logs in the ANSI code page) decode to the right
    Unicode, including œ which Latin-1 would turn into a control character."""
    by_line = {e["line"]: e["login"] for e in events(parse_bytes(SOURCE, CP1252.read_bytes()))}
    assert by_line == {
        5: "LENORD\\héloïse",
        6: "LENORD\\françois",
        7: "LENORD\\sbœuf",
        8: "jérôme.gaël@lenord.fr",
        9: "LENORD\\jdupont",
    }


# --- Probes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ua", ["AMProbe/Local/ClientAccess", "AMProbe/Local/ActiveSync", "AMProbe/Remote"]
)
def test_amprobe_user_agent_is_a_probe_even_with_a_person_login(ua: str) -> None:
    """Exchange's own health probes (user agent AMProbe/…) → "probe", even when the line
    names a login that would otherwise be a person."""
    assert single_reason(line(ua=ua, user="LENORD\\jdupont")) == "probe"


@pytest.mark.parametrize(
    "stem",
    [
        "/healthcheck.htm",
        "/owa/healthcheck.htm",
        "/ecp/HealthCheck.htm",
        "/Microsoft-Server-ActiveSync/healthcheck.htm",
        "/mapi/HEALTHCHECK.HTM",
    ],
)
def test_healthcheck_is_a_probe(stem: str) -> None:
    """Load-balancer checks (/…/healthcheck.htm, any case) → "probe", with or without user."""
    assert single_reason(line(stem=stem, query="-", method="GET", user="-")) == "probe"
    assert single_reason(line(stem=stem, query="-", method="GET")) == "probe"


# --- Interactive or background -----------------------------------------------------------------

TABLE: list[tuple[str, str, str, bool, str]] = [
    # method, stem, query, interactive, app
    ("POST", "/owa/auth.owa", "-", True, "owa"),
    ("POST", "/owa/auth/logon.aspx", "replaceCurrent=1", True, "owa"),
    ("POST", "/owa/service.svc", "action=GetItem&EP=1&ID=-4&AC=1", True, "owa"),
    ("POST", "/owa/service.svc", "action=CreateItem&EP=1&ID=-5&AC=1", True, "owa"),
    ("POST", "/owa/service.svc", "action=UpdateItem&EP=1&ID=-6&AC=1", True, "owa"),
    ("POST", "/owa/service.svc", "action=FindItem&EP=1&ID=-7&AC=1", True, "owa"),
    ("POST", "/owa/service.svc", "action=FindConversation&EP=1&ID=-8&AC=1", True, "owa"),
    ("POST", "/owa/service.svc", "action=SendItem&EP=1&ID=-9&AC=1", True, "owa"),
    ("POST", "/owa/service.svc", "action=DeleteItem&EP=1&ID=-10&AC=1", True, "owa"),
    ("POST", "/owa/service.svc", "action=MoveItem&EP=1&ID=-11&AC=1", True, "owa"),
    ("POST", "/owa/service.svc", "action=SubscribeToNotification&EP=1&ID=-1&AC=1", False, "owa"),
    ("POST", "/owa/service.svc", "action=GetOwaUserConfiguration&EP=1&ID=-2&AC=1", False, "owa"),
    ("POST", "/owa/ev.owa2", "ns=PendingRequest&ev=PendingNotificationRequest&UA=0", False, "owa"),
    ("GET", "/owa/ping.owa", "-", False, "owa"),
    ("POST", EAS, f"User=jdupont&{DEVICE}&Cmd=SendMail", True, "activesync"),
    ("POST", EAS, f"User=jdupont&{DEVICE}&Cmd=SmartReply", True, "activesync"),
    ("POST", EAS, f"User=jdupont&{DEVICE}&Cmd=SmartForward", True, "activesync"),
    ("POST", EAS, f"User=jdupont&{DEVICE}&Cmd=MeetingResponse", True, "activesync"),
    ("POST", EAS, f"User=jdupont&{DEVICE}&Cmd=MoveItems", True, "activesync"),
    ("POST", EAS, f"User=jdupont&{DEVICE}&Cmd=Ping", False, "activesync"),
    ("POST", EAS, f"User=jdupont&{DEVICE}&Cmd=Sync", False, "activesync"),
    ("POST", EAS, f"User=jdupont&{DEVICE}&Cmd=FolderSync", False, "activesync"),
    ("POST", EAS, f"User=jdupont&{DEVICE}&Cmd=GetItemEstimate", False, "activesync"),
    ("POST", EAS, f"User=jdupont&{DEVICE}&Cmd=Provision", False, "activesync"),
    ("OPTIONS", EAS, f"User=jdupont&{DEVICE}&Cmd=Options", False, "activesync"),
    ("POST", EAS, f"User=jdupont&{DEVICE}&Cmd=Settings", False, "activesync"),
    ("POST", EAS, f"User=jdupont&{DEVICE}&Cmd=ItemOperations", False, "activesync"),
    (
        "POST",
        "/mapi/emsmdb/",
        "mailboxId=5d1e7c3a-9b2f-4e8a-a1c4-3f6b8d2e0a71@lenord.fr",
        False,
        "mapi",
    ),
    (
        "POST",
        "/mapi/nspi/",
        "MailboxId=5d1e7c3a-9b2f-4e8a-a1c4-3f6b8d2e0a71@lenord.fr",
        False,
        "mapi",
    ),
    ("RPC_IN_DATA", "/rpc/rpcproxy.dll", "exch01.lenord.local:6001", False, "rpc"),
    ("RPC_OUT_DATA", "/rpc/rpcproxy.dll", "exch01.lenord.local:6002", False, "rpc"),
    ("POST", "/EWS/Exchange.asmx", "-", False, "ews"),
    ("POST", "/autodiscover/autodiscover.xml", "-", False, "autodiscover"),
    (
        "GET",
        "/Autodiscover/Autodiscover.json",
        "Email=jean.dupont%40lenord.fr&Protocol=ActiveSync",
        False,
        "autodiscover",
    ),
    ("GET", "/OAB/8c4f2a1e-6b3d-4e9f-a7c2-1d5e8b0f3a64/oab.xml", "-", False, "oab"),
    ("GET", "/ecp/", "-", True, "ecp"),
    ("POST", "/ecp/PersonalSettings/HomePage.aspx", "showhelp=false", True, "ecp"),
]


@pytest.mark.parametrize(
    ("method", "stem", "query", "interactive", "app"),
    TABLE,
    ids=[f"{method} {stem} {query[-24:]}" for method, stem, query, *_ in TABLE],
)
def test_interactive_or_background_table(
    method: str, stem: str, query: str, interactive: bool, app: str
) -> None:
    """The interactive/background table of FORMATS.md; category is always "mail" and app is
    the Exchange protocol."""
    ev = single_event(line(method=method, stem=stem, query=query))
    assert (ev["interactive"], ev["app"], ev["category"]) == (interactive, app, "mail")


@pytest.mark.parametrize(
    ("method", "stem", "query", "interactive", "app"),
    [
        ("POST", "/OWA/auth.owa", "-", True, "owa"),
        ("POST", "/owa/AUTH.OWA", "-", True, "owa"),
        ("POST", "/OWA/Service.svc", "action=getitem&EP=1&ID=-4&AC=1", True, "owa"),
        ("POST", "/OWA/SERVICE.SVC", "ACTION=SubscribeToNotification", False, "owa"),
        (
            "POST",
            "/microsoft-server-activesync/default.eas",
            "User=jdupont&Cmd=sendmail",
            True,
            "activesync",
        ),
        (
            "POST",
            "/MICROSOFT-SERVER-ACTIVESYNC/default.eas",
            "cmd=Ping&User=jdupont",
            False,
            "activesync",
        ),
        ("POST", "/ews/exchange.asmx", "-", False, "ews"),
        ("POST", "/MAPI/EMSMDB/", "-", False, "mapi"),
        ("GET", "/ECP/", "-", True, "ecp"),
        ("RPC_IN_DATA", "/RPC/RpcProxy.dll", "exch01.lenord.local:6001", False, "rpc"),
    ],
)
def test_stems_commands_and_actions_are_case_insensitive(
    method: str, stem: str, query: str, interactive: bool, app: str
) -> None:
    """Stems (/OWA/, /Microsoft-Server-ActiveSync), Cmd= and action= are matched whatever their
    case; app is always the lower-case protocol name."""
    ev = single_event(line(method=method, stem=stem, query=query))
    assert (ev["interactive"], ev["app"]) == (interactive, app)


@pytest.mark.parametrize(
    "stem",
    [
        "/",
        "/favicon.ico",
        "/iisstart.htm",
        "/aspnet_client/system_web/4_0_30319/WebUIValidation.js",
        "/intranet/default.aspx",
    ],
)
def test_non_exchange_stems_are_not_exchange(stem: str) -> None:
    """A request outside the known Exchange services → "not_exchange"."""
    assert single_reason(line(stem=stem, query="-", method="GET")) == "not_exchange"


@pytest.mark.parametrize(
    "stem", ["/owasp/index.html", "/ecplanning/default.aspx", "/mapillary/view", "/ewsletter/"]
)
def test_stem_that_only_starts_like_an_exchange_service_is_not_exchange(stem: str) -> None:
    """Boundary of the stem match: an Exchange service is a whole first path segment (/owa,
    /owa/…); /owasp/… or /ecplanning/… are other sites, not Exchange."""
    assert single_reason(line(stem=stem, query="-", method="GET")) == "not_exchange"


# --- ActiveSync User= ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query_user", "login"),
    [("jdupont", "jdupont"), ("lenord%5Cjdupont", "lenord%5Cjdupont"), ("JDUPONT", "JDUPONT")],
)
def test_activesync_user_in_query_is_used_when_cs_username_is_empty(
    query_user: str, login: str
) -> None:
    """ActiveSync names the user in the query (User=…): used, as written, when cs-username is
    empty."""
    raw = line(stem=EAS, query=f"User={query_user}&{DEVICE}&Cmd=SendMail", user="-")
    ev = single_event(raw)
    assert (ev["login"], ev["interactive"], ev["app"]) == (login, True, "activesync")


def test_activesync_cs_username_wins_over_query_user() -> None:
    """When cs-username is there, it is the login (the query's User= is what the phone claims)."""
    raw = line(stem=EAS, query=f"User=mmartin&{DEVICE}&Cmd=Sync", user="LENORD\\jdupont")
    assert single_event(raw)["login"] == "LENORD\\jdupont"


def test_activesync_without_any_user_is_no_user() -> None:
    """Boundary: no cs-username and no User= in the query → "no_user"."""
    assert single_reason(line(stem=EAS, query=f"{DEVICE}&Cmd=Sync", user="-")) == "no_user"


def test_activesync_query_user_that_is_a_health_mailbox_is_not_a_person() -> None:
    """The User= of the query goes through the same person rules as cs-username."""
    raw = line(stem=EAS, query=f"User=HealthMailbox4b1d9e2f&{DEVICE}&Cmd=Sync", user="-")
    assert single_reason(raw) == "not_a_person"


def test_query_user_is_not_taken_outside_activesync() -> None:
    """Only ActiveSync puts the user in the query: an OWA request without cs-username stays
    "no_user" even if its query has a User= parameter."""
    raw = line(stem="/owa/service.svc", query="action=GetItem&User=jdupont", user="-")
    assert single_reason(raw) == "no_user"


# --- Malformed, blank, header -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"2026-03-10 08:03:07 10.20.1.5 POST /owa/service.svc action=GetItem&EP=1",
        b"2026-03-10 08:03:07",
        b"hello",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        b"2026-03-10 08:15:42 10.20.1.5 POST /owa/auth.owa - 443 LENORD\\jdupont 192.0.2.41",
    ],
    ids=["cut-after-query", "date-only", "one-word", "tls-bytes", "cut-before-status"],
)
def test_lines_that_cannot_be_read_are_malformed(raw: bytes) -> None:
    """A wrong field count that cannot be guessed, or binary junk → "malformed", never raised."""
    assert single_reason(raw) == "malformed"


@pytest.mark.parametrize(
    "raw",
    [
        b"2026-03-10 08:15:42 10.20.1.5 POST /owa/auth.owa - 443 LENORD\\h\xe9lo\xefse",
        b"\x00\xff\xfe\x80 junk",
    ],
    ids=["cut-line-with-cp1252-name", "binary-junk"],
)
def test_malformed_line_with_non_utf8_bytes_under_a_layout_is_malformed(raw: bytes) -> None:
    """A line that does not fit the #Fields layout and carries non-UTF-8 bytes (a cut line with
    a Windows-1252 name, binary junk) is "malformed" like any other: never an exception."""
    data = HEADER_A + line() + b"\n" + raw + b"\n" + line(user="LENORD\\mmartin") + b"\n"
    parsed = parse_bytes(SOURCE, data)
    assert outcomes(parsed) == {
        1: "header",
        2: (J, True, "owa"),
        3: "malformed",
        4: ("LENORD\\mmartin", True, "owa"),
    }


def test_unreadable_line_has_no_login_while_new_users_are_met() -> None:
    """Logins are judged once per value and remembered between blocks; a block that meets new
    logins and also holds a line read no further (no user at all) still gives that line no
    login."""
    fresh = [f"LENORD\\nouveau{i}" for i in range(3)]
    cut = [line(user=u).rsplit(b" ", 1)[0] for u in fresh]  # read by guessing, in one batch
    data = HEADER_A + b"\n".join([*cut, b"\x16\x03\x01 junk", line()]) + b"\n"
    parsed = parse_bytes(SOURCE, data)
    assert outcomes(parsed) == {
        1: "header",
        2: (fresh[0], True, "owa"),
        3: (fresh[1], True, "owa"),
        4: (fresh[2], True, "owa"),
        5: "malformed",
        6: (J, True, "owa"),
    }
    assert skips(parsed)[1] == {"line": 5, "reason": "malformed", "ts": None, "login": None}


def test_line_with_one_field_missing_is_guessed_without_time_taken() -> None:
    """A line one field short of the layout (no time-taken) is still read by locating its
    fields; with no time-taken its start is unknown (null), not invented."""
    raw = line().rsplit(b" ", 1)[0]
    ev = single_event(raw)
    assert ev["login"] == J
    assert ev["start"] is None
    assert ev["ts"] == utc(2026, 3, 10, 8, 15, 42)


@pytest.mark.parametrize(
    "raw",
    [b"", b"   ", b"\t", b" " * FIELDS_A.count(" ")],
    ids=["empty", "spaces", "tab", "spaces-as-many-as-the-layout-separators"],
)
def test_blank_lines_are_blank(raw: bytes) -> None:
    """A line with nothing but white space → "blank", under a layout as well as without one."""
    with_layout = parse_bytes(SOURCE, HEADER_A + line() + b"\n" + raw + b"\n" + line() + b"\n")
    assert outcome(with_layout, 3) == "blank"
    assert with_layout.lines == 4
    headerless = parse_bytes(SOURCE, line() + b"\n" + raw + b"\n" + line() + b"\n")
    assert outcome(headerless, 2) == "blank"


@pytest.mark.parametrize(
    "raw",
    [
        b"#Software: Microsoft Internet Information Services 10.0",
        b"#Version: 1.0",
        b"#Date: 2026-03-10 00:00:04",
        b"#Fields: " + FIELDS_A.encode(),
        b"# Fields: " + FIELDS_A.encode(),
        b"#Remark: log file rolled over",
    ],
)
def test_header_lines_are_header(raw: bytes) -> None:
    """Directive and comment lines → "header"; the line after them is still read."""
    parsed = parse_bytes(SOURCE, raw + b"\n" + line() + b"\n")
    assert outcome(parsed, 1) == "header"
    assert outcome(parsed, 2) == (J, True, "owa")


def test_fields_directive_with_a_space_after_the_hash_is_a_layout() -> None:
    """ "# Fields:" (with a space, as hand-edited files write it) sets the layout like
    "#Fields:": a layout whose user sits elsewhere is followed."""
    layout = b"# Fields: " + FIELDS_B.encode() + b"\n"
    raw = (
        b"2026-03-11 12:05:10 EXCH01 10.20.1.5 POST /owa/service.svc action=GetItem 443 "
        b"LENORD\\pleroy 192.0.2.77 " + EDGE.encode() + b" 200 0 0 46\n"
    )
    parsed = parse_bytes(SOURCE, layout + raw)
    assert outcomes(parsed) == {1: "header", 2: (P, True, "owa")}


# --- Accounting and ordering --------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_every_line_is_accounted_for_exactly_once(path: Path) -> None:
    """Every line is an event or a skip, exactly once: events + skips == number of lines and
    the line numbers are 1..n, each once."""
    data = path.read_bytes()
    parsed = parse_bytes(SOURCE, data)
    assert parsed.lines == count_lines(data)
    assert_accounted(parsed, count_lines(data))


def test_line_numbers_start_at_the_chunk_first_line() -> None:
    """A chunk's lines are numbered from its first_line, as the file's lines."""
    data = FRONTEND.read_bytes()
    parsed = parse_bytes(SOURCE, data, first_line=101)
    numbers = sorted(
        parsed.events.column("line").to_pylist() + parsed.skipped.column("line").to_pylist()
    )
    assert numbers == list(range(101, 101 + count_lines(data)))


def test_a_line_read_another_way_keeps_its_line_number() -> None:
    """The Parsed contract (base.py): rows carry their line, in no promised order. A line in the
    middle that does not fit the layout is read another way and keeps its own number."""
    short = line(user="LENORD\\mmartin").rsplit(b" ", 1)[0]
    data = HEADER_A + line() + b"\n" + short + b"\n" + line(user="LENORD\\pleroy") + b"\n"
    parsed = parse_bytes(SOURCE, data)
    by_line = {r["line"]: r["login"] for r in events(parsed)}
    assert by_line[3] == "LENORD\\mmartin"
    assert by_line[4] == "LENORD\\pleroy"
    assert sorted(by_line) == [2, 3, 4]


# --- Vectorised and line-by-line paths, chunks, prefix state ------------------------------------


def with_blank_after_directives(data: bytes) -> tuple[bytes, list[int]]:
    """Insert a blank line after each #Fields directive (it forces the line-by-line path);
    return the new data and, for each original line, its new number."""
    out: list[bytes] = []
    mapping: list[int] = []
    for raw in data.split(b"\n")[:-1]:
        out.append(raw)
        mapping.append(len(out))
        if raw.startswith(b"#Fields:"):
            out.append(b"")
    return b"".join(x + b"\n" for x in out), mapping


@pytest.mark.parametrize("path", LF_FILES_WITH_HEADER, ids=lambda p: p.name)
def test_vectorised_and_line_by_line_paths_agree(path: Path) -> None:
    """A clean run under a #Fields layout is read vectorised; the same lines with a blank line
    inserted are read line by line. Both give the same events and skips for the same lines."""
    data = path.read_bytes()
    fast = parse_bytes(SOURCE, data)
    slow_data, mapping = with_blank_after_directives(data)
    slow = parse_bytes(SOURCE, slow_data)
    back = {new: old for old, new in enumerate(mapping, start=1)}
    slow_events = [{**e, "line": back[e["line"]]} for e in events(slow)]
    slow_skips = [{**s, "line": back[s["line"]]} for s in skips(slow) if s["line"] in back]
    inserted = [s["reason"] for s in skips(slow) if s["line"] not in back]
    assert inserted == ["blank"] * data.count(b"\n#Fields:")
    assert slow_events == events(fast)
    assert slow_skips == skips(fast)
    assert len(slow_events) + len(slow_skips) > data.count(b"\n#")  # more than the headers


CUT_SETS = [
    [1],
    [3],
    [4],
    [5],
    [6],
    [9],
    [10],
    [11],
    [16],
    [17],
    [2, 5, 11],
    [4, 10, 16],
    list(range(1, 40)),
]


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_parsing_in_chunks_gives_the_same_as_one_chunk(path: Path) -> None:
    """One parser fed a file in several chunks (cut anywhere: before, on and after each
    directive) gives the same events and skips as one chunk: the layout carries over."""
    data = path.read_bytes()
    whole = parse_bytes(SOURCE, data)
    for cuts in CUT_SETS:
        parts = parse_in_chunks(SOURCE, data, cuts)
        assert events(parts) == events(whole), cuts
        assert skips(parts) == skips(whole), cuts


def line_offsets(data: bytes) -> list[int]:
    """Byte offset of the start of each line (index 0 = line 1)."""
    offsets = [0]
    for i, byte in enumerate(data):
        if byte == 0x0A and i + 1 < len(data):
            offsets.append(i + 1)
    return offsets


LAYOUT_A = Layout(tuple(FIELDS_A.split()))
LAYOUT_B = Layout(tuple(FIELDS_B.split()))
LAYOUT_C = Layout(tuple(FIELDS_C.split()))
RESTART_LAYOUT_AT = {
    1: None,
    2: None,
    4: None,
    5: LAYOUT_A,
    6: LAYOUT_A,
    7: LAYOUT_A,
    10: LAYOUT_A,
    11: LAYOUT_B,
    12: LAYOUT_B,
    16: LAYOUT_B,
    17: LAYOUT_C,
    18: LAYOUT_C,
}


@pytest.mark.parametrize(("number", "layout"), RESTART_LAYOUT_AT.items())
def test_prefix_state_is_the_layout_in_force_at_an_offset(
    number: int, layout: Layout | None
) -> None:
    """prefix_state(data, offset) returns the last #Fields layout before the offset (none before
    the first directive; at a directive line, the previous one, since the parser reads the
    directive itself)."""
    data = RESTART.read_bytes()
    offset = line_offsets(data)[number - 1]
    assert SOURCE.prefix_state(data, offset) == layout


def test_prefix_state_reads_a_memory_mapped_file() -> None:
    """prefix_state works on the memory-mapped file the engine gives it."""
    data = RESTART.read_bytes()
    offset = line_offsets(data)[11 - 1]
    with RESTART.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        assert SOURCE.prefix_state(mapped, offset) == LAYOUT_B


def test_prefix_state_of_a_headerless_file_is_none() -> None:
    """A headerless excerpt has no layout in force anywhere."""
    data = EXCERPT.read_bytes()
    assert all(SOURCE.prefix_state(data, off) is None for off in line_offsets(data))


@pytest.mark.parametrize("number", [5, 6, 7, 11, 12, 17, 18])
def test_parser_at_prefix_state_resumes_mid_file(number: int) -> None:
    """A worker starting mid-file with parser_at(prefix_state(...)) gives, for its lines, the
    events and skips of a parse of the whole file."""
    data = RESTART.read_bytes()
    offset = line_offsets(data)[number - 1]
    parser = SOURCE.parser_at(SOURCE.prefix_state(data, offset))
    tail = parser.parse(Chunk(data[offset:], number))
    whole = parse_bytes(SOURCE, data)
    assert events(tail) == [e for e in events(whole) if e["line"] >= number]
    assert skips(tail) == [s for s in skips(whole) if s["line"] >= number]


def _summary_and_pid(task: Task) -> tuple[FileResult, int]:
    """The engine's task, and which process ran it."""
    return summarize_task(task), os.getpid()


def _day_files(tmp_path: Path, count: int, copies: int) -> list[Path]:
    out = []
    for i in range(count):
        path = tmp_path / f"u_ex2603{10 + i}.log"
        body = FRONTEND.read_bytes().split(b"\n", 4)
        path.write_bytes(b"\n".join(body[:4]) + b"\n" + body[4] * copies)
        out.append(path)
    return out


def test_day_files_read_by_the_parent_and_a_worker_process_give_one_pass(tmp_path: Path) -> None:
    """Issue 15: the local engine runs tasks in the parent and in worker processes (forked from a
    forkserver that imported the task's module); the counts are those of one pass per file."""
    paths = _day_files(tmp_path, 4, 3000)
    tasks = plan([(p, SOURCE) for p in paths], workers=2)
    results = list(LocalEngine(2, parallel_min_bytes=0).map(_summary_and_pid, tasks))
    expected = {str(p): summarize(p, SOURCE) for p in paths}
    assert sorted(r.path for r, _ in results) == sorted(expected)
    for result, _ in results:
        whole = expected[result.path]
        assert (result.lines, result.events, result.skipped) == (
            whole.lines,
            whole.events,
            whole.skipped,
        )
    assert {pid for _, pid in results} - {os.getpid()}, "no task ran in a worker process"
    assert os.getpid() in {pid for _, pid in results}, "the parent ran no task"


def test_a_little_log_is_read_in_process_whatever_the_workers(tmp_path: Path) -> None:
    """Below parallel_min_bytes, starting a process would cost more than the parsing: every task
    runs in the parent."""
    paths = _day_files(tmp_path, 3, 10)
    tasks = plan([(p, SOURCE) for p in paths], workers=2)
    results = list(LocalEngine(2).map(_summary_and_pid, tasks))
    assert [pid for _, pid in results] == [os.getpid()] * 3


# --- Sniff -------------------------------------------------------------------------------------

FORTIGATE = (
    b'date=2026-03-10 time=08:15:42 devname="FGT-LENORD" devid="FG100FTK22000000" '
    b'eventtime=1773130542000000000 tz="+0100" logid="0101039947" type="event" subtype="vpn" '
    b'level="information" vd="root" logdesc="SSL VPN tunnel up" action="tunnel-up" '
    b'tunneltype="ssl-tunnel" user="jdupont" group="VPN-Agents" remip=192.0.2.41'
)
APACHE = (
    b'extranet.lenord.fr:443 192.0.2.41 - jdupont [10/Mar/2026:09:15:42 +0100] "GET '
    b'/grandangle/accueil HTTP/1.1" 200 5120 "-" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"'
)


def test_sniff_recognises_a_file_with_its_header() -> None:
    """A file starting with #Software/#Version/#Date/#Fields scores at least 85."""
    assert SOURCE.sniff(head(FRONTEND)) >= 85
    assert SOURCE.sniff(head(RESTART)) >= 85


def test_sniff_recognises_a_file_starting_at_its_fields_directive() -> None:
    """A file whose first line is the #Fields directive still scores at least 85."""
    assert SOURCE.sniff([HEADER_A.rstrip(), line()]) >= 85


def test_sniff_recognises_headerless_exchange_lines() -> None:
    """Headerless Exchange lines score at least 50 (detected, below a header's score)."""
    assert SOURCE.sniff(head(EXCERPT)) >= 50
    assert SOURCE.sniff([line()]) >= 50


@pytest.mark.parametrize(
    "lines",
    [[FORTIGATE], [APACHE], [FORTIGATE, FORTIGATE], [APACHE] * 5, [b""], []],
    ids=["fortigate", "apache", "fortigate-2", "apache-5", "empty-line", "nothing"],
)
def test_sniff_rejects_other_formats(lines: list[bytes]) -> None:
    """A FortiGate or Apache line scores below 50."""
    assert SOURCE.sniff(lines) < 50


def test_sniff_does_not_claim_httpproxy_csv() -> None:
    """The HttpProxy CSV logs (their own #Fields) are not taken for IIS logs."""
    paths = sorted((FIXTURES / "exchange_httpproxy").glob("*.LOG"))
    assert paths
    for path in paths:
        assert SOURCE.sniff(head(path)) < 50, path.name


# --- Rule B2 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_events_carry_only_the_event_schema(path: Path) -> None:
    """Rule B2: events have exactly the EVENT_SCHEMA columns and skips the SKIP_SCHEMA ones; no
    IP address, URL or user agent leaks into any value; category is "mail" and app an Exchange
    protocol."""
    parsed = parse_bytes(SOURCE, path.read_bytes())
    assert parsed.events.schema.equals(EVENT_SCHEMA)
    assert parsed.skipped.schema.equals(SKIP_SCHEMA)
    rows = events(parsed) + skips(parsed)
    for row in rows:
        for value in row.values():
            if isinstance(value, str):
                assert not any(bad in value for bad in FORBIDDEN_IN_OUTPUT), (path.name, row)
    for ev in events(parsed):
        assert ev["category"] == "mail"
        assert ev["app"] in EXCHANGE_APPS


# --- Properties --------------------------------------------------------------------------------

STEMS = [
    "/owa/auth.owa",
    "/owa/service.svc",
    "/OWA/ev.owa2",
    EAS,
    "/mapi/emsmdb/",
    "/EWS/Exchange.asmx",
    "/rpc/rpcproxy.dll",
    "/ecp/",
    "/favicon.ico",
    "/healthcheck.htm",
]
USERS = [
    "LENORD\\jdupont",
    "jean.dupont@lenord.fr",
    "-",
    "Anonymous",
    "LENORD\\EXCH01$",
    "lenord%5Cjdupont",
    "LENORD\\h\xe9lo\xefse",
]
QUERIES = [
    "-",
    "action=GetItem",
    "action=SubscribeToNotification",
    "User=jdupont&Cmd=Ping",
    "User=jdupont&Cmd=SendMail",
    "Cmd=Sync",
]


@st.composite
def log_lines(draw: st.DrawFn, users: list[str] = USERS) -> bytes:
    """A line in the default layout with varied fields, possibly cut or stretched."""
    raw = line(
        date=draw(st.sampled_from(["2026-03-10", "2026-02-30", "2024-02-29", "2026-3-1"])),
        time=draw(st.sampled_from(["08:15:42", "25:00:00", "23:59:59", "8:15"])),
        method=draw(st.sampled_from(["GET", "POST", "RPC_IN_DATA", "OPTIONS"])),
        stem=draw(st.sampled_from(STEMS)),
        query=draw(st.sampled_from(QUERIES)),
        port=draw(st.sampled_from(["443", "444", "80"])),
        user="USER",
        ua=draw(st.sampled_from([EDGE, IPHONE, "AMProbe/Local/ClientAccess", "-"])),
        status=draw(st.sampled_from(["200", "302", "401", "500", "2000"])),
        taken=draw(st.sampled_from(["0", "187", "3540000", "-"])),
    )
    raw = raw.replace(b"USER", draw(st.sampled_from(users)).encode("cp1252"))
    parts = raw.split(b" ")
    keep = draw(st.integers(min_value=1, max_value=len(parts) + 2))
    if keep < len(parts):
        parts = parts[:keep]
    elif keep > len(parts):
        parts = parts + [b"-"] * (keep - len(parts))
    return b" ".join(parts)


DIRECTIVES = [
    b"#Fields: " + FIELDS_A.encode(),
    b"#Fields: " + FIELDS_B.encode(),
    b"#Fields: " + FIELDS_C.encode(),
    b"#Software: Microsoft Internet Information Services 10.0",
    b"#Fields: date time",
]
JUNK = st.binary(max_size=80).map(lambda b: b.replace(b"\n", b""))
ANY_LINE = st.one_of(
    log_lines(),
    st.sampled_from(DIRECTIVES),
    st.sampled_from([b"", b"\r", b"   "]),
    JUNK,
    log_lines().map(lambda b: b + b"\r"),
)
# The chunk and path properties keep to ASCII logins: non-UTF-8 bytes have their own tests.
ascii_log_lines = log_lines(users=[u for u in USERS if u.isascii()])
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(first=st.sampled_from([*DIRECTIVES[:3], b""]), rest=st.lists(ANY_LINE, max_size=25))
def test_iis_parser_never_raises_and_accounts_for_every_line(
    first: bytes, rest: list[bytes]
) -> None:
    """For any lines (valid-looking, cut, stretched, CR-terminated, junk, directives, blank),
    the parser never raises and every line is an event or a skip exactly once."""
    lines = [first, *rest] if first else rest
    data = b"".join(x + b"\n" for x in lines)
    parsed = parse_bytes(SOURCE, data)
    assert_accounted(parsed, len(lines))


@PROPERTY
@given(
    lines=st.lists(st.one_of(ascii_log_lines, st.sampled_from(DIRECTIVES[:3])), max_size=25),
    cuts=st.lists(st.integers(min_value=1, max_value=26), max_size=5),
)
def test_iis_chunks_property(lines: list[bytes], cuts: list[int]) -> None:
    """Any cut of a file of log lines and directives gives the events and skips of one chunk."""
    data = HEADER_A + b"".join(x + b"\n" for x in lines)
    whole = parse_bytes(SOURCE, data)
    parts = parse_in_chunks(SOURCE, data, cuts)
    assert events(parts) == events(whole)
    assert skips(parts) == skips(whole)


@PROPERTY
@given(lines=st.lists(ascii_log_lines, min_size=1, max_size=25))
def test_iis_vectorised_and_line_by_line_property(lines: list[bytes]) -> None:
    """For any log lines under a layout, the vectorised path and the line-by-line path (forced
    by a blank line after the directive) give the same events and skips."""
    fast = parse_bytes(SOURCE, HEADER_A + b"".join(x + b"\n" for x in lines))
    slow = parse_bytes(SOURCE, HEADER_A + b"\n" + b"".join(x + b"\n" for x in lines))
    assert [{**e, "line": e["line"] - 1} for e in events(slow)] == events(fast)
    shifted = [{**s, "line": s["line"] - (s["line"] > 2)} for s in skips(slow) if s["line"] != 2]
    assert shifted == skips(fast)


# --- The vectorised parser against a plain line-by-line reference -------------------------------

_REF_USER_RE = re.compile(rb"(?i)(?:^|[&?])user=([^&]+)")
_REF_REFUSED_RE = re.compile(rb"(?i)(?:^|[&?])LogoffReason=")
_REF_AGAIN_RE = re.compile(rb"(?i)(?:^|[&?])(?:LogoffReason=|reason=[1-9])")


def _instant(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


def reference(data: bytes, source: ExchangeIisSource = SOURCE) -> tuple[list[Any], list[Any]]:
    """The rules of FORMATS.md and of this module's docstring applied one line at a time, in
    plain Python: the events and skips the vectorised parser must give, row for row."""
    found_events: list[dict[str, Any]] = []
    found_skips: list[dict[str, Any]] = []
    layout: Layout | None = None

    def skip(number: int, reason: str, ts: int | None = None, login: str | None = None) -> None:
        found_skips.append(
            {"line": number, "reason": reason, "ts": None if ts is None else _instant(ts),
             "login": login}
        )  # fmt: skip

    for number, raw in enumerate(split_lines(data.removeprefix(b"\xef\xbb\xbf")), start=1):
        if raw.startswith(b"#"):
            layout = parse_fields_directive(raw) or layout
            skip(number, "header")
            continue
        if not raw.strip():
            skip(number, "blank")
            continue
        parts = raw.split(b" ")
        fields: dict[str, bytes] | None
        if layout is not None and layout.usable and len(parts) == len(layout.names):
            fields = {name: parts[i] for name, i in layout.positions.items()}
        else:
            fields = guess_fields(parts)
        if fields is None:
            skip(number, "malformed")
            continue
        get = fields.get
        if not any(get(name) for name in ("date", "time", "stem", "user")):
            skip(number, "blank")
            continue
        day, clock = day_us(get("date") or b""), time_us(get("time") or b"")
        ts = None if day is None or clock is None else day + clock
        stem, query = get("stem") or b"", get("query") or b""
        klass = stem_class(stem)
        user = get("user")
        why = login_reason(None if user is None else decode_text(user))
        if why is Reason.NO_USER and klass == ACTIVESYNC and (m := _REF_USER_RE.search(query)):
            user, why = m.group(1), login_reason(decode_text(m.group(1)))
        login = None if user is None or why is Reason.NO_USER else decode_text(user)
        status = get("status") or b""
        ok = len(status) == 3 and status[:1] in b"23" and status.isdigit()
        head, _, rest = stem.decode("latin-1").lower().lstrip("/").partition("/")
        if head in ("owa", "ecp") and status == b"302" and _REF_REFUSED_RE.search(query):
            ok = False
        if (head, rest) == ("owa", "auth/logon.aspx") and _REF_AGAIN_RE.search(query):
            ok = False
        if ts is None:
            skip(number, "bad_time", None, login)
        elif (get("ua") or b"").startswith(b"AMProbe") or klass == PROBE:
            skip(number, "probe", ts, login)
        elif get("port") in source.backend_ports:
            skip(number, "backend", ts, login)
        elif klass == NOT_EXCHANGE:
            skip(number, "not_exchange", ts, login)
        elif why is not None:
            skip(number, why.value, ts, login)
        elif not ok:
            skip(number, "failed_status", ts, login)
        else:
            taken = get("taken") or b""
            digits = taken.isdigit() and taken.isascii() and len(taken) <= 12
            interactive = request_class(
                stem, query, source.interactive_activesync, source.interactive_owa
            )
            found_events.append(
                {
                    "line": number,
                    "ts": _instant(ts),
                    "start": _instant(ts - int(taken) * 1000) if digits else None,
                    "end": _instant(ts),
                    "login": login,
                    "category": "mail",
                    "interactive": interactive == INTERACTIVE,
                    "app": protocol_of(stem),
                }
            )
    return found_events, found_skips


def generated_mix(seed: int, count: int) -> bytes:
    """A day of front-end lines made up here from the shapes of FORMATS.md (every class of the
    table, back end, probes, challenges, refused sign-ins, odd times and users), under the three
    layouts in turn, with the odd blank, cut or junk line, a BOM and CRLF endings in places."""
    rng = random.Random(seed)
    layouts = [FIELDS_A, FIELDS_B, FIELDS_C]
    requests = [(method, stem, query) for method, stem, query, *_ in TABLE] + [
        ("POST", "/owa/auth.owa", "&cafeReqId=ab;&LogoffReason=NoCookiesGetOrE14AuthPost"),
        ("GET", "/owa/auth/logon.aspx", "url=https%3a%2f%2fmail.lenord.fr%2fowa%2f&reason=2"),
        ("GET", "/owa/", "&ClientId=AB&LogoffReason=LoginTimeoutGet"),
        ("GET", "/favicon.ico", "-"),
        ("GET", "/OWA/HealthCheck.htm", "-"),
        ("POST", EAS, f"User=lenord%5Cmmartin&{DEVICE}&Cmd=SmartForward"),
        ("POST", EAS, f"{DEVICE}&Cmd=Sync"),
    ]
    users = [J, M, P, JD, "-", "Anonymous", "LENORD\\EXCH01$", "HealthMailbox0c2e4a6b@lenord.fr",
             "lenord%5Cjdupont", "JDUPONT"]  # fmt: skip
    out: list[bytes] = [b"\xef\xbb\xbf#Software: Microsoft Internet Information Services 10.0"]
    names: list[str] = []
    for i in range(count):
        if i % 700 == 0:
            names = layouts[(i // 700) % 3].split()
            out.append(("#Fields: " + " ".join(names)).encode())
        r = rng.random()
        if r < 0.01:
            out.append(rng.choice([b"", b"   ", b"\x16\x03\x01\x02\x00", b"2026-03-10 08:00:00"]))
            continue
        method, stem, query = rng.choice(requests)
        seconds = rng.randrange(86400)
        value = {
            "date": rng.choice(["2026-03-10"] * 30 + ["2026-02-30", "2026-3-1"]),
            "time": f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
            + rng.choice([""] * 20 + [".125"]),
            "s-computername": "EXCH01",
            "s-sitename": "W3SVC1",
            "s-ip": "10.20.1.5",
            "cs-method": method,
            "cs-uri-stem": stem,
            "cs-uri-query": query,
            "s-port": rng.choice(["443"] * 12 + ["444", "80"]),
            "cs-username": rng.choice(users),
            "c-ip": "192.0.2.41",
            "cs-version": "HTTP/1.1",
            "cs(User-Agent)": rng.choice([EDGE, IPHONE, "AMProbe/Local/ClientAccess", "-"]),
            "cs(Cookie)": "-",
            "cs(Referer)": "-",
            "cs-host": "mail.lenord.fr",
            "sc-status": rng.choice(["200"] * 12 + ["302", "401", "440", "500"]),
            "sc-substatus": "0",
            "sc-win32-status": "0",
            "sc-bytes": str(rng.randrange(100, 90000)),
            "cs-bytes": str(rng.randrange(100, 9000)),
            "time-taken": rng.choice([str(rng.randrange(0, 3_600_000)), "-", "0"]),
        }
        fields = [value.get(name.lower(), "-") for name in names]
        if rng.random() < 0.01:
            fields = fields[:-1]  # cut: read by guessing
        end = b"\r" if rng.random() < 0.05 else b""
        out.append(" ".join(fields).encode() + end)
    return b"".join(x + b"\n" for x in out)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorised_parser_matches_a_line_by_line_reference_on_a_generated_mix(seed: int) -> None:
    """Issue 15: the parser classifies whole columns at once; on a generated day of every kind of
    line, under three layouts and cut into blocks anywhere, it gives exactly the events and skips
    (times, logins, reasons, flags) of the plain reference above, row for row."""
    data = generated_mix(seed, 4000)
    expected_events, expected_skips = reference(data)
    assert len(expected_events) > 1500
    assert len(expected_skips) > 1000
    cuts = sorted(random.Random(seed).sample(range(1, 4000), 6))
    parsed = parse_in_chunks(SOURCE, data, cuts)
    assert events(parsed) == expected_events
    assert skips(parsed) == expected_skips


@PROPERTY
@given(
    first=st.sampled_from([*DIRECTIVES[:3], b"\xef\xbb\xbf" + DIRECTIVES[0]]),
    rest=st.lists(ANY_LINE, max_size=25),
)
def test_iis_parser_matches_the_reference_property(first: bytes, rest: list[bytes]) -> None:
    """For any lines (valid-looking, cut, stretched, CR-terminated, junk, directives, blank, users
    in Windows-1252), the parser gives what the line-by-line reference gives."""
    data = b"".join(x + b"\n" for x in [first, *rest])
    expected_events, expected_skips = reference(data)
    parsed = parse_bytes(SOURCE, data)
    assert events(parsed) == expected_events
    assert skips(parsed) == expected_skips
