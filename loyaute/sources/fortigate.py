"""FortiGate (FortiOS) event logs: FortiClient SSL-VPN and IPsec sessions (category ``vpn``).

Reads syslog ``key=value`` lines in every framing FORMATS.md lists (``<PRI>``, RFC 5424, an
rsyslog relay prefix, a BSD header, FortiAnalyzer-forwarded lines, CEF with ``FTNTFGT`` or
``FortinetFortiGate`` keys, with or without the ``CEF:0|…|`` header a relay may strip) and both
bodies FortiOS writes: space-separated (the default) and comma-separated (``set format csv``).

A firewall logs mostly traffic and UTM lines, so a chunk is first scanned at C speed for the log
ids of the event/vpn and event/endpoint families (``0101…``, ``0107…``); only those candidate
lines are tokenised in Python. Every other line is skipped as ``not_vpn_event`` without being
looked at further, which is what makes this source fast. A candidate is then classified on its
own fields (``type``, ``subtype``, ``action``, ``tunneltype``, ``logdesc``), the log id serving
only where a field is missing: a UTM line carrying a VPN log id is no session, and an IPsec
statistics line is one whatever its log id.

Sessions: a tunnel-up gives ``start``; a tunnel-down gives ``end`` and, from its ``duration``,
``start`` (so a session whose tunnel-up sits in yesterday's file still covers its whole span);
statistics lines prove the tunnel alive at that time and since ``duration`` seconds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from loyaute.sources.base import (
    SKIP_SCHEMA,
    TS_TYPE,
    Chunk,
    LineParser,
    Parsed,
    Reason,
    RowBuilder,
    Source,
    share_score,
)
from loyaute.sources.people import decode_text, login_reason
from loyaute.sources.timeparse import (
    epoch_to_us,
    in_zone,
    parse_date_time,
    parse_iso,
    parse_offset,
    with_offset,
)

# A log id of the event/vpn (0101…) or event/endpoint (0107…) family, quoted or not, in the plain
# (``logid``), legacy (``log_id``) and CEF (``FTNTFGTlogid``, ``FortinetFortiGatelogid``)
# spellings. FortiOS log ids are TTSSNNNNNN: type 01 = event, subtype 01 = vpn, 07 = endpoint.
CANDIDATE_RE = re.compile(rb'log_?id="?01(?:01|07)')

_KV_RE = re.compile(r'([A-Za-z_][\w.-]*)=("[^"\\]*(?:\\.[^"\\]*)*"?|[^\s"]*)')
# ``set format csv``: the same pairs separated by commas; a bare value runs to the next comma.
_KV_CSV_RE = re.compile(r'(?:^|(?<=[,\s>]))([A-Za-z_][\w.-]*)=("[^"\\]*(?:\\.[^"\\]*)*"?|[^,"]*)')
# The first pair of the body; the character after its value tells the two bodies apart.
_FIRST_KV_RE = re.compile(r'(?:^|(?<=[\s>]))[A-Za-z_][\w.-]*=(?:"[^"\\]*(?:\\.[^"\\]*)*"|[^\s",]*)')
_CEF_SPLIT_RE = re.compile(r"(?:^|(?<=\s))([A-Za-z_][\w.]*)=")
_CEF_PREFIX_RE = re.compile(r"^(?:FTNTFGT|FortinetFortiGate)", re.IGNORECASE)
_CEF_EXTENSION_RE = re.compile(r"(?:^|\s)(?:FTNTFGT|FortinetFortiGate)logid=", re.IGNORECASE)
_FRAMING_TIME_RE = re.compile(
    r"^\s*(?:<\d{1,3}>)?(?:\d\s)?\s*(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))"
)
_IP_RE = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]+)$")

_CEF_RENAMES = {"duser": "user", "act": "action", "outcome": "status"}
_KEYS = frozenset(
    {
        "logid",
        "log_id",
        "eventtime",
        "date",
        "time",
        "tz",
        "timestamp",
        "user",
        "xauthuser",
        "eapuser",
        "action",
        "duration",
        "type",
        "subtype",
        "cat",
        "tunneltype",
        "logdesc",
    }
)

ACTION_OF_LOGID: dict[str, str] = {
    "0101039947": "tunnel-up",  # SSL-VPN tunnel up (FortiClient tunnel mode)
    "0101039424": "tunnel-up",  # SSL-VPN web portal login
    "0101039948": "tunnel-down",
    "0101039425": "tunnel-down",
    "0101039949": "tunnel-stats",
    "0101037141": "tunnel-stats",  # IPsec tunnel statistics
    "0101039426": "ssl-login-fail",
    "0101039943": "ssl-new-con",
    "0107045057": "add",  # FortiClient endpoint connection added
    "0107045058": "close",
}
"""The action FORMATS.md's table gives a log id: used only when a line has no ``action``
(nor a ``logdesc`` that says it). 0101037138 (IPsec up/down) always carries its action."""

_LOGDESC_ACTIONS = (
    ("tunnel up", "tunnel-up"),
    ("tunnel down", "tunnel-down"),
    ("statistics", "tunnel-stats"),
    ("login fail", "ssl-login-fail"),
    ("connection added", "add"),
    ("connection closed", "close"),
)

_US = 1_000_000


def parse_kv(text: str, keys: frozenset[str] | None = None) -> dict[str, str]:
    """Tokenise a FortiOS ``key=value`` body (quoted, bare or escaped values); first key wins.

    Reads the space-separated body, the comma-separated one (``set format csv``) and CEF (with
    its header, or only its extension when a relay stripped the header). With ``keys``, only
    those keys are unquoted and returned (the hot path needs a few).
    """
    if "CEF:" in text or (
        ("FTNTFGT" in text or "FortinetFortiGate" in text) and _CEF_EXTENSION_RE.search(text)
    ):
        fields = _parse_cef(text)
        return fields if keys is None else {k: v for k, v in fields.items() if k in keys}
    first = _FIRST_KV_RE.search(text)
    csv = first is not None and text[first.end() : first.end() + 1] == ","
    # Reversed so that, for a repeated key, the first occurrence is the one kept.
    raw = dict(reversed((_KV_CSV_RE if csv else _KV_RE).findall(text)))
    if keys is not None:
        raw = {k: raw[k] for k in keys & raw.keys()}
    return {
        key: _unquote(value) if value[:1] == '"' else (value.strip() if csv else value)
        for key, value in raw.items()
    }


def _unquote(value: str) -> str:
    value = value[1:-1] if value.endswith('"') and len(value) > 1 else value[1:]
    if "\\" in value:
        value = value.replace('\\"', '"').replace("\\\\", "\\")
    return value


def _parse_cef(text: str) -> dict[str, str]:
    """CEF: header fields then an extension where values run until the next ``key=``.

    Without a ``CEF:`` header (stripped by a relay) the whole line is read as the extension:
    whatever framing precedes the first ``key=`` is no value of any key."""
    if "CEF:" in text:
        _, _, rest = text.partition("CEF:")
        parts = rest.split("|", 7)
        extension = parts[7] if len(parts) == 8 else ""
    else:
        extension = text
    fields: dict[str, str] = {}
    matches = list(_CEF_SPLIT_RE.finditer(extension))
    for i, m in enumerate(matches):
        # An escaped ``\=`` does not start a new key.
        if m.start() > 0 and extension[m.start() - 1] == "\\":
            continue
        end = matches[i + 1].start() if i + 1 < len(matches) else len(extension)
        value = extension[m.end() : end].strip()
        value = value.replace("\\=", "=").replace("\\\\", "\\").replace("\\/", "/")
        key = _CEF_PREFIX_RE.sub("", m.group(1))
        key = _CEF_RENAMES.get(key, key)
        fields.setdefault(key, value)
    return fields


@dataclass(frozen=True)
class FortiGateSource(Source):
    """FortiGate event logs read for FortiClient VPN sessions."""

    name = "fortigate"
    category = "vpn"
    description = "FortiGate (FortiOS) syslog / FortiAnalyzer / CEF: sessions VPN FortiClient"

    device_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Paris"))
    """Zone of the firewall's clock, used only for lines with neither ``eventtime`` nor ``tz``."""

    def sniff(self, head: Sequence[bytes]) -> int:
        """Recognise FortiOS lines by their ``logid``/``type`` keys, or a Fortinet CEF header."""
        if any(b"CEF:" in line and b"|Fortinet|Fort" in line for line in head):
            return 95
        return share_score(head, _looks_fortios, 90)

    def parser(self) -> LineParser:
        """A parser for one file (stateless: files can be split anywhere)."""
        return _FortiGateParser(self)

    def time_of(self, fields: dict[str, str], line: str) -> int | None:
        """The instant of a line: ``eventtime``, else date+time with ``tz``, else device zone."""
        eventtime = fields.get("eventtime")
        if eventtime:
            us = epoch_to_us(eventtime)
            if us is not None:
                return us
        date, time = fields.get("date"), fields.get("time")
        if date and time:
            naive = parse_date_time(date, time)
            if naive is None:
                return None
            tz = fields.get("tz")
            if tz:
                offset = parse_offset(tz)
                if offset is not None:
                    return with_offset(naive, offset)
            return in_zone(naive, self.device_zone)
        stamp = fields.get("timestamp")
        if stamp:
            us = epoch_to_us(stamp)
            if us is not None:
                return us
        m = _FRAMING_TIME_RE.match(line)
        if m:
            return parse_iso(m.group(1))
        return None


def _looks_fortios(line: bytes) -> bool:
    return (
        (b"logid=" in line or b"log_id=" in line)
        and b"type=" in line
        and any(k in line for k in (b"date=", b"eventtime=", b"devname=", b"devid=", b"device_id="))
    )


@dataclass(frozen=True)
class Kind:
    """What a line says of a session, read from its own fields (see ``classify``)."""

    family: str | None
    """``vpn``, ``endpoint``, or None for any other line (traffic, UTM, system…)."""
    ipsec: bool
    """An IPsec tunnel (the person is ``xauthuser``/``eapuser``), not an SSL-VPN one."""
    session: str | None
    """``up``, ``down``, ``alive``, ``endpoint_add`` or ``endpoint_close``; None when the line
    is no session event (then ``reason`` says why)."""
    reason: Reason | None


_SESSIONS = {"tunnel-up": "up", "tunnel-down": "down", "tunnel-stats": "alive"}
_ENDPOINT_SESSIONS = {"add": "endpoint_add", "close": "endpoint_close"}


def classify(logid: str, fields: dict[str, str]) -> Kind:
    """Classify a line on its own ``type``/``subtype`` (or CEF ``cat``), ``action``,
    ``tunneltype`` and ``logdesc``; the log id fills in only what the line does not say."""
    family = _family(logid, fields)
    logdesc = fields.get("logdesc", "").lower()
    tunneltype = fields.get("tunneltype", "").lower()
    if tunneltype:
        ipsec = tunneltype.startswith("ipsec")
    else:
        ipsec = logid.startswith("0101037") or "ipsec" in logdesc
    if family is None:
        return Kind(None, False, None, Reason.NOT_VPN_EVENT)
    action = fields.get("action", "").lower()
    if not action:
        action = next((a for text, a in _LOGDESC_ACTIONS if text in logdesc), "")
    if not action:
        action = ACTION_OF_LOGID.get(logid, "")
    if family == "endpoint":
        session = _ENDPOINT_SESSIONS.get(action)
        return Kind(family, False, session, None if session else Reason.NOT_VPN_EVENT)
    session = _SESSIONS.get(action)
    if session is not None:
        return Kind(family, ipsec, session, None)
    reason = Reason.VPN_FAILURE if "fail" in action else Reason.VPN_NEGOTIATION
    return Kind(family, ipsec, None, reason)


def _family(logid: str, fields: dict[str, str]) -> str | None:
    """``vpn`` or ``endpoint`` from the line's type and subtype; the log id's family digits
    only when the line has neither."""
    kind = fields.get("type", "").lower()
    subtype = fields.get("subtype", "").lower()
    cat = fields.get("cat", "").lower()
    if ":" in cat:  # CEF: cat=event:vpn
        cat_type, _, cat_subtype = cat.partition(":")
        kind = kind or cat_type.strip()
        subtype = subtype or cat_subtype.strip()
    if kind and kind != "event":
        return None
    if subtype:
        return subtype if subtype in ("vpn", "endpoint") else None
    if logid.startswith("0101"):
        return "vpn"
    if logid.startswith("0107"):
        return "endpoint"
    return None


def person_of(fields: dict[str, str], ipsec: bool) -> str | None:
    """The field naming the person: SSL-VPN ``user``; IPsec ``xauthuser``/``eapuser``/``user``."""
    if ipsec:
        for key in ("xauthuser", "eapuser"):
            value = fields.get(key)
            if value and login_reason(value) is None:
                return value
        user = fields.get("user")
        # IKEv2 dial-up puts the peer IP in ``user``; a number or an IP is never a person.
        if user and login_reason(user) is None and not _IP_RE.match(user) and not user.isdigit():
            return user
        return None
    return fields.get("user")


class _FortiGateParser(LineParser):
    def __init__(self, source: FortiGateSource) -> None:
        self.source = source

    def parse(self, chunk: Chunk) -> Parsed:
        data = bytes(chunk.data)
        if not data:
            return Parsed()
        builder = RowBuilder()
        # Newline positions in one vectorised pass; each candidate's line is found from them.
        newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
        n_lines = len(newlines) + (0 if data.endswith(b"\n") else 1)
        hits = np.fromiter((m.start() for m in CANDIDATE_RE.finditer(data)), dtype=np.int64)
        candidate_index = np.unique(np.searchsorted(newlines, hits)).tolist()
        n_newlines = len(newlines)
        for line_no in candidate_index:
            start = int(newlines[line_no - 1]) + 1 if line_no else 0
            end = int(newlines[line_no]) if line_no < n_newlines else len(data)
            raw = data[start:end]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            self._line(builder, chunk.first_line + line_no, decode_text(raw))
        parsed = builder.build()
        bulk = n_lines - len(candidate_index)
        if bulk:
            mask = np.ones(n_lines, dtype=bool)
            mask[candidate_index] = False
            lines = np.arange(chunk.first_line, chunk.first_line + n_lines, dtype=np.int64)[mask]
            reasons = pa.array([Reason.NOT_VPN_EVENT.value]).take(
                pa.array(np.zeros(bulk, dtype=np.int32))
            )
            bulk_batch = pa.RecordBatch.from_arrays(
                [pa.array(lines), reasons, pa.nulls(bulk, TS_TYPE), pa.nulls(bulk, pa.string())],
                schema=SKIP_SCHEMA,
            )
            parsed = Parsed.concat([parsed, Parsed(skipped=bulk_batch)])
        return parsed

    def _line(self, out: RowBuilder, line: int, text: str) -> None:
        fields = parse_kv(text, _KEYS)
        logid = fields.get("logid") or fields.get("log_id") or ""
        ts = self.source.time_of(fields, text)
        kind = classify(logid, fields)
        person = person_of(fields, kind.ipsec)
        if kind.session is None:
            out.skip(line, kind.reason or Reason.NOT_VPN_EVENT, ts, person)
            return
        if ts is None:
            out.skip(line, Reason.BAD_TIME, None, person)
            return
        if person is None:
            out.skip(line, Reason.SITE_TO_SITE if kind.ipsec else Reason.NO_USER, ts, None)
            return
        not_person = login_reason(person)
        if not_person is not None:
            out.skip(line, not_person, ts, person)
            return
        duration = _duration_us(fields.get("duration"))
        start: int | None
        end: int | None
        if kind.session in ("up", "endpoint_add"):
            start, end = ts, None
        elif kind.session == "endpoint_close":
            start, end = None, ts
        else:  # down, alive: the session ran for ``duration`` up to now
            start, end = (ts - duration if duration is not None else None), ts
        out.event(line, ts, person, "vpn", True, None, start, end)


def _duration_us(value: str | None) -> int | None:
    if not value or not value.isdigit():
        return None
    seconds = int(value)
    # A session longer than a year is a corrupt value, not a session.
    return seconds * _US if seconds <= 366 * 86400 else None
