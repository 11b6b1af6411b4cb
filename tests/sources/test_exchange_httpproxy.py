"""Exchange HttpProxy CSV logs (FORMATS.md, "Exchange"): the #Fields header, UTC times, users,
probes, the interactive/background table, line accounting, chunking, and rule B2 of LEGAL.md."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyaute.config import Settings
from loyaute.ingest.files import head
from loyaute.sources import build_sources, detect
from loyaute.sources.base import EVENT_SCHEMA, SKIP_SCHEMA, Parsed
from loyaute.sources.exchange_httpproxy import ExchangeHttpProxySource
from tests.conftest import FIXTURES, events, parse_bytes, parse_in_chunks, reasons, skips, utc

DIR = FIXTURES / "exchange_httpproxy"
OWA = DIR / "Owa_HttpProxy_2026031006-1.LOG"
EAS_FILE = DIR / "Eas_HttpProxy_2026031000-1.LOG"
MAPI = DIR / "Mapi_HttpProxy_2026031007-1.LOG"
EWS = DIR / "Ews_HttpProxy_2026031007-1.LOG"
AUTODISCOVER = DIR / "Autodiscover_HttpProxy_2026031007-1.LOG"
RPC = DIR / "RpcHttp_HttpProxy_2026031007-1.LOG"
ECP = DIR / "Ecp_HttpProxy_2026031009-1.LOG"
OAB = DIR / "Oab_HttpProxy_2026031007-1.LOG"
RESTART = DIR / "Owa_HttpProxy_2026031112-1.LOG"
DAMAGED = DIR / "Owa_HttpProxy_2026031208-1.LOG"
UTF8_NAMES = DIR / "Owa_HttpProxy_2026031407-1.LOG"
CP1252_NAMES = DIR / "Eas_HttpProxy_2026031407-1.LOG"
ALL_FILES = sorted(DIR.glob("*.LOG"))

SOURCE = ExchangeHttpProxySource()

# Exchange's HttpProxy #Fields list (a schema, 74 columns).
FIELDS_LINE = (
    "DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,"
    "Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,"
    "AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,"
    "HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,"
    "RoutingType,RoutingHint,BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,"
    "ResponseBytes,TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,"
    "CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,"
    "TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,"
    "SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,"
    "ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,"
    "BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,"
    "BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,"
    "HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,"
    "CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,"
    "BackEndGenericInfo,GenericInfo,GenericErrors,EdgeTraceId,DatabaseGuid,UserADObjectGuid,"
    "PartitionEndpointLookupLatency,RoutingStatus"
)
FIELDS = FIELDS_LINE.split(",")
HEADER = (
    b"#Software: Microsoft Exchange Server\r\n"
    b"#Version: 15.02.1544.004\r\n"
    b"#Log-type: HttpProxy Logs\r\n"
    b"#Date: 2026-03-10T08:00:00.000Z\r\n"
    b"#Fields: " + ",".join(FIELDS).encode() + b"\r\n"
)
HEADER_LINES = 5
EDGE = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML  like Gecko)"
EAS = "/Microsoft-Server-ActiveSync/default.eas"
DEVICE = "DeviceId=7B2C9E4F1A3D5C8E0B6F2A4D9C1E3B5A&DeviceType=iPhone"
MBX = "5d1e7c3a-9b2f-4e8a-a1c4-3f6b8d2e0a71@lenord.fr"

EXCHANGE_APPS = {"owa", "activesync", "mapi", "ews", "rpc", "autodiscover", "oab", "ecp"}
FORBIDDEN_IN_OUTPUT = ("10.20.", "192.0.2.", "127.0.0.1", "/", "http", "Mozilla", "Apple-", "?")


def row(
    *,
    when: str = "2026-03-10T08:15:42.500Z",
    stem: str = "/owa/service.svc",
    query: str = "?action=GetItem&app=Mail&n=4",
    user: str = "LENORD\\jdupont",
    status: str = "200",
    total: str = "58",
    ua: str = EDGE,
    method: str = "POST",
    fields: list[str] = FIELDS,
    **more: str,
) -> bytes:
    """One CSV row: the columns a source reads, the others plausible or empty."""
    values = dict.fromkeys(fields, "")
    values.update(
        {
            "DateTime": when,
            "RequestId": "0c9d4e2a-7b1f-4a3c-8e5d-6f2a1b3c4d5e",
            "Protocol": "Owa",
            "UrlHost": "mail.lenord.fr",
            "UrlStem": stem,
            "UrlQuery": query,
            "AuthenticatedUser": user,
            "IsAuthenticated": "true" if user else "false",
            "UserAgent": ua,
            "ClientIpAddress": "192.0.2.41",
            "ServerHostName": "EXCH01",
            "HttpStatus": status,
            "Method": method,
            "TotalRequestTime": total,
            "RoutingStatus": "CafeV1",
        }
    )
    values.update(more)
    return ",".join(values[name] for name in fields).encode()


def parse_rows(*rows: bytes) -> Parsed:
    data = HEADER + b"".join(r + b"\r\n" for r in rows)
    parsed = parse_bytes(SOURCE, data)
    assert parsed.lines == HEADER_LINES + len(rows)
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
    parsed = parse_rows(raw)
    evs = events(parsed)
    assert len(evs) == 1, skips(parsed)[HEADER_LINES:]
    return evs[0]


def single_reason(raw: bytes) -> str:
    parsed = parse_rows(raw)
    assert events(parsed) == [], events(parsed)
    return str(skips(parsed)[HEADER_LINES]["reason"])


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
HEADERS = dict.fromkeys(range(1, 6), "header")

EXPECTED: dict[Path, dict[int, Any]] = {
    OWA: {
        **HEADERS,
        6: "no_user",
        7: (J, True, "owa"),
        8: (J, False, "owa"),
        9: (J, False, "owa"),
        10: (J, True, "owa"),
        11: (J, False, "owa"),
        12: (J, True, "owa"),
        13: (J, False, "owa"),
        14: "failed_status",
        15: "probe",
    },
    EAS_FILE: {
        **HEADERS,
        6: (M, False, "activesync"),
        7: "failed_status",
        8: (M, False, "activesync"),
        9: (M, True, "activesync"),
        10: (M, True, "activesync"),
        11: (M, False, "activesync"),
        12: (M, False, "activesync"),
        13: (M, False, "activesync"),
        14: (M, True, "activesync"),
        15: (M, False, "activesync"),
        16: (M, False, "activesync"),
        17: (M, True, "activesync"),
        18: (JD, True, "activesync"),
    },
    MAPI: {
        **HEADERS,
        6: CHALLENGE,
        7: (JD, False, "mapi"),
        8: (JD, False, "mapi"),
        9: (JD, False, "mapi"),
        10: "not_a_person",
    },
    EWS: {**HEADERS, 6: (P, False, "ews"), 7: "probe", 8: "not_a_person", 9: "no_user"},
    AUTODISCOVER: {**HEADERS, 6: (P, False, "autodiscover"), 7: CHALLENGE},
    RPC: {**HEADERS, 6: (P, False, "rpc"), 7: (P, False, "rpc")},
    ECP: {**HEADERS, 6: "probe", 7: (J, True, "ecp"), 8: (J, True, "ecp")},
    OAB: {**HEADERS, 6: (P, False, "oab")},
}


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda p: p.name)
def test_protocol_files_give_the_expected_outcome_for_every_line(path: Path) -> None:
    """One HttpProxy file per protocol folder (OWA, ActiveSync, MAPI, EWS, Autodiscover, RPC,
    ECP, OAB): each line is the expected event (login as written, interactive flag from the
    FORMATS.md table, Exchange protocol) or skip reason."""
    parsed = parse_bytes(SOURCE, path.read_bytes())
    assert outcomes(parsed, EXPECTED[path]) == EXPECTED[path]


def test_fields_directive_is_reread_when_written_again() -> None:
    """#Fields is re-read at each directive: after a restart on a newer build the header has one
    more column before AuthenticatedUser, and the rows under it are read by the new layout."""
    parsed = parse_bytes(SOURCE, RESTART.read_bytes())
    assert outcomes(parsed) == {
        **HEADERS,
        6: (J, True, "owa"),
        **dict.fromkeys(range(7, 12), "header"),
        12: (P, True, "owa"),
        13: (M, False, "owa"),
    }
    by_line = {e["line"]: e for e in events(parsed)}
    assert by_line[12]["start"] == utc(2026, 3, 11, 12, 5, 10)


def test_fields_directive_without_the_needed_columns_leaves_rows_unreadable() -> None:
    """A #Fields header lacking DateTime, UrlStem, AuthenticatedUser or HttpStatus gives no
    layout: the rows under it are "malformed", not read with a stale layout."""
    partial = [f for f in FIELDS if f != "AuthenticatedUser"]
    data = (
        HEADER
        + row()
        + b"\r\n"
        + b"#Fields: "
        + ",".join(partial).encode()
        + b"\r\n"
        + row(fields=partial)
        + b"\r\n"
    )
    parsed = parse_bytes(SOURCE, data)
    assert outcome(parsed, 6) == (J, True, "owa")
    assert outcome(parsed, 7) == "header"
    assert outcome(parsed, 8) == "malformed"


def test_damaged_file_accounts_for_every_line() -> None:
    """Blank lines, a cut row, impossible dates and binary junk are each counted by reason;
    the readable rows around them stay traces with their own line numbers."""
    parsed = parse_bytes(SOURCE, DAMAGED.read_bytes())
    assert outcomes(parsed) == {
        **HEADERS,
        6: (J, True, "owa"),
        7: "blank",
        8: "malformed",
        9: "bad_time",
        10: "bad_time",
        11: "blank",
        12: "malformed",
        13: (M, True, "owa"),
    }


def test_user_names_decode_to_unicode() -> None:
    """User names decode to the right Unicode from UTF-8 (Exchange's encoding) and from
    Windows-1252 (a file re-saved by a Windows tool), including œ."""
    utf8 = {e["line"]: e["login"] for e in events(parse_bytes(SOURCE, UTF8_NAMES.read_bytes()))}
    assert utf8 == {6: "LENORD\\héloïse", 7: "LENORD\\sbœuf"}
    cp = {e["line"]: e["login"] for e in events(parse_bytes(SOURCE, CP1252_NAMES.read_bytes()))}
    assert cp == {6: "LENORD\\françois", 7: "jérôme.gaël@lenord.fr"}
    assert b"fran\xe7ois" in CP1252_NAMES.read_bytes()


# --- Time --------------------------------------------------------------------------------------


def test_fixture_times_are_utc_and_start_is_datetime_minus_total_request_time() -> None:
    """DateTime is ISO UTC, written when the request ends; start = DateTime − TotalRequestTime
    (ms): an ActiveSync Ping of 45 minutes started the day before."""
    owa = {e["line"]: e for e in events(parse_bytes(SOURCE, OWA.read_bytes()))}
    assert owa[7]["ts"] == utc(2026, 3, 10, 6, 58, 14, 200000)
    assert owa[7]["start"] == utc(2026, 3, 10, 6, 58, 14, 13000)
    assert owa[7]["end"] == owa[7]["ts"]
    eas = {e["line"]: e for e in events(parse_bytes(SOURCE, EAS_FILE.read_bytes()))}
    assert eas[6]["ts"] == utc(2026, 3, 10, 0, 41, 7, 480000)
    assert eas[6]["start"] == utc(2026, 3, 9, 23, 56, 7, 480000)


@pytest.mark.parametrize(
    ("when", "total", "ts", "start"),
    [
        ("2026-03-10T08:15:42.500Z", "0", datetime(2026, 3, 10, 8, 15, 42, 500000, tzinfo=UTC),
         datetime(2026, 3, 10, 8, 15, 42, 500000, tzinfo=UTC)),
        ("2026-03-10T08:15:42.500Z", "501", datetime(2026, 3, 10, 8, 15, 42, 500000, tzinfo=UTC),
         datetime(2026, 3, 10, 8, 15, 41, 999000, tzinfo=UTC)),
        ("2026-03-29T02:30:00.000Z", "1000", datetime(2026, 3, 29, 2, 30, tzinfo=UTC),
         datetime(2026, 3, 29, 2, 29, 59, tzinfo=UTC)),
        ("2026-03-10T00:00:30.000Z", "3540000", datetime(2026, 3, 10, 0, 0, 30, tzinfo=UTC),
         datetime(2026, 3, 9, 23, 1, 30, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_times_are_utc_and_start_is_logged_time_minus_request_time(
    when: str, total: str, ts: datetime, start: datetime
) -> None:
    """ts = end = DateTime (UTC, even at 02:30 on the Paris spring-forward day) and
    start = DateTime − TotalRequestTime (ms)."""
    ev = single_event(row(when=when, total=total))
    assert (ev["ts"], ev["end"], ev["start"]) == (ts, ts, start)
    assert ev["ts"].utcoffset() == timedelta(0)


def test_unknown_request_time_leaves_start_unknown() -> None:
    """Without TotalRequestTime the start is unknown (null), never invented."""
    ev = single_event(row(total=""))
    assert ev["start"] is None
    assert ev["ts"] == utc(2026, 3, 10, 8, 15, 42, 500000)


@pytest.mark.parametrize(
    "when",
    [
        "2026-02-30T08:15:42.500Z",
        "2026-02-29T08:15:42.500Z",
        "2026-03-10T25:00:00.000Z",
        "2026-03-10T24:00:01.000Z",
        "2026-03-10T08:60:00.000Z",
        "",
        "10/03/2026 08:15:42",
        "2026-03-10T08:15:42.500",
    ],
    ids=["feb-30", "feb-29-2026", "hour-25", "hour-24", "minute-60", "empty", "french", "naive"],
)
def test_impossible_or_zoneless_dates_are_bad_time(when: str) -> None:
    """An impossible DateTime → "bad_time"; so is one without its zone (a naive time is never
    taken for UTC)."""
    assert single_reason(row(when=when)) == "bad_time"


@pytest.mark.parametrize("when", ["2024-02-29T08:15:42.500Z", "2026-03-10T23:59:59.999Z"])
def test_boundary_dates_are_valid(when: str) -> None:
    """The boundary of bad_time: a leap day and the last millisecond of a day are valid."""
    assert single_event(row(when=when))["ts"] == datetime.fromisoformat(when)


# --- Status and users --------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["200", "204", "302", "304"])
def test_2xx_and_3xx_statuses_are_traces(status: str) -> None:
    """A trace needs a 2xx/3xx status."""
    assert single_event(row(status=status))["login"] == J


@pytest.mark.parametrize("status", ["401", "403", "440", "500", "503", "400", ""])
def test_other_statuses_are_failed_status(status: str) -> None:
    """Outside 2xx/3xx → "failed_status" (401 is the authentication challenge)."""
    assert single_reason(row(status=status)) == "failed_status"


@pytest.mark.parametrize("user", ["", "-", "Anonymous", "N/A", "(null)", '""'])
def test_null_users_are_no_user(user: str) -> None:
    """A trace needs a user: empty, -, Anonymous and the other null markers → "no_user", and
    the skip record carries no login."""
    parsed = parse_rows(row(user=user))
    assert events(parsed) == []
    assert skips(parsed)[HEADER_LINES]["reason"] == "no_user"
    assert skips(parsed)[HEADER_LINES]["login"] is None


@pytest.mark.parametrize(
    "user",
    [
        "LENORD\\HealthMailbox4b1d9e2f7a3c4e5d8f6a0b2c4d6e8f01",
        "HealthMailbox0c2e4a6b8d1f3a5c@lenord.fr",
        "SystemMailbox{1f05a927-7709-4e35-9dbe-d0f608fb781a}@lenord.fr",
        "LENORD\\EXCH01$",
        "NT AUTHORITY\\SYSTEM",
    ],
)
def test_technical_accounts_are_not_a_person(user: str) -> None:
    """HealthMailbox*, SystemMailbox{…}, machine accounts ending in $ and SYSTEM →
    "not_a_person"."""
    assert single_reason(row(user=user)) == "not_a_person"


@pytest.mark.parametrize(
    "user",
    [
        "LENORD\\jdupont",
        "jdupont",
        "JDUPONT",
        "jean.dupont@lenord.fr",
        "lenord%5Cjdupont",
        "LENORD\\jdupont$x",
    ],
)
def test_login_is_reported_exactly_as_written(user: str) -> None:
    """A parser reports the login as written (no decoding, no domain stripping, no case
    folding); a $ inside a login is not a machine account."""
    assert single_event(row(user=user))["login"] == user


# --- Probes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("ua", ["AMProbe/Local/ClientAccess", "AMProbe/Local/ActiveSync"])
def test_amprobe_user_agent_is_a_probe_even_with_a_person_login(ua: str) -> None:
    """Exchange's own health probes (user agent AMProbe/…) → "probe", whatever the login."""
    assert single_reason(row(ua=ua)) == "probe"


@pytest.mark.parametrize(
    "stem",
    ["/healthcheck.htm", "/owa/healthcheck.htm", "/ECP/HealthCheck.htm", "/ews/healthcheck.htm"],
)
def test_healthcheck_is_a_probe(stem: str) -> None:
    """Load-balancer checks (/…/healthcheck.htm, any case) → "probe", with or without a user."""
    assert single_reason(row(stem=stem, query="", method="GET", user="")) == "probe"
    assert single_reason(row(stem=stem, query="", method="GET")) == "probe"


# --- Interactive or background -----------------------------------------------------------------

TABLE: list[tuple[str, str, str, bool, str]] = [
    # method, UrlStem, UrlQuery, interactive, app
    ("POST", "/owa/auth.owa", "", True, "owa"),
    ("POST", "/owa/auth/logon.aspx", "?replaceCurrent=1", True, "owa"),
    ("POST", "/owa/service.svc", "?action=GetItem&app=Mail&n=4", True, "owa"),
    ("POST", "/owa/service.svc", "?action=CreateItem&app=Mail&n=5", True, "owa"),
    ("POST", "/owa/service.svc", "?action=UpdateItem&app=Mail&n=6", True, "owa"),
    ("POST", "/owa/service.svc", "?action=FindItem&app=Mail&n=7", True, "owa"),
    ("POST", "/owa/service.svc", "?action=FindConversation&app=Mail&n=8", True, "owa"),
    ("POST", "/owa/service.svc", "?action=SendItem&app=Mail&n=9", True, "owa"),
    ("POST", "/owa/service.svc", "?action=DeleteItem&app=Mail&n=10", True, "owa"),
    ("POST", "/owa/service.svc", "?action=MoveItem&app=Mail&n=11", True, "owa"),
    ("POST", "/owa/service.svc", "?action=SubscribeToNotification&app=Mail&n=1", False, "owa"),
    ("POST", "/owa/service.svc", "?action=GetOwaUserConfiguration&app=Mail&n=2", False, "owa"),
    ("POST", "/owa/ev.owa2", "?ns=PendingRequest&ev=PendingNotificationRequest&UA=0", False, "owa"),
    ("GET", "/owa/ping.owa", "", False, "owa"),
    ("POST", EAS, f"?Cmd=SendMail&User=jdupont&{DEVICE}", True, "activesync"),
    ("POST", EAS, f"?Cmd=SmartReply&User=jdupont&{DEVICE}", True, "activesync"),
    ("POST", EAS, f"?Cmd=SmartForward&User=jdupont&{DEVICE}", True, "activesync"),
    ("POST", EAS, f"?Cmd=MeetingResponse&User=jdupont&{DEVICE}", True, "activesync"),
    ("POST", EAS, f"?Cmd=MoveItems&User=jdupont&{DEVICE}", True, "activesync"),
    ("POST", EAS, f"?Cmd=Ping&User=jdupont&{DEVICE}", False, "activesync"),
    ("POST", EAS, f"?Cmd=Sync&User=jdupont&{DEVICE}", False, "activesync"),
    ("POST", EAS, f"?Cmd=FolderSync&User=jdupont&{DEVICE}", False, "activesync"),
    ("POST", EAS, f"?Cmd=GetItemEstimate&User=jdupont&{DEVICE}", False, "activesync"),
    ("POST", EAS, f"?Cmd=Provision&User=jdupont&{DEVICE}", False, "activesync"),
    ("OPTIONS", EAS, f"?Cmd=Options&User=jdupont&{DEVICE}", False, "activesync"),
    ("POST", EAS, f"?Cmd=Settings&User=jdupont&{DEVICE}", False, "activesync"),
    ("POST", EAS, f"?Cmd=ItemOperations&User=jdupont&{DEVICE}", False, "activesync"),
    ("POST", "/mapi/emsmdb/", f"?mailboxId={MBX}", False, "mapi"),
    ("POST", "/mapi/nspi/", f"?mailboxId={MBX}", False, "mapi"),
    ("RPC_IN_DATA", "/rpc/rpcproxy.dll", "?exch01.lenord.local:6001", False, "rpc"),
    ("RPC_OUT_DATA", "/rpc/rpcproxy.dll", "?exch01.lenord.local:6002", False, "rpc"),
    ("POST", "/EWS/Exchange.asmx", "", False, "ews"),
    ("POST", "/autodiscover/autodiscover.xml", "", False, "autodiscover"),
    ("GET", "/OAB/8c4f2a1e-6b3d-4e9f-a7c2-1d5e8b0f3a64/oab.xml", "", False, "oab"),
    ("GET", "/ecp/", "", True, "ecp"),
    ("POST", "/ecp/PersonalSettings/HomePage.aspx", "?showhelp=false", True, "ecp"),
]


@pytest.mark.parametrize(
    ("method", "stem", "query", "interactive", "app"),
    TABLE,
    ids=[f"{method} {stem} {query[:28]}" for method, stem, query, *_ in TABLE],
)
def test_interactive_or_background_table(
    method: str, stem: str, query: str, interactive: bool, app: str
) -> None:
    """The interactive/background table of FORMATS.md, applied to UrlStem and UrlQuery;
    category is always "mail" and app is the Exchange protocol."""
    ev = single_event(row(method=method, stem=stem, query=query))
    assert (ev["interactive"], ev["app"], ev["category"]) == (interactive, app, "mail")


@pytest.mark.parametrize(
    ("stem", "query", "interactive", "app"),
    [
        ("/OWA/auth.owa", "", True, "owa"),
        ("/OWA/Service.svc", "?action=getitem", True, "owa"),
        ("/owa/service.svc", "?ACTION=SubscribeToNotification", False, "owa"),
        ("/microsoft-server-activesync/default.eas", "?cmd=sendmail&User=jdupont", True,
         "activesync"),
        ("/MICROSOFT-SERVER-ACTIVESYNC/default.eas", "?Cmd=PING&User=jdupont", False,
         "activesync"),
        ("/ews/exchange.asmx", "", False, "ews"),
        ("/Mapi/Emsmdb/", "", False, "mapi"),
        ("/ECP/", "", True, "ecp"),
    ],
)  # fmt: skip
def test_stems_commands_and_actions_are_case_insensitive(
    stem: str, query: str, interactive: bool, app: str
) -> None:
    """Stems, Cmd= and action= match whatever their case; app is the lower-case protocol."""
    ev = single_event(row(stem=stem, query=query))
    assert (ev["interactive"], ev["app"]) == (interactive, app)


@pytest.mark.parametrize(
    "stem", ["/", "/favicon.ico", "/aspnet_client/system_web/4_0_30319/WebUIValidation.js", ""]
)
def test_non_exchange_stems_are_not_exchange(stem: str) -> None:
    """A request outside the known Exchange services → "not_exchange"."""
    assert single_reason(row(stem=stem, query="", method="GET")) == "not_exchange"


@pytest.mark.parametrize("stem", ["/owasp/index.html", "/ecplanning/default.aspx", "/ewsletter/"])
def test_stem_that_only_starts_like_an_exchange_service_is_not_exchange(stem: str) -> None:
    """Boundary of the stem match: an Exchange service is a whole first path segment; /owasp/…
    or /ecplanning/… are not Exchange."""
    assert single_reason(row(stem=stem, query="", method="GET")) == "not_exchange"


# --- CSV, malformed, blank, header -----------------------------------------------------------


def test_quoted_field_with_commas_does_not_shift_the_columns() -> None:
    """A quoted CSV value containing commas (a user agent) is one field: the user and status
    after it are read from their own columns."""
    ua = '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"'
    ev = single_event(row(ua=ua, status="200", user="LENORD\\mmartin"))
    assert ev["login"] == "LENORD\\mmartin"


@pytest.mark.parametrize(
    "raw",
    [
        row()[:90],
        b"2026-03-10T08:15:42.500Z,0c9d4e2a,15,2",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        b"\x00\x9f\x92\x96\xff\xfe\x01junk",
        b"hello",
    ],
    ids=["cut-row", "four-columns", "tls-bytes", "binary-junk", "one-word"],
)
def test_rows_that_cannot_be_read_are_malformed(raw: bytes) -> None:
    """A row with too few columns, or binary junk → "malformed", never raised."""
    assert single_reason(raw) == "malformed"


KNOWN = {
    "RequestId": "0c9d4e2a-7b1f-4a3c-8e5d-6f2a1b3c4d5e",
    **dict.fromkeys(("MajorVersion", "MinorVersion", "BuildVersion", "RevisionVersion"), "15"),
}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (row(**KNOWN), ("LENORD\\jdupont", True, "owa")),
        (row(**KNOWN) + b",a later column", ("LENORD\\jdupont", True, "owa")),
        (row(**KNOWN).rsplit(b",", 1)[0], "malformed"),  # 73 columns
        (row(**{**KNOWN, "RequestId": "not-a-guid"}), "malformed"),
        (row(**{**KNOWN, "MajorVersion": ""}), "malformed"),
        (row(**{**KNOWN, "MinorVersion": "x"}), "malformed"),
        (row(**KNOWN, when="10/03/2026 08:15:42"), "malformed"),
        (row(**KNOWN, when="2026-02-30T08:00:00Z"), "bad_time"),  # the shape, not a real time
    ],
    ids=["known", "extra-column", "73-columns", "guid", "version", "version-x", "date", "time"],
)
def test_row_without_header_is_read_in_the_known_layout_only(raw: bytes, expected: Any) -> None:
    """Without a #Fields header, a row is read when it has the known layout's shape (74
    columns or more, DateTime, a RequestId GUID, four version numbers); else "malformed"."""
    parsed = parse_bytes(SOURCE, raw + b"\r\n")
    assert outcome(parsed, 1) == expected


def test_a_fields_header_alone_gives_the_layout_once_seen() -> None:
    """A known-layout row under a #Fields header lacking the needed columns is not read with
    the known layout: the header says otherwise."""
    parsed = parse_bytes(SOURCE, b"#Fields: DateTime,UrlStem\r\n" + row(**KNOWN) + b"\r\n")
    assert outcome(parsed, 2) == "malformed"


HEADERLESS = DIR / "Owa_HttpProxy_excerpt_headerless.LOG"


def test_headerless_excerpt_reads_like_the_rows_under_their_header() -> None:
    """An excerpt cut from its header (a forwarded stream): each row gives the event or skip it
    gives under the #Fields header. Before, every row came out "malformed"."""
    parsed = parse_bytes(SOURCE, HEADERLESS.read_bytes())
    assert outcomes(parsed) == {
        1: ("LENORD\\jdupont", True, "owa"),
        2: ("LENORD\\jdupont", True, "owa"),
        3: ("LENORD\\jdupont", True, "owa"),
        4: "failed_status",
        5: "probe",
        6: "no_user",
        7: "malformed",  # a row cut after four columns
        8: ("LENORD\\mmartin", True, "activesync"),
    }
    framed = HEADER + HEADERLESS.read_bytes()
    with_header = parse_bytes(SOURCE, framed)
    shifted = [dict(e, line=e["line"] - HEADER_LINES) for e in events(with_header)]
    assert events(parsed) == shifted
    assert events(parsed)[0]["ts"] == utc(2026, 3, 10, 6, 58, 14, 200000)


def test_headerless_excerpt_is_detected() -> None:
    lines = HEADERLESS.read_bytes().splitlines()
    assert SOURCE.sniff(lines) >= 85
    assert detect(lines, build_sources(Settings())).name == "exchange-httpproxy"
    assert SOURCE.sniff([row()]) < 50  # empty version columns: not the known layout


@pytest.mark.parametrize("raw", [b"", b"   ", b"\t"], ids=["empty", "spaces", "tab"])
def test_blank_lines_are_blank(raw: bytes) -> None:
    """A line with nothing but white space → "blank"."""
    parsed = parse_rows(row(), raw, row())
    assert outcome(parsed, HEADER_LINES + 2) == "blank"
    assert len(events(parsed)) == 2


def test_header_lines_are_header() -> None:
    """#Software, #Version, #Log-type, #Date and #Fields → "header"."""
    parsed = parse_rows()
    assert reasons(parsed) == {"header": HEADER_LINES}


# --- Accounting, chunks, sniff ------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_every_line_is_accounted_for_exactly_once(path: Path) -> None:
    """Every line is an event or a skip, exactly once: events + skips == number of lines and
    the line numbers are 1..n, each once; events and skips each come ordered by line."""
    data = path.read_bytes()
    parsed = parse_bytes(SOURCE, data)
    assert_accounted(parsed, count_lines(data))
    event_lines = parsed.events.column("line").to_pylist()
    skip_lines = parsed.skipped.column("line").to_pylist()
    assert event_lines == sorted(event_lines)
    assert skip_lines == sorted(skip_lines)


CUT_SETS = [[1], [4], [5], [6], [7], [8], [11], [12], [3, 6, 9], list(range(1, 40))]


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_parsing_in_chunks_gives_the_same_as_one_chunk(path: Path) -> None:
    """One parser fed a file in several chunks (cut before, on and after the #Fields header)
    gives the same events and skips as one chunk: the header carries over."""
    data = path.read_bytes()
    whole = parse_bytes(SOURCE, data)
    for cuts in CUT_SETS:
        parts = parse_in_chunks(SOURCE, data, cuts)
        assert events(parts) == events(whole), cuts
        assert skips(parts) == skips(whole), cuts


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


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_sniff_recognises_a_file_with_its_header(path: Path) -> None:
    """An HttpProxy file (#Software/#Version/#Log-type/#Date/#Fields) scores at least 85."""
    assert SOURCE.sniff(head(path)) >= 85


def test_sniff_recognises_the_fields_header_alone() -> None:
    """A file cut to start at its #Fields header still scores at least 85."""
    assert SOURCE.sniff([HEADER.splitlines()[-1], row()]) >= 85


@pytest.mark.parametrize(
    "lines",
    [[FORTIGATE], [APACHE], [APACHE] * 5, [b""], []],
    ids=["fortigate", "apache", "apache-5", "empty-line", "nothing"],
)
def test_sniff_rejects_other_formats(lines: list[bytes]) -> None:
    """A FortiGate or Apache line scores below 50."""
    assert SOURCE.sniff(lines) < 50


def test_sniff_does_not_claim_iis_logs() -> None:
    """Exchange IIS W3C logs (space-separated, their own #Fields) are not HttpProxy logs."""
    paths = sorted((FIXTURES / "exchange_iis").glob("*.log"))
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
    for r in events(parsed) + skips(parsed):
        for value in r.values():
            if isinstance(value, str):
                assert not any(bad in value for bad in FORBIDDEN_IN_OUTPUT), (path.name, r)
    for ev in events(parsed):
        assert ev["category"] == "mail"
        assert ev["app"] in EXCHANGE_APPS


# --- Property ----------------------------------------------------------------------------------


@st.composite
def csv_rows(draw: st.DrawFn) -> bytes:
    """A row with varied values, possibly cut, stretched or with a non-UTF-8 name."""
    raw = row(
        when=draw(
            st.sampled_from(
                ["2026-03-10T08:15:42.500Z", "2026-02-30T08:00:00Z", "2026-03-10T08:15:42", ""]
            )
        ),
        stem=draw(
            st.sampled_from(["/owa/service.svc", EAS, "/mapi/emsmdb/", "/ecp/", "/favicon.ico", ""])
        ),
        query=draw(st.sampled_from(["", "?action=GetItem", "?Cmd=Ping&User=jdupont", '"?a,b"'])),
        user=draw(
            st.sampled_from(["LENORD\\jdupont", "", "Anonymous", "LENORD\\EXCH01$", "x\x00y"])
        ),
        status=draw(st.sampled_from(["200", "302", "401", "", "2000"])),
        total=draw(st.sampled_from(["0", "58", "-1", "abc", ""])),
        ua=draw(st.sampled_from([EDGE, "AMProbe/Local/ClientAccess", '"a,b"', '"unclosed'])),
    )
    if draw(st.booleans()):
        raw = raw.replace(b"jdupont", b"h\xe9lo\xefse")
    cut = draw(st.integers(min_value=0, max_value=len(raw)))
    return raw[:cut] if draw(st.booleans()) else raw + b",extra"


HEADER_ROWS = [*HEADER.splitlines(), b"#Fields: DateTime,UrlStem", b"#Fields:"]
ANY_LINE = st.one_of(
    csv_rows(),
    st.sampled_from(HEADER_ROWS),
    st.sampled_from([b"", b"\r", b"  "]),
    st.binary(max_size=80).map(lambda b: b.replace(b"\n", b"")),
    csv_rows().map(lambda b: b + b"\r"),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(with_header=st.booleans(), rest=st.lists(ANY_LINE, max_size=25))
def test_httpproxy_parser_never_raises_and_accounts_for_every_line(
    with_header: bool, rest: list[bytes]
) -> None:
    """For any lines (rows cut, stretched, with quotes, NUL or non-UTF-8 bytes, junk, headers,
    blank), the parser never raises and every line is an event or a skip exactly once."""
    lines = [*HEADER.splitlines(), *rest] if with_header else rest
    data = b"".join(x + b"\n" for x in lines)
    parsed = parse_bytes(SOURCE, data)
    assert_accounted(parsed, len(lines))
