"""Build a synthetic Département on disk: directory, Octime-like schedule, a day of logs per day.

The behaviour model is the ground truth tests compare loyaute with: on a telework half-day an agent
works on the system with a probability that depends on the job family (social workers spend much
of their time on the phone and in home visits); a person at work leaves a VPN session, interactive
mail and business-application requests. Everyone's phone and laptop keep producing background
traffic that must never count, firewalls log mostly traffic lines, probes and back-end duplicates
fill the Exchange logs, and a few traces fall outside working hours (rule C9) or on leave days
(rule B4).
"""

from __future__ import annotations

import csv
import gzip
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from loyaute.demo import logs
from loyaute.demo.population import (
    TELEWORK_OFF_SYSTEM,
    WORK_ON_SYSTEM,
    DemoAgent,
    make_agents,
    plan_leave,
    schedule_code,
    working_days,
)

APP_OF_FAMILY = {
    "finances": ("grand-angle", 0.8),
    "travail_social": ("ines", 0.7),
    "rh": ("pleiade", 0.75),
    "administratif": ("publik", 0.5),
    "encadrement": ("grand-angle", 0.3),
    "informatique": ("publik", 0.2),
    "technique": ("grand-angle", 0.15),
}
HALF_SPANS = {"AM": (time(8, 20), time(12, 5)), "PM": (time(13, 35), time(17, 40))}
SCHEDULE_HEADER = ("Matricule", "Date", "Période", "Code")

Key = tuple[str, date, str]


@dataclass
class DemoData:
    """What was generated, and the ground truth."""

    root: Path
    agents: list[DemoAgent]
    days: list[date]
    codes: dict[tuple[str, date], str] = field(default_factory=dict)
    truth: dict[Key, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Interactive trace categories of every (agent, day, half) within the windows."""
    worked: dict[Key, bool] = field(default_factory=dict)
    """Whether the agent worked on the information system that half-day (the model's truth)."""
    lines: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def logs(self) -> Path:
        """Folder of the generated logs."""
        return self.root / "logs"

    @property
    def directory(self) -> Path:
        """The directory export."""
        return self.root / "directory.csv"

    @property
    def schedule(self) -> Path:
        """The Octime-like schedule export."""
        return self.root / "planning_octime.csv"


def _at(day: date, clock: time, rng: random.Random, spread_min: int = 0) -> datetime:
    local = datetime.combine(day, clock, tzinfo=logs.PARIS)
    if spread_min:
        local += timedelta(minutes=rng.randint(-spread_min, spread_min), seconds=rng.randint(0, 59))
    return local.astimezone(UTC)


class _DayFiles:
    """Lines of one day, sorted by time before they are written."""

    def __init__(self) -> None:
        self.fortigate: list[tuple[datetime, str]] = []
        self.iis: list[tuple[datetime, str]] = []
        self.proxy: list[tuple[datetime, str]] = []


def build(
    out: Path,
    agents: int = 500,
    weeks: int = 8,
    seed: int = 1,
    today: date | None = None,
    noise: int = 8,
) -> DemoData:
    """Write the Département into ``out`` and return the ground truth."""
    rng = random.Random(seed)
    today = today or datetime.now(logs.PARIS).date()
    end = today - timedelta(days=1)
    start = end - timedelta(weeks=weeks) + timedelta(days=1)
    days = working_days(start, end)
    people = make_agents(agents, rng)
    plan_leave(people, days, rng)
    data = DemoData(out, people, days)
    uses_vpn = {a.agent_id: rng.random() < 0.85 for a in people}
    has_phone = {a.agent_id: rng.random() < 0.6 for a in people}
    for sub in ("fortigate", "exchange", "proxy"):
        (out / "logs" / sub).mkdir(parents=True, exist_ok=True)

    for a in people:
        for day in days:
            data.codes[(a.agent_id, day)] = schedule_code(a, day, rng)

    for n, day in enumerate(days):
        files = _DayFiles()
        for a in people:
            _agent_day(a, day, data, files, rng, uses_vpn[a.agent_id], has_phone[a.agent_id], noise)
        _machine_noise(day, files, rng)
        _write_day(out, day, files, data, compress=n < len(days) // 3)
    _write_directory(data)
    _write_schedule(data)
    return data


def _agent_day(
    a: DemoAgent,
    day: date,
    data: DemoData,
    files: _DayFiles,
    rng: random.Random,
    vpn_user: bool,
    phone: bool,
    noise: int,
) -> None:
    code = data.codes[(a.agent_id, day)]
    p_work = WORK_ON_SYSTEM[a.job_family] * (1 - TELEWORK_OFF_SYSTEM if code == "TLT" else 1)
    app, p_app = logs.APP_HOSTS, APP_OF_FAMILY[a.job_family]
    for half, (begin, finish) in HALF_SPANS.items():
        key = (a.agent_id, day, half)
        working = code in ("TLT", "PRES") and rng.random() < p_work
        data.worked[key] = working
        start = _at(day, begin, rng, 25)
        stop = _at(day, finish, rng, 25)
        if working and code == "TLT" and vpn_user:
            tunnel = rng.randrange(10**5, 10**6)
            ip = f"198.51.100.{rng.randrange(1, 250)}"
            files.fortigate.append((start, logs.fgt_tunnel_up(start, a.sam, tunnel, ip)))
            seconds = int((stop - start).total_seconds())
            files.fortigate.append((stop, logs.fgt_tunnel_down(stop, a.sam, tunnel, ip, seconds)))
            data.truth[key].add("vpn")
            for _ in range(noise):
                at = start + timedelta(seconds=rng.randrange(max(1, seconds)))
                files.fortigate.append((at, logs.fgt_traffic(at, rng)))
        if working:
            # Outlook keeps syncing in the background: never a trace by itself.
            t = start
            while t < stop:
                files.iis.append(
                    (
                        t,
                        logs.iis_line(
                            t,
                            "POST",
                            "/mapi/emsmdb/",
                            "MailboxId=0",
                            f"{logs.DOMAIN_NAME}\\{a.sam}",
                            logs.OUTLOOK_UA,
                            taken_ms=rng.randint(5, 60),
                        ),
                    )
                )
                files.iis.append(
                    (
                        t,
                        logs.iis_line(
                            t,
                            "POST",
                            "/mapi/emsmdb/",
                            "MailboxId=0",
                            "Anonymous",
                            logs.OUTLOOK_UA,
                            port=444,
                            taken_ms=4,
                        ),
                    )
                )
                t += timedelta(minutes=rng.randint(12, 25))
            if rng.random() < 0.98:
                for _ in range(rng.randint(1, 3)):
                    at = start + (stop - start) * rng.random()
                    action = rng.choice(
                        ("FindItem", "GetItem", "CreateItem", "GetConversationItems")
                    )
                    files.iis.append(
                        (
                            at,
                            logs.iis_line(
                                at,
                                "POST",
                                "/owa/service.svc",
                                f"action={action}&app=Mail",
                                a.upn,
                                logs.BROWSER_UA,
                                taken_ms=rng.randint(20, 400),
                            ),
                        )
                    )
                data.truth[key].add("mail")
            if rng.random() < p_app[1]:
                host, path = app[p_app[0]]
                for _ in range(rng.randint(1, 4)):
                    at = start + (stop - start) * rng.random()
                    files.proxy.append((at, logs.proxy_line(at, host, path, a.sam)))
                data.truth[key].add("apps")
        elif code in ("TLT", "PRES", "VAD") and phone and rng.random() < 0.12:
            # A mail sent from the phone between two calls: a trace, without "working on the system".
            at = _at(day, begin, rng, 60) + timedelta(hours=1)
            files.iis.append(
                (
                    at,
                    logs.iis_line(
                        at,
                        "POST",
                        "/Microsoft-Server-ActiveSync/default.eas",
                        f"User={a.sam}&DeviceId=D{a.agent_id}&DeviceType=iPhone&Cmd=SendMail",
                        f"{logs.DOMAIN_NAME}\\{a.sam}",
                        logs.PHONE_UA,
                        taken_ms=300,
                    ),
                )
            )
            data.truth[key].add("mail")
    if phone:
        # The phone in a pocket or a drawer: long-polling Ping all day, every day.
        t = _at(day, time(7, 0), rng, 20)
        last = _at(day, time(21, 0), rng, 20)
        while t < last:
            files.iis.append(
                (
                    t,
                    logs.iis_line(
                        t,
                        "POST",
                        "/Microsoft-Server-ActiveSync/default.eas",
                        f"User={a.sam}&DeviceId=D{a.agent_id}&DeviceType=iPhone&Cmd=Ping",
                        f"{logs.DOMAIN_NAME}\\{a.sam}",
                        logs.PHONE_UA,
                        taken_ms=rng.randint(600_000, 1_740_000),
                    ),
                )
            )
            t += timedelta(minutes=rng.randint(25, 45))
    if rng.random() < 0.03:
        # Mail read late in the evening: outside the windows, never kept (rule C9).
        at = _at(day, time(22, 15), rng, 30)
        files.iis.append(
            (
                at,
                logs.iis_line(
                    at,
                    "POST",
                    "/owa/service.svc",
                    "action=GetItem&app=Mail",
                    a.upn,
                    logs.BROWSER_UA,
                ),
            )
        )
    if rng.random() < 0.01:
        at = _at(day, time(8, 5), rng, 10)
        files.fortigate.append((at, logs.fgt_login_failure(at, a.sam, "203.0.113.9")))


def _machine_noise(day: date, files: _DayFiles, rng: random.Random) -> None:
    for hour in range(0, 24):
        at = _at(day, time(hour, 1), rng)
        files.iis.append(
            (
                at,
                logs.iis_line(
                    at,
                    "GET",
                    "/owa/auth.owa",
                    "&encoding=;",
                    f"{logs.DOMAIN_NAME}\\HealthMailbox4a7e31",
                    "AMProbe/Local/ClientAccess",
                    client="::1",
                ),
            )
        )
        files.iis.append(
            (
                at,
                logs.iis_line(
                    at,
                    "POST",
                    "/EWS/Exchange.asmx",
                    "",
                    "",
                    logs.OUTLOOK_UA,
                    status=401,
                    taken_ms=2,
                ),
            )
        )
        files.proxy.append(
            (
                at,
                logs.proxy_line(
                    at, "demarches.extranet.lenord.fr", "/demande-de-rsa/", "", ip="203.0.113.80"
                ),
            )
        )
        for _ in range(20):
            files.fortigate.append(
                (at, logs.fgt_traffic(at + timedelta(seconds=rng.randrange(3600)), rng))
            )
    # A contractor not in the directory: counted as an unmatched login, never stored.
    at = _at(day, time(10, 0), rng, 30)
    files.proxy.append(
        (at, logs.proxy_line(at, "grandangle.extranet.lenord.fr", "/ga/", "prestataire.externe"))
    )


def _write_day(out: Path, day: date, files: _DayFiles, data: DemoData, compress: bool) -> None:
    stamp = day.strftime("%Y-%m-%d")
    fgt = "\n".join(line for _, line in sorted(files.fortigate, key=lambda x: x[0])) + "\n"
    fgt_path = out / "logs" / "fortigate" / f"fgt-{stamp}.log"
    if compress:
        with gzip.open(fgt_path.with_suffix(".log.gz"), "wt", encoding="utf-8") as f:
            f.write(fgt)
    else:
        fgt_path.write_text(fgt, encoding="utf-8")
    iis = sorted(files.iis, key=lambda x: x[0])
    midday = len(iis) // 2
    header_day = datetime.combine(day, time(0, 0), tzinfo=UTC)
    iis_lines = logs.iis_header(header_day) + [line for _, line in iis[:midday]]
    # IIS restarted at lunch: the directive block is written again mid-file.
    iis_lines += logs.iis_header(header_day + timedelta(hours=12)) + [
        line for _, line in iis[midday:]
    ]
    (out / "logs" / "exchange" / f"u_ex{day:%y%m%d}.log").write_text(
        "\n".join(iis_lines) + "\n", encoding="utf-8"
    )
    proxy = "\n".join(line for _, line in sorted(files.proxy, key=lambda x: x[0])) + "\n"
    (out / "logs" / "proxy" / f"extranet-access-{stamp}.log").write_text(proxy, encoding="utf-8")
    data.lines["fortigate"] += len(files.fortigate)
    data.lines["exchange-iis"] += len(iis_lines)
    data.lines["proxy"] += len(files.proxy)


def _write_directory(data: DemoData) -> None:
    with data.directory.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["agent_id", "display_name", "service", "job_family", "manager_id", "logins"])
        for a in data.agents:
            w.writerow(
                [
                    a.agent_id,
                    a.display_name,
                    a.service,
                    a.job_family,
                    a.manager_id,
                    ";".join(a.logins),
                ]
            )


def _write_schedule(data: DemoData) -> None:
    """Octime-like: ``;``-separated, DD/MM/YYYY, Windows-1252, one row per agent and day."""
    with data.schedule.open("w", newline="", encoding="cp1252") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(SCHEDULE_HEADER)
        for (agent_id, day), code in sorted(data.codes.items()):
            w.writerow([agent_id, day.strftime("%d/%m/%Y"), "JOUR", code])
