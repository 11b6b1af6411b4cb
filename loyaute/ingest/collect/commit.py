"""The one door through which the collector writes to the workspace.

Everything ``loyaute collect`` stores goes through ``commit_keys``: new half-day keys through the
same gates, scope and atomic commit as ``ingest`` (``pipeline.reconcile``), then — only once the
store commit is done — the offsets of the followed files and the collector's health snapshot. A
crash between the two replays lines whose flags are already set: harmless, flags are OR-ed.
The workspace's write lock (H5) is taken here, for each commit, and nowhere else in the collector.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from loyaute.errors import LoyauteError
from loyaute.i18n import tr
from loyaute.ingest.pipeline import FileReport, IngestReport, reconcile
from loyaute.policy import gates as gates_mod
from loyaute.policy.register import load_register
from loyaute.policy.retention import purge
from loyaute.policy.roles import Identity
from loyaute.store.collector import FollowState
from loyaute.workspace import Workspace

LOCK_WAIT_SECONDS = 5.0
"""How long a commit waits for another writer before it is tried again at the next one."""

GATES = ("A1", "A2", "A3")
"""What ingestion needs (as ``ingest``): the register entry, the DPIA, a lawful basis."""


@dataclass
class CommitBatch:
    """What one commit writes."""

    keys: dict[str, pa.Table] = field(default_factory=dict)
    """New half-day keys (``KEY_SCHEMA``) by origin; may be empty (offsets and health only)."""
    follow: list[FollowState] = field(default_factory=list)
    gone: list[tuple[str, int, int]] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    purge: bool = False
    """Apply retention first (at start-up and when the local day changes, as ``ingest`` does)."""


@dataclass
class CommitResult:
    """What a commit did: the ingest report of its keys, and how long it took."""

    report: IngestReport
    entries: dict[str, FileReport]
    seconds: float
    stored: bool


def require_gates(ws: Workspace) -> list[str]:
    """Refuse, with the gate's reason, unless A1–A3 hold with ``register.toml`` as it is now;
    returns the warnings (A4) ``ingest`` gives too. The running collector re-reads the register
    at every commit, so a gate that stops holding stops it."""
    ws.register = load_register(ws.paths.register)
    gates = gates_mod.evaluate(ws.settings, ws.register)
    gates_mod.require(gates, GATES, tr("collecte", "collection"))
    a4 = next(g for g in gates if g.id == "A4")
    return [] if a4.ok else [f"A4 : {a4.reason}"]


def commit_keys(ws: Workspace, batch: CommitBatch, who: Identity) -> CommitResult:
    """Store ``batch``: gates, then keys (``reconcile``: pseudonyms, scope, atomic commit,
    audit), then followed-file offsets and the health snapshot. Raises ``GateError`` without
    writing anything but the health snapshot when a gate no longer holds, ``StoreError`` when
    the store cannot be written (it is unchanged; the caller keeps the keys and retries)."""
    started = time.monotonic()
    at = ws.clock.now().isoformat(timespec="seconds")
    try:
        require_gates(ws)
    except LoyauteError as exc:
        ws.db.collector.write_status({**batch.status, "state": f"refused: {exc}"}, at)
        raise
    # One writer at a time (H5): an ingest, a schedule import or a purge holding the workspace
    # makes this commit wait a little, then fail with WorkspaceBusy — the caller keeps the keys
    # and tries again at the next commit.
    with ws.lock.hold("collect", LOCK_WAIT_SECONDS):
        if batch.purge:
            purge(ws, who=who)
        report = IngestReport()
        entries: dict[str, FileReport] = {}
        if batch.keys:
            entries = {name: FileReport(name, status="collected") for name in batch.keys}
            reconcile(ws, report, entries, batch.keys, set(), who)
        ws.db.collector.save(batch.follow, batch.gone, batch.status, at)
    return CommitResult(report, entries, time.monotonic() - started, bool(batch.keys))
