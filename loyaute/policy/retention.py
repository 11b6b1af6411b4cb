"""Retention (rules F2–F6, A6, E8): purge is automatic on every ingest and report, and audited.

* F2 — half-day records: ``retention_after_month_end_days`` after the end of their month.
* F4 — records under an open case or dispute are held until the hold's expiry (holds come with
  review cases; every hold has an owner and an expiry).
* F5 — audit log entries: ``audit_retention_months``; the chain stays verifiable (anchor).
* F6 — quarantined examples of malformed input: ``quarantine_retention_days``.
* B4 — pending half-days whose schedule never came: ``pending_days``.
* A6 — anything dated before the common T0 (and, on an explicit ``purge``, before each agent's
  own T0).
* E8 — the validity study's per-agent on-site half-days, once their week is published: only the
  job family × week figures remain.
* Every other kind of record the tool keeps has a period too (issue 11), set in register.toml
  (``policy/register.py`` says why there): closed review cases with their evidence bundle and the
  agent's answers, notifications, decided objections, answered access requests, statement
  validations, DPO alerts, accounts no longer usable; sessions and personal tokens go when they
  expire. What an open case or an unanswered request needs is never purged: an agent with an open
  case, an unanswered access request, a pending objection or an unresolved dispute keeps every
  record until it is settled, an open case is never deleted, a closed one never while its appeal
  hold runs (F4), and the account of the reviewer of an open case stays.

``policy/retention_schedule.py`` states every period in words; the register entry, the notice
and the DPIA print it, so what the documents say is what the purge does.

The rules of scope (T0, holds, retention dates) come from ``policy/scope.py``. Each purge is
written to the audit log with what it removed: counts and dates, never identities.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from loyaute.i18n import tr
from loyaute.policy import scope as scope_mod
from loyaute.policy.roles import Identity, Role
from loyaute.policy.scope import common_t0, expires_on, first_kept_day, month_end

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

__all__ = ["PurgeReport", "expires_on", "first_kept_day", "month_end", "purge"]

SYSTEM = Identity("loyaute", Role.SYSTEM)

Changes = dict[str, dict[date, pa.Table | None]]


@dataclass
class PurgeReport:
    """What a purge removed (or would remove, on a dry run)."""

    dry_run: bool = False
    removed: Counter[str] = field(default_factory=Counter)
    days: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {"dry_run": self.dry_run, "removed": dict(self.removed), "days": self.days}


def purge(
    ws: Workspace,
    dry_run: bool = False,
    who: Identity = SYSTEM,
    per_agent_t0: bool = False,
    wait: bool = True,
) -> PurgeReport:
    """Apply every retention rule now, holding the workspace's writer lock (H5). With
    ``wait=False`` (the purge a report runs first), a purge that finds another writer at work
    is skipped: reads apply retention themselves (``policy/scope.py``), and the writer at work
    purges when it starts."""
    if dry_run:
        return _purge(ws, True, who, per_agent_t0)
    if not wait:
        if not ws.lock.acquire("purge", 0):
            return PurgeReport()
        try:
            return _purge(ws, False, who, per_agent_t0)
        finally:
            ws.lock.release()
    with ws.lock.hold("purge"):
        return _purge(ws, False, who, per_agent_t0)


def _purge(ws: Workspace, dry_run: bool, who: Identity, per_agent_t0: bool) -> PurgeReport:
    report = PurgeReport(dry_run=dry_run)
    base = ws.activity.current()
    scope = scope_mod.load(ws)
    purpose = ws.register.purpose
    changes: Changes = {"records": {}, "pending": {}, "study": {}}
    t0 = common_t0(ws.register)

    for table in ("records", "study"):
        for day in ws.activity.partitions(table):
            expired = scope.expired(day)
            before = t0 is not None and day < t0
            if not (expired or before):
                continue
            rule = "before_t0" if before else f"{table}_expired"
            held = scope.held_on(day) if expired and not before and table == "records" else set()
            rows = ws.activity.read(table, [day])
            if held:
                kept = rows.filter(
                    pc.is_in(rows.column("agent"), pa.array(sorted(held), pa.string()))
                )
                report.removed[rule] += rows.num_rows - kept.num_rows
                changes[table][day] = kept
            else:
                report.removed[rule] += rows.num_rows
                changes[table][day] = None
            report.days.setdefault(rule, []).append(day.isoformat())

    horizon = scope.today - timedelta(days=ws.settings.schedule.pending_days)
    for day in ws.activity.partitions("pending"):
        if day < horizon or (t0 is not None and day < t0):
            report.removed["pending_expired"] += ws.activity.read("pending", [day]).num_rows
            report.days.setdefault("pending_expired", []).append(day.isoformat())
            changes["pending"][day] = None

    _reduce_study(ws, report, changes, publish=not dry_run)
    if per_agent_t0:
        _purge_before_agent_t0(ws, scope, report, changes)

    audit_cutoff = ws.clock.now() - timedelta(days=int(purpose.audit_retention_months * 30.44))
    quarantine_cutoff = (
        ws.clock.now() - timedelta(days=purpose.quarantine_retention_days)
    ).isoformat(timespec="seconds")
    if dry_run:
        report.removed["quarantine_expired"] += ws.db.manifest.quarantine_before(quarantine_cutoff)
        report.removed["audit_expired"] += ws.audit.count_before(
            audit_cutoff.isoformat(timespec="seconds")
        )
        report.removed = +report.removed
        return report

    ws.activity.commit(changes, base=base)
    with ws.db.transaction():
        report.removed["quarantine_expired"] += ws.db.manifest.delete_quarantine_before(
            quarantine_cutoff
        )
        report.removed.update(_purge_state(ws, scope))
    report.removed["audit_expired"] += ws.audit.purge_before(audit_cutoff)
    report.removed = +report.removed
    if report.removed:
        ws.audit.append(
            who.login,
            who.role.value,
            "purge",
            reason=tr("application des durées de conservation", "retention applied"),
            details=report.to_json(),
        )
    return report


def _reduce_study(ws: Workspace, report: PurgeReport, changes: Changes, publish: bool) -> None:
    """E8: publish the validity study's closed weeks, then delete their per-agent rows (a dry
    run publishes nothing and counts the rows of weeks already published)."""
    study_days = ws.activity.partitions("study")
    if not study_days or ws.register.validity_study.registered_on == "":
        return
    # Imported only now: the reports bring DuckDB, which an ingest without a study never needs.
    from loyaute.reports.presence import VALIDITY, closed_weeks, publish_weeks, week_id  # noqa: PLC0415

    first = min(study_days)
    weeks, _ = closed_weeks(
        ws, first - timedelta(days=first.weekday()), ws.today(), ws.today(), VALIDITY
    )
    if weeks and publish:
        publish_weeks(ws, weeks, VALIDITY)
    published = ws.db.publication.weeks(VALIDITY.classifications[0])
    for day in study_days:
        if week_id(day) in published and changes["study"].get(day, "keep") is not None:
            report.removed["study_reduced"] += ws.activity.read("study", [day]).num_rows
            report.days.setdefault("study_reduced", []).append(day.isoformat())
            changes["study"][day] = None


def _purge_state(ws: Workspace, scope: scope_mod.Scope) -> Counter[str]:
    """F2/F3/F4 in app state: the schedule and the agent's declarations, annotations and
    disputes go with their records; expired holds; the records of people (cases, messages,
    requests, accounts…) past their period; weekly aggregates after three years."""
    removed: Counter[str] = Counter()
    removed["holds_expired"] = ws.db.cases.delete_expired_holds(scope.today)
    pseudonyms = {ws.pseudonymizer.pseudonym(a): a for a in ws.db.agents.everyone()}
    held = [(pseudonyms.get(h.agent, ""), h.day_from, h.day_to) for h in ws.db.cases.holds()]

    def gone(rows: list[tuple[int, str, str]]) -> list[int]:
        return [
            rowid
            for rowid, agent, day in rows
            if not any(agent == a and lo <= day <= hi for a, lo, hi in held)
        ]

    removed["schedule_expired"] = ws.db.schedule.delete_rows(
        gone(ws.db.schedule.rows_before(scope.horizon))
    )
    for table in ("declarations", "annotations", "disputes"):
        removed[f"{table}_expired"] = ws.db.individual.delete_rows(
            table, gone(ws.db.individual.rows_before(table, scope.horizon))
        )
    removed["departed_agents"] = ws.db.agents.delete_departed(
        scope.horizon.isoformat(), _departed_still_needed(ws, pseudonyms, scope.today)
    )
    removed.update(_purge_records_of_people(ws, scope.today))
    # The atoms and members frozen with each published week serve later spans and the re-audit
    # (E7); they go with the half-day records (F2). The weekly cells stay (three years, below).
    horizon_week = scope.horizon - timedelta(days=scope.horizon.weekday())
    removed["publication_details_expired"] = ws.db.publication.forget_details_before(
        _week_of(horizon_week)
    )
    three_years = scope.today - timedelta(days=3 * 365 + 1)
    stale = [w for w in ws.db.publication.all_weeks() if _week_monday(w) < three_years]
    removed["aggregates_expired"] = ws.db.publication.delete_weeks(stale) if stale else 0
    # Sign-in backoff: failures whose wait is long over, addresses unused for a year.
    now = ws.clock.now()
    removed["signin_traces_expired"] = ws.db.signins.forget_before(
        (now - timedelta(days=1)).isoformat(timespec="seconds"),
        (now - timedelta(days=365)).isoformat(timespec="seconds"),
    )
    return +removed


def _week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _departed_still_needed(ws: Workspace, pseudonyms: dict[str, str], today: date) -> set[str]:
    """Departed agents whose directory row must stay although they left before the retention
    horizon: a hold (F4), a case still kept (D6 exports name them), an unanswered access request
    (G1), an objection not yet decided (G3) or an unresolved dispute (D4)."""
    departed = [a for a, agent in ws.db.agents.everyone().items() if agent.left_on]
    if not departed:
        return set()
    needed = {pseudonyms.get(h.agent, "") for h in ws.db.cases.holds(today)} | _unsettled(ws)
    return {a for a in departed if a in needed or ws.db.cases.of_agent(a)}


def _unsettled(ws: Workspace) -> set[str]:
    """Agents with something not settled yet — an open case, an unanswered access request, a
    pending objection, an unresolved dispute: none of their records is purged meanwhile (the
    answer, the decision or the access export needs them)."""
    out = {c.agent_id for c in ws.db.cases.open_cases()}
    out |= {r.agent_id for r in ws.db.individual.access_requests() if not r.answered_on}
    out |= {o.agent_id for o in ws.db.individual.pending_objections()}
    out |= {d.agent_id for d in ws.db.individual.unresolved_disputes()}
    return out


def _instant(ws: Workspace, days_ago: int) -> str:
    return (ws.clock.now() - timedelta(days=days_ago)).isoformat(timespec="seconds")


def _purge_records_of_people(ws: Workspace, today: date) -> Counter[str]:
    """Cases, notifications, objections, access requests, statements, alerts, accounts,
    sessions and tokens past their period (see the module docstring)."""
    p = ws.register.purpose
    removed: Counter[str] = Counter()
    unsettled = _unsettled(ws)
    held_cases = {h.case_id for h in ws.db.cases.holds(today)}
    old_cases = [
        c.id
        for c in ws.db.cases.closed_before(_instant(ws, p.case_retention_days))
        if c.id not in held_cases and c.agent_id not in unsettled
    ]
    cases, evidence, answers = ws.db.cases.delete_cases(old_cases)
    removed["cases_expired"] = cases
    removed["evidence_expired"] = evidence
    removed["case_answers_expired"] = answers
    removed["notifications_expired"] = ws.db.individual.delete_notifications(
        [
            i
            for i, agent in ws.db.individual.notifications_before(
                _instant(ws, p.notification_retention_days)
            )
            if agent not in unsettled
        ]
    )
    directory = ws.db.agents.everyone()
    cutoff = _instant(ws, p.objection_retention_days)
    removed["objections_expired"] = ws.db.individual.delete_objections(
        [
            o.id
            for o in ws.db.individual.decided_objections()
            if o.agent_id not in unsettled
            and (
                # an upheld objection stops the processing: it stays while the agent is known
                o.agent_id not in directory if o.decision == "upheld" else o.decided_on < cutoff
            )
        ]
    )
    removed["access_requests_expired"] = ws.db.individual.delete_access_requests(
        [
            i
            for i, agent in ws.db.individual.answered_requests_before(
                today - timedelta(days=p.access_request_retention_days)
            )
            if agent not in unsettled
        ]
    )
    removed["statements_expired"] = ws.db.individual.delete_statements_before(
        first_statement_month_kept(p.statement_retention_months, today)
    )
    removed["alerts_expired"] = ws.db.alerts.delete_before(
        _instant(ws, int(p.audit_retention_months * 30.44))
    )
    removed["accounts_expired"] = ws.db.accounts.delete_accounts(
        _unusable_accounts(ws, today, directory, unsettled)
    )
    now = ws.clock.now().isoformat(timespec="seconds")
    removed["sessions_expired"] = ws.db.accounts.delete_sessions_before(now)
    removed["tokens_expired"] = ws.db.accounts.delete_tokens_before(_instant(ws, TOKEN_KEEP_DAYS))
    return removed


TOKEN_KEEP_DAYS = 30
"""An expired or revoked personal token is listed this long (``account tokens``), then goes."""


def first_statement_month_kept(months_after: int, today: date) -> str:
    """The oldest month (YYYY-MM) whose statement validation is still kept: a month's is kept
    ``months_after`` months after the month's end."""
    year, month = today.year, today.month
    while True:
        back_year, back_month = divmod(year * 12 + month - 1 - 1, 12)
        candidate = date(back_year, back_month + 1, 1)
        if _add_months(month_end(candidate), months_after) < today:
            return f"{year:04d}-{month:02d}"
        year, month = candidate.year, candidate.month


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    first = date(year, month + 1, 1)
    return first.replace(day=min(day.day, month_end(first).day))


def _unusable_accounts(
    ws: Workspace, today: date, directory: dict[str, Any], unsettled: set[str]
) -> list[str]:
    """Accounts that stopped being usable ``account_retention_days`` ago: disabled then, or
    their agent left then (or is gone from the directory). The reviewer of an open case keeps
    theirs, and so does an agent with something unsettled."""
    horizon = today - timedelta(days=ws.register.purpose.account_retention_days)
    disabled = ws.db.accounts.disabled_since()
    reviewers = {c.reviewer for c in ws.db.cases.open_cases()}
    out = []
    for account in ws.db.accounts.all():
        if account.login in reviewers or account.agent_id in unsettled:
            continue
        since: date | None = None
        if account.login in disabled:
            since = date.fromisoformat(disabled[account.login][:10])
        elif account.agent_id:
            agent = directory.get(account.agent_id)
            if agent is None:
                since = date.min
            elif agent.left_on:
                since = date.fromisoformat(agent.left_on)
        if since is not None and since < horizon:
            out.append(account.login)
    return out


def _week_monday(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def _purge_before_agent_t0(
    ws: Workspace, scope: scope_mod.Scope, report: PurgeReport, changes: Changes
) -> None:
    """Rule A6, per agent: records dated before the agent's own T0 (a notice date corrected)."""
    t0_by_pseudonym = {ws.pseudonymizer.pseudonym(a): facts.t0 for a, facts in scope.agents.items()}
    for table in ("records", "study"):
        for day in ws.activity.partitions(table):
            if changes[table].get(day, "keep") is None:
                continue
            current = changes[table].get(day)
            rows = current if isinstance(current, pa.Table) else ws.activity.read(table, [day])
            keep = [
                (t := t0_by_pseudonym.get(p)) is not None and day >= t
                for p in rows.column("agent").to_pylist()
            ]
            dropped = keep.count(False)
            if dropped:
                report.removed["before_agent_t0"] += dropped
                report.days.setdefault("before_agent_t0", []).append(day.isoformat())
                changes[table][day] = rows.filter(pa.array(keep))
