"""Exchange HttpProxy logs (``Logging\\HttpProxy\\<Protocol>\\HttpProxy_*.LOG``), category ``mail``.

A better source than IIS where available: written once by the front end (no back-end double),
with the authenticated user resolved. CSV with a ``#Fields:`` header of about 74 columns, ISO UTC
``DateTime`` (written when the request ends; ``TotalRequestTime`` in ms gives the start). The
interactive/background rules are the IIS ones, applied to ``UrlStem`` and ``UrlQuery``.

Rows cut from their header (an excerpt, a forwarded stream) are read when they have the shape of
the known layout (``KNOWN_FIELDS``: Exchange 2016/2019, later columns appended at the end), as
the IIS source recognises headerless excerpts; once a ``#Fields`` header is seen, it alone
gives the layout.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass

from loyaute.sources.base import (
    Chunk,
    LineParser,
    Parsed,
    Reason,
    RowBuilder,
    Source,
    share_score,
    split_lines,
)
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

_KNOWN_FIELDS_LINE = (
    "DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,"
    "ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,"
    "IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,"
    "ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,"
    "TargetServerVersion,RoutingType,RoutingHint,BackEndCookie,ServerLocatorHost,"
    "ServerLocatorLatency,RequestBytes,ResponseBytes,TargetOutstandingRequests,"
    "AuthModulePerfContext,HttpPipelineLatency,CalculateTargetBackEndLatency,"
    "GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,TotalAccountForestLatency,"
    "ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,"
    "SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,"
    "ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,"
    "BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,"
    "BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,"
    "HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,"
    "CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,"
    "UrlQuery,BackEndGenericInfo,GenericInfo,GenericErrors,EdgeTraceId,DatabaseGuid,"
    "UserADObjectGuid,PartitionEndpointLookupLatency,RoutingStatus"
)
KNOWN_FIELDS: tuple[str, ...] = tuple(_KNOWN_FIELDS_LINE.split(","))
"""The #Fields of Exchange 2016/2019 HttpProxy logs (74 columns), for rows without a header."""
_KNOWN_INDEX = {name: i for i, name in enumerate(KNOWN_FIELDS)}
_GUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_DATETIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT")


def in_known_layout(row: Sequence[str]) -> bool:
    """A headerless row shaped like ``KNOWN_FIELDS``: at least its 74 columns, a ``DateTime``,
    a ``RequestId`` GUID and the four version numbers where that layout puts them."""
    return (
        len(row) >= len(KNOWN_FIELDS)
        and _DATETIME_RE.match(row[0]) is not None
        and _GUID_RE.match(row[1]) is not None
        and all(row[i].isdigit() for i in range(2, 6))
    )


def _row(line: bytes) -> list[str] | None:
    try:
        return next(csv.reader([decode_text(line)]))
    except (csv.Error, StopIteration):
        return None


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
        """``#Log-type: HttpProxy Logs`` or a ``#Fields: DateTime,RequestId,…`` header, else rows
        in the known layout (a file cut from its header)."""
        for line in head:
            if line.startswith(b"#Log-type: HttpProxy"):
                return 95
            if line.startswith(b"#Fields: DateTime,") and b"AuthenticatedUser" in line:
                return 90
        return share_score(
            head, lambda line: in_known_layout(_row(line) or ()) if b"," in line else False, 85
        )

    def parser(self) -> LineParser:
        """A parser for one file; it follows each ``#Fields`` directive."""
        return _HttpProxyParser(self)


class _HttpProxyParser(LineParser):
    def __init__(self, source: ExchangeHttpProxySource) -> None:
        self.source = source
        self.index: dict[str, int] | None = None
        self.fields_seen = False

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
                self.fields_seen = True
            out.skip(line, Reason.HEADER)
            return
        if not raw.strip():
            out.skip(line, Reason.BLANK)
            return
        row = _row(raw)
        index: dict[str, int] | None = self.index
        if index is None and not self.fields_seen and row is not None and in_known_layout(row):
            index = _KNOWN_INDEX
        if index is None or row is None or len(row) < len(index):
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
