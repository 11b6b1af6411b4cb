"""What loyaute never offers (rules C1–C10 of LEGAL.md), proven by showing that the data to do
it is never kept and the route to do it does not exist — and the minimisation rules that make it
so (B3, F1), the rights built on them (G4), retention of aggregates (F3), a new purpose's empty
start (I3) and the agent's view of themself (E6)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from typer.main import get_command

from loyaute.cli import app
from loyaute.config import Settings
from loyaute.demo import logs
from loyaute.policy.access import individual
from loyaute.policy.agent_data import RECORD_COLUMNS
from loyaute.policy.aggregate import half_day_frame
from loyaute.policy.cases import show_case
from loyaute.policy.register import Register
from loyaute.policy.retention import purge
from loyaute.policy.rights import annotate, open_dispute
from loyaute.policy.roles import Action, Purpose
from loyaute.reports.access_export import write_export
from loyaute.reports.presence import PRESENCE_COLUMNS
from loyaute.reports.validity import VALIDITY_COLUMNS
from loyaute.sources import build_sources
from loyaute.store.records import RECORD_SCHEMA
from loyaute.web.app import create_app
from loyaute.workspace import Workspace
from tests.builders import (
    DPO,
    MON,
    NOW,
    SYSTEM,
    TUE,
    agent,
    local,
    make_workspace,
    records,
    run_ingest,
    vpn_session,
    write_logs,
)
from tests.policy import test_cases as cases_mod
from tests.web.support import api_routes

SCORING_WORDS = re.compile(
    r"score|idle|inactiv|intensit|productiv|rank|classement|duration|durée|keystroke|screenshot"
    r"|capture|webcam|camera|micro|location|localisation|prompt|pointage|live|realtime|temps.réel"
    r"|sanction|deduct|retenue|appraisal|évaluation|promotion",
    re.IGNORECASE,
)


def stored_bytes(ws: Workspace) -> bytes:
    """What the workspace keeps from logs: the activity store, the audit log, and every table
    of the state database but the directory and the accounts (which hold logins by design)."""
    kept = b"".join(p.read_bytes() for p in ws.paths.activity.rglob("*") if p.is_file())
    kept += b"".join(p.read_bytes() for p in ws.paths.audit.parent.iterdir() if p.is_file())
    tables = [
        r[0]
        for r in ws.db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if r[0] not in ("agents", "logins", "accounts")
    ]
    for table in tables:
        kept += repr(ws.db.conn.execute(f'SELECT * FROM "{table}"').fetchall()).encode()
    return kept


def cli_commands() -> list[str]:
    def walk(command: object, path: list[str]) -> list[str]:
        out = [" ".join(path)]
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            out += walk(sub, [*path, name])
        return out

    return walk(get_command(app), [])


@pytest.fixture(scope="module")
def web_routes(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    ws = make_workspace(tmp_path_factory.mktemp("routes"))
    ws.close()
    return sorted({path for _, path, _ in api_routes(create_app(ws.paths.home))})


def test_c1_c8_no_score_no_ranking_no_duration_is_kept_or_offered(web_routes: list[str]) -> None:
    """C1/C8: no idle time, inactivity, intensity, productivity score or ranking: the store keeps
    one boolean per category and half-day — no count, no duration, no time — and no column, route
    or command computes or shows such a figure."""
    assert RECORD_SCHEMA.names == ["agent", "day", "half", "scope", "vpn", "mail", "apps"]
    for columns in (PRESENCE_COLUMNS, VALIDITY_COLUMNS, RECORD_COLUMNS):
        assert [c for c in columns if SCORING_WORDS.search(c)] == []
    assert [r for r in web_routes if SCORING_WORDS.search(r)] == []
    assert [c for c in cli_commands() if SCORING_WORDS.search(c)] == []
    assert len(web_routes) > 20
    assert len(cli_commands()) > 30


def test_c2_no_capture_of_screens_keys_camera_or_microphone(web_routes: list[str]) -> None:
    """C2: loyaute reads logs only — every source is a log format — and every page forbids the
    camera, the microphone and geolocation (Permissions-Policy)."""
    categories = {source.category for source in build_sources(Settings()).values()}
    assert categories == {"vpn", "mail", "apps"}
    from loyaute.web.app import _HEADERS  # noqa: PLC0415

    policy = dict(_HEADERS)["permissions-policy"]
    assert {"camera=()", "microphone=()", "geolocation=()"} <= {
        p.strip() for p in policy.split(",")
    }


def test_c3_no_proof_of_presence_prompt(web_routes: list[str]) -> None:
    """C3: nothing asks an agent to prove they are there: no such route, and the pages carry no
    script at all (CSP ``script-src 'self'``, templates without ``<script>``)."""
    templates = Path(__file__).resolve().parents[1] / "loyaute" / "web" / "templates"
    assert [p.name for p in templates.glob("*.html") if "<script" in p.read_text()] == []
    assert [r for r in web_routes if re.search(r"prompt|check-?in|pointage|presence/", r)] == []


def test_c4_no_application_or_site_detail_beyond_the_category(tmp_path: Path) -> None:
    """C4/B2: a request to Grand Angle is kept as "apps" and nothing more: no application name,
    host, path or IP reaches the store, the records or the export."""
    ws = make_workspace(tmp_path)
    host, path = logs.APP_HOSTS["grand-angle"]
    line = logs.proxy_line(local(MON, 9), host, path, "jdupont", ip="203.0.113.77")
    run_ingest(ws, [write_logs(tmp_path / "logs", "proxy.log", [line])])
    [row] = [r for r in records(ws, "A1") if r.date == MON.isoformat() and r.half_day == "AM"]
    assert row.categories == "apps"
    write_export(ws, DPO, "A1", tmp_path / "out")
    kept = stored_bytes(ws) + b"".join(p.read_bytes() for p in (tmp_path / "out").iterdir())
    for detail in (b"grand-angle", b"grandangle", path.encode(), b"203.0.113.77", b"jdupont"):
        assert detail not in kept, detail
    ws.close()


def test_c5_no_live_view_of_an_individual(tmp_path: Path) -> None:
    """C5: reports publish a week only once it is closed (``settle_days`` after its Sunday), and
    the DPO's alerts are about accesses to data, never about an agent's connection: ingesting
    raises no alert."""
    ws = make_workspace(tmp_path)
    run_ingest(
        ws,
        [
            write_logs(
                tmp_path / "l", "f.log", vpn_session("jdupont", local(MON, 9), local(MON, 10))
            )
        ],
    )
    from loyaute.reports.runner import run_presence  # noqa: PLC0415

    report = run_presence(ws, DPO, "service", "week")
    assert report.rows == []  # the week of 23 March is not closed on 31 March
    assert (report.parameters["weeks"], report.parameters["awaiting_data"]) == ("", "")
    assert ws.db.alerts.all() == []
    ws.close()


def test_c6_nothing_silent_every_source_is_in_the_notice(tmp_path: Path) -> None:
    """C6: no setting hides the processing: neither file has a silent, stealth or hidden mode;
    the notice names every enabled source; an agent without the notice has nothing kept (A7)."""
    for model in (Settings, Register):
        text = model.model_json_schema().__repr__().lower()
        assert not re.search(r"silent|stealth|hidden|undisclosed|covert", text), model
    ws = make_workspace(tmp_path, notices={"A1": MON, "A2": MON, "A3": MON})
    from loyaute.policy.documents import render_markdown  # noqa: PLC0415

    notice = render_markdown(ws, "notice", "fr")
    for name in ("FortiClient", "messagerie", "applications métier", "Publik"):
        assert name in notice, name
    run_ingest(
        ws,
        [write_logs(tmp_path / "l", "f.log", vpn_session("hpetit", local(MON, 9), local(MON, 10)))],
    )
    pseudonym = ws.pseudonymizer.pseudonym("A4")
    assert pseudonym not in {r["agent"] for r in ws.activity.read("records").to_pylist()}
    ws.close()


def test_c7_no_automated_decision() -> None:
    """C7 (art. 22): no action of the permission table deducts pay, withdraws telework or
    sanctions; the only decision is a case's, written by its named reviewer (D6)."""
    assert [a for a in Action if SCORING_WORDS.search(a.value)] == []
    decisions = {a for a in Action if "close" in a.value or "decide" in a.value}
    assert decisions == {Action.CASE_CLOSE, Action.OBJECTION_DECIDE}


def test_c10_no_appraisal_purpose() -> None:
    """C10: the purposes are the check, the validity study and the agents' rights — no appraisal
    or promotion purpose exists, and register.toml refuses one (closed model)."""
    assert {p.value for p in Purpose} == {"telework_check", "validity_study", "rights"}
    with pytest.raises(ValueError, match="appraisal"):
        Register.model_validate({"appraisal": {"enabled": True}})


# --- minimisation -------------------------------------------------------------------------------


def test_b3_nothing_finer_than_the_half_day(tmp_path: Path) -> None:
    """B3: a VPN session from 09:12 to 10:47 is kept, shown and exported as "23 March, morning":
    no time of day in the records, the API rows or the export."""
    ws = make_workspace(tmp_path)
    run_ingest(
        ws,
        [
            write_logs(
                tmp_path / "l",
                "f.log",
                vpn_session("jdupont", local(MON, 9, 12), local(MON, 10, 47)),
            )
        ],
    )
    row = next(r for r in records(ws, "A1") if r.status == "trace")
    assert (row.date, row.half_day) == (MON.isoformat(), "AM")
    assert {type(v) for v in ws.activity.read("records").to_pylist()[0].values()} == {
        str,
        date,
        bool,
    }
    write_export(ws, DPO, "A1", tmp_path / "out")
    text = (tmp_path / "out" / "records.csv").read_text(encoding="utf-8")
    assert not re.search(r"\d\d:\d\d", text)
    assert "09:12" not in (tmp_path / "out" / "export.json").read_text(encoding="utf-8")
    ws.close()


def test_f1_raw_logs_are_read_never_copied(tmp_path: Path) -> None:
    """F1: after an ingest, the workspace holds no raw line: not the login, not the tunnel's IP,
    not the device name — only pseudonymous half-day flags (and masked examples of malformed
    lines, F6)."""
    ws = make_workspace(tmp_path)
    lines = vpn_session("jdupont", local(MON, 9), local(MON, 10))
    # a line without a readable time: quarantined, masked (F6)
    broken = re.sub(r"date=\S+ time=\S+ ", "", lines[0]).replace("eventtime=", "eventtime=x")
    source = write_logs(tmp_path / "logs", "fgt.log", [*lines, broken])
    run_ingest(ws, [source])
    kept = stored_bytes(ws)
    for raw in (b"jdupont", b"198.51.100.7", b"FGT", b"tunnel-up"):
        assert raw not in kept, raw
    [example] = ws.db.manifest.quarantine()
    assert "jdupont" not in example[4]  # the malformed line's example is masked (F6)
    assert source.read_bytes()  # the log itself is untouched
    ws.close()


# --- rights, retention, purposes ------------------------------------------------------------------


def test_g4_rectification_restriction_and_erasure(tmp_path: Path) -> None:
    """G4: rectification is the annotation (D3) that travels with the record; restriction is the
    dispute (D4) that freezes it out of reports; erasure of what was kept before the agent's own
    T0 is the per-agent purge (A6)."""
    ws = make_workspace(tmp_path)
    run_ingest(
        ws,
        [
            write_logs(
                tmp_path / "l", "f.log", vpn_session("jdupont", local(MON, 9), local(MON, 10))
            )
        ],
    )
    annotate(ws, agent("A1"), MON, "PM", "appels aux usagers")
    assert {r.annotation for r in records(ws, "A1") if r.date == MON.isoformat()} >= {
        "appels aux usagers"
    }
    open_dispute(ws, agent("A1"), MON, "AM", "le VPN était en panne")
    frame = half_day_frame(ws, "telework", MON, MON).to_pylist()
    assert ("A1", "AM") not in {(r["agent_id"], r["half"]) for r in frame}
    # the notice was in fact delivered on Tuesday: Monday's record was unlawful and is erased
    from loyaute.policy.notices import record_notices  # noqa: PLC0415

    record_notices(ws, SYSTEM, TUE, ["A1"])
    report = purge(ws, per_agent_t0=True)
    assert report.removed["before_agent_t0"] >= 1
    pseudonym = ws.pseudonymizer.pseudonym("A1")
    assert not [
        r
        for r in ws.activity.read("records").to_pylist()
        if r["agent"] == pseudonym and r["day"] < TUE
    ]
    ws.close()


def test_f3_aggregates_are_kept_three_years(tmp_path: Path) -> None:
    """F3: published aggregate cells hold no pseudonym and are kept three years, then purged."""
    ws = make_workspace(tmp_path)
    ws.db.publication.add_cells(
        [
            ("service", "Finances", "2023-W12", 12, 48, 40, 0, 0, "2023-04-01T00:00:00+00:00", ""),
            ("service", "Finances", "2023-W14", 12, 48, 40, 0, 0, "2023-04-15T00:00:00+00:00", ""),
        ]
    )
    # 31 March 2026: week 12 of 2023 (from 20 March 2023) is over three years old, week 14 not.
    purge(ws)
    assert ws.db.publication.all_weeks() == {"2023-W14"}
    ws.close()


def test_i3_a_new_purpose_starts_empty_with_its_own_gate(tmp_path: Path) -> None:
    """I3: the validity study is a purpose of its own: nothing is kept for it before it is
    registered (its own start), even when the logs and the schedule reach further back."""
    registered = TUE.isoformat()
    schedule = [("A1", MON, "JOUR", "PRES"), ("A1", TUE, "JOUR", "PRES")]
    ws = make_workspace(tmp_path, schedule=schedule)
    home = ws.paths.home
    ws.close()
    text = (home / "register.toml").read_text(encoding="utf-8")
    text = re.sub(r'(\[validity_study\][^\[]*?registered_on = )"[^"]*"', rf'\1"{registered}"', text)
    (home / "register.toml").write_text(text, encoding="utf-8")
    from loyaute.config import load_settings  # noqa: PLC0415
    from loyaute.policy.register import load_register  # noqa: PLC0415
    from loyaute.templates import register_toml  # noqa: PLC0415
    from tests.builders import _refingerprint  # noqa: PLC0415

    register = _refingerprint(
        load_settings(home / "loyaute.toml"), load_register(home / "register.toml")
    )
    (home / "register.toml").write_text(register_toml(register), encoding="utf-8")
    from loyaute.clock import FixedClock  # noqa: PLC0415

    ws = Workspace.open(home, FixedClock(NOW))
    mail = [
        logs.iis_line(
            local(day, 9),
            "POST",
            "/owa/service.svc",
            "action=FindItem&app=Mail",
            "jdupont",
            logs.BROWSER_UA,
        )
        for day in (MON, TUE)
    ]
    run_ingest(
        ws, [write_logs(tmp_path / "l", "u_ex.log", [*logs.iis_header(local(MON, 0)), *mail])]
    )
    days = {r["day"] for r in ws.activity.read("study").to_pylist()}
    assert days == {TUE}
    ws.close()


def test_e6_the_agent_sees_exactly_what_the_reviewer_sees(tmp_path: Path) -> None:
    """E6: over a case's period, the rows the reviewer reads are the rows the agent sees of
    themself, field for field."""
    ws = cases_mod.make(tmp_path)
    case_id = cases_mod.open_vf01(ws)
    view = show_case(ws, cases_mod.REVIEWER_ID, case_id)
    own = individual(ws, agent("VF01"), Action.OWN_VIEW, "VF01").records(
        cases_mod.FROM, cases_mod.TO
    )
    assert view.records == own
    assert len(own) == 8
    ws.close()
