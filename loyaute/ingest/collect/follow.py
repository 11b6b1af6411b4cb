"""Following growing files across rotations, without losing or re-reading what was committed.

A followed file is known by its device and inode, and by a fingerprint (SHA-256) of its first
bytes, so the same file is recognised under a new name and a new file under the old name is
told apart. Only complete lines are read; the offset after the last one read is what a commit
records (after the store commit, so a crash replays, never skips).

Rotations, as logrotate does them:

* **rename** (``create``): the path now names a new file. The old one is still open: it is read
  to its end, and until it has stopped growing for ``grace_seconds`` (a writer may hold it
  open a moment longer), then closed and forgotten; the new one is read from its start.
* **copytruncate**: the same file shrinks (or its first bytes change). The copy the rotation
  made is found beside it by its first bytes, and read from the recorded offset to its end —
  the lines written between the last read and the copy — then the truncated file from its start.
  Lines written after the copy and before the truncation are lost to every reader: that is
  copytruncate's own limit (logrotate's manual says so).
* **compression** (``compress``, ``delaycompress``): a rotated ``.gz`` (or ``.bz2``, ``.zst``)
  is never read again when the plain file it came from was read to its end; when the collector
  was stopped before reading it all, the unread end is read from the compressed copy.

A path given as a glob (``/var/log/exchange/u_ex*.log``) follows each match; compressed matches
are not followed (they do not grow; ``loyaute ingest`` reads history).
"""

from __future__ import annotations

import glob
import hashlib
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from loyaute.errors import InputError
from loyaute.i18n import tr
from loyaute.ingest.collect.intake import Intake, Origin
from loyaute.ingest.collect.metrics import Counters, FollowedStatus
from loyaute.ingest.files import BackwardReader, ReadError, compression_of, open_stream
from loyaute.ingest.reading import UnrecognisedFileError, nul_to_newline, resolve_source
from loyaute.sources.base import LineParser, Reason, Source
from loyaute.store.collector import FollowState

HEAD_BYTES = 1024
"""Bytes of a file's beginning that identify its content."""

_GLOB_CHARS = frozenset("*?[")


def is_glob(spec: str) -> bool:
    """True when a ``--follow`` argument is a pattern rather than one path."""
    return any(c in spec for c in _GLOB_CHARS)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Tracked:
    """One open followed file."""

    spec: str
    path: Path
    fd: int
    device: int
    inode: int
    offset: int = 0
    head_sha256: str = ""
    head_bytes: int = 0
    origin: Origin | None = None
    refused: str = ""
    draining_since: float | None = None
    """Set when the file was rotated away: it is read to its end, then closed."""
    last_growth: float = field(default_factory=time.monotonic)
    skipping: bool = False
    """Discarding a line longer than ``max_line_bytes`` up to its end."""
    size: int = 0
    recorded: bool = False
    """True once a commit recorded that this file is followed: nothing of a file is read
    before, so after a crash every file that may hold lines read and not committed is known."""

    def state(self, at: str) -> FollowState:
        """What a commit records of this file."""
        return FollowState(
            self.spec,
            str(self.path),
            self.device,
            self.inode,
            self.offset,
            self.head_sha256,
            self.head_bytes,
            at,
        )


class Follower:
    """Follows the files of every ``--follow`` argument and hands complete lines to the intake."""

    def __init__(
        self,
        specs: list[str],
        intake: Intake,
        counters: Counters,
        *,
        forced: str | None,
        saved: list[FollowState],
        chunk_bytes: int = 1 << 20,
        max_line_bytes: int = 1 << 20,
        grace_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.specs = specs
        self.intake = intake
        self.counters = counters
        self.forced = forced
        self.chunk_bytes = chunk_bytes
        self.max_line_bytes = max_line_bytes
        self.grace_seconds = grace_seconds
        self.clock = clock
        self.tracked: dict[tuple[int, int], Tracked] = {}
        self.gone: list[tuple[str, int, int]] = []
        self._compressed: set[tuple[int, int]] = set()
        self._resume(saved)

    # --- startup ------------------------------------------------------------------------------

    def _resume(self, saved: list[FollowState]) -> None:
        """Find each file a previous run was reading, wherever rotation put it."""
        for state in saved:
            if state.spec not in self.specs:
                continue  # no longer followed: its record stays for when it is again
            if not self._locate(state):
                self.gone.append((state.spec, state.device, state.inode))
                self.counters.skipped["rotated_file_missing"] += 1
                self.counters.warn(
                    tr(
                        f"{state.path} : fichier suivi introuvable après rotation ; ce qui y fut "
                        f"écrit après l'octet {state.offset} n'a pas été lu",
                        f"{state.path}: followed file not found after rotation; what was written "
                        f"after byte {state.offset} was not read",
                    )
                )

    def _locate(self, state: FollowState) -> bool:
        """Open the file ``state`` describes under its name or a rotated one (``poll`` then
        follows it, or drains it when no followed path names it any more); else read its unread
        end from a copy (compressed or truncated rotation). False when neither is found."""
        where = Path(state.path)
        candidates = [where, *self._siblings(where)]
        for path in candidates:
            try:
                st = path.stat()
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) == (state.device, state.inode):
                return self._open(state.spec, path, resume=state) is not None
        for path in candidates:
            if self._read_copy(state, path):
                self.gone.append((state.spec, state.device, state.inode))
                return True
        return False

    def _siblings(self, path: Path) -> list[Path]:
        """Files beside ``path`` whose name starts with its name (``x.log.1``, ``x.log-2026…``,
        ``x.log.2.gz``), newest first."""
        try:
            names = os.listdir(path.parent)
        except OSError:
            return []
        base = path.name
        found = [path.parent / n for n in names if n.startswith(base) and n != base]
        found.sort(key=lambda p: (_mtime(p), p.name), reverse=True)
        return found

    # --- opening ------------------------------------------------------------------------------

    def _open(self, spec: str, path: Path, resume: FollowState | None = None) -> Tracked | None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        st = os.fstat(fd)
        tracked = Tracked(spec, path, fd, st.st_dev, st.st_ino, size=st.st_size)
        if resume is not None:
            tracked.recorded = True
            head = os.pread(fd, resume.head_bytes, 0)
            if len(head) == resume.head_bytes and _sha(head) == resume.head_sha256:
                tracked.offset = resume.offset
                tracked.head_sha256, tracked.head_bytes = resume.head_sha256, resume.head_bytes
            elif resume.head_bytes > 0:
                # Truncated or rewritten while the collector was stopped (copytruncate, or the
                # inode reused by a new file): the unread end may be in a copy beside it.
                self._copy_or_warn(resume, path)
        self._update_head(tracked)
        self.tracked[(st.st_dev, st.st_ino)] = tracked
        return tracked

    def _origin(self, tracked: Tracked) -> Origin | None:
        """The file's source, chosen as ``ingest`` chooses it (or ``--format``)."""
        if tracked.origin is not None:
            return tracked.origin
        try:
            source = resolve_source(tracked.path, self.intake.sources, self.forced)
        except UnrecognisedFileError as exc:
            if exc.reason.value == "empty_file":
                return None
            tracked.refused = exc.reason.value
            return None
        except (InputError, OSError):
            return None
        tracked.refused = ""
        origin = Origin(str(tracked.path), "file")
        origin.use(source, source.name in self.intake.enabled, self._parser(source, tracked))
        if source.name not in self.intake.enabled:
            self.counters.warn(
                f"{tracked.path}: format {source.name} non activé / not enabled ([sources] enabled)"
            )
        tracked.origin = origin
        return origin

    def _parser(self, source: Source, tracked: Tracked) -> LineParser:
        if tracked.offset == 0:
            return source.parser()
        with BackwardReader(tracked.path) as prefix:
            return source.parser_at(source.prefix_state(prefix, tracked.offset))

    # --- polling ------------------------------------------------------------------------------

    def poll(self, budget_bytes: int = 8 << 20) -> bool:
        """Look at every followed path once and read what was added; True when a file has more
        to read than the budget allowed (call again soon)."""
        now = self.clock()
        current: dict[tuple[int, int], Tracked] = {}
        for spec in self.specs:
            for path in self._paths(spec):
                try:
                    st = path.stat()
                except OSError:
                    continue
                key = (st.st_dev, st.st_ino)
                if key in self._compressed:
                    continue
                tracked = self.tracked.get(key)
                if tracked is None:
                    if compression_of(path) is not None:  # does not grow: ingest reads it
                        self._compressed.add(key)
                        if not is_glob(spec):
                            self.counters.warn(
                                tr(
                                    f"{path} : fichier compressé, non suivi (loyaute ingest le lit)",
                                    f"{path}: compressed file, not followed (loyaute ingest reads it)",
                                )
                            )
                        continue
                    tracked = self._open(spec, path)
                    if tracked is None:
                        continue
                elif tracked.path != path:
                    tracked.path = path  # renamed, still matched (a glob that sees the rotation)
                    if tracked.origin is not None:
                        tracked.origin.name = str(path)
                tracked.draining_since = None
                current[key] = tracked
        more = False
        for key, tracked in list(self.tracked.items()):
            if key not in current and tracked.draining_since is None:
                tracked.draining_since = now
            more |= self._read(tracked, budget_bytes, now)
            if (
                tracked.draining_since is not None
                and now - max(tracked.draining_since, tracked.last_growth) >= self.grace_seconds
            ):
                self._finish(tracked)
        self._report()
        return more

    def _paths(self, spec: str) -> list[Path]:
        """Regular files only: a FIFO or a device would block or never end."""
        if not is_glob(spec):
            return [Path(spec)] if os.path.isfile(spec) else []
        return [Path(p) for p in sorted(glob.glob(spec)) if os.path.isfile(p)]

    def _read(self, tracked: Tracked, budget: int, now: float) -> bool:
        """Read complete lines added to ``tracked``; True when more remains."""
        try:
            size = os.fstat(tracked.fd).st_size
        except OSError:
            return False
        if size < tracked.offset or (tracked.head_bytes and not self._same_head(tracked)):
            self._truncated(tracked)
            size = os.fstat(tracked.fd).st_size
        tracked.size = size
        self._update_head(tracked)
        if size <= tracked.offset or not tracked.recorded:
            return False
        origin = self._origin(tracked)
        if origin is None:
            return False
        tracked.last_growth = now
        window = max(self.chunk_bytes, self.max_line_bytes + 1)
        while budget > 0 and tracked.offset < size:
            data = os.pread(tracked.fd, min(window, size - tracked.offset), tracked.offset)
            if not data:
                break
            budget -= len(data)
            if not self._take(tracked, origin, data):
                break
        return tracked.offset < size and budget <= 0

    def _take(self, tracked: Tracked, origin: Origin, data: bytes) -> bool:
        """Hand the complete lines at the start of ``data`` over; False when none is complete."""
        if tracked.skipping:
            end = data.find(b"\n")
            if end < 0:
                tracked.offset += len(data)
                return True
            tracked.offset += end + 1
            tracked.skipping = False
            return True
        end = max(data.rfind(b"\n"), data.rfind(b"\x00"))
        if end < 0:
            if len(data) > self.max_line_bytes:
                self.counters.lines["file"] += 1
                self.counters.skipped[Reason.LINE_TOO_LONG.value] += 1
                tracked.offset += len(data)
                tracked.skipping = True
                return True
            return False
        block = data[: end + 1]
        tracked.offset += end + 1
        self._feed(origin, block)
        return True

    def _update_head(self, tracked: Tracked) -> None:
        """The fingerprint of the file's first bytes (up to ``HEAD_BYTES``, more as it grows)."""
        if tracked.head_bytes >= HEAD_BYTES or tracked.head_bytes >= tracked.size:
            return
        head = os.pread(tracked.fd, min(HEAD_BYTES, tracked.size), 0)
        tracked.head_bytes, tracked.head_sha256 = len(head), _sha(head)

    def _same_head(self, tracked: Tracked) -> bool:
        head = os.pread(tracked.fd, tracked.head_bytes, 0)
        return len(head) == tracked.head_bytes and _sha(head) == tracked.head_sha256

    def _truncated(self, tracked: Tracked) -> None:
        """copytruncate: finish the old content from the copy beside it, then start over."""
        if tracked.offset > 0:
            self._copy_or_warn(tracked.state(""), tracked.path)
        tracked.offset, tracked.head_bytes, tracked.head_sha256 = 0, 0, ""
        tracked.skipping = False
        tracked.size = os.fstat(tracked.fd).st_size
        self._update_head(tracked)
        if tracked.origin is not None and tracked.origin.source is not None:
            tracked.origin.parser = tracked.origin.source.parser()

    def _copy_or_warn(self, state: FollowState, path: Path) -> None:
        if any(self._read_copy(state, p) for p in self._siblings(path)):
            return
        self.counters.skipped["truncated_without_copy"] += 1
        self.counters.warn(
            tr(
                f"{path} : tronqué sans copie retrouvée ; des lignes écrites après l'octet "
                f"{state.offset} peuvent manquer",
                f"{path}: truncated and no copy found; lines written after byte {state.offset} "
                "may be missing",
            )
        )

    def _read_copy(self, state: FollowState, path: Path) -> bool:
        """Read ``path`` from ``state.offset`` to its end when its first bytes are those of the
        file ``state`` describes (a rotated or truncated copy, plain or compressed)."""
        if state.head_bytes == 0:
            return False
        try:
            with open_stream(path) as stream:
                head = stream.read(state.head_bytes)
                if len(head) != state.head_bytes or _sha(head) != state.head_sha256:
                    return False
                if _gzip_size(path) == state.offset & 0xFFFFFFFF:
                    return True  # read to its end before it was compressed: skipped
                skip = state.offset - len(head)
                while skip > 0:
                    piece = stream.read(min(skip, self.chunk_bytes))
                    if not piece:
                        return True  # the copy holds nothing beyond what was read
                    skip -= len(piece)
                origin = self._copy_origin(path)
                rest = head[state.offset :]  # not read yet when the offset is within the head
                while True:
                    piece = stream.read(self.chunk_bytes)
                    if not piece:
                        break
                    data = rest + piece
                    end = max(data.rfind(b"\n"), data.rfind(b"\x00"))
                    if end < 0:
                        rest = data
                        continue
                    rest = data[end + 1 :]
                    self._feed(origin, data[: end + 1])
                if rest.strip():
                    self._feed(origin, rest + b"\n")
        except (OSError, ReadError, EOFError, ValueError):
            return False
        return True

    def _copy_origin(self, path: Path) -> Origin:
        source = (
            self.intake.sources[self.forced]
            if self.forced is not None
            else resolve_source(path, self.intake.sources, None)
        )
        origin = Origin(str(path), "file")
        origin.use(source, source.name in self.intake.enabled)
        return origin

    def _feed(self, origin: Origin, block: bytes) -> None:
        """Complete lines to the intake; a line over ``max_line_bytes`` is skipped and counted
        (``line_too_long``), as ``ingest`` does."""
        self.counters.bytes["file"] += len(block)
        if b"\x00" in block:
            block = nul_to_newline(block)
        for part in split_long_lines(block, self.max_line_bytes):
            if part is None:
                self.counters.lines["file"] += 1
                self.counters.skipped[Reason.LINE_TOO_LONG.value] += 1
                origin.lines += 1
            else:
                self.intake.parse_block(origin, part)

    def _finish(self, tracked: Tracked) -> None:
        """A rotated file that stopped growing: its last line (without a newline) is a line too,
        as ``ingest`` reads it; then it is closed and forgotten."""
        try:
            size = os.fstat(tracked.fd).st_size
            if size > tracked.offset and not tracked.skipping:
                origin = self._origin(tracked)
                data = os.pread(tracked.fd, size - tracked.offset, tracked.offset)
                if origin is not None and data.strip():
                    self._feed(origin, data + b"\n")
                tracked.offset = size
        except OSError:
            pass
        os.close(tracked.fd)
        del self.tracked[(tracked.device, tracked.inode)]
        self.gone.append((tracked.spec, tracked.device, tracked.inode))

    # --- what a commit records ----------------------------------------------------------------

    def checkpoint(self, at: str) -> tuple[list[FollowState], list[tuple[str, int, int]]]:
        """Offsets of the open files, and the files read to their end since the last call."""
        gone, self.gone = self.gone, []
        states = [t.state(at) for t in self.tracked.values()]
        return states, gone

    def recorded(self, states: list[FollowState]) -> None:
        """A commit recorded these files: they may be read now."""
        for state in states:
            tracked = self.tracked.get((state.device, state.inode))
            if tracked is not None:
                tracked.recorded = True

    @property
    def unrecorded(self) -> bool:
        """True when a file was found that no commit recorded yet (commit soon)."""
        return any(not t.recorded for t in self.tracked.values())

    def restore(self, gone: list[tuple[str, int, int]]) -> None:
        """A commit failed: the files it would have forgotten are forgotten at the next one."""
        self.gone = gone + self.gone

    def _report(self) -> None:
        self.counters.follow = [
            FollowedStatus(
                str(t.path),
                t.origin.source.name if t.origin is not None and t.origin.source else "",
                t.offset,
                t.size,
                f"refused: {t.refused}"
                if t.refused
                else "draining"
                if t.draining_since is not None
                else "following",
            )
            for t in self.tracked.values()
        ]

    def close(self) -> None:
        """Close every file (offsets are whatever the last commit recorded)."""
        for tracked in self.tracked.values():
            os.close(tracked.fd)
        self.tracked.clear()


def split_long_lines(block: bytes, max_line_bytes: int) -> list[bytes | None]:
    """``block`` (newline-terminated lines) cut around the lines longer than
    ``max_line_bytes``, each of which becomes None."""
    if len(block) <= max_line_bytes:
        return [block]
    ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 0x0A)
    starts = np.concatenate(([0], ends[:-1] + 1))
    long = np.flatnonzero(ends - starts > max_line_bytes)
    if not len(long):
        return [block]
    out: list[bytes | None] = []
    at = 0
    for i in long.tolist():
        if starts[i] > at:
            out.append(block[at : int(starts[i])])
        out.append(None)
        at = int(ends[i]) + 1
    if at < len(block):
        out.append(block[at:])
    return out


def _gzip_size(path: Path) -> int | None:
    """The uncompressed size (modulo 2³²) a gzip file's trailer records, without decompressing
    it (logrotate writes one member); None for anything else."""
    try:
        if compression_of(path) != "gzip":
            return None
        with path.open("rb") as f:
            f.seek(-4, os.SEEK_END)
            return int.from_bytes(f.read(4), "little")
    except OSError:
        return None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
