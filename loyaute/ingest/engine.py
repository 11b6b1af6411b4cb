"""Engines run the map side of ingestion: one task per file, or per byte range of a big file.

The seam is narrow on purpose (STYLE.md): an engine takes picklable tasks and a top-level
function, and yields the function's results. ``LocalEngine`` uses processes on this machine;
the Spark engine (issue 6) will run the same function on executors. Callers branch on
``capabilities``, never on an engine's name.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from loyaute.errors import LoyauteError
from loyaute.ingest.files import (
    DEFAULT_CHUNK_BYTES,
    DEFAULT_MAX_LINE_BYTES,
    Location,
    compression_of,
    expand_paths,
    file_size,
    location,
    split_points,
)

if TYPE_CHECKING:  # the engine runs before any source is needed: it imports no Arrow
    from loyaute.sources.base import Source

R = TypeVar("R")

SPLIT_MIN_BYTES = 64 << 20
"""A plain file is cut into ranges for several workers only above this size."""

PARALLEL_MIN_BYTES = 128 << 20
"""Less log than this is read in-process whatever ``workers`` says. A worker process joins only
once the forkserver has imported its modules (0.4–0.8 s, most of it the main script: the whole CLI
for ``loyaute``); until then the parent parses alone, so the processes only pay when the work
is longer than that wait: about 128 MB of log at 200–400 MB/s a core."""

COMPRESSED_RATIO = 8
"""How much larger a compressed log is once decompressed, to estimate its parsing work."""


@dataclass(frozen=True)
class Task:
    """One unit of map work: a file (or a byte range of a plain file) and its source."""

    path: Location
    source: Source
    byte_range: tuple[int, int] | None = None
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES


class Engine(Protocol):
    """Runs ``fn`` over tasks: ``map`` yields each result, ``map_reduce`` merges the results
    sharing a key (the ranges of one file) and yields one per key."""

    capabilities: frozenset[str]

    def map(
        self, fn: Callable[[Task], R], tasks: Sequence[Task], lost: Lost[R] | None = None
    ) -> Iterator[R]: ...

    def map_reduce(
        self,
        fn: Callable[[Task], R],
        tasks: Sequence[Task],
        key: Callable[[R], str],
        merge: Callable[[R, R], R],
        on_progress: Callable[[int, int], None] | None = None,
        lost: Lost[R] | None = None,
    ) -> Iterator[R]: ...


Lost = Callable[[Task, str], R]
"""What stands for the result of a task whose process died (killed, out of memory) each time it
ran: given the task and a French/English reason, so that its file alone is reported failed.
Without it, such a death stops the run (``WorkerDied``)."""


class WorkerDied(LoyauteError):
    """A worker process died while reading and no ``lost`` result was given for its task."""


LOST_REASON = (
    "le processus qui lisait ce fichier s'est arrêté brutalement, deux fois (mémoire épuisée, "
    "arrêt forcé ?) / the process reading this file died, twice (out of memory, killed?)"
)


def default_workers() -> int:
    """One worker per available core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def plan(
    files: Sequence[tuple[Location, Source]],
    workers: int,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    split_min_bytes: int = SPLIT_MIN_BYTES,
) -> list[Task]:
    """Tasks for these files: big plain files of splittable sources are cut so that every
    worker has work even when there are fewer files than workers."""
    tasks: list[Task] = []
    for path, source in files:
        big = file_size(path) >= split_min_bytes * 2
        if workers > 1 and source.splittable and big and compression_of(path) is None:
            for rng in split_points(path, workers, split_min_bytes):
                tasks.append(Task(path, source, rng, chunk_bytes, max_line_bytes))
        else:
            tasks.append(Task(path, source, None, chunk_bytes, max_line_bytes))
    # Largest first, so a big file does not start last and leave the other workers idle.
    tasks.sort(
        key=lambda t: -(t.byte_range[1] - t.byte_range[0] if t.byte_range else file_size(t.path))
    )
    return tasks


class LocalEngine:
    """Worker processes on this machine (forkserver: no fork of a threaded parent).

    With ``workers`` = N the parent is one of the N: it runs tasks itself while N - 1 processes
    run the others. It starts on the smallest task at once, where waiting would cost the time a
    fresh process takes to start and import its modules (≈ 0.5–1 s); and one process fewer means
    its libraries are held once fewer. A thread of the parent feeds the processes (starting one
    blocks until the forkserver has imported its modules). Below ``parallel_min_bytes`` of log,
    starting processes would cost more than it saves: everything runs in-process."""

    capabilities = frozenset({"processes", "local_paths"})

    def __init__(self, workers: int = 0, parallel_min_bytes: int = PARALLEL_MIN_BYTES) -> None:
        self.workers = workers or default_workers()
        self.parallel_min_bytes = parallel_min_bytes

    def warm_up(self, paths: Sequence[str | Path], modules: Sequence[str]) -> bool:
        """Start the forkserver now, importing ``modules`` (those of the task function), when
        ``paths`` hold enough local log for worker processes to pay (``parallel_min_bytes``).

        Called before the caller imports its own heavy modules, the forkserver imports the
        workers' modules on the other core meanwhile, and the first worker starts as soon as
        the first task exists instead of 0.3–0.8 s later. Returns True when it started one."""
        if self.workers <= 1 or not all(isinstance(location(p), Path) for p in paths):
            return False  # object storage is sized by the run itself, over the network
        files, _ = expand_paths(paths)
        if sum(_file_work(f) for f in files) < self.parallel_min_bytes:
            return False
        _forkserver(modules)
        return True

    def map(
        self, fn: Callable[[Task], R], tasks: Sequence[Task], lost: Lost[R] | None = None
    ) -> Iterator[R]:
        """Run ``fn`` on every task; in-process when one worker, one task or a little log
        (``parallel_min_bytes``) is enough.

        A worker process that dies (killed, out of memory) breaks its pool: the tasks that were
        running then, and those not started, run again one at a time in a process of their own,
        so the task that kills its process again is the only one lost (``lost``), and the other
        files go through. Results come in no promised order."""
        if self.workers <= 1 or len(tasks) <= 1 or _work(tasks) < self.parallel_min_bytes:
            for task in tasks:
                yield fn(task)
            return
        ctx = _forkserver([_module_of(fn)], start=False)
        processes = min(self.workers - 1, len(tasks) - 1)
        work = _Work(tasks)
        back: queue.SimpleQueue[tuple[Task, Future[R]] | BaseException | None] = queue.SimpleQueue()
        stop = threading.Event()
        broken = False
        again: list[Task] = []
        with ProcessPoolExecutor(max_workers=processes, mp_context=ctx) as pool:
            feeder = threading.Thread(
                target=_feed, args=(pool, fn, work, processes, back, stop), daemon=True
            )
            feeder.start()
            try:
                feeding = True
                while feeding or not back.empty():
                    # Results the processes sent back first, then a task here if one is left,
                    # else wait for the processes.
                    if not back.empty() or broken or (mine := work.take_back()) is None:
                        item = back.get()
                        if item is None:
                            feeding = False
                        elif isinstance(item, BrokenProcessPool):
                            broken = True
                        elif isinstance(item, BaseException):
                            raise item
                        else:
                            task, future = item
                            try:
                                result = future.result()
                            except BrokenProcessPool:
                                broken = True
                                again.append(task)
                                continue
                            yield result
                        continue
                    yield fn(mine)
            finally:
                stop.set()
                feeder.join()
        for task in again + work.take_all():
            yield _alone(ctx, fn, task, lost)

    def map_reduce(
        self,
        fn: Callable[[Task], R],
        tasks: Sequence[Task],
        key: Callable[[R], str],
        merge: Callable[[R, R], R],
        on_progress: Callable[[int, int], None] | None = None,
        lost: Lost[R] | None = None,
    ) -> Iterator[R]:
        """Map in worker processes; merge per key here, as results arrive."""
        merged: dict[str, R] = {}
        for done, result in enumerate(self.map(fn, tasks, lost), 1):
            k = key(result)
            merged[k] = merge(merged[k], result) if k in merged else result
            if on_progress is not None:
                on_progress(done, len(tasks))
        return iter(merged.values())


def _forkserver(
    modules: Sequence[str], start: bool = True
) -> multiprocessing.context.ForkServerContext:
    """The forkserver context, its preload set (and the server started now with ``start``).

    The forkserver imports once what every worker needs, and each worker is a fork of it: the
    modules of the task function (which unpickling it would import), Arrow and numpy. The main
    script is listed too, but Python 3.11 does not preload it (``forkserver`` asks for a
    ``main_path`` that ``spawn`` calls ``init_main_from_path``): each worker imports it again to
    rebuild ``__main__``, which is why the ``loyaute`` command's script is ``loyaute/__main__.py``,
    which imports nothing. A server already running keeps the modules it was started with."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", *modules, "pyarrow", "numpy"])
    if start:
        from multiprocessing import forkserver  # noqa: PLC0415

        forkserver.ensure_running()
    return ctx


def _work(tasks: Sequence[Task]) -> int:
    """Bytes of log the tasks will parse (estimated for compressed files, by their name)."""
    return sum(
        t.byte_range[1] - t.byte_range[0] if t.byte_range is not None else _file_work(t.path)
        for t in tasks
    )


def _file_work(path: Location) -> int:
    """Bytes of log a whole file holds (estimated for a compressed one, by its name)."""
    size = file_size(path)
    compressed = path.name.lower().endswith((".gz", ".bz2", ".zst", ".zstd"))
    return size * COMPRESSED_RATIO if compressed else size


def _module_of(fn: Callable[..., object]) -> str:
    """The module defining ``fn`` (or the class of a callable object)."""
    return getattr(fn, "__module__", None) or type(fn).__module__


class _Work:
    """Tasks not started yet, largest first: processes take from the front, the parent from the
    back."""

    def __init__(self, tasks: Sequence[Task]) -> None:
        self._tasks = deque(tasks)
        self._lock = threading.Lock()

    def take_front(self) -> Task | None:
        """The largest task left, for a process."""
        with self._lock:
            return self._tasks.popleft() if self._tasks else None

    def take_back(self) -> Task | None:
        """The smallest task left, for the parent."""
        with self._lock:
            return self._tasks.pop() if self._tasks else None

    def put_back(self, task: Task) -> None:
        """A task taken but not started (its pool broke first)."""
        with self._lock:
            self._tasks.appendleft(task)

    def take_all(self) -> list[Task]:
        """Every task left."""
        with self._lock:
            left = list(self._tasks)
            self._tasks.clear()
            return left


def _alone(
    ctx: multiprocessing.context.ForkServerContext,
    fn: Callable[[Task], R],
    task: Task,
    lost: Lost[R] | None,
) -> R:
    """Run one task in a process of its own, after a worker died: if this process dies too,
    the task is the cause and only its result is lost."""
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        try:
            return pool.submit(fn, task).result()
        except BrokenProcessPool:
            if lost is None:
                raise WorkerDied(f"{task.path}: {LOST_REASON}") from None
            return lost(task, LOST_REASON)


def _feed(
    pool: ProcessPoolExecutor,
    fn: Callable[[Task], R],
    work: _Work,
    processes: int,
    back: queue.SimpleQueue[tuple[Task, Future[R]] | BaseException | None],
    stop: threading.Event,
) -> None:
    """Keep every process busy with the largest task left; hand each finished future back with
    its task, then None. A failure to submit (a broken pool) is handed back as the exception,
    its task put back."""
    running: dict[Future[R], Task] = {}
    try:
        while not stop.is_set():
            while len(running) < processes and not stop.is_set():
                task = work.take_front()
                if task is None:
                    break
                try:
                    running[pool.submit(fn, task)] = task
                except BaseException:
                    work.put_back(task)
                    raise
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                back.put((running.pop(future), future))
    except BaseException as exc:  # handed to the parent's thread, which raises it
        back.put(exc)
    finally:
        back.put(None)
