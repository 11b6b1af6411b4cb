"""Vectorised helpers for the sources parsed with Arrow (Exchange IIS).

High-volume columns repeat a small set of values (user names, URL stems, dates, statuses): a
:class:`Vocabulary` matches the rows of a column to the values met before with Arrow's hash
kernels and judges only the new ones in Python, so a value is looked at once per worker, not once
per block; :class:`Distinct` does the same within one block for small sets. ``HH:MM:SS`` times are
read straight from the Arrow buffers by numpy, digit runs are cast by Arrow after an ASCII check:
nothing is done row by row in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Generic, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

T = TypeVar("T")

_EPOCH_DAY = date(1970, 1, 1).toordinal()
_US_PER_DAY = 86_400_000_000
_MEMO_LIMIT = 1 << 16


class Distinct:
    """A column encoded once: its distinct values and, per row, the index of its value.

    Null rows get the index ``len(values)``: a table built by :meth:`table` has one extra slot at
    the end for them."""

    def __init__(self, column: pa.Array) -> None:
        n = len(column)
        if column.null_count == n:
            self.values: list[bytes] = []
            self.indices: np.ndarray = np.zeros(n, dtype=np.int32)
            return
        encoded = pc.dictionary_encode(column)
        self.values = encoded.dictionary.to_pylist()
        indices = encoded.indices
        if indices.null_count:
            indices = pc.fill_null(indices, len(self.values))
        self.indices = np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int32)

    def table(self, fn: Callable[[bytes], T], null: T) -> list[T]:
        """``fn`` of every distinct value, then ``null`` (the slot of the null rows)."""
        return [*map(fn, self.values), null]

    def numpy(self, fn: Callable[[bytes], T], null: T, dtype: type | np.dtype) -> np.ndarray:
        """``fn`` applied once per distinct value, spread over the rows as a numpy array."""
        table: np.ndarray = np.asarray(self.table(fn, null), dtype=dtype)
        spread: np.ndarray = table[self.indices]
        return spread


class Memo(Generic[T]):
    """A function of one field value whose results are kept across blocks (bounded)."""

    def __init__(self, fn: Callable[[bytes], T], limit: int = _MEMO_LIMIT) -> None:
        self.fn = fn
        self.limit = limit
        self.known: dict[bytes, T] = {}

    def __call__(self, value: bytes) -> T:
        """The result for ``value``, computed the first time it is seen."""
        try:
            return self.known[value]
        except KeyError:
            pass
        if len(self.known) >= self.limit:
            self.known.clear()
        result = self.known[value] = self.fn(value)
        return result


class Vocabulary:
    """The distinct values of a field met so far, each described once.

    Rows are matched to known values by Arrow's hash kernels; only values never met before reach
    Python (``describe``), and the tables grow by what is new. Slot 0 stands for null rows;
    ``trim`` starts again when the vocabulary has outgrown ``limit``. Not for sharing between
    threads."""

    def __init__(
        self,
        describe: Callable[[bytes], tuple[object, ...]],
        null: tuple[object, ...],
        limit: int = _MEMO_LIMIT,
    ) -> None:
        self.describe = describe
        self.null = null
        self.limit = limit
        self._reset()

    def _reset(self) -> None:
        self.size = 0
        self._set: pa.Array = pa.array([], pa.binary())
        self._rows: list[tuple[object, ...]] = [self.null]
        self._numpy: dict[int, np.ndarray] = {}
        self._arrow: dict[int, pa.Array] = {}

    def trim(self) -> None:
        """Start again when the vocabulary has outgrown its limit (between batches only: slots
        handed out before stay valid until the next ``trim``)."""
        if self.size > self.limit:
            self._reset()

    def lookup(self, column: pa.Array) -> np.ndarray:
        """Per row, the slot of its value (0 for a null row)."""
        found = pc.index_in(column, value_set=self._set)
        slots: np.ndarray = pc.fill_null(found, -1).to_numpy(zero_copy_only=False) + 1
        if found.null_count > column.null_count:
            rows = np.flatnonzero(numpy_bool(pc.and_(pc.is_null(found), pc.is_valid(column))))
            unseen = column.take(pa.array(rows))
            new = pc.unique(unseen)
            slots[rows] = pc.index_in(unseen, value_set=new).to_numpy() + 1 + self.size
            self._grow(new)
        return slots.astype(np.int32, copy=False)

    def _grow(self, new: pa.Array) -> None:
        rows = [self.describe(value) for value in new.to_pylist()]
        self.size += len(rows)
        self._set = pa.concat_arrays([self._set, new.cast(pa.binary())])
        self._rows += rows
        for field, table in self._numpy.items():
            part = np.asarray([row[field] for row in rows], table.dtype)
            self._numpy[field] = np.concatenate([table, part])
        for field, array in self._arrow.items():
            part_array = pa.array([row[field] for row in rows], array.type)
            self._arrow[field] = pa.concat_arrays([array, part_array])

    def numpy(self, field: int, dtype: type | np.dtype) -> np.ndarray:
        """One attribute of every slot, as a numpy table (index it with ``lookup``'s result)."""
        table = self._numpy.get(field)
        if table is None:
            table = self._numpy[field] = np.asarray([row[field] for row in self._rows], dtype)
        return table

    def arrow(self, field: int, out_type: pa.DataType) -> pa.Array:
        """One attribute of every slot, as an Arrow table (for ``take``)."""
        table = self._arrow.get(field)
        if table is None:
            table = self._arrow[field] = pa.array([row[field] for row in self._rows], out_type)
        return table


def day_us(raw: bytes) -> int | None:
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


def time_us(raw: bytes) -> int | None:
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


def _buffers(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A binary column's value offsets (n + 1) and data bytes, as numpy views (no copy)."""
    n = len(column)
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)[
        column.offset : column.offset + n + 1
    ]
    data_buffer = column.buffers()[2]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, np.uint8)
    )
    return offsets.astype(np.int64), data


def lengths(column: pa.Array) -> np.ndarray:
    """Byte length of every value of a binary column (0 for nulls)."""
    if column.null_count == len(column):
        return np.zeros(len(column), dtype=np.int64)
    offsets, _ = _buffers(column)
    return np.diff(offsets)


def _grid(column: pa.Array, width: int) -> np.ndarray | None:
    """The values of a binary column as an (n, width) byte grid when every one is exactly
    ``width`` bytes long (else None)."""
    n = len(column)
    if n == 0 or column.null_count or column.type != pa.binary():
        return None
    offsets, data = _buffers(column)
    if offsets[-1] - offsets[0] != width * n:
        return None
    return data[offsets[0] : offsets[-1]].reshape(n, width)


def _fixed_hms_us(times: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """Vectorised ``HH:MM:SS`` → µs since midnight when every value is exactly 8 bytes."""
    grid = _grid(times, 8)
    if grid is None:
        return None
    colons = (grid[:, 2] == 58) & (grid[:, 5] == 58)
    digits = grid[:, [0, 1, 3, 4, 6, 7]] - np.uint8(48)  # non-digits wrap above 9
    ok = colons & (digits.max(axis=1) <= 9)
    d = digits.astype(np.int32)
    h = d[:, 0] * 10 + d[:, 1]
    m = d[:, 2] * 10 + d[:, 3]
    s = d[:, 4] * 10 + d[:, 5]
    ok &= (h <= 23) & (m <= 59) & (s <= 59)
    return ((h * 60 + m) * 60 + s).astype(np.int64) * 1_000_000, ok


def utc_date_time(dates: pa.Array, times: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """UTC instants (µs since the epoch) and their validity from ``date`` and ``time`` columns."""
    day = Distinct(dates)
    days = day.numpy(lambda v: -1 if (us := day_us(v)) is None else us, -1, np.int64)
    fixed = _fixed_hms_us(times)
    if fixed is not None:
        secs, ok = fixed
    else:
        clock = Distinct(times)
        secs = clock.numpy(lambda v: -1 if (us := time_us(v)) is None else us, -1, np.int64)
        ok = secs >= 0
    ok &= days >= 0
    return days + secs, ok


def digits_to_int(column: pa.Array, max_digits: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """A binary column of plain non-negative integers (1 to ``max_digits`` ASCII digits) as int64,
    with a validity mask (false for anything else, and for nulls)."""
    n = len(column)
    if column.null_count == n:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    text = column.view(pa.string())  # ASCII kernels read bytes; nothing is decoded
    ok = pc.and_(pc.ascii_is_decimal(text), pc.less_equal(pc.binary_length(column), max_digits))
    valid = numpy_bool(ok)
    if not valid.all():
        text = pc.if_else(valid, text, "0")
    values = pc.cast(text, pa.int64()).to_numpy(zero_copy_only=False)
    return np.where(valid, values, 0).astype(np.int64), valid


def timestamps(us: np.ndarray, valid: np.ndarray | None, ts_type: pa.DataType) -> pa.Array:
    """µs since the epoch as an Arrow timestamp column, null where not ``valid``."""
    mask = None if valid is None or valid.all() else ~valid
    return pa.array(us, type=pa.int64(), mask=mask).cast(ts_type)


def numpy_bool(mask: pa.Array) -> np.ndarray:
    """A boolean mask (nulls false) as a numpy array."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)
