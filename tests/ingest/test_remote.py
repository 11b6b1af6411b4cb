"""Log files on object storage (S3 through ``pyarrow.fs``), read exactly like local ones.

A real S3 endpoint runs on loopback (moto's server, ``tests/ingest/s3.py``). The same folder of
logs — plain and compressed, every source, a malformed line, a rotated copy — is ingested from
disk and from a bucket: the stores must be byte-identical and the reports the same.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.config import Settings
from loyaute.demo import logs
from loyaute.ingest.engine import LocalEngine, plan
from loyaute.ingest.files import (
    RemoteFile,
    expand_paths,
    file_size,
    head,
    iter_blocks,
    location,
    split_points,
)
from loyaute.ingest.pipeline import IngestReport, ingest
from loyaute.sources import build_sources
from loyaute.workspace import Workspace
from tests.builders import (
    MON,
    NOW,
    TUE,
    iis_file,
    local,
    make_workspace,
    owa,
    vpn_session,
    write_logs,
)
from tests.ingest.s3 import S3

CLOCK = FixedClock(datetime(2026, 3, 31, 18, tzinfo=NOW.tzinfo))


def log_folder(folder: Path) -> Path:
    """Logs of every source, plain and compressed, with a malformed line and a rotated copy."""
    day1 = vpn_session("jdupont", local(MON, 8, 40), local(MON, 12, 50))
    day2 = vpn_session("hpetit", local(TUE, 9), local(TUE, 18), 7)
    write_logs(folder, "fortigate.log", [*day1, "pas une ligne FortiOS", *day2])
    (folder / "rotated").mkdir()
    (folder / "rotated" / "fortigate.log.1.gz").write_bytes(gzip.compress("\n".join(day1).encode()))
    iis_file(folder, "u_ex260324.log", [owa("LENORD\\hpetit", local(TUE, 14, 5))])
    proxy = [
        logs.proxy_line(local(TUE, 15), "ines.extranet.lenord.fr", "/ines/", "LENORD\\jdupont")
    ]
    (folder / "access.log.bz2").write_bytes(bz2.compress(("\n".join(proxy) + "\n").encode()))
    (folder / ".hidden.log").write_text("never read\n")
    return folder


def snapshot(home: Path) -> dict[str, str]:
    activity = home / "store" / "activity"
    gen = activity / f"gen-{(activity / 'CURRENT').read_text().strip()}"
    return {
        str(p.relative_to(gen)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(gen.rglob("*.parquet"))
    }


def run(home: Path, target: str, engine: LocalEngine) -> IngestReport:
    ws = Workspace.open(home, CLOCK)
    try:
        return ingest(ws, [target], engine=engine)
    finally:
        ws.close()


def by_name(report: IngestReport) -> dict[str, object]:
    """The report's files keyed by their name (the paths differ between disk and bucket)."""
    out = {}
    for entry in report.to_json()["files"]:
        name = str(entry.pop("path")).split("?")[0].rsplit("/", 1)[-1]
        out[name] = entry
    return out


@pytest.mark.parametrize("workers", [1, 2])
def test_a_bucket_ingests_like_a_folder(tmp_path: Path, s3: S3, workers: int) -> None:
    """B1 on object storage: the same logs from disk and from S3 give byte-identical stores and
    the same report (lines, events, skips per file); hidden objects are left out, compressed
    objects are recognised by their bytes, with one process or several."""
    folder = log_folder(tmp_path / "logs")
    prefix = s3.upload(folder, "fortigate-et-exchange")
    make_workspace(
        tmp_path / "base",
        remote=[f"s3://{s3.bucket}"],
        schedule=[(a, d, "JOUR", "TLT") for a in ("A1", "A2", "A3", "A4") for d in (MON, TUE)],
    ).close()
    homes = []
    reports = []
    for name, target in (("disk", str(folder)), ("s3", prefix)):
        homes.append(shutil.copytree(tmp_path / "base" / "ws", tmp_path / name))  # one key
        reports.append(run(homes[-1], target, LocalEngine(workers)))
    assert snapshot(homes[0])
    assert snapshot(homes[0]) == snapshot(homes[1])
    disk, remote = by_name(reports[0]), by_name(reports[1])
    assert disk == remote
    assert set(remote) == {
        "fortigate.log",
        "fortigate.log.1.gz",
        "u_ex260324.log",
        "access.log.bz2",
    }
    assert sum(f.kept for f in reports[1].files) > 0


def test_an_object_read_twice_is_recognised(tmp_path: Path, s3: S3) -> None:
    """C9 on object storage: the manifest knows an object by its content, so a second ingest of
    the bucket reads nothing again and leaves the store as it was."""
    folder = log_folder(tmp_path / "logs")
    prefix = s3.upload(folder, "jour")
    ws = make_workspace(
        tmp_path / "home", remote=[f"s3://{s3.bucket}"], schedule=[("A1", MON, "JOUR", "TLT")]
    )
    ws.close()
    home = tmp_path / "home" / "ws"
    run(home, prefix, LocalEngine(1))
    before = snapshot(home)
    again = run(home, prefix, LocalEngine(1))
    assert {f.status for f in again.files} == {"already"}, again.to_json()
    assert snapshot(home) == before
    # The same files on disk are known by their content: read, recognised, nothing stored twice.
    local = run(home, str(folder), LocalEngine(1))
    assert {f.status for f in local.files} == {"already"}, local.to_json()
    assert all("même contenu" in f.message for f in local.files)
    assert snapshot(home) == before


def test_ranges_of_a_big_object_are_cut_as_on_disk(tmp_path: Path, s3: S3) -> None:
    """A big plain object is cut into ranges at the same newlines as the same file on disk, and
    the blocks of all its ranges put back together are the file, every line once."""
    lines = []
    for i in range(4000):
        lines += vpn_session(f"agent{i % 50}", local(MON, 8 + i % 9), local(MON, 9 + i % 9), i)
    path = write_logs(tmp_path, "big.log", lines)
    uri = s3.upload(tmp_path, "big").replace("/big?", "/big/big.log?")
    remote = location(uri)
    assert isinstance(remote, RemoteFile)
    assert file_size(remote) == path.stat().st_size
    cuts = split_points(path, 4, min_part_bytes=1 << 16)
    assert len(cuts) == 4
    assert split_points(remote, 4, min_part_bytes=1 << 16) == cuts
    pieces = []
    for rng in cuts:
        for block in iter_blocks(remote, chunk_bytes=1 << 15, byte_range=rng):
            assert isinstance(block, bytes)
            pieces.append(block)
    assert b"".join(pieces) == path.read_bytes()
    source = build_sources(Settings())["fortigate"]
    tasks = plan([(remote, source)], workers=4, split_min_bytes=1 << 16)
    assert sorted(t.byte_range for t in tasks if t.byte_range) == cuts
    assert head(remote)[0] == path.read_bytes().split(b"\n")[0]


def test_a_missing_prefix_or_bucket_is_reported_not_fatal(s3: S3, tmp_path: Path) -> None:
    """Bad input never vanishes: a prefix with nothing under it, a missing object and an
    unreachable endpoint each get a message, and the other paths still go through."""
    folder = log_folder(tmp_path / "logs")
    prefix = s3.upload(folder, "present")
    unreachable = "s3://nulle-part/x.log?endpoint_override=127.0.0.1:9&scheme=http&region=us-east-1"
    files, problems = expand_paths(
        [prefix, s3.uri("absent/rien.log"), s3.uri("vide/"), unreachable]
    )
    assert len(files) == 4
    assert len(problems) == 3, problems
    assert any("introuvable" in p or "not found" in p for p in problems)
    assert any("inaccessible" in p or "introuvable" in p for p in problems if "nulle-part" in p)


def test_parse_reads_an_object_uri_from_the_command_line(tmp_path: Path, s3: S3) -> None:
    """`loyaute parse s3://…` (CONTRACT.md) sees in an object what it sees in the same file on
    disk: the same JSON lines, the path aside."""
    folder = log_folder(tmp_path / "logs")
    s3.upload(folder, "cli")
    uri = s3.uri("cli/fortigate.log")
    on_disk = CliRunner().invoke(app, ["parse", str(folder / "fortigate.log")])
    remote = CliRunner().invoke(app, ["parse", uri])
    assert remote.exit_code == on_disk.exit_code
    strip = [
        {k: v for k, v in json.loads(ln).items() if k != "file"}
        for ln in remote.stdout.splitlines()
        if ln.startswith("{")
    ]
    expected = [
        {k: v for k, v in json.loads(ln).items() if k != "file"}
        for ln in on_disk.stdout.splitlines()
        if ln.startswith("{")
    ]
    assert strip == expected
    assert any(r.get("login") == "jdupont" for r in strip)


def test_credentials_in_a_uri_are_never_shown_or_stored(tmp_path: Path, s3: S3) -> None:
    """H3/B2: keys written into a URI (``s3://KEY:SECRET@bucket/…`` or ``?secret_key=``) reach
    the file system but never the report, the manifest or the screen."""
    folder = log_folder(tmp_path / "logs")
    s3.upload(folder, "secret")
    base = s3.uri("secret")
    with_userinfo = base.replace("s3://", "s3://loyaute:cle-tres-secrete@")
    files, problems = expand_paths([with_userinfo])
    assert problems == []
    assert files
    assert all("cle-tres-secrete" not in str(f) for f in files)
    assert all("cle-tres-secrete" in f.uri for f in files if isinstance(f, RemoteFile))
    make_workspace(
        tmp_path / "home", remote=[f"s3://{s3.bucket}"], schedule=[("A1", MON, "JOUR", "TLT")]
    ).close()
    home = tmp_path / "home" / "ws"
    report = run(home, with_userinfo, LocalEngine(1))
    assert "cle-tres-secrete" not in json.dumps(report.to_json())
    ws = Workspace.open(home, CLOCK)
    try:
        paths = [r[0] for r in ws.db.conn.execute("SELECT path FROM manifest")]
    finally:
        ws.close()
    assert paths
    assert not [p for p in paths if "cle-tres-secrete" in p]
    masked = RemoteFile("s3://b/k.log?endpoint_override=h:1&secret_key=abc&access_key=def")
    assert str(masked) == "s3://b/k.log?endpoint_override=h:1&secret_key=***&access_key=***"
