"""Turning the times logs write into aware UTC instants (microseconds since the epoch).

Sources produce UTC; only the presence layer converts to the organisation's zone. A naive local
time is converted with the zone the deployer gives for that device, never taken for UTC. On the
autumn DST change the hour 02:00–03:00 happens twice: a naive time in it is read as its first
occurrence (``fold=0``), the documented convention. On the spring change the skipped hour does not
exist: such a time is refused (reason ``bad_time``) rather than guessed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = 1_000_000

# Plausible instants for a log line: from 2000 to 2100. Anything else is a corrupt value.
MIN_US = int((datetime(2000, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds()) * _US
MAX_US = int((datetime(2100, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds()) * _US

_OFFSET_RE = re.compile(
    r"^(?:UTC|GMT)?\s*(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?$", re.IGNORECASE
)


def epoch_to_us(digits: str) -> int | None:
    """Read an epoch written in seconds (10 digits), ms (13), µs (16) or ns (19)."""
    if not digits.isdigit():
        return None
    n = len(digits)
    value = int(digits)
    if n == 10:
        us = value * _US
    elif n == 13:
        us = value * 1000
    elif n == 16:
        us = value
    elif n == 19:
        us = value // 1000
    else:
        return None
    return us if MIN_US <= us < MAX_US else None


def parse_offset(text: str) -> int | None:
    """Read a UTC offset (``+0200``, ``-05:00``, ``UTC-5:00``, ``Z``, ``UTC``) in seconds."""
    t = text.strip()
    if t.upper() in {"Z", "UTC", "GMT", "+0000", "-0000"}:
        return 0
    m = _OFFSET_RE.match(t)
    if not m:
        return None
    hours = int(m.group("h"))
    minutes = int(m.group("m") or 0)
    if hours > 14 or minutes > 59:
        return None
    seconds = hours * 3600 + minutes * 60
    return -seconds if m.group("sign") == "-" else seconds


def to_us(dt: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * _US + delta.microseconds


def from_us(us: int) -> datetime:
    """The aware UTC datetime of a microsecond timestamp."""
    return _EPOCH + timedelta(microseconds=us)


def with_offset(naive: datetime, offset_seconds: int) -> int | None:
    """A naive wall-clock time at a fixed UTC offset, as UTC microseconds."""
    aware = naive.replace(tzinfo=timezone(timedelta(seconds=offset_seconds)))
    us = to_us(aware)
    return us if MIN_US <= us < MAX_US else None


def in_zone(naive: datetime, zone: ZoneInfo) -> int | None:
    """A naive wall-clock time in ``zone`` as UTC microseconds; None if the zone skipped it."""
    first = naive.replace(tzinfo=zone, fold=0)
    # A time in the spring gap does not survive the round trip through UTC.
    back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive:
        return None
    us = to_us(first)
    return us if MIN_US <= us < MAX_US else None


def parse_date_time(date: str, time: str) -> datetime | None:
    """Read ``YYYY-MM-DD`` (or ``YYYY/MM/DD``) and ``HH:MM:SS[.ffffff]`` as a naive datetime."""
    d = date.strip().replace("/", "-")
    t = time.strip()
    if len(d) != 10 or d[4] != "-" or d[7] != "-":
        return None
    frac = 0
    if "." in t:
        t, _, f = t.partition(".")
        if not f.isdigit():
            return None
        frac = int((f + "000000")[:6])
    parts = t.split(":")
    if len(parts) != 3 or not all(len(p) == 2 and p.isdigit() for p in parts):
        return None
    if not (d[0:4] + d[5:7] + d[8:10]).isdigit():
        return None
    try:
        return datetime(
            int(d[0:4]),
            int(d[5:7]),
            int(d[8:10]),
            int(parts[0]),
            int(parts[1]),
            int(parts[2]),
            frac,
        )
    except ValueError:
        return None


def parse_iso(text: str, default_zone: ZoneInfo | None = None) -> int | None:
    """Read an ISO 8601 instant; a naive one is read in ``default_zone`` (refused without one)."""
    t = text.strip()
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        return None
    if dt.tzinfo is None:
        if default_zone is None:
            return None
        return in_zone(dt, default_zone)
    us = to_us(dt)
    return us if MIN_US <= us < MAX_US else None
