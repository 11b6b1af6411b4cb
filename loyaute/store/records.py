"""The activity store: pseudonymous half-day flags in Parquet, one partition per local day.

Layout::

    store/activity/CURRENT                       the committed generation ("000042")
    store/activity/gen-000042/records/day=2026-03-02/part.parquet
    store/activity/gen-000042/pending/day=2026-03-02/part.parquet
    store/activity/gen-000042/study/day=2026-03-02/part.parquet

``records`` holds the telework half-days of the check (scope ``telework``); ``study`` the on-site
half-days of the validity study (scope ``on_site``), a purpose of its own that no individual path
reads (E8) and whose rows go once their week is published; ``pending`` what waits for the
schedule (B4).

A commit builds a new generation beside the current one — changed days written anew, unchanged
days hard-linked — then switches ``CURRENT`` with an atomic rename. A crash at any point leaves
the previous generation intact and readable; the half-built one is swept at the next open. So the
store is never half-written, and retention is dropping whole day partitions.

Only the columns of ``RECORD_SCHEMA`` may ever be written (rule B2): a table with any other column
is refused before a byte reaches the disk.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from loyaute.errors import StoreError
from loyaute.i18n import tr

RECORD_SCHEMA = pa.schema(
    [
        pa.field("agent", pa.string(), nullable=False),
        pa.field("day", pa.date32(), nullable=False),
        pa.field("half", pa.string(), nullable=False),
        pa.field("scope", pa.string(), nullable=False),
        pa.field("vpn", pa.bool_(), nullable=False),
        pa.field("mail", pa.bool_(), nullable=False),
        pa.field("apps", pa.bool_(), nullable=False),
    ]
)
"""The whole of what is kept about a person: pseudonym, local date, AM/PM, why it is kept
(``telework`` for the check, ``on_site`` for the validity study) and one flag per category."""

ALLOWED_COLUMNS = frozenset(RECORD_SCHEMA.names)
TABLES = ("records", "pending", "study")
FLAGS = ("vpn", "mail", "apps")


class SchemaViolation(StoreError):
    """A table with a column outside the whitelist was offered to the store (rule B2)."""


class StoreConflict(StoreError):
    """Another commit switched the store since this one read it (compare-and-swap, H5): this
    commit was not applied, so nothing of the other is lost."""


def check_schema(table: pa.Table) -> pa.Table:
    """Refuse any column outside ``RECORD_SCHEMA``; return the table in the store's schema."""
    extra = set(table.column_names) - ALLOWED_COLUMNS
    missing = ALLOWED_COLUMNS - set(table.column_names)
    if extra or missing:
        raise SchemaViolation(
            tr(
                f"colonnes refusées par le magasin (B2) : en trop {sorted(extra)}, "
                f"manquantes {sorted(missing)}",
                f"columns refused by the store (B2): extra {sorted(extra)}, missing {sorted(missing)}",
            )
        )
    return table.select(RECORD_SCHEMA.names).cast(RECORD_SCHEMA)


def merge_flags(*tables: pa.Table) -> pa.Table:
    """OR-merge rows of the same (agent, day, half, scope); sorted, so the bytes are stable."""
    parts = [check_schema(t) for t in tables if t is not None and t.num_rows]
    if not parts:
        return RECORD_SCHEMA.empty_table()
    table = pa.concat_tables(parts)
    grouped = table.group_by(["agent", "day", "half", "scope"], use_threads=False).aggregate(
        [(flag, "any") for flag in FLAGS]
    )
    grouped = grouped.rename_columns(
        [n.removesuffix("_any") if n.endswith("_any") else n for n in grouped.column_names]
    )
    grouped = grouped.select(RECORD_SCHEMA.names).cast(RECORD_SCHEMA)
    order = pc.sort_indices(
        grouped,
        sort_keys=[
            ("day", "ascending"),
            ("agent", "ascending"),
            ("half", "ascending"),
            ("scope", "ascending"),
        ],
    )
    return grouped.take(order)


class FileOps:
    """The file operations a commit performs; tests pass a subclass to simulate a full disk."""

    def write_parquet(self, table: pa.Table, path: Path) -> None:
        """Write one partition file and flush it to disk."""
        pq.write_table(
            table,
            path,
            compression="zstd",
            use_dictionary=True,
            write_statistics=True,
            store_schema=True,
        )
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def link(self, src: Path, dst: Path) -> None:
        """Reuse an unchanged partition in the new generation."""
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    def write_text(self, path: Path, text: str) -> None:
        """Write a small file durably."""
        with path.open("w", encoding="ascii") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    def replace(self, src: Path, dst: Path) -> None:
        """Atomic rename."""
        os.replace(src, dst)

    def fsync_dir(self, path: Path) -> None:
        """Make a rename durable."""
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _maybe_crash(point: str) -> None:
    """Fault injection for the crash-safety test: ``LOYAUTE_CRASH_AT=point`` kills the process."""
    if os.environ.get("LOYAUTE_CRASH_AT") == point:
        os._exit(137)


@dataclass(frozen=True)
class Partition:
    """One day of one table in a generation."""

    table: str
    day: date
    path: Path


class ActivityStore:
    """Generations of day partitions under ``root``."""

    def __init__(self, root: Path, ops: FileOps | None = None) -> None:
        self.root = root
        self.ops = ops or FileOps()

    # --- reading ---------------------------------------------------------------------------------

    def current(self) -> str:
        """The name of the committed generation ('' for an empty store): the base a writer
        reads before computing changes, and hands back to ``commit`` (compare-and-swap)."""
        gen = self.generation()
        return gen.name[4:] if gen is not None else ""

    def generation(self) -> Path | None:
        """The committed generation directory, or None for an empty store."""
        current = self.root / "CURRENT"
        if not current.is_file():
            return None
        name = current.read_text(encoding="ascii").strip()
        gen = self.root / f"gen-{name}"
        return gen if gen.is_dir() else None

    def partitions(self, table: str) -> dict[date, Path]:
        """Day → partition file of ``table`` in the committed generation."""
        gen = self.generation()
        if gen is None or not (gen / table).is_dir():
            return {}
        out = {}
        for d in (gen / table).iterdir():
            if d.name.startswith("day="):
                out[date.fromisoformat(d.name[4:])] = d / "part.parquet"
        return dict(sorted(out.items()))

    def read(self, table: str, days: list[date] | None = None) -> pa.Table:
        """Rows of ``table`` (all days, or the given ones)."""
        parts = self.partitions(table)
        wanted = parts if days is None else {d: parts[d] for d in days if d in parts}
        tables = [pq.read_table(p).cast(RECORD_SCHEMA) for p in wanted.values()]
        if not tables:
            return RECORD_SCHEMA.empty_table()
        return pa.concat_tables(tables)

    def glob(self, table: str) -> str | None:
        """A glob over ``table``'s partition files, for DuckDB; None when empty."""
        gen = self.generation()
        if gen is None or not any((gen / table).glob("day=*/part.parquet")):
            return None
        return str(gen / table / "day=*" / "part.parquet")

    # --- writing ---------------------------------------------------------------------------------

    def commit(
        self, changes: Mapping[str, Mapping[date, pa.Table | None]], *, base: str | None = None
    ) -> None:
        """Replace (or drop, with None) whole day partitions, all or nothing. With ``base`` (the
        generation the changes were computed from, ``current()``), the commit happens only if
        that generation is still the committed one: otherwise ``StoreConflict`` and nothing
        changes (H5: no writer loses another's commit)."""
        if not any(changes.values()):
            return
        # Rule B2: every table is checked before a byte reaches the disk.
        checked = {
            table: {
                day: (check_schema(t) if t is not None and t.num_rows else None)
                for day, t in days.items()
            }
            for table, days in changes.items()
        }
        self.root.mkdir(parents=True, exist_ok=True)
        with self._switching():
            self._commit(checked, base)

    @contextmanager
    def _switching(self) -> Iterator[None]:
        """The commit's own short lock: the check of ``base`` and the switch are atomic between
        processes, whether or not they hold the workspace lock."""
        fd = os.open(self.root / ".commit.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _commit(
        self, checked: Mapping[str, Mapping[date, pa.Table | None]], base: str | None
    ) -> None:
        if base is not None and self.current() != base:
            raise StoreConflict(
                tr(
                    "le magasin a été modifié par une autre écriture pendant cette opération : "
                    "rien n'a été enregistré",
                    "the store was changed by another writer during this operation: nothing was "
                    "stored",
                ),
                hint=tr("relancer la commande", "run the command again"),
            )
        self.sweep()
        previous = self.generation()
        number = int(previous.name[4:]) + 1 if previous is not None else 1
        name = f"{number:06d}"
        staging = self.root / f".staging-{name}"
        shutil.rmtree(staging, ignore_errors=True)
        switched = False
        try:
            for table in TABLES:
                (staging / table).mkdir(parents=True)
                current = self.partitions(table)
                changed = checked.get(table, {})
                for day in sorted(set(current) | set(changed)):
                    target = staging / table / f"day={day.isoformat()}"
                    if day in changed:
                        new = changed[day]
                        if new is None:
                            continue
                        target.mkdir()
                        self.ops.write_parquet(new, target / "part.parquet")
                        _maybe_crash("partition-written")
                    else:
                        target.mkdir()
                        self.ops.link(current[day], target / "part.parquet")
            _maybe_crash("before-switch")
            self.ops.replace(staging, self.root / f"gen-{name}")
            self.ops.write_text(self.root / "CURRENT.tmp", name + "\n")
            self.ops.replace(self.root / "CURRENT.tmp", self.root / "CURRENT")
            switched = True
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if (self.root / "CURRENT.tmp").exists():
                (self.root / "CURRENT.tmp").unlink()
            if self.generation() != self.root / f"gen-{name}":
                shutil.rmtree(self.root / f"gen-{name}", ignore_errors=True)
            if not isinstance(exc, OSError):
                raise
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            raise StoreError(
                tr(
                    f"écriture du magasin impossible ({'disque plein' if full else exc.strerror or exc}) : "
                    "le magasin est inchangé",
                    f"the store could not be written ({'disk full' if full else exc.strerror or exc}): "
                    "it is unchanged",
                ),
                hint=tr("libérer de l'espace puis relancer", "free some space, then run again")
                if full
                else None,
            ) from exc
        if switched:
            # The switch happened; a failed directory flush cannot be undone, only retried by
            # the next commit. The new generation is the store now.
            with contextlib.suppress(OSError):
                self.ops.fsync_dir(self.root)
        _maybe_crash("after-switch")
        self.sweep()

    def sweep(self) -> None:
        """Remove half-built staging folders and the generations before the committed one and
        its predecessor (a reader that opened the predecessor just before a switch can finish)."""
        if not self.root.is_dir():
            return
        keep = self.generation()
        kept_number = int(keep.name[4:]) if keep is not None else 0
        for child in self.root.iterdir():
            if child.name.startswith(".staging-"):
                shutil.rmtree(child, ignore_errors=True)
            elif child.name.startswith("gen-") and child != keep:
                try:
                    number = int(child.name[4:])
                except ValueError:
                    continue
                if keep is None or number < kept_number - 1 or number > kept_number:
                    shutil.rmtree(child, ignore_errors=True)
