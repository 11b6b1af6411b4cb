"""FortiGate source: framings, key=value quoting (space- and comma-separated bodies, CEF with and
without its header), time rules, classification on the line's own fields, the person field."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaute.config import Settings
from loyaute.sources import build_sources, detect
from loyaute.sources.base import EVENT_SCHEMA, Reason
from loyaute.sources.fortigate import FortiGateSource, classify, parse_kv
from tests.conftest import FIXTURES, events, parse_bytes, parse_in_chunks, reasons, skips, utc

SRC = FortiGateSource()


def line(**fields: str) -> bytes:
    """A FortiOS body with the given fields (quoted), after a PRI header."""
    body = " ".join(f'{k}="{v}"' for k, v in fields.items())
    return f"<190>{body}\n".encode()


def one(data: bytes, source: FortiGateSource = SRC) -> dict[str, object]:
    parsed = parse_bytes(source, data)
    assert parsed.lines == 1
    rows = events(parsed) or skips(parsed)
    return rows[0]


# --- a working day of one firewall --------------------------------------------------------------


def test_vpn_day_events_and_sessions() -> None:
    """Tunnel up/stats/down of one SSL-VPN session, IPsec IKEv2 dial-up, FortiClient endpoint."""
    parsed = parse_bytes(SRC, (FIXTURES / "fortigate" / "vpn_day.log").read_bytes())
    assert parsed.lines == 14
    got = {r["line"]: r for r in events(parsed)}
    assert sorted(got) == [3, 5, 6, 8, 10, 12, 13, 14]
    up = got[3]
    assert up["login"] == "cmartin"
    assert up["ts"] == utc(2026, 3, 2, 8, 0, 2, 500000)
    assert up["start"] == up["ts"]
    assert up["end"] is None
    stats = got[5]
    assert stats["end"] == stats["ts"]
    assert stats["start"] == stats["ts"] - timedelta(seconds=3600)
    down = got[6]
    # start = end - duration lands on the tunnel-up of the same session
    assert down["end"] == utc(2026, 3, 2, 11, 45, 10)
    assert down["start"] == utc(2026, 3, 2, 8, 0, 2)
    assert got[8]["login"] == "LENORD\\jdupont"  # IKEv2: eapuser, not the peer IP in `user`
    assert got[10]["start"] == got[10]["ts"] - timedelta(seconds=3600)
    assert (got[12]["start"], got[12]["end"]) == (got[12]["ts"], None)
    assert (got[13]["start"], got[13]["end"]) == (None, got[13]["ts"])
    assert all(r["category"] == "vpn" and r["interactive"] for r in got.values())


def test_tunnel_down_without_its_tunnel_up_gives_the_whole_session() -> None:
    """A tunnel-down whose tunnel-up is in an older file: start = end - duration."""
    parsed = parse_bytes(SRC, (FIXTURES / "fortigate" / "vpn_day.log").read_bytes())
    ablanc = next(r for r in events(parsed) if r["login"] == "ablanc")
    assert ablanc["end"] == utc(2026, 3, 2, 17, 30)
    assert ablanc["start"] == utc(2026, 3, 2, 7, 30)


def test_vpn_day_skips_with_reasons() -> None:
    """Traffic lines, failures, negotiations and site-to-site tunnels are never traces."""
    parsed = parse_bytes(SRC, (FIXTURES / "fortigate" / "vpn_day.log").read_bytes())
    got = {r["line"]: r for r in skips(parsed)}
    assert got[1]["reason"] == "not_vpn_event"  # a traffic line, even with user=
    assert got[2]["reason"] == "vpn_negotiation"  # ssl-new-con, user N/A
    assert got[4]["reason"] == "vpn_failure"
    assert got[4]["login"] == "pdurand"  # the operator sees whose failure it was
    assert got[7]["reason"] == "not_vpn_event"  # admin login
    assert got[9]["reason"] == "vpn_negotiation"
    assert got[11]["reason"] == "site_to_site"
    assert got[11]["login"] is None


# --- framings -----------------------------------------------------------------------------------


def test_every_framing_gives_the_same_event() -> None:
    """PRI, RFC 5424, rsyslog relay prefix, BSD header, FortiAnalyzer forward, CEF."""
    parsed = parse_bytes(SRC, (FIXTURES / "fortigate" / "framings.log").read_bytes())
    rows = events(parsed)
    assert [r["login"] for r in rows] == [
        "pri_user",
        "rfc5424_user",
        "relay_user",
        "bsd_user",
        "faz_user",
        "cef_user",
    ]
    assert {r["ts"] for r in rows} == {utc(2026, 3, 2, 8, 0, 0)}


def test_fortianalyzer_itime_is_not_the_event_time() -> None:
    """FortiAnalyzer's receive time (itime, its own zone) is ignored; eventtime wins."""
    data = (
        b'date=2026-03-02 time=09:00:00 itime="2026-03-02 11:00:01" logid="0101039947" '
        b'type="event" subtype="vpn" action="tunnel-up" user="u1" tz="+0100"\n'
    )
    assert one(data)["ts"] == utc(2026, 3, 2, 8, 0, 0)


def test_cef_escapes_and_renamed_keys() -> None:
    """CEF: duser is the user, act the action; values run to the next key; \\= is escaped."""
    fields = parse_kv(
        "CEF:0|Fortinet|Fortigate|v7|39948|event:vpn tunnel-down|3|FTNTFGTlogid=0101039948 "
        "act=tunnel-down duser=jean.dupont@lenord.fr FTNTFGTduration=60 msg=a\\=b c"
    )
    assert fields["logid"] == "0101039948"
    assert fields["action"] == "tunnel-down"
    assert fields["user"] == "jean.dupont@lenord.fr"
    assert fields["msg"] == "a=b c"


# --- ``set format csv``: comma-separated pairs ---------------------------------------------------

CSV_FILE = FIXTURES / "fortigate" / "csv_format.log"


def test_csv_format_gives_person_and_time_in_every_framing() -> None:
    """``set format csv``: the pairs are comma-separated (bare or quoted values, a quoted one may
    hold commas, spaces, ``=`` and escaped quotes), after no framing, ``<PRI>``, a BSD header or
    an rsyslog relay prefix. Before, every such line came out ``bad_time``."""
    parsed = parse_bytes(SRC, CSV_FILE.read_bytes())
    assert parsed.lines == 7
    got = {r["line"]: (r["login"], r["ts"], r["start"], r["end"]) for r in events(parsed)}
    assert got == {
        # eventtime (ns) wins over date/time
        1: ("csv_user", utc(2026, 3, 3, 8, 2, 25, 473809), utc(2026, 3, 3, 8, 2, 25, 473809), None),
        # no eventtime: date+time with tz; a user with a space; a group "VPN, Teletravail"
        2: (
            "jean dupont",
            utc(2026, 3, 3, 9, 2, 25),
            utc(2026, 3, 3, 8, 2, 25),
            utc(2026, 3, 3, 9, 2, 25),
        ),
        # bare values, eventtime in seconds, duration gives the start
        3: (
            "csv_bare",
            utc(2026, 3, 3, 11, 2, 25),
            utc(2026, 3, 3, 7, 2, 25),
            utc(2026, 3, 3, 11, 2, 25),
        ),
        # neither eventtime nor tz: the device zone (Europe/Paris, winter)
        6: ("csv_zone", utc(2026, 3, 3, 12), utc(2026, 3, 3, 12), None),
        # the first tz wins; user=evil inside the quoted msg is no field
        7: ("csv_tricky", utc(2026, 3, 3, 13), utc(2026, 3, 3, 13), None),
    }
    skipped = {r["line"]: (r["reason"], r["login"], r["ts"]) for r in skips(parsed)}
    assert skipped == {
        4: ("not_vpn_event", None, None),  # a traffic line, not even a candidate
        5: ("vpn_failure", "csv_fail", utc(2026, 3, 3, 9, 5, 44)),
    }


def test_csv_values_hold_commas_spaces_and_quotes() -> None:
    fields = parse_kv('date=2026-03-03,time=08:00:00,user="a, b c",msg="x=1, \\"y\\"",bare=z z,n=1')
    assert fields["date"] == "2026-03-03"
    assert fields["time"] == "08:00:00"
    assert fields["user"] == "a, b c"
    assert fields["msg"] == 'x=1, "y"'
    assert fields["bare"] == "z z"
    assert fields["n"] == "1"


def test_a_comma_inside_a_space_separated_value_does_not_make_csv() -> None:
    """The body is comma-separated only when its first pair is followed by a comma."""
    fields = parse_kv('date=2026-03-03 time=08:00:00 msg="a,b=c" user="u"')
    assert (fields["date"], fields["time"], fields["user"]) == ("2026-03-03", "08:00:00", "u")


def test_csv_file_is_detected_as_fortigate() -> None:
    head = CSV_FILE.read_bytes().splitlines()
    assert detect(head, build_sources(Settings())).name == "fortigate"


# --- CEF: FortiOS 6 keys, header stripped by a relay -----------------------------------------

CEF_FILE = FIXTURES / "fortigate" / "cef_variants.log"


def test_cef_variants_give_person_and_time() -> None:
    """FortiOS 6.x CEF (``FortinetFortiGate``-prefixed keys) and CEF lines whose ``CEF:0|…|``
    header a relay stripped (``FTNTFGT`` or ``FortinetFortiGate`` keys, after any framing):
    before, the stripped ones came out ``not_vpn_event``."""
    parsed = parse_bytes(SRC, CEF_FILE.read_bytes())
    assert parsed.lines == 7
    got = {r["line"]: (r["login"], r["ts"], r["start"], r["end"]) for r in events(parsed)}
    assert got == {
        1: ("cef6_user", utc(2026, 3, 3, 8), utc(2026, 3, 3, 8), None),
        2: ("cef6_user", utc(2026, 3, 3, 11), utc(2026, 3, 3, 8), utc(2026, 3, 3, 11)),
        4: ("stripped_user", utc(2026, 3, 3, 8, 30), utc(2026, 3, 3, 8, 30), None),
        5: ("stripped6_user", utc(2026, 3, 3, 9), utc(2026, 3, 3, 8, 30), utc(2026, 3, 3, 9)),
        # IPsec IKEv2: duser holds the peer address, eapuser (CEF-escaped backslash) the person
        7: (
            "LENORD\\jdupont",
            utc(2026, 3, 3, 9, 30),
            utc(2026, 3, 3, 8, 30),
            utc(2026, 3, 3, 9, 30),
        ),
    }
    skipped = {r["line"]: (r["reason"], r["login"]) for r in skips(parsed)}
    assert skipped == {3: ("not_vpn_event", None), 6: ("vpn_failure", "fail_user")}


def test_cef_extension_without_header_is_read_from_its_first_key() -> None:
    """The framing before the first ``key=`` is no value; values run to the next key."""
    fields = parse_kv(
        "Mar 03 09:30:00 fgt deviceExternalId=FG1 FTNTFGTlogid=0101039947 "
        "FTNTFGTlogdesc=SSL VPN tunnel up act=tunnel-up duser=a b"
    )
    assert fields["logid"] == "0101039947"
    assert fields["logdesc"] == "SSL VPN tunnel up"
    assert fields["action"] == "tunnel-up"
    assert fields["user"] == "a b"
    assert "Mar" not in fields


def test_ftntfgt_inside_a_space_separated_value_is_not_cef() -> None:
    """Only a prefixed ``logid`` key makes a headerless line CEF."""
    fields = parse_kv('date=2026-03-03 logid="0101039947" user="u" msg="FTNTFGTlogid=x y=z"')
    assert fields["user"] == "u"
    assert fields["msg"] == "FTNTFGTlogid=x y=z"


def test_cef_files_are_detected_as_fortigate() -> None:
    lines = CEF_FILE.read_bytes().splitlines()
    sources = build_sources(Settings())
    assert detect(lines[:3], sources).name == "fortigate"  # with the CEF header
    assert detect(lines[3:], sources).name == "fortigate"  # header stripped


# --- classification on the line's own fields (FORMATS.md, FortiGate table) --------------------

CLASSIFICATION = FIXTURES / "fortigate" / "classification.log"


def test_classification_reads_the_fields_not_only_the_log_id() -> None:
    """Each variant of the classification fixture gets the outcome its own fields give."""
    parsed = parse_bytes(SRC, CLASSIFICATION.read_bytes())
    outcome = {r["line"]: ("event", r["login"]) for r in events(parsed)}
    outcome.update({r["line"]: (r["reason"], r["login"]) for r in skips(parsed)})
    assert outcome == {
        # FortiOS 7.4 sample shape: IPsec statistics under a log id outside the table
        1: ("event", "xauth_user"),
        # a UTM/IPS line carrying a VPN log id and a user is no session
        2: ("not_vpn_event", "ips_user"),
        # an event/system line carrying a VPN log id neither
        3: ("not_vpn_event", "sys_user"),
        # a tunnel-up under an unknown log id is a tunnel-up
        4: ("event", "new_id_user"),
        # no action: logdesc says tunnel down
        5: ("event", "logdesc_user"),
        # a log id of the table (IPsec statistics) but the line negotiates
        6: ("vpn_negotiation", "xauth_user"),
        # a FortiClient endpoint connection added under another log id
        7: ("event", "ep_user"),
        # an endpoint event that is no connection
        8: ("not_vpn_event", "ep_user"),
        # IPsec dead-peer detection: no session event, not a login failure
        9: ("vpn_negotiation", "dpd_user"),
        # nothing but a log id of the table: the log id fills in
        10: ("event", "table_user"),
    }
    stats = next(r for r in events(parsed) if r["line"] == 1)
    assert stats["end"] == stats["ts"] == utc(2026, 3, 3, 8)
    assert stats["start"] == stats["ts"] - timedelta(seconds=919)
    down = next(r for r in events(parsed) if r["line"] == 5)
    assert (down["start"], down["end"]) == (down["ts"] - timedelta(seconds=600), down["ts"])


SSL_UP_ID = "0101039947"
ENDPOINT_ADD_ID = "0107045057"
VPN = {"type": "event", "subtype": "vpn"}
ENDPOINT = {"type": "event", "subtype": "endpoint"}


@pytest.mark.parametrize(
    ("logid", "fields", "session", "reason"),
    [
        (SSL_UP_ID, {**VPN, "action": "tunnel-up"}, "up", None),
        (SSL_UP_ID, {**VPN, "action": "TUNNEL-DOWN"}, "down", None),
        (SSL_UP_ID, {**VPN, "action": "tunnel-stats"}, "alive", None),
        (SSL_UP_ID, {**VPN, "action": "ssl-login-fail"}, None, Reason.VPN_FAILURE),
        (SSL_UP_ID, {**VPN, "action": "ssl-new-con"}, None, Reason.VPN_NEGOTIATION),
        (SSL_UP_ID, {**VPN, "action": "phase2-up"}, None, Reason.VPN_NEGOTIATION),
        (SSL_UP_ID, {"type": "utm", "subtype": "ips"}, None, Reason.NOT_VPN_EVENT),
        (SSL_UP_ID, {"type": "traffic", "action": "tunnel-up"}, None, Reason.NOT_VPN_EVENT),
        (SSL_UP_ID, {"type": "event", "subtype": "user"}, None, Reason.NOT_VPN_EVENT),
        (SSL_UP_ID, {"cat": "event:vpn", "action": "tunnel-up"}, "up", None),
        (SSL_UP_ID, {"cat": "utm:ips", "action": "tunnel-up"}, None, Reason.NOT_VPN_EVENT),
        (SSL_UP_ID, {"logdesc": "SSL VPN tunnel down"}, "down", None),
        (SSL_UP_ID, {}, "up", None),  # only the log id: the table's tunnel-up
        ("0101037138", {}, None, Reason.VPN_NEGOTIATION),  # IPsec status without its action
        ("0100032001", {"action": "tunnel-up"}, None, Reason.NOT_VPN_EVENT),  # event/system id
        (ENDPOINT_ADD_ID, {**ENDPOINT, "action": "add"}, "endpoint_add", None),
        (ENDPOINT_ADD_ID, {**ENDPOINT, "action": "close"}, "endpoint_close", None),
        (ENDPOINT_ADD_ID, {**ENDPOINT, "action": "tunnel-up"}, None, Reason.NOT_VPN_EVENT),
        (ENDPOINT_ADD_ID, {"logdesc": "FortiClient connection closed"}, "endpoint_close", None),
        (ENDPOINT_ADD_ID, {}, "endpoint_add", None),
    ],
)
def test_classify_boundaries(
    logid: str, fields: dict[str, str], session: str | None, reason: Reason | None
) -> None:
    """type/subtype (or CEF cat) decide the family, else the log id's family digits; the action
    decides the session, else logdesc, else the log id table."""
    kind = classify(logid, fields)
    assert (kind.session, kind.reason) == (session, reason)


def test_ipsec_is_told_by_tunneltype_then_log_id_then_logdesc() -> None:
    """The person field depends on it: xauthuser/eapuser for IPsec, user for SSL-VPN."""
    assert classify("0101039947", {"tunneltype": "ipsec", "action": "tunnel-up"}).ipsec
    assert not classify("0101037138", {"tunneltype": "ssl-tunnel", "action": "tunnel-up"}).ipsec
    assert classify("0101037138", {"action": "tunnel-up"}).ipsec
    assert classify("0101099999", {"logdesc": "IPsec tunnel statistics"}).ipsec
    assert not classify("0101039947", {"action": "tunnel-up"}).ipsec


def test_utm_line_with_vpn_log_id_is_no_session_even_with_a_user() -> None:
    """Before: a UTM line carrying 0101039947 and user= was counted as a VPN session."""
    data = line(
        eventtime="1772438400", logid="0101039947", type="utm", subtype="ips", user="someone"
    )
    row = one(data)
    assert row["reason"] == "not_vpn_event"
    assert row["login"] == "someone"


# --- key=value tokenising -----------------------------------------------------------------------


def test_quoted_values_with_spaces_equals_and_escaped_quotes() -> None:
    fields = parse_kv(
        'date=2026-03-02 msg="user=evil \\"quoted\\" a=b" user="real user" bare=x y=\'z\''
    )
    assert fields["msg"] == 'user=evil "quoted" a=b'
    assert fields["user"] == "real user"
    assert fields["bare"] == "x"


def test_repeated_key_keeps_the_first() -> None:
    """A key may repeat (FortiOS writes tz twice): the first one is kept."""
    fields = parse_kv('tz="UTC-5:00" date=2023-03-08 time=13:22:46 tz="+0900"')
    assert fields["tz"] == "UTC-5:00"
    data = (
        b'<188>tz="UTC-5:00" date=2023-03-08 time=13:22:46 logid="0101039947" type="event" '
        b'subtype="vpn" user="u" tz="+0900"\n'
    )
    assert one(data)["ts"] == utc(2023, 3, 8, 18, 22, 46)


def test_unquoted_values() -> None:
    data = b"date=2026-03-02 time=09:00:00 tz=+0100 logid=0101039947 type=event user=bare_user\n"
    row = one(data)
    assert row["login"] == "bare_user"
    assert row["ts"] == utc(2026, 3, 2, 8)


def test_a_vpn_logid_inside_a_message_does_not_make_a_vpn_event() -> None:
    """The fast pre-filter finds the text; the tokeniser reads the real logid."""
    data = (
        b'<189>date=2026-03-02 time=09:00:00 tz="+0100" logid="0100032001" type="event" '
        b'subtype="system" user="admin" msg="search for logid=0101039947 done"\n'
    )
    assert one(data)["reason"] == "not_vpn_event"


# --- time rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("eventtime", "expected"),
    [
        ("1772438400", utc(2026, 3, 2, 8)),  # seconds
        ("1772438400250", utc(2026, 3, 2, 8, 0, 0, 250000)),  # milliseconds
        ("1772438400250123", utc(2026, 3, 2, 8, 0, 0, 250123)),  # microseconds
        ("1772438400250123456", utc(2026, 3, 2, 8, 0, 0, 250123)),  # nanoseconds
    ],
)
def test_eventtime_precisions(eventtime: str, expected: object) -> None:
    """eventtime in s, ms, µs or ns; preferred over date/time (here one hour off)."""
    data = line(
        date="2026-03-02",
        time="10:00:00",
        tz="+0100",
        eventtime=eventtime,
        logid="0101039947",
        type="event",
        user="u",
    )
    assert one(data)["ts"] == expected


def test_eventtime_of_unknown_length_falls_back_to_date_and_time() -> None:
    data = line(
        date="2026-03-02", time="10:00:00", tz="+0100", eventtime="177243840", logid="0101039947"
    )
    assert one(data)["ts"] == utc(2026, 3, 2, 9)


@pytest.mark.parametrize(
    ("tz", "hour"),
    [("+0200", 7), ("-0500", 14), ("UTC-5:00", 14), ("+01:00", 8), ("UTC", 9)],
)
def test_tz_forms(tz: str, hour: int) -> None:
    data = line(date="2026-03-02", time="09:00:00", tz=tz, logid="0101039947", user="u")
    assert one(data)["ts"] == utc(2026, 3, 2, hour)


def test_without_eventtime_or_tz_the_device_zone_is_used() -> None:
    """A naive local time is never taken for UTC: the configured device zone applies."""
    data = (FIXTURES / "fortigate" / "device_zone.log").read_bytes()
    assert one(data)["ts"] == utc(2026, 3, 2, 8)  # Europe/Paris, winter
    ny = FortiGateSource(device_zone=ZoneInfo("America/New_York"))
    assert one(data, ny)["ts"] == utc(2026, 3, 2, 14)


def test_autumn_dst_ambiguous_hour_reads_as_first_occurrence() -> None:
    """25 Oct 2026, 02:30 Europe/Paris happens twice: the first (summer, UTC+2) is taken."""
    data = line(date="2026-10-25", time="02:30:00", logid="0101039947", user="u")
    assert one(data)["ts"] == utc(2026, 10, 25, 0, 30)
    after = line(date="2026-10-25", time="03:30:00", logid="0101039947", user="u")
    assert one(after)["ts"] == utc(2026, 10, 25, 2, 30)  # winter, UTC+1


def test_spring_dst_gap_time_is_refused() -> None:
    """29 Mar 2026, 02:30 never happens in Europe/Paris: refused, not guessed."""
    data = line(date="2026-03-29", time="02:30:00", logid="0101039947", user="u")
    row = one(data)
    assert row["reason"] == "bad_time"
    assert row["login"] == "u"
    ok = line(date="2026-03-29", time="03:00:00", logid="0101039947", user="u")
    assert one(ok)["ts"] == utc(2026, 3, 29, 1)


@pytest.mark.parametrize(
    "fields",
    [
        {"date": "2026-02-30", "time": "09:00:00"},
        {"date": "2026-03-02", "time": "25:00:00"},
        {"date": "2026-03-02", "time": "10: 13:03"},
        {},
    ],
)
def test_impossible_or_missing_times(fields: dict[str, str]) -> None:
    data = line(**fields, tz="+0100", logid="0101039947", user="u")
    assert one(data)["reason"] == "bad_time"


# --- the person ---------------------------------------------------------------------------------


def test_ikev1_xauthuser_is_the_person() -> None:
    data = line(
        eventtime="1772438400",
        logid="0101037141",
        action="tunnel-stats",
        user="2",
        xauthuser="jdupont",
        duration="919",
    )
    row = one(data)
    assert row["login"] == "jdupont"
    assert row["start"] == utc(2026, 3, 2, 8) - timedelta(seconds=919)


def test_ipsec_with_only_a_peer_ip_or_number_is_no_person() -> None:
    for user in ("198.51.100.44", "2001:db8::4", "2", "N/A"):
        data = line(eventtime="1772438400", logid="0101037138", action="tunnel-up", user=user)
        assert one(data)["reason"] == "site_to_site", user


@pytest.mark.parametrize(
    ("user", "reason"),
    [
        ("N/A", "no_user"),
        ("(null)", "no_user"),
        ("", "no_user"),
        ("LENORD\\PC0042$", "not_a_person"),
    ],
)
def test_null_markers_and_machine_accounts(user: str, reason: str) -> None:
    data = line(eventtime="1772438400", logid="0101039947", user=user)
    assert one(data)["reason"] == reason


@pytest.mark.parametrize(
    "login", ["LENORD\\jdupont", "jdupont", "JDUPONT", "jean.dupont@lenord.fr", "lenord%5Cjdupont"]
)
def test_login_is_reported_as_written(login: str) -> None:
    data = line(eventtime="1772438400", logid="0101039947", user=login)
    assert one(data)["login"] == login


def test_corrupt_duration_leaves_start_unknown() -> None:
    for duration in ("", "abc", "99999999999"):
        data = line(eventtime="1772438400", logid="0101039948", user="u", duration=duration)
        row = one(data)
        assert row["start"] is None
        assert row["end"] == utc(2026, 3, 2, 8)


def test_ipsec_other_actions_are_negotiation() -> None:
    data = line(eventtime="1772438400", logid="0101037138", action="phase2-up", xauthuser="u")
    assert one(data)["reason"] == "vpn_negotiation"


# --- B2: nothing else leaves the source ----------------------------------------------------------


def test_events_carry_only_the_contract_columns() -> None:
    """Rule B2: no IP, tunnel id, bytes, device name or duration leaves the parser."""
    parsed = parse_bytes(SRC, (FIXTURES / "fortigate" / "vpn_day.log").read_bytes())
    assert parsed.events.schema == EVENT_SCHEMA
    flat = repr(parsed.events.to_pylist()) + repr(parsed.skipped.to_pylist())
    for secret in ("198.51.100", "10.212.134", "FG200FTK", "PC-CD59", "GRP-TELETRAVAIL", "5120000"):
        assert secret not in flat


# --- robustness ---------------------------------------------------------------------------------


def test_chunking_does_not_change_the_result() -> None:
    data = (FIXTURES / "fortigate" / "vpn_day.log").read_bytes()
    whole = parse_bytes(SRC, data)
    for cuts in ([1], [3, 4], [1, 2, 3, 7, 8, 13], list(range(14))):
        parts = parse_in_chunks(SRC, data, cuts)
        assert events(parts) == events(whole)
        assert skips(parts) == skips(whole)


def test_last_line_without_newline_and_crlf() -> None:
    data = (FIXTURES / "fortigate" / "framings.log").read_bytes().replace(b"\n", b"\r\n")
    parsed = parse_bytes(SRC, data.rstrip(b"\r\n"))
    assert parsed.lines == 6
    assert [r["login"] for r in events(parsed)][-1] == "cef_user"


VPN_LINE = [
    ln
    for name in ("vpn_day.log", "csv_format.log", "cef_variants.log", "classification.log")
    for ln in (FIXTURES / "fortigate" / name).read_bytes().split(b"\n")
]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=120).map(lambda b: b.replace(b"\n", b" ")),
            st.sampled_from(VPN_LINE),
            st.sampled_from(VPN_LINE).flatmap(
                lambda ln: st.integers(0, max(0, len(ln))).map(lambda k: ln[:k])
            ),
            st.text(max_size=80).map(
                lambda t: ('logid="0101039947" ' + t).encode().replace(b"\n", b" ")
            ),
        ),
        max_size=30,
    )
)
def test_never_raises_and_accounts_for_every_line(lines: list[bytes]) -> None:
    """Arbitrary bytes never crash the parser; every line is one event or one skip."""
    data = b"".join(ln + b"\n" for ln in lines)
    parsed = parse_bytes(SRC, data, first_line=10)
    assert parsed.lines == len(lines)
    numbers = sorted(
        parsed.events.column("line").to_pylist() + parsed.skipped.column("line").to_pylist()
    )
    assert numbers == list(range(10, 10 + len(lines)))
    assert sum(reasons(parsed).values()) == parsed.skipped.num_rows


def test_sniff() -> None:
    fortios = (FIXTURES / "fortigate" / "vpn_day.log").read_bytes().split(b"\n")[:10]
    assert SRC.sniff(fortios) >= 90
    assert SRC.sniff([b"CEF:0|Fortinet|Fortigate|v7|39947|x|3|duser=a"]) >= 90
    iis = [b"#Fields: date time s-ip cs-method", b"2026-03-02 08:00:00 10.0.0.1 GET /owa/ - 443"]
    assert SRC.sniff(iis) < 50
    prose = [b"This file explains logid=... values", b"and nothing else"] * 5
    assert SRC.sniff(prose) < 50
