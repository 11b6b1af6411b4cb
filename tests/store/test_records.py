"""The activity store: day partitions in generations, all-or-nothing commits, the B2 whitelist.

Rules under test (LEGAL.md):

* B2 — only the columns of RECORD_SCHEMA are ever written: a table with any other column (an IP
  address, a login, a URL, a first connection time, a count…) or a missing one is refused before
  anything reaches the disk;
* B3 — the finest unit kept is the half-day boolean: (agent, day, half, scope) and one flag per
  category;
* F2 — retention drops whole day partitions, so dropping a day must be clean;
* crash safety — a commit is all or nothing: a full disk, a failed rename or a killed process
  leaves the previous generation intact and readable, never a mix of old and new days.
"""

from __future__ import annotations

import errno
import glob
import json
import os
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyaute.i18n import lang, set_lang
from loyaute.store.records import (
    RECORD_SCHEMA,
    ActivityStore,
    FileOps,
    SchemaViolation,
    StoreError,
    check_schema,
    merge_flags,
)
from tests.conftest import ROOT

D1, D2, D3, D4, D5 = (date(2026, 3, d) for d in (2, 3, 4, 5, 6))

Row = dict[str, Any]
Content = dict[str, dict[date, list[tuple[Any, ...]]]]


# --- helpers -------------------------------------------------------------------------------------


def row(
    agent: str,
    day: date,
    half: str = "AM",
    scope: str = "telework",
    vpn: bool = False,
    mail: bool = False,
    apps: bool = False,
) -> Row:
    return {
        "agent": agent,
        "day": day,
        "half": half,
        "scope": scope,
        "vpn": vpn,
        "mail": mail,
        "apps": apps,
    }


def table(rows: list[Row]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=RECORD_SCHEMA)


def as_tuples(t: pa.Table) -> list[tuple[Any, ...]]:
    return [tuple(r[n] for n in RECORD_SCHEMA.names) for r in t.to_pylist()]


def content(store: ActivityStore) -> Content:
    """What a reader sees: per table, per day, the sorted rows of that day."""
    out: Content = {}
    for name in ("records", "pending"):
        days: dict[date, list[tuple[Any, ...]]] = {}
        for r in as_tuples(store.read(name)):
            days.setdefault(r[1], []).append(r)
        out[name] = {d: sorted(rs) for d, rs in sorted(days.items())}
    return out


def expected(
    spec: Mapping[str, Mapping[date, list[Row] | None]], base: Content | None = None
) -> Content:
    """The content after applying ``spec`` (whole-day replacement, None drops) to ``base``."""
    out: Content = {name: dict((base or {}).get(name, {})) for name in ("records", "pending")}
    for name, days in spec.items():
        for day, rows in days.items():
            if rows:
                out[name][day] = sorted(as_tuples(table(rows)))
            else:
                out[name].pop(day, None)
    return {name: dict(sorted(days.items())) for name, days in out.items()}


def changes(
    spec: Mapping[str, Mapping[date, list[Row] | None]],
) -> dict[str, dict[date, pa.Table | None]]:
    return {
        name: {day: (None if rows is None else table(rows)) for day, rows in days.items()}
        for name, days in spec.items()
    }


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a folder)."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


def assert_consistent(root: Path) -> None:
    """CURRENT names an existing generation; besides it, at most its predecessor is kept (for a
    reader that opened it just before the switch); no staging folder left."""
    current = (root / "CURRENT").read_text(encoding="ascii").strip()
    assert (root / f"gen-{current}").is_dir()
    found = sorted(p.name for p in root.iterdir() if p.name.startswith(("gen-", ".staging-")))
    previous = f"gen-{int(current) - 1:06d}"
    assert found in ([f"gen-{current}"], [previous, f"gen-{current}"]), found
    assert not (root / "CURRENT.tmp").exists()


OLD: dict[str, dict[date, list[Row] | None]] = {
    "records": {
        D1: [row("a", D1, "AM", vpn=True), row("b", D1, "PM", mail=True)],
        D2: [row("a", D2, "AM", apps=True)],
        D3: [row("c", D3, "PM", vpn=True), row("c", D3, "PM", scope="on_site", vpn=True)],
    },
    "pending": {D1: [row("x", D1, "AM", vpn=True)]},
}

CHANGE: dict[str, dict[date, list[Row] | None]] = {
    "records": {
        D1: [
            row("a", D1, "AM", vpn=True, mail=True),
            row("b", D1, "PM", mail=True),
            row("e", D1, "AM", apps=True),
        ],
        D3: None,
        D4: [row("a", D4, "PM", vpn=True)],
    },
    "pending": {D1: None, D2: [row("y", D2, "PM", mail=True)]},
}
"""Changes D1 and drops D3 of records, adds D4, keeps D2 (linked); moves pending D1 → D2.
Three partitions are written (records D1, D4; pending D2) and one is linked (records D2)."""

OLD_CONTENT = expected(OLD)
NEW_CONTENT = expected(CHANGE, OLD_CONTENT)


@pytest.fixture
def store(tmp_path: Path) -> ActivityStore:
    """A store holding OLD, committed."""
    s = ActivityStore(tmp_path / "activity")
    s.commit(changes(OLD))
    assert content(s) == OLD_CONTENT
    return s


@pytest.fixture
def english() -> Iterator[None]:
    before = lang()
    set_lang("en")
    yield
    set_lang(before)


def test_fixtures_differ() -> None:
    """Self-check: the change really changes the content (else the crash tests prove nothing)."""
    assert OLD_CONTENT != NEW_CONTENT
    assert set(OLD_CONTENT["records"]) == {D1, D2, D3}
    assert set(NEW_CONTENT["records"]) == {D1, D2, D4}
    assert NEW_CONTENT["records"][D2] == OLD_CONTENT["records"][D2]


# --- reading and writing -------------------------------------------------------------------------


def test_empty_store_reads_empty(tmp_path: Path) -> None:
    """A store never written has no generation, no partition and reads as empty tables of the
    record schema; reading creates nothing."""
    s = ActivityStore(tmp_path / "activity")
    assert s.generation() is None
    for name in ("records", "pending"):
        got = s.read(name)
        assert got.num_rows == 0
        assert got.schema.equals(RECORD_SCHEMA)
        assert s.partitions(name) == {}
        assert s.glob(name) is None
        assert s.read(name, [D1]).num_rows == 0
    assert not (tmp_path / "activity").exists()


def test_commit_writes_day_partitions(store: ActivityStore) -> None:
    """One partition file per day and table, read back row for row; CURRENT names it."""
    root = store.root
    assert_consistent(root)
    assert (root / "CURRENT").read_text(encoding="ascii") == "000001\n"
    gen = root / "gen-000001"
    assert store.generation() == gen
    assert store.partitions("records") == {
        d: gen / "records" / f"day={d.isoformat()}" / "part.parquet" for d in (D1, D2, D3)
    }
    assert list(store.partitions("records")) == [D1, D2, D3]
    assert store.partitions("pending") == {
        D1: gen / "pending" / f"day={D1.isoformat()}" / "part.parquet"
    }
    assert all(p.is_file() for p in store.partitions("records").values())
    assert store.read("records").schema.equals(RECORD_SCHEMA)
    assert sorted(as_tuples(store.read("records", [D2, D3]))) == sorted(
        OLD_CONTENT["records"][D2] + OLD_CONTENT["records"][D3]
    )
    assert store.read("records", [D5]).num_rows == 0


def test_glob_covers_the_partitions(store: ActivityStore) -> None:
    """The glob matches exactly the partition files, and DuckDB reads every row through it."""
    pattern = store.glob("records")
    assert pattern is not None
    assert sorted(glob.glob(pattern)) == sorted(
        str(p) for p in store.partitions("records").values()
    )
    con = duckdb.connect()
    try:
        got = con.execute(
            f"SELECT agent, day, half, scope, vpn, mail, apps FROM read_parquet('{pattern}')"
        ).fetchall()
    finally:
        con.close()
    want = [r for rows in OLD_CONTENT["records"].values() for r in rows]
    assert sorted(got) == sorted(want)


def test_glob_of_a_table_without_partitions(store: ActivityStore) -> None:
    """A table whose last day was dropped has no glob (nothing for DuckDB to read)."""
    store.commit({"pending": {D1: None}})
    assert store.glob("pending") is None
    assert store.glob("records") is not None


def test_second_commit_links_unchanged_days(store: ActivityStore) -> None:
    """Unchanged days are hard links to the previous generation's files (same inode); changed
    days are new files; the previous generation is swept."""
    before = {d: os.stat(p).st_ino for d, p in store.partitions("records").items()}
    before_pending = {d: os.stat(p).st_ino for d, p in store.partitions("pending").items()}
    store.commit({"records": {D1: table([row("z", D1, "PM", apps=True)])}})
    assert_consistent(store.root)
    assert store.generation() == store.root / "gen-000002"
    after = {d: os.stat(p).st_ino for d, p in store.partitions("records").items()}
    assert set(after) == {D1, D2, D3}
    assert after[D2] == before[D2]
    assert after[D3] == before[D3]
    assert after[D1] != before[D1]
    assert {d: os.stat(p).st_ino for d, p in store.partitions("pending").items()} == before_pending
    assert content(store) == expected(
        {"records": {D1: [row("z", D1, "PM", apps=True)]}}, OLD_CONTENT
    )


def test_commit_applies_a_mixed_change(store: ActivityStore) -> None:
    """Replace, drop, add and keep in one commit, over both tables."""
    store.commit(changes(CHANGE))
    assert_consistent(store.root)
    assert content(store) == NEW_CONTENT


@pytest.mark.parametrize("drop", [None, "empty"])
def test_dropping_a_day(store: ActivityStore, drop: str | None) -> None:
    """F2: a day is dropped whole with None (or an empty table); other days stay."""
    store.commit({"records": {D2: None if drop is None else table([])}})
    assert_consistent(store.root)
    assert list(store.partitions("records")) == [D1, D3]
    gen = store.generation()
    assert gen is not None
    assert not (gen / "records" / f"day={D2.isoformat()}").exists()
    assert content(store) == expected({"records": {D2: None}}, OLD_CONTENT)


def test_dropping_every_day(store: ActivityStore) -> None:
    """Dropping all days leaves an empty, consistent store."""
    store.commit({"records": dict.fromkeys((D1, D2, D3)), "pending": {D1: None}})
    assert_consistent(store.root)
    assert content(store) == {"records": {}, "pending": {}}


@pytest.mark.parametrize("spec", [{}, {"records": {}}, {"records": {}, "pending": {}}])
def test_empty_change_writes_nothing(store: ActivityStore, spec: dict[str, Any]) -> None:
    """A commit without any day changes nothing on disk (no new generation)."""
    before = snapshot(store.root)
    store.commit(spec)
    assert snapshot(store.root) == before


def test_empty_change_on_a_new_store_creates_nothing(tmp_path: Path) -> None:
    ActivityStore(tmp_path / "activity").commit({"records": {}})
    assert not (tmp_path / "activity").exists()


# --- merge_flags ---------------------------------------------------------------------------------


def test_merge_flags_is_an_or_per_key() -> None:
    """B3: one row per (agent, day, half, scope), each flag the OR of the merged rows; different
    halves or scopes are never merged."""
    got = merge_flags(
        table([row("a", D1, "AM", vpn=True), row("a", D1, "PM", apps=True)]),
        table([row("a", D1, "AM", mail=True), row("a", D1, "AM", scope="on_site", apps=True)]),
        table([row("a", D1, "AM")]),
    )
    assert got.schema.equals(RECORD_SCHEMA)
    assert as_tuples(got) == [
        ("a", D1, "AM", "on_site", False, False, True),
        ("a", D1, "AM", "telework", True, True, False),
        ("a", D1, "PM", "telework", False, False, True),
    ]


def test_merge_flags_sorts_by_day_agent_half_scope() -> None:
    got = merge_flags(
        table(
            [
                row("b", D2, "AM"),
                row("a", D2, "PM"),
                row("b", D1, "PM"),
                row("a", D2, "AM", scope="telework"),
                row("a", D2, "AM", scope="on_site"),
                row("c", D1, "AM"),
            ]
        )
    )
    keys = [r[:4] for r in as_tuples(got)]
    assert keys == [
        ("b", D1, "PM", "telework"),
        ("c", D1, "AM", "telework"),
        ("a", D2, "AM", "on_site"),
        ("a", D2, "AM", "telework"),
        ("a", D2, "PM", "telework"),
        ("b", D2, "AM", "telework"),
    ]


def test_merge_flags_of_nothing() -> None:
    """No table, None or empty tables: an empty table of the record schema."""
    for got in (merge_flags(), merge_flags(None, table([])), merge_flags(table([]))):
        assert got.num_rows == 0
        assert got.schema.equals(RECORD_SCHEMA)


def test_merge_flags_refuses_an_extra_column() -> None:
    """B2: merge_flags goes through the same whitelist."""
    bad = table([row("a", D1)]).append_column("ip", pa.array(["192.0.2.1"]))
    with pytest.raises(SchemaViolation, match="ip"):
        merge_flags(table([row("b", D1)]), bad)


ROWS = st.lists(
    st.builds(
        row,
        agent=st.sampled_from(["h:0a1b", "h:77ff", "h:c3d4", "h:0000"]),
        day=st.sampled_from([D1, D2, D3]),
        half=st.sampled_from(["AM", "PM"]),
        scope=st.sampled_from(["telework", "on_site"]),
        vpn=st.booleans(),
        mail=st.booleans(),
        apps=st.booleans(),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ROWS, seed=st.integers(0, 2**32))
def test_property_merge_flags_gives_the_same_bytes_in_any_order(rows: list[Row], seed: int) -> None:
    """The same rows in any order and any split into tables merge to the OR per key, sorted, so
    the Parquet files written from them are byte-identical (re-ingesting changes no byte)."""
    rng = random.Random(seed)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    cuts = sorted(rng.sample(range(len(shuffled) + 1), k=min(3, len(shuffled) + 1)))
    parts = [table(shuffled[a:b]) for a, b in zip([0, *cuts], [*cuts, len(shuffled)], strict=True)]
    one = merge_flags(table(rows))
    other = merge_flags(*parts)

    want: dict[tuple[Any, ...], list[bool]] = {}
    for r in rows:
        flags = want.setdefault((r["day"], r["agent"], r["half"], r["scope"]), [False] * 3)
        for i, name in enumerate(("vpn", "mail", "apps")):
            flags[i] = flags[i] or r[name]
    want_rows = [
        (agent, day, half, scope, *flags)
        for (day, agent, half, scope), flags in sorted(want.items())
    ]
    assert as_tuples(one) == want_rows
    assert as_tuples(other) == want_rows

    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "a.parquet", Path(tmp) / "b.parquet"
        FileOps().write_parquet(one, a)
        FileOps().write_parquet(other, b)
        assert a.read_bytes() == b.read_bytes()


# --- B2: the schema whitelist --------------------------------------------------------------------

FORBIDDEN = ["ip", "login", "url", "first_seen", "last_seen", "count", "duration", "device", "ts"]


def with_extra(name: str) -> pa.Table:
    t = table([row("a", D5, "AM", vpn=True)])
    return t.append_column(name, pa.array(["x"]))


def without(name: str) -> pa.Table:
    return table([row("a", D5, "AM", vpn=True)]).drop_columns([name])


@pytest.mark.parametrize("name", FORBIDDEN)
def test_check_schema_refuses_an_extra_column(name: str) -> None:
    """B2: any column outside the whitelist is refused, and named in the message."""
    with pytest.raises(SchemaViolation, match=name):
        check_schema(with_extra(name))


@pytest.mark.parametrize("name", RECORD_SCHEMA.names)
def test_check_schema_refuses_a_missing_column(name: str) -> None:
    with pytest.raises(SchemaViolation, match=name):
        check_schema(without(name))


def test_check_schema_accepts_the_whitelist_in_any_order() -> None:
    """The exact columns, in another order, come back in the store's order and types."""
    t = table([row("a", D1, vpn=True)])
    shuffled = t.select(list(reversed(RECORD_SCHEMA.names)))
    got = check_schema(shuffled)
    assert got.schema.equals(RECORD_SCHEMA)
    assert as_tuples(got) == as_tuples(t)


def test_schema_violation_is_a_store_error() -> None:
    assert issubclass(SchemaViolation, StoreError)


BAD_TABLES = [pytest.param(with_extra(n), id=f"extra-{n}") for n in FORBIDDEN] + [
    pytest.param(without(n), id=f"missing-{n}") for n in ("agent", "half", "vpn")
]


@pytest.mark.parametrize("bad", BAD_TABLES)
def test_commit_refuses_a_bad_table_before_writing(store: ActivityStore, bad: pa.Table) -> None:
    """B2: commit refuses the table with SchemaViolation and the store directory is unchanged,
    byte for byte (no new generation, no staging folder)."""
    before = snapshot(store.root)
    with pytest.raises(SchemaViolation):
        store.commit({"records": {D5: bad}})
    assert snapshot(store.root) == before
    assert content(store) == OLD_CONTENT


def test_commit_refuses_a_bad_table_among_good_ones(store: ActivityStore) -> None:
    """B2: one bad table refuses the whole commit before a byte is written — not even the good
    partitions of the other table reach the disk."""
    before = snapshot(store.root)
    with pytest.raises(SchemaViolation, match="ip"):
        store.commit(
            {
                "records": {D4: table([row("a", D4, vpn=True)]), D5: table([row("b", D5)])},
                "pending": {D5: with_extra("ip")},
            }
        )
    assert snapshot(store.root) == before
    assert content(store) == OLD_CONTENT


def test_commit_of_a_bad_table_on_a_new_store_leaves_nothing(tmp_path: Path) -> None:
    """B2 on an empty store: nothing is left under the store's folder."""
    root = tmp_path / "activity"
    with pytest.raises(SchemaViolation):
        ActivityStore(root).commit({"records": {D5: with_extra("url")}})
    assert snapshot(root) == {}
    assert ActivityStore(root).read("records").num_rows == 0


def test_written_files_have_exactly_the_record_schema(tmp_path: Path) -> None:
    """B2: every Parquet file written has the RECORD_SCHEMA columns, types and nullability, in
    order, and nothing else — even from a table given with its columns in another order."""
    s = ActivityStore(tmp_path / "activity")
    shuffled = table([row("a", D1, vpn=True)]).select(list(reversed(RECORD_SCHEMA.names)))
    s.commit({"records": {D1: shuffled, D2: table([row("b", D2, mail=True)])}})
    s.commit({"records": {D3: table([row("c", D3, apps=True)])}, "pending": {D1: shuffled}})
    current = s.generation()
    assert current is not None
    files = sorted(current.rglob("*.parquet"))
    assert len(files) == 4
    for f in files:
        schema = pq.read_schema(f)
        assert schema.remove_metadata().equals(RECORD_SCHEMA)
        assert schema.names == RECORD_SCHEMA.names
        assert pq.ParquetFile(f).schema_arrow.names == RECORD_SCHEMA.names


# --- crash safety: failing file operations -------------------------------------------------------


class FailingOps(FileOps):
    """Real file operations, except the ``nth`` call of ``method`` raises OSError(``err``)."""

    def __init__(self, method: str, nth: int = 1, err: int = errno.ENOSPC) -> None:
        self.method = method
        self.nth = nth
        self.err = err
        self.calls = 0

    def _tick(self, method: str) -> None:
        if method == self.method:
            self.calls += 1
            if self.calls == self.nth:
                raise OSError(self.err, os.strerror(self.err))

    def write_parquet(self, table: pa.Table, path: Path) -> None:
        self._tick("write_parquet")
        super().write_parquet(table, path)

    def link(self, src: Path, dst: Path) -> None:
        self._tick("link")
        super().link(src, dst)

    def write_text(self, path: Path, text: str) -> None:
        self._tick("write_text")
        super().write_text(path, text)

    def replace(self, src: Path, dst: Path) -> None:
        self._tick("replace")
        super().replace(src, dst)

    def fsync_dir(self, path: Path) -> None:
        self._tick("fsync_dir")
        super().fsync_dir(path)


def failing_commit(store: ActivityStore, ops: FailingOps) -> StoreError:
    """Commit CHANGE with ``ops``; return the StoreError; check the failure really happened."""
    before = snapshot(store.root)
    with pytest.raises(StoreError) as info:
        ActivityStore(store.root, ops).commit(changes(CHANGE))
    assert ops.calls >= ops.nth, "the injected failure was not reached"
    assert isinstance(info.value.__cause__, OSError)
    assert snapshot(store.root) == before, "a failed commit must leave the store unchanged"
    assert_consistent(store.root)
    assert content(ActivityStore(store.root)) == OLD_CONTENT
    return info.value


@pytest.mark.parametrize("nth", [1, 2, 3])
def test_disk_full_while_writing_a_partition(store: ActivityStore, nth: int, english: None) -> None:
    """A full disk on any of the three partition writes: StoreError saying the disk is full,
    with a hint; the committed generation unchanged (same CURRENT, same bytes); no staging."""
    err = failing_commit(store, FailingOps("write_parquet", nth))
    assert "disk full" in str(err)
    assert err.hint is not None
    assert not isinstance(err, SchemaViolation)
    # The store still commits once space is back.
    store.commit(changes(CHANGE))
    assert content(store) == NEW_CONTENT
    assert_consistent(store.root)


def test_disk_full_message_in_french(store: ActivityStore) -> None:
    """French by default: "disque plein"."""
    before = lang()
    set_lang("fr")
    try:
        err = failing_commit(store, FailingOps("write_parquet", 1))
    finally:
        set_lang(before)
    assert "disque plein" in str(err)


def test_disk_quota_is_disk_full(store: ActivityStore, english: None) -> None:
    err = failing_commit(store, FailingOps("write_parquet", 2, errno.EDQUOT))
    assert "disk full" in str(err)


def test_other_io_error_is_not_called_disk_full(store: ActivityStore, english: None) -> None:
    """An I/O error is reported as such, not as a full disk; the store is unchanged."""
    err = failing_commit(store, FailingOps("write_parquet", 1, errno.EIO))
    assert "disk full" not in str(err)
    assert err.hint is None


@pytest.mark.parametrize(
    ("method", "nth"),
    [("replace", 1), ("replace", 2), ("write_text", 1), ("link", 1)],
    ids=["rename-generation", "rename-current", "write-current", "link"],
)
def test_failing_switch_leaves_the_store_unchanged(
    store: ActivityStore, method: str, nth: int, english: None
) -> None:
    """A failing rename of the new generation or of CURRENT (or writing CURRENT.tmp, or linking
    an unchanged day): StoreError, the store unchanged byte for byte, no leftover."""
    failing_commit(store, FailingOps(method, nth, errno.EIO))
    store.commit(changes(CHANGE))
    assert content(store) == NEW_CONTENT
    assert_consistent(store.root)


def test_failing_directory_fsync_is_all_or_nothing(store: ActivityStore, english: None) -> None:
    """StoreError promises "the store is unchanged": if the last step (making the rename durable)
    fails and the commit reports an error, the store must still read the previous content;
    if it does not report one, it must read the new content. Never an error over a changed
    store."""
    ops = FailingOps("fsync_dir", 1, errno.EIO)
    try:
        ActivityStore(store.root, ops).commit(changes(CHANGE))
    except StoreError:
        assert content(ActivityStore(store.root)) == OLD_CONTENT
    else:
        assert content(ActivityStore(store.root)) == NEW_CONTENT
    assert ops.calls == 1


# --- crash safety: leftovers of a killed process -------------------------------------------------


def test_orphan_folders_are_ignored_then_swept(store: ActivityStore) -> None:
    """A crash can leave a half-built ``.staging-*`` and a renamed ``gen-*`` that CURRENT does
    not name (and a stale CURRENT.tmp): readers ignore them; the next commit sweeps them and its
    result holds none of their content."""
    root = store.root
    orphan = root / "gen-000002" / "records" / f"day={D5.isoformat()}"
    orphan.mkdir(parents=True)
    FileOps().write_parquet(table([row("ghost", D5, vpn=True)]), orphan / "part.parquet")
    staging = root / ".staging-000003" / "records" / f"day={D4.isoformat()}"
    staging.mkdir(parents=True)
    FileOps().write_parquet(table([row("ghost", D4, vpn=True)]), staging / "part.parquet")
    (root / ".staging-000007").mkdir()
    (root / "gen-000009").mkdir()
    (root / "CURRENT.tmp").write_text("000009\n", encoding="ascii")

    reader = ActivityStore(root)
    assert reader.generation() == root / "gen-000001"
    assert content(reader) == OLD_CONTENT

    reader.commit({"records": {D1: table([row("n", D1, "PM", vpn=True)])}})
    assert_consistent(root)
    assert not any(p.name.startswith(".staging-") for p in root.iterdir())
    assert content(reader) == expected(
        {"records": {D1: [row("n", D1, "PM", vpn=True)]}}, OLD_CONTENT
    )
    assert "ghost" not in {r[0] for rows in content(reader)["records"].values() for r in rows}


def test_current_names_the_latest_generation_after_each_commit(tmp_path: Path) -> None:
    """CURRENT always names an existing generation after every commit in a sequence."""
    s = ActivityStore(tmp_path / "activity")
    want: Content = {"records": {}, "pending": {}}
    for i, day in enumerate((D1, D2, D3, D1, D2)):
        rows = [row(f"a{i}", day, "AM", vpn=True)]
        s.commit({"records": {day: table(rows)}})
        want = expected({"records": {day: rows}}, want)
        assert_consistent(s.root)
        assert (s.root / "CURRENT").read_text(encoding="ascii") == f"{i + 1:06d}\n"
        assert content(s) == want


SCRIPT = """
import json, sys
from datetime import date
from pathlib import Path
import pyarrow as pa
from loyaute.store.records import RECORD_SCHEMA, ActivityStore

root, spec = sys.argv[1], json.loads(sys.argv[2])
changes = {}
for name, days in spec.items():
    changes[name] = {}
    for day, rows in days.items():
        if rows is None:
            changes[name][date.fromisoformat(day)] = None
            continue
        for r in rows:
            r["day"] = date.fromisoformat(r["day"])
        changes[name][date.fromisoformat(day)] = pa.Table.from_pylist(rows, schema=RECORD_SCHEMA)
ActivityStore(Path(root)).commit(changes)
"""


def spec_json(spec: Mapping[str, Mapping[date, list[Row] | None]]) -> str:
    return json.dumps(
        {
            name: {
                day.isoformat(): (
                    None if rows is None else [{**r, "day": r["day"].isoformat()} for r in rows]
                )
                for day, rows in days.items()
            }
            for name, days in spec.items()
        }
    )


def commit_in_subprocess(root: Path, crash_at: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "LOYAUTE_CRASH_AT"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    if crash_at is not None:
        env["LOYAUTE_CRASH_AT"] = crash_at
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root), spec_json(CHANGE)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 137), done.stderr
    return done.returncode


def test_commit_in_a_subprocess_without_crash(store: ActivityStore) -> None:
    """Control for the crash tests: the same script without fault injection commits CHANGE."""
    assert commit_in_subprocess(store.root, None) == 0
    assert_consistent(store.root)
    assert content(ActivityStore(store.root)) == NEW_CONTENT


@pytest.mark.parametrize(
    ("point", "survivor"),
    [
        ("partition-written", "old"),
        ("before-switch", "old"),
        ("after-switch", "new"),
    ],
)
def test_killed_commit_reads_old_or_new_never_a_mix(
    store: ActivityStore, point: str, survivor: str
) -> None:
    """A process killed (exit 137) at any point of a commit leaves a store that reads entirely
    the old or entirely the new content — never some days of each; CURRENT names an existing
    generation; a clean commit of the same change then gives the new content."""
    root = store.root
    assert commit_in_subprocess(root, point) == 137
    # The crash happened where it says: mid-build leaves a staging folder, after the switch
    # leaves the old generation unswept.
    names = {p.name for p in root.iterdir()}
    if survivor == "old":
        assert any(n.startswith(".staging-") for n in names)
        assert "gen-000002" not in names
    else:
        assert {"gen-000001", "gen-000002"} <= names

    current = (root / "CURRENT").read_text(encoding="ascii").strip()
    assert (root / f"gen-{current}").is_dir()
    got = content(ActivityStore(root))
    assert got in (OLD_CONTENT, NEW_CONTENT), "a mix of old and new days"
    assert got == (OLD_CONTENT if survivor == "old" else NEW_CONTENT)

    ActivityStore(root).commit(changes(CHANGE))
    assert_consistent(root)
    assert content(ActivityStore(root)) == NEW_CONTENT
