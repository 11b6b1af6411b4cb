"""Extranet reverse-proxy access logs: the business applications (category ``apps``).

Apache ``combined`` and ``vhost_combined`` (``%v:%p %h %l %u %t "%r" %>s %O …``, Debian's
``other_vhosts_access.log``) and nginx ``combined``, optionally with ``$host`` first. Each
request is mapped to an application by virtual host and path prefix (``[[apps]]`` in
``loyaute.toml``); an unmapped request is no trace. A trace needs a user and a 2xx/3xx status.
The request line, IP addresses, referrer and user agent are read only to classify the line and
never leave the source (rule B2).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

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
from loyaute.sources.people import decode_text, login_reason
from loyaute.sources.timeparse import parse_offset, with_offset

_LINE_RE = re.compile(
    rb"^(?P<a>\S+)\s+(?:(?P<b>\S+)\s+)?(?P<ident>\S+)\s+(?P<user>\"[^\"]*\"|\S+)\s+"
    rb"\[(?P<time>[^\]]{10,40})\]\s+"
    rb"\"(?P<request>[^\"\\]*(?:\\.[^\"\\]*)*)\"\s+(?P<status>\d{3}|-)(?:\s|$)"
)
_TIME_RE = re.compile(
    r"^(\d{1,2})/([A-Za-z]{3})/(\d{4}):(\d\d):(\d\d):(\d\d)(?:\.(\d+))?\s+([+-]\d{4})$"
)
_IP_RE = re.compile(rb"^(?:\d{1,3}(?:\.\d{1,3}){3}|\[?[0-9a-fA-F:]*:[0-9a-fA-F:.%]+\]?)(?::\d+)?$")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_PROBE_PATHS = ("/healthcheck.htm", "/server-status", "/nginx_status")


@dataclass(frozen=True)
class AppMapping:
    """One application: host names (``*`` for any) and path prefixes."""

    name: str
    hosts: tuple[str, ...]
    paths: tuple[str, ...] = ("/",)

    def __post_init__(self) -> None:
        # Host names are case-insensitive, however the mapping was written.
        object.__setattr__(self, "hosts", tuple(h.lower() for h in self.hosts))

    def matches(self, host: str, path: str) -> bool:
        """True when the request's host and path belong to this application."""
        if "*" not in self.hosts and host not in self.hosts:
            return False
        lowered = path.lower()
        return any(lowered.startswith(p.lower()) for p in self.paths)


def parse_clf_time(text: str) -> int | None:
    """``10/Oct/2000:13:55:36 -0700`` → UTC microseconds."""
    m = _TIME_RE.match(text.strip())
    if not m:
        return None
    day, mon, year, hh, mm, ss, frac, tz = m.groups()
    month = _MONTHS.get(mon.lower())
    offset = parse_offset(tz)
    if month is None or offset is None:
        return None
    try:
        naive = datetime(
            int(year),
            month,
            int(day),
            int(hh),
            int(mm),
            int(ss),
            int(((frac or "") + "000000")[:6]),
        )
    except ValueError:
        return None
    return with_offset(naive, offset)


def host_of(raw: bytes) -> str:
    """A virtual host without port, lower case."""
    text = decode_text(raw).lower()
    if text.startswith("["):
        return text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


@dataclass(frozen=True)
class ProxySource(Source):
    """Apache/nginx access logs of the extranet reverse proxy."""

    name = "proxy"
    category = "apps"
    description = "Reverse proxy Apache/nginx (combined, vhost_combined): applications métier"

    apps: tuple[AppMapping, ...] = ()
    default_host: str = ""
    """Host assumed when a line carries none (one access log per virtual host)."""

    def sniff(self, head: Sequence[bytes]) -> int:
        """Lines in the common/combined log format."""
        return share_score(head, lambda line: _LINE_RE.match(line) is not None, 80)

    def parser(self) -> LineParser:
        """A parser for one file (stateless)."""
        return _ProxyParser(self)

    def app_for(self, host: str, path: str) -> str | None:
        """The application a request belongs to, or None."""
        for app in self.apps:
            if app.matches(host, path):
                return app.name
        return None


class _ProxyParser(LineParser):
    def __init__(self, source: ProxySource) -> None:
        self.source = source

    def parse(self, chunk: Chunk) -> Parsed:
        out = RowBuilder()
        for i, raw in enumerate(split_lines(chunk.data)):
            self._line(out, chunk.first_line + i, raw)
        return out.build()

    def _line(self, out: RowBuilder, line: int, raw: bytes) -> None:
        if not raw.strip():
            out.skip(line, Reason.BLANK)
            return
        m = _LINE_RE.match(raw)
        if not m:
            out.skip(line, Reason.MALFORMED)
            return
        ts = parse_clf_time(decode_text(m.group("time")))
        user_raw = decode_text(m.group("user")).strip('"')
        reason = login_reason(user_raw)
        login = None if reason is Reason.NO_USER else user_raw
        if ts is None:
            out.skip(line, Reason.BAD_TIME, None, login)
            return
        request = m.group("request").split(b" ")
        if len(request) < 2 or not request[1].startswith(b"/"):
            out.skip(line, Reason.MALFORMED, ts, login)
            return
        path = decode_text(request[1].split(b"?", 1)[0])
        if path.lower().endswith(_PROBE_PATHS):
            out.skip(line, Reason.PROBE, ts, login)
            return
        host = self._host(m.group("a"), m.group("b"))
        app = self.source.app_for(host, path)
        if app is None:
            out.skip(line, Reason.UNMAPPED_APP, ts, login)
            return
        if reason is not None or login is None:
            out.skip(line, reason or Reason.NO_USER, ts, login)
            return
        status = m.group("status")
        if status[:1] not in (b"2", b"3"):
            out.skip(line, Reason.FAILED_STATUS, ts, login)
            return
        out.event(line, ts, login, "apps", True, app)

    def _host(self, a: bytes, b: bytes | None) -> str:
        """The virtual host: of two leading fields, the one that is not an IP address."""
        if b is None:
            return self.source.default_host.lower()
        if _IP_RE.match(a) and not _IP_RE.match(b):
            return host_of(b)
        return host_of(a)
