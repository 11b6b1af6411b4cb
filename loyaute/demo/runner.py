"""``loyaute demo``: a synthetic Département, end to end.

Creates a workspace (a demo one only: a real workspace is never overwritten), writes a
configuration with the extranet applications and the Octime column names, fills the register as a
DPO would, generates the logs, then imports the directory and the schedule, records the notices
and ingests everything. A few agents receive their notice two weeks late, so their first weeks are
refused (rule A5) and counted.
"""

from __future__ import annotations

import csv
import os
import random
import secrets
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from loyaute.accounts import create_account
from loyaute.clock import Clock, SystemClock
from loyaute.config import AppRule, ScheduleSettings, Settings
from loyaute.demo.department import DemoData, build
from loyaute.demo.population import ELIGIBLE_FAMILIES
from loyaute.demo.story import Story, seed_story, summary_lines
from loyaute.errors import WorkspaceError
from loyaute.i18n import tr
from loyaute.identity import parse_directory, store_directory
from loyaute.ingest.engine import Engine, LocalEngine
from loyaute.ingest.pipeline import IngestReport, ingest, rescope
from loyaute.policy.gates import fingerprint
from loyaute.policy.notices import record_notices
from loyaute.policy.register import Controller, Purpose, Register, ValidityStudy
from loyaute.policy.roles import Identity, Role
from loyaute.policy.scope import first_kept_day
from loyaute.schedule import import_schedule
from loyaute.templates import loyaute_toml, register_toml
from loyaute.workspace import Paths, Workspace, init

DEMO_MARKER = ".loyaute-demo"
LATE_NOTICE_AGENTS = 3
DEMO = Identity("demo", Role.SYSTEM)
"""The demo builds its workspace as loyaute itself would."""


@dataclass
class DemoSummary:
    """What the demo built."""

    home: Path
    data: DemoData
    report: IngestReport
    late_notices: list[str] = field(default_factory=list)
    accounts: list[tuple[str, str, str, str]] = field(default_factory=list)
    story: Story | None = None

    def lines(self) -> list[str]:
        """What was built, each figure explained (in the command's language)."""
        return summary_lines(self)


def demo_settings() -> Settings:
    """The Département's loyaute.toml: extranet applications and Octime column names."""
    return Settings(
        apps=[
            AppRule(name="grand-angle", hosts=["grandangle.extranet.lenord.fr"], paths=["/"]),
            AppRule(name="ines", hosts=["ines.extranet.lenord.fr"], paths=["/"]),
            AppRule(name="publik", hosts=["demarches.extranet.lenord.fr"], paths=["/backoffice/"]),
            AppRule(name="pleiade", hosts=["pleiade.extranet.lenord.fr"], paths=["/"]),
        ],
        schedule=ScheduleSettings(
            agent_id_column="Matricule",
            date_column="Date",
            half_day_column="Période",
            code_column="Code",
        ),
    )


def demo_register(settings: Settings, start: date) -> Register:
    """The register as the DPO fills it: every gate holds from ``start``."""
    purpose = Purpose(
        mode="crosscheck",
        legal_basis="public_task",
        legal_text=(
            "Délibération n° 2026-DRH-0412 du conseil départemental relative au télétravail, art. 7 "
            "(modalités de contrôle du temps de travail, décret n° 2016-151 art. 7)"
        ),
        registered_on=(start - timedelta(days=30)).isoformat(),
        dpia_approved_on=(start - timedelta(days=21)).isoformat(),
        dpia_dpo_opinion="Avis favorable sous réserve du mode déclaratif par défaut et de l'étude de validité.",
        dpia_staff_views="Réserves des organisations syndicales sur les métiers du social : famille exclue.",
        dpia_residual_risk="medium",
        dpia_subsidiarity=(
            "Les relevés déclaratifs mensuels ne permettent pas d'instruire une réclamation précise "
            "sur une période donnée ; le recoupement n'est ouvert que dans un dossier d'examen."
        ),
        committee_opinion_on=(start - timedelta(days=14)).isoformat(),
        committee_minutes_ref="CST du Département, procès-verbal n° 2026-09",
        deliberation_effective_on=start.isoformat(),
        eligible_job_families=list(ELIGIBLE_FAMILIES),
    )
    register = Register(
        controller=Controller(
            name="Département du Nord (démonstration)",
            dpo_contact="dpo@lenord.fr — DPO, 51 rue Gustave Delory, 59000 Lille",
            address="51 rue Gustave Delory, 59000 Lille",
        ),
        purpose=purpose,
        validity_study=ValidityStudy(
            enabled=True, registered_on=(start - timedelta(days=30)).isoformat()
        ),
    )
    shown = fingerprint(settings, register)
    return register.model_copy(
        update={"purpose": purpose.model_copy(update={"committee_config_fingerprint": shown})}
    )


def prepare_home(home: Path) -> None:
    """Make room for a demo workspace; never touch a real one."""
    if not home.exists():
        return
    if (home / DEMO_MARKER).is_file():
        shutil.rmtree(home)
        return
    if any(home.iterdir()):
        raise WorkspaceError(
            tr(
                f"{home} existe et n'est pas un espace de démonstration : rien n'a été modifié",
                f"{home} exists and is not a demo workspace: nothing was changed",
            ),
            hint=tr("choisir un autre --home", "choose another --home"),
        )


def run_demo(
    home: Path,
    agents: int = 500,
    weeks: int = 8,
    seed: int = 1,
    clock: Clock | None = None,
    engine: Engine | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Build the Département and run the whole pipeline on it."""
    clock = clock or SystemClock()
    prepare_home(home)
    paths: Paths = init(home)
    (home / DEMO_MARKER).write_text(
        "demo workspace: `loyaute demo` may recreate it\n", encoding="utf-8"
    )
    today = clock.now().date()
    # every week built is still inside retention (F2) when the demo opens: no page starts empty
    kept_from = first_kept_day(Purpose().retention_after_month_end_days, today)
    data = build(
        home / "demo-data", agents=agents, weeks=weeks, seed=seed, today=today, not_before=kept_from
    )
    settings = demo_settings()
    paths.settings.write_text(loyaute_toml(settings), encoding="utf-8")
    register = demo_register(settings, data.days[0])
    paths.register.write_text(register_toml(register), encoding="utf-8")

    ws = Workspace.open(home, clock)
    try:
        store_directory(ws.db, parse_directory(data.directory, ws.settings.directory), ws.today())
        schedule = import_schedule(ws.db, [data.schedule], ws.settings.schedule)
        rescope(ws, schedule.days, who=DEMO)
        late = [a.agent_id for a in data.agents[:: max(1, len(data.agents) // LATE_NOTICE_AGENTS)]][
            :LATE_NOTICE_AGENTS
        ]
        others = [a.agent_id for a in data.agents if a.agent_id not in late]
        record_notices(ws, DEMO, data.days[0], others)
        record_notices(ws, DEMO, data.days[0] + timedelta(days=14), late)
        report = ingest(
            ws,
            [data.logs],
            engine=engine or LocalEngine(ws.settings.ingest.workers),
            who=DEMO,
            on_progress=on_progress,
        )
        declared = _declare_some(ws, data)
        _publish_closed_weeks(ws)
        accounts = make_demo_accounts(ws, data)
        story = seed_story(ws, data, accounts)
        story.declarations = declared
    finally:
        ws.close()
    summary = DemoSummary(home, data, report, late)
    summary.accounts = accounts
    summary.story = story
    return summary


def _declare_some(ws: Workspace, data: DemoData) -> Counter[str]:
    """Half of the eligible agents declare their telework half-days, as they would in the portal."""
    rng = random.Random(7)
    kinds = ("system", "system", "system", "phone", "meeting", "home_visit", "field", "other")
    now = ws.clock.now().isoformat(timespec="seconds")
    rows = []
    declarers = [a for a in data.agents if a.job_family in ELIGIBLE_FAMILIES and rng.random() < 0.5]
    for a in declarers:
        for day in data.days:
            if data.codes[(a.agent_id, day)] == "TLT":
                for half in ("AM", "PM"):
                    rows.append((a.agent_id, day.isoformat(), half, rng.choice(kinds), "", now))
    ws.db.individual.add_declarations(rows)
    declared = Counter(row[3] for row in rows)
    for a in declarers:
        ws.audit.append(  # the agents' own acts: never listed as other people looking (E6)
            a.agent_id,
            Role.AGENT.value,
            "declare",
            agent_id=a.agent_id,
            reason="déclarations de la démonstration",
        )
    return declared


def _publish_closed_weeks(ws: Workspace) -> None:
    """Publish the weeks already closed, as the first report would: the auditor (E3, E7) then
    decides, before the accounts are made, which services' cells it withholds."""
    from loyaute.policy.aggregate import first_scheduled_day  # noqa: PLC0415 - reports stack
    from loyaute.reports.presence import closed_weeks, publish_weeks  # noqa: PLC0415

    first = first_scheduled_day(ws)
    if first is not None:
        weeks, _ = closed_weeks(ws, first - timedelta(days=first.weekday()), ws.today(), ws.today())
        publish_weeks(ws, weeks)


def _shown_weeks(ws: Workspace) -> Counter[str]:
    """Per service, the published weeks whose cell is shown (not withheld)."""
    shown: Counter[str] = Counter()
    for week in ws.db.publication.weeks("service"):
        for cell in ws.db.publication.cells("service", week):
            if not cell.suppressed:
                shown[cell.group] += 1
    return shown


MANAGED_SERVICE = "Direction des finances"
"""The demo manager's service, unless the auditor withholds more of its weeks than another's."""


def make_demo_accounts(ws: Workspace, data: DemoData) -> list[tuple[str, str, str, str]]:
    """One account per role, several agents and the manager of a service — the service whose
    published weeks are most often shown, so that the manager's home has figures to read;
    written to ``demo-accounts.csv`` (mode 0600) in the workspace."""
    shown = _shown_weeks(ws)
    services = sorted(
        {a.service for a in data.agents if a.manager_id},
        key=lambda s: (-shown[s], s != MANAGED_SERVICE, s),
    )
    managed = [a for a in data.agents if services and a.service == services[0] and a.manager_id]
    manager_id = managed[0].manager_id if managed else data.agents[0].agent_id
    manager = next(a for a in data.agents if a.agent_id == manager_id)
    eligible = [
        a
        for a in data.agents
        if a.job_family in ELIGIBLE_FAMILIES
        and a.agent_id != manager.agent_id
        and any(data.codes[(a.agent_id, d)] == "TLT" for d in data.days)
    ]
    agents = [a for a in eligible if a.service == manager.service][:4]
    agents += [a for a in eligible if a not in agents][: max(0, 6 - len(agents))]
    social = next((a for a in data.agents if a.job_family == "travail_social"), None)
    if social is not None:
        agents.append(social)
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

    def password() -> str:
        return "".join(secrets.choice(alphabet) for _ in range(16))

    rows = [
        ("dsi.operateur", password(), "operator", ""),
        ("dpo.martin", password(), "dpo", ""),
        ("rh.relecture", password(), "hr_reviewer", ""),
        ("cst.representant", password(), "staff_rep", ""),
        (f"resp.{manager.sam}", password(), "manager", manager.agent_id),
    ]
    rows += [(a.sam, password(), "agent", a.agent_id) for a in agents]
    for login, secret, role, agent_id in rows:
        create_account(ws.db, ws.clock, login, secret, role, agent_id)
    path = ws.paths.home / "demo-accounts.csv"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["login", "password", "role", "agent_id"])
        writer.writerows(rows)
    return rows
