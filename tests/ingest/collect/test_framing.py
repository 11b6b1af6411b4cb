"""Syslog on the wire: RFC 6587 framings cut anywhere, the two header styles, RELP frames; bad
frames are counted, never fatal."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from loyaute.ingest.collect.framing import (
    FrameReason,
    Header,
    RelpDecoder,
    RelpFrame,
    StreamDecoder,
    datagram_messages,
    relp_response,
    split_header,
)

MESSAGES = [
    b'<190>date=2026-03-23 time=09:00:00 logid="0101039947" user="jdupont"',
    b'<13>1 2026-03-23T09:00:00.1+01:00 fw01 fgt - - [meta x="1"] body with spaces',
    b"",
    b"<134>Mar 23 09:00:00 relay iis: 2026-03-23 08:00:00 10.0.5.11 POST /owa/",
]


def octet(message: bytes) -> bytes:
    return b"%d %s" % (len(message), message)


def feed_in_pieces(data: bytes, cuts: list[int], max_bytes: int = 1 << 20) -> StreamDecoder:
    decoder = StreamDecoder(max_bytes)
    out: list[bytes] = []
    at = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        out += decoder.feed(data[at:cut])
        at = cut
    out += decoder.close()
    decoder.got = out  # type: ignore[attr-defined]
    return decoder


@given(st.lists(st.integers(0, 400), max_size=12))
def test_octet_counting_and_newline_framing_mixed_and_cut_anywhere(cuts: list[int]) -> None:
    """Each frame says its framing (a digit first: octet-counted); a message may hold a newline
    only when octet-counted. Cut at any bytes, the same messages come out."""
    stream = (
        octet(MESSAGES[0])
        + MESSAGES[1]
        + b"\n"
        + octet(b"<13>multi\nline")
        + MESSAGES[3]
        + b"\r\n"
        + octet(MESSAGES[0] + b"\n")  # a sender that adds a line end inside the frame
    )
    decoder = feed_in_pieces(stream, [c for c in cuts if c < len(stream)])
    assert decoder.got == [  # type: ignore[attr-defined]
        MESSAGES[0],
        MESSAGES[1],
        b"<13>multi\nline",
        MESSAGES[3],
        MESSAGES[0],
    ]
    assert not decoder.problems


def test_a_last_message_without_newline_counts_a_cut_frame_does_not() -> None:
    decoder = StreamDecoder(1000)
    assert decoder.feed(b"<13>first\n<13>last") == [b"<13>first"]
    assert decoder.close() == [b"<13>last"]
    decoder = StreamDecoder(1000)
    assert decoder.feed(b"40 <13>cut short") == []
    assert decoder.close() == []
    assert decoder.problems[FrameReason.TRUNCATED] == 1


def test_too_long_messages_are_skipped_without_being_held() -> None:
    decoder = StreamDecoder(10)
    # octet-counted: the announced length is skipped as it arrives
    assert decoder.feed(b"25 <13>0123456789") == []
    assert decoder.pending_bytes == 0
    assert decoder.feed(b"0123456789\n<13>ok\n") == [b"<13>ok"]
    # newline-framed: discarded up to its newline, even across pieces
    assert decoder.feed(b"<13>" + b"x" * 30) == []
    assert decoder.pending_bytes == 0
    assert decoder.feed(b"yyy\n<13>ok2\n") == [b"<13>ok2"]
    assert decoder.problems[FrameReason.LINE_TOO_LONG] == 2


def test_digits_that_are_not_a_length_are_a_line() -> None:
    """An IIS line sent raw starts with a digit but is no octet count (no space after the
    digits): it is read up to its newline."""
    decoder = StreamDecoder(1000)
    assert decoder.feed(b"2026-03-23 08:00:00 10.0.5.11 GET /owa/\n") == [
        b"2026-03-23 08:00:00 10.0.5.11 GET /owa/"
    ]


def test_datagrams() -> None:
    assert datagram_messages(b"<13>one\n") == [b"<13>one"]
    assert datagram_messages(b"<13>a\r\n<13>b\n\n") == [b"<13>a", b"<13>b"]


def test_headers_rfc5424_rfc3164_relay_and_none() -> None:
    assert split_header(MESSAGES[1]) == (Header("fw01", "fgt"), b"body with spaces")
    assert split_header(b"<13>1 2026-03-23T09:00:00Z - - - - -") == (Header("", ""), b"")
    sd = b'<13>1 2026-03-23T09:00:00Z h app 1 ID [a b="c\\]d"][e f="g"] \xef\xbb\xbfmsg'
    assert split_header(sd) == (Header("h", "app"), b"msg")
    assert split_header(MESSAGES[3]) == (
        Header("relay", "iis"),
        b"2026-03-23 08:00:00 10.0.5.11 POST /owa/",
    )
    assert split_header(b"<13>Mar  3 09:00:00 host tag[123]: x=1") == (
        Header("host", "tag"),
        b"x=1",
    )
    assert split_header(b"<13>Mar  3 09:00:00 tag: x=1") == (Header("", "tag"), b"x=1")
    # rsyslog's RFC 3339 timestamps
    assert split_header(b"<13>2026-03-23T09:00:00.123456+01:00 host fgt: <190>date=x") == (
        Header("host", "fgt"),
        b"<190>date=x",
    )
    # FortiGate's own: a PRI and the body
    assert split_header(MESSAGES[0]) == (Header("", ""), MESSAGES[0][5:])
    # a BSD header without tag: the next word is the host, the rest is the body
    assert split_header(b"<13>Mar 22 19:21:00 fw01 date=2026-03-22 time=19:21:00") == (
        Header("fw01", ""),
        b"date=2026-03-22 time=19:21:00",
    )
    # FortiGate CSV bodies and proxy lines are no tag
    assert split_header(b"<13>Mar 22 19:21:00 fw date=2026-05-21,time=09:02:25,x=1")[1] == (
        b"date=2026-05-21,time=09:02:25,x=1"
    )
    assert split_header(b"<13>Mar 22 19:21:00 px ga.lenord.fr:443 10.0.0.1 - u")[1] == (
        b"ga.lenord.fr:443 10.0.0.1 - u"
    )
    # no header at all
    assert split_header(b"date=2026 user=x") == (Header("", ""), b"date=2026 user=x")


def test_relp_frames_cut_anywhere_and_answers() -> None:
    offer = (
        b"relp_version=0\nrelp_software=librelp,1.11.0,https://librelp.adiscon.com\ncommands=syslog"
    )
    data = b"1 open %d %s\n2 syslog 11 <13>a\nb c d\n3 close 0\n" % (len(offer), offer)
    for cut in range(len(data)):
        decoder = RelpDecoder(1000)
        frames = decoder.feed(data[:cut]) + decoder.feed(data[cut:])
        assert [f.command for f in frames] == ["open", "syslog", "close"], cut
        assert frames[1] == RelpFrame(2, "syslog", b"<13>a\nb c d")
        assert not decoder.broken
    assert relp_response(7, "200 OK") == b"7 rsp 6 200 OK\n"
    assert relp_response(1, "200 OK", b"commands=syslog") == b"1 rsp 22 200 OK\ncommands=syslog\n"


def test_relp_garbage_breaks_the_session_and_is_counted() -> None:
    decoder = RelpDecoder(1000)
    assert decoder.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == []
    assert decoder.broken
    assert decoder.problems[FrameReason.BAD_FRAME] == 1
    decoder = RelpDecoder(1000)
    assert decoder.feed(b"2 syslog 3 abcX") == []  # no trailer where the length says
    assert decoder.broken


def test_crlf_cut_between_its_two_bytes() -> None:
    decoder = StreamDecoder(1000)
    assert decoder.feed(b"<13>a\r\n<13>b\r") == [b"<13>a"]
    assert decoder.feed(b"\n<13>c\n") == [b"<13>b", b"<13>c"]
