"""Exchange HttpProxy logs (``Logging\\HttpProxy\\<Protocol>\\HttpProxy_*.LOG``), category ``mail``.

A better source than IIS where available: written once by the front end (no back-end double),
with the authenticated user resolved. CSV with a ``#Fields:`` header of about 74 columns, ISO UTC
``DateTime`` (written when the request ends; ``TotalRequestTime`` in ms gives the start). The
interactive/background rules are the IIS ones, applied to ``UrlStem`` and ``UrlQuery``.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass

from loyaute.sources.base import Chunk, LineParser, Parsed, Reason, RowBuilder, Source, split_lines
from loyaute.sources.exchange_iis import (
    INTERACTIVE,
    INTERACTIVE_EAS,
    INTERACTIVE_OWA,
    NOT_EXCHANGE,
    PROBE,
    protocol_of,
    request_class,
)
from loyaute.sources.people import decode_text, login_reason
from loyaute.sources.timeparse import parse_iso

_NEEDED = ("DateTime", "UrlStem", "AuthenticatedUser", "HttpStatus")


@dataclass(frozen=True)
class ExchangeHttpProxySource(Source):
    """Exchange 2013+ HttpProxy CSV logs."""

    name = "exchange-httpproxy"
    category = "mail"
    description = "Exchange HttpProxy (CSV, #Fields): Outlook, OWA, ActiveSync"
    splittable = False

    interactive_activesync: frozenset[str] = INTERACTIVE_EAS
    interactive_owa: frozenset[str] = INTERACTIVE_OWA

    def sniff(self, head: Sequence[bytes]) -> int:
        """``#Log-type: HttpProxy Logs`` or a ``#Fields: DateTime,RequestId,…`` header."""
        for line in head:
            if line.startswith(b"#Log-type: HttpProxy"):
                return 95
            if line.startswith(b"#Fields: DateTime,") and b"AuthenticatedUser" in line:
                return 90
        return 0

    def parser(self) -> LineParser:
        """A parser for one file; it follows each ``#Fields`` directive."""
        return _HttpProxyParser(self)


class _HttpProxyParser(LineParser):
    def __init__(self, source: ExchangeHttpProxySource) -> None:
        self.source = source
        self.index: dict[str, int] | None = None

    def parse(self, chunk: Chunk) -> Parsed:
        out = RowBuilder()
        for i, raw in enumerate(split_lines(chunk.data)):
            self._line(out, chunk.first_line + i, raw)
        return out.build()

    def _line(self, out: RowBuilder, line: int, raw: bytes) -> None:
        if raw.startswith(b"#"):
            if raw.startswith(b"#Fields:"):
                names = decode_text(raw[8:]).strip().split(",")
                found = {name.strip(): i for i, name in enumerate(names)}
                self.index = found if all(n in found for n in _NEEDED) else None
            out.skip(line, Reason.HEADER)
            return
        if not raw.strip():
            out.skip(line, Reason.BLANK)
            return
        index: dict[str, int] | None = self.index
        if index is None:
            out.skip(line, Reason.MALFORMED)
            return
        try:
            row = next(csv.reader([decode_text(raw)]))
        except (csv.Error, StopIteration):
            out.skip(line, Reason.MALFORMED)
            return
        if len(row) < len(index):
            out.skip(line, Reason.MALFORMED)
            return

        def get(name: str) -> str:
            at = index.get(name)
            return row[at] if at is not None else ""

        ts = parse_iso(get("DateTime"))
        user = get("AuthenticatedUser")
        who = login_reason(user)
        login = None if who is Reason.NO_USER else user
        if ts is None:
            out.skip(line, Reason.BAD_TIME, None, login)
            return
        stem = get("UrlStem").encode("utf-8", "replace")
        query = get("UrlQuery").encode("utf-8", "replace")
        klass = request_class(
            stem, query, self.source.interactive_activesync, self.source.interactive_owa
        )
        if klass == PROBE or get("UserAgent").startswith("AMProbe"):
            out.skip(line, Reason.PROBE, ts, login)
            return
        if klass == NOT_EXCHANGE:
            out.skip(line, Reason.NOT_EXCHANGE, ts, login)
            return
        if who is not None or login is None:
            out.skip(line, who or Reason.NO_USER, ts, login)
            return
        status = get("HttpStatus")
        if len(status) != 3 or status[0] not in "23":
            out.skip(line, Reason.FAILED_STATUS, ts, login)
            return
        taken = get("TotalRequestTime")
        start = ts - int(taken) * 1000 if taken.isdigit() else None
        out.event(line, ts, login, "mail", klass == INTERACTIVE, protocol_of(stem), start, ts)
