"""``loyaute collect``: the long-running intake — syslog listeners, followed files, commits.

One event loop does the network and the files; parsing happens in it, in batches, so a sender
faster than the collector is slowed by TCP's own flow control rather than buffered without
bound. Commits run in a worker thread (``commit.commit_keys``), one at a time, while intake goes
on. What is and is not guaranteed (docs/deployment.md, "Continuous collection"):

* followed files: a restart (even after ``kill -9``) resumes at the offsets of the last commit;
* RELP: a message is acknowledged only once its half-days are committed; the sender resends the
  rest after a crash;
* TCP and TLS: syslog has no acknowledgement. On SIGTERM the collector stops reading new
  connections, half-closes the open ones (a sender such as rsyslog sees it and keeps what it has
  not sent for the next connection), reads what was already sent, commits it, then exits. After
  ``kill -9``, what was received since the last commit — and what sat in the kernel's buffers —
  is lost unless the sender resends it;
* UDP: a datagram the kernel drops is counted (``udp_kernel_drops``), never silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import cast

from loyaute.config import CollectSettings, parse_endpoint
from loyaute.errors import ConfigError, GateError, InputError, LoyauteError, UsageError
from loyaute.i18n import tr
from loyaute.ingest.collect.commit import CommitBatch, CommitResult, commit_keys, require_gates
from loyaute.ingest.collect.follow import Follower
from loyaute.ingest.collect.framing import (
    RELP_OFFER,
    FrameReason,
    RelpDecoder,
    StreamDecoder,
    datagram_messages,
    relp_response,
)
from loyaute.ingest.collect.intake import Intake
from loyaute.ingest.collect.metrics import Counters, prometheus_text, status_json, without_data
from loyaute.policy.roles import Identity
from loyaute.presence.windows import Windows
from loyaute.sources import build_sources
from loyaute.store.records import StoreError
from loyaute.workspace import Workspace

log = logging.getLogger("loyaute.collect")

PUMP_SECONDS = 0.1
"""How often held messages are parsed when no batch filled up."""
RELP_COMMIT_SECONDS = 0.2
"""RELP messages whose half-days are new wait at most about this long for a commit."""
TLS_FAILED = "tls_handshake_failed"
CONNECTION_RESET = "connection_reset"
DRAIN_IDLE_SECONDS = 0.3
"""At shutdown, TCP connections silent for this long after the half-close are drained."""
RELP_PROCESS_FRAMES = 32
"""RELP messages held before they are parsed at once (librelp's window is 128 by default)."""


class CollectorError(LoyauteError):
    """The collector stopped on an unexpected error (exit 1); it restarts where the last commit
    left off."""


@dataclass(frozen=True)
class Endpoint:
    """A listening address."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        """``HOST:PORT``."""
        try:
            host, port = parse_endpoint(text)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        return cls(host, port)

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class CollectOptions:
    """The collector's settings once the command line is laid over ``[collect]``."""

    tcp: Endpoint | None = None
    udp: Endpoint | None = None
    tls: Endpoint | None = None
    relp: Endpoint | None = None
    cert: Path | None = None
    key: Path | None = None
    client_ca: Path | None = None
    follow: tuple[str, ...] = ()
    format: str | None = None
    commit_every_seconds: float = 5.0
    metrics: Endpoint | None = None
    follow_poll_seconds: float = 0.5
    rotation_grace_seconds: float = 10.0
    udp_receive_buffer_bytes: int = 8 << 20
    drain_seconds: float = 2.0

    @classmethod
    def from_settings(
        cls,
        s: CollectSettings,
        *,
        tcp: str | None = None,
        udp: str | None = None,
        tls: str | None = None,
        relp: str | None = None,
        cert: Path | None = None,
        key: Path | None = None,
        follow: list[str] | None = None,
        format: str | None = None,
        commit_every: float | None = None,
        metrics: str | None = None,
    ) -> CollectOptions:
        """``[collect]``, with each option given on the command line in place of its setting."""

        def endpoint(given: str | None, setting: str) -> Endpoint | None:
            text = given if given is not None else setting
            return Endpoint.parse(text) if text else None

        def path(given: Path | None, setting: str) -> Path | None:
            return given if given is not None else Path(setting) if setting else None

        options = cls(
            tcp=endpoint(tcp, s.tcp),
            udp=endpoint(udp, s.udp),
            tls=endpoint(tls, s.tls),
            relp=endpoint(relp, s.relp),
            cert=path(cert, s.tls_cert_file),
            key=path(key, s.tls_key_file),
            client_ca=path(None, s.tls_client_ca_file),
            # absolute, so that the offsets recorded for a path mean the same from any folder
            follow=tuple(os.path.abspath(p) for p in (follow or s.follow)),
            format=(format if format is not None else s.format) or None,
            commit_every_seconds=commit_every
            if commit_every is not None
            else s.commit_every_seconds,
            metrics=endpoint(metrics, s.metrics),
            follow_poll_seconds=s.follow_poll_seconds,
            rotation_grace_seconds=s.rotation_grace_seconds,
            udp_receive_buffer_bytes=s.udp_receive_buffer_bytes,
            drain_seconds=s.drain_seconds,
        )
        options.check()
        return options

    def check(self) -> None:
        """Refuse a command line that cannot work, before anything starts."""
        if not (self.tcp or self.udp or self.tls or self.relp or self.follow):
            raise UsageError(
                tr(
                    "rien à collecter : indiquer --tcp, --udp, --tls, --relp ou --follow "
                    "(ou [collect] dans loyaute.toml)",
                    "nothing to collect: give --tcp, --udp, --tls, --relp or --follow "
                    "(or [collect] in loyaute.toml)",
                )
            )
        if self.tls and not (self.cert and self.key):
            raise UsageError(tr("--tls demande --cert et --key", "--tls needs --cert and --key"))
        if not 0.1 <= self.commit_every_seconds <= 3600:
            raise UsageError("--commit-every : 0.1 … 3600")
        if self.metrics and self.metrics.host not in ("127.0.0.1", "::1", "localhost"):
            raise UsageError(tr("--metrics : boucle locale seulement", "--metrics: loopback only"))


@dataclass
class Summary:
    """What a run did, for the command's last words."""

    counters: Counters
    listeners: list[str] = field(default_factory=list)


class Collector:
    """The running service. ``run`` returns once a stop was asked and everything committed."""

    def __init__(
        self,
        ws: Workspace,
        options: CollectOptions,
        who: Identity,
        ready: Callable[[list[str]], None] = lambda _: None,
    ) -> None:
        self.ws = ws
        self.options = options
        self.who = who
        self.ready = ready
        self.counters = Counters(started_at=ws.clock.now().isoformat(timespec="seconds"))
        settings = ws.settings
        sources = build_sources(settings)
        if options.format is not None and options.format not in sources:
            raise UsageError(
                tr(f"format inconnu : {options.format}", f"unknown format: {options.format}"),
                hint=", ".join(sorted(sources)),
            )
        if options.format is not None and options.format not in settings.sources.enabled:
            raise InputError(
                tr(
                    f"format {options.format} non activé ([sources] enabled) : l'ajouter est un "
                    "changement substantiel soumis au comité (A4)",
                    f"format {options.format} not enabled ([sources] enabled): adding it is a "
                    "material change for the committee (A4)",
                )
            )
        self.max_line_bytes = settings.ingest.max_line_bytes
        self.intake = Intake(
            sources,
            settings.sources.enabled,
            options.format,
            Windows.from_settings(settings.half_days, settings.zone),
            settings.sources.exchange.count_background,
            self.counters,
        )
        self.follower: Follower | None = None
        self.listeners: list[str] = []
        self.servers: list[asyncio.AbstractServer] = []
        self.streams: set[_Stream] = set()
        self.relp_sessions: set[_RelpSession] = set()
        self.udp: _Datagrams | None = None
        self._udp_inode = 0
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._purged_on: date | None = None
        self._relp_waiting_since: float | None = None
        self.last_data = time.monotonic()

    # --- the loop -----------------------------------------------------------------------------

    async def run(self) -> Summary:
        """Listen, follow, commit every ``commit_every_seconds``; on stop, commit and return."""
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self._loop_error)
        self._stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        try:
            await self._start()
            # Retention first, as ingest does, and the followed files recorded before any is
            # read; a first health snapshot for the operator's page.
            if self.follower is not None:
                self.follower.poll()
            await self.commit()
            self.ready(self.listeners)
            tasks = [
                asyncio.create_task(self._guard(self._pump())),
                asyncio.create_task(self._guard(self._commits())),
            ]
            if self.follower is not None:
                tasks.append(asyncio.create_task(self._guard(self._follow())))
            await self._stop.wait()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if self._failure is not None:
                raise self._failure
            await self._shutdown()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            if self.follower is not None:
                self.follower.close()
        return Summary(self.counters, self.listeners)

    async def _guard(self, work: Coroutine[None, None, None]) -> None:
        """A task that fails stops the collector with its error (nothing fails unseen); an
        unexpected one is told by its type and place only (F1: its message could quote a line)."""
        try:
            await work
        except asyncio.CancelledError:
            raise
        except LoyauteError as exc:  # a refusal (a gate): handed to run(), which raises it
            self._failure = exc
            self.stop()
        except Exception as exc:
            self._failure = CollectorError(
                tr(f"erreur interne : {without_data(exc)}", f"internal error: {without_data(exc)}")
            )
            self.stop()

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        """Errors the event loop reports about a connection: counted when a sender reset it,
        else logged without their data (F1)."""
        exc = context.get("exception")
        if isinstance(exc, ConnectionError):
            self.counters.skipped[CONNECTION_RESET] += 1
            return
        message = str(context.get("message", ""))
        log.error(
            "event loop: %s", without_data(exc) if isinstance(exc, BaseException) else message
        )

    def stop(self) -> None:
        """Ask the collector to commit what it holds and return (SIGTERM does the same)."""
        if self._stop is not None:
            self._stop.set()

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        o = self.options
        if o.follow:
            self.follower = Follower(
                list(o.follow),
                self.intake,
                self.counters,
                forced=o.format,
                saved=self.ws.db.collector.followed(),
                max_line_bytes=self.max_line_bytes,
                grace_seconds=o.rotation_grace_seconds,
            )
            self.listeners.append(
                tr(f"suivi de {len(o.follow)} chemin(s)", f"following {len(o.follow)} path(s)")
            )
        try:
            if o.udp is not None:
                await self._listen_udp(loop, o.udp)
            if o.tcp is not None:
                await self._listen(loop, o.tcp, "tcp", None)
            if o.tls is not None:
                await self._listen(loop, o.tls, "tls", self._tls_context())
            if o.relp is not None:
                await self._listen(loop, o.relp, "relp", None)
            if o.metrics is not None:
                metrics = await asyncio.start_server(self._metrics, o.metrics.host, o.metrics.port)
                port = metrics.sockets[0].getsockname()[1]
                self.servers.append(metrics)
                self.listeners.append(f"metrics http://{_hostport(o.metrics.host, port)}/metrics")
        except OSError as exc:
            for listening in self.servers:
                listening.close()
            raise InputError(
                tr(
                    f"écoute impossible : {exc.strerror or exc}",
                    f"cannot listen: {exc.strerror or exc}",
                )
            ) from exc

    def _tls_context(self) -> ssl.SSLContext:
        o = self.options
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(str(o.cert), str(o.key))
            if o.client_ca is not None:
                context.load_verify_locations(str(o.client_ca))
                context.verify_mode = ssl.CERT_REQUIRED
        except (OSError, ssl.SSLError) as exc:
            raise InputError(
                tr(f"certificat TLS inutilisable : {exc}", f"unusable TLS certificate: {exc}")
            ) from exc
        return context

    async def _listen(
        self,
        loop: asyncio.AbstractEventLoop,
        where: Endpoint,
        kind: str,
        context: ssl.SSLContext | None,
    ) -> None:
        name = f"{kind} {where}"
        factory: Callable[[], asyncio.Protocol]
        if kind == "relp":
            factory = lambda: _RelpSession(self, name)  # noqa: E731
        else:
            factory = lambda: _Stream(self, name, kind, context)  # noqa: E731
        # TLS is started by each connection (start_tls), so that a handshake that fails is
        # counted: asyncio only logs it at debug level.
        server = await loop.create_server(
            factory, where.host, where.port, reuse_address=True, backlog=128
        )
        self.servers.append(server)
        port = server.sockets[0].getsockname()[1]
        self.listeners.append(f"{kind} {_hostport(where.host, port)}")

    async def _listen_udp(self, loop: asyncio.AbstractEventLoop, where: Endpoint) -> None:
        family = socket.AF_INET6 if ":" in where.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
            if option is None:
                continue
            try:
                sock.setsockopt(socket.SOL_SOCKET, option, self.options.udp_receive_buffer_bytes)
                break
            except OSError:
                continue
        sock.bind((where.host, where.port))
        self._udp_inode = os.fstat(sock.fileno()).st_ino
        port = sock.getsockname()[1]
        name = f"udp {_hostport(where.host, port)}"
        _, protocol = await loop.create_datagram_endpoint(lambda: _Datagrams(self, name), sock=sock)
        self.udp = protocol
        self.listeners.append(name)

    async def _pump(self) -> None:
        """Parse what waits, release RELP acknowledgements, read the kernel's UDP drops."""
        while True:
            await asyncio.sleep(PUMP_SECONDS)
            self.intake.process()
            self.release()
            if self._udp_inode:
                self.counters.udp_kernel_drops = udp_drops(self._udp_inode)

    async def _follow(self) -> None:
        assert self.follower is not None
        while True:
            more = self.follower.poll()
            await asyncio.sleep(0 if more else self.options.follow_poll_seconds)

    async def _commits(self) -> None:
        """Commit every ``commit_every_seconds`` — sooner when RELP senders wait for new
        half-days to be committed before they are acknowledged."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(PUMP_SECONDS)
            now = time.monotonic()
            relp_due = (
                self._relp_waiting_since is not None
                and self.intake.waiting
                and now - self._relp_waiting_since >= RELP_COMMIT_SECONDS
            )
            new_file = self.follower is not None and self.follower.unrecorded
            if now - last < self.options.commit_every_seconds and not relp_due and not new_file:
                continue
            last = now
            await self.commit()

    async def commit(self, state: str = "running") -> CommitResult | None:
        """Parse what waits, then commit the new keys, the offsets and the health snapshot."""
        self.intake.process(final=state != "running")
        snapshot = self.intake.take()
        states, gone = (
            self.follower.checkpoint(self.ws.clock.now().isoformat(timespec="seconds"))
            if self.follower is not None
            else ([], [])
        )
        today = self.ws.today()
        batch = CommitBatch(
            snapshot.tables(),
            states,
            gone,
            status_json(
                self.counters,
                state=state,
                listeners=self.listeners,
                pid=os.getpid(),
                updated_at=self.ws.clock.now().isoformat(timespec="seconds"),
                commit_every_seconds=self.options.commit_every_seconds,
            ),
            purge=today != self._purged_on,  # at the first commit, then each new day
        )
        try:
            result = await asyncio.to_thread(commit_keys, self.ws, batch, self.who)
        except (GateError, ConfigError):
            self.intake.settle(snapshot, committed=False)
            raise  # a refusal: the collector stops, nothing more is stored
        except Exception as exc:  # the store or the state database: kept, tried again
            self.intake.settle(snapshot, committed=False)
            if self.follower is not None:
                self.follower.restore(gone)
            self.counters.commit_failures += 1
            text = str(exc) if isinstance(exc, StoreError | OSError) else without_data(exc)
            self.counters.warn(text)
            log.warning("commit failed, tried again at the next one: %s", text)
            return None
        except BaseException:
            self.intake.settle(snapshot, committed=False)
            raise
        self._purged_on = today
        self.intake.settle(snapshot, committed=True)
        if self.follower is not None:
            self.follower.recorded(states)
        self._account(result)
        self.release()
        return result

    def _account(self, result: CommitResult) -> None:
        c = self.counters
        c.last_commit_seconds = result.seconds
        c.last_commit_at = self.ws.clock.now().isoformat(timespec="seconds")
        if not result.stored:
            return
        c.commits += 1
        for entry in result.entries.values():
            c.half_days["kept"] += entry.kept
            c.half_days["pending"] += entry.pending
            c.half_days["unmatched_login"] += sum(entry.unmatched.values())
            for rule, n in entry.dropped.items():
                c.half_days[f"dropped:{rule}"] += n

    def release(self) -> None:
        """Acknowledge every RELP message whose half-days are committed."""
        waiting = 0
        for session in list(self.relp_sessions):
            waiting += session.release(self.intake)
        self.counters.relp_unacked = waiting
        if waiting == 0:
            self._relp_waiting_since = None
        elif self._relp_waiting_since is None:
            self._relp_waiting_since = time.monotonic()

    async def _shutdown(self) -> None:
        """Stop listening, let TCP senders finish, read the files, commit, answer RELP."""
        for server in self.servers:
            server.close()
        for stream in list(self.streams):
            stream.half_close()
        self.last_data = time.monotonic()
        # Drained when every TCP sender closed its side, or sent nothing for DRAIN_IDLE_SECONDS
        # (a sender that sends again later sees the half-closed connection first), or at the
        # deadline.
        deadline = time.monotonic() + self.options.drain_seconds
        while any(s.kind == "tcp" for s in self.streams):
            now = time.monotonic()
            if now >= deadline or now - self.last_data >= DRAIN_IDLE_SECONDS:
                break
            await asyncio.sleep(0.02)
        if self.udp is not None:
            self.udp.close()
        for stream in list(self.streams):
            stream.close()
        await asyncio.sleep(0.05)  # connection_lost hands over the last message of each
        if self.follower is not None:
            while self.follower.poll():
                await asyncio.sleep(0)
        result = await self.commit(state="stopped")
        if result is None:
            # The store could not be written: try once more, then give up (files and RELP
            # senders resend what was not committed; TCP and UDP lines held are lost).
            await asyncio.sleep(1)
            await self.commit(state="stopped")
        for session in list(self.relp_sessions):
            session.finish()
        for server in self.servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1)

    # --- the metrics endpoint -----------------------------------------------------------------

    async def _metrics(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            writer.close()
            return
        line = request.split(b"\r\n", 1)[0].split()
        path = line[1].split(b"?", 1)[0] if len(line) > 1 else b""
        if line[:1] == [b"GET"] and path == b"/metrics":
            body = prometheus_text(self.counters).encode()
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


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _Stream(asyncio.Protocol):
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


class _RelpSession(asyncio.Protocol):
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


class _Datagrams(asyncio.DatagramProtocol):
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


def collect(
    ws: Workspace,
    options: CollectOptions,
    who: Identity,
    ready: Callable[[list[str]], None] = lambda _: None,
    on_warning: Callable[[str], None] = lambda _: None,
) -> Summary:
    """Run the collector in the foreground until SIGTERM or SIGINT; refuse to start, with the
    gate's reason, while A1–A3 do not hold (as ``ingest``)."""
    for warning in require_gates(ws):
        on_warning(warning)
    collector = Collector(ws, options, who, ready)
    with asyncio.Runner() as runner:
        return runner.run(collector.run())


__all__ = [
    "CollectOptions",
    "Collector",
    "CollectorError",
    "Endpoint",
    "Summary",
    "collect",
    "udp_drops",
]
