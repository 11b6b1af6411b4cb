"""The collector's connections: syslog over TCP and TLS, RELP sessions, the UDP socket, and the
Prometheus endpoint. Each hands what it decodes to the collector's intake and counts what it
cannot read; none keeps a message after handing it over."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import deque
from typing import TYPE_CHECKING, cast

from loyaute.ingest.collect.framing import (
    RELP_OFFER,
    FrameReason,
    RelpDecoder,
    StreamDecoder,
    datagram_messages,
    relp_response,
)
from loyaute.ingest.collect.intake import Intake
from loyaute.ingest.collect.metrics import Counters, prometheus_text

if TYPE_CHECKING:
    from loyaute.ingest.collect.service import Collector

TLS_FAILED = "tls_handshake_failed"
CONNECTION_RESET = "connection_reset"
RELP_PROCESS_FRAMES = 32
"""RELP messages held before they are parsed at once (librelp's window is 128 by default)."""


class Stream(asyncio.Protocol):
    """One syslog TCP or TLS connection."""

    def __init__(
        self, collector: Collector, listener: str, kind: str, tls: ssl.SSLContext | None = None
    ) -> None:
        self.collector = collector
        self.listener = listener
        self.kind = kind
        self.tls = tls
        self.decoder = StreamDecoder(collector.max_line_bytes)
        self.transport: asyncio.Transport | None = None
        self._handshake: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.tls is not None and self._handshake is None:
            plain = cast(asyncio.Transport, transport)
            plain.pause_reading()  # nothing is read before the handshake
            self._handshake = asyncio.ensure_future(self._secure(plain, self.tls))
            return
        self.transport = cast(asyncio.Transport, transport)
        c = self.collector.counters
        c.connections_open[self.kind] += 1
        c.connections_total[self.kind] += 1
        self.collector.streams.add(self)

    async def _secure(self, plain: asyncio.Transport, context: ssl.SSLContext) -> None:
        """The TLS handshake (RFC 5425); one that fails is counted and the connection closed."""
        loop = asyncio.get_running_loop()
        try:
            secured = await loop.start_tls(
                plain, self, context, server_side=True, ssl_handshake_timeout=30
            )
        except (OSError, TimeoutError):  # ssl.SSLError and ConnectionError are OSErrors
            secured = None
        if secured is None:
            self.collector.counters.skipped[TLS_FAILED] += 1
            plain.close()
            return
        self.connection_made(secured)

    def data_received(self, data: bytes) -> None:
        if self.transport is None:
            return  # bytes before the TLS handshake is done are never read as syslog
        c = self.collector
        c.counters.bytes[self.kind] += len(data)
        c.last_data = time.monotonic()
        messages = self.decoder.feed(data)
        if messages:
            c.intake.add_messages(self.listener, self.kind, messages)
        self._problems()

    def _problems(self) -> None:
        problems = self.decoder.problems
        if problems:
            counters = self.collector.counters
            counters.skipped.update(problems)
            counters.lines[self.kind] += problems.get(FrameReason.LINE_TOO_LONG, 0)
            problems.clear()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        c = self.collector
        messages = self.decoder.close()
        if messages:
            c.intake.add_messages(self.listener, self.kind, messages)
        self._problems()
        if self in c.streams:
            c.streams.discard(self)
            c.counters.connections_open[self.kind] -= 1

    def half_close(self) -> None:
        """Tell the sender nothing more will be read after what it already sent (TCP FIN)."""
        if self.transport is not None and self.transport.can_write_eof():
            with contextlib.suppress(OSError, RuntimeError):
                self.transport.write_eof()

    def close(self) -> None:
        """Close the connection (what it already delivered stays with the collector)."""
        if self.transport is not None:
            self.transport.close()


class RelpSession(asyncio.Protocol):
    """One RELP session: each ``syslog`` frame is answered once its half-days are committed."""

    def __init__(self, collector: Collector, listener: str) -> None:
        self.collector = collector
        self.listener = listener
        self.decoder = RelpDecoder(collector.max_line_bytes)
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[tuple[int, int]] = deque()
        self.closing: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        c = self.collector.counters
        c.connections_open["relp"] += 1
        c.connections_total["relp"] += 1
        self.collector.relp_sessions.add(self)

    def data_received(self, data: bytes) -> None:
        c = self.collector
        c.counters.bytes["relp"] += len(data)
        messages: list[bytes] = []
        numbers: list[int] = []
        out: list[bytes] = []
        for frame in self.decoder.feed(data):
            if frame.command == "syslog":
                messages.append(frame.data)
                numbers.append(frame.txnr)
            elif frame.command == "open":
                out.append(relp_response(frame.txnr, "200 OK", RELP_OFFER))
            elif frame.command == "close":
                self.closing = frame.txnr
            else:
                out.append(relp_response(frame.txnr, "500 unknown command"))
        if messages:
            last = c.intake.add_messages(self.listener, "relp", messages, track=True)
            first = last - len(messages) + 1
            self.waiting.extend((txnr, first + i) for i, txnr in enumerate(numbers))
            if len(self.waiting) >= RELP_PROCESS_FRAMES:
                c.intake.process()  # the sender's window is small: answer without waiting
        if self.decoder.problems:
            c.counters.skipped.update(self.decoder.problems)
            self.decoder.problems.clear()
        if out and self.transport is not None:
            self.transport.write(b"".join(out))
        if self.decoder.broken and self.transport is not None:
            self.transport.close()
            return
        c.release()

    def release(self, intake: Intake) -> int:
        """Answer the messages whose half-days are committed; returns how many still wait."""
        out: list[bytes] = []
        still: deque[tuple[int, int]] = deque()
        for txnr, ticket in self.waiting:
            if intake.is_durable(ticket):
                out.append(relp_response(txnr, "200 OK"))
            else:
                still.append((txnr, ticket))
        self.waiting = still
        if self.closing is not None and not self.waiting:
            out.append(b"%d rsp 0\n" % self.closing)
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(out))
        if self.closing is not None and not self.waiting and self.transport is not None:
            self.transport.close()
        return len(self.waiting)

    def finish(self) -> None:
        """At shutdown, after the last commit: tell the sender the server closes."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"0 serverclose 0\n")
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        c = self.collector
        if self in c.relp_sessions:
            c.relp_sessions.discard(self)
            c.counters.connections_open["relp"] -= 1
        self.waiting.clear()


class Datagrams(asyncio.DatagramProtocol):
    """The syslog UDP socket."""

    def __init__(self, collector: Collector, listener: str) -> None:
        self.collector = collector
        self.listener = listener
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        c = self.collector
        c.counters.bytes["udp"] += len(data)
        if len(data) > c.max_line_bytes:
            c.counters.messages["udp"] += 1
            c.counters.lines["udp"] += 1
            c.counters.skipped[FrameReason.LINE_TOO_LONG] += 1
            return
        c.intake.add_messages(self.listener, "udp", datagram_messages(data))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def udp_drops(inode: int) -> int:
    """Datagrams the kernel dropped for the UDP socket with this inode (``/proc/net/udp``,
    ``/proc/net/udp6``: the last column, ``drops``); 0 when it cannot be read."""
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table, encoding="ascii") as f:
                next(f, None)
                for line in f:
                    fields = line.split()
                    if len(fields) > 12 and fields[9] == str(inode):
                        return int(fields[12])
        except (OSError, ValueError):
            continue
    return 0


async def serve_metrics(
    counters: Counters, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """One request to the Prometheus endpoint: ``GET /metrics``, ``GET /healthz``, else 404."""
    try:
        request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        writer.close()
        return
    line = request.split(b"\r\n", 1)[0].split()
    path = line[1].split(b"?", 1)[0] if len(line) > 1 else b""
    if line[:1] == [b"GET"] and path == b"/metrics":
        body = prometheus_text(counters).encode()
        head = b"200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8"
    elif line[:1] == [b"GET"] and path == b"/healthz":
        body, head = b"ok\n", b"200 OK\r\nContent-Type: text/plain"
    else:
        body, head = b"not found\n", b"404 Not Found\r\nContent-Type: text/plain"
    writer.write(
        b"HTTP/1.1 "
        + head
        + b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        + body
    )
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    writer.close()
