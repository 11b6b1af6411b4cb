"""Following files: growth, partial lines, rename and copytruncate rotations, compressed
rotations, resuming where a previous run's commit left off — the keys always equal what a batch
read of every line written gives, and nothing is read twice where it need not be."""

from __future__ import annotations

import gzip
import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from loyaute.config import Settings
from loyaute.ingest.collect.follow import HEAD_BYTES, Follower
from loyaute.ingest.collect.intake import Intake, Key
from loyaute.ingest.collect.metrics import Counters
from loyaute.ingest.reading import parse_file
from loyaute.presence.reduce import reduce_events
from loyaute.presence.windows import Windows
from loyaute.sources import build_sources
from loyaute.sources.base import Reason
from loyaute.store.collector import FollowState
from tests.builders import MON, TUE, iis_file, local, owa, vpn_session
from tests.builders import logs as demo_logs

SETTINGS = Settings()
WINDOWS = Windows.from_settings(SETTINGS.half_days, SETTINGS.zone)
DAYS = [MON, TUE, date(2026, 3, 25), date(2026, 3, 26)]


def fgt(n: int, first: int = 0) -> list[str]:
    """``n`` FortiGate lines, each session on its own login, day and hour (distinct keys)."""
    out: list[str] = []
    for i in range(first, first + n // 2):
        day = DAYS[i % len(DAYS)]
        out += vpn_session(f"user{i:04d}", local(day, 8 + i % 11), local(day, 8 + i % 11, 20), i)
    return out


def batch_keys(path: Path, lines: list[str]) -> set[Key]:
    """The keys a batch read of ``lines`` (written to ``path``) gives."""
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    source = build_sources(SETTINGS)["fortigate"]
    out: set[Key] = set()
    for parsed in parse_file(path, source):
        keys = reduce_events(parsed.events, WINDOWS)
        out |= set(
            zip(
                keys.column("login").to_pylist(),
                keys.column("day").to_pylist(),
                keys.column("half").to_pylist(),
                keys.column("category").to_pylist(),
                strict=True,
            )
        )
    return out


class Run:
    """A follower and its intake, as one collector run holds them."""

    def __init__(self, specs: list[str], saved: list[FollowState] | None = None, **kw: object):
        self.counters = Counters()
        self.intake = Intake(
            build_sources(SETTINGS), SETTINGS.sources.enabled, None, WINDOWS, False, self.counters
        )
        self.follower = Follower(
            specs,
            self.intake,
            self.counters,
            forced=None,
            saved=saved or [],
            **kw,  # type: ignore[arg-type]
        )

        self.gone: list[tuple[str, int, int]] = []

    def poll(self) -> None:
        """Look at the files, record the new ones (as the commit the collector runs at once
        does), and read until nothing is left."""
        self.follower.poll()
        states, gone = self.follower.checkpoint("t")
        self.gone += gone
        self.follower.recorded(states)
        while self.follower.poll():
            pass

    def collected(self) -> set[Key]:
        return set(self.intake._new_all)

    def checkpoint(self) -> list[FollowState]:
        """What a commit would record (the follower's offsets after its last poll)."""
        states, gone = self.follower.checkpoint("t")
        self.gone += gone
        return states

    def close(self) -> None:
        self.follower.close()


def append(path: Path, lines: list[str], partial: str = "") -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines) + partial)


def test_growing_file_read_in_whole_lines(tmp_path: Path) -> None:
    log = tmp_path / "fgt.log"
    lines = fgt(40)
    append(log, lines[:10], partial=lines[10][:50])
    run = Run([str(log)])
    run.poll()
    assert run.counters.lines["file"] == 10  # the partial line waits for its end
    offset = run.checkpoint()[0].offset
    assert offset == len("".join(line + "\n" for line in lines[:10]).encode())
    with log.open("a", encoding="utf-8") as f:
        f.write(lines[10][50:] + "\n")
    append(log, lines[11:])
    run.poll()
    assert run.counters.lines["file"] == 40
    assert run.collected() == batch_keys(tmp_path / "batch.log", lines)
    run.close()


def test_rename_rotation_reads_the_old_file_to_its_end_then_the_new_one(tmp_path: Path) -> None:
    log = tmp_path / "fgt.log"
    lines = fgt(60)
    append(log, lines[:20])
    run = Run([str(log)], grace_seconds=0)
    run.poll()
    append(log, lines[20:30])  # written after the last look, before the rotation
    log.rename(tmp_path / "fgt.log.1")
    append(log, lines[30:])
    run.poll()
    run.poll()
    assert run.counters.lines["file"] == 60
    assert run.collected() == batch_keys(tmp_path / "batch.log", lines)
    # the rotated file was read to its end and forgotten; only the new one is followed
    states, gone = run.follower.checkpoint("t")
    assert [s.path for s in states] == [str(log)]
    assert [g[0] for g in run.gone + gone] == [str(log)]
    run.close()


def test_copytruncate_reads_the_copy_from_the_offset_then_the_file_from_its_start(
    tmp_path: Path,
) -> None:
    log = tmp_path / "fgt.log"
    lines = fgt(60)
    append(log, lines[:20])
    run = Run([str(log)])
    run.poll()
    append(log, lines[20:30])  # not read before the rotation: only the copy has them
    shutil.copy(log, tmp_path / "fgt.log.1")
    with log.open("r+") as f:
        f.truncate(0)
    append(log, lines[30:])
    run.poll()
    assert run.counters.lines["file"] == 60
    assert run.collected() == batch_keys(tmp_path / "batch.log", lines)
    assert not run.counters.warnings
    run.close()


def test_truncated_and_refilled_past_the_offset_is_still_seen(tmp_path: Path) -> None:
    """The file grew back beyond the old offset before the follower looked: its first bytes
    changed, so it is read from its start (and the copy from the old offset)."""
    log = tmp_path / "fgt.log"
    lines = fgt(80)
    append(log, lines[:10])
    run = Run([str(log)])
    run.poll()
    shutil.copy(log, tmp_path / "fgt.log.1")
    with log.open("r+") as f:
        f.truncate(0)
    append(log, lines[10:])  # longer than what was read before
    run.poll()
    assert run.collected() == batch_keys(tmp_path / "batch.log", lines)
    run.close()


def test_copytruncate_without_a_copy_is_reported(tmp_path: Path) -> None:
    log = tmp_path / "fgt.log"
    lines = fgt(20)
    append(log, lines[:10])
    run = Run([str(log)])
    run.poll()
    with log.open("r+") as f:
        f.truncate(0)
    append(log, lines[10:])
    run.poll()
    assert run.counters.skipped["truncated_without_copy"] == 1
    assert any("truncated" in w or "tronqué" in w for w in run.counters.warnings)
    run.close()


def resume(tmp_path: Path, log: Path, first: list[str]) -> tuple[Run, list[FollowState]]:
    """A run that read ``first`` and 'committed' (its checkpoint), then stopped."""
    append(log, first)
    run = Run([str(log)])
    run.poll()
    saved = run.checkpoint()
    run.close()
    return run, saved


def test_restart_resumes_at_the_committed_offset(tmp_path: Path) -> None:
    log = tmp_path / "fgt.log"
    lines = fgt(40)
    before, saved = resume(tmp_path, log, lines[:20])
    append(log, lines[20:])
    after = Run([str(log)], saved)
    after.poll()
    assert after.counters.lines["file"] == 20  # nothing read twice
    assert before.collected() | after.collected() == batch_keys(tmp_path / "batch.log", lines)
    after.close()


def test_restart_after_a_rename_rotation_finishes_the_rotated_file(tmp_path: Path) -> None:
    log = tmp_path / "fgt.log"
    lines = fgt(60)
    before, saved = resume(tmp_path, log, lines[:20])
    append(log, lines[20:30])
    log.rename(tmp_path / "fgt.log.1")  # rotated while the collector was stopped
    append(log, lines[30:])
    after = Run([str(log)], saved, grace_seconds=0)
    after.poll()
    after.poll()
    assert after.counters.lines["file"] == 40
    assert before.collected() | after.collected() == batch_keys(tmp_path / "batch.log", lines)
    after.close()


@pytest.mark.parametrize("unread", [True, False])
def test_gzip_rotation_is_read_only_for_what_was_not_read(tmp_path: Path, unread: bool) -> None:
    """Rotated and compressed while the collector was stopped: the .gz is read from the
    committed offset when lines were left in it, and not at all when it was read to its end."""
    log = tmp_path / "fgt.log"
    lines = fgt(60)
    before, saved = resume(tmp_path, log, lines[:20])
    if unread:
        append(log, lines[20:30])
    rotated = tmp_path / "fgt.log.1.gz"
    with gzip.open(rotated, "wb") as gz:
        gz.write(log.read_bytes())
    log.unlink()
    append(log, lines[30:])
    after = Run([str(log)], saved)
    after.poll()
    written = lines[:30] + lines[30:] if unread else lines[:20] + lines[30:]
    assert after.counters.lines["file"] == len(written) - 20
    assert before.collected() | after.collected() == batch_keys(tmp_path / "batch.log", written)
    # the new file is followed from its start (it may have reused the old inode)
    states = after.checkpoint()
    assert [(s.path, s.offset) for s in states] == [(str(log), log.stat().st_size)]
    after.close()


def test_a_followed_file_gone_for_good_is_reported(tmp_path: Path) -> None:
    log = tmp_path / "fgt.log"
    _, saved = resume(tmp_path, log, fgt(10))
    log.unlink()
    after = Run([str(log)], saved)
    assert after.counters.skipped["rotated_file_missing"] == 1
    assert after.counters.warnings
    after.close()


def test_glob_follows_each_file_once_across_renames_and_skips_compressed(tmp_path: Path) -> None:
    lines = fgt(60)
    a, b = tmp_path / "access.log", tmp_path / "other.log"
    append(a, lines[:20])
    append(b, lines[20:40])
    with gzip.open(tmp_path / "old.log.2.gz", "wt") as gz:
        gz.write("\n".join(fgt(10, first=500)) + "\n")
    run = Run([str(tmp_path / "*.log*")], grace_seconds=0)
    run.poll()
    a.rename(tmp_path / "access.log.1")  # still matched: the same file under a new name
    append(tmp_path / "access.log.1", lines[40:50])
    append(a, lines[50:])
    run.poll()
    assert run.counters.lines["file"] == 60  # the .gz was not followed, nothing read twice
    assert run.collected() == batch_keys(tmp_path / "batch.txt", lines)
    run.close()


def test_iis_resumed_mid_file_keeps_its_layout(tmp_path: Path) -> None:
    """A parser resumed at an offset learns the #Fields layout in force there (as ingest's
    byte ranges do)."""
    iis = iis_file(tmp_path, "u_ex260323.log", [owa("jdupont", local(MON, 9))])
    run = Run([str(iis)])
    run.poll()
    saved = run.checkpoint()
    run.close()
    append(iis, [owa("hpetit", local(MON, 15))])
    after = Run([str(iis)], saved)
    after.poll()
    assert {k[0] for k in after.collected()} == {"hpetit"}
    assert after.counters.events == 1
    after.close()


def test_long_lines_and_nul_records(tmp_path: Path) -> None:
    log = tmp_path / "fgt.log"
    lines = fgt(10)
    log.write_bytes(
        b"\x00".join(line.encode() for line in lines[:4])
        + b"\x00"
        + b"x" * 5000
        + b"\n"
        + "".join(line + "\n" for line in lines[4:]).encode()
    )
    run = Run([str(log)], max_line_bytes=2000)
    run.poll()
    assert run.counters.skipped[Reason.LINE_TOO_LONG.value] == 1
    assert run.collected() == batch_keys(tmp_path / "batch.log", lines)
    run.close()


def test_a_binary_file_is_refused_with_its_reason(tmp_path: Path) -> None:
    log = tmp_path / "data.bin"
    log.write_bytes(bytes(range(256)) * 64)
    run = Run([str(log)])
    run.poll()
    assert run.counters.follow[0].state == "refused: binary_file"
    assert run.counters.lines["file"] == 0
    run.close()


def test_nothing_is_read_before_a_commit_recorded_the_file(tmp_path: Path) -> None:
    """So that after a crash every file that may hold lines read and not committed is known,
    wherever rotation puts it."""
    log = tmp_path / "fgt.log"
    append(log, fgt(10))
    run = Run([str(log)])
    run.follower.poll()
    assert run.follower.unrecorded
    assert run.counters.lines["file"] == 0
    states, _ = run.follower.checkpoint("t")
    assert [(s.offset, s.head_bytes) for s in states] == [(0, HEAD_BYTES)]
    run.follower.recorded(states)
    run.follower.poll()
    assert run.counters.lines["file"] == 10
    run.close()


def test_a_file_recorded_and_rotated_compressed_before_any_commit_is_read_whole(
    tmp_path: Path,
) -> None:
    log = tmp_path / "fgt.log"
    lines = fgt(20)
    append(log, lines[:10])
    run = Run([str(log)])
    run.follower.poll()
    saved, _ = run.follower.checkpoint("t")  # recorded at offset 0, then killed
    run.close()
    with gzip.open(tmp_path / "fgt.log.1.gz", "wb") as gz:
        gz.write(log.read_bytes())
    log.unlink()
    append(log, lines[10:])
    after = Run([str(log)], saved)
    after.poll()
    assert after.collected() == batch_keys(tmp_path / "batch.log", lines)
    after.close()


def test_head_fingerprint_is_bounded(tmp_path: Path) -> None:
    log = tmp_path / "fgt.log"
    append(log, fgt(40))
    run = Run([str(log)])
    run.poll()
    assert run.checkpoint()[0].head_bytes == HEAD_BYTES
    assert os.path.getsize(log) > HEAD_BYTES
    run.close()


def test_demo_lines_are_one_per_line() -> None:
    assert "\n" not in demo_logs.fgt_tunnel_up(local(MON, 9), "x", 1, "198.51.100.1")


def test_a_compressed_path_is_not_followed_and_says_so(tmp_path: Path) -> None:
    log = tmp_path / "fgt.log.gz"
    with gzip.open(log, "wt") as gz:
        gz.write("\n".join(fgt(10)) + "\n")
    run = Run([str(log)])
    run.poll()
    assert run.counters.lines["file"] == 0
    assert any("compress" in w for w in run.counters.warnings)
    run.close()
