"""One writer at a time (rule H5): an exclusive OS lock on the workspace.

Every command that changes the workspace — ingestion, imports, notices, retention, continuous
collection — holds ``WorkspaceLock`` while it works. It is an ``flock`` on ``.lock`` in the
workspace, so a holder that crashes releases it; a second writer waits a bounded time, then
stops with a message naming the holder (pid, command, OS user, since when), written into the
lock file by whoever holds it. The lock is re-entrant within one process (an ingest runs a
purge). The store's compare-and-swap (``ActivityStore.commit(…, base=…)``) is the second line:
no code path, locked or not, can lose another's commit.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from loyaute.errors import LoyauteError
from loyaute.i18n import tr

POLL_SECONDS = 0.1


class WorkspaceBusy(LoyauteError):
    """Another writer holds the workspace and did not let go in time."""


class WorkspaceLock:
    """The exclusive writer lock of one workspace: between processes (``flock``) and between
    the threads of one process (the web server's); re-entrant within a thread."""

    _held: ClassVar[dict[str, tuple[int, int]]] = {}
    """lock path → (file descriptor, depth): one flock per process and workspace."""
    _threads: ClassVar[dict[str, threading.RLock]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path, wait_seconds: float) -> None:
        self.path = path
        self.wait_seconds = wait_seconds

    def holder(self) -> str:
        """Who holds the lock, as its holder wrote it (or '' when unknown)."""
        try:
            info = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return ""
        if not isinstance(info, dict) or not info:
            return ""
        return tr(
            f"« {info.get('command', '?')} » (pid {info.get('pid')}, {info.get('user', '?')}@"
            f"{info.get('host', '?')}, depuis {info.get('since', '?')})",
            f"'{info.get('command', '?')}' (pid {info.get('pid')}, {info.get('user', '?')}@"
            f"{info.get('host', '?')}, since {info.get('since', '?')})",
        )

    @contextmanager
    def hold(self, command: str, wait_seconds: float | None = None) -> Iterator[None]:
        """Hold the lock for the block; wait up to ``wait_seconds`` (the configured bound by
        default), then raise ``WorkspaceBusy``."""
        if not self.acquire(command, self.wait_seconds if wait_seconds is None else wait_seconds):
            raise WorkspaceBusy(
                tr(
                    f"l'espace de travail est en cours de modification par {self.holder() or 'un autre processus'}",
                    f"the workspace is being changed by {self.holder() or 'another process'}",
                ),
                hint=tr(
                    "relancer une fois cette opération terminée (une seule écriture à la fois, H5)",
                    "run again once that operation is over (one writer at a time, H5)",
                ),
            )
        try:
            yield
        finally:
            self.release()

    def acquire(self, command: str, wait_seconds: float) -> bool:
        """Take the lock (re-entrant within a thread); False when another thread or process
        kept it ``wait_seconds``."""
        key = str(self.path.resolve())
        deadline = time.monotonic() + max(0.0, wait_seconds)
        with self._guard:
            thread_lock = self._threads.setdefault(key, threading.RLock())
        if not thread_lock.acquire(timeout=max(0.0, wait_seconds)):
            return False
        with self._guard:
            held = self._held.get(key)
            if held is not None:
                self._held[key] = (held[0], held[1] + 1)
                return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    thread_lock.release()
                    return False
                time.sleep(POLL_SECONDS)
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "user": _os_user(),
            "command": command,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        with self._guard:
            self._held[key] = (fd, 1)
        return True

    def release(self) -> None:
        """Let go (the outermost release unlocks)."""
        key = str(self.path.resolve())
        with self._guard:
            fd, depth = self._held[key]
            thread_lock = self._threads[key]
            if depth > 1:
                self._held[key] = (fd, depth - 1)
                thread_lock.release()
                return
            del self._held[key]
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        thread_lock.release()


def _os_user() -> str:
    import pwd  # noqa: PLC0415 - POSIX only, as flock

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())
