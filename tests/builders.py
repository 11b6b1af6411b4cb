"""Small, hand-made workspaces for pipeline tests: four agents, a week of schedule, log lines
written with the demo's line writers at chosen instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from loyaute.clock import FixedClock
from loyaute.config import HalfDays, Settings
from loyaute.demo import logs
from loyaute.demo.runner import demo_register, demo_settings
from loyaute.identity import parse_directory, store_directory
from loyaute.ingest.engine import LocalEngine
from loyaute.ingest.pipeline import IngestReport, ingest
from loyaute.policy.gates import fingerprint
from loyaute.policy.notices import record_notices
from loyaute.policy.register import Register
from loyaute.schedule import import_schedule
from loyaute.templates import loyaute_toml, register_toml
from loyaute.workspace import Workspace, init

NOW = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)
START = date(2026, 3, 16)
MON = date(2026, 3, 23)
TUE = date(2026, 3, 24)

DIRECTORY = """agent_id,display_name,service,job_family,manager_id,logins
A1,Jeanne Dupont,Finances,finances,A3,jdupont;jeanne.dupont@lenord.fr
A2,Marc Leroy,Action sociale,travail_social,A3,mleroy|marc.leroy@lenord.fr
A3,Paule Durand,Finances,encadrement,,pdurand
A4,Hugo Petit,Finances,administratif,A3,hpetit
"""


def local(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    """A Europe/Paris wall-clock time as an aware UTC datetime."""
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=logs.PARIS).astimezone(UTC)


def schedule_csv(rows: list[tuple[str, date, str, str]]) -> str:
    """``agent_id,date,half_day,code`` rows."""
    body = "".join(f"{a},{d.isoformat()},{h},{c}\n" for a, d, h, c in rows)
    return "agent_id,date,half_day,code\n" + body


def week_schedule(
    first: date = date(2026, 3, 23), days: int = 7
) -> list[tuple[str, date, str, str]]:
    """Everyone in telework every day of the week (weekends included, for the DST tests)."""
    return [
        (a, first + timedelta(days=i), "JOUR", "TLT")
        for a in ("A1", "A2", "A3", "A4")
        for i in range(days)
    ]


def make_workspace(
    root: Path,
    *,
    now: datetime = NOW,
    start: date = START,
    half_days: HalfDays | None = None,
    schedule: list[tuple[str, date, str, str]] | None = None,
    notices: dict[str, date] | None = None,
    register_update: dict[str, Any] | None = None,
    validity: bool = True,
) -> Workspace:
    """An initialised, gated workspace with the four agents, their schedule and notices."""
    home = root / "ws"
    paths = init(home)
    settings = demo_settings().model_copy(
        update={"schedule": Settings().schedule, "half_days": half_days or HalfDays()}
    )
    paths.settings.write_text(loyaute_toml(settings), encoding="utf-8")
    register = demo_register(settings, start)
    if not validity:
        register = register.model_copy(
            update={"validity_study": register.validity_study.model_copy(update={"enabled": False})}
        )
    if register_update:
        register = register.model_copy(
            update={"purpose": register.purpose.model_copy(update=register_update)}
        )
    register = _refingerprint(settings, register)
    paths.register.write_text(register_toml(register), encoding="utf-8")
    ws = Workspace.open(home, FixedClock(now))
    (root / "directory.csv").write_text(DIRECTORY, encoding="utf-8")
    store_directory(ws.state, parse_directory(root / "directory.csv", ws.settings.directory))
    (root / "schedule.csv").write_text(
        schedule_csv(schedule if schedule is not None else week_schedule()), encoding="utf-8"
    )
    import_schedule(ws.state, [root / "schedule.csv"], ws.settings.schedule)
    for agent, day in (notices or dict.fromkeys(("A1", "A2", "A3", "A4"), start)).items():
        record_notices(ws, day, [agent], actor="test")
    return ws


def _refingerprint(settings: Settings, register: Register) -> Register:
    """Keep A4 holding after the test changed the register's material settings."""
    return register.model_copy(
        update={
            "purpose": register.purpose.model_copy(
                update={"committee_config_fingerprint": fingerprint(settings, register)}
            )
        }
    )


def write_logs(folder: Path, name: str, lines: list[str]) -> Path:
    """A log file made of the given lines."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def vpn_session(user: str, start: datetime, end: datetime, tunnel: int = 1001) -> list[str]:
    """Tunnel-up and tunnel-down lines of one SSL-VPN session."""
    seconds = int((end - start).total_seconds())
    return [
        logs.fgt_tunnel_up(start, user, tunnel, "198.51.100.7"),
        logs.fgt_tunnel_down(end, user, tunnel, "198.51.100.7", seconds),
    ]


def owa(user: str, at: datetime, action: str = "FindItem") -> str:
    """An interactive OWA request."""
    return logs.iis_line(
        at, "POST", "/owa/service.svc", f"action={action}&app=Mail", user, logs.BROWSER_UA
    )


def iis_file(folder: Path, name: str, lines: list[str]) -> Path:
    """An Exchange IIS log with its header."""
    header = logs.iis_header(datetime(2026, 3, 23, tzinfo=UTC))
    return write_logs(folder, name, header + lines)


def run_ingest(ws: Workspace, paths: list[Path], **kwargs: Any) -> IngestReport:
    """Ingest in this process (one worker)."""
    return ingest(ws, [str(p) for p in paths], engine=LocalEngine(1), actor="test", **kwargs)


def stored(ws: Workspace) -> set[tuple[str, str, str, str, str]]:
    """(agent_id, day, half, scope, categories) of every stored record, pseudonyms resolved."""
    agents = {ws.pseudonymizer.pseudonym(a): a for a in ("A1", "A2", "A3", "A4")}
    out = set()
    for r in ws.activity.read("records").to_pylist():
        cats = ";".join(c for c in ("vpn", "mail", "apps") if r[c])
        out.add(
            (agents.get(r["agent"], r["agent"]), r["day"].isoformat(), r["half"], r["scope"], cats)
        )
    return out
