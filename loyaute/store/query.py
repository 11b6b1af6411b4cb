"""DuckDB over the activity store: the only place queries meet Parquet.

Reports pass small Arrow tables (schedule rows, the directory) and get Arrow results back; the
records of the committed generation are visible as the view ``records``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa

from loyaute.store.records import RECORD_SCHEMA, ActivityStore


def run(
    store: ActivityStore,
    sql: str,
    tables: Mapping[str, pa.Table] | None = None,
    params: Sequence[Any] = (),
) -> pa.Table:
    """Run ``sql`` with ``records`` (the committed records) and the given tables registered."""
    with duckdb.connect() as con:
        glob = store.glob("records")
        if glob is None:
            con.register("records_empty", RECORD_SCHEMA.empty_table())
            con.execute("CREATE VIEW records AS SELECT * FROM records_empty")
        else:
            con.execute(
                "CREATE VIEW records AS SELECT * FROM read_parquet("
                + _quote(glob)
                + ", hive_partitioning = false)"
            )
        for name, table in (tables or {}).items():
            con.register(name, table)
        return con.sql(sql, params=list(params) or None).to_arrow_table()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_CACHE_SIZE = 4096
_cache: OrderedDict[tuple[str, str, str], dict[tuple[str, str], tuple[str, str]]] = OrderedDict()
_cache_lock = threading.Lock()


def rows_of(
    store: ActivityStore, table: str, pseudonym: str
) -> dict[tuple[str, str], tuple[str, str]]:
    """(ISO day, half) → (scope, ``;``-joined categories) of one pseudonym in ``table``.

    Cached per committed generation: a generation never changes once written, so a cached
    answer is exact until the next commit switches to a new one."""
    generation = store.generation()
    if generation is None or store.glob(table) is None:
        return {}
    info = generation.stat()
    key = (f"{generation}:{info.st_ino}:{info.st_mtime_ns}", table, pseudonym)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    glob = store.glob(table)
    assert glob is not None
    with duckdb.connect() as con:
        result = con.sql(
            "SELECT day, half, scope, vpn, mail, apps FROM read_parquet("
            + _quote(glob)
            + ", hive_partitioning = false) WHERE agent = ?",
            params=[pseudonym],
        ).to_arrow_table()
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for row in result.to_pylist():
        cats = ";".join(c for c in ("vpn", "mail", "apps") if row[c])
        out[(row["day"].isoformat(), row["half"])] = (row["scope"], cats)
    with _cache_lock:
        _cache[key] = out
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return out


def last_day(store: ActivityStore, table: str = "records") -> date | None:
    """The latest day with a stored row in ``table``."""
    days = store.partitions(table)
    return max(days) if days else None


def join_flags(store: ActivityStore, table: str, wanted: pa.Table, scope: str) -> pa.Table:
    """For each (agent_id, pseudonym, day, half) of ``wanted``: whether ``table`` holds a row
    of that scope (``trace``) and whether it has a mail or application flag (``mail_or_apps``)."""
    with duckdb.connect() as con:
        glob = store.glob(table)
        if glob is None:
            con.register("stored_empty", RECORD_SCHEMA.empty_table())
            con.execute("CREATE VIEW stored AS SELECT * FROM stored_empty")
        else:
            con.execute(
                "CREATE VIEW stored AS SELECT * FROM read_parquet("
                + _quote(glob)
                + ", hive_partitioning = false)"
            )
        con.register("wanted", wanted)
        return con.sql(
            "SELECT w.agent_id, w.day, w.half, r.agent IS NOT NULL AS trace, "
            "coalesce(r.mail OR r.apps, false) AS mail_or_apps "
            "FROM wanted w LEFT JOIN stored r ON r.agent = w.pseudonym AND r.day = w.day "
            "AND r.half = w.half AND r.scope = ? ORDER BY w.day, w.half, w.agent_id",
            params=[scope],
        ).to_arrow_table()
