"""The agent's own records (rule E6): exactly what a reviewer could see about them.

One row per half-day kept about the agent, from their T0 to today, within the retention window:
telework half-days (``trace`` with its categories, or ``no_trace``), on-site half-days kept for the
validity study, and the statuses of the records contract (``disputed``, ``out_of_scope``).
Nothing before the agent's T0 is ever shown (rule I1).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from loyaute.policy.gates import agent_t0
from loyaute.policy.retention import expires_on, holds_of
from loyaute.store.query import run

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

STATUSES = ("trace", "no_trace", "disputed", "out_of_scope")
RECORD_COLUMNS = (
    "date",
    "half_day",
    "scheduled",
    "status",
    "categories",
    "declaration",
    "annotation",
)


@dataclass(frozen=True)
class RecordRow:
    """One half-day as the agent (and any reviewer) sees it."""

    date: str
    half_day: str
    scheduled: str
    status: str
    categories: str
    declaration: str = ""
    annotation: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The row as a mapping, in the contract's column order."""
        return asdict(self)


def t0_of(ws: Workspace, agent_id: str) -> date | None:
    """The agent's T0 (rule A5), or None when they have none yet."""
    row = ws.state.execute(
        "SELECT delivered_on FROM notices WHERE agent_id = ?", (agent_id,)
    ).fetchone()
    return agent_t0(ws.register, row[0] if row else None)


_CACHE_SIZE = 4096
_cache: OrderedDict[tuple[str, str], dict[tuple[str, str], tuple[str, str]]] = OrderedDict()
_cache_lock = threading.Lock()


def stored_records(ws: Workspace, pseudonym: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(day, half) → (scope, categories) of what the store holds about one pseudonym.

    Cached per committed generation: a generation never changes once written, so a cached
    answer is exact until the next commit switches to a new one."""
    generation = ws.activity.generation()
    if generation is None:
        return {}
    info = generation.stat()
    key = (f"{generation}:{info.st_ino}:{info.st_mtime_ns}", pseudonym)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    table = run(
        ws.activity,
        "SELECT day, half, scope, vpn, mail, apps FROM records WHERE agent = ?",
        params=[pseudonym],
    )
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for row in table.to_pylist():
        cats = ";".join(c for c in ("vpn", "mail", "apps") if row[c])
        out[(row["day"].isoformat(), row["half"])] = (row["scope"], cats)
    with _cache_lock:
        _cache[key] = out
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return out


def agent_records(
    ws: Workspace, agent_id: str, day_from: date | None = None, day_to: date | None = None
) -> list[RecordRow]:
    """Every half-day kept about an agent (optionally within a period), oldest first."""
    t0 = t0_of(ws, agent_id)
    if t0 is None:
        return []
    today = ws.clock.now().astimezone(ws.settings.zone).date()
    retention = ws.register.purpose.retention_after_month_end_days
    lo = max(t0, day_from) if day_from else t0
    hi = min(today, day_to) if day_to else today
    agent = ws.state.execute(
        "SELECT job_family FROM agents WHERE agent_id = ?", (agent_id,)
    ).fetchone()
    eligible = agent is not None and agent[0].casefold() in {
        f.casefold() for f in ws.register.purpose.eligible_job_families
    }
    pseudonym = ws.pseudonymizer.pseudonym(agent_id)
    stored = stored_records(ws, pseudonym)
    held = holds_of(ws, pseudonym)
    declarations = {
        (r[0], r[1]): r[2] + (f" ({r[3]})" if r[3] else "")
        for r in ws.state.execute(
            "SELECT day, half, kind, note FROM declarations WHERE agent_id = ?", (agent_id,)
        )
    }
    annotations = {
        (r[0], r[1]): r[2]
        for r in ws.state.execute(
            "SELECT day, half, text FROM annotations WHERE agent_id = ?", (agent_id,)
        )
    }
    disputed = {
        (r[0], r[1])
        for r in ws.state.execute(
            "SELECT day, half FROM disputes WHERE agent_id = ? AND resolved_at = ''", (agent_id,)
        )
    }
    rows: list[RecordRow] = []
    schedule = ws.state.execute(
        "SELECT day, half, kind FROM schedule WHERE agent_id = ? AND day >= ? AND day <= ? "
        "ORDER BY day, half",
        (agent_id, lo.isoformat(), hi.isoformat()),
    ).fetchall()
    for day_text, half, kind in schedule:
        day = date.fromisoformat(day_text)
        if today >= expires_on(day, retention) and not any(lo <= day <= hi for lo, hi in held):
            continue  # past retention and not held: nothing is kept any more (F2, F4)
        record = stored.get((day_text, half))
        key = (day_text, half)
        extra = (declarations.get(key, ""), annotations.get(key, ""))
        if kind == "telework":
            cats = record[1] if record is not None else ""
            if not eligible:
                status = "out_of_scope"
            elif key in disputed:
                status = "disputed"  # D4: frozen until resolved
            else:
                status = "trace" if record is not None else "no_trace"
            rows.append(
                RecordRow(day_text, half, "telework", status, cats if eligible else "", *extra)
            )
        elif kind == "on_site" and record is not None:
            status = "disputed" if key in disputed else "trace"
            rows.append(RecordRow(day_text, half, "on_site", status, record[1], *extra))
    return rows
