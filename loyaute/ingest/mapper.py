"""The map side of an ingest run: what one task does, in whichever process runs it.

A task (a file, or a byte range of a big file) is parsed by its source and reduced to (login,
local day, half-day, category) keys; its counts, the keys, a few masked examples of unreadable
lines (F6) and the SHA-256 of what it read go back to the driver — nothing else. This module is
what a worker process imports (the forkserver preloads it): it needs the sources, the reduction
and Arrow, never the workspace, the policy core or the store, so that a worker starts quickly.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from loyaute.ingest.engine import Task
from loyaute.ingest.files import ReadError
from loyaute.ingest.reading import FileResult, parse_blocks
from loyaute.presence.reduce import KEY_SCHEMA, distinct, reduce_events
from loyaute.presence.windows import Windows
from loyaute.sources.base import Reason

QUARANTINE_REASONS = frozenset({Reason.MALFORMED.value, Reason.BAD_TIME.value})
QUARANTINE_PER_FILE = 5
_TOKEN_RE = re.compile(r"[A-Za-z0-9À-ÿ]+")


def mask(text: str, limit: int = 300) -> str:
    """Rule F6: keep a line's shape, hide its identifiers (first character of each word kept)."""
    return _TOKEN_RE.sub(lambda m: m.group(0)[0] + "*" * (len(m.group(0)) - 1), text[:limit])


LONG_LINE_MARK = b"\x00line too long\x00"
"""What a line too long to be read adds to a file's content hash in place of its bytes."""


@dataclass
class TaskResult:
    """What the map side sends back for one task: counts, keys, masked examples."""

    file: FileResult
    keys: pa.Table
    examples: list[tuple[int, str, str]] = field(default_factory=list)
    digests: list[tuple[int, str]] = field(default_factory=list)
    """(start offset of the range, SHA-256 of the records it read), for the file's identity."""


@dataclass(frozen=True)
class MapSettings:
    """Presence settings the map side needs (picklable)."""

    windows: Windows
    count_background: bool
    fail_task: str = ""


def _fault_injection(task: Task, where: str) -> None:
    """Tests of engine failures: ``<dir>`` kills the worker process on a task's first attempt (a
    marker file in that folder remembers it), ``always`` on every attempt, ``kill:<file name>``
    every process but the main one that reads that file. Set through ``ingest(fail_task=…)`` or
    ``LOYAUTE_FAIL_TASK``; empty in normal use."""
    if not where:
        return
    if where.startswith("kill:"):
        if task.path.name == where[5:] and multiprocessing.parent_process() is not None:
            os._exit(137)
        return
    if where != "always":
        marker = Path(where) / hashlib.sha256(f"{task.path}{task.byte_range}".encode()).hexdigest()
        try:
            marker.touch(exist_ok=False)
        except FileExistsError:
            return
    os._exit(137)


def map_task(task: Task, settings: MapSettings) -> TaskResult:
    """Parse and reduce one file or range; never raises for bad input."""
    _fault_injection(task, settings.fail_task or os.environ.get("LOYAUTE_FAIL_TASK", ""))
    result = FileResult(str(task.path), task.source.name)
    parts: list[pa.Table] = []
    examples: list[tuple[int, str, str]] = []
    digest = hashlib.sha256()
    try:
        for chunk, parsed in parse_blocks(
            task.path,
            task.source,
            chunk_bytes=task.chunk_bytes,
            max_line_bytes=task.max_line_bytes,
            byte_range=task.byte_range,
        ):
            digest.update(LONG_LINE_MARK if chunk is None else chunk.data)
            if not parts:
                pause(f"reading {task.path.name}")
            result.add(parsed)
            parts.append(reduce_events(parsed.events, settings.windows, settings.count_background))
            if chunk is not None and len(examples) < QUARANTINE_PER_FILE:
                examples += _examples(
                    chunk.data, chunk.first_line, parsed, QUARANTINE_PER_FILE - len(examples)
                )
    except ReadError as exc:
        result.error = exc.reason
    start = task.byte_range[0] if task.byte_range is not None else 0
    return TaskResult(result, distinct(parts), examples, [(start, digest.hexdigest())])


def _examples(
    data: bytes | memoryview, first: int, parsed: Any, room: int
) -> list[tuple[int, str, str]]:
    out: list[tuple[int, str, str]] = []
    skipped = parsed.skipped
    if not skipped.num_rows:
        return out
    wanted = pc.is_in(skipped.column("reason"), pa.array(sorted(QUARANTINE_REASONS)))
    picked = skipped.filter(wanted).slice(0, room).to_pylist()
    if not picked:
        return out
    lines = bytes(data).split(b"\n")
    for row in sorted(picked, key=lambda r: r["line"]):
        if 0 <= row["line"] - first < len(lines):
            raw = lines[row["line"] - first].decode("utf-8", "replace").rstrip("\r")
            out.append((row["line"], row["reason"], mask(raw)))
    return out


def lost_task(task: Task, reason: str) -> TaskResult:
    """The result of a task whose worker process died each time it ran: its file fails."""
    return TaskResult(
        FileResult(str(task.path), task.source.name, error=reason), KEY_SCHEMA.empty_table()
    )


def result_key(result: TaskResult) -> str:
    """Results of the ranges of one file are merged together."""
    return result.file.path


def merge_results(a: TaskResult, b: TaskResult) -> TaskResult:
    """The OR-reduce of two results of the same file: counts add up, keys unite (any order)."""
    file = FileResult(a.file.path, a.file.format)
    file.merge(a.file)
    file.merge(b.file)
    examples = sorted(a.examples + b.examples)[:QUARANTINE_PER_FILE]
    return TaskResult(file, distinct([a.keys, b.keys]), examples, sorted(a.digests + b.digests))


class MapCall:
    """A picklable ``fn(task)`` for the engine."""

    def __init__(self, settings: MapSettings) -> None:
        self.settings = settings

    def __call__(self, task: Task) -> TaskResult:
        return map_task(task, self.settings)


def pause(point: str) -> None:
    """Tests of concurrent writers and of files changing under the reader:
    ``LOYAUTE_PAUSE_AT=point:seconds`` sleeps at that point (``before-reconcile``,
    ``before-commit``, ``reading <file name>`` after a file's first block); unset in normal
    use."""
    spec = os.environ.get("LOYAUTE_PAUSE_AT", "")
    name, _, seconds = spec.partition(":")
    if name == point and seconds:
        time.sleep(float(seconds))


__all__ = [
    "LONG_LINE_MARK",
    "QUARANTINE_PER_FILE",
    "QUARANTINE_REASONS",
    "MapCall",
    "MapSettings",
    "TaskResult",
    "lost_task",
    "map_task",
    "mask",
    "merge_results",
    "pause",
    "result_key",
]
