"""Time helpers of the sources: epochs, offsets, local zones across DST."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from loyaute.sources.timeparse import (
    epoch_to_us,
    from_us,
    in_zone,
    parse_date_time,
    parse_iso,
    parse_offset,
    to_us,
    with_offset,
)
from tests.conftest import utc

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("1772438400", 1772438400_000000),
        ("1772438400123", 1772438400_123000),
        ("1772438400123456", 1772438400_123456),
        ("1772438400123456789", 1772438400_123456),
        ("17724384", None),  # unknown precision
        ("0000000000", None),  # 1970: implausible for a log line
        ("9999999999999", None),  # year 2286
        ("17724384x0", None),
    ],
)
def test_epoch_precisions_and_bounds(digits: str, expected: int | None) -> None:
    assert epoch_to_us(digits) == expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("+0200", 7200),
        ("-0500", -18000),
        ("UTC-5:00", -18000),
        ("UTC+1", 3600),
        ("GMT+05:30", 19800),
        ("Z", 0),
        ("UTC", 0),
        ("+1500", None),
        ("+02:75", None),
        ("Paris", None),
    ],
)
def test_offsets(text: str, seconds: int | None) -> None:
    assert parse_offset(text) == seconds


def test_autumn_fold_takes_the_first_occurrence() -> None:
    first = in_zone(datetime(2026, 10, 25, 2, 30), PARIS)
    assert first is not None
    assert from_us(first) == utc(2026, 10, 25, 0, 30)


def test_spring_gap_does_not_exist() -> None:
    assert in_zone(datetime(2026, 3, 29, 2, 30), PARIS) is None
    assert in_zone(datetime(2026, 3, 29, 1, 59, 59), PARIS) == to_us(utc(2026, 3, 29, 0, 59, 59))
    assert in_zone(datetime(2026, 3, 29, 3, 0), PARIS) == to_us(utc(2026, 3, 29, 1, 0))


def test_date_time_forms() -> None:
    assert parse_date_time("2026-03-02", "09:00:00.25") == datetime(2026, 3, 2, 9, 0, 0, 250000)
    assert parse_date_time("2026/03/02", "09:00:00") == datetime(2026, 3, 2, 9)
    assert parse_date_time("2026-02-29", "09:00:00") is None
    assert parse_date_time("02/03/2026", "09:00:00") is None
    assert parse_date_time("2026-03-02", "9:00") is None


def test_iso() -> None:
    assert parse_iso("2023-01-06T02:20:32.841Z") == to_us(utc(2023, 1, 6, 2, 20, 32, 841000))
    assert parse_iso("2026-03-02T09:00:00+01:00") == to_us(utc(2026, 3, 2, 8))
    assert parse_iso("2026-03-02T09:00:00") is None  # naive without a zone: refused
    assert parse_iso("2026-03-02T09:00:00", PARIS) == to_us(utc(2026, 3, 2, 8))
    assert parse_iso("yesterday") is None


def test_round_trip() -> None:
    instant = utc(2026, 7, 14, 12, 30, 15, 123456)
    assert from_us(to_us(instant)) == instant
    assert with_offset(datetime(2026, 7, 14, 14, 30, 15, 123456), 7200) == to_us(instant)
