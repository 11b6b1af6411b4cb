"""Every failure named (issue 10, finding 14): a damaged database, a full disk, a pipe among the
logs — each gets a French message and exit 1, never a traceback (the web app's side is in
tests/web/test_config_errors.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.store.records import ActivityStore
from tests.builders import (
    MON,
    iis_file,
    local,
    make_workspace,
    owa,
    vpn_session,
    write_logs,
)


def _damage(path: Path) -> None:
    """What a bad sector or a half-copied restore leaves: not a SQLite file any more."""
    for side in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        side.unlink(missing_ok=True)
    path.write_bytes(b"this is not a database, only what was left of it\n" * 200)


def _ingest(home: Path, logs: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["--home", str(home), "ingest", str(logs)], env={"LOYAUTE_LANG": "fr"}
    )
    return result.exit_code, result.output


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[Path, Path]:
    ws = make_workspace(tmp_path)
    home = ws.paths.home
    ws.close()
    logs = tmp_path / "logs"
    iis_file(logs, "u_ex260323.log", [owa("jdupont", local(MON, 9))])
    return home, logs


@pytest.mark.parametrize("which", ["audit/audit.db", "store/state.db"])
def test_a_damaged_database_is_named_with_what_to_do(
    workspace: tuple[Path, Path], which: str
) -> None:
    """A damaged audit log or state database: a Python traceback before; now the file named,
    restoring it from the backup as the next step, exit 1."""
    home, logs = workspace
    _damage(home / which)
    code, output = _ingest(home, logs)
    assert code == 1, output
    assert f"{Path(which).name} est illisible (fichier endommagé)" in output
    assert "sauvegarde" in output
    assert "Traceback" not in output


def test_a_pipe_among_the_logs_is_a_problem_and_hidden_files_a_note(
    workspace: tuple[Path, Path],
) -> None:
    """A named pipe in the folder given to ``ingest`` is not read: said, exit 1; the other
    files are stored. A hidden file is left out on purpose: said, no failure."""
    home, logs = workspace
    os.mkfifo(logs / "syslog.fifo")
    (logs / ".u_ex260323.log.swp").write_bytes(b"partial copy\n")
    code, output = _ingest(home, logs)
    assert code == 1, output
    assert "syslog.fifo" in output
    assert "tube nommé" in output
    assert "fichier(s) caché(s)" in output
    assert "ingested" in output


def _can_mount() -> bool:
    if os.geteuid() != 0:
        return False
    probe = Path("/tmp") / f"loyaute-mount-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            return False
        subprocess.run(["umount", str(probe)], check=True)
        return True
    except OSError:
        return False
    finally:
        probe.rmdir()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 12 MB file system of its own (tmpfs), unmounted afterwards."""
    if not _can_mount():
        pytest.skip("mounting a small file system needs root")
    where = tmp_path / "disk"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_is_named_and_the_store_is_unchanged(small_disk: Path, tmp_path: Path) -> None:
    """With 40 KB left on the workspace's disk, ``ingest`` ended in a traceback. Now: "disque
    plein", what to do, exit 1, and the store as it was."""
    ws = make_workspace(small_disk)
    home = ws.paths.home
    ws.close()
    before = ActivityStore(home / "store" / "activity").generation()
    logs = tmp_path / "logs"
    lines: list[str] = []
    for i in range(3000):
        lines += vpn_session("jdupont", local(MON, 8, i % 60), local(MON, 11), 1000 + i)
    write_logs(logs, "vpn.log", lines)
    st = os.statvfs(small_disk)
    with (small_disk / "filler").open("wb") as f:
        f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - 40_000))
    done = subprocess.run(
        [sys.executable, "-m", "loyaute", "--home", str(home), "ingest", str(logs)],
        capture_output=True,
        text=True,
        env={**os.environ, "LOYAUTE_LANG": "fr"},
        check=False,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "disque plein" in done.stderr
    assert "libérer de l'espace" in done.stderr
    assert "Traceback" not in done.stderr
    (small_disk / "filler").unlink()
    assert ActivityStore(home / "store" / "activity").generation() == before
