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
import functools
import logging
import os
import signal
import socket
import ssl
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date

from loyaute.errors import (
    ConfigError,
    GateError,
    InputError,
    LoyauteError,
    StoreError,
    UsageError,
)
from loyaute.i18n import tr
from loyaute.ingest.collect.commit import CommitBatch, CommitResult, commit_keys, require_gates
from loyaute.ingest.collect.follow import Follower
from loyaute.ingest.collect.intake import Intake
from loyaute.ingest.collect.listeners import (
    CONNECTION_RESET,
    Datagrams,
    RelpSession,
    Stream,
    serve_metrics,
    udp_drops,
)
from loyaute.ingest.collect.metrics import Counters, status_json, without_data
from loyaute.ingest.collect.options import CollectOptions, Endpoint, hostport
from loyaute.policy.roles import Identity
from loyaute.presence.windows import Windows
from loyaute.sources import build_sources
from loyaute.workspace import Workspace

log = logging.getLogger("loyaute.collect")

PUMP_SECONDS = 0.1
"""How often held messages are parsed when no batch filled up."""
RELP_COMMIT_SECONDS = 0.2
"""RELP messages whose half-days are new wait at most about this long for a commit."""
DRAIN_IDLE_SECONDS = 0.3
"""At shutdown, TCP connections silent for this long after the half-close are drained."""


class CollectorError(LoyauteError):
    """The collector stopped on an unexpected error (exit 1); it restarts where the last commit
    left off."""


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
        self.streams: set[Stream] = set()
        self.relp_sessions: set[RelpSession] = set()
        self.udp: Datagrams | None = None
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
                metrics = await asyncio.start_server(
                    functools.partial(serve_metrics, self.counters), o.metrics.host, o.metrics.port
                )
                port = metrics.sockets[0].getsockname()[1]
                self.servers.append(metrics)
                self.listeners.append(f"metrics http://{hostport(o.metrics.host, port)}/metrics")
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
            factory = lambda: RelpSession(self, name)  # noqa: E731
        else:
            factory = lambda: Stream(self, name, kind, context)  # noqa: E731
        # TLS is started by each connection (start_tls), so that a handshake that fails is
        # counted: asyncio only logs it at debug level.
        server = await loop.create_server(
            factory, where.host, where.port, reuse_address=True, backlog=128
        )
        self.servers.append(server)
        port = server.sockets[0].getsockname()[1]
        self.listeners.append(f"{kind} {hostport(where.host, port)}")

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
        name = f"udp {hostport(where.host, port)}"
        _, protocol = await loop.create_datagram_endpoint(lambda: Datagrams(self, name), sock=sock)
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


__all__ = ["Collector", "CollectorError", "Summary", "collect"]
