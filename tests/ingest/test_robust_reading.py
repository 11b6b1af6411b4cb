"""Reading that survives files changing under it, and knows a file by what it holds (issue 10,
findings 3, 13 and 14): a log cut short while it is read (logrotate's ``copytruncate``) fails
for that file alone and never kills the reader; a file is known as read by the SHA-256 of what was
read, so a file that differs only in its middle is read; a file no line of which can be read is
a failure, not an ingest of nothing."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.demo import logs as demo_logs
from loyaute.ingest.engine import LocalEngine
from loyaute.ingest.files import iter_blocks
from loyaute.store.records import ActivityStore
from loyaute.workspace import Workspace
from tests.builders import (
    MON,
    NOW,
    TUE,
    iis_file,
    local,
    make_workspace,
    owa,
    run_ingest,
    stored,
    vpn_session,
    write_logs,
)

TRUNCATED_READ = """
import sys
from pathlib import Path
from loyaute.ingest.files import ReadError, iter_blocks
path = Path(sys.argv[1])
blocks = iter_blocks(path, chunk_bytes=64 << 10, max_line_bytes=4 << 10)
next(blocks)
with path.open("r+b") as f:
    f.truncate(1000)  # what copytruncate does: the file is emptied under the reader
try:
    for _ in blocks:
        pass
except ReadError as exc:
    print(exc.reason)
    sys.exit(3)
sys.exit(0)
"""


def test_a_file_truncated_while_read_is_a_read_error_not_sigbus(tmp_path: Path) -> None:
    """Finding 3: with a memory map, touching a page past the new end raised SIGBUS and the
    process died (exit -7). Read with ``pread``, the reader sees the short read and says so."""
    path = tmp_path / "access.log"
    path.write_bytes(b"".join(b"%06d some log line of a proxy\n" % i for i in range(40_000)))
    done = subprocess.run(
        [sys.executable, "-c", TRUNCATED_READ, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, (done.returncode, done.stderr)
    assert "raccourci pendant sa lecture" in done.stdout


def test_blocks_are_the_file_whatever_the_chunk_and_line_limits(tmp_path: Path) -> None:
    """The pread reader cuts at newlines only, every short line once, a marker per long one."""
    lines = [b"x" * (i % 50) for i in range(3000)]
    lines[700] = b"L" * 5000  # over the limit below
    lines[2999] = b"last line without newline"
    path = tmp_path / "f.log"
    path.write_bytes(b"\n".join(lines))
    for chunk in (1 << 10, 4 << 10, 1 << 20):
        out: list[bytes] = []
        longs = 0
        for block in iter_blocks(path, chunk_bytes=chunk, max_line_bytes=4096):
            if isinstance(block, bytes):
                out.append(block)
            else:
                longs += 1
        assert longs == 1
        got = b"".join(out).split(b"\n")
        assert got == lines[:700] + lines[701:], chunk


INGEST = """
import json, sys
from datetime import datetime, timezone
from pathlib import Path
from loyaute.clock import FixedClock
from loyaute.demo import logs as demo_logs
from loyaute.ingest.engine import LocalEngine
from loyaute.ingest.pipeline import ingest
from loyaute.workspace import Workspace
ws = Workspace.open(Path(sys.argv[1]), FixedClock(datetime(2026, 3, 31, 18, tzinfo=timezone.utc)))
report = ingest(ws, [sys.argv[2]], engine=LocalEngine(1))
print(json.dumps(report.to_json()))
sys.exit(1 if report.failed else 0)
"""


def _ingest_process(home: Path, target: Path, pause: str) -> subprocess.Popen[str]:
    env = {**os.environ, "LOYAUTE_LANG": "fr", "LOYAUTE_PAUSE_AT": pause}
    return subprocess.Popen(
        [sys.executable, "-c", INGEST, str(home), str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_a_log_rotated_with_copytruncate_during_ingest_fails_alone(tmp_path: Path) -> None:
    """Finding 3 end to end: the proxy log is emptied while ``ingest`` reads it (a pause after
    its first block leaves time for it). That file is reported failed, not stored and not
    marked read; the Exchange log of the same run is stored; the exit code says something
    was not done."""
    ws = make_workspace(tmp_path)
    home = ws.paths.home
    ws.close()
    settings = home / "loyaute.toml"
    text = settings.read_text(encoding="utf-8")
    assert "chunk_bytes = " in text
    settings.write_text(
        "\n".join(
            "chunk_bytes = 65536" if line.startswith("chunk_bytes = ") else line
            for line in text.splitlines()
        )
        + "\n",
        encoding="utf-8",
    )
    folder = tmp_path / "logs"
    iis_file(folder, "u_ex260323.log", [owa("jdupont", local(MON, 9))])
    sessions = []
    for i in range(2000):
        sessions += vpn_session("hpetit", local(TUE, 8, i % 60), local(TUE, 11), 1000 + i)
    big = write_logs(folder, "vpn.log", sessions)
    assert big.stat().st_size > 4 * 65536
    proc = _ingest_process(home, folder, "reading vpn.log:4")
    time.sleep(2.5)  # the process is started, has read the first file and paused in vpn.log
    with big.open("r+b") as f:
        f.truncate(100)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, (out, err)
    assert "Traceback" not in err
    files = {Path(f["path"]).name: f for f in json.loads(out)["files"]}
    assert files["vpn.log"]["status"] == "failed"
    assert "raccourci pendant sa lecture" in files["vpn.log"]["message"]
    assert files["u_ex260323.log"]["status"] == "ingested"
    ws = Workspace.open(home, FixedClock(NOW))
    try:
        rows = stored(ws)
        assert ("A1", "2026-03-23", "AM", "telework", "mail") in rows
        assert not any(r[0] == "A2" for r in rows)
        assert not ws.db.manifest.known_on_disk(
            f"{big.stat().st_dev}:{big.stat().st_ino}:{big.stat().st_size}:{big.stat().st_mtime_ns}"
        )
    finally:
        ws.close()


def test_a_file_that_differs_only_in_its_middle_is_read(tmp_path: Path) -> None:
    """Finding 13: two logs of the same size, the same first and last MiB, and one other line in
    the middle. Known by samples the second was "already read" and its line lost; known by the
    hash of what was read, it is read and its trace kept."""
    ws = make_workspace(tmp_path)
    filler = [owa("xdupont", local(MON, 7, i % 60)) for i in range(12_000)]
    first = iis_file(tmp_path / "a", "u_ex260323.log", [*filler, *filler])
    middle = [*filler[:-1], owa("jdupont", local(MON, 9, 5))]
    second = iis_file(tmp_path / "b", "u_ex260323.log", [*middle, *filler])
    assert first.stat().st_size == second.stat().st_size > 3 << 20
    a, b = first.read_bytes(), second.read_bytes()
    assert a[: 1 << 20] == b[: 1 << 20]
    assert a[-(1 << 20) :] == b[-(1 << 20) :]
    assert a != b
    run_ingest(ws, [first])
    assert stored(ws) == set()
    report = run_ingest(ws, [second])
    assert [f.status for f in report.files] == ["ingested"]
    assert stored(ws) == {("A1", "2026-03-23", "AM", "telework", "mail")}
    ws.close()


def test_a_file_changed_in_place_is_read_again(tmp_path: Path) -> None:
    """Written to in place at the same size (its time of modification moves), a file is read
    again; unchanged, it is known without reading."""
    ws = make_workspace(tmp_path)
    path = iis_file(tmp_path / "logs", "u_ex260323.log", [owa("xxxxxxx", local(MON, 9))])
    run_ingest(ws, [path])
    assert stored(ws) == set()
    again = run_ingest(ws, [path])
    assert [(f.status, f.message) for f in again.files] == [("already", "déjà lu")]
    data = path.read_bytes()
    path.write_bytes(data.replace(b"xxxxxxx", b"jdupont"))
    changed = run_ingest(ws, [path])
    assert [f.status for f in changed.files] == ["ingested"]
    assert stored(ws) == {("A1", "2026-03-23", "AM", "telework", "mail")}
    ws.close()


def test_a_rotated_and_compressed_copy_is_known_by_its_content(tmp_path: Path) -> None:
    """A log read, then compressed by the rotation under another name: read again (its bytes
    differ on disk), recognised by what it holds, nothing stored twice, and said so."""
    ws = make_workspace(tmp_path)
    path = iis_file(tmp_path / "logs", "u_ex260323.log", [owa("jdupont", local(MON, 9))])
    run_ingest(ws, [path])
    before = ActivityStore(ws.paths.store).generation()
    rotated = tmp_path / "old" / "u_ex260323.log.1.gz"
    rotated.parent.mkdir()
    rotated.write_bytes(gzip.compress(path.read_bytes()))
    report = run_ingest(ws, [rotated])
    assert [f.status for f in report.files] == ["already"]
    assert "même contenu" in report.files[0].message
    assert ActivityStore(ws.paths.store).generation() == before
    ws.close()


def test_a_file_with_no_readable_line_under_format_fails(tmp_path: Path) -> None:
    """Finding 14: a proxy log forced as ``--format exchange-iis`` has no line that format can
    read. It was "ingested", exit 0; now it fails with the reason, exit 1, and is not marked
    read, so the right format reads it afterwards."""
    host, where = demo_logs.APP_HOSTS["grand-angle"]
    proxy = write_logs(
        tmp_path / "logs",
        "access.log",
        [demo_logs.proxy_line(local(MON, 10 + i % 4), host, where, "jdupont") for i in range(30)],
    )
    ws = make_workspace(tmp_path)
    wrong = run_ingest(ws, [proxy], forced_format="exchange-iis")
    assert wrong.failed
    assert [f.status for f in wrong.files] == ["failed"]
    assert "aucune ligne lisible au format exchange-iis" in wrong.files[0].message
    assert stored(ws) == set()
    right = run_ingest(ws, [proxy])
    assert [f.status for f in right.files] == ["ingested"]
    assert stored(ws) == {
        ("A1", "2026-03-23", "AM", "telework", "apps"),
        ("A1", "2026-03-23", "PM", "telework", "apps"),
    }
    ws.close()

    # As the operator sees it: the reason on the file's row, and exit 1.
    other = make_workspace(tmp_path / "cli")
    home = other.paths.home
    other.close()
    shown = CliRunner().invoke(
        app,
        ["--home", str(home), "ingest", str(proxy), "--format", "exchange-iis"],
        env={"LOYAUTE_LANG": "fr"},
    )
    assert shown.exit_code == 1, shown.output
    assert "aucune ligne lisible au format exchange-iis" in shown.output
    assert "Traceback" not in shown.output


def test_a_reader_killed_mid_ingest_fails_its_file_alone(tmp_path: Path) -> None:
    """Finding 3 (the pool): the worker reading the VPN log dies every time it reads it (as the
    OOM killer would kill it). That file fails with the reason; the mail log of the same run is
    stored; nothing is marked read that was not."""
    ws = make_workspace(tmp_path)
    folder = tmp_path / "logs"
    iis_file(folder, "u_ex260323.log", [owa("jdupont", local(MON, 9))])
    sessions = []
    for i in range(3000):
        sessions += vpn_session("hpetit", local(TUE, 8, i % 60), local(TUE, 11), 1000 + i)
    write_logs(folder, "vpn.log", sessions)
    report = run_ingest(
        ws,
        [folder],
        engine=LocalEngine(2, parallel_min_bytes=0),
        fail_task="kill:vpn.log",
    )
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["vpn.log"].status == "failed"
    assert "s'est arrêté brutalement" in by_name["vpn.log"].message
    assert by_name["u_ex260323.log"].status == "ingested"
    assert report.failed
    assert stored(ws) == {("A1", "2026-03-23", "AM", "telework", "mail")}
    again = run_ingest(ws, [folder])  # in-process this time: the VPN log is read
    assert {Path(f.path).name: f.status for f in again.files} == {
        "vpn.log": "ingested",
        "u_ex260323.log": "already",
    }
    ws.close()
