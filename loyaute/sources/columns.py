"""Vectorised helpers shared by the sources parsed with Arrow (Exchange IIS).

High-volume columns repeat a small set of values (dates, times, status codes, user names, URL
stems), so most checks run once per distinct value in Python and are then spread over the rows
with ``take``; the per-row work stays in Arrow's C++ kernels.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

T = TypeVar("T")

_EPOCH_DAY = date(1970, 1, 1).toordinal()
_US_PER_DAY = 86_400_000_000


class Distinct:
    """A column encoded once, so several per-value functions can be mapped over it cheaply."""

    def __init__(self, column: pa.Array) -> None:
        encoded = pc.dictionary_encode(column)
        self.values: list[bytes] = encoded.dictionary.to_pylist()
        self.indices: pa.Array = encoded.indices

    def map(self, fn: Callable[[bytes], T], out_type: pa.DataType) -> pa.Array:
        """Apply ``fn`` once per distinct non-null value; null rows stay null."""
        mapped = pa.array([fn(v) for v in self.values], type=out_type)
        return mapped.take(self.indices)


def per_distinct(column: pa.Array, fn: Callable[[bytes], T], out_type: pa.DataType) -> pa.Array:
    """Apply ``fn`` once per distinct non-null value of a column and spread the results.

    Null rows stay null: ``fn`` never sees them.
    """
    if len(column) == 0:
        return pa.array([], type=out_type)
    return Distinct(column).map(fn, out_type)


def _day_us(raw: bytes) -> int | None:
    """``YYYY-MM-DD`` as microseconds since the epoch at midnight UTC."""
    if len(raw) != 10 or raw[4:5] != b"-" or raw[7:8] != b"-":
        return None
    try:
        d = date(int(raw[0:4]), int(raw[5:7]), int(raw[8:10]))
    except ValueError:
        return None
    if not 2000 <= d.year < 2100:
        return None
    return (d.toordinal() - _EPOCH_DAY) * _US_PER_DAY


def _time_us(raw: bytes) -> int | None:
    """``HH:MM:SS[.fff]`` as microseconds since midnight."""
    if len(raw) < 8 or raw[2:3] != b":" or raw[5:6] != b":":
        return None
    head, _, frac = raw.partition(b".")
    if len(head) != 8 or (frac and not frac.isdigit()):
        return None
    try:
        h, m, s = int(head[0:2]), int(head[3:5]), int(head[6:8])
    except ValueError:
        return None
    if h > 23 or m > 59 or s > 59:
        return None
    us = int((frac.decode() + "000000")[:6]) if frac else 0
    return ((h * 60 + m) * 60 + s) * 1_000_000 + us


def _fixed_hms_us(times: pa.Array) -> pa.Array | None:
    """Vectorised ``HH:MM:SS`` → µs since midnight when every value is exactly 8 bytes."""
    n = len(times)
    if n == 0 or times.null_count or times.type != pa.binary():
        return None
    offsets = np.frombuffer(times.buffers()[1], dtype=np.int32)[times.offset : times.offset + n + 1]
    if offsets[-1] - offsets[0] != 8 * n:
        return None
    grid = np.frombuffer(times.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    grid = grid.reshape(n, 8)
    colons = (grid[:, 2] == 58) & (grid[:, 5] == 58)
    digits = grid[:, [0, 1, 3, 4, 6, 7]] - np.uint8(48)  # non-digits wrap above 9
    ok = colons & (digits.max(axis=1) <= 9)
    d = digits.astype(np.int32)
    h = d[:, 0] * 10 + d[:, 1]
    m = d[:, 2] * 10 + d[:, 3]
    s = d[:, 4] * 10 + d[:, 5]
    ok &= (h <= 23) & (m <= 59) & (s <= 59)
    us = ((h * 60 + m) * 60 + s).astype(np.int64) * 1_000_000
    return pa.array(us, mask=~ok, type=pa.int64())


def utc_date_time(dates: pa.Array, times: pa.Array) -> pa.Array:
    """UTC instants (int64 µs, null when invalid) from ``date`` and ``time`` binary columns."""
    days = per_distinct(dates, _day_us, pa.int64())
    secs = _fixed_hms_us(times)
    if secs is None:
        secs = per_distinct(times, _time_us, pa.int64())
    return pc.add(days, secs)


def to_int(column: pa.Array) -> pa.Array:
    """Digits to int64 (null when not a plain non-negative integer)."""
    valid = pc.match_substring_regex(column, r"^\d{1,12}$")
    cleaned = pc.if_else(valid, column, pa.scalar(None, type=column.type))
    return pc.cast(pc.cast(cleaned, pa.string()), pa.int64())


def mask_true(mask: pa.Array) -> pa.Array:
    """A boolean mask with nulls read as false."""
    return pc.fill_null(mask, False)


def numpy_bool(mask: pa.Array) -> np.ndarray:
    """A boolean mask (nulls false) as a numpy array."""
    return np.asarray(mask_true(mask).to_numpy(zero_copy_only=False), dtype=bool)
