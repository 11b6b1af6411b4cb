"""Extranet reverse-proxy access logs: the business applications (category ``apps``).

Apache ``combined`` and ``vhost_combined`` (``%v:%p %h %l %u %t "%r" %>s %O …``, Debian's
``other_vhosts_access.log``) and nginx ``combined``, optionally with ``$host`` first. Each
request is mapped to an application by virtual host and path prefix (``[[apps]]`` in
``loyaute.toml``); an unmapped request is no trace. A trace needs a user and a 2xx/3xx status.
The request line, IP addresses, referrer and user agent are read only to classify the line and
never leave the source (rule B2).

The layout is decided per file, from its first lines: three fields before the time
(``%h %l %u``, combined) or four (``%v:%p %h %l %u``, a virtual host first). Per line the two
are ambiguous as soon as a user name holds a space (``10.0.0.1 - john doe [`` reads as
``vhost client ident user``), so a line is read in its file's layout, the user being everything
after the ``%l`` field; a line that does not fit the layout is skipped as ``ambiguous_layout``.
Monitoring clients that sign in (``check_http``, ``curl`` from the monitoring host) are no
person when ``[sources.proxy]`` lists their user agents or logins.
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
    Searchable,
    Source,
    share_score,
    split_lines,
)
from loyaute.sources.people import bare_login, decode_text, login_reason
from loyaute.sources.timeparse import parse_offset, with_offset

# The fields before the time (three to eight: host, client, ident, a user possibly quoted or
# holding spaces), the time, the request line and the status.
_LINE_RE = re.compile(
    rb"^(?P<prefix>(?:\"[^\"]*\"|\S+)(?:\s+(?:\"[^\"]*\"|\S+)){2,7}?)\s+"
    rb"\[(?P<time>[^\]]{10,40})\]\s+"
    rb"\"(?P<request>[^\"\\]*(?:\\.[^\"\\]*)*)\"\s+(?P<status>\d{3}|-)(?:\s|$)"
)
_TOKEN_RE = re.compile(rb'"[^"]*"|\S+')
_QUOTED_RE = re.compile(rb'"((?:[^"\\]|\\.)*)"')
_RECORD_SPLIT_RE = re.compile(rb"\x00+(?:\r?\n)?|\n")
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

COMBINED = 3
"""Fields before the time in ``%h %l %u`` (Apache/nginx combined)."""
VHOST = 4
"""Fields before the time in ``%v:%p %h %l %u`` (and ``$host`` first, ``%h:%{remote}p %v:%p``)."""
HEAD_LINES = 40
"""A file's layout is decided from this many of its first lines."""
_HEAD_BYTES = 256 << 10


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


def layout_cue(tokens: Sequence[bytes]) -> int | None:
    """The layout one line shows by itself, if any: three fields are combined; with more, the
    ``%l`` field (almost always ``-``) is second in combined and third after a virtual host."""
    if len(tokens) == COMBINED:
        return COMBINED
    if len(tokens) < COMBINED:
        return None
    if tokens[1] == b"-" and tokens[2] != b"-":
        return COMBINED
    if tokens[2] == b"-" and tokens[1] != b"-":
        return VHOST
    return None


def decide_layout(lines: Sequence[bytes]) -> int | None:
    """A file's layout from its first ``HEAD_LINES`` lines: the one most of them show; None
    when none shows one or the two are level (each line then goes by its own cue)."""
    votes = {COMBINED: 0, VHOST: 0}
    for raw in lines[:HEAD_LINES]:
        m = _LINE_RE.match(raw)
        if m is None:
            continue
        cue = layout_cue(_TOKEN_RE.findall(m.group("prefix")))
        if cue is not None:
            votes[cue] += 1
    if votes[COMBINED] == votes[VHOST]:
        return None
    return COMBINED if votes[COMBINED] > votes[VHOST] else VHOST


def split_prefix(tokens: Sequence[bytes], layout: int | None) -> tuple[list[bytes], bytes] | None:
    """The host fields and the user of a line in ``layout`` (its own cue when None); None when
    the line does not fit it. Three fields read one way only, in any file. With more, the user
    is every field after ``%l``: a name may hold spaces, then ``%l`` must be ``-``."""
    if len(tokens) == COMBINED:
        width: int | None = COMBINED
    else:
        width = layout if layout is not None else layout_cue(tokens)
    if width is None or len(tokens) < width:
        return None
    if len(tokens) > width and (tokens[width - 2] != b"-" or tokens[width - 1] == b"-"):
        return None
    if width == VHOST and tokens[1] == b"-" and tokens[2] != b"-":
        return None  # ``client - john doe``: a combined line with a spaced user, not a vhost one
    return list(tokens[: width - 2]), b" ".join(tokens[width - 1 :])


@dataclass(frozen=True)
class ProxySource(Source):
    """Apache/nginx access logs of the extranet reverse proxy."""

    name = "proxy"
    category = "apps"
    description = "Reverse proxy Apache/nginx (combined, vhost_combined): applications métier"

    apps: tuple[AppMapping, ...] = ()
    default_host: str = ""
    """Host assumed when a line carries none (one access log per virtual host)."""
    monitoring_user_agents: tuple[str, ...] = ()
    """User-Agent beginnings of monitoring clients (case-insensitive): never a person."""
    monitoring_logins: frozenset[str] = frozenset()
    """Logins of monitoring accounts (compared without domain, case folded): never a person."""

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "monitoring_user_agents", tuple(a.lower() for a in self.monitoring_user_agents)
        )
        object.__setattr__(
            self, "monitoring_logins", frozenset(bare_login(x) for x in self.monitoring_logins)
        )

    def sniff(self, head: Sequence[bytes]) -> int:
        """Lines in the common/combined log format."""
        return share_score(head, lambda line: _LINE_RE.match(line) is not None, 80)

    def parser(self) -> LineParser:
        """A parser for one file; it decides the file's layout from its first lines."""
        return _ProxyParser(self)

    def prefix_state(self, data: Searchable, offset: int) -> object | None:
        """The layout of the file, decided from its first lines (a range starting mid-file
        reads its lines as the whole file's parser does)."""
        lines = _RECORD_SPLIT_RE.split(data[0:_HEAD_BYTES])
        layout = decide_layout([ln.rstrip(b"\r") for ln in lines[:-1]])
        return _Decided(layout)

    def parser_at(self, state: object | None) -> LineParser:
        """A parser for a range, with the file's layout already decided."""
        parser = _ProxyParser(self)
        if isinstance(state, _Decided):
            parser.layout, parser.decided = state.layout, True
        return parser

    def app_for(self, host: str, path: str) -> str | None:
        """The application a request belongs to, or None."""
        for app in self.apps:
            if app.matches(host, path):
                return app.name
        return None

    def monitoring(self, login: str, tail: bytes) -> Reason | None:
        """``probe`` for a configured monitoring user agent, ``not_a_person`` for a configured
        monitoring login, else None. ``tail`` is the line after the status (referrer, agent)."""
        if self.monitoring_logins and bare_login(login) in self.monitoring_logins:
            return Reason.NOT_A_PERSON
        if self.monitoring_user_agents:
            quoted = _QUOTED_RE.findall(tail)
            agent = decode_text(quoted[1]).lower() if len(quoted) > 1 else ""
            if agent and agent.startswith(self.monitoring_user_agents):
                return Reason.PROBE
        return None


@dataclass(frozen=True)
class _Decided:
    layout: int | None


class _ProxyParser(LineParser):
    def __init__(self, source: ProxySource) -> None:
        self.source = source
        self.layout: int | None = None
        self.decided = False

    def parse(self, chunk: Chunk) -> Parsed:
        out = RowBuilder()
        lines = split_lines(chunk.data)
        if not self.decided and lines:
            # Once per file, from its first lines; None leaves each line to its own cue.
            self.layout = decide_layout(lines)
            self.decided = True
        for i, raw in enumerate(lines):
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
        fields = split_prefix(_TOKEN_RE.findall(m.group("prefix")), self.layout)
        if fields is None:
            out.skip(line, Reason.AMBIGUOUS_LAYOUT, ts)
            return
        hosts, user = fields
        user_raw = decode_text(user).strip('"')
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
        app = self.source.app_for(self._host(hosts), path)
        if app is None:
            out.skip(line, Reason.UNMAPPED_APP, ts, login)
            return
        if reason is not None or login is None:
            out.skip(line, reason or Reason.NO_USER, ts, login)
            return
        monitoring = self.source.monitoring(login, raw[m.end() :])
        if monitoring is not None:
            out.skip(line, monitoring, ts, login)
            return
        status = m.group("status")
        if status[:1] not in (b"2", b"3"):
            out.skip(line, Reason.FAILED_STATUS, ts, login)
            return
        out.event(line, ts, login, "apps", True, app)

    def _host(self, hosts: list[bytes]) -> str:
        """The virtual host: of two leading fields, the one that is not an IP address."""
        if len(hosts) < 2:
            return self.source.default_host.lower()
        a, b = hosts
        if _IP_RE.match(a) and not _IP_RE.match(b):
            return host_of(b)
        return host_of(a)
