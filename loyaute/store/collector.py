"""The collector's own state: where each followed file was read up to, and the health snapshot
the operator's page shows (``loyaute collect``).

Offsets are written after the store commit that covers the lines before them, so a crash between
the two replays a few lines — harmless, half-day flags are OR-ed — and never skips one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from loyaute.store.state import Repo, row_to, transaction


@dataclass(frozen=True)
class FollowState:
    """How far a followed file was read: which file (device and inode, and a fingerprint of its
    first bytes, so a file replaced under the same name is told apart), and the offset of the
    first byte not yet committed."""

    spec: str
    """The ``--follow`` argument (a path or a glob) that found the file."""
    path: str
    device: int
    inode: int
    offset: int
    head_sha256: str
    head_bytes: int
    updated_at: str


@dataclass(frozen=True)
class CollectorStatus:
    """The last health snapshot a collector wrote (``status`` is its JSON)."""

    updated_at: str
    status: dict[str, Any]


class CollectorRepo(Repo):
    """Followed files and the collector's health snapshot."""

    def followed(self, spec: str | None = None) -> list[FollowState]:
        """Every followed file (of one ``--follow`` argument), oldest first."""
        if spec is None:
            rows = self.conn.execute("SELECT * FROM followed_files ORDER BY rowid")
        else:
            rows = self.conn.execute(
                "SELECT * FROM followed_files WHERE spec = ? ORDER BY rowid", (spec,)
            )
        return [row_to(FollowState, r) for r in rows]

    def save(
        self,
        states: list[FollowState],
        gone: list[tuple[str, int, int]],
        status: dict[str, Any],
        at: str,
    ) -> None:
        """Record offsets, forget files read to their end (``(spec, device, inode)``) and write
        the health snapshot, all at once."""
        with transaction(self.conn):
            self.conn.executemany(
                "DELETE FROM followed_files WHERE spec = ? AND device = ? AND inode = ?", gone
            )
            self.conn.executemany(
                "INSERT INTO followed_files(spec, path, device, inode, offset, head_sha256, "
                "head_bytes, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(spec, device, inode) DO UPDATE SET path = excluded.path, "
                "offset = excluded.offset, head_sha256 = excluded.head_sha256, "
                "head_bytes = excluded.head_bytes, updated_at = excluded.updated_at",
                [
                    (
                        s.spec,
                        s.path,
                        s.device,
                        s.inode,
                        s.offset,
                        s.head_sha256,
                        s.head_bytes,
                        s.updated_at,
                    )
                    for s in states
                ],
            )
            self.write_status(status, at)

    def write_status(self, status: dict[str, Any], at: str) -> None:
        """Replace the health snapshot."""
        self.conn.execute(
            "INSERT INTO collector_status(id, updated_at, status) VALUES (1, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, "
            "status = excluded.status",
            (at, json.dumps(status, ensure_ascii=False, sort_keys=True)),
        )

    def status(self) -> CollectorStatus | None:
        """The last health snapshot, if a collector ever ran."""
        row = self.conn.execute(
            "SELECT updated_at, status FROM collector_status WHERE id = 1"
        ).fetchone()
        if row is None:
            return None
        return CollectorStatus(row["updated_at"], json.loads(row["status"]))
