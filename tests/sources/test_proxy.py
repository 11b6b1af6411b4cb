"""Extranet reverse-proxy source: Apache/nginx access logs → business-application traces.

FORMATS.md, "Extranet reverse proxy": Apache ``combined``, ``vhost_combined`` (Debian's
``other_vhosts_access.log``), the ``%h:%{remote}p %v:%p`` variant and nginx ``combined`` with or
without ``$host`` first; the user is the third field of the classic layout; the time carries its
offset; a request is a trace only when mapped to an application by host and path, with a user
and a 2xx/3xx status. The layout is decided per file (a user name may hold spaces); declared
monitoring clients are no person. LEGAL.md B2: no IP, URL or user agent ever leaves the source.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loyaute.config import Settings, load_settings
from loyaute.errors import ConfigError
from loyaute.sources import build_sources, detect
from loyaute.sources.base import EVENT_SCHEMA, SKIP_SCHEMA, Chunk, Parsed, Reason
from loyaute.sources.proxy import (
    COMBINED,
    VHOST,
    AppMapping,
    ProxySource,
    decide_layout,
    parse_clf_time,
    split_prefix,
)
from loyaute.sources.timeparse import to_us
from tests.conftest import FIXTURES, events, parse_bytes, parse_in_chunks, reasons, skips, utc

PROXY = FIXTURES / "proxy"

APPS = (
    AppMapping("grand-angle", ("grandangle.extranet.lenord.fr",)),
    AppMapping("ines", ("ines.extranet.lenord.fr",)),
    AppMapping("pleiade", ("pleiade.extranet.lenord.fr",), ("/pleiades/", "/paie/")),
    AppMapping("publik", ("agents.demarches.lenord.fr",), ("/backoffice/",)),
)

ALL_FIXTURES = (
    "apache_combined.log",
    "other_vhosts_access.log",
    "vhost_remote_port.log",
    "nginx_host_combined.log",
    "nginx_combined.log",
    "dst_autumn.log",
    "spaced_user_combined.log",
    "spaced_user_vhost.log",
    "monitoring.log",
)


def proxy(default_host: str = "", apps: tuple[AppMapping, ...] = APPS) -> ProxySource:
    return ProxySource(apps=apps, default_host=default_host)


def read(name: str) -> bytes:
    return (PROXY / name).read_bytes()


def line_count(data: bytes) -> int:
    return data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)


def outcome(parsed: Parsed) -> dict[int, str]:
    """Line number → ``event:<app>`` or the skip reason."""
    out = {e["line"]: f"event:{e['app']}" for e in events(parsed)}
    out.update({s["line"]: s["reason"] for s in skips(parsed)})
    return out


def line(
    user: str = "jdupont",
    path: str = "/ines/dossiers",
    status: str = "200",
    host: str = "ines.extranet.lenord.fr:443",
    time: str = "10/Oct/2026:13:55:36 +0200",
    request: str | None = None,
) -> bytes:
    """One vhost_combined line."""
    req = request if request is not None else f"GET {path} HTTP/1.1"
    return (
        f'{host} 10.20.30.42 - {user} [{time}] "{req}" {status} 512 "-" '
        f'"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"\n'
    ).encode()


# --- the four layouts -----------------------------------------------------------------------


def test_apache_combined_reads_user_from_third_field_and_time_with_offset() -> None:
    """Combined (``%h %l %u %t``): the login is ``%u`` as written, the time is UTC."""
    parsed = parse_bytes(proxy("grandangle.extranet.lenord.fr"), read("apache_combined.log"))
    got = events(parsed)
    assert [(e["line"], e["login"], e["ts"]) for e in got] == [
        (1, "jdupont", utc(2026, 10, 10, 11, 55, 36)),
        (2, "LENORD\\jdupont", utc(2026, 10, 10, 12, 2, 10)),
        (3, "jean.dupont@lenord.fr", utc(2026, 10, 10, 12, 5, 0)),
        (9, "mmartin", utc(2026, 10, 10, 12, 8, 0)),
        (12, "jdupont", utc(2026, 10, 10, 12, 10, 0)),
    ]
    assert {(e["category"], e["app"], e["interactive"]) for e in got} == {
        ("apps", "grand-angle", True)
    }
    assert all(e["start"] is None and e["end"] is None for e in got)


def test_apache_combined_every_line_has_its_reason() -> None:
    """Each line of the combined fixture gets the outcome FORMATS.md gives it."""
    parsed = parse_bytes(proxy("grandangle.extranet.lenord.fr"), read("apache_combined.log"))
    assert outcome(parsed) == {
        1: "event:grand-angle",
        2: "event:grand-angle",
        3: "event:grand-angle",
        4: Reason.NO_USER,  # "-" user on a mapped page
        5: Reason.FAILED_STATUS,  # 401: the authentication challenge
        6: Reason.FAILED_STATUS,  # 500
        7: Reason.MALFORMED,  # request line "-" (408)
        8: Reason.MALFORMED,  # TLS handshake bytes on the plain-HTTP port
        9: "event:grand-angle",  # IPv6 client
        10: Reason.PROBE,  # /healthcheck.htm
        11: Reason.PROBE,  # /server-status?auto
        12: "event:grand-angle",  # %D and X-Forwarded-For="…" after the user agent
        13: Reason.FAILED_STATUS,  # status "-"
        14: Reason.BLANK,
        15: Reason.MALFORMED,
        16: Reason.BAD_TIME,  # 32 October
        17: Reason.NOT_A_PERSON,  # machine account PC-COMPTA01$
    }


def test_skip_records_keep_time_and_login_when_read() -> None:
    """A skipped line carries the time and the login it was read with (operator's check)."""
    parsed = parse_bytes(proxy("grandangle.extranet.lenord.fr"), read("apache_combined.log"))
    by_line = {s["line"]: s for s in skips(parsed)}
    assert by_line[5]["login"] == "mmartin"
    assert by_line[5]["ts"] == utc(2026, 10, 10, 12, 6, 5)
    assert by_line[13]["login"] == "a.martin"
    assert by_line[4]["login"] is None  # "-" is no user, never the login "-"
    assert by_line[15]["ts"] is None
    assert by_line[16]["ts"] is None
    assert by_line[16]["login"] == "jdupont"


def test_vhost_combined_maps_host_and_paths() -> None:
    """``%v:%p %h %l %u`` (other_vhosts_access.log): the app comes from the vhost and path."""
    parsed = parse_bytes(proxy(), read("other_vhosts_access.log"))
    assert outcome(parsed) == {
        1: "event:grand-angle",
        2: "event:ines",
        3: "event:ines",  # host in mixed case
        4: "event:pleiade",  # /pleiades/ prefix
        5: Reason.UNMAPPED_APP,  # /static/… on the Pléiade host: not a mapped prefix
        6: "event:publik",  # an agent in /backoffice/
        7: Reason.UNMAPPED_APP,  # a citizen's page, no user
        8: Reason.UNMAPPED_APP,  # a citizen's page, even with a user
        9: Reason.UNMAPPED_APP,  # unknown host
        10: "event:ines",  # IPv6 client
        11: "event:ines",  # port 80 stripped
        12: Reason.NO_USER,  # back-office without user
    }
    logins = {e["line"]: e["login"] for e in events(parsed)}
    assert logins[4] == "LENORD\\ldurand"
    assert logins[6] == "jdupont"


def test_vhost_combined_with_remote_port_takes_the_vhost_not_the_client() -> None:
    """``%h:%{remote}p %v:%p``: the client comes first, the vhost second (IPv4 and IPv6)."""
    parsed = parse_bytes(proxy(), read("vhost_remote_port.log"))
    assert outcome(parsed) == {
        1: "event:grand-angle",
        2: "event:ines",
        3: Reason.UNMAPPED_APP,  # intranet host: /ga/ there is not Grand Angle
    }
    assert [e["login"] for e in events(parsed)] == ["jdupont", "mmartin"]
    assert [e["ts"] for e in events(parsed)] == [
        utc(2026, 10, 13, 8, 0, 0),
        utc(2026, 10, 13, 8, 5, 0),
    ]


def test_nginx_with_host_first_and_quoted_upstream_user() -> None:
    """nginx ``$host $remote_addr - $remote_user`` and an upstream SSO header logged quoted."""
    parsed = parse_bytes(proxy(), read("nginx_host_combined.log"))
    assert outcome(parsed) == {
        1: "event:ines",
        2: "event:publik",
        3: Reason.NO_USER,  # "" is no user
        4: Reason.NO_USER,
        5: "event:grand-angle",  # mixed-case $host, IPv6 client
    }
    assert [e["login"] for e in events(parsed)] == [
        "mmartin",
        "jean.dupont@lenord.fr",
        "jdupont",
    ]


def test_nginx_combined_without_host_uses_default_host() -> None:
    """One access log per vhost: ``default_host`` names the application of every line."""
    data = read("nginx_combined.log")
    parsed = parse_bytes(proxy("ines.extranet.lenord.fr"), data)
    assert outcome(parsed) == {1: "event:ines", 2: Reason.NO_USER, 3: "event:ines"}
    assert [e["login"] for e in events(parsed)] == ["mmartin", "lenord%5Cmmartin"]


def test_default_host_is_case_insensitive() -> None:
    """The configured default host is compared like a logged one (case folded)."""
    parsed = parse_bytes(proxy("INES.Extranet.Lenord.FR"), read("nginx_combined.log"))
    assert outcome(parsed)[1] == "event:ines"


def test_no_default_host_leaves_hostless_lines_unmapped() -> None:
    """Without a vhost in the line nor ``default_host``, nothing is mapped (no trace)."""
    parsed = parse_bytes(proxy(), read("nginx_combined.log"))
    assert parsed.events.num_rows == 0
    assert reasons(parsed) == {Reason.UNMAPPED_APP: 3}


def test_star_host_matches_hostless_and_any_host() -> None:
    """A ``*`` host maps every host (and a log without vhost) on the given paths."""
    star = (AppMapping("ines", ("*",), ("/ines/",)),)
    hostless = parse_bytes(proxy(apps=star), read("nginx_combined.log"))
    assert [e["app"] for e in events(hostless)] == ["ines", "ines"]
    vhost = parse_bytes(proxy(apps=star), read("other_vhosts_access.log"))
    assert outcome(vhost) == {
        1: Reason.UNMAPPED_APP,  # /ga/…: not under /ines/
        2: "event:ines",
        3: "event:ines",
        4: Reason.UNMAPPED_APP,
        5: Reason.UNMAPPED_APP,
        6: Reason.UNMAPPED_APP,
        7: Reason.UNMAPPED_APP,
        8: Reason.UNMAPPED_APP,
        9: Reason.UNMAPPED_APP,
        10: "event:ines",
        11: "event:ines",
        12: Reason.UNMAPPED_APP,
    }


# --- app mapping ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/backoffice/", "event:publik"),
        ("/backoffice/management/cantine/42/", "event:publik"),
        ("/backoffice/submission/?q=x", "event:publik"),
        ("/BackOffice/management/", "event:publik"),
        ("/backoffice", Reason.UNMAPPED_APP),  # not under the /backoffice/ prefix
        ("/backofficeX/", Reason.UNMAPPED_APP),
        ("/", Reason.UNMAPPED_APP),
        ("/demarches/inscription/", Reason.UNMAPPED_APP),
        ("/mon-compte/", Reason.UNMAPPED_APP),
        ("/static/backoffice/app.js", Reason.UNMAPPED_APP),
    ],
)
def test_publik_only_backoffice_is_an_agent_trace(path: str, expected: str) -> None:
    """Publik: agents work in ``/backoffice/``; citizens' paths are no trace (unmapped_app)."""
    parsed = parse_bytes(proxy(), line(path=path, host="agents.demarches.lenord.fr:443"))
    assert outcome(parsed) == {1: expected}


@pytest.mark.parametrize(
    "host",
    [
        "ines.extranet.lenord.fr",
        "INES.EXTRANET.LENORD.FR",
        "Ines.Extranet.Lenord.Fr:443",
        "ines.extranet.lenord.fr:8443",
    ],
)
def test_host_matching_ignores_case_and_port(host: str) -> None:
    """Hosts compare without regard to case; a ``:port`` suffix is dropped."""
    parsed = parse_bytes(proxy(), line(host=host))
    assert outcome(parsed) == {1: "event:ines"}


@pytest.mark.parametrize(
    "host",
    ["ines.extranet.lenord.fr.evil.example", "xines.extranet.lenord.fr", "ines.extranet"],
)
def test_host_matching_is_exact_not_substring(host: str) -> None:
    """Only the configured host maps: a look-alike host is no trace."""
    parsed = parse_bytes(proxy(), line(host=host))
    assert outcome(parsed) == {1: Reason.UNMAPPED_APP}


def test_mapping_hosts_written_in_capitals_still_match() -> None:
    """The mapping's own host names are case-insensitive too (AppRule: "case-insensitive")."""
    apps = (AppMapping("ines", ("INES.Extranet.Lenord.fr",)),)
    parsed = parse_bytes(proxy(apps=apps), line(host="ines.extranet.lenord.fr:443"))
    assert outcome(parsed) == {1: "event:ines"}


def test_first_matching_app_wins_and_app_is_the_mapped_name() -> None:
    """Apps are tried in order; the event's ``app`` is the mapped application's name."""
    apps = (
        AppMapping("pleiade-paie", ("pleiade.extranet.lenord.fr",), ("/paie/",)),
        AppMapping("pleiade", ("pleiade.extranet.lenord.fr",)),
    )
    data = line(host="pleiade.extranet.lenord.fr", path="/paie/bulletins") + line(
        host="pleiade.extranet.lenord.fr", path="/carriere/"
    )
    parsed = parse_bytes(proxy(apps=apps), data)
    assert [e["app"] for e in events(parsed)] == ["pleiade-paie", "pleiade"]


def test_mapping_from_settings_through_build_sources() -> None:
    """``[[apps]]`` and ``[sources.proxy] default_host`` reach the proxy source (case folded)."""
    settings = Settings.model_validate(
        {
            "apps": [
                {"name": "ines", "hosts": ["INES.Extranet.Lenord.fr"]},
                {
                    "name": "publik",
                    "hosts": ["Agents.Demarches.Lenord.fr"],
                    "paths": ["/backoffice/"],
                },
            ],
            "sources": {"proxy": {"default_host": "Ines.Extranet.Lenord.Fr"}},
        }
    )
    source = build_sources(settings)["proxy"]
    assert isinstance(source, ProxySource)
    data = (
        line(host="ines.extranet.lenord.fr:443")
        + line(host="agents.demarches.lenord.fr:443", path="/backoffice/x/")
        + line(host="agents.demarches.lenord.fr:443", path="/demarches/")
        + read("nginx_combined.log").splitlines(keepends=True)[0]
    )
    parsed = parse_bytes(source, data)
    assert outcome(parsed) == {
        1: "event:ines",
        2: "event:publik",
        3: Reason.UNMAPPED_APP,
        4: "event:ines",
    }


def test_no_apps_configured_means_no_trace() -> None:
    """Unmapped hosts and paths are no trace: with no ``[[apps]]`` nothing is an event."""
    parsed = parse_bytes(ProxySource(), read("other_vhosts_access.log"))
    assert parsed.events.num_rows == 0
    assert reasons(parsed) == {Reason.UNMAPPED_APP: 12}


# --- user and status ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("200", "event:ines"),
        ("204", "event:ines"),
        ("206", "event:ines"),
        ("299", "event:ines"),
        ("300", "event:ines"),
        ("302", "event:ines"),
        ("304", "event:ines"),
        ("399", "event:ines"),
        ("101", Reason.FAILED_STATUS),
        ("199", Reason.FAILED_STATUS),
        ("400", Reason.FAILED_STATUS),
        ("401", Reason.FAILED_STATUS),
        ("403", Reason.FAILED_STATUS),
        ("404", Reason.FAILED_STATUS),
        ("500", Reason.FAILED_STATUS),
        ("502", Reason.FAILED_STATUS),
        ("-", Reason.FAILED_STATUS),
    ],
)
def test_trace_needs_2xx_or_3xx(status: str, expected: str) -> None:
    """A trace needs a 2xx/3xx status; 1xx, 4xx, 5xx and ``-`` are failed_status."""
    assert outcome(parse_bytes(proxy(), line(status=status))) == {1: expected}


@pytest.mark.parametrize("user", ["-", '""', "N/A", "(null)", "Anonymous", "anonymous"])
def test_null_user_markers_are_no_user(user: str) -> None:
    """Null markers (FORMATS.md) are no user, even with a 200 on a mapped app."""
    parsed = parse_bytes(proxy(), line(user=user))
    assert outcome(parsed) == {1: Reason.NO_USER}
    assert skips(parsed)[0]["login"] is None


@pytest.mark.parametrize(
    "user",
    ["jdupont", "JDUPONT", "LENORD\\jdupont", "jean.dupont@lenord.fr", "lenord%5Cjdupont"],
)
def test_login_is_reported_as_written(user: str) -> None:
    """The identity layer normalises logins; the source reports them exactly as written."""
    parsed = parse_bytes(proxy(), line(user=user))
    assert [e["login"] for e in events(parsed)] == [user]


def test_no_user_with_failed_status_is_no_user() -> None:
    """An anonymous 401 is counted once, as no_user (the user is checked before the status)."""
    assert outcome(parse_bytes(proxy(), line(user="-", status="401"))) == {1: Reason.NO_USER}


# --- time -----------------------------------------------------------------------------------


def test_autumn_dst_day_offsets_give_distinct_increasing_instants() -> None:
    """25 Oct 2026, Europe/Paris: 02:00–03:00 happens twice, told apart by +0200 / +0100."""
    parsed = parse_bytes(proxy(), read("dst_autumn.log"))
    assert [e["ts"] for e in events(parsed)] == [
        utc(2026, 10, 24, 23, 59, 59),
        utc(2026, 10, 25, 0, 30, 0),
        utc(2026, 10, 25, 0, 59, 59),
        utc(2026, 10, 25, 1, 0, 0),
        utc(2026, 10, 25, 1, 30, 0),
        utc(2026, 10, 25, 2, 0, 0),
    ]
    assert parsed.skipped.num_rows == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("29/Mar/2026:01:59:59 +0100", utc(2026, 3, 29, 0, 59, 59)),
        ("29/Mar/2026:03:00:00 +0200", utc(2026, 3, 29, 1, 0, 0)),
        ("10/Oct/2026:13:55:36 +0200", utc(2026, 10, 10, 11, 55, 36)),
        ("10/Oct/2026:06:55:36 -0500", utc(2026, 10, 10, 11, 55, 36)),
        ("10/oct/2026:13:55:36 +0000", utc(2026, 10, 10, 13, 55, 36)),
        ("01/Jan/2027:00:30:00 +0100", utc(2026, 12, 31, 23, 30, 0)),
        ("31/Dec/2026:23:30:00 -0100", utc(2027, 1, 1, 0, 30, 0)),
    ],
)
def test_clf_time_to_utc(text: str, expected: object) -> None:
    """``[dd/Mon/yyyy:HH:MM:SS ±hhmm]`` carries its offset: converted to UTC (DST change days)."""
    parsed = parse_bytes(proxy(), line(time=text))
    assert [e["ts"] for e in events(parsed)] == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "10/Okt/2026:13:55:36 +0200",  # not an English month
        "10/Mai/2026:13:55:36 +0200",
        "31/Sep/2026:13:55:36 +0200",  # no 31 September
        "10/Oct/2026:25:55:36 +0200",
        "10/Oct/2026:13:55:36",  # no offset: never taken for UTC
        "10/Oct/2026:13:55:36 +2500",
        "10/Oct/1970:13:55:36 +0000",  # outside the plausible range
    ],
)
def test_bad_clf_time_is_bad_time(text: str) -> None:
    """A time that cannot be read exactly is refused (bad_time), never guessed."""
    parsed = parse_bytes(proxy(), line(time=text))
    assert outcome(parsed) == {1: Reason.BAD_TIME}


def test_parse_clf_time_returns_utc_microseconds() -> None:
    """The helper gives UTC microseconds; None for garbage."""
    assert parse_clf_time("25/Oct/2026:02:30:00 +0100") == to_us(utc(2026, 10, 25, 1, 30))
    assert parse_clf_time("25/Oct/2026:02:30:00 +0200") == to_us(utc(2026, 10, 25, 0, 30))
    assert parse_clf_time("garbage") is None


# --- garbage --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_line",
    [
        "-",
        "",
        "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03",
        "GET",
        "GET ines/dossiers HTTP/1.1",
    ],
)
def test_garbage_request_lines_are_malformed(request_line: str) -> None:
    """A request line without a method and an absolute path is malformed, never fatal."""
    parsed = parse_bytes(proxy(), line(request=request_line))
    assert outcome(parsed) == {1: Reason.MALFORMED}


def test_raw_tls_bytes_and_binary_lines_do_not_break_neighbours() -> None:
    """Raw binary in a request line, or a binary line, is malformed; the next line is intact."""
    tls = (
        b'10.20.30.45 - - [10/Oct/2026:14:07:01 +0200] "\x16\x03\x01\x02\x00\x01\xfc\x03\x03" '
        b'400 226 "-" "-"\n'
    )
    binary = b"\x00\x01\x02\xff\xfe\x1f\x8b garbage \x16\x03\n"
    data = line() + tls + binary + line(user="mmartin")
    parsed = parse_bytes(proxy(), data)
    assert outcome(parsed) == {
        1: "event:ines",
        2: Reason.MALFORMED,
        3: Reason.MALFORMED,
        4: "event:ines",
    }
    assert [e["login"] for e in events(parsed)] == ["jdupont", "mmartin"]


@pytest.mark.parametrize(
    "path",
    ["/healthcheck.htm", "/ines/healthcheck.htm", "/server-status", "/server-status?auto"],
)
def test_probes_are_probe_even_with_user_and_200(path: str) -> None:
    """Load-balancer checks are never a person (FORMATS.md, "Never a person")."""
    assert outcome(parse_bytes(proxy(), line(path=path))) == {1: Reason.PROBE}


def test_extra_trailing_fields_do_not_matter() -> None:
    """%D, %T and ``X-Forwarded-For="a, b"`` after the user agent leave the line readable."""
    base = line().rstrip(b"\n")
    data = (
        base
        + b" 3413\n"
        + base
        + b' X-Forwarded-For="192.0.2.10, 10.20.30.1"\n'
        + base
        + b' 3413 "-" X-Forwarded-For="-"\n'
    )
    parsed = parse_bytes(proxy(), data)
    assert outcome(parsed) == {1: "event:ines", 2: "event:ines", 3: "event:ines"}


def test_crlf_line_endings() -> None:
    """Lines ending in CRLF read like LF lines."""
    data = line().replace(b"\n", b"\r\n") + line(user="mmartin").replace(b"\n", b"\r\n")
    parsed = parse_bytes(proxy(), data)
    assert [e["login"] for e in events(parsed)] == ["jdupont", "mmartin"]


# --- contract: B2, every line once, chunks --------------------------------------------------

_IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
_IPV6 = re.compile(r"[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,}", re.IGNORECASE)


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_nothing_but_event_columns_leave_the_source(name: str) -> None:
    """B2: only EVENT_SCHEMA / SKIP_SCHEMA columns leave; no IP, URL, user agent, referrer,
    byte count or host appears in any value."""
    parsed = parse_bytes(proxy("grandangle.extranet.lenord.fr"), read(name))
    assert parsed.events.schema.equals(EVENT_SCHEMA)
    assert parsed.skipped.schema.equals(SKIP_SCHEMA)
    for row in [*parsed.events.to_pylist(), *parsed.skipped.to_pylist()]:
        for key, value in row.items():
            if not isinstance(value, str):
                continue
            assert not _IPV4.search(value), (key, value)
            assert not _IPV6.search(value), (key, value)
            assert "/" not in value, (key, value)
            assert "mozilla" not in value.lower(), (key, value)
            assert "http" not in value.lower(), (key, value)
            assert "lenord.fr" not in value or "@" in value, (key, value)


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_every_line_accounted_for_exactly_once(name: str) -> None:
    """Every line is one event or one skip record, never both, never none."""
    data = read(name)
    parsed = parse_bytes(proxy("grandangle.extranet.lenord.fr"), data)
    numbers = [e["line"] for e in events(parsed)] + [s["line"] for s in skips(parsed)]
    assert sorted(numbers) == list(range(1, line_count(data) + 1))
    assert parsed.lines == line_count(data)


def test_line_numbers_start_at_first_line() -> None:
    """A chunk starting at line 100 numbers its lines from 100."""
    parsed = parse_bytes(proxy(), line() + line(status="401"), first_line=100)
    assert outcome(parsed) == {100: "event:ines", 101: Reason.FAILED_STATUS}


@pytest.mark.parametrize("cuts", [[1], [3, 7], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]])
def test_parsing_in_chunks_gives_the_same_result(cuts: list[int]) -> None:
    """The proxy source is splittable: any cut at line boundaries gives the same rows."""
    source = proxy("grandangle.extranet.lenord.fr")
    assert source.splittable
    data = read("apache_combined.log")
    whole = parse_bytes(source, data)
    chunked = parse_in_chunks(source, data, cuts)
    assert events(chunked) == events(whole)
    assert skips(chunked) == skips(whole)


def test_empty_chunk_gives_nothing() -> None:
    """An empty chunk has no line."""
    parsed = parse_bytes(proxy(), b"")
    assert parsed.lines == 0


# --- layout per file: user names with spaces ----------------------------------------------


def test_user_name_with_a_space_is_not_read_as_vhost_combined() -> None:
    """``192.168.1.100 - john doe [`` is a combined line whose user holds a space; read per
    line it looked like ``vhost client ident user`` (login ``doe``, host the client)."""
    data = read("spaced_user_combined.log").splitlines(keepends=True)[1]
    parsed = parse_bytes(proxy("grandangle.extranet.lenord.fr"), data)
    assert [(e["login"], e["ts"], e["app"]) for e in events(parsed)] == [
        ("john doe", utc(2024, 1, 15, 9), "grand-angle")
    ]


def test_combined_file_with_spaced_user_names() -> None:
    """A combined file: the user is everything after ``%l``; lines that do not read one way
    only in that layout are ``ambiguous_layout``, never guessed."""
    parsed = parse_bytes(proxy("grandangle.extranet.lenord.fr"), read("spaced_user_combined.log"))
    assert outcome(parsed) == {
        1: "event:grand-angle",
        2: "event:grand-angle",
        3: "event:grand-angle",
        4: "event:grand-angle",  # quoted, as nginx logs an SSO header
        5: Reason.AMBIGUOUS_LAYOUT,  # a vhost line in a combined file
        6: Reason.AMBIGUOUS_LAYOUT,  # %l filled and a spaced user: two readings
        7: Reason.NO_USER,
        8: Reason.AMBIGUOUS_LAYOUT,  # "- stray": no user reads that way
    }
    assert [e["login"] for e in events(parsed)] == [
        "jdupont",
        "john doe",
        "jean de la fontaine",
        "marie curie",
    ]
    ambiguous = {s["line"]: s for s in skips(parsed) if s["reason"] == Reason.AMBIGUOUS_LAYOUT}
    assert ambiguous[5]["ts"] == utc(2026, 3, 3, 8, 3)  # the time is read, no login is guessed
    assert ambiguous[5]["login"] is None


def test_vhost_file_with_spaced_user_names() -> None:
    """A vhost file: the user is everything after the third field; a combined line with a
    spaced user is ambiguous there, a plain three-field line reads one way only."""
    parsed = parse_bytes(proxy("grandangle.extranet.lenord.fr"), read("spaced_user_vhost.log"))
    assert outcome(parsed) == {
        1: "event:ines",
        2: "event:ines",
        3: Reason.AMBIGUOUS_LAYOUT,
        4: "event:grand-angle",  # three fields: combined, the default host
        5: Reason.AMBIGUOUS_LAYOUT,
        6: "event:pleiade",
    }
    assert [e["login"] for e in events(parsed)] == [
        "mmartin",
        "marie curie",
        "jdupont",
        "LENORD\\ldurand",
    ]


@pytest.mark.parametrize(
    ("lines", "layout"),
    [
        ([b'1.2.3.4 - u [03/Mar/2026:09:00:00 +0100] "GET / HTTP/1.1" 200 1'] * 3, COMBINED),
        ([b'h:443 1.2.3.4 - u [03/Mar/2026:09:00:00 +0100] "GET / HTTP/1.1" 200 1'] * 3, VHOST),
        (
            [b'1.2.3.4 - john doe [03/Mar/2026:09:00:00 +0100] "GET / HTTP/1.1" 200 1'] * 2
            + [b'h:443 1.2.3.4 - u [03/Mar/2026:09:00:00 +0100] "GET / HTTP/1.1" 200 1'],
            COMBINED,
        ),
        (
            [
                b'1.2.3.4 - u [03/Mar/2026:09:00:00 +0100] "GET / HTTP/1.1" 200 1',
                b'h:443 1.2.3.4 - u [03/Mar/2026:09:00:00 +0100] "GET / HTTP/1.1" 200 1',
            ],
            None,  # level: each line by its own cue
        ),
        (
            [b"garbage", b'h:443 1.2.3.4 x u [03/Mar/2026:09:00:00 +0100] "GET / HTTP/1.1" 200 1'],
            None,
        ),
        ([], None),
    ],
    ids=["combined", "vhost", "majority", "level", "no-cue", "empty"],
)
def test_decide_layout(lines: list[bytes], layout: int | None) -> None:
    assert decide_layout(lines) == layout


@pytest.mark.parametrize(
    ("tokens", "layout", "expected"),
    [
        (
            [b"1.2.3.4", b"-", b"u"],
            VHOST,
            ([b"1.2.3.4"], b"u"),
        ),  # three fields: combined in any file
        ([b"1.2.3.4", b"-", b"john", b"doe"], COMBINED, ([b"1.2.3.4"], b"john doe")),
        ([b"1.2.3.4", b"-", b"john", b"doe"], VHOST, None),
        ([b"1.2.3.4", b"-", b"john", b"doe"], None, ([b"1.2.3.4"], b"john doe")),
        ([b"h:443", b"1.2.3.4", b"-", b"u"], VHOST, ([b"h:443", b"1.2.3.4"], b"u")),
        ([b"h:443", b"1.2.3.4", b"-", b"u"], COMBINED, None),
        ([b"h:443", b"1.2.3.4", b"id", b"u"], VHOST, ([b"h:443", b"1.2.3.4"], b"u")),
        ([b"h:443", b"1.2.3.4", b"id", b"u"], None, None),
        ([b"h:443", b"1.2.3.4", b"-", b"a", b"b"], VHOST, ([b"h:443", b"1.2.3.4"], b"a b")),
        ([b"h:443", b"1.2.3.4", b"id", b"a", b"b"], VHOST, None),
        ([b"1.2.3.4", b"-", b"-", b"x"], COMBINED, None),
        ([b"1.2.3.4", b"-"], COMBINED, None),
    ],
)
def test_split_prefix_boundaries(
    tokens: list[bytes], layout: int | None, expected: tuple[list[bytes], bytes] | None
) -> None:
    """Fewer fields than the layout, or extra fields when ``%l`` is not ``-``: no reading."""
    assert split_prefix(tokens, layout) == expected


def test_a_range_parser_reads_in_the_file_layout() -> None:
    """A range starting mid-file gets the layout decided from the file's first lines: a line
    that reads one way only in that layout (``%l`` filled) is read there as in the whole file."""
    vhost = read("other_vhosts_access.log")
    odd = (
        b"ines.extranet.lenord.fr:443 10.20.30.42 identd mmartin [12/Oct/2026:10:00:00 +0200] "
        b'"GET /ines/dossiers HTTP/1.1" 200 10 "-" "Mozilla/5.0"\n'
    )
    data = vhost + odd
    source = proxy()
    whole = parse_bytes(source, data)
    assert outcome(whole)[13] == "event:ines"
    ranged = source.parser_at(source.prefix_state(data, len(vhost))).parse(Chunk(odd, 13))
    assert outcome(ranged) == {13: "event:ines"}
    alone = source.parser().parse(Chunk(odd, 13))  # no file head: the line shows no layout
    assert outcome(alone) == {13: Reason.AMBIGUOUS_LAYOUT}


@pytest.mark.parametrize("name", ["spaced_user_combined.log", "spaced_user_vhost.log"])
@pytest.mark.parametrize("cuts", [[1], [2, 4], [1, 2, 3, 4, 5, 6, 7]])
def test_layout_holds_across_chunks(name: str, cuts: list[int]) -> None:
    source = proxy("grandangle.extranet.lenord.fr")
    data = read(name)
    chunked = parse_in_chunks(source, data, cuts)
    whole = parse_bytes(source, data)
    assert events(chunked) == events(whole)
    assert skips(chunked) == skips(whole)


# --- monitoring clients that sign in ----------------------------------------------------------

MONITORING = ProxySource(
    apps=APPS,
    default_host="ines.extranet.lenord.fr",
    monitoring_user_agents=("check_http", "CURL/"),
    monitoring_logins=frozenset({"svc-supervision"}),
)


def test_monitoring_clients_are_people_until_declared() -> None:
    """Without the setting, a monitoring client with a basic-auth user is a trace like any."""
    parsed = parse_bytes(proxy("ines.extranet.lenord.fr"), read("monitoring.log"))
    assert outcome(parsed) == {**dict.fromkeys(range(1, 7), "event:ines"), 7: Reason.FAILED_STATUS}


def test_declared_monitoring_user_agents_and_logins_are_never_a_person() -> None:
    """User agents match at their beginning, any case; logins without domain, any case. A
    referrer or a user agent that only contains the name, or a login equal to an agent's name,
    are not matched."""
    parsed = parse_bytes(MONITORING, read("monitoring.log"))
    assert outcome(parsed) == {
        1: Reason.PROBE,  # check_http/…
        2: Reason.PROBE,  # curl/… (setting written CURL/)
        3: Reason.NOT_A_PERSON,  # LENORD\svc-supervision
        4: "event:ines",  # "not-curl/1.0" inside a browser agent
        5: "event:ines",  # check_http in the referrer
        6: "event:ines",  # a person whose login is "curl"
        7: Reason.PROBE,  # whatever the status
    }
    assert skips(parsed)[0]["login"] == "nagios"


def test_monitoring_settings_reach_the_source(tmp_path: Path) -> None:
    config = tmp_path / "loyaute.toml"
    config.write_text(
        '[[apps]]\nname = "ines"\nhosts = ["ines.extranet.lenord.fr"]\n'
        "[sources.proxy]\n"
        'default_host = "ines.extranet.lenord.fr"\n'
        'monitoring_user_agents = ["Check_HTTP"]\n'
        'monitoring_logins = ["LENORD\\\\svc-supervision"]\n',
        encoding="utf-8",
    )
    source = build_sources(load_settings(config))["proxy"]
    assert isinstance(source, ProxySource)
    parsed = parse_bytes(source, read("monitoring.log"))
    assert [outcome(parsed)[i] for i in (1, 2, 3)] == [
        Reason.PROBE,
        "event:ines",
        Reason.NOT_A_PERSON,
    ]


@pytest.mark.parametrize("key", ["monitoring_user_agents", "monitoring_logins"])
def test_a_blank_monitoring_entry_is_refused(tmp_path: Path, key: str) -> None:
    """An empty entry would match every request: refused with its dotted path."""
    config = tmp_path / "loyaute.toml"
    config.write_text(f'[sources.proxy]\n{key} = ["nagios", " "]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert f"sources.proxy.{key}" in str(info.value)


# --- sniff ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_sniff_recognises_combined_lines(name: str) -> None:
    """Every layout this source reads scores at least 80."""
    head = [ln for ln in read(name).splitlines() if ln.strip()]
    assert proxy().sniff(head) >= 80


IIS_HEAD = [
    b"#Software: Microsoft Internet Information Services 10.0",
    b"#Version: 1.0",
    b"#Date: 2026-10-10 06:00:00",
    b"#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
    b"cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken",
    b"2026-10-10 06:00:01 10.0.0.5 POST /owa/auth.owa - 443 LENORD\\jdupont 10.20.30.41 "
    b"Mozilla/5.0+(Windows+NT+10.0) - 302 0 0 120",
    b"2026-10-10 06:00:02 10.0.0.5 GET /owa/ - 443 LENORD\\jdupont 10.20.30.41 "
    b"Mozilla/5.0+(Windows+NT+10.0) - 200 0 0 45",
]
FORTIGATE_HEAD = [
    b'date=2026-10-10 time=08:00:01 devname="FG-LENORD-01" devid="FG100FTK00000001" '
    b'eventtime=1791612001000000000 tz="+0200" logid="0101039947" type="event" subtype="vpn" '
    b'level="information" vd="root" logdesc="SSL VPN tunnel up" action="tunnel-up" '
    b'tunneltype="ssl-tunnel" remip=192.0.2.33 user="jdupont" group="VPN-AGENTS" '
    b'msg="SSL tunnel established"',
    b'date=2026-10-10 time=12:00:01 devname="FG-LENORD-01" devid="FG100FTK00000001" '
    b'eventtime=1791626401000000000 tz="+0200" logid="0101039948" type="event" subtype="vpn" '
    b'level="information" vd="root" logdesc="SSL VPN tunnel down" action="tunnel-down" '
    b'tunneltype="ssl-tunnel" remip=192.0.2.33 user="jdupont" duration=14400 '
    b'msg="SSL tunnel shutdown"',
]


@pytest.mark.parametrize(
    "head",
    [IIS_HEAD, IIS_HEAD[4:], FORTIGATE_HEAD, [b"timestamp,user,type"], [b"", b"   "], []],
    ids=["iis", "iis-headerless", "fortigate", "csv", "blank", "empty"],
)
def test_sniff_rejects_other_formats(head: list[bytes]) -> None:
    """IIS, FortiGate and CSV lines score below detection (50)."""
    assert proxy().sniff(head) < 50


def test_detect_picks_proxy_for_every_layout() -> None:
    """With every source of the default configuration, detection picks ``proxy``."""
    sources = build_sources(Settings())
    for name in ALL_FIXTURES:
        head = [ln for ln in read(name).splitlines() if ln.strip()]
        assert detect(head, sources).name == "proxy", name
