"""Syslog on the wire: frames (RFC 6587 over TCP and TLS, RFC 5425), datagrams (RFC 5426), the
syslog header (RFC 3164 and RFC 5424) and RELP frames.

Pure functions and small stateful decoders: bytes in, messages out. A frame that cannot be read
is never fatal and never silent: the decoders count it under a reason code (``FrameReason``) and
go on with the next frame. Nothing here keeps a message after handing it over.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class FrameReason(StrEnum):
    """Why part of a stream was not a message (counted beside the sources' own reasons)."""

    LINE_TOO_LONG = "line_too_long"
    """A frame longer than ``max_line_bytes`` (the sources' own reason code)."""
    BAD_FRAME = "bad_frame"
    """Bytes that are no frame of the stream's protocol (a RELP frame without its trailer…)."""
    TRUNCATED = "truncated_frame"
    """A connection closed in the middle of a frame."""


FRAME_REASON_TEXT: dict[str, tuple[str, str]] = {
    FrameReason.BAD_FRAME.value: (
        "trame illisible dans le protocole du flux (syslog RFC 6587, RELP)",
        "frame that cannot be read in the stream's protocol (syslog RFC 6587, RELP)",
    ),
    FrameReason.TRUNCATED.value: (
        "connexion fermée au milieu d'une trame",
        "connection closed in the middle of a frame",
    ),
}

_OCTET_COUNT_RE = re.compile(rb"([1-9]\d{0,8}) ")
_OCTET_START_RE = re.compile(rb"\n[1-9]\d{0,8} ")
"""A frame after the first that starts with an octet count."""
_DIGITS_AT_END_RE = re.compile(rb"\d{1,9}\Z")


@dataclass
class StreamDecoder:
    """Messages of one syslog TCP or TLS stream (RFC 6587, RFC 5425).

    Each frame says how it is framed, as rsyslog's ``imtcp`` reads it: a frame starting with a
    digit is octet-counted (``LEN SP MSG``), any other frame runs to the next newline
    (non-transparent framing; a NUL inside a message ends a record, as in a file). A message longer than ``max_bytes`` is
    skipped without being held whole, and counted as ``line_too_long``."""

    max_bytes: int
    problems: Counter[str] = field(default_factory=Counter)
    _buffer: bytearray = field(default_factory=bytearray)
    _skip_bytes: int = 0
    """Bytes of an over-long octet-counted frame still to discard."""
    _skip_line: bool = False
    """Discarding an over-long newline-framed message up to its newline."""

    def feed(self, data: bytes) -> list[bytes]:
        """The complete messages ``data`` finishes (without their framing)."""
        if self._skip_bytes:
            taken = min(self._skip_bytes, len(data))
            self._skip_bytes -= taken
            data = data[taken:]
        if self._skip_line:
            end = data.find(b"\n")
            if end < 0:
                return []
            self._skip_line = False
            data = data[end + 1 :]
        buf = self._buffer
        if not buf or not 0x30 <= buf[0] <= 0x39:  # nothing held, or the start of a line
            lines = self._lines(data)
            if lines is not None:
                return lines
        buf += data
        out: list[bytes] = []
        pos = 0
        size = len(buf)
        while pos < size:
            first = buf[pos]
            if 0x31 <= first <= 0x39:  # octet counting: a length never starts with 0
                m = _OCTET_COUNT_RE.match(buf, pos)
                if m is not None:
                    length = int(m.group(1))
                    start = m.end()
                    if length > self.max_bytes:
                        self.problems[FrameReason.LINE_TOO_LONG] += 1
                        available = size - start
                        if available >= length:
                            pos = start + length
                            continue
                        self._skip_bytes = length - available
                        pos = size
                        break
                    if size - start < length:
                        break
                    out.append(_trim(bytes(buf[start : start + length])))
                    pos = start + length
                    continue
                if _DIGITS_AT_END_RE.match(buf, pos) is not None:
                    break  # a length cut by the end of the data: wait for the rest
            end = buf.find(b"\n", pos)
            if end < 0:
                if size - pos > self.max_bytes:
                    self.problems[FrameReason.LINE_TOO_LONG] += 1
                    self._skip_line = True
                    pos = size
                break
            if end - pos > self.max_bytes:
                self.problems[FrameReason.LINE_TOO_LONG] += 1
            else:
                out.append(_trim(bytes(buf[pos:end])))
            pos = end + 1
        del buf[:pos]
        return out

    def _lines(self, data: bytes) -> list[bytes] | None:
        """The common case at C speed, without copying the data into the buffer: every frame
        ``data`` completes is newline-framed (none starts with an octet count) and none is too
        long. None when the frame-by-frame reading is needed (nothing consumed then)."""
        buf = self._buffer
        if (not buf and _OCTET_COUNT_RE.match(data)) or _OCTET_START_RE.search(data):
            return None
        lines = data.split(b"\n")
        rest = lines.pop()
        if not lines:
            if len(buf) + len(rest) > self.max_bytes:
                return None
            buf += rest
            return []
        if len(buf) + len(lines[0]) > self.max_bytes or (
            len(data) > self.max_bytes and max(map(len, lines)) > self.max_bytes
        ):
            return None
        if buf:
            lines[0] = bytes(buf) + lines[0]
            buf.clear()
        buf += rest
        if b"\r" in data:
            lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
        elif lines[0].endswith(b"\r"):  # a CR held from the previous piece
            lines[0] = lines[0][:-1]
        return lines

    def close(self) -> list[bytes]:
        """At the end of the stream: a last message without its newline is still a message; a
        frame cut short is counted as ``truncated_frame``."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        if self._skip_bytes or self._skip_line:
            self._skip_bytes, self._skip_line = 0, False
            return []
        if not rest.strip(b"\r\n\x00 "):
            return []
        m = _OCTET_COUNT_RE.match(rest)
        if m is not None:
            self.problems[FrameReason.TRUNCATED] += 1
            return []
        return [_trim(rest)]

    @property
    def pending_bytes(self) -> int:
        """Bytes held while waiting for the end of a frame."""
        return len(self._buffer)


def _trim(message: bytes) -> bytes:
    """A message without the line end some senders add inside an octet-counted frame."""
    if message.endswith(b"\n"):
        message = message[:-1]
    if message.endswith(b"\r"):
        message = message[:-1]
    return message


def datagram_messages(data: bytes) -> list[bytes]:
    """The messages of one UDP datagram (RFC 5426: one message, though some senders pack
    several, one per line)."""
    data = _trim(data)
    if b"\n" not in data:
        return [data]
    return [_trim(part) for part in data.split(b"\n") if part.strip(b"\r")]


# --- the syslog header ----------------------------------------------------------------------

_TAG = rb"[A-Za-z0-9_./-]{1,48}(?:\[[^\]\s]{0,32}\])?:"
_HEADER_RE = re.compile(
    rb"<\d{1,3}>(?:"
    # RFC 5424: VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA
    rb"1 \S+ (\S+) (\S+) \S+ \S+ (?:-|(?:\[(?:[^\]\\\n]|\\.)*\])+)(?: |$)"
    # RFC 3164 (and rsyslog's RFC 3339 timestamps): TIMESTAMP [HOSTNAME] [TAG:]
    rb"|(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)) "
    rb"(?:(" + _TAG + rb")(?: |$)|([^\s:]+) (?:(" + _TAG + rb")(?: |$))?)"
    rb")?"
)
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Header:
    """Where a message comes from, as its syslog header says: the sending host and the
    application (RFC 5424 APP-NAME, RFC 3164 TAG without its ``[pid]``); empty when the header has none."""

    host: str
    app: str


NO_HEADER = Header("", "")


HeaderGroups = tuple[bytes | None, ...]
"""The five groups of a header match (RFC 5424 host and app, RFC 3164 tag, host and tag)."""
match_header = _HEADER_RE.match
"""The header's match at the start of a message (None: no header); its ``groups()`` name the
sender (``header_of``), its ``end()`` is where the body starts."""


def header_of(groups: HeaderGroups) -> Header:
    """The sender a header's groups name."""
    host5, app5, tag_only, host3, tag3 = groups
    if host5 is not None:
        return Header(_nil(host5), _nil(app5 or b"-"))
    tag = tag_only or tag3
    app = tag.split(b"[", 1)[0].rstrip(b":") if tag else b""
    return Header((host3 or b"").decode("utf-8", "replace"), app.decode("utf-8", "replace"))


def split_header(message: bytes) -> tuple[Header, bytes]:
    """The header of a syslog message and its body (MSG), which is what a log file would hold:
    the line a source parses. A message without a syslog header is all body; a ``<PRI>`` alone
    (FortiGate's default) is removed."""
    m = _HEADER_RE.match(message)
    if m is None:
        return NO_HEADER, message
    body = message[m.end() :]
    groups: HeaderGroups = m.groups()
    if groups[0] is not None and body.startswith(BOM):
        body = body[3:]  # RFC 5424 MSG-UTF8 starts with a byte-order mark
    return header_of(groups), body


def _nil(value: bytes) -> str:
    return "" if value == b"-" else value.decode("utf-8", "replace")


# --- RELP -----------------------------------------------------------------------------------

_RELP_HEAD_RE = re.compile(rb"(\d{1,9}) ([a-z]{1,32}) (\d{1,9})[ \n]")
RELP_OFFER = b"relp_version=0\nrelp_software=loyaute\ncommands=syslog"


@dataclass(frozen=True)
class RelpFrame:
    """One RELP frame: transaction number, command, data."""

    txnr: int
    command: str
    data: bytes


@dataclass
class RelpDecoder:
    """Frames of one RELP session (``TXNR SP COMMAND SP DATALEN [SP DATA] LF``)."""

    max_bytes: int
    problems: Counter[str] = field(default_factory=Counter)
    broken: bool = False
    """Set when the stream stopped being RELP: the session must be closed (the sender resends
    whatever was not acknowledged)."""
    _buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[RelpFrame]:
        """The complete frames ``data`` finishes."""
        if self.broken:
            return []
        buf = self._buffer
        buf += data
        out: list[RelpFrame] = []
        pos = 0
        size = len(buf)
        while pos < size:
            m = _RELP_HEAD_RE.match(buf, pos)
            if m is None:
                if size - pos < 64 and b"\n" not in buf[pos:]:
                    break  # a header cut by the end of the data
                self._break()
                return out
            length = int(m.group(3))
            if length > self.max_bytes + 1024:
                self.problems[FrameReason.LINE_TOO_LONG] += 1
                self._break()
                return out
            start = m.end() if m.group(0).endswith(b" ") else m.end() - 1
            if m.group(0).endswith(b"\n"):
                if length != 0:
                    self._break()
                    return out
                out.append(RelpFrame(int(m.group(1)), m.group(2).decode(), b""))
                pos = m.end()
                continue
            if size - start < length + 1:
                break
            if buf[start + length] != 0x0A:
                self._break()
                return out
            out.append(
                RelpFrame(int(m.group(1)), m.group(2).decode(), bytes(buf[start : start + length]))
            )
            pos = start + length + 1
        del buf[:pos]
        return out

    def _break(self) -> None:
        self.problems[FrameReason.BAD_FRAME] += 1
        self.broken = True
        self._buffer.clear()


def relp_response(txnr: int, status: str, extra: bytes = b"") -> bytes:
    """A RELP ``rsp`` frame: ``200 OK`` (or an error status) and optional data lines."""
    data = status.encode() + (b"\n" + extra if extra else b"")
    return b"%d rsp %d %s\n" % (txnr, len(data), data)
