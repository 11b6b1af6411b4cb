"""The local engine: tasks per file or per byte range, run in worker processes."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
from collections import Counter
from pathlib import Path

import pytest

from loyaute.config import Settings
from loyaute.ingest.engine import LocalEngine, Task, WorkerDied, plan
from loyaute.ingest.reading import FileResult, summarize, summarize_task
from loyaute.sources import build_sources
from tests.conftest import FIXTURES

SOURCES = build_sources(Settings())


def merged(results: list[FileResult]) -> dict[str, tuple[int, int, Counter[str]]]:
    out: dict[str, FileResult] = {}
    for r in results:
        if r.path in out:
            out[r.path].merge(r)
        else:
            out[r.path] = r
    return {p: (r.lines, r.events, r.skipped) for p, r in out.items()}


def big_fortigate(tmp_path: Path, copies: int) -> Path:
    path = tmp_path / "fgt.log"
    path.write_bytes((FIXTURES / "fortigate" / "vpn_day.log").read_bytes() * copies)
    return path


def test_plan_splits_big_plain_files_only(tmp_path: Path) -> None:
    path = big_fortigate(tmp_path, 200)
    small = tmp_path / "small.log"
    small.write_bytes((FIXTURES / "fortigate" / "framings.log").read_bytes())
    tasks = plan(
        [(path, SOURCES["fortigate"]), (small, SOURCES["fortigate"])],
        workers=3,
        split_min_bytes=100_000,
    )
    ranges = [t.byte_range for t in tasks if t.path == path]
    assert len(ranges) == 3
    assert ranges[0] is not None
    covered = sorted(r for r in ranges if r is not None)
    assert covered[0][0] == 0
    assert covered[-1][1] == path.stat().st_size
    assert all(a[1] == b[0] for a, b in itertools.pairwise(covered))
    assert [t.byte_range for t in tasks if t.path == small] == [None]


def test_parallel_ranges_give_the_counts_of_one_sequential_pass(tmp_path: Path) -> None:
    """Two worker processes over cut ranges = one pass over the whole file."""
    path = big_fortigate(tmp_path, 300)
    whole = summarize(path, SOURCES["fortigate"])
    tasks = plan([(path, SOURCES["fortigate"])], workers=2, split_min_bytes=200_000)
    assert len(tasks) == 2
    results = list(LocalEngine(workers=2).map(summarize_task, tasks))
    assert merged(results)[str(path)] == (whole.lines, whole.events, whole.skipped)
    assert whole.lines == 14 * 300


def test_iis_ranges_find_their_layout(tmp_path: Path) -> None:
    """A range starting mid-file takes the #Fields layout in force at its start."""
    header = (
        b"#Software: Microsoft Internet Information Services 10.0\n"
        b"#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
        b"cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n"
    )
    line = (
        b"2026-03-02 08:00:00 10.0.0.1 POST /owa/service.svc action=GetItem 443 "
        b"LENORD\\jdupont 192.0.2.1 Mozilla/5.0 - 200 0 0 31\n"
    )
    path = tmp_path / "u_ex260302.log"
    path.write_bytes(header + line * 20000)
    whole = summarize(path, SOURCES["exchange-iis"])
    tasks = plan([(path, SOURCES["exchange-iis"])], workers=2, split_min_bytes=400_000)
    assert len(tasks) == 2
    results = [summarize_task(t) for t in tasks]
    assert merged(results)[str(path)] == (whole.lines, whole.events, whole.skipped)
    assert whole.events == 20000


def test_single_worker_runs_in_process() -> None:
    task = Task(FIXTURES / "fortigate" / "vpn_day.log", SOURCES["fortigate"])
    results = list(LocalEngine(workers=1).map(summarize_task, [task]))
    assert results[0].events == 8


def _die_reading_poison(task: Task) -> tuple[str, str]:
    """A map function whose worker process dies on ``poison.log`` (as a SIGBUS or the OOM
    killer would kill it); the other files take a moment in the parent, so that a worker process
    is the one that takes the poison (the largest task, taken first from the front)."""
    if multiprocessing.parent_process() is None:
        time.sleep(0.5)
    elif task.path.name == "poison.log":
        os._exit(137)
    return ("read", task.path.name)


def _lost(task: Task, reason: str) -> tuple[str, str]:
    return ("lost", f"{task.path.name}: {reason}")


def _poison_tasks(tmp_path: Path) -> list[Task]:
    files = {"poison.log": 40_000, "a.log": 100, "b.log": 200, "c.log": 300}
    for name, size in files.items():
        (tmp_path / name).write_bytes(b"x\n" * size)
    tasks = plan([(tmp_path / n, SOURCES["fortigate"]) for n in files], workers=2)
    assert tasks[0].path.name == "poison.log"
    return tasks


def test_a_worker_that_dies_loses_only_its_own_task(tmp_path: Path) -> None:
    """Issue 10, finding 3: a worker killed while reading broke the pool, and the whole ingest
    stopped with a ``BrokenProcessPool`` traceback. Now the tasks that were running and those
    not started run again one at a time: the task that kills its process again is reported
    lost, every other one gives its result."""
    engine = LocalEngine(workers=2, parallel_min_bytes=0)
    results = set(engine.map(_die_reading_poison, _poison_tasks(tmp_path), _lost))
    assert {r for r in results if r[0] == "read"} == {
        ("read", "a.log"),
        ("read", "b.log"),
        ("read", "c.log"),
    }
    lost = [r for r in results if r[0] == "lost"]
    assert len(lost) == 1
    assert lost[0][1].startswith("poison.log: le processus qui lisait ce fichier")


def test_a_dead_worker_without_a_stand_in_stops_the_run_with_a_message(tmp_path: Path) -> None:
    """No ``lost`` result given: the run stops with a named error, not a pool's traceback."""
    engine = LocalEngine(workers=2, parallel_min_bytes=0)
    with pytest.raises(WorkerDied, match=r"poison\.log"):
        list(engine.map(_die_reading_poison, _poison_tasks(tmp_path)))
