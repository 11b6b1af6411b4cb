"""Crash safety: kill the ingest mid-way, run it again, compare byte for byte with a clean run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import (
    MON,
    TUE,
    iis_file,
    local,
    make_workspace,
    owa,
    run_ingest,
    vpn_session,
    write_logs,
)

SCRIPT = """
import sys
from datetime import datetime, timezone
from pathlib import Path
from loyaute.clock import FixedClock
from loyaute.ingest.engine import LocalEngine
from loyaute.ingest.pipeline import ingest
from loyaute.workspace import Workspace
ws = Workspace.open(Path(sys.argv[1]), FixedClock(datetime(2026, 3, 31, 18, tzinfo=timezone.utc)))
report = ingest(ws, [sys.argv[2]], engine=LocalEngine(2))
ws.close()
sys.exit(1 if report.failed else 0)
"""


def run(home: Path, logs: Path, crash_at: str | None = None) -> int:
    env = dict(os.environ)
    env.pop("LOYAUTE_CRASH_AT", None)
    if crash_at:
        env["LOYAUTE_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(home), str(logs)], env=env, check=False, timeout=300
    ).returncode


def snapshot(home: Path) -> dict[str, bytes]:
    """The committed generation's partition files, by relative path."""
    activity = home / "store" / "activity"
    gen = activity / f"gen-{(activity / 'CURRENT').read_text().strip()}"
    return {str(p.relative_to(gen)): p.read_bytes() for p in sorted(gen.rglob("*.parquet"))}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A workspace with one earlier ingest, and a folder of new logs to ingest."""
    root = tmp_path_factory.mktemp("crash")
    ws = make_workspace(root)
    run_ingest(
        ws,
        [
            write_logs(
                root / "first", "fgt.log", vpn_session("jdupont", local(MON, 9), local(MON, 16))
            )
        ],
    )
    ws.close()
    logs = root / "new"
    write_logs(
        logs,
        "fgt.log",
        vpn_session("hpetit", local(TUE, 8), local(TUE, 13), 5)
        + vpn_session("pdurand", local(MON, 14), local(MON, 15), 6),
    )
    iis_file(logs, "u_ex.log", [owa("jdupont", local(TUE, 15)), owa("hpetit", local(MON, 10))])
    return root / "ws", logs


def test_clean_run_reference(prepared: tuple[Path, Path], tmp_path: Path) -> None:
    home, logs = prepared
    clean = tmp_path / "clean"
    shutil.copytree(home, clean)
    before = snapshot(clean)
    assert run(clean, logs) == 0
    after = snapshot(clean)
    assert after != before
    assert set(before) <= set(after)


@pytest.mark.parametrize("point", ["partition-written", "before-switch", "after-switch"])
def test_killed_ingest_then_rerun_equals_a_clean_run(
    prepared: tuple[Path, Path], tmp_path: Path, point: str
) -> None:
    """Killed at any point of the commit: the store is the old one or the new one, never a mix,
    and a re-run leaves exactly what one clean run leaves."""
    home, logs = prepared
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    shutil.copytree(home, clean)
    shutil.copytree(home, crashed)
    before = snapshot(crashed)
    assert run(clean, logs) == 0
    expected = snapshot(clean)

    assert run(crashed, logs, crash_at=point) == 137
    assert snapshot(crashed) in (before, expected)  # whole generations only
    assert run(crashed, logs) == 0
    assert snapshot(crashed) == expected
    activity = crashed / "store" / "activity"
    leftovers = sorted(
        p.name for p in activity.iterdir() if p.name.startswith((".staging", "gen-"))
    )
    current = (activity / "CURRENT").read_text(encoding="ascii").strip()
    # half-built generations swept; the committed one and at most its predecessor remain
    assert leftovers in ([f"gen-{current}"], [f"gen-{int(current) - 1:06d}", f"gen-{current}"])
