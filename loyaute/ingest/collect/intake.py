"""From syslog messages and followed-file blocks to half-day keys, in memory only (rule F1).

Every message is split from its syslog header (``framing.split_header``); its body is the line a
log file would hold, and goes through the same sources and the same reduction as ``ingest``. An
*origin* is one stream of lines with its own parser: a followed file, or the messages of one
(listener, sending host, application) — so a relay forwarding an IIS log and a proxy log on one
connection gives each its own parser, chosen the way ``ingest`` chooses a file's (the first
lines, unless ``--format`` says).

What leaves a parse is a set of (login, day, half, category) keys. Keys already committed by this
process are not committed again (OR-ing a flag twice changes nothing), so in steady state a
commit happens only when someone leaves a first trace in a half-day.

Acknowledgements: messages are numbered (tickets) as they arrive. Every message up to
``processed`` was parsed (all of them, except those of an origin still waiting for enough lines
to recognise its format). A message whose own lines gave keys not committed yet is *blocked*
until a commit stores them; RELP answers a message once it is processed and not blocked
(``is_durable``), so a message whose half-days are already stored is answered at once, in any
order, and only the ones that bring a new half-day wait for the next commit.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from loyaute.errors import UnknownFormatError
from loyaute.ingest.collect.framing import BOM, Header, HeaderGroups, header_of, match_header
from loyaute.ingest.collect.metrics import Counters, without_data
from loyaute.ingest.reading import nul_to_newline
from loyaute.presence.reduce import KEY_SCHEMA, key_rows
from loyaute.presence.windows import Windows
from loyaute.sources import detect
from loyaute.sources.base import Chunk, LineParser, Source

log = logging.getLogger("loyaute.collect")

NO_GROUPS: HeaderGroups = (None, None, None, None, None)

Key = tuple[str, date, int, str]
"""(login as written, local day, half 0/1, category)."""

UNRECOGNISED = "unrecognised_format"
NOT_ENABLED = "format_not_enabled"
PARSER_ERROR = "parser_error"

COLLECT_REASON_TEXT: dict[str, tuple[str, str]] = {
    UNRECOGNISED: (
        "format non reconnu (indiquer --format)",
        "unrecognised format (give --format)",
    ),
    NOT_ENABLED: (
        "format non activé ([sources] enabled) : l'ajouter est un changement substantiel (A4)",
        "format not enabled ([sources] enabled): adding it is a material change (A4)",
    ),
    PARSER_ERROR: (
        "erreur interne de la source sur ces lignes (à signaler)",
        "the source failed on these lines (please report)",
    ),
}


@dataclass
class Origin:
    """One stream of lines and its parser."""

    name: str
    transport: str
    source: Source | None = None
    parser: LineParser | None = None
    enabled: bool = True
    lines: int = 0
    held: list[bytes] = field(default_factory=list)
    """Bodies waiting to be parsed (or, while the format is unknown, to be recognised)."""
    held_since: float = 0.0
    first_ticket: int = 0
    """Number of the first message held (0: none held)."""
    tickets: list[int] = field(default_factory=list)
    """The number of each held message, when its acknowledgement depends on it (RELP)."""

    def use(self, source: Source, enabled: bool, parser: LineParser | None = None) -> None:
        """Read this origin with ``source`` from now on."""
        self.source = source
        self.parser = parser or source.parser()
        self.enabled = enabled


@dataclass
class Snapshot:
    """New keys handed to a commit, by origin, and how many messages they cover."""

    keys: dict[str, set[Key]]
    since: float | None

    def tables(self) -> dict[str, pa.Table]:
        """The keys as Arrow tables in ``KEY_SCHEMA``, by origin (what ``reconcile`` takes)."""
        out: dict[str, pa.Table] = {}
        for origin, keys in self.keys.items():
            rows = sorted(keys)
            out[origin] = pa.Table.from_arrays(
                [pa.array([r[i] for r in rows], type=f.type) for i, f in enumerate(KEY_SCHEMA)],
                schema=KEY_SCHEMA,
            )
        return out

    @property
    def empty(self) -> bool:
        """True when nothing new waits to be committed."""
        return not any(self.keys.values())


class Intake:
    """Parses and reduces what the listeners and the follower hand over; holds new keys until a
    commit takes them."""

    def __init__(
        self,
        sources: dict[str, Source],
        enabled: Iterable[str],
        forced: str | None,
        windows: Windows,
        count_background: bool,
        counters: Counters,
        *,
        batch_bytes: int = 4 << 20,
        detect_lines: int = 20,
        detect_wait_seconds: float = 2.0,
        cache_keys: int = 500_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sources = sources
        self.enabled = frozenset(enabled)
        self.forced = forced
        self.windows = windows
        self.count_background = count_background
        self.counters = counters
        self.batch_bytes = batch_bytes
        self.detect_lines = detect_lines
        self.detect_wait_seconds = detect_wait_seconds
        self.cache_keys = cache_keys
        self.clock = clock
        self.origins: dict[tuple[str, str, str], Origin] = {}
        self._by_groups: dict[tuple[str, str], dict[HeaderGroups, Origin]] = {}
        self._dirty: dict[int, Origin] = {}
        self.buffered_bytes = 0
        self.added = 0
        self.processed = 0
        self.blocked: dict[int, set[Key]] = {}
        """Messages (tickets) whose own keys are not committed yet, with those keys."""
        self.committed: set[Key] = set()
        self.new_keys: dict[str, set[Key]] = defaultdict(set)
        self._new_all: set[Key] = set()
        self._inflight: set[Key] = set()
        self.inflight: Snapshot | None = None

    # --- syslog messages --------------------------------------------------------------------

    def origin_of(self, listener: str, transport: str, header: Header) -> Origin:
        """The origin of messages from ``header``'s host and application on ``listener``."""
        key = (listener, header.host, header.app)
        origin = self.origins.get(key)
        if origin is None:
            sender = "/".join(p for p in (header.host, header.app) if p)
            origin = Origin(f"{listener} {sender}".strip(), transport)
            if self.forced is not None:
                origin.use(self.sources[self.forced], self.forced in self.enabled)
            self.origins[key] = origin
        return origin

    def add_messages(
        self, listener: str, transport: str, messages: list[bytes], track: bool = False
    ) -> int:
        """Accept syslog messages; returns the ticket of the last one (the others precede it).
        ``track``: their acknowledgement will ask ``is_durable``."""
        now = self.clock()
        self.counters.messages[transport] += len(messages)
        first = self.added + 1
        self.added += len(messages)
        self.buffered_bytes += sum(map(len, messages)) + len(messages)
        cache = self._by_groups.setdefault((listener, transport), {})
        match = match_header
        last: object = None
        held: list[bytes] = []
        for ticket, message in enumerate(messages, first):
            m = match(message)
            if m is None:
                groups: HeaderGroups = NO_GROUPS
                body = message
            else:
                groups = m.groups()
                body = message[m.end() :]
                if groups[0] is not None and body.startswith(BOM):
                    body = body[3:]
            if groups != last:  # messages of one sender come in runs: look up only when it changes
                last = groups
                origin = cache.get(groups)
                if origin is None:
                    origin = cache[groups] = self.origin_of(listener, transport, header_of(groups))
                if not origin.held:
                    origin.held_since = now
                    origin.first_ticket = ticket
                    self._dirty[id(origin)] = origin
                held = origin.held
                tickets = origin.tickets
            held.append(body)
            if track:
                tickets.append(ticket)
        if self.buffered_bytes >= self.batch_bytes:
            self.process()
        return self.added

    def process(self, final: bool = False) -> None:
        """Parse everything held (an origin whose format is not known yet waits for enough
        lines, or for ``detect_wait_seconds``, unless ``final``)."""
        now = self.clock()
        for key, origin in list(self._dirty.items()):
            if self._process_origin(origin, now, final):
                del self._dirty[key]
        waiting = [o.first_ticket for o in self._dirty.values() if o.held]
        self.processed = min(waiting) - 1 if waiting else self.added

    def is_durable(self, ticket: int) -> bool:
        """True once message ``ticket`` is parsed and the keys of its lines are committed."""
        return ticket <= self.processed and ticket not in self.blocked

    def _process_origin(self, origin: Origin, now: float, final: bool) -> bool:
        """Parse one origin's held lines; False when they still wait for format detection."""
        if origin.source is None and not self._recognise(origin, now, final):
            return not origin.held
        lines, origin.held = origin.held, []
        tickets, origin.tickets = origin.tickets, []
        self.buffered_bytes -= sum(map(len, lines)) + len(lines)
        origin.first_ticket = 0
        if not lines:
            return True
        block = b"\n".join(lines) + b"\n"
        block = nul_to_newline(block) if b"\x00" in block else block
        self.parse_block(origin, block, tickets or None)
        return True

    def _recognise(self, origin: Origin, now: float, final: bool) -> bool:
        """Choose the origin's source from its first lines, as ``ingest`` does for a file."""
        records = [r for r in origin.held[:200] if r.strip()][:40]
        if (
            len(records) < self.detect_lines
            and now - origin.held_since < self.detect_wait_seconds
            and not final
        ):
            return False
        try:
            source = detect(records, self.sources) if records else None
        except UnknownFormatError:
            source = None
        if source is None:
            lines = sum(1 + body.count(b"\n") for body in origin.held)
            self.counters.lines[origin.transport] += lines
            self.counters.skipped[UNRECOGNISED] += lines
            self.buffered_bytes -= sum(map(len, origin.held)) + len(origin.held)
            origin.held, origin.first_ticket = [], 0
            origin.tickets = []
            return False
        origin.use(source, source.name in self.enabled)
        if source.name not in self.enabled:
            self.counters.warn(
                f"{origin.name}: format {source.name} non activé / not enabled ([sources] enabled)"
            )
        return True

    # --- blocks of lines (followed files, and the messages above) -------------------------

    def parse_block(self, origin: Origin, block: bytes, tickets: list[int] | None = None) -> None:
        """Parse complete lines of ``origin`` and keep the new keys they give; with
        ``tickets`` (one per message the block joins), block each message on its own new keys."""
        counters = self.counters
        if not origin.enabled or origin.parser is None:
            lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
            counters.lines[origin.transport] += lines
            counters.skipped[NOT_ENABLED if origin.source is not None else UNRECOGNISED] += lines
            return
        first_line = origin.lines + 1
        try:
            parsed = origin.parser.parse(Chunk(block, first_line))
        except Exception as exc:  # bad input never stops the collector: counted (parser_error)
            lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
            log.error(
                "%s: the source failed on %d lines: %s", origin.name, lines, without_data(exc)
            )
            counters.lines[origin.transport] += lines
            counters.skipped[PARSER_ERROR] += lines
            origin.lines += lines
            return
        origin.lines += parsed.lines
        counters.lines[origin.transport] += parsed.lines
        counters.events += parsed.events.num_rows
        counters.skipped.update(parsed.skip_counts())
        if not parsed.events.num_rows:
            return
        rows = key_rows(parsed.events, self.windows, self.count_background)
        if tickets is None:
            self._keep(origin.name, rows)  # the keys' set is the OR-reduce
            return
        fresh = self._keep(origin.name, rows)
        if not fresh:
            return
        if block.count(b"\n") == len(tickets):  # one line per message: block each on its own
            lines = parsed.events.column("line").to_numpy(zero_copy_only=False)
            of_row = [tickets[int(lines[r]) - first_line] for r in rows.column("row").to_pylist()]
            for key, ticket in zip(_tuples(rows), of_row, strict=True):
                if key in fresh:
                    self.blocked.setdefault(ticket, set()).add(key)
        else:  # a message of several lines: every message of the block waits for all its keys
            for ticket in tickets:
                self.blocked.setdefault(ticket, set()).update(fresh)

    def _keep(self, name: str, keys: pa.Table) -> set[Key]:
        """Keep the keys not committed yet; returns them (those already waiting included)."""
        if not keys.num_rows:
            return set()
        known = self.committed
        fresh = {k for k in _tuples(keys) if k not in known}
        new = fresh - self._new_all - self._inflight
        if not new:
            return fresh
        self.new_keys[name].update(new)
        self._new_all.update(new)
        if self.counters.uncommitted_since is None:
            self.counters.uncommitted_since = self.clock()
        return fresh

    # --- commits ----------------------------------------------------------------------------

    def take(self) -> Snapshot:
        """Hand the new keys to a commit (one at a time)."""
        if self.inflight is not None:
            raise RuntimeError("a commit is already running")
        snapshot = Snapshot(
            {k: v for k, v in self.new_keys.items() if v}, self.counters.uncommitted_since
        )
        self.inflight = snapshot
        self._inflight = self._new_all
        self.new_keys = defaultdict(set)
        self._new_all = set()
        self.counters.uncommitted_since = None
        return snapshot

    def settle(self, snapshot: Snapshot, committed: bool) -> None:
        """The commit of ``snapshot`` ended: its keys are committed, or held again."""
        self.inflight = None
        if committed:
            if len(self.committed) + len(self._inflight) > self.cache_keys:
                self.committed = set()  # bounded memory: at worst a key is committed twice
            self.committed |= self._inflight
            for ticket, keys in list(self.blocked.items()):
                keys.difference_update(self._inflight)
                if not keys:
                    del self.blocked[ticket]
        else:
            for origin, keys in snapshot.keys.items():
                self.new_keys[origin] |= keys
            self._new_all |= self._inflight
            if snapshot.since is not None:
                current = self.counters.uncommitted_since
                self.counters.uncommitted_since = (
                    snapshot.since if current is None else min(current, snapshot.since)
                )
        self._inflight = set()

    @property
    def waiting(self) -> bool:
        """True when new keys wait for a commit."""
        return bool(self._new_all)


def _tuples(keys: pa.Table) -> zip[Key]:
    return zip(
        keys.column("login").to_pylist(),
        keys.column("day").to_pylist(),
        keys.column("half").to_pylist(),
        keys.column("category").to_pylist(),
        strict=True,
    )
