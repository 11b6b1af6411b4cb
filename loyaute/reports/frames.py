"""The half-days reports are computed from, with every rule of scope applied once, here.

A telework half-day counts when the agent's family is eligible (B5), the day is on or after the
agent's T0 (A5) and still within retention (F2), the agent has no pending objection (G3) and the
half-day is not under an open dispute (D4 — frozen, excluded from reports and reviews).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pyarrow as pa

from loyaute.policy.gates import agent_t0
from loyaute.policy.retention import first_kept_day
from loyaute.store.query import run
from loyaute.store.state import objecting_agents

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

FRAME_SCHEMA = pa.schema(
    [
        ("agent_id", pa.string()),
        ("service", pa.string()),
        ("job_family", pa.string()),
        ("day", pa.date32()),
        ("half", pa.string()),
        ("trace", pa.bool_()),
        ("mail_or_apps", pa.bool_()),
        ("declared", pa.bool_()),
    ]
)


@dataclass(frozen=True)
class Scope:
    """Who and when may be counted."""

    t0: dict[str, date]
    eligible: set[str]
    objecting: set[str]
    horizon: date
    today: date


def scope(ws: Workspace) -> Scope:
    """The per-agent facts every report needs."""
    today = ws.clock.now().astimezone(ws.settings.zone).date()
    notices = {r[0]: r[1] for r in ws.state.execute("SELECT agent_id, delivered_on FROM notices")}
    eligible_families = {f.casefold() for f in ws.register.purpose.eligible_job_families}
    t0: dict[str, date] = {}
    eligible: set[str] = set()
    for r in ws.state.execute("SELECT agent_id, job_family FROM agents"):
        start = agent_t0(ws.register, notices.get(r[0]))
        if start is not None:
            t0[r[0]] = start
        if r[1].casefold() in eligible_families:
            eligible.add(r[0])
    objecting = objecting_agents(ws.state)
    horizon = first_kept_day(ws.register.purpose.retention_after_month_end_days, today)
    return Scope(t0, eligible, objecting, horizon, today)


def half_day_frame(ws: Workspace, kind: str, lo: date, hi: date) -> pa.Table:
    """Scheduled half-days of ``kind`` (``telework`` or ``on_site``) in [lo, hi] that count,
    with whether a trace was recorded and whether the agent declared the half-day."""
    sc = scope(ws)
    lo = max(lo, sc.horizon)
    hi = min(hi, sc.today)
    if lo > hi:
        return FRAME_SCHEMA.empty_table()
    agents = {
        r[0]: (r[1], r[2])
        for r in ws.state.execute("SELECT agent_id, service, job_family FROM agents")
    }
    disputed = {
        (r[0], r[1], r[2])
        for r in ws.state.execute("SELECT agent_id, day, half FROM disputes WHERE resolved_at = ''")
    }
    declared = {
        (r[0], r[1], r[2]) for r in ws.state.execute("SELECT agent_id, day, half FROM declarations")
    }
    rows = ws.state.execute(
        "SELECT agent_id, day, half FROM schedule WHERE kind = ? AND day >= ? AND day <= ?",
        (kind, lo.isoformat(), hi.isoformat()),
    ).fetchall()
    keep: list[tuple[str, str, str]] = []
    for agent_id, day_text, half in rows:
        if agent_id not in agents or agent_id in sc.objecting:
            continue
        start = sc.t0.get(agent_id)
        if start is None or date.fromisoformat(day_text) < start:
            continue
        if kind == "telework" and agent_id not in sc.eligible:
            continue
        if kind == "on_site":
            study = ws.register.validity_study
            if not (study.enabled and study.registered_on) or day_text < study.registered_on:
                continue
        if (agent_id, day_text, half) in disputed:
            continue
        keep.append((agent_id, day_text, half))
    if not keep:
        return FRAME_SCHEMA.empty_table()
    pseudonyms = {a: ws.pseudonymizer.pseudonym(a) for a in {k[0] for k in keep}}
    wanted = pa.table(
        {
            "agent_id": [k[0] for k in keep],
            "pseudonym": [pseudonyms[k[0]] for k in keep],
            "day": pa.array([date.fromisoformat(k[1]) for k in keep], pa.date32()),
            "half": [k[2] for k in keep],
        }
    )
    scope_name = "telework" if kind == "telework" else "on_site"
    joined = run(
        ws.activity,
        "SELECT w.agent_id, w.day, w.half, r.agent IS NOT NULL AS trace, "
        "coalesce(r.mail OR r.apps, false) AS mail_or_apps "
        "FROM wanted w LEFT JOIN records r ON r.agent = w.pseudonym AND r.day = w.day "
        "AND r.half = w.half AND r.scope = ? ORDER BY w.day, w.half, w.agent_id",
        {"wanted": wanted},
        [scope_name],
    )
    ids = joined.column("agent_id").to_pylist()
    days = joined.column("day").to_pylist()
    halves = joined.column("half").to_pylist()
    return pa.table(
        {
            "agent_id": ids,
            "service": [agents[a][0] for a in ids],
            "job_family": [agents[a][1] for a in ids],
            "day": pa.array(days, pa.date32()),
            "half": halves,
            "trace": joined.column("trace"),
            "mail_or_apps": joined.column("mail_or_apps"),
            "declared": [
                (a, d.isoformat(), h) in declared for a, d, h in zip(ids, days, halves, strict=True)
            ],
        },
        schema=FRAME_SCHEMA,
    )
