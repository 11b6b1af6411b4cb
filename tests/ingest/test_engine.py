"""The local engine: tasks per file or per byte range, run in worker processes."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

from loyaute.config import Settings
from loyaute.ingest.engine import LocalEngine, Task, plan
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
