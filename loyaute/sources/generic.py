"""Generic CSV / JSON-lines sources with a column mapping, and the authentic2 (Publik) preset.

For anything else a deployer has: another VPN, an application's own audit table, the Publik
identity provider's journal. The mapping (``[[sources.generic]]`` in ``loyaute.toml``) names the
time column (with its format and zone), the login, the category and optionally the application
and an event-type column that decides interactive, background or ignored.

authentic2 keeps a journal of events (``user.login``, ``user.service.sso``, ``user.logout``,
``user.login.failure``…). No public export sample exists, so the preset assumes the columns
``timestamp``, ``user`` and ``type``; a real export with other names is read by overriding them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from loyaute.sources.base import Chunk, LineParser, Parsed, Reason, RowBuilder, Source, split_lines
from loyaute.sources.people import decode_text, login_reason
from loyaute.sources.timeparse import in_zone, parse_iso, to_us


@dataclass(frozen=True)
class Mapping:
    """Where the fields of a trace are in a generic source's rows."""

    format: str = "csv"
    delimiter: str = ""
    timestamp: str = "timestamp"
    timestamp_format: str = ""
    timezone: str = "Europe/Paris"
    login: str = "user"
    category: str = "apps"
    app: str = ""
    app_column: str = ""
    event_column: str = ""
    interactive_events: frozenset[str] = frozenset()
    ignored_events: frozenset[str] = frozenset()


AUTHENTIC2 = Mapping(
    format="csv",
    timestamp="timestamp",
    login="user",
    category="apps",
    app="publik",
    event_column="type",
    interactive_events=frozenset({"user.login", "user.service.sso"}),
    ignored_events=frozenset(
        {
            "user.login.failure",
            "user.service.sso.refusal",
            "user.service.sso.denial",
            "user.service.sso.unauthorization",
        }
    ),
)


@dataclass(frozen=True)
class GenericSource(Source):
    """A CSV or JSON-lines source read through a ``Mapping``."""

    name: str = "csv"  # type: ignore[misc]
    category: str = "apps"  # type: ignore[misc]
    description: str = "CSV / JSON lines génériques (correspondance de colonnes)"  # type: ignore[misc]
    splittable = False
    mapping: Mapping = Mapping()

    def sniff(self, head: Sequence[bytes]) -> int:
        """A header (CSV) or first object (JSON) holding the mapped time and login fields."""
        if not head:
            return 0
        m = self.mapping
        first = decode_text(head[0])
        if m.format == "jsonl":
            try:
                obj = json.loads(first)
            except ValueError:
                return 0
            return 45 if isinstance(obj, dict) and m.timestamp in obj and m.login in obj else 0
        if first.startswith("{"):
            return 0
        try:
            header = next(csv.reader([first], delimiter=_delimiter(first, m.delimiter)))
        except (csv.Error, StopIteration):
            return 0
        if m.timestamp not in header or m.login not in header:
            return 0
        if m.event_column and m.event_column in header:
            joined = b"\n".join(head[1:])
            if any(e.encode() in joined for e in m.interactive_events):
                return 85
        return 45

    def parser(self) -> LineParser:
        """A parser for one file (the CSV header is its state)."""
        return _GenericParser(self)


def _delimiter(header: str, configured: str) -> str:
    if configured:
        return configured
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def make_generic(
    name: str,
    mapping: Mapping,
    description: str = "",
) -> GenericSource:
    """A generic source under its own --format name."""
    return GenericSource(
        name=name,
        category=mapping.category,
        description=description or f"{mapping.format} ({name})",
        mapping=mapping,
    )


def authentic2_source() -> GenericSource:
    """The built-in Publik/authentic2 journal source."""
    return make_generic("authentic2", AUTHENTIC2, "Publik authentic2 : journal des événements")


class _GenericParser(LineParser):
    def __init__(self, source: GenericSource) -> None:
        self.source = source
        self.mapping = source.mapping
        self.zone = ZoneInfo(self.mapping.timezone)
        self.header: list[str] | None = None
        self.delimiter = ","

    def parse(self, chunk: Chunk) -> Parsed:
        out = RowBuilder()
        for i, raw in enumerate(split_lines(chunk.data)):
            self._line(out, chunk.first_line + i, raw)
        return out.build()

    def _row(self, out: RowBuilder, line: int, text: str) -> dict[str, str] | None:
        m = self.mapping
        if m.format == "jsonl":
            try:
                obj = json.loads(text)
            except ValueError:
                out.skip(line, Reason.MALFORMED)
                return None
            if not isinstance(obj, dict):
                out.skip(line, Reason.MALFORMED)
                return None
            return {str(k): "" if v is None else str(v) for k, v in obj.items()}
        if self.header is None:
            text = text.lstrip("\ufeff")  # Excel writes a byte-order mark
            self.delimiter = _delimiter(text, m.delimiter)
            self.header = [h.strip() for h in next(csv.reader([text], delimiter=self.delimiter))]
            out.skip(line, Reason.HEADER)
            return None
        try:
            values = next(csv.reader([text], delimiter=self.delimiter))
        except (csv.Error, StopIteration):
            out.skip(line, Reason.MALFORMED)
            return None
        if len(values) != len(self.header):
            out.skip(line, Reason.MALFORMED)
            return None
        return dict(zip(self.header, values, strict=True))

    def _line(self, out: RowBuilder, line: int, raw: bytes) -> None:
        if not raw.strip():
            out.skip(line, Reason.BLANK)
            return
        row = self._row(out, line, decode_text(raw))
        if row is None:
            return
        m = self.mapping
        login_raw = row.get(m.login, "")
        who = login_reason(login_raw)
        login = None if who is Reason.NO_USER else login_raw
        ts = self._time(row.get(m.timestamp, ""))
        if ts is None:
            out.skip(line, Reason.BAD_TIME, None, login)
            return
        interactive = True
        if m.event_column:
            event = row.get(m.event_column, "")
            if event in m.ignored_events:
                out.skip(line, Reason.IGNORED_EVENT, ts, login)
                return
            if m.interactive_events:
                interactive = event in m.interactive_events
        if who is not None or login is None:
            out.skip(line, who or Reason.NO_USER, ts, login)
            return
        app = row.get(m.app_column, "") if m.app_column else m.app
        out.event(line, ts, login, m.category, interactive, app or None)

    def _time(self, text: str) -> int | None:
        fmt = self.mapping.timestamp_format
        if not fmt:
            return parse_iso(text, self.zone)
        try:
            dt = datetime.strptime(text.strip(), fmt)
        except ValueError:
            return None
        return to_us(dt) if dt.tzinfo is not None else in_zone(dt, self.zone)
