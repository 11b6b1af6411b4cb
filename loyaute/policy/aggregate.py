"""The half-days aggregates are computed from, with every rule of scope applied through
``policy/scope.py``: the per-agent rows built here leave this module only as counts.

A telework half-day counts when the agent's family is eligible (B5), the day is on or after the
agent's T0 (A5) and still within retention (F2), the agent has no pending objection (G3) and the
half-day is not under an open dispute (D4 — frozen, excluded from reports and reviews). An
on-site half-day counts for the validity study (its own purpose, E8) when the study holds it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pyarrow as pa

from loyaute.policy import scope as scope_mod
from loyaute.store.query import join_flags, last_day

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

TABLE_OF_KIND = {"telework": "records", "on_site": "study"}


def half_day_frame(ws: Workspace, kind: str, lo: date, hi: date) -> pa.Table:
    """Scheduled half-days of ``kind`` (``telework`` or ``on_site``) in [lo, hi] that count,
    with whether a trace was recorded and whether the agent declared the half-day."""
    sc = scope_mod.load(ws)
    lo = max(lo, sc.horizon)
    hi = min(hi, sc.today)
    if lo > hi:
        return FRAME_SCHEMA.empty_table()
    disputed = ws.db.individual.open_disputes()
    declared = ws.db.individual.declared()
    keep: list[tuple[str, str, str]] = []
    for agent_id, day_text, half in ws.db.schedule.of_kind(kind, lo, hi):
        if sc.fate(agent_id, date.fromisoformat(day_text), kind) != kind:
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
    joined = join_flags(ws.activity, TABLE_OF_KIND[kind], wanted, kind)
    ids = joined.column("agent_id").to_pylist()
    days = joined.column("day").to_pylist()
    halves = joined.column("half").to_pylist()
    facts = sc.agents
    return pa.table(
        {
            "agent_id": ids,
            "service": [facts[a].service for a in ids],
            "job_family": [facts[a].job_family for a in ids],
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


def last_traced_day(ws: Workspace) -> date | None:
    """The latest day the loaded logs reach (a week is published once its data is in): the
    check's records and the validity study's alike."""
    days = [d for d in (last_day(ws.activity, t) for t in TABLE_OF_KIND.values()) if d]
    return max(days, default=None)


def scheduled_days_from(ws: Workspace, day: date) -> list[date]:
    """Distinct scheduled days on or after ``day`` (whether a week's schedule is in)."""
    return ws.db.schedule.days_from(day)


def first_scheduled_day(ws: Workspace) -> date | None:
    """The earliest scheduled day (the default start of a report)."""
    return ws.db.schedule.first_day()
