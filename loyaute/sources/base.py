"""The contract every source shares: bytes in, events or skip records out.

A *source* reads one log format. It is given chunks of complete lines and returns, for every
line, either an **event** (a person's digital trace: time, login as written, category,
interactive flag, application) or a **skip record** (the line number and a reason code). Nothing
else leaves a source: no IP address, URL, user agent or byte count (rule B2 of LEGAL.md).
Classification (interactive or background, which application) happens inside the source.

Events and skips travel as Arrow record batches so the heavy formats can be parsed vectorised;
formats with modest volumes build them row by row with :class:`RowBuilder`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Protocol

import pyarrow as pa
import pyarrow.compute as pc

CATEGORIES: tuple[str, ...] = ("vpn", "mail", "apps")

TS_TYPE = pa.timestamp("us", tz="UTC")

EVENT_SCHEMA = pa.schema(
    [
        pa.field("line", pa.int64(), nullable=False),
        pa.field("ts", TS_TYPE, nullable=False),
        pa.field("start", TS_TYPE),
        pa.field("end", TS_TYPE),
        pa.field("login", pa.string(), nullable=False),
        pa.field("category", pa.string(), nullable=False),
        pa.field("interactive", pa.bool_(), nullable=False),
        pa.field("app", pa.string()),
    ]
)
"""One row per event line. ``ts`` is the instant the log gives for the line (UTC). ``start`` and
``end`` bound a span when the line describes one (a VPN session, a request with its duration);
either may be null when unknown."""

SKIP_SCHEMA = pa.schema(
    [
        pa.field("line", pa.int64(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("ts", TS_TYPE),
        pa.field("login", pa.string()),
    ]
)
"""One row per skipped line. ``ts`` and ``login`` are filled when the line could be read that far,
so an operator checking a source sees whose line was set aside and why."""


class Reason(StrEnum):
    """Why a line is not an event. Each code has a French and an English explanation."""

    BLANK = "blank"
    HEADER = "header"
    MALFORMED = "malformed"
    LINE_TOO_LONG = "line_too_long"
    BAD_TIME = "bad_time"
    NO_USER = "no_user"
    NOT_A_PERSON = "not_a_person"
    PROBE = "probe"
    BACKEND = "backend"
    FAILED_STATUS = "failed_status"
    NOT_VPN_EVENT = "not_vpn_event"
    VPN_FAILURE = "vpn_failure"
    VPN_NEGOTIATION = "vpn_negotiation"
    SITE_TO_SITE = "site_to_site"
    NOT_EXCHANGE = "not_exchange"
    UNMAPPED_APP = "unmapped_app"
    IGNORED_EVENT = "ignored_event"
    AMBIGUOUS_LAYOUT = "ambiguous_layout"


REASON_TEXT: dict[Reason, tuple[str, str]] = {
    Reason.BLANK: ("ligne vide", "empty line"),
    Reason.HEADER: (
        "ligne d'en-tête ou de commentaire (#Fields, en-tête CSV)",
        "header or comment line (#Fields, CSV header)",
    ),
    Reason.MALFORMED: (
        "ligne illisible dans ce format",
        "line cannot be read in this format",
    ),
    Reason.LINE_TOO_LONG: (
        "ligne plus longue que max_line_bytes",
        "line longer than max_line_bytes",
    ),
    Reason.BAD_TIME: (
        "horodatage manquant, invalide ou inexistant (heure sautée au passage à l'heure d'été)",
        "missing, invalid or non-existent time (skipped by a DST change)",
    ),
    Reason.NO_USER: (
        "pas d'utilisateur (vide, -, N/A, (null), Anonymous)",
        "no user (empty, -, N/A, (null), Anonymous)",
    ),
    Reason.NOT_A_PERSON: (
        "compte technique, jamais une personne (HealthMailbox, SYSTEM, compte machine, compte de "
        "supervision déclaré…)",
        "technical account, never a person (HealthMailbox, SYSTEM, machine account, declared "
        "monitoring account…)",
    ),
    Reason.PROBE: (
        "sonde de supervision (AMProbe, healthcheck, client de supervision déclaré)",
        "health probe (AMProbe, healthcheck, declared monitoring client)",
    ),
    Reason.BACKEND: (
        "site Exchange back-end (port 444) : la requête est déjà comptée au front-end",
        "Exchange back-end site (port 444): the request is counted at the front end",
    ),
    Reason.FAILED_STATUS: (
        "statut HTTP hors 2xx/3xx (401 = défi d'authentification)",
        "HTTP status outside 2xx/3xx (401 = authentication challenge)",
    ),
    Reason.NOT_VPN_EVENT: (
        "pas un événement de session VPN ou FortiClient (trafic, UTM, système, ligne inconnue)",
        "not a VPN or FortiClient session event (traffic, UTM, system, unknown line)",
    ),
    Reason.VPN_FAILURE: (
        "échec de connexion VPN : jamais une trace",
        "VPN login failure: never a trace",
    ),
    Reason.VPN_NEGOTIATION: (
        "négociation IPsec ou nouvelle connexion sans session",
        "IPsec negotiation or new connection without a session",
    ),
    Reason.SITE_TO_SITE: (
        "tunnel site à site : aucune personne",
        "site-to-site tunnel: no person",
    ),
    Reason.NOT_EXCHANGE: (
        "requête hors des services Exchange connus",
        "request outside the known Exchange services",
    ),
    Reason.UNMAPPED_APP: (
        "hôte ou chemin non rattaché à une application ([[apps]] de loyaute.toml)",
        "host or path not mapped to an application ([[apps]] in loyaute.toml)",
    ),
    Reason.IGNORED_EVENT: (
        "type d'événement ignoré par la configuration de la source",
        "event type ignored by the source's configuration",
    ),
    Reason.AMBIGUOUS_LAYOUT: (
        "ligne qui ne se lit pas d'une seule façon dans la disposition du fichier (nom "
        "d'utilisateur avec espace, hôte virtuel en tête ou manquant)",
        "line that does not read one way only in the file's layout (user name with a space, "
        "virtual host first or missing)",
    ),
}


def reason_text(reason: str, lang: str = "fr") -> str:
    """Explain a reason code to a person, in French unless ``lang`` is ``en``."""
    try:
        fr, en = REASON_TEXT[Reason(reason)]
    except ValueError:
        return reason
    return en if lang == "en" else fr


def empty_events() -> pa.RecordBatch:
    """An event batch with no rows."""
    return _EMPTY_EVENTS


def empty_skips() -> pa.RecordBatch:
    """A skip batch with no rows."""
    return _EMPTY_SKIPS


_EMPTY_EVENTS = pa.RecordBatch.from_pylist([], schema=EVENT_SCHEMA)
_EMPTY_SKIPS = pa.RecordBatch.from_pylist([], schema=SKIP_SCHEMA)


@dataclass
class Parsed:
    """What a source makes of one chunk: events and skip records.

    Rows come in no promised order (vectorised paths append rows they read a second time);
    ``line`` gives each row's place, and every line of the chunk appears exactly once."""

    events: pa.RecordBatch = field(default_factory=empty_events)
    skipped: pa.RecordBatch = field(default_factory=empty_skips)

    @property
    def lines(self) -> int:
        """Number of lines accounted for (every line is an event or a skip)."""
        return int(self.events.num_rows + self.skipped.num_rows)

    def skip_counts(self) -> Counter[str]:
        """Skipped lines counted by reason."""
        counts: Counter[str] = Counter()
        if self.skipped.num_rows:
            for item in pc.value_counts(self.skipped.column("reason")).to_pylist():
                counts[item["values"]] += item["counts"]
        return counts

    @staticmethod
    def concat(parts: Iterable[Parsed]) -> Parsed:
        """Join several results (in order) into one."""
        parts = list(parts)
        if not parts:
            return Parsed()
        events = pa.Table.from_batches([p.events for p in parts], schema=EVENT_SCHEMA)
        skipped = pa.Table.from_batches([p.skipped for p in parts], schema=SKIP_SCHEMA)
        return Parsed(_one_batch(events, EVENT_SCHEMA), _one_batch(skipped, SKIP_SCHEMA))


def _one_batch(table: pa.Table, schema: pa.Schema) -> pa.RecordBatch:
    table = table.combine_chunks()
    batches = table.to_batches()
    if not batches:
        return pa.RecordBatch.from_pylist([], schema=schema)
    return batches[0]


class RowBuilder:
    """Collects events and skips one line at a time, for sources parsed in Python."""

    def __init__(self) -> None:
        self._events: dict[str, list[object]] = {name: [] for name in EVENT_SCHEMA.names}
        self._skips: dict[str, list[object]] = {name: [] for name in SKIP_SCHEMA.names}

    def event(
        self,
        line: int,
        ts_us: int,
        login: str,
        category: str,
        interactive: bool,
        app: str | None = None,
        start_us: int | None = None,
        end_us: int | None = None,
    ) -> None:
        """Record an event; times are microseconds since the Unix epoch, UTC."""
        ev = self._events
        ev["line"].append(line)
        ev["ts"].append(ts_us)
        ev["start"].append(start_us)
        ev["end"].append(end_us)
        ev["login"].append(login)
        ev["category"].append(category)
        ev["interactive"].append(interactive)
        ev["app"].append(app)

    def skip(
        self, line: int, reason: Reason, ts_us: int | None = None, login: str | None = None
    ) -> None:
        """Record a skipped line with its reason (and its time and login when they were read)."""
        sk = self._skips
        sk["line"].append(line)
        sk["reason"].append(reason.value)
        sk["ts"].append(ts_us)
        sk["login"].append(login)

    def build(self) -> Parsed:
        """Turn what was collected into Arrow batches."""
        events = pa.RecordBatch.from_arrays(
            [pa.array(self._events[f.name], type=f.type) for f in EVENT_SCHEMA],
            schema=EVENT_SCHEMA,
        )
        skipped = pa.RecordBatch.from_arrays(
            [pa.array(self._skips[f.name], type=f.type) for f in SKIP_SCHEMA],
            schema=SKIP_SCHEMA,
        )
        return Parsed(events, skipped)


@dataclass(frozen=True)
class Chunk:
    """Complete lines of one file: every line ends with ``\\n`` except perhaps the file's last.

    ``first_line`` is the 1-based number of the chunk's first line in its file. ``data`` may be a
    memoryview over a memory-mapped file; sources must not keep it after ``parse`` returns.
    """

    data: bytes | memoryview
    first_line: int


class Searchable(Protocol):
    """A file's bytes as ``prefix_state`` may search them (bytes, a memory map, a windowed
    reader): ``rfind``/``find`` within bounds, and slices."""

    def rfind(self, sub: bytes, start: int, end: int, /) -> int: ...

    def find(self, sub: bytes, start: int, end: int, /) -> int: ...

    def __getitem__(self, item: slice, /) -> bytes: ...


class LineParser(ABC):
    """Parses the chunks of one file in order; may keep state between chunks (IIS layouts)."""

    @abstractmethod
    def parse(self, chunk: Chunk) -> Parsed:
        """Return one event or one skip record for every line of ``chunk``."""


class Source(ABC):
    """A log format. Instances carry the format's settings (zones, app mapping…)."""

    name: ClassVar[str]
    category: ClassVar[str]
    description: ClassVar[str]
    splittable: ClassVar[bool] = True
    """True when a file can be cut at any line boundary and the parts parsed independently."""

    @abstractmethod
    def sniff(self, head: Sequence[bytes]) -> int:
        """Score 0–100: how sure this source is that these first lines are its format."""

    @abstractmethod
    def parser(self) -> LineParser:
        """A fresh parser for one file."""

    def prefix_state(self, data: Searchable, offset: int) -> object | None:
        """State a parser needs to start at ``offset`` of a file (the IIS layout in force).

        ``data`` is the whole file, usually memory-mapped: search it, do not copy it."""
        return None

    def parser_at(self, state: object | None) -> LineParser:
        """A parser starting mid-file with the state ``prefix_state`` returned."""
        return self.parser()


def share_score(head: Sequence[bytes], looks_like: Callable[[bytes], bool], best: int) -> int:
    """Score a sniff by the share of head lines that look like the format: ``best`` when at
    least half do, 55 (just above detection) when at least 15% do, else 0."""
    if not head:
        return 0
    share = sum(1 for line in head if looks_like(line)) / len(head)
    if share >= 0.5:
        return best
    return 55 if share >= 0.15 else 0


def split_lines(data: bytes | memoryview) -> list[bytes]:
    """Split a chunk into lines without their ``\\n`` (and ``\\r``) terminators."""
    raw = bytes(data)
    if not raw:
        return []
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    lines = raw.split(b"\n")
    return [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]
