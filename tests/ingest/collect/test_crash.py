"""Kill the collector mid-stream while files are written and rotated, start it again: the store
equals a batch ``ingest`` of every line written (rule: loses nothing it acknowledged)."""

from __future__ import annotations

import gzip
import shutil
from datetime import date
from pathlib import Path

import pytest

from loyaute.demo import logs
from tests.builders import local
from tests.ingest.collect.support import (
    CollectProcess,
    batch_store,
    copy_home,
    count,
    evidence_lines,
    store_of,
    wait_for,
    wait_for_store,
)


def proxy_lines(days: list[date], count: int) -> list[str]:
    """Extranet proxy lines (Apache vhost_combined), one app trace per login, day and half."""
    host = logs.APP_HOSTS["grand-angle"][0]
    out = []
    for i in range(count):
        login = ("jdupont", "pdurand", "hpetit", "inconnu")[i % 4]
        day = days[(i // 4) % len(days)]
        out.append(logs.proxy_line(local(day, 9 + (i % 2) * 6, i % 60), host, "/ga/x", login))
    return out


def append(path: Path, lines: list[str]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))


@pytest.mark.parametrize("how", ["kill -9", "killed inside the store commit"])
def test_followed_files_rotated_and_killed_mid_stream_equal_a_batch_ingest(
    home: Path,
    reference: Path,
    days: list[date],
    tmp_path: Path,
    processes: list[object],
    how: str,
) -> None:
    logs_dir = tmp_path / "logs"
    logs_dir.mkdir()
    fgt, proxy = logs_dir / "fgt.log", logs_dir / "access.log"
    fgt_lines = evidence_lines(days, 3000)
    web_lines = proxy_lines(days, 400)
    parts = [fgt_lines[i::5] for i in range(5)]
    webs = [web_lines[i::5] for i in range(5)]
    args = ("--follow", str(fgt), "--follow", str(proxy), "--metrics", "127.0.0.1:0",
            "--commit-every", "0.5")  # fmt: skip
    env = {"LOYAUTE_CRASH_AT": "before-switch"} if how != "kill -9" else {}

    c = CollectProcess(home, *args, env=env)
    processes.append(c)
    append(fgt, parts[0])
    append(proxy, webs[0])
    if env:
        assert c.wait() == 137  # died at its first store commit, before the switch
    else:
        wait_for("the first lines", lambda: count(c, "file") >= len(parts[0]) + len(webs[0]))
        # rotations while it runs: rename for the firewall log, copytruncate for the proxy
        append(fgt, parts[1])
        fgt.rename(logs_dir / "fgt.log.1")
        append(fgt, parts[2][:100])
        append(proxy, webs[1])
        shutil.copy(proxy, logs_dir / "access.log.1")
        proxy.write_bytes(b"")
        append(proxy, webs[2][:20])
        c.kill()  # mid-stream: some of the above read, some committed, some neither
    # while it is down: more lines, the rotated file compressed, another rotation
    append(fgt, parts[2][100:] if not env else parts[1] + parts[2])
    if not env:
        with gzip.open(logs_dir / "fgt.log.1.gz", "wb") as gz:
            gz.write((logs_dir / "fgt.log.1").read_bytes())
        (logs_dir / "fgt.log.1").unlink()
    append(proxy, webs[2][20:] if not env else webs[1] + webs[2])

    again = CollectProcess(home, *args)
    processes.append(again)
    append(fgt, parts[3])
    fgt.rename(logs_dir / "fgt.log.2")
    append(fgt, parts[4])
    append(proxy, webs[3] + webs[4])
    expected = batch_store(
        reference, [*_written(fgt_lines, tmp_path), *_written(web_lines, tmp_path)]
    )
    wait_for_store(home, expected, again)
    assert again.stop() == 0
    assert store_of(home) == expected


def _written(lines: list[str], tmp_path: Path) -> list[Path]:
    """Every line written to one followed stream, as one file for the batch ingest."""
    path = tmp_path / f"batch-{abs(hash(lines[0]))}.log"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return [path]


def test_a_gate_that_stops_holding_stops_the_collector_and_nothing_more_is_stored(
    home: Path, reference: Path, days: list[date], tmp_path: Path, processes: list[object]
) -> None:
    """A1 withdrawn while it runs: the next commit refuses with the gate's reason, the
    collector exits 1 and stores nothing more; once the gate holds again, a restart reads the
    followed file from the last committed offset, and nothing is missing."""
    log = tmp_path / "fgt.log"
    lines = evidence_lines(days, 600)
    first, second = lines[:300], lines[300:]
    args = ("--follow", str(log), "--metrics", "127.0.0.1:0", "--commit-every", "0.3")
    c = CollectProcess(home, *args)
    processes.append(c)
    append(log, first)
    before = batch_store(copy_home(reference, tmp_path / "before"), [_written(first, tmp_path)[0]])
    wait_for_store(home, before, c)
    register = home / "register.toml"
    original = register.read_text(encoding="utf-8")
    register.write_text(original.replace('registered_on = "', 'registered_on = "" #', 1))
    append(log, second)
    assert c.wait() == 1
    assert "A1" in c.stderr(), c.stderr()
    assert store_of(home) == before
    register.write_text(original)
    again = CollectProcess(home, *args)
    processes.append(again)
    expected = batch_store(reference, [_written(lines, tmp_path)[0]])
    wait_for_store(home, expected, again)
    assert again.stop() == 0
