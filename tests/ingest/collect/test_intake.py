"""The intake: syslog bodies parsed by the sources ingest uses, one parser per sending host and
application, keys committed once, RELP messages held exactly as long as their own half-days are
not stored, bad input counted by reason."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyaute.config import Settings
from loyaute.ingest.collect.framing import StreamDecoder
from loyaute.ingest.collect.intake import NOT_ENABLED, PARSER_ERROR, UNRECOGNISED, Intake, Key
from loyaute.ingest.collect.metrics import Counters
from loyaute.ingest.reading import parse_file, resolve_source
from loyaute.presence.reduce import reduce_events
from loyaute.presence.windows import Windows
from loyaute.sources import build_sources
from loyaute.sources.base import Chunk, LineParser, Parsed, Source
from tests.builders import MON, TUE, local, owa, vpn_session
from tests.builders import logs as demo_logs

SETTINGS = Settings()
WINDOWS = Windows.from_settings(SETTINGS.half_days, SETTINGS.zone)


def make(forced: str | None = None, enabled: Sequence[str] | None = None, **kw: object) -> Intake:
    return Intake(
        build_sources(SETTINGS),
        enabled if enabled is not None else SETTINGS.sources.enabled,
        forced,
        WINDOWS,
        False,
        Counters(),
        **kw,  # type: ignore[arg-type]
    )


def file_keys(path: Path) -> set[Key]:
    source = resolve_source(path, build_sources(SETTINGS), None)
    out: set[Key] = set()
    for parsed in parse_file(path, source):
        keys = reduce_events(parsed.events, WINDOWS)
        out |= set(zip(*(keys.column(c).to_pylist() for c in keys.column_names), strict=True))
    return out


def rfc3164(tag: str, line: str) -> bytes:
    return f"<134>Mar 23 09:00:00 relay {tag}: {line}".encode()


FGT = [
    *vpn_session("jdupont", local(MON, 9), local(MON, 11)),
    *vpn_session("hpetit", local(TUE, 14), local(TUE, 15), 7),
    demo_logs.fgt_login_failure(local(TUE, 8), "pdurand", "198.51.100.9"),
]
IIS = [owa("jdupont", local(MON, 15)), owa("mleroy", local(TUE, 10))]


def test_one_listener_two_applications_each_read_as_its_own_file(tmp_path: Path) -> None:
    """A relay forwarding a FortiGate log and an IIS log on one connection: each (host,
    application) gets the source that recognises it, and the keys are those of the files."""
    intake = make(detect_lines=3)
    messages = [rfc3164("fgt", line) for line in FGT] + [rfc3164("iis", line) for line in IIS]
    messages = messages[::2] + messages[1::2]  # interleaved
    intake.add_messages("tcp 127.0.0.1:514", "tcp", messages)
    intake.process(final=True)
    (tmp_path / "fgt.log").write_text("\n".join(FGT) + "\n", encoding="utf-8")
    (tmp_path / "iis.log").write_text("\n".join(IIS) + "\n", encoding="utf-8")
    assert set(intake._new_all) == file_keys(tmp_path / "fgt.log") | file_keys(tmp_path / "iis.log")
    names = {o.source.name for o in intake.origins.values() if o.source}
    assert names == {"fortigate", "exchange-iis"}
    c = intake.counters
    assert c.lines["tcp"] == len(FGT) + len(IIS)
    assert c.skipped["vpn_failure"] == 1
    assert intake.processed == intake.added


def test_format_detection_waits_for_lines_then_counts_what_it_cannot_read() -> None:
    clock = [0.0]
    intake = make(detect_lines=20, detect_wait_seconds=2.0, clock=lambda: clock[0])
    intake.add_messages("udp x", "udp", [b"<13>Mar 23 09:00:00 h app: hello world"] * 3)
    intake.process()
    assert intake.processed == 0  # waiting for enough lines to recognise the format
    clock[0] = 3.0
    intake.process()
    assert intake.counters.skipped[UNRECOGNISED] == 3
    assert intake.processed == 3  # counted, so no longer waited for


def test_a_format_not_enabled_is_counted_not_read() -> None:
    enabled = [n for n in SETTINGS.sources.enabled if n != "fortigate"]
    intake = make(enabled=enabled, detect_lines=1)
    intake.add_messages("tcp x", "tcp", [rfc3164("fgt", line) for line in FGT])
    intake.process()
    assert intake.counters.skipped[NOT_ENABLED] == len(FGT)
    assert not intake._new_all
    assert intake.counters.warnings


def test_forced_format_reads_without_detection() -> None:
    intake = make(forced="fortigate")
    intake.add_messages("tcp x", "tcp", [rfc3164("x", FGT[0])])
    intake.process()
    assert intake.counters.events == 1


def test_keys_are_committed_once() -> None:
    intake = make(forced="fortigate")
    intake.add_messages("tcp x", "tcp", [rfc3164("f", line) for line in FGT])
    intake.process()
    snap = intake.take()
    assert sum(len(k) for k in snap.keys.values()) == 2
    intake.settle(snap, committed=True)
    intake.add_messages("tcp x", "tcp", [rfc3164("f", line) for line in FGT])
    intake.process()
    assert intake.take().empty  # the same half-days again: nothing to commit


def test_relp_messages_wait_only_for_their_own_new_half_days() -> None:
    intake = make(forced="fortigate")
    up, down = vpn_session("jdupont", local(MON, 9), local(MON, 10))
    noise = demo_logs.fgt_login_failure(local(MON, 9), "x", "198.51.100.1")
    last = intake.add_messages("relp", "relp", [rfc3164("f", s) for s in (up, noise)], track=True)
    intake.process()
    new_key, quiet = last - 1, last
    assert not intake.is_durable(new_key)  # brings a new half-day: waits for the commit
    assert intake.is_durable(quiet)  # brings none: answered at once, out of order
    snap = intake.take()
    later = intake.add_messages("relp", "relp", [rfc3164("f", down)], track=True)
    intake.process()
    assert not intake.is_durable(later)  # its half-day is in the commit running now
    intake.settle(snap, committed=False)  # the commit failed: still waiting
    assert not intake.is_durable(new_key)
    assert not intake.is_durable(later)
    snap = intake.take()
    intake.settle(snap, committed=True)
    assert intake.is_durable(new_key)
    assert intake.is_durable(later)


def test_relp_message_of_several_lines_waits_for_every_key_of_its_batch() -> None:
    intake = make(forced="fortigate")
    both = "\n".join(vpn_session("jdupont", local(MON, 9), local(MON, 10)))
    t = intake.add_messages("relp", "relp", [both.encode()], track=True)
    intake.process()
    assert not intake.is_durable(t)
    intake.settle(intake.take(), committed=True)
    assert intake.is_durable(t)


class _Broken(Source):
    name = "broken"
    category = "apps"
    description = "raises"

    def sniff(self, head: Sequence[bytes]) -> int:
        return 0

    def parser(self) -> LineParser:
        class P(LineParser):
            def parse(self, chunk: Chunk) -> Parsed:
                raise ValueError("bug")

        return P()


def test_a_source_that_fails_never_stops_the_intake(caplog: pytest.LogCaptureFixture) -> None:
    intake = Intake({"broken": _Broken()}, ["broken"], "broken", WINDOWS, False, Counters())
    intake.add_messages("tcp x", "tcp", [b"a", b"b"])
    intake.process()
    assert intake.counters.skipped[PARSER_ERROR] == 2
    assert intake.processed == 2


def test_the_committed_cache_is_bounded() -> None:
    intake = make(forced="fortigate", cache_keys=1)
    intake.add_messages("t", "tcp", [rfc3164("f", line) for line in FGT])
    intake.process()
    intake.settle(intake.take(), committed=True)
    assert len(intake.committed) == 2  # cleared, then this commit's keys
    intake.add_messages("t", "tcp", [rfc3164("f", FGT[0])])
    intake.process()
    intake.settle(intake.take(), committed=True)
    assert len(intake.committed) <= 2


@given(
    st.lists(
        st.one_of(
            st.binary(max_size=300),
            st.sampled_from([*(line.encode() for line in FGT + IIS), b"\x00\x00", b"\xff\xfe"]),
        ),
        max_size=40,
    ),
    st.integers(1, 50),
    st.booleans(),
)
def test_any_bytes_are_counted_never_fatal(messages: list[bytes], cut: int, forced: bool) -> None:
    """Whatever arrives, every line ends up an event or a skip with its reason; nothing raises."""
    intake = make("fortigate" if forced else None, detect_lines=3)
    decoder = StreamDecoder(200)
    stream = b"".join(
        b"%d %s" % (len(m), m) if i % 2 else m + b"\n" for i, m in enumerate(messages)
    )
    for at in range(0, len(stream), cut):
        got = decoder.feed(stream[at : at + cut])
        if got:
            intake.add_messages("tcp x", "tcp", got)
    intake.add_messages("tcp x", "tcp", decoder.close())
    intake.process(final=True)
    c = intake.counters
    assert sum(c.lines.values()) == c.events + sum(c.skipped.values())
    assert intake.processed == intake.added
