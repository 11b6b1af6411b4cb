"""Small, hand-made workspaces for pipeline tests: four agents, a week of schedule, log lines
written with the demo's line writers at chosen instants."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from loyaute.accounts import create_account, issue_token
from loyaute.clock import FixedClock
from loyaute.config import HalfDays, Settings, load_settings
from loyaute.demo import logs
from loyaute.demo.runner import demo_register, demo_settings
from loyaute.identity import parse_directory, store_directory
from loyaute.ingest.engine import LocalEngine
from loyaute.ingest.pipeline import IngestReport, ingest
from loyaute.policy.access import individual
from loyaute.policy.agent_data import RecordRow
from loyaute.policy.gates import fingerprint
from loyaute.policy.notices import record_notices
from loyaute.policy.register import Register, Transfer, load_register
from loyaute.policy.roles import Action, Identity, Role
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


DPO = Identity("dpo.test", Role.DPO)
HR = Identity("rh.test", Role.HR_REVIEWER)
HR_OTHER = Identity("rh.autre", Role.HR_REVIEWER)
OPERATOR = Identity("dsi.test", Role.OPERATOR)
STAFF = Identity("cst.test", Role.STAFF_REP)
SYSTEM = Identity("test", Role.SYSTEM)
PASSWORD = "correct horse battery"


def agent(agent_id: str) -> Identity:
    """The signed-in agent ``agent_id``."""
    return Identity(f"agent.{agent_id.lower()}", Role.AGENT, agent_id)


def manager(agent_id: str) -> Identity:
    """The signed-in manager who is agent ``agent_id``."""
    return Identity(f"resp.{agent_id.lower()}", Role.MANAGER, agent_id)


def add_accounts(ws: Workspace, *people: Identity) -> None:
    """Local accounts for these identities (an HR reviewer named in a case must have one)."""
    for who in people:
        create_account(ws.db, ws.clock, who.login, PASSWORD, who.role.value, who.agent_id)


def cli_env(home: Path, who: Identity) -> dict[str, str]:
    """The environment of a command run as ``who``: a personal token (LOYAUTE_TOKEN) of an
    account created for it when missing (rule E9: never a name from the environment). Nothing
    before the workspace exists."""
    if not (home / ".loyaute-workspace").is_file():
        return {}
    with Workspace.open(home) as ws:
        if ws.db.accounts.get(who.login) is None:
            add_accounts(ws, who)
        _, token = issue_token(ws.db, ws.clock, who)
    return {"LOYAUTE_TOKEN": token}


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
    remote: list[str] | None = None,
) -> Workspace:
    """An initialised, gated workspace with the four agents, their schedule and notices.
    ``remote``: object-storage prefixes ingest may read, each declared as a transfer."""
    home = root / "ws"
    paths = init(home)
    settings = demo_settings().model_copy(
        update={"schedule": Settings().schedule, "half_days": half_days or HalfDays()}
    )
    if remote:
        settings = settings.model_copy(
            update={"ingest": settings.ingest.model_copy(update={"remote_locations": list(remote)})}
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
    if remote:
        register = register.model_copy(
            update={
                "transfers": [
                    Transfer(location=r, holder="DSI du Département", internal=True) for r in remote
                ]
            }
        )
    register = _refingerprint(settings, register)
    paths.register.write_text(register_toml(register), encoding="utf-8")
    ws = Workspace.open(home, FixedClock(now))
    (root / "directory.csv").write_text(DIRECTORY, encoding="utf-8")
    store_directory(
        ws.db, parse_directory(root / "directory.csv", ws.settings.directory), ws.today()
    )
    (root / "schedule.csv").write_text(
        schedule_csv(schedule if schedule is not None else week_schedule()), encoding="utf-8"
    )
    import_schedule(ws.db, [root / "schedule.csv"], ws.settings.schedule)
    for who, day in (notices or dict.fromkeys(("A1", "A2", "A3", "A4"), start)).items():
        record_notices(ws, SYSTEM, day, [who])
    add_accounts(ws, HR, HR_OTHER)
    return ws


def declare_remote(home: Path, locations: list[str]) -> None:
    """Let ingest read the given object-storage prefixes in an existing workspace: each goes to
    ``ingest.remote_locations`` and is declared as an internal ``[[transfers]]`` entry, the
    committee fingerprint kept current (A4)."""
    settings = load_settings(home / "loyaute.toml")
    settings = settings.model_copy(
        update={
            "ingest": settings.ingest.model_copy(
                update={"remote_locations": [*settings.ingest.remote_locations, *locations]}
            )
        }
    )
    register = load_register(home / "register.toml")
    transfers = [
        Transfer(location=r, holder="DSI du Département", internal=True) for r in locations
    ]
    register = register.model_copy(update={"transfers": [*register.transfers, *transfers]})
    (home / "loyaute.toml").write_text(loyaute_toml(settings), encoding="utf-8")
    (home / "register.toml").write_text(
        register_toml(_refingerprint(settings, register)), encoding="utf-8"
    )


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
    """Ingest in this process (one worker, unless ``engine`` says otherwise)."""
    kwargs.setdefault("engine", LocalEngine(1))
    return ingest(ws, [str(p) for p in paths], who=SYSTEM, **kwargs)


def stored(ws: Workspace) -> set[tuple[str, str, str, str, str]]:
    """(agent_id, day, half, scope, categories) of every stored record, pseudonyms resolved."""
    agents = {ws.pseudonymizer.pseudonym(a): a for a in ("A1", "A2", "A3", "A4")}
    out = set()
    rows = ws.activity.read("records").to_pylist() + ws.activity.read("study").to_pylist()
    for r in rows:
        cats = ";".join(c for c in ("vpn", "mail", "apps") if r[c])
        out.add(
            (agents.get(r["agent"], r["agent"]), r["day"].isoformat(), r["half"], r["scope"], cats)
        )
    return out


def person(login: str, role: str, agent_id: str = "") -> Identity:
    """An identity of any role (managers and agents carry their agent id)."""
    return Identity(login, Role(role), agent_id)


def records(
    ws: Workspace, agent_id: str, lo: date | None = None, hi: date | None = None
) -> list[RecordRow]:
    """The agent's records, as they see them (through the one door, as themself)."""
    return individual(ws, agent(agent_id), Action.OWN_VIEW, agent_id).records(lo, hi)


def side(ws: Workspace, agent_id: str) -> dict[str, list[dict[str, Any]]]:
    """What the state holds of the agent's side (read directly, without an audited access)."""
    db = ws.db.individual
    return {
        "declarations": [asdict(d) for d in db.declarations_of(agent_id)],
        "annotations": [asdict(a) for a in db.annotations_of(agent_id)],
        "disputes": [asdict(d) for d in db.disputes_of(agent_id)],
        "notifications": [asdict(n) for n in db.notifications_of(agent_id)],
        "objections": [asdict(o) for o in db.objections_of(agent_id)],
        "cases": [asdict(c) for c in ws.db.cases.of_agent(agent_id)],
    }
