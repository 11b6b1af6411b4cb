"""The ingest run: files → sources → reduce → resolve → gates and scope → store.

The map side (one task per file or byte range, in worker processes) parses and reduces to
(login, local day, half-day, category) keys; nothing else comes back. On the driver, logins are
resolved against the directory and pseudonymised — a raw login never reaches the disk — then every
half-day goes through the rules in order: objection (G3), T0 (A5/A6), schedule scope (B4),
eligible family (B5), pending. What is kept is OR-merged into the day partitions and committed at
once; the manifest is written after the data, so a crash and a re-run leave exactly what one clean
run leaves.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from loyaute.errors import InputError
from loyaute.i18n import tr
from loyaute.identity import LoginIndex
from loyaute.ingest.engine import Engine, LocalEngine, plan
from loyaute.ingest.files import Location, RemoteFile, expand_paths, file_size, location
from loyaute.ingest.mapper import (
    MapCall,
    MapSettings,
    lost_task,
    map_task,
    mask,
    merge_results,
    pause,
    result_key,
)
from loyaute.ingest.reading import FileResult, resolve_source
from loyaute.policy import gates as gates_mod
from loyaute.policy import scope as scope_mod
from loyaute.policy.register import covers
from loyaute.policy.retention import purge
from loyaute.policy.roles import Identity, Role
from loyaute.policy.scope import DROP_RULES
from loyaute.presence.reduce import KEY_SCHEMA
from loyaute.presence.windows import HALF_NAMES, Windows
from loyaute.sources import build_sources
from loyaute.sources.base import Reason, Source
from loyaute.store.operations import IngestProblem, ManifestEntry
from loyaute.store.records import RECORD_SCHEMA, merge_flags
from loyaute.workspace import Workspace

OPERATOR = Identity("loyaute", Role.SYSTEM)
TABLE_OF_FATE = {"telework": "records", "on_site": "study"}


@dataclass
class FileReport:
    """The ingest report of one file."""

    path: str
    format: str | None = None
    status: str = "ingested"  # ingested, already, failed, refused
    message: str = ""
    lines: int = 0
    events: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    unmatched: Counter[str] = field(default_factory=Counter)
    kept: int = 0
    pending: int = 0
    dropped: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "path": self.path,
            "format": self.format,
            "status": self.status,
            "message": self.message,
            "lines": self.lines,
            "events": self.events,
            "skipped": dict(self.skipped),
            "unmatched_logins": dict(self.unmatched),
            "half_days_kept": self.kept,
            "half_days_pending": self.pending,
            "dropped": dict(self.dropped),
        }


@dataclass
class IngestReport:
    """What one ``ingest`` did."""

    files: list[FileReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    promoted: int = 0
    expired: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when a file could not be used at all or broke part-way."""
        return bool(self.problems) or any(f.status in ("failed", "refused") for f in self.files)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "files": [f.to_json() for f in self.files],
            "problems": self.problems,
            "pending_promoted": self.promoted,
            "pending_expired": self.expired,
            "warnings": self.warnings,
        }


def content_fingerprint(digests: list[tuple[int, str]]) -> str:
    """A file's identity: the SHA-256 of what its ranges read, computed while reading them (no
    second pass). A file cut into ranges differently (another number of workers) gets another
    identity and is read once more, which changes nothing: flags are OR-merged."""
    if len(digests) == 1:
        return f"sha256:{digests[0][1]}"
    joined = hashlib.sha256("".join(d for _, d in sorted(digests)).encode())
    return f"sha256x{len(digests)}:{joined.hexdigest()}"


UNREADABLE_REASONS = (
    Reason.MALFORMED.value,
    Reason.LINE_TOO_LONG.value,
    Reason.BAD_TIME.value,
    Reason.AMBIGUOUS_LAYOUT.value,
)


def unreadable(result: FileResult) -> bool:
    """True when a file has lines and not one of them (blank and header lines aside) could be
    read in its format: a wrong ``--format``, or not a log at all. Such a file is a failure,
    not an ingest of nothing."""
    content = (
        result.lines - result.skipped[Reason.BLANK.value] - result.skipped[Reason.HEADER.value]
    )
    bad = sum(result.skipped[r] for r in UNREADABLE_REASONS)
    return result.events == 0 and content > 0 and bad >= content


def stat_key(path: Location) -> str | None:
    """A file's identity where it is stored — device, inode, size and modification time to the
    nanosecond on disk; address, size and modification time on object storage — to know an
    unchanged file (or one renamed by a rotation) without reading it. Any write changes the
    modification time, so a file changed anywhere is read again and known by its content. None
    when the storage gives no modification time: the file is read and known by its content."""
    if isinstance(path, Path):
        st = path.stat()
        return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
    info = path.info()
    if info.mtime_ns is None:
        return None
    return f"{path}:{info.size}:{info.mtime_ns}"


def ingest(
    ws: Workspace,
    paths: list[str | Path],
    forced_format: str | None = None,
    engine: Engine | None = None,
    force: bool = False,
    who: Identity = OPERATOR,
    on_progress: Callable[[int, int], None] | None = None,
    fail_task: str = "",
) -> IngestReport:
    """Read log files into the activity store; see the module docstring for the order of rules.
    The workspace's writer lock is held throughout (H5)."""
    with ws.lock.hold("ingest"):
        return _ingest(ws, paths, forced_format, engine, force, who, on_progress, fail_task)


def _declared_only(
    ws: Workspace, paths: list[str | Path], report: IngestReport
) -> list[str | Path]:
    """Remote URIs outside ``ingest.remote_locations`` are refused before anything is listed
    there: the register names every storage the logs come from (``[[transfers]]``, issue 11),
    so a location it does not name is never read (C6: no undisclosed means)."""
    kept: list[str | Path] = []
    declared = ws.settings.ingest.remote_locations
    for path in paths:
        where = location(path)
        if isinstance(where, RemoteFile) and not any(covers(d, where.uri) for d in declared):
            entry = FileReport(str(where))
            entry.status = "refused"
            entry.message = tr(
                "stockage distant non déclaré (ingest.remote_locations et [[transfers]] du "
                "registre) : un changement substantiel soumis au comité (A4)",
                "undeclared remote storage (ingest.remote_locations and the register's "
                "[[transfers]]): a material change for the committee (A4)",
            )
            report.files.append(entry)
            continue
        kept.append(path)
    return kept


def _ingest(
    ws: Workspace,
    paths: list[str | Path],
    forced_format: str | None,
    engine: Engine | None,
    force: bool,
    who: Identity,
    on_progress: Callable[[int, int], None] | None,
    fail_task: str,
) -> IngestReport:
    gates = gates_mod.evaluate(ws.settings, ws.register)
    gates_mod.require(gates, ("A1", "A2", "A3"), tr("ingestion", "ingest"))
    report = IngestReport()
    a4 = next(g for g in gates if g.id == "A4")
    if not a4.ok:
        report.warnings.append(f"A4 : {a4.reason}")
    purge(ws, who=who)

    sources = build_sources(ws.settings)
    if forced_format is not None and forced_format not in sources:
        raise InputError(
            tr(f"format inconnu : {forced_format}", f"unknown format: {forced_format}")
        )
    paths = _declared_only(ws, paths, report)
    files, problems = expand_paths(paths, report.warnings)
    report.problems += problems
    todo: list[tuple[Location, Source]] = []
    stat_keys: dict[str, str | None] = {}
    sizes: dict[str, int] = {}
    for path in files:
        entry = FileReport(str(path))
        try:
            source = resolve_source(path, sources, forced_format)
        except InputError as exc:
            entry.status, entry.message = "failed", str(exc)
            report.files.append(entry)
            continue
        entry.format = source.name
        if source.name not in ws.settings.sources.enabled:
            entry.status = "refused"
            entry.message = tr(
                f"format {source.name} non activé ([sources] enabled) : l'ajouter est un changement "
                "substantiel soumis au comité (A4)",
                f"format {source.name} not enabled ([sources] enabled): adding it is a material "
                "change for the committee (A4)",
            )
            report.files.append(entry)
            continue
        try:
            key = stat_key(path)
            sizes[str(path)] = file_size(path)
        except OSError as exc:
            entry.status = "failed"
            entry.message = tr(
                f"illisible ({exc.strerror or exc})", f"unreadable ({exc.strerror or exc})"
            )
            report.files.append(entry)
            continue
        if not force and key is not None and ws.db.manifest.known_on_disk(key):
            entry.status, entry.message = "already", tr("déjà lu", "already ingested")
            report.files.append(entry)
            continue
        stat_keys[str(path)] = key
        report.files.append(entry)
        todo.append((path, source))

    map_settings = MapSettings(
        Windows.from_settings(ws.settings.half_days, ws.settings.zone),
        ws.settings.sources.exchange.count_background,
        fail_task,
    )
    engine = engine or LocalEngine(ws.settings.ingest.workers)
    tasks = plan(
        todo,
        getattr(engine, "workers", 1),
        ws.settings.ingest.chunk_bytes,
        ws.settings.ingest.max_line_bytes,
    )
    per_file = engine.map_reduce(
        MapCall(map_settings), tasks, result_key, merge_results, on_progress, lost_task
    )

    entries = {f.path: f for f in report.files}
    keys_by_file: dict[str, pa.Table] = {}
    fingerprints: dict[str, str] = {}
    seen: dict[str, str] = {}
    examples: list[tuple[str, int, str, str]] = []
    for result in sorted(per_file, key=result_key):
        path_str = result.file.path
        merged = result.file
        entry = entries[path_str]
        entry.lines, entry.events, entry.skipped = merged.lines, merged.events, merged.skipped
        if merged.error:
            entry.status = "failed"
            entry.message = tr(
                f"{merged.error} — fichier non enregistré, le relancer une fois réparé",
                f"{merged.error} — file not stored; run again once repaired",
            )
            continue
        if unreadable(merged):
            # Masked examples of its lines are kept (F6) though the file fails: they are what
            # tells the operator what it holds.
            examples += [(path_str, *e) for e in result.examples]
            entry.status = "failed"
            entry.message = tr(
                f"aucune ligne lisible au format {entry.format} ({merged.lines} lignes "
                "illisibles) : ce n'est sans doute pas ce format — vérifier --format ; fichier "
                "non enregistré",
                f"no line readable as {entry.format} ({merged.lines} unreadable lines): probably "
                "not this format — check --format; file not stored",
            )
            continue
        fp = fingerprints[path_str] = content_fingerprint(result.digests)
        if not force and (fp in seen or ws.db.manifest.known(fp)):
            # Known by its content (a rotated or copied file): what it holds is stored already.
            entry.status = "already"
            entry.message = tr(
                "déjà lu (même contenu" + (f" que {seen[fp]})" if fp in seen else ")"),
                "already ingested (same content" + (f" as {seen[fp]})" if fp in seen else ")"),
            )
            continue
        seen[fp] = location(path_str).name
        keys_by_file[path_str] = result.keys
        examples += [(path_str, *e) for e in result.examples]

    reconcile(ws, report, entries, keys_by_file, set(), who)
    now = ws.clock.now().isoformat(timespec="seconds")
    ws.db.manifest.record(
        [
            ManifestEntry(
                fingerprints[p],
                p,
                sizes[p],
                entries[p].format or "",
                now,
                entries[p].lines,
                entries[p].events,
                entries[p].kept,
                json.dumps(dict(entries[p].skipped), sort_keys=True),
            )
            for p in keys_by_file
        ],
        [(now, location(p).name, line, reason, text) for p, line, reason, text in examples],
        [(k, fingerprints[p]) for p, k in stat_keys.items() if k is not None and p in fingerprints],
        [
            IngestProblem(now, f.path, f.format or "", f.status, f.message)
            for f in report.files
            if f.status in ("failed", "refused")
        ],
    )
    return report


def route(
    scope: scope_mod.Scope,
    agent_id: str,
    day: date,
    half: str,
    schedule: dict[tuple[str, str, str], str],
) -> str:
    """Decide a half-day's fate: ``telework``/``on_site`` (kept), ``pending``, or a drop rule."""
    return scope.fate(agent_id, day, schedule.get((agent_id, day.isoformat(), half)))


def _record_table(rows: list[tuple[str, date, str, str, bool, bool, bool]]) -> pa.Table:
    cols: list[list[Any]] = (
        [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in RECORD_SCHEMA.names]
    )
    return pa.Table.from_arrays(
        [pa.array(c, type=f.type) for c, f in zip(cols, RECORD_SCHEMA, strict=True)],
        schema=RECORD_SCHEMA,
    )


Row = tuple[str, date, str, str, bool, bool, bool]


def _on_day(table: pa.Table, day: date) -> pa.Table:
    return table.filter(pc.equal(table.column("day"), pa.scalar(day, pa.date32())))


FLAG_COLUMNS = ("agent", "day", "half", "vpn_any", "mail_any", "apps_any")


def _flags_by_agent(
    keys: pa.Table, mapping: dict[str, str | None], unmatched: Counter[str]
) -> pa.Table:
    """A file's keys as one row per (agent, day, half) with its three category flags, computed
    on whole columns: the logins resolved once each (``mapping``), keys of a login no agent has
    counted in ``unmatched`` (per key, as a reader of the report expects) and left out."""
    logins = list(mapping)
    agent_of = pa.array([mapping[login] for login in logins], pa.string())
    where = pc.index_in(keys.column("login"), value_set=pa.array(logins, pa.string()))
    agent = pc.take(agent_of, where)
    missing = pc.is_null(agent)
    if pc.any(missing).as_py():
        for item in pc.value_counts(keys.column("login").filter(missing)).to_pylist():
            unmatched[item["values"]] += item["counts"]
    category = keys.column("category")
    table = pa.table(
        {
            "agent": agent,
            "day": keys.column("day"),
            "half": keys.column("half"),
            "vpn": pc.equal(category, "vpn"),
            "mail": pc.equal(category, "mail"),
            "apps": pc.equal(category, "apps"),
        }
    ).filter(pc.invert(missing))
    return table.group_by(["agent", "day", "half"], use_threads=False).aggregate(
        [("vpn", "any"), ("mail", "any"), ("apps", "any")]
    )


def reconcile(
    ws: Workspace,
    report: IngestReport,
    entries: dict[str, FileReport],
    keys_by_file: dict[str, pa.Table],
    recheck_days: set[date],
    who: Identity,
) -> None:
    """Route new keys, pending half-days and the stored records of ``recheck_days`` through the
    rules with the schedule and notices known now, and commit the result at once — only if the
    store is still the one read here (compare-and-swap, H5)."""
    base = ws.activity.current()
    pause("before-reconcile")
    index = LoginIndex(ws.db.agents.login_keys())
    resolved: dict[str, dict[str, str | None]] = {}
    agent_ids: set[str] = set()
    days: set[date] = set()
    for path_str, keys in keys_by_file.items():
        mapping = {login: index.resolve(login) for login in set(keys.column("login").to_pylist())}
        resolved[path_str] = mapping
        agent_ids.update(a for a in mapping.values() if a)
        days.update(keys.column("day").to_pylist())
    pending_before = ws.activity.read("pending")
    stored = pa.concat_tables(
        [ws.activity.read(t, sorted(recheck_days)) for t in ("records", "study")]
    )
    by_pseudonym = {ws.pseudonymizer.pseudonym(a): a for a in ws.db.agents.everyone()}
    for table in (pending_before, stored):
        agent_ids.update(
            by_pseudonym[p] for p in set(table.column("agent").to_pylist()) if p in by_pseudonym
        )
        days.update(table.column("day").to_pylist())
    scope = scope_mod.load(ws, agent_ids)
    pseudonym_of = {a: ws.pseudonymizer.pseudonym(a) for a in agent_ids}
    schedule = ws.db.schedule.on_days(days)

    kept_rows: list[Row] = []
    pending_rows: list[Row] = []
    before_t0 = 0
    for path_str, keys in keys_by_file.items():
        entry = entries[path_str]
        flagged = _flags_by_agent(keys, resolved[path_str], entry.unmatched)
        for agent_id, day, half, vpn, mail, apps in zip(
            *(flagged.column(c).to_pylist() for c in FLAG_COLUMNS), strict=True
        ):
            half_name = HALF_NAMES[half]
            fate = route(scope, agent_id, day, half_name, schedule)
            row = (pseudonym_of[agent_id], day, half_name, fate, vpn, mail, apps)
            if fate in ("telework", "on_site"):
                kept_rows.append(row)
                entry.kept += 1
            elif fate == "pending":
                pending_rows.append(row)
                entry.pending += 1
            else:
                entry.dropped[fate] += 1
                before_t0 += fate == "before_t0"

    for source, table in (("pending", pending_before), ("records", stored)):
        for r in table.to_pylist():
            agent_id = by_pseudonym.get(r["agent"])
            if agent_id is None:
                # The agent left the directory: the record is not kept beyond this run.
                report.expired += 1
                continue
            fate = route(scope, agent_id, r["day"], r["half"], schedule)
            row = (r["agent"], r["day"], r["half"], fate, r["vpn"], r["mail"], r["apps"])
            if fate in ("telework", "on_site"):
                kept_rows.append(row)
                report.promoted += source == "pending"
            elif fate == "pending":
                pending_rows.append(row)
            else:
                report.expired += 1

    kept = _record_table(kept_rows)
    pend = _record_table(pending_rows)
    changes: dict[str, dict[date, pa.Table | None]] = {"records": {}, "pending": {}, "study": {}}
    for fate, table in TABLE_OF_FATE.items():
        # telework half-days go to the check's records, on-site ones to the study (E8)
        mine = kept.filter(pc.equal(kept.column("scope"), fate))
        new_days = set(mine.column("day").to_pylist())
        untouched_existing = ws.activity.read(table, sorted(new_days - recheck_days))
        for day in new_days | recheck_days:
            changes[table][day] = merge_flags(_on_day(untouched_existing, day), _on_day(mine, day))
    # The pending table is rewritten whole: it only ever holds a few days.
    for day in ws.activity.partitions("pending"):
        changes["pending"][day] = None
    for day in set(pend.column("day").to_pylist()):
        changes["pending"][day] = merge_flags(_on_day(pend, day))
    pause("before-commit")
    ws.activity.commit(changes, base=base)

    totals: Counter[str] = Counter()
    for e in entries.values():
        totals.update(e.dropped)
    ws.audit.append(
        who.login,
        who.role.value,
        "ingest" if keys_by_file else "rescope",
        reason=tr("ingestion de journaux", "log ingestion")
        if keys_by_file
        else tr(
            "nouveau planning : demi-journées réexaminées", "new schedule: half-days re-examined"
        ),
        details={
            "files": len(keys_by_file),
            "half_days_kept": sum(e.kept for e in entries.values()),
            "pending": len(pending_rows),
            "promoted": report.promoted,
            "expired": report.expired,
            "dropped": dict(totals),
        },
    )
    if before_t0:
        # Rule A6: a backfill older than T0 is refused; the refusal is audited with its count.
        ws.audit.append(
            who.login,
            who.role.value,
            "backfill_refused",
            reason=tr(
                "données antérieures au T0 des agents (A6)", "data older than the agents' T0 (A6)"
            ),
            details={"half_days": before_t0},
        )


def rescope(ws: Workspace, days: set[date], who: Identity = OPERATOR) -> IngestReport:
    """After a schedule import: re-route pending half-days and stored records of ``days``."""
    report = IngestReport()
    with ws.lock.hold("schedule import"):
        reconcile(ws, report, {}, {}, days, who)
    return report


__all__ = [
    "DROP_RULES",
    "KEY_SCHEMA",
    "FileReport",
    "IngestReport",
    "ingest",
    "map_task",
    "mask",
    "rescope",
    "route",
]
