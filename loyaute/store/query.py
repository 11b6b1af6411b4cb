"""DuckDB over the activity store: the only place queries meet Parquet.

Reports pass small Arrow tables (schedule rows, the directory) and get Arrow results back; the
records of the committed generation are visible as the view ``records``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
