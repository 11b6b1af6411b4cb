"""The audit log (rule H1): append-only, hash-chained, kept apart from the activity store.

``verify`` recomputes the chain and names the first entry that was edited, removed or moved; a
copy of the last (seq, hash) in ``HEAD`` shows a cut tail. Retention (rule F5) removes the oldest
entries and the rest still verifies.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.errors import WorkspaceError
from loyaute.store.audit import GENESIS, AuditKeyMissing, AuditLog, Checkpoints, entry_hash
from loyaute.workspace import Paths, Workspace
from tests.builders import DPO, cli_env

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
COLUMNS = ("at", "actor", "role", "action", "agent_id", "reason", "details", "prev", "hash")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "audit" / "audit.db"


@pytest.fixture
def log(log_path: Path, clock: FixedClock) -> Iterator[AuditLog]:
    audit = AuditLog(log_path, clock)
    try:
        yield audit
    finally:
        audit.close()


def fill(
    log: AuditLog, clock: FixedClock, n: int = 5, step: timedelta = timedelta(hours=1)
) -> None:
    """``n`` entries, one per ``step``, about agents A001/A002 in turn."""
    for i in range(n):
        log.append(
            f"rh{i}",
            "hr_reviewer",
            "view_records",
            agent_id=f"A00{i % 2 + 1}",
            reason=f"dossier 2026-{i:03d}",
            details={"case": i, "days": ["2026-03-02"]},
        )
        clock.instant += step


def tamper(log_path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Edit the audit database behind the log's back, as someone with file access would."""
    conn = sqlite3.connect(log_path)
    try:
        with conn:
            for sql, params in statements:
                conn.execute(sql, params)
    finally:
        conn.close()


def reopen(log_path: Path, clock: FixedClock) -> tuple[int, int | None]:
    audit = AuditLog(log_path, clock)
    try:
        return audit.verify()
    finally:
        audit.close()


# --- append and entries -------------------------------------------------------------------------


def test_append_chains_each_entry_to_the_previous(log: AuditLog, clock: FixedClock) -> None:
    """Rule H1: entries numbered from 1, the first chained to the genesis hash, each next one to
    the hash of its predecessor; the hash covers every field."""
    fill(log, clock, 3)
    entries = list(log.entries())
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev == GENESIS
    assert entries[1].prev == entries[0].hash
    assert entries[2].prev == entries[1].hash
    e = entries[1]
    assert e.hash == entry_hash(
        e.prev,
        e.seq,
        e.at,
        e.actor,
        e.role,
        e.action,
        e.agent_id,
        e.reason,
        json.dumps(e.details, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
    )
    assert len({x.hash for x in entries}) == 3


def test_entries_carry_who_what_why_and_when(log: AuditLog, clock: FixedClock) -> None:
    """Rule H1: each access is written with actor, role, action, agent, reason and time (from the
    injected clock, to the second)."""
    entry = log.append(
        "mdurand",
        "hr_reviewer",
        "reidentify",
        agent_id="A042",
        reason="dossier 2026-007",
        details={"case": 7},
    )
    (stored,) = list(log.entries())
    assert stored == entry
    assert (stored.actor, stored.role, stored.action) == ("mdurand", "hr_reviewer", "reidentify")
    assert (stored.agent_id, stored.reason, stored.details) == (
        "A042",
        "dossier 2026-007",
        {"case": 7},
    )
    assert stored.at == "2026-03-02T08:00:00+00:00"


def test_entries_filtered_by_agent(log: AuditLog, clock: FixedClock) -> None:
    """Rules H1, E6: an agent's own view lists exactly the entries about them, in order."""
    fill(log, clock, 5)
    assert [e.seq for e in log.entries("A001")] == [1, 3, 5]
    assert [e.seq for e in log.entries("A002")] == [2, 4]
    assert list(log.entries("A999")) == []


def test_an_untouched_log_verifies(log: AuditLog, clock: FixedClock, log_path: Path) -> None:
    """Rule H1: verify counts every entry and finds nothing broken, also after a reopen."""
    assert log.verify() == (0, None)
    fill(log, clock, 6)
    assert log.verify() == (6, None)
    assert reopen(log_path, clock) == (6, None)


def test_append_continues_the_chain_after_a_reopen(log_path: Path, clock: FixedClock) -> None:
    """Rule H1: a second process appending after the first keeps one chain."""
    first = AuditLog(log_path, clock)
    try:
        fill(first, clock, 2)
    finally:
        first.close()
    second = AuditLog(log_path, clock)
    try:
        entry = second.append("dpo", "dpo", "export", reason="G2")
        assert entry.seq == 3
        assert second.verify() == (3, None)
    finally:
        second.close()


# --- verify detects tampering -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("reason", "aucune raison"),
        ("actor", "quelqu'un d'autre"),
        ("agent_id", "A999"),
        ("action", "view_records_"),
        ("at", "2026-03-01T08:00:00+00:00"),
        ("details", '{"case":99}'),
        ("role", "dpo"),
    ],
)
def test_verify_detects_an_edited_field(
    log: AuditLog, clock: FixedClock, log_path: Path, column: str, value: str
) -> None:
    """Rule H1: an UPDATE of any field of entry 3 breaks the chain at entry 3."""
    fill(log, clock, 5)
    tamper(log_path, (f"UPDATE audit SET {column} = ? WHERE seq = 3", (value,)))
    assert log.verify() == (2, 3)


def test_verify_detects_an_edit_with_its_own_hash_recomputed(
    log: AuditLog, clock: FixedClock, log_path: Path
) -> None:
    """Rule H1: rewriting entry 3 *and* its hash still breaks the chain, at entry 4 whose
    ``prev`` no longer matches."""
    fill(log, clock, 5)
    e = next(x for x in log.entries() if x.seq == 3)
    details = json.dumps(e.details, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    forged = entry_hash(e.prev, 3, e.at, e.actor, e.role, e.action, e.agent_id, "rien", details)
    tamper(log_path, ("UPDATE audit SET reason = 'rien', hash = ? WHERE seq = 3", (forged,)))
    assert log.verify() == (3, 4)


def test_verify_detects_the_last_entry_rewritten_with_its_hash(
    log: AuditLog, clock: FixedClock, log_path: Path
) -> None:
    """Rule H1: the last entry has no successor to betray it; HEAD does."""
    fill(log, clock, 5)
    e = next(x for x in log.entries() if x.seq == 5)
    details = json.dumps(e.details, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    forged = entry_hash(e.prev, 5, e.at, "x", e.role, e.action, e.agent_id, e.reason, details)
    tamper(log_path, ("UPDATE audit SET actor = 'x', hash = ? WHERE seq = 5", (forged,)))
    assert log.verify()[1] == 5


def test_verify_detects_a_deleted_entry_in_the_middle(
    log: AuditLog, clock: FixedClock, log_path: Path
) -> None:
    """Rule H1: removing entry 3 is reported at entry 3, the first one missing."""
    fill(log, clock, 5)
    tamper(log_path, ("DELETE FROM audit WHERE seq = 3", ()))
    assert log.verify() == (2, 3)


def test_verify_detects_a_deleted_first_entry(
    log: AuditLog, clock: FixedClock, log_path: Path
) -> None:
    """Rule H1: removing entry 1 (without a purge's anchor) is reported at entry 1."""
    fill(log, clock, 4)
    tamper(log_path, ("DELETE FROM audit WHERE seq = 1", ()))
    assert log.verify() == (0, 1)


def test_verify_detects_two_entries_swapped(
    log: AuditLog, clock: FixedClock, log_path: Path
) -> None:
    """Rule H1: swapping the contents of entries 2 and 3 (order changed, numbers kept) is
    reported at entry 2."""
    fill(log, clock, 5)
    conn = sqlite3.connect(log_path)
    try:
        rows = {
            r[0]: r[1:]
            for r in conn.execute(
                f"SELECT seq, {', '.join(COLUMNS)} FROM audit WHERE seq IN (2, 3)"
            )
        }
        sets = ", ".join(f"{c} = ?" for c in COLUMNS)
        with conn:
            conn.execute(f"UPDATE audit SET {sets} WHERE seq = 2", rows[3])
            conn.execute(f"UPDATE audit SET {sets} WHERE seq = 3", rows[2])
    finally:
        conn.close()
    assert [e.reason for e in log.entries()][1:3] == ["dossier 2026-002", "dossier 2026-001"]
    assert log.verify() == (1, 2)


def test_verify_detects_renumbered_entries(
    log: AuditLog, clock: FixedClock, log_path: Path
) -> None:
    """Rule H1: deleting entry 3 and renumbering 4, 5 to close the gap is still caught at 3."""
    fill(log, clock, 5)
    tamper(
        log_path,
        ("DELETE FROM audit WHERE seq = 3", ()),
        ("UPDATE audit SET seq = 3 WHERE seq = 4", ()),
        ("UPDATE audit SET seq = 4 WHERE seq = 5", ()),
    )
    assert log.verify() == (2, 3)


@pytest.mark.parametrize("removed", [1, 2])
def test_verify_detects_the_tail_cut(
    log: AuditLog, clock: FixedClock, log_path: Path, removed: int
) -> None:
    """Rule H1: removing the last entries leaves a chain that is valid in itself; HEAD shows the
    cut, and the first missing entry is named."""
    fill(log, clock, 5)
    tamper(log_path, ("DELETE FROM audit WHERE seq > ?", (5 - removed,)))
    checked, broken = log.verify()
    assert checked == 5 - removed
    assert broken == 5 - removed + 1


def test_verify_detects_every_entry_removed(
    log: AuditLog, clock: FixedClock, log_path: Path
) -> None:
    """Rule H1: an emptied log is not a fresh one — HEAD remembers entry 3."""
    fill(log, clock, 3)
    tamper(log_path, ("DELETE FROM audit", ()))
    assert log.verify() == (0, 1)


# --- retention (F5) -----------------------------------------------------------------------------


def test_purge_before_removes_old_entries_and_the_rest_verifies(
    log: AuditLog, clock: FixedClock
) -> None:
    """Rule F5: entries older than the cutoff go; the remaining chain still verifies."""
    fill(log, clock, 6, step=timedelta(days=30))
    cutoff = START + timedelta(days=90)  # entries 1–3 are before, 4–6 on or after
    assert log.purge_before(cutoff) == 3
    assert [e.seq for e in log.entries()] == [4, 5, 6]
    assert log.verify() == (3, None)


def test_purge_before_boundary(log: AuditLog, clock: FixedClock) -> None:
    """Rule F5 boundary: an entry exactly at the cutoff is kept; one second earlier is not."""
    fill(log, clock, 3, step=timedelta(days=1))
    at_entry_2 = START + timedelta(days=1)
    assert log.purge_before(at_entry_2) == 1
    assert [e.seq for e in log.entries()] == [2, 3]
    assert log.purge_before(at_entry_2 - timedelta(seconds=1)) == 0
    assert log.purge_before(START - timedelta(days=1)) == 0
    assert [e.seq for e in log.entries()] == [2, 3]


def test_purge_then_append_keeps_one_chain(
    log: AuditLog, clock: FixedClock, log_path: Path
) -> None:
    """Rules F5, H1: after a purge new entries continue the numbering and the chain."""
    fill(log, clock, 4, step=timedelta(days=30))
    log.purge_before(START + timedelta(days=200))  # everything
    assert list(log.entries()) == []
    assert log.verify() == (0, None)
    entry = log.append("system", "system", "purge", reason="F5")
    assert entry.seq == 5
    assert log.verify() == (1, None)
    assert reopen(log_path, clock) == (1, None)


def test_tampering_after_a_purge_is_still_detected(
    log: AuditLog, clock: FixedClock, log_path: Path
) -> None:
    """Rules F5, H1: the anchor left by the purge does not make the remaining entries editable."""
    fill(log, clock, 6, step=timedelta(days=30))
    log.purge_before(START + timedelta(days=60))
    tamper(log_path, ("UPDATE audit SET reason = 'x' WHERE seq = 3", ()))
    assert log.verify() == (0, 3)


def test_deleting_the_oldest_kept_entry_after_a_purge_is_detected(
    log: AuditLog, clock: FixedClock, log_path: Path
) -> None:
    """Rules F5, H1: only a purge moves the anchor; deleting the next entry by hand shows."""
    fill(log, clock, 6, step=timedelta(days=30))
    log.purge_before(START + timedelta(days=60))  # 1, 2 purged; 3 is first
    tamper(log_path, ("DELETE FROM audit WHERE seq = 3", ()))
    assert log.verify() == (0, 3)


# --- kept apart, and the CLI --------------------------------------------------------------------


def run(home: Path, *args: str) -> Result:
    """The command run by the DPO, signed in with a personal token."""
    return CliRunner().invoke(app, ["--home", str(home), *args], env=cli_env(home, DPO))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    assert run(path, "init").exit_code == 0
    return path


def append_entries(home: Path, n: int = 4) -> None:
    clock = FixedClock(START)
    ws = Workspace.open(home, clock)
    try:
        for i in range(n):
            ws.audit.append(
                f"agent-rh-{i}",
                "hr_reviewer",
                "case_view",
                agent_id="A001",
                reason=f"dossier n° {i}",
                details={"case": i},
            )
            clock.instant += timedelta(minutes=5)
    finally:
        ws.close()


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


def test_audit_database_is_kept_apart(home: Path) -> None:
    """Rule H1 "kept apart from the activity store": its own file, outside store/, and neither
    database holds the other's tables."""
    paths = Paths(home)
    append_entries(home)
    assert paths.audit.is_file()
    assert paths.audit.resolve() != paths.state.resolve()
    store = paths.store.resolve()
    assert not paths.audit.resolve().is_relative_to(store)
    assert "audit" in tables(paths.audit)
    assert "audit" not in tables(paths.state)
    assert not {"agents", "logins", "schedule", "notices"} & tables(paths.audit)
    assert not list(paths.activity.rglob("*audit*"))


def test_cli_audit_verify_intact(home: Path) -> None:
    """Rule H1, CONTRACT ``audit verify``: exit 0 on an untouched log."""
    append_entries(home)
    result = run(home, "audit", "verify")
    assert result.exit_code == 0, result.stderr
    assert re.search(r"\b4\b", result.stdout)


def test_cli_audit_verify_empty(home: Path) -> None:
    """Rule H1: a fresh workspace's empty log verifies."""
    assert run(home, "audit", "verify").exit_code == 0


@pytest.mark.parametrize(
    ("sql", "broken"),
    [
        ("UPDATE audit SET reason = 'autre' WHERE seq = 2", 2),
        ("DELETE FROM audit WHERE seq = 3", 3),
        ("DELETE FROM audit WHERE seq = 4", 4),
    ],
)
def test_cli_audit_verify_tampered(home: Path, sql: str, broken: int) -> None:
    """Rule H1, CONTRACT ``audit verify``: exit 1 and the first broken entry named."""
    append_entries(home)
    tamper(Paths(home).audit, (sql, ()))
    result = run(home, "audit", "verify")
    assert result.exit_code == 1
    assert re.search(rf"(n° |#){broken}\b", result.stderr), result.stderr


def test_cli_audit_show_json(home: Path) -> None:
    """Rule H1, CONTRACT ``audit show``: one JSON object per entry with actor, role, action,
    reason (and agent, time), in order."""
    append_entries(home, 3)
    result = run(home, "audit", "show", "--json")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 3
    for i, obj in enumerate(lines):
        assert obj["actor"] == f"agent-rh-{i}"
        assert obj["role"] == "hr_reviewer"
        assert obj["action"] == "case_view"
        assert obj["reason"] == f"dossier n° {i}"
        assert obj["agent_id"] == "A001"
        assert obj["seq"] == i + 1
        assert obj["at"].startswith("2026-03-02T08:")
        assert obj["details"] == {"case": i}


def test_cli_audit_show_json_by_agent(home: Path) -> None:
    """Rules H1, E6: ``audit show --agent`` lists only that agent's entries."""
    append_entries(home, 2)
    ws = Workspace.open(home, FixedClock(START))
    try:
        ws.audit.append("dpo", "dpo", "export", agent_id="A002", reason="G2")
    finally:
        ws.close()
    result = run(home, "audit", "show", "--json", "--agent", "A002")
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [(o["agent_id"], o["actor"], o["reason"]) for o in lines] == [("A002", "dpo", "G2")]


def test_notice_record_is_audited(home: Path) -> None:
    """Rules A7, H1: recording the notice's delivery is written to the audit log with a reason."""
    directory = Path(__file__).resolve().parent.parent / "fixtures" / "workspace" / "directory.csv"
    assert run(home, "directory", "import", str(directory)).exit_code == 0
    result = CliRunner().invoke(
        app,
        ["--home", str(home), "notice", "record", "--all", "--on", "2026-03-02"],
        env={**cli_env(home, DPO), "LOYAUTE_ACTOR": "dpo-lenord"},
    )
    assert result.exit_code == 0, result.stderr
    shown = run(home, "audit", "show", "--json")
    entries = [json.loads(line) for line in shown.stdout.splitlines() if line.strip()]
    (entry,) = [e for e in entries if e["action"] == "notice_recorded"]
    # Rule E9: the signed-in account, never a name from the environment.
    assert entry["actor"] == DPO.login
    assert entry["role"] == "dpo"
    assert entry["reason"]
    assert run(home, "audit", "verify").exit_code == 0


# --- H4: a keyed chain, checkpointed outside the workspace (issue 10, finding 6) --------------

KEY = bytes(range(32))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """The append-only checkpoint file, outside the workspace."""
    return tmp_path / "elsewhere" / "loyaute-audit.checkpoints"


def keyed(log_path: Path, clock: FixedClock, outside: Path | None, months: int = 12) -> AuditLog:
    return AuditLog(
        log_path,
        clock,
        key=KEY,
        checkpoints=Checkpoints(outside) if outside else None,
        retention_months=months,
    )


def rechain(log_path: Path, key: bytes | None, from_seq: int = 1) -> None:
    """Recompute every MAC from ``from_seq`` on — with the key (an attacker who holds it) or
    with the plain hash of an unkeyed log (one who does not) — and rewrite HEAD to match."""
    conn = sqlite3.connect(log_path)
    conn.row_factory = sqlite3.Row
    try:
        with conn:
            rows = conn.execute("SELECT * FROM audit ORDER BY seq").fetchall()
            anchor = conn.execute("SELECT seq, hash FROM anchor").fetchone()
            prev = anchor["hash"] if anchor else GENESIS
            for r in rows:
                if r["seq"] >= from_seq:
                    mac = entry_hash(
                        prev,
                        r["seq"],
                        r["at"],
                        r["actor"],
                        r["role"],
                        r["action"],
                        r["agent_id"],
                        r["reason"],
                        r["details"],
                        key,
                    )
                    conn.execute(
                        "UPDATE audit SET prev = ?, hash = ? WHERE seq = ?", (prev, mac, r["seq"])
                    )
                    prev = mac
                else:
                    prev = r["hash"]
            last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    if last is not None:
        (log_path.parent / "HEAD").write_text(f"{last['seq']} {last['hash']}\n", encoding="ascii")


def renumber_and_remove_case_view(log_path: Path) -> int:
    """Delete the HR reviewer's case_view entry and renumber the rest, as a careful attacker
    would (no gap in the numbers); its seq."""
    conn = sqlite3.connect(log_path)
    try:
        with conn:
            (seq,) = conn.execute("SELECT seq FROM audit WHERE action = 'case_view'").fetchone()
            conn.execute("DELETE FROM audit WHERE seq = ?", (seq,))
            conn.execute("UPDATE audit SET seq = seq - 1 WHERE seq > ?", (seq,))
            conn.execute("DELETE FROM subjects")
    finally:
        conn.close()
    return int(seq)


def case_trail(log: AuditLog, clock: FixedClock) -> None:
    fill(log, clock, 3)
    log.append("rh.relecture", "hr_reviewer", "case_view", agent_id="A001", reason="dossier 1")
    clock.instant += timedelta(hours=1)
    fill(log, clock, 3)


def test_h4_entries_are_macs_under_the_audit_key(
    log_path: Path, clock: FixedClock, outside: Path
) -> None:
    """H4: each entry's MAC is an HMAC under the audit key: a plain hash of the same content is
    not it, and the key's holder alone can recompute the chain."""
    log = keyed(log_path, clock, outside)
    case_trail(log, clock)
    e = list(log.entries())[2]
    payload = json.dumps(e.details, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    fields = (e.prev, e.seq, e.at, e.actor, e.role, e.action, e.agent_id, e.reason, payload)
    assert e.hash == entry_hash(*fields, KEY)
    assert e.hash != entry_hash(*fields)
    log.close()


def test_h4_removing_an_entry_and_rechaining_without_the_key_is_detected(
    log_path: Path, clock: FixedClock, outside: Path
) -> None:
    """H4 (finding 6, first rewrite): delete the reviewer's case_view entry, renumber, recompute
    the chain as an unkeyed one: ``verify`` names the entry (it said "intact" before H4)."""
    log = keyed(log_path, clock, None)
    case_trail(log, clock)
    log.close()
    seq = renumber_and_remove_case_view(log_path)
    rechain(log_path, None)
    log = keyed(log_path, clock, None)
    found = log.verify_all()
    assert found.broken == 1  # the first MAC no longer verifies under the key
    assert "modifiée" in found.reason or "changed" in found.reason
    assert seq == 4
    log.close()


def test_h4_rechaining_with_the_key_still_disagrees_with_the_checkpoints(
    log_path: Path, clock: FixedClock, outside: Path
) -> None:
    """H4: an attacker who holds the audit key too recomputes a perfect chain; the checkpoints
    written outside the workspace at every entry still disagree with it, from the entry removed
    on."""
    log = keyed(log_path, clock, outside)
    case_trail(log, clock)
    assert log.verify_all().broken is None
    log.close()
    seq = renumber_and_remove_case_view(log_path)
    rechain(log_path, KEY, from_seq=seq)
    log = keyed(log_path, clock, outside)
    found = log.verify_all()
    assert found.broken == seq
    assert "points de contrôle" in found.reason or "checkpoints" in found.reason
    log.close()


def test_h4_cutting_the_most_recent_entries_and_moving_the_anchor_is_detected(
    log_path: Path, clock: FixedClock, outside: Path
) -> None:
    """H4 (finding 6, second rewrite): delete the 180 most recent entries, rewrite HEAD to the
    new last entry: the checkpoints attest entries the log no longer has."""
    log = keyed(log_path, clock, outside)
    fill(log, clock, 200, step=timedelta(minutes=1))
    log.close()
    tamper(log_path, ("DELETE FROM audit WHERE seq > 20", ()))
    rechain(log_path, KEY)  # HEAD now says 20 entries
    log = keyed(log_path, clock, outside)
    found = log.verify_all()
    assert found.broken == 21
    assert "attestées par un point de contrôle" in found.reason or "attested" in found.reason
    log.close()


def test_h4_an_anchor_younger_than_the_retention_is_refused(
    log_path: Path, clock: FixedClock
) -> None:
    """H4/F5: removing the oldest entries "as retention would" is refused when they are younger
    than the audit retention (12 months): the anchor says when the last removed entry was."""
    log = keyed(log_path, clock, None)
    fill(log, clock, 10)
    log.close()
    conn = sqlite3.connect(log_path)
    try:
        with conn:
            row = conn.execute("SELECT seq, hash, at FROM audit WHERE seq = 5").fetchone()
            conn.execute("DELETE FROM audit WHERE seq <= 5")
            conn.execute("DELETE FROM subjects WHERE seq <= 5")
            conn.execute("INSERT INTO anchor(id, seq, hash, at) VALUES (1, ?, ?, ?)", row)
    finally:
        conn.close()
    log = keyed(log_path, clock, None)
    found = log.verify_all()
    assert found.broken == 5
    assert "avant la fin de leur durée de conservation" in found.reason
    log.close()
    # the same removal done by retention, once the entries are older than 12 months, verifies
    clock.instant += timedelta(days=400)
    log = keyed(log_path, clock, None)
    assert log.verify_all().broken is None
    log.close()


def test_h4_a_legitimate_purge_still_verifies_against_the_checkpoints(
    log_path: Path, clock: FixedClock, outside: Path
) -> None:
    log = keyed(log_path, clock, outside)
    fill(log, clock, 6, step=timedelta(days=100))
    clock.instant += timedelta(days=200)
    assert log.purge_before(clock.now() - timedelta(days=365)) > 0
    log.append("dpo", "dpo", "audit_show")
    found = log.verify_all()
    assert (found.broken, found.checkpoints) == (None, 7)
    log.close()


def test_h4_a_checkpoint_after_every_entry(
    log_path: Path, clock: FixedClock, outside: Path
) -> None:
    """H4: each entry appends one checkpoint line (count and head MAC) outside the workspace;
    the last one is what the DPO's page shows."""
    log = keyed(log_path, clock, outside)
    fill(log, clock, 4)
    lines = [json.loads(x) for x in outside.read_text(encoding="ascii").splitlines()]
    entries = list(log.entries())
    assert [(p["count"], p["head"]) for p in lines] == [(e.seq, e.hash) for e in entries]
    assert {p["workspace"] for p in lines} == {log.workspace}
    last = log.last_checkpoint()
    assert last is not None
    assert (last.count, last.head) == (4, entries[-1].hash)
    log.close()


def test_h4_an_entry_that_cannot_be_checkpointed_is_not_written(
    log_path: Path, clock: FixedClock, tmp_path: Path
) -> None:
    """H4: the checkpoint is part of the entry: if it cannot be written (the destination is a
    folder here), the entry is refused and the log is unchanged — it fails closed."""
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    log = keyed(log_path, clock, blocked)
    with pytest.raises(WorkspaceError, match="point de contrôle"):
        log.append("dpo", "dpo", "audit_show")
    assert list(log.entries()) == []
    log.close()


def test_h4_checkpoints_to_syslog(log_path: Path, clock: FixedClock) -> None:
    """H4: checkpoints can go to a syslog destination (UDP here, a real socket)."""
    import socket  # noqa: PLC0415

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    port = receiver.getsockname()[1]
    log = AuditLog(log_path, clock, key=KEY, checkpoints=Checkpoints(None, f"udp:127.0.0.1:{port}"))
    entry = log.append("dpo", "dpo", "audit_show")
    data = receiver.recv(4096).decode("utf-8")
    receiver.close()
    assert "loyaute-audit" in data
    assert f'"count":{entry.seq}' in data
    assert entry.hash in data
    log.close()


def test_h4_a_keyed_log_without_its_key_is_refused(log_path: Path, clock: FixedClock) -> None:
    log = keyed(log_path, clock, None)
    fill(log, clock, 2)
    log.close()
    bare = AuditLog(log_path, clock)
    with pytest.raises(AuditKeyMissing):
        bare.append("dpo", "dpo", "audit_show")
    with pytest.raises(AuditKeyMissing):
        bare.verify()
    bare.close()


def test_h4_workspace_writes_checkpoints_where_configured(tmp_path: Path) -> None:
    """H4: ``[audit] checkpoint_file`` in loyaute.toml sends the workspace's checkpoints there;
    ``audit verify`` reports the checkpoints it compared; the DPO sees the last one."""
    from tests.builders import make_workspace  # noqa: PLC0415

    ws = make_workspace(tmp_path)
    home = ws.paths.home
    ws.close()
    outside_file = tmp_path / "outside" / "checkpoints.log"
    text = (home / "loyaute.toml").read_text(encoding="utf-8")
    text = text.replace('checkpoint_file = ""', f'checkpoint_file = "{outside_file}"')
    (home / "loyaute.toml").write_text(text, encoding="utf-8")
    assert run(home, "audit", "show").exit_code == 0  # an audited read: one entry, one checkpoint
    result = run(home, "audit", "verify")
    assert result.exit_code == 0, result.stderr
    assert outside_file.is_file()
    assert "point(s) de contrôle externe(s)" in result.stdout
    assert (home / "secrets" / "audit.key").is_file()
    assert oct((home / "secrets" / "audit.key").stat().st_mode & 0o777) == "0o600"
