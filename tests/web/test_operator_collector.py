"""The operator's page shows the collector's health and counters — state, lines by transport,
reasons explained, commits, lag, UDP losses, followed files — and still no activity data (E5)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from loyaute.ingest.collect.metrics import Counters, FollowedStatus, status_json
from tests.web.support import Web, find_markers, personal_markers


def write_status(web: Web, state: str = "running", seconds_ago: int = 2) -> None:
    c = Counters(started_at="2026-03-20T08:00:00+00:00")
    c.messages.update({"udp": 1200, "tcp": 30_000})
    c.lines.update({"udp": 1200, "tcp": 30_000, "file": 5000})
    c.bytes.update({"udp": 900_000, "tcp": 21_000_000, "file": 1_400_000})
    c.events = 812
    c.skipped.update({"not_vpn_event": 35_000, "unrecognised_format": 12, "bad_frame": 1})
    c.half_days.update(Counter({"kept": 140, "pending": 3, "unmatched_login": 9}))
    c.commits = 17
    c.udp_kernel_drops = 42
    c.relp_unacked = 5
    c.follow = [FollowedStatus("/var/log/proxy/access.log", "proxy", 1000, 1500, "following")]
    c.warn("/var/log/old.log: followed file not found after rotation")
    at = (web.clock.now() - timedelta(seconds=seconds_ago)).isoformat(timespec="seconds")
    status = status_json(c, state=state, listeners=["udp 0.0.0.0:514"], pid=1, updated_at=at)
    with web.workspace() as ws:
        ws.db.collector.write_status(status, at)


def test_the_operator_sees_the_collectors_health_and_counters(fresh_web: Web) -> None:
    c = fresh_web.signed_in("operator")
    assert "Aucune collecte continue" in c.get("/operator").text
    write_status(fresh_web)
    page = c.get("/operator").text
    assert "Collecte continue" in page
    assert "en marche" in page
    assert "30000" in page  # TCP lines
    assert "42" in page  # UDP datagrams the kernel dropped
    assert "format non reconnu" in page  # a reason, explained
    assert "/var/log/proxy/access.log" in page
    assert "followed file not found after rotation" in page
    english = c.get("/operator?lang=en").text
    assert "Continuous collection" in english
    assert "unrecognised format" in english
    assert find_markers(page, personal_markers(fresh_web)) == []


def test_a_collector_without_heartbeat_is_shown_silent(fresh_web: Web) -> None:
    write_status(fresh_web, seconds_ago=3600)
    page = fresh_web.signed_in("operator").get("/operator").text
    assert "sans nouvelles" in page
    write_status(fresh_web, state="stopped", seconds_ago=3600)
    assert "arrêtée" in fresh_web.signed_in("operator").get("/operator").text


def test_only_the_operator_reads_it(fresh_web: Web) -> None:
    write_status(fresh_web)
    for role in ("agent", "manager", "hr_reviewer", "staff_rep"):
        r = fresh_web.signed_in(role).get("/operator", follow_redirects=False)
        assert r.status_code in (303, 403), role
