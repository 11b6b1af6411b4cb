"""The ingest run, rule by rule (A1–A6, B1–B6, C9, F2, F6), idempotence and DST days."""

from __future__ import annotations

import errno
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from loyaute.clock import FixedClock
from loyaute.config import HalfDays
from loyaute.demo import logs
from loyaute.errors import GateError
from loyaute.ingest.pipeline import mask, rescope
from loyaute.schedule import import_schedule
from loyaute.store.records import RECORD_SCHEMA, FileOps, StoreError
from tests.builders import (
    NOW,
    iis_file,
    local,
    make_workspace,
    owa,
    run_ingest,
    schedule_csv,
    stored,
    vpn_session,
    write_logs,
)

MON = date(2026, 3, 23)
TUE = date(2026, 3, 24)


def test_a_day_of_traces_becomes_half_day_records(tmp_path: Path) -> None:
    """VPN, mail and apps traces of one telework day become (agent, day, half, categories)."""
    ws = make_workspace(tmp_path)
    fgt = write_logs(
        tmp_path / "logs", "fgt.log", vpn_session("jdupont", local(MON, 8, 40), local(MON, 12, 10))
    )
    iis = iis_file(
        tmp_path / "logs", "u_ex260323.log", [owa("jeanne.dupont@lenord.fr", local(MON, 14, 5))]
    )
    proxy = write_logs(
        tmp_path / "logs",
        "access.log",
        [
            logs.proxy_line(
                local(MON, 15, 0), "grandangle.extranet.lenord.fr", "/ga/", "LENORD\\jdupont"
            )
        ],
    )
    report = run_ingest(ws, [fgt, iis, proxy])
    assert not report.failed
    assert stored(ws) == {
        ("A1", "2026-03-23", "AM", "telework", "vpn"),
        ("A1", "2026-03-23", "PM", "telework", "mail;apps"),
    }
    assert sum(f.kept for f in report.files) == 3  # one VPN half-day, two in the afternoon
    ws.close()


def test_gates_a1_a3_refuse_ingest_naming_what_is_missing(tmp_path: Path) -> None:
    """A1–A3: ingest refuses while the register entry or the legal basis is missing."""
    ws = make_workspace(tmp_path, register_update={"registered_on": "", "legal_text": ""})
    fgt = write_logs(
        tmp_path / "logs", "fgt.log", vpn_session("jdupont", local(MON, 9), local(MON, 10))
    )
    with pytest.raises(GateError) as info:
        run_ingest(ws, [fgt])
    message = str(info.value)
    assert "A1" in message
    assert "purpose.registered_on" in message
    assert "A3" in message
    assert ws.activity.generation() is None  # nothing was stored
    ws.close()


def test_a2_crosscheck_needs_subsidiarity(tmp_path: Path) -> None:
    """D2/A2: cross-check mode cannot run without the DPIA's subsidiarity section."""
    ws = make_workspace(tmp_path, register_update={"dpia_subsidiarity": ""})
    fgt = write_logs(
        tmp_path / "logs", "fgt.log", vpn_session("jdupont", local(MON, 9), local(MON, 10))
    )
    with pytest.raises(GateError, match="dpia_subsidiarity"):
        run_ingest(ws, [fgt])
    ws.close()


def test_t0_one_second_before_is_dropped_one_second_after_is_kept(tmp_path: Path) -> None:
    """A5 on a DST day: T0 = 29 March 2026 starts at 23:00 UTC on the 28th (CET, UTC+1)."""
    t0 = date(2026, 3, 29)
    ws = make_workspace(
        tmp_path,
        start=t0,
        half_days=HalfDays(am="00:00-12:00", pm="12:00-24:00"),
        notices=dict.fromkeys(("A1", "A2", "A3", "A4"), t0),
    )
    before = local(date(2026, 3, 28), 23, 59, 59)
    after = local(t0, 0, 0, 1)
    assert (after - before).total_seconds() == 2
    iis = iis_file(
        tmp_path / "logs",
        "u_ex.log",
        [owa("jdupont", before), owa("hpetit", after)],
    )
    report = run_ingest(ws, [iis])
    assert stored(ws) == {("A4", "2026-03-29", "AM", "telework", "mail")}
    assert report.files[0].dropped["before_t0"] == 1
    ws.close()


def test_a6_backfill_older_than_t0_is_refused_counted_and_audited(tmp_path: Path) -> None:
    """A6: an old file's half-days are refused with a count, and the refusal is audited."""
    ws = make_workspace(tmp_path, notices={"A1": TUE, "A2": MON, "A3": MON, "A4": MON})
    fgt = write_logs(
        tmp_path / "logs",
        "fgt.log",
        vpn_session("jdupont", local(MON, 9), local(MON, 16))
        + vpn_session("jdupont", local(TUE, 9), local(TUE, 10), 2),
    )
    report = run_ingest(ws, [fgt])
    assert report.files[0].dropped["before_t0"] == 2  # Monday AM and PM, before A1's notice
    assert stored(ws) == {("A1", "2026-03-24", "AM", "telework", "vpn")}
    refusals = [e for e in ws.audit.entries() if e.action == "backfill_refused"]
    assert refusals
    assert refusals[0].details == {"half_days": 2}
    ws.close()


def test_no_notice_means_no_t0_and_nothing_kept(tmp_path: Path) -> None:
    """A7/A5: an agent without a notice delivery date has no T0: nothing is kept about them."""
    ws = make_workspace(tmp_path, notices={"A2": MON, "A3": MON, "A4": MON})
    fgt = write_logs(
        tmp_path / "logs", "fgt.log", vpn_session("jdupont", local(MON, 9), local(MON, 10))
    )
    report = run_ingest(ws, [fgt])
    assert stored(ws) == set()
    assert report.files[0].dropped["no_t0"] == 1
    ws.close()


def test_b4_only_telework_half_days_are_kept(tmp_path: Path) -> None:
    """B4: leave, sickness, training, missions, field and union half-days are never kept."""
    days = [MON + timedelta(days=i) for i in range(5)]
    codes = ["CA", "MAL", "FORM", "VAD", "ASA"]
    ws = make_workspace(
        tmp_path, schedule=[("A1", d, "JOUR", c) for d, c in zip(days, codes, strict=True)]
    )
    lines = []
    for i, d in enumerate(days):
        lines += vpn_session("jdupont", local(d, 9), local(d, 10), 100 + i)
    report = run_ingest(ws, [write_logs(tmp_path / "logs", "fgt.log", lines)])
    assert stored(ws) == set()
    assert report.files[0].dropped["out_of_scope"] == 5
    ws.close()


def test_b4_pending_then_promoted_when_the_schedule_arrives(tmp_path: Path) -> None:
    """B4: a half-day without a schedule waits (pending) and is kept once it is scheduled."""
    ws = make_workspace(tmp_path, schedule=[], now=datetime(2026, 3, 25, 18, 0, tzinfo=NOW.tzinfo))
    report = run_ingest(
        ws,
        [
            write_logs(
                tmp_path / "logs", "fgt.log", vpn_session("jdupont", local(MON, 9), local(MON, 10))
            )
        ],
    )
    assert report.files[0].pending == 1
    assert stored(ws) == set()
    assert ws.activity.read("pending").num_rows == 1
    (tmp_path / "late.csv").write_text(schedule_csv([("A1", MON, "AM", "TLT")]), encoding="utf-8")
    imported = import_schedule(ws.db, [tmp_path / "late.csv"], ws.settings.schedule)
    result = rescope(ws, imported.days)
    assert result.promoted == 1
    assert stored(ws) == {("A1", "2026-03-23", "AM", "telework", "vpn")}
    assert ws.activity.read("pending").num_rows == 0
    ws.close()


def test_b4_pending_expires_after_pending_days(tmp_path: Path) -> None:
    """B4: a half-day whose schedule never comes is dropped after `pending_days` (7)."""
    ws = make_workspace(tmp_path, schedule=[], now=datetime(2026, 3, 24, 18, 0, tzinfo=NOW.tzinfo))
    run_ingest(
        ws,
        [
            write_logs(
                tmp_path / "logs", "fgt.log", vpn_session("jdupont", local(MON, 9), local(MON, 10))
            )
        ],
    )
    assert ws.activity.read("pending").num_rows == 1
    ws.clock = FixedClock(
        datetime(2026, 3, 30, 18, 0, tzinfo=NOW.tzinfo)
    )  # 7 days after: still waiting
    rescope(ws, set())
    assert ws.activity.read("pending").num_rows == 1
    ws.clock = FixedClock(datetime(2026, 3, 31, 18, 0, tzinfo=NOW.tzinfo))  # 8 days after: dropped
    report = rescope(ws, set())
    assert report.expired == 1
    assert ws.activity.read("pending").num_rows == 0
    ws.close()


def test_schedule_change_rescopes_stored_records(tmp_path: Path) -> None:
    """B4: a telework half-day later re-coded as leave is no longer kept."""
    ws = make_workspace(tmp_path)
    run_ingest(
        ws,
        [
            write_logs(
                tmp_path / "logs", "fgt.log", vpn_session("jdupont", local(MON, 9), local(MON, 10))
            )
        ],
    )
    assert len(stored(ws)) == 1
    (tmp_path / "fix.csv").write_text(schedule_csv([("A1", MON, "JOUR", "CA")]), encoding="utf-8")
    rescope(ws, import_schedule(ws.db, [tmp_path / "fix.csv"], ws.settings.schedule).days)
    assert stored(ws) == set()
    ws.close()


def test_b5_ineligible_family_is_not_processed(tmp_path: Path) -> None:
    """B5: social work is not an eligible family: its telework half-days are not kept."""
    ws = make_workspace(tmp_path)
    report = run_ingest(
        ws,
        [
            write_logs(
                tmp_path / "logs", "fgt.log", vpn_session("mleroy", local(MON, 9), local(MON, 10))
            )
        ],
    )
    assert stored(ws) == set()
    assert report.files[0].dropped["not_eligible"] == 1
    ws.close()


def test_on_site_half_days_kept_only_for_the_validity_study(tmp_path: Path) -> None:
    """On-site half-days are kept (scope on_site) only when the validity study is enabled."""
    schedule = [("A2", MON, "JOUR", "PRES")]
    line = [owa("mleroy", local(MON, 10))]
    ws = make_workspace(tmp_path / "on", schedule=schedule)
    run_ingest(ws, [iis_file(tmp_path / "on" / "logs", "u.log", line)])
    assert stored(ws) == {("A2", "2026-03-23", "AM", "on_site", "mail")}  # any family
    ws.close()
    ws = make_workspace(tmp_path / "off", schedule=schedule, validity=False)
    report = run_ingest(ws, [iis_file(tmp_path / "off" / "logs", "u.log", line)])
    assert stored(ws) == set()
    assert report.files[0].dropped["out_of_scope"] == 1
    ws.close()


def test_c9_traces_outside_the_windows_are_ignored(tmp_path: Path) -> None:
    """C9: the right to disconnect — a mail read at 22:15 or 06:30 leaves no record."""
    ws = make_workspace(tmp_path)
    iis = iis_file(
        tmp_path / "logs",
        "u.log",
        [
            owa("jdupont", local(MON, 22, 15)),
            owa("jdupont", local(TUE, 6, 30)),
            owa("hpetit", local(TUE, 7, 0)),
        ],
    )
    run_ingest(ws, [iis])
    assert stored(ws) == {("A4", "2026-03-24", "AM", "telework", "mail")}
    ws.close()


def test_background_traffic_is_not_a_trace(tmp_path: Path) -> None:
    """A phone Ping and Outlook's sync are background: not a trace unless configured."""
    ws = make_workspace(tmp_path)
    lines = [
        logs.iis_line(
            local(MON, 9),
            "POST",
            "/Microsoft-Server-ActiveSync/default.eas",
            "Cmd=Ping&User=jdupont",
            "LENORD\\jdupont",
            logs.PHONE_UA,
            taken_ms=1_700_000,
        ),
        logs.iis_line(
            local(MON, 10),
            "POST",
            "/mapi/emsmdb/",
            "MailboxId=1",
            "LENORD\\jdupont",
            logs.OUTLOOK_UA,
        ),
    ]
    report = run_ingest(ws, [iis_file(tmp_path / "logs", "u.log", lines)])
    assert report.files[0].events == 2
    assert stored(ws) == set()
    ws.close()


def test_unmatched_logins_are_counted_never_stored(tmp_path: Path) -> None:
    """Logins that match nobody are shown to the operator and never stored as activity."""
    ws = make_workspace(tmp_path)
    fgt = write_logs(
        tmp_path / "logs",
        "fgt.log",
        vpn_session("prestataire.externe", local(MON, 9), local(MON, 10)),
    )
    report = run_ingest(ws, [fgt])
    assert report.files[0].unmatched == {"prestataire.externe": 1}
    assert stored(ws) == set()
    ws.close()


def test_dst_autumn_day_splits_halves_in_local_time(tmp_path: Path) -> None:
    """25 Oct 2026 (UTC+2 → UTC+1): 10:35 UTC is 11:35 local (AM); 11:35 UTC is 12:35 (PM)."""
    day = date(2026, 10, 25)
    ws = make_workspace(
        tmp_path,
        now=datetime(2026, 10, 30, 12, 0, tzinfo=NOW.tzinfo),
        schedule=[("A1", day, "JOUR", "TLT"), ("A4", day, "JOUR", "TLT")],
    )
    utc = NOW.tzinfo
    iis = iis_file(
        tmp_path / "logs",
        "u.log",
        [
            owa("jdupont", datetime(2026, 10, 25, 10, 35, tzinfo=utc)),
            owa("hpetit", datetime(2026, 10, 25, 11, 35, tzinfo=utc)),
        ],
    )
    run_ingest(ws, [iis])
    assert stored(ws) == {
        ("A1", "2026-10-25", "AM", "telework", "mail"),
        ("A4", "2026-10-25", "PM", "telework", "mail"),
    }
    ws.close()


def test_dst_spring_day_splits_halves_in_local_time(tmp_path: Path) -> None:
    """29 Mar 2026 (UTC+1 → UTC+2): 10:35 UTC is 12:35 local (PM), unlike the day before."""
    ws = make_workspace(tmp_path)
    utc = NOW.tzinfo
    iis = iis_file(
        tmp_path / "logs",
        "u.log",
        [
            owa("jdupont", datetime(2026, 3, 28, 10, 35, tzinfo=utc)),
            owa("jdupont", datetime(2026, 3, 29, 10, 35, tzinfo=utc)),
        ],
    )
    run_ingest(ws, [iis])
    assert stored(ws) == {
        ("A1", "2026-03-28", "AM", "telework", "mail"),
        ("A1", "2026-03-29", "PM", "telework", "mail"),
    }
    ws.close()


def store_bytes(ws_home: Path) -> dict[str, bytes]:
    gen = (ws_home / "store" / "activity" / "CURRENT").read_text().strip()
    root = ws_home / "store" / "activity" / f"gen-{gen}"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def test_idempotent_re_reading_and_rotated_copies_change_nothing(tmp_path: Path) -> None:
    """OR of booleans: a file read twice, or an overlapping rotated copy, changes nothing."""
    ws = make_workspace(tmp_path)
    day1 = vpn_session("jdupont", local(MON, 9), local(MON, 16))
    day2 = vpn_session("hpetit", local(TUE, 9), local(TUE, 10), 7)
    first = write_logs(tmp_path / "logs", "fgt.log", day1)
    run_ingest(ws, [first])
    run_ingest(ws, [write_logs(tmp_path / "logs2", "fgt.log.1", day2)])
    once = store_bytes(ws.paths.home)
    report = run_ingest(ws, [first])
    assert report.files[0].status == "already"
    run_ingest(ws, [first], force=True)
    run_ingest(ws, [write_logs(tmp_path / "logs3", "rotated.log", day1 + day2)])
    assert store_bytes(ws.paths.home) == once
    ws.close()


def test_b1_b2_b6_the_store_holds_only_the_projection(tmp_path: Path) -> None:
    """B1: raw logs are not copied; B2: no IP, URL, login or time leaves for the store;
    B6: agents appear only as keyed pseudonyms, and the key is nowhere else."""
    ws = make_workspace(tmp_path)
    lines = vpn_session("jdupont", local(MON, 9), local(MON, 16))
    run_ingest(
        ws,
        [
            write_logs(tmp_path / "logs", "fgt.log", lines),
            iis_file(tmp_path / "logs", "u.log", [owa("hpetit", local(MON, 9))]),
        ],
    )
    files = list((ws.paths.activity).rglob("*.parquet"))
    assert files
    for f in files:
        assert pq.read_schema(f).remove_metadata() == RECORD_SCHEMA.remove_metadata()
    key = ws.paths.key(ws.settings).read_text().strip()
    forbidden = [
        b"198.51.100.7",
        b"jdupont",
        b"hpetit",
        b"/owa/service.svc",
        b"tunnel-up",
        b"A1",
        b"A4",
        key.encode(),
    ]
    for f in ws.paths.activity.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            for needle in forbidden:
                assert needle not in data, (f, needle)
    pseudonyms = set(ws.activity.read("records").column("agent").to_pylist())
    assert pseudonyms == {ws.pseudonymizer.pseudonym("A1"), ws.pseudonymizer.pseudonym("A4")}
    for f in [*ws.paths.home.rglob("*.db"), *ws.paths.home.rglob("*.db-wal")]:
        assert key.encode() not in f.read_bytes()
        assert b"tunnel-up" not in f.read_bytes()
    ws.close()


def test_f6_quarantine_keeps_a_few_masked_examples_for_seven_days(tmp_path: Path) -> None:
    """F6: malformed input is personal data too: a few examples, identifiers masked, 7 days."""
    ws = make_workspace(tmp_path)
    bad = [
        f"2026-03-23 99:99:99 10.0.5.11 POST /owa/service.svc action=GetItem 443 LENORD\\jdupont 10.1.2.{i} ua - 200 0 0 5"
        for i in range(9)
    ]
    run_ingest(ws, [iis_file(tmp_path / "logs", "u.log", bad)])
    rows = ws.db.conn.execute("SELECT masked, reason FROM quarantine").fetchall()
    assert len(rows) == 5
    assert all(r[1] == "bad_time" for r in rows)
    assert all("jdupont" not in r[0] and "LENORD" not in r[0] for r in rows)
    assert "j******" in rows[0][0]
    ws.clock = FixedClock(NOW + timedelta(days=8))
    run_ingest(ws, [])
    assert ws.db.conn.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0] == 0
    ws.close()


def test_mask_keeps_shape_hides_identifiers() -> None:
    assert mask('user="jdupont" ip=10.1.2.3') == 'u***="j******" i*=1*.1.2.3'


def test_f2_retention_purges_after_month_end_plus_31_days_and_audits_it(tmp_path: Path) -> None:
    """F2: records of March are kept through 1 May (31 days after 31 March), purged on 2 May."""
    ws = make_workspace(tmp_path)
    run_ingest(
        ws,
        [
            write_logs(
                tmp_path / "logs", "fgt.log", vpn_session("jdupont", local(MON, 9), local(MON, 10))
            )
        ],
    )
    ws.clock = FixedClock(datetime(2026, 5, 1, 12, 0, tzinfo=NOW.tzinfo))
    run_ingest(ws, [])
    assert len(stored(ws)) == 1
    ws.clock = FixedClock(datetime(2026, 5, 2, 12, 0, tzinfo=NOW.tzinfo))
    run_ingest(ws, [])  # retention runs by itself on every ingest
    assert stored(ws) == set()
    purges = [e for e in ws.audit.entries() if e.action == "purge"]
    removed = purges[-1].details["removed"]
    assert removed["records_expired"] == 1
    assert (
        removed["schedule_expired"] == 56
    )  # the schedule goes with its records (4 agents x 7 days x 2)
    assert purges[-1].details["days"] == {"records_expired": ["2026-03-23"]}
    assert purges[-1].agent_id == ""  # counts and dates, never identities
    ws.close()


def test_disk_full_leaves_the_store_unchanged(tmp_path: Path) -> None:
    """A disk that fills during the commit: the store is unchanged and the error says so."""

    class FullDisk(FileOps):
        def write_parquet(self, table, path):  # type: ignore[no-untyped-def]
            raise OSError(errno.ENOSPC, "No space left on device")

    ws = make_workspace(tmp_path)
    run_ingest(
        ws,
        [
            write_logs(
                tmp_path / "logs", "fgt.log", vpn_session("jdupont", local(MON, 9), local(MON, 10))
            )
        ],
    )
    before = store_bytes(ws.paths.home)
    ws.activity.ops = FullDisk()
    second = write_logs(
        tmp_path / "logs2", "fgt.log", vpn_session("hpetit", local(TUE, 9), local(TUE, 10))
    )
    with pytest.raises(StoreError, match=r"disque plein|disk full"):
        run_ingest(ws, [second])
    assert store_bytes(ws.paths.home) == before
    assert (
        ws.db.conn.execute("SELECT COUNT(*) FROM manifest").fetchone()[0] == 1
    )  # not recorded: re-run later
    ws.activity.ops = FileOps()
    run_ingest(ws, [second])
    assert ("A4", "2026-03-24", "AM", "telework", "vpn") in stored(ws)
    ws.close()


def test_source_not_enabled_is_refused(tmp_path: Path) -> None:
    """A4: a format outside [sources] enabled is not read (adding one is a material change)."""
    ws = make_workspace(tmp_path)
    journal = write_logs(
        tmp_path / "logs",
        "journal.jsonl",
        ['{"timestamp": "2026-03-23T09:00:00+01:00", "user": "jdupont"}'],
    )
    report = run_ingest(ws, [journal], forced_format="jsonl")
    assert report.files[0].status == "refused"
    assert report.failed
    assert stored(ws) == set()
    ws.close()
