"""An agent who leaves the directory keeps their data until retention removes it (F2, G1):
before issue 13 a new directory deleted the agent's row, and the next purge took their records
for "before T0" and deleted them at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from loyaute.clock import FixedClock
from loyaute.identity import LoginIndex, parse_directory, store_directory
from loyaute.policy.retention import purge
from loyaute.workspace import Workspace
from tests.builders import MON, SYSTEM, iis_file, local, make_workspace, owa, run_ingest, stored


def test_a_departed_agent_keeps_their_records_until_retention(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    run_ingest(ws, [iis_file(tmp_path / "logs", "u_ex.log", [owa("jdupont", local(MON, 9))])])
    kept = stored(ws)
    assert any(agent == "A1" for agent, *_ in kept)
    everyone = parse_directory(tmp_path / "directory.csv", ws.settings.directory)
    changes = store_directory(ws.db, [a for a in everyone if a.agent_id != "A1"], ws.today())
    assert changes.gone == ["A1"]
    assert LoginIndex.load(ws.db).resolve("jdupont") is None  # new traces are not theirs
    purge(ws, who=SYSTEM, per_agent_t0=True)
    assert stored(ws) == kept
    assert ws.db.notices.of("A1") is not None
    assert ws.db.agents.everyone()["A1"].left_on == "2026-03-31"
    home = ws.paths.home
    ws.close()

    # two months on, March is past retention (31 days after the month's end): the records go,
    # and so does the departed agent's directory entry
    with Workspace.open(home, FixedClock(datetime(2026, 6, 1, 8, 0, tzinfo=UTC))) as later:
        report = purge(later, who=SYSTEM, per_agent_t0=True)
        assert report.removed["departed_agents"] == 1
        assert not any(agent == "A1" for agent, *_ in stored(later))
        assert "A1" not in later.db.agents.everyone()
        assert later.db.notices.of("A1") is None
        assert set(later.db.agents.all()) == {"A2", "A3", "A4"}
