"""Reduction: events → distinct (login, local day, half-day, category) keys.

This is the map side's last step. What leaves it is already minimal: no time finer than the
half-day (rule B3), no count, no duration, no first or last connection (B2) — only which windows
a login left at least one trace in. OR-ing keys is idempotent, so reading a file twice, or an
overlapping rotated copy, changes nothing.

Only interactive traces count, and VPN sessions; background mail traffic counts only when
``sources.exchange.count_background`` says so (documented as weaker evidence).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loyaute.presence.windows import US_PER_DAY, Windows

KEY_SCHEMA = pa.schema(
    [
        pa.field("login", pa.string(), nullable=False),
        pa.field("day", pa.date32(), nullable=False),
        pa.field("half", pa.int8(), nullable=False),
        pa.field("category", pa.string(), nullable=False),
    ]
)
"""A reduced key: ``half`` is 0 for the morning window, 1 for the afternoon."""

ROW_KEY_SCHEMA = KEY_SCHEMA.append(pa.field("row", pa.int64(), nullable=False))
"""A key with the index of the event row that gave it (``key_rows``)."""

MAX_SPAN_DAYS = 366


def empty_keys() -> pa.Table:
    """A key table with no rows."""
    return KEY_SCHEMA.empty_table()


def _local_us(utc_us: np.ndarray, windows: Windows) -> np.ndarray:
    """UTC instants (µs) → local wall-clock microseconds since the epoch (DST-aware)."""
    zoned = pa.array(utc_us, pa.int64()).cast(pa.timestamp("us", tz=windows.zone.key))
    local = pc.local_timestamp(zoned)
    return np.asarray(local.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _us(column: pa.ChunkedArray | pa.Array, fallback: np.ndarray) -> np.ndarray:
    """A timestamp column as int64 µs, its nulls replaced by ``fallback``."""
    values = pc.fill_null(column.cast(pa.int64()), -1).to_numpy(zero_copy_only=False)
    values = np.asarray(values, dtype=np.int64)
    nulls = np.asarray(pc.is_null(column).to_numpy(zero_copy_only=False), dtype=bool)
    return np.where(nulls, fallback, values)


def reduce_events(
    events: pa.RecordBatch | pa.Table, windows: Windows, count_background: bool = False
) -> pa.Table:
    """The distinct keys of the windows these events overlap."""
    return distinct([key_rows(events, windows, count_background)])


def key_rows(
    events: pa.RecordBatch | pa.Table, windows: Windows, count_background: bool = False
) -> pa.Table:
    """Every key each event gives, with the event's row (``ROW_KEY_SCHEMA``), not deduplicated:
    the collector acknowledges a RELP message once the keys of its own lines are committed."""
    if events.num_rows == 0:
        return ROW_KEY_SCHEMA.empty_table()
    category = events.column("category")
    keep = pc.or_(events.column("interactive"), pc.equal(category, "vpn"))
    if count_background:
        keep = pc.or_(keep, pc.equal(category, "mail"))
    ev = events.filter(keep)
    if ev.num_rows == 0:
        return ROW_KEY_SCHEMA.empty_table()
    mask = keep.combine_chunks() if isinstance(keep, pa.ChunkedArray) else keep
    kept_rows = np.flatnonzero(np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool))
    ts = np.asarray(ev.column("ts").cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    start = _us(ev.column("start"), ts)
    end = _us(ev.column("end"), ts)
    s_local = _local_us(np.minimum(start, end), windows)
    e_local = _local_us(np.maximum(start, end), windows)
    s_day = s_local // US_PER_DAY
    e_day = e_local // US_PER_DAY
    s_tod = s_local - s_day * US_PER_DAY
    e_tod = e_local - e_day * US_PER_DAY
    same = s_day == e_day
    logins = ev.column("login")
    categories = ev.column("category")
    parts: list[pa.Table] = []
    for half, (w0, w1) in enumerate((windows.am, windows.pm)):
        idx = np.flatnonzero(same & (s_tod < w1) & (e_tod >= w0))
        if len(idx):
            parts.append(_keys(logins, categories, idx, s_day[idx], half, kept_rows))
    multi = np.flatnonzero(~same)
    if len(multi):
        parts.append(
            _multi_day(logins, categories, multi, s_day, e_day, s_tod, e_tod, windows, kept_rows)
        )
    if not parts:
        return ROW_KEY_SCHEMA.empty_table()
    return pa.concat_tables(parts)


def _keys(
    logins: pa.Array,
    categories: pa.Array,
    idx: np.ndarray,
    days: np.ndarray,
    half: int,
    kept_rows: np.ndarray,
) -> pa.Table:
    take = pa.array(idx)
    return pa.Table.from_arrays(
        [
            logins.take(take),
            pa.array(days.astype(np.int32), pa.int32()).cast(pa.date32()),
            pa.array(np.full(len(idx), half, dtype=np.int8)),
            categories.take(take),
            pa.array(kept_rows[idx].astype(np.int64), pa.int64()),
        ],
        schema=ROW_KEY_SCHEMA,
    )


def _multi_day(
    logins: pa.Array,
    categories: pa.Array,
    rows: np.ndarray,
    s_day: np.ndarray,
    e_day: np.ndarray,
    s_tod: np.ndarray,
    e_tod: np.ndarray,
    windows: Windows,
    kept_rows: np.ndarray,
) -> pa.Table:
    """Spans crossing midnight: every window of every day they cover."""
    out_rows: list[int] = []
    out_days: list[int] = []
    out_halves: list[int] = []
    for i in rows.tolist():
        first, last = int(s_day[i]), int(e_day[i])
        last = min(last, first + MAX_SPAN_DAYS)
        for day in range(first, last + 1):
            lo = int(s_tod[i]) if day == first else 0
            hi = int(e_tod[i]) if day == int(e_day[i]) else US_PER_DAY - 1
            for half in windows.halves(lo, hi):
                out_rows.append(i)
                out_days.append(day)
                out_halves.append(half)
    take = pa.array(out_rows, pa.int64())
    return pa.Table.from_arrays(
        [
            logins.take(take),
            pa.array(out_days, pa.int32()).cast(pa.date32()),
            pa.array(out_halves, pa.int8()),
            categories.take(take),
            pa.array(kept_rows[np.asarray(out_rows, dtype=np.int64)], pa.int64()),
        ],
        schema=ROW_KEY_SCHEMA,
    )


def distinct(parts: list[pa.Table]) -> pa.Table:
    """The union of key tables without duplicates (the OR-reduce)."""
    parts = [p for p in parts if p.num_rows]
    if not parts:
        return empty_keys()
    table = pa.concat_tables(parts)
    grouped = table.group_by(["login", "day", "half", "category"], use_threads=False).aggregate([])
    return grouped.select(KEY_SCHEMA.names).cast(KEY_SCHEMA)
