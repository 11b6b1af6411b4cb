"""Retention (rules F2, F4–F6, A6): purge is automatic on every ingest and report, and audited.

* F2 — half-day records: ``retention_after_month_end_days`` after the end of their month.
* F4 — records under an open case or dispute are held until the hold's expiry (holds come with
  review cases; every hold has an owner and an expiry).
* F5 — audit log entries: ``audit_retention_months``; the chain stays verifiable (anchor).
* F6 — quarantined examples of malformed input: ``quarantine_retention_days``.
* B4 — pending half-days whose schedule never came: ``pending_days``.
* A6 — anything dated before the common T0 (and, on an explicit ``purge``, before each agent's
  own T0).

Each purge is written to the audit log with what it removed: counts and dates, never identities.
"""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from loyaute.i18n import tr
from loyaute.policy.gates import agent_t0, common_t0

if TYPE_CHECKING:
    from loyaute.workspace import Workspace


@dataclass
class PurgeReport:
    """What a purge removed (or would remove, on a dry run)."""

    dry_run: bool = False
    removed: Counter[str] = field(default_factory=Counter)
    days: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {"dry_run": self.dry_run, "removed": dict(self.removed), "days": self.days}


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def expires_on(day: date, days_after_month_end: int) -> date:
    """Rule F2: the first date a record of ``day`` is no longer kept."""
    return month_end(day) + timedelta(days=days_after_month_end + 1)


def first_kept_day(days_after_month_end: int, today: date) -> date:
    """The oldest day whose records are still kept (F2)."""
    probe = today - timedelta(days=days_after_month_end + 31)
    while expires_on(probe, days_after_month_end) <= today:
        probe += timedelta(days=1)
    return probe


def holds_of(ws: Workspace, pseudonym: str) -> list[tuple[date, date]]:
    """Periods of one pseudonym's records under an unexpired hold (F4)."""
    today = ws.clock.now().date().isoformat()
    return [
        (date.fromisoformat(r[0]), date.fromisoformat(r[1]))
        for r in ws.state.execute(
            "SELECT day_from, day_to FROM holds WHERE agent = ? AND expires_on >= ?",
            (pseudonym, today),
        )
    ]


def held_agents(ws: Workspace, day: date) -> set[str]:
    """Pseudonyms whose records of ``day`` are under a hold (F4)."""
    try:
        rows = ws.state.execute(
            "SELECT agent FROM holds WHERE day_from <= ? AND day_to >= ? AND expires_on >= ?",
            (day.isoformat(), day.isoformat(), ws.clock.now().date().isoformat()),
        ).fetchall()
    except Exception:  # pragma: no cover - the table exists in every workspace
        return set()
    return {r[0] for r in rows}


def purge(
    ws: Workspace, dry_run: bool = False, actor: str = "system", per_agent_t0: bool = False
) -> PurgeReport:
    """Apply every retention rule now."""
    report = PurgeReport(dry_run=dry_run)
    today = ws.clock.now().astimezone(ws.settings.zone).date()
    purpose = ws.register.purpose
    changes: dict[str, dict[date, pa.Table | None]] = {"records": {}, "pending": {}}
    t0 = common_t0(ws.register)

    for day in ws.activity.partitions("records"):
        expired = today >= expires_on(day, purpose.retention_after_month_end_days)
        before = t0 is not None and day < t0
        if not (expired or before):
            continue
        rule = "before_t0" if before else "records_expired"
        held = held_agents(ws, day) if expired and not before else set()
        table = ws.activity.read("records", [day])
        if held:
            keep = pc.is_in(table.column("agent"), pa.array(sorted(held), pa.string()))
            kept = table.filter(keep)
            report.removed[rule] += table.num_rows - kept.num_rows
            changes["records"][day] = kept
        else:
            report.removed[rule] += table.num_rows
            changes["records"][day] = None
        report.days.setdefault(rule, []).append(day.isoformat())

    horizon = today - timedelta(days=ws.settings.schedule.pending_days)
    for day in ws.activity.partitions("pending"):
        if day < horizon or (t0 is not None and day < t0):
            report.removed["pending_expired"] += ws.activity.read("pending", [day]).num_rows
            report.days.setdefault("pending_expired", []).append(day.isoformat())
            changes["pending"][day] = None

    if per_agent_t0:
        _purge_before_agent_t0(ws, report, changes)

    cutoff_months = purpose.audit_retention_months
    cutoff = ws.clock.now() - timedelta(days=int(cutoff_months * 30.44))
    quarantine_cutoff = (
        ws.clock.now() - timedelta(days=purpose.quarantine_retention_days)
    ).isoformat(timespec="seconds")
    quarantine = ws.state.execute(
        "SELECT COUNT(*) FROM quarantine WHERE at < ?", (quarantine_cutoff,)
    ).fetchone()[0]
    report.removed["quarantine_expired"] += quarantine
    if dry_run:
        old_audit = ws.audit.conn.execute(
            "SELECT COUNT(*) FROM audit WHERE at < ?", (cutoff.isoformat(timespec="seconds"),)
        ).fetchone()[0]
        report.removed["audit_expired"] += old_audit
        report.removed = +report.removed
        return report

    ws.activity.commit(changes)
    ws.state.execute("DELETE FROM quarantine WHERE at < ?", (quarantine_cutoff,))
    report.removed.update(_purge_state(ws, today))
    report.removed["audit_expired"] += ws.audit.purge_before(cutoff)
    report.removed = +report.removed
    if report.removed:
        ws.audit.append(
            actor,
            "system",
            "purge",
            reason=tr("application des durées de conservation", "retention applied"),
            details=report.to_json(),
        )
    return report


def _purge_state(ws: Workspace, today: date) -> Counter[str]:
    """F2/F3/F4 in app state: the schedule and the agent's declarations, annotations and
    disputes go with their records; expired holds; weekly aggregates after three years."""
    removed: Counter[str] = Counter()
    horizon = first_kept_day(ws.register.purpose.retention_after_month_end_days, today).isoformat()
    removed["holds_expired"] = ws.state.execute(
        "DELETE FROM holds WHERE expires_on < ?", (today.isoformat(),)
    ).rowcount
    by_pseudonym = {
        ws.pseudonymizer.pseudonym(r[0]): r[0]
        for r in ws.state.execute("SELECT agent_id FROM agents")
    }
    held = [
        (by_pseudonym.get(r[0], ""), r[1], r[2])
        for r in ws.state.execute("SELECT agent, day_from, day_to FROM holds")
    ]
    for table in ("schedule", "declarations", "annotations", "disputes"):
        rows = ws.state.execute(
            f"SELECT rowid, agent_id, day FROM {table} WHERE day < ?", (horizon,)
        ).fetchall()
        gone = [
            (r[0],)
            for r in rows
            if not any(agent == r[1] and lo <= r[2] <= hi for agent, lo, hi in held)
        ]
        ws.state.executemany(f"DELETE FROM {table} WHERE rowid = ?", gone)
        removed[f"{table}_expired"] = len(gone)
    three_years = today - timedelta(days=3 * 365 + 1)
    stale = [
        (r[0],)
        for r in ws.state.execute("SELECT DISTINCT week FROM published_cells")
        if _week_monday(r[0]) < three_years
    ]
    ws.state.executemany("DELETE FROM published_cells WHERE week = ?", stale)
    ws.state.executemany("DELETE FROM published_spans WHERE first_week = ?", stale)
    removed["aggregates_expired"] = len(stale)
    return +removed


def _week_monday(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def _purge_before_agent_t0(
    ws: Workspace, report: PurgeReport, changes: dict[str, dict[date, pa.Table | None]]
) -> None:
    """Rule A6, per agent: records dated before the agent's own T0 (a notice date corrected)."""
    notices = {r[0]: r[1] for r in ws.state.execute("SELECT agent_id, delivered_on FROM notices")}
    agents = [r[0] for r in ws.state.execute("SELECT agent_id FROM agents")]
    t0_by_pseudonym = {
        ws.pseudonymizer.pseudonym(a): agent_t0(ws.register, notices.get(a)) for a in agents
    }
    for day in ws.activity.partitions("records"):
        if changes["records"].get(day, "keep") is None:
            continue
        table = ws.activity.read("records", [day])
        agents_of_day = table.column("agent").to_pylist()
        keep = [(t := t0_by_pseudonym.get(p)) is not None and day >= t for p in agents_of_day]
        removed = keep.count(False)
        if removed:
            report.removed["before_agent_t0"] += removed
            report.days.setdefault("before_agent_t0", []).append(day.isoformat())
            changes["records"][day] = table.filter(pa.array(keep))
