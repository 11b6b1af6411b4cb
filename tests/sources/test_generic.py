"""Generic CSV / JSON-lines sources and the authentic2 (Publik) preset.

FORMATS.md, "Publik identity provider" and "Generic CSV / JSON lines": a column mapping gives the
time (with format and zone), the login, the category, the app and an event-type column deciding
interactive, background or ignored. authentic2 counts ``user.login`` and ``user.service.sso`` as
interactive. "Rules for every source": a naive local time is read in its zone, the autumn hour
02:00–03:00 is its first occurrence and the spring hour that never happens is refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loyaute.config import GenericSource as GenericSettings
from loyaute.config import Settings, load_settings
from loyaute.sources import build_sources, detect, mapping_of
from loyaute.sources.base import EVENT_SCHEMA, SKIP_SCHEMA, Parsed, Reason
from loyaute.sources.generic import (
    AUTHENTIC2,
    GenericSource,
    Mapping,
    authentic2_source,
    make_generic,
)
from tests.conftest import FIXTURES, events, parse_bytes, parse_in_chunks, reasons, skips, utc

GENERIC = FIXTURES / "generic"


def read(name: str) -> bytes:
    return (GENERIC / name).read_bytes()


def outcome(parsed: Parsed) -> dict[int, str]:
    """Line number → ``event`` / ``background`` or the skip reason."""
    out = {e["line"]: "event" if e["interactive"] else "background" for e in events(parsed)}
    out.update({s["line"]: s["reason"] for s in skips(parsed)})
    return out


def csv_source(**changes: Any) -> GenericSource:
    return make_generic("test-csv", dataclasses.replace(Mapping(), **changes))


VPN_AUDIT = {
    "name": "vpn-secours",
    "timestamp": "horodatage",
    "timestamp_format": "%d/%m/%Y %H:%M:%S",
    "timezone": "Europe/Paris",
    "login": "identifiant",
    "category": "vpn",
    "app_column": "application",
    "event_column": "evenement",
    "interactive_events": ["CONNEXION"],
    "ignored_events": ["ECHEC"],
}


def vpn_audit_source() -> GenericSource:
    settings = Settings.model_validate({"sources": {"generic": [VPN_AUDIT]}})
    source = build_sources(settings)["vpn-secours"]
    assert isinstance(source, GenericSource)
    return source


# --- authentic2 preset ----------------------------------------------------------------------


def test_authentic2_journal_every_line() -> None:
    """user.login / user.service.sso interactive, user.logout background, failures ignored."""
    parsed = parse_bytes(authentic2_source(), read("authentic2_journal.csv"))
    assert outcome(parsed) == {
        1: Reason.HEADER,
        2: "event",  # user.login
        3: "event",  # user.service.sso
        4: Reason.IGNORED_EVENT,  # user.login.failure
        5: "background",  # user.logout
        6: "event",  # user.service.sso, UTC "Z"
        7: Reason.NO_USER,  # empty user
        8: "background",  # user.profile.edit: neither interactive nor ignored
        9: Reason.IGNORED_EVENT,  # user.service.sso.refusal
        10: Reason.BAD_TIME,
        11: Reason.MALFORMED,  # one column too many
    }


def test_authentic2_events_carry_time_login_category_app() -> None:
    """Events are ``apps`` / ``publik``, with the login as written and the instant in UTC."""
    parsed = parse_bytes(authentic2_source(), read("authentic2_journal.csv"))
    got = [(e["line"], e["ts"], e["login"], e["interactive"]) for e in events(parsed)]
    assert got == [
        (2, utc(2026, 3, 10, 7, 15, 2), "jdupont", True),
        (3, utc(2026, 3, 10, 7, 15, 3), "jdupont", True),
        (5, utc(2026, 3, 10, 11, 31, 40), "jdupont", False),
        (6, utc(2026, 3, 10, 13, 45, 0), "jean.dupont@lenord.fr", True),
        (8, utc(2026, 3, 10, 13, 5, 0), "ldurand", False),
    ]
    assert {(e["category"], e["app"]) for e in events(parsed)} == {("apps", "publik")}
    assert all(e["start"] is None and e["end"] is None for e in events(parsed))


def test_authentic2_ignored_event_keeps_time_and_login() -> None:
    """A user.login.failure is set aside with the time and login it was read with."""
    parsed = parse_bytes(authentic2_source(), read("authentic2_journal.csv"))
    failure = next(s for s in skips(parsed) if s["line"] == 4)
    assert failure["ts"] == utc(2026, 3, 10, 7, 20, 0)
    assert failure["login"] == "mmartin"


def test_authentic2_preset_mapping() -> None:
    """The preset: columns timestamp, user, type; the two interactive event types."""
    assert AUTHENTIC2.timestamp == "timestamp"
    assert AUTHENTIC2.login == "user"
    assert AUTHENTIC2.event_column == "type"
    assert frozenset({"user.login", "user.service.sso"}) == AUTHENTIC2.interactive_events
    assert "user.login.failure" in AUTHENTIC2.ignored_events
    assert "user.logout" not in AUTHENTIC2.ignored_events | AUTHENTIC2.interactive_events
    source = authentic2_source()
    assert (source.name, source.category) == ("authentic2", "apps")


def test_authentic2_naive_time_is_not_taken_for_utc() -> None:
    """Rules for every source: "A naive local time is never taken for UTC". A journal export
    written without offset is either refused or read in the organisation's zone."""
    data = b"timestamp,user,type\n2026-03-10 08:15:02,jdupont,user.login\n"
    source = build_sources(Settings())["authentic2"]
    parsed = parse_bytes(source, data)
    got = (outcome(parsed)[2], [e["ts"] for e in events(parsed)])
    assert got in [
        (Reason.BAD_TIME, []),
        ("event", [utc(2026, 3, 10, 7, 15, 2)]),  # Europe/Paris, +01:00
    ]


def test_authentic2_sniff_and_detect() -> None:
    """The journal's header with its event types is recognised as authentic2 (≥ 50)."""
    head = read("authentic2_journal.csv").splitlines()
    assert authentic2_source().sniff(head) >= 80
    assert detect(head, build_sources(Settings())).name == "authentic2"


@pytest.mark.parametrize(
    "head",
    [
        [b"date,login,action", b"2026-03-10T08:15:02+01:00,jdupont,user.login"],
        [b'{"timestamp": "2026-03-10T08:15:02Z", "user": "jdupont", "type": "user.login"}'],
        [b'10.20.30.41 - jdupont [10/Oct/2026:13:55:36 +0200] "GET / HTTP/1.1" 200 1'],
        [],
    ],
    ids=["other-columns", "jsonl", "access-log", "empty"],
)
def test_authentic2_sniff_rejects_other_files(head: list[bytes]) -> None:
    """Files without the journal's columns score below detection."""
    assert authentic2_source().sniff(head) < 50


# --- generic CSV through the configuration --------------------------------------------------


def test_semicolon_csv_with_custom_mapping_from_settings() -> None:
    """``[[sources.generic]]`` → build_sources: ``;`` sniffed, strptime format, Paris zone,
    event column, app column, category."""
    parsed = parse_bytes(vpn_audit_source(), read("vpn_audit_semicolon.csv"))
    assert outcome(parsed) == {
        1: Reason.HEADER,
        2: "event",
        3: "background",  # DECONNEXION: neither interactive nor ignored
        4: "event",
        5: "event",
        6: Reason.BAD_TIME,  # 29 March 02:30 does not exist in Europe/Paris
        7: "event",
        8: Reason.NO_USER,
        9: Reason.IGNORED_EVENT,  # ECHEC
        10: Reason.MALFORMED,  # three columns for four
    }
    got = [(e["line"], e["ts"], e["login"], e["category"], e["app"]) for e in events(parsed)]
    assert got == [
        (2, utc(2026, 3, 10, 7, 0), "LENORD\\jdupont", "vpn", "vpn-secours"),
        (3, utc(2026, 3, 10, 11, 30), "LENORD\\jdupont", "vpn", "vpn-secours"),
        (4, utc(2026, 10, 25, 0, 30), "mmartin", "vpn", "vpn-secours"),  # first 02:30 (CEST)
        (5, utc(2026, 10, 25, 2, 0), "mmartin", "vpn", "vpn-secours"),
        (7, utc(2026, 3, 29, 1, 0), "mmartin", "vpn", "vpn-secours"),
    ]


def test_generic_source_from_a_toml_file(tmp_path: Path) -> None:
    """The same mapping written in loyaute.toml gives the same source."""
    toml = tmp_path / "loyaute.toml"
    toml.write_text(
        "[[sources.generic]]\n"
        'name = "vpn-secours"\n'
        'timestamp = "horodatage"\n'
        'timestamp_format = "%d/%m/%Y %H:%M:%S"\n'
        'timezone = "Europe/Paris"\n'
        'login = "identifiant"\n'
        'category = "vpn"\n'
        'app_column = "application"\n'
        'event_column = "evenement"\n'
        'interactive_events = ["CONNEXION"]\n'
        'ignored_events = ["ECHEC"]\n',
        encoding="utf-8",
    )
    source = build_sources(load_settings(toml))["vpn-secours"]
    assert source == vpn_audit_source()
    data = read("vpn_audit_semicolon.csv")
    assert events(parse_bytes(source, data)) == events(parse_bytes(vpn_audit_source(), data))


def test_semicolon_delimiter_is_sniffed_from_the_header() -> None:
    """With no delimiter configured, ``;`` is found in the header and used for every row."""
    data = b"timestamp;user\n2026-03-10T08:00:00+01:00;jdupont\n2026-03-10T09:00:00Z;mmartin\n"
    parsed = parse_bytes(csv_source(), data)
    assert [(e["ts"], e["login"]) for e in events(parsed)] == [
        (utc(2026, 3, 10, 7, 0), "jdupont"),
        (utc(2026, 3, 10, 9, 0), "mmartin"),
    ]


@pytest.mark.parametrize(
    ("header", "row"),
    [
        (b"timestamp,user", b"2026-03-10T08:00:00+01:00,jdupont"),
        (b"timestamp\tuser", b"2026-03-10T08:00:00+01:00\tjdupont"),
        (b"timestamp|user", b"2026-03-10T08:00:00+01:00|jdupont"),
        (b'"timestamp";"user"', b'"2026-03-10T08:00:00+01:00";"jdupont"'),
    ],
    ids=["comma", "tab", "pipe", "quoted-semicolon"],
)
def test_other_delimiters_are_sniffed(header: bytes, row: bytes) -> None:
    """Comma, tab, pipe and quoted fields are read the same way."""
    parsed = parse_bytes(csv_source(), header + b"\n" + row + b"\n")
    assert [(e["ts"], e["login"]) for e in events(parsed)] == [(utc(2026, 3, 10, 7, 0), "jdupont")]


def test_configured_delimiter_wins_over_sniffing() -> None:
    """A configured delimiter is used even when the header holds more of another one."""
    data = b"timestamp;user;note,a,b,c\n2026-03-10T08:00:00+01:00;jdupont;x,y,z,w\n"
    parsed = parse_bytes(csv_source(delimiter=";"), data)
    assert [e["login"] for e in events(parsed)] == ["jdupont"]


def test_quoted_field_holding_the_delimiter_is_one_value() -> None:
    """A quoted value may contain the delimiter: the row keeps its column count."""
    data = b'timestamp,user,app\n2026-03-10T08:00:00+01:00,"Dupont, Jean",gestion\n'
    parsed = parse_bytes(csv_source(app_column="app"), data)
    assert [(e["login"], e["app"]) for e in events(parsed)] == [("Dupont, Jean", "gestion")]


@pytest.mark.parametrize(
    "row",
    [
        b"2026-03-10T08:00:00+01:00",
        b"2026-03-10T08:00:00+01:00,jdupont,extra",
        b"2026-03-10T08:00:00+01:00,jdupont,,",
    ],
)
def test_wrong_column_count_is_malformed(row: bytes) -> None:
    """A row with fewer or more columns than the header is malformed, never shifted."""
    parsed = parse_bytes(csv_source(), b"timestamp,user\n" + row + b"\n")
    assert outcome(parsed) == {1: Reason.HEADER, 2: Reason.MALFORMED}


@pytest.mark.parametrize("login", [b"", b"-", b"N/A", b"(null)", b"Anonymous", b'""'])
def test_missing_login_is_no_user(login: bytes) -> None:
    """An empty login or a null marker is no user."""
    parsed = parse_bytes(csv_source(), b"timestamp,user\n2026-03-10T08:00:00Z," + login + b"\n")
    assert outcome(parsed) == {1: Reason.HEADER, 2: Reason.NO_USER}
    assert skips(parsed)[1]["ts"] == utc(2026, 3, 10, 8, 0)


def test_login_column_absent_from_header_is_no_user() -> None:
    """A mapping naming a login column the file does not have gives no_user, not an event."""
    data = b"timestamp,agent\n2026-03-10T08:00:00Z,jdupont\n"
    assert outcome(parse_bytes(csv_source(), data)) == {1: Reason.HEADER, 2: Reason.NO_USER}


def test_technical_account_is_not_a_person() -> None:
    """Machine accounts and health mailboxes are never a person."""
    data = b"timestamp,user\n2026-03-10T08:00:00Z,PC-COMPTA01$\n2026-03-10T08:00:00Z,SYSTEM\n"
    parsed = parse_bytes(csv_source(), data)
    assert outcome(parsed) == {1: Reason.HEADER, 2: Reason.NOT_A_PERSON, 3: Reason.NOT_A_PERSON}


def test_header_is_only_the_first_non_blank_line() -> None:
    """Blank lines are ``blank``; the header is read once, a repeated header row is a row."""
    data = b"\ntimestamp,user\n\n2026-03-10T08:00:00Z,jdupont\ntimestamp,user\n"
    parsed = parse_bytes(csv_source(), data)
    assert outcome(parsed) == {
        1: Reason.BLANK,
        2: Reason.HEADER,
        3: Reason.BLANK,
        4: "event",
        5: Reason.BAD_TIME,  # the word "timestamp" is not a time
    }


def test_csv_header_is_state_kept_across_chunks() -> None:
    """The header read in the first chunk applies to the rows of the next chunks."""
    source = vpn_audit_source()
    data = read("vpn_audit_semicolon.csv")
    whole = parse_bytes(source, data)
    for cuts in ([1], [1, 2, 3], [4, 8]):
        chunked = parse_in_chunks(source, data, cuts)
        assert events(chunked) == events(whole)
        assert skips(chunked) == skips(whole)


def test_generic_sources_are_not_splittable() -> None:
    """A CSV file cannot be cut mid-file: the parts would have no header."""
    assert not authentic2_source().splittable
    assert not vpn_audit_source().splittable


# --- mapping_of: presets and overrides ------------------------------------------------------


def test_mapping_of_preset_alone_is_the_preset() -> None:
    """``preset = "authentic2"`` with nothing else is exactly the built-in mapping."""
    assert mapping_of(GenericSettings(name="publik", preset="authentic2")) == AUTHENTIC2


def test_mapping_of_preset_with_renamed_login_column() -> None:
    """Only the settings written override the preset; the rest stays the preset's."""
    settings = GenericSettings(name="publik-export", preset="authentic2", login="username")
    assert mapping_of(settings) == dataclasses.replace(AUTHENTIC2, login="username")


def test_mapping_of_preset_overrides_event_lists() -> None:
    """Event lists given in the settings replace the preset's (as frozensets)."""
    settings = GenericSettings(
        name="publik", preset="authentic2", interactive_events=["user.login"]
    )
    mapping = mapping_of(settings)
    assert mapping.interactive_events == frozenset({"user.login"})
    assert mapping.ignored_events == AUTHENTIC2.ignored_events
    assert mapping.app == "publik"


def test_mapping_of_without_preset_takes_every_setting() -> None:
    """No preset: the mapping is the settings' values, defaults included."""
    assert mapping_of(GenericSettings(name="x")) == Mapping()
    settings = GenericSettings(name="x", format="jsonl", login="who", ignored_events=["a", "b"])
    assert mapping_of(settings) == Mapping(
        format="jsonl", login="who", ignored_events=frozenset({"a", "b"})
    )


def test_preset_with_renamed_login_reads_an_export() -> None:
    """A Publik export whose login column is ``username`` reads like the journal."""
    settings = Settings.model_validate(
        {
            "sources": {
                "generic": [{"name": "publik-export", "preset": "authentic2", "login": "username"}]
            }
        }
    )
    source = build_sources(settings)["publik-export"]
    parsed = parse_bytes(source, read("publik_export_username.csv"))
    assert outcome(parsed) == {
        1: Reason.HEADER,
        2: "event",
        3: "event",
        4: Reason.IGNORED_EVENT,
        5: "background",
    }
    assert {(e["login"], e["app"], e["category"]) for e in events(parsed)} == {
        ("LENORD\\jdupont", "publik", "apps")
    }
    # The built-in preset, looking for ``user``, finds no login in this file.
    plain = parse_bytes(authentic2_source(), read("publik_export_username.csv"))
    assert plain.events.num_rows == 0


# --- JSON lines -----------------------------------------------------------------------------


def audit_jsonl() -> GenericSource:
    mapping = Mapping(
        format="jsonl", timestamp="when", login="login", timezone="Europe/Paris", app="gestion"
    )
    return make_generic("audit", mapping)


def test_json_lines_every_line() -> None:
    """JSON lines: objects mapped by key; non-objects and broken JSON are malformed."""
    parsed = parse_bytes(audit_jsonl(), read("app_audit.jsonl"))
    assert outcome(parsed) == {
        1: "event",
        2: "event",  # naive, Europe/Paris
        3: "event",  # autumn ambiguous hour
        4: Reason.BAD_TIME,  # spring gap
        5: Reason.NO_USER,  # no login key
        6: Reason.NO_USER,  # null
        7: Reason.NO_USER,  # N/A
        8: Reason.MALFORMED,  # an array
        9: Reason.MALFORMED,  # broken JSON
        10: "event",
    }
    got = [(e["line"], e["ts"], e["login"], e["app"]) for e in events(parsed)]
    assert got == [
        (1, utc(2026, 3, 10, 7, 15, 2), "jdupont", "gestion"),
        (2, utc(2026, 3, 10, 8, 0), "mmartin", "gestion"),
        (3, utc(2026, 10, 25, 0, 30), "mmartin", "gestion"),
        (10, utc(2026, 3, 10, 10, 4), "ldurand", "gestion"),
    ]


def test_json_lines_have_no_header() -> None:
    """The first JSON line is a record, not a header."""
    data = b'{"timestamp": "2026-03-10T08:00:00Z", "user": "jdupont"}\n'
    parsed = parse_bytes(make_generic("jsonl", Mapping(format="jsonl")), data)
    assert outcome(parsed) == {1: "event"}


def test_json_lines_sniff() -> None:
    """A JSON object with the mapped keys is recognised; another object or CSV is not."""
    source = make_generic("jsonl", Mapping(format="jsonl"))
    assert source.sniff([b'{"timestamp": "2026-03-10T08:00:00Z", "user": "jdupont"}']) > 0
    assert source.sniff([b'{"time": "2026-03-10T08:00:00Z", "user": "jdupont"}']) == 0
    assert source.sniff([b"timestamp,user"]) == 0
    assert source.sniff([b"{not json"]) == 0


def test_csv_sniff_needs_the_mapped_columns() -> None:
    """A CSV header with the mapped time and login columns is a candidate; others are not."""
    source = csv_source()
    assert source.sniff([b"timestamp;user;type"]) > 0
    assert source.sniff([b"timestamp,login"]) == 0
    assert source.sniff([b'{"timestamp": "x", "user": "y"}']) == 0
    assert source.sniff([]) == 0


# --- time: formats and zones ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10/03/2026 08:00:00", utc(2026, 3, 10, 7, 0)),  # CET
        ("10/07/2026 08:00:00", utc(2026, 7, 10, 6, 0)),  # CEST
        ("29/03/2026 01:59:59", utc(2026, 3, 29, 0, 59, 59)),  # last second before the gap
        ("29/03/2026 03:00:00", utc(2026, 3, 29, 1, 0)),  # first second after it
        ("25/10/2026 01:59:59", utc(2026, 10, 24, 23, 59, 59)),
        ("25/10/2026 02:00:00", utc(2026, 10, 25, 0, 0)),  # first occurrence of 02:00
        ("25/10/2026 02:30:00", utc(2026, 10, 25, 0, 30)),  # first occurrence of 02:30
        ("25/10/2026 02:59:59", utc(2026, 10, 25, 0, 59, 59)),
        ("25/10/2026 03:00:00", utc(2026, 10, 25, 2, 0)),  # back to CET
    ],
)
def test_timestamp_format_with_zone(text: str, expected: object) -> None:
    """A naive time with ``timestamp_format`` is read in ``timezone``; the autumn hour is its
    first occurrence (fold=0)."""
    source = csv_source(timestamp_format="%d/%m/%Y %H:%M:%S", timezone="Europe/Paris")
    data = b"timestamp;user\n" + text.encode() + b";jdupont\n"
    assert [e["ts"] for e in events(parse_bytes(source, data))] == [expected]


@pytest.mark.parametrize(
    "text", ["29/03/2026 02:00:00", "29/03/2026 02:30:00", "29/03/2026 02:59:59"]
)
def test_spring_gap_is_bad_time(text: str) -> None:
    """A wall-clock time the spring change skipped never happened: bad_time, not guessed."""
    source = csv_source(timestamp_format="%d/%m/%Y %H:%M:%S", timezone="Europe/Paris")
    data = b"timestamp;user\n" + text.encode() + b";jdupont\n"
    parsed = parse_bytes(source, data)
    assert outcome(parsed) == {1: Reason.HEADER, 2: Reason.BAD_TIME}
    assert skips(parsed)[1]["login"] == "jdupont"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-25T02:30:00+01:00", utc(2026, 10, 25, 1, 30)),  # second 02:30, explicit
        ("2026-10-25T02:30:00+02:00", utc(2026, 10, 25, 0, 30)),  # first 02:30, explicit
        ("2026-03-29T02:30:00+00:00", utc(2026, 3, 29, 2, 30)),  # offset given: no gap
        ("2026-03-10T08:00:00Z", utc(2026, 3, 10, 8, 0)),
        ("2026-03-10T08:00:00.250-05:00", utc(2026, 3, 10, 13, 0, 0, 250000)),
        ("2026-03-10 08:00:00+01:00", utc(2026, 3, 10, 7, 0)),
    ],
)
def test_iso_with_offset_ignores_the_zone(text: str, expected: object) -> None:
    """An ISO time with an offset is that instant, whatever the configured zone."""
    source = csv_source(timezone="Europe/Paris")
    data = b"timestamp;user\n" + text.encode() + b";jdupont\n"
    assert [e["ts"] for e in events(parse_bytes(source, data))] == [expected]


def test_naive_iso_is_read_in_the_configured_zone() -> None:
    """A naive ISO time (no ``timestamp_format``) is read in ``timezone``, DST included."""
    source = csv_source(timezone="Europe/Paris")
    data = (
        b"timestamp;user\n"
        b"2026-03-10T08:00:00;jdupont\n"
        b"2026-10-25T02:30:00;jdupont\n"
        b"2026-03-29T02:30:00;jdupont\n"
    )
    parsed = parse_bytes(source, data)
    assert [e["ts"] for e in events(parsed)] == [utc(2026, 3, 10, 7, 0), utc(2026, 10, 25, 0, 30)]
    assert reasons(parsed) == {Reason.HEADER: 1, Reason.BAD_TIME: 1}


def test_timestamp_format_with_offset_directive() -> None:
    """A format with ``%z`` gives an aware time: its offset wins over the zone."""
    source = csv_source(timestamp_format="%d/%m/%Y %H:%M:%S %z", timezone="Europe/Paris")
    data = b"timestamp;user\n25/10/2026 02:30:00 +0100;jdupont\n"
    assert [e["ts"] for e in events(parse_bytes(source, data))] == [utc(2026, 10, 25, 1, 30)]


@pytest.mark.parametrize("text", ["", "not-a-time", "2026-13-01T00:00:00Z", "10/03/2026"])
def test_unreadable_time_is_bad_time(text: str) -> None:
    """A time that does not match the format is bad_time."""
    source = csv_source(timestamp_format="%Y-%m-%dT%H:%M:%S%z")
    data = b"timestamp;user\n" + text.encode() + b";jdupont\n"
    assert outcome(parse_bytes(source, data))[2] == Reason.BAD_TIME


# --- contract -------------------------------------------------------------------------------

CASES = [
    ("authentic2_journal.csv", authentic2_source),
    ("vpn_audit_semicolon.csv", vpn_audit_source),
    ("app_audit.jsonl", audit_jsonl),
]


@pytest.mark.parametrize(("name", "make"), CASES, ids=[c[0] for c in CASES])
def test_every_line_accounted_for_exactly_once(
    name: str, make: Callable[[], GenericSource]
) -> None:
    """Every line is one event or one skip record, never both, never none."""
    data = read(name)
    parsed = parse_bytes(make(), data)
    numbers = sorted([e["line"] for e in events(parsed)] + [s["line"] for s in skips(parsed)])
    assert numbers == list(range(1, data.count(b"\n") + 1))


@pytest.mark.parametrize(("name", "make"), CASES, ids=[c[0] for c in CASES])
def test_only_contract_columns_leave(name: str, make: Callable[[], GenericSource]) -> None:
    """B2: events and skips have exactly the contract's columns; the other columns of the
    row (event type, free text) never leave the source."""
    parsed = parse_bytes(make(), read(name))
    assert parsed.events.schema.equals(EVENT_SCHEMA)
    assert parsed.skipped.schema.equals(SKIP_SCHEMA)
    values = [
        v
        for row in [*parsed.events.to_pylist(), *parsed.skipped.to_pylist()]
        for k, v in row.items()
        if k not in {"reason"} and isinstance(v, str)
    ]
    assert not any(v.startswith(("user.", "CONNEXION", "DECONNEXION", "ECHEC")) for v in values)
