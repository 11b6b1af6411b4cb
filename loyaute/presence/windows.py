"""Half-day windows in the organisation's zone: the only time-zone arithmetic of loyaute.

Sources give UTC instants; here they become local wall-clock times, once, before the half-day
split. Windows are half-open local ranges, by default AM [07:00, 12:30) and PM [12:30, 20:00);
anything outside both is ignored (right to disconnect, rule C9). A span (a VPN session, a request
with its duration) is a trace in every window it overlaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # a worker process unpickling windows never loads the configuration
    from loyaute.config import HalfDays

US_PER_MINUTE = 60_000_000
US_PER_DAY = 86_400_000_000
EPOCH = date(1970, 1, 1)
HALF_NAMES = ("AM", "PM")


@dataclass(frozen=True)
class Windows:
    """The two half-day windows, in microseconds since local midnight."""

    am: tuple[int, int]
    pm: tuple[int, int]
    zone: ZoneInfo

    @classmethod
    def from_settings(cls, half_days: HalfDays, zone: ZoneInfo) -> Windows:
        """Windows of ``[half_days]`` in ``zone``."""
        from loyaute.config import window_minutes  # noqa: PLC0415 - see the import above

        a0, a1 = window_minutes(half_days.am)
        p0, p1 = window_minutes(half_days.pm)
        return cls(
            (a0 * US_PER_MINUTE, a1 * US_PER_MINUTE), (p0 * US_PER_MINUTE, p1 * US_PER_MINUTE), zone
        )

    def halves(self, start_tod: int, end_tod: int) -> list[int]:
        """Half indexes (0 = AM, 1 = PM) that the local span [start, end] of one day overlaps."""
        out = []
        for i, (w0, w1) in enumerate((self.am, self.pm)):
            if start_tod < w1 and end_tod >= w0:
                out.append(i)
        return out

    def local_midnight_utc_us(self, day: date) -> int:
        """The UTC instant (µs) at which ``day`` begins in the zone."""
        local = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        return int(local.timestamp()) * 1_000_000


def day_number(day: date) -> int:
    """Days since 1970-01-01 (Arrow's date32)."""
    return (day - EPOCH).days


def day_of(number: int) -> date:
    """The date of a day number."""
    return EPOCH + timedelta(days=number)
