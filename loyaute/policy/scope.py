"""The scope of an agent on a day — the one place each rule of scope is decided.

* T0 (A5): the latest of the agent's notice date, the committee opinion, the DPIA approval and the
  date the délibération takes effect; nothing dated before it is kept, shown or exported (A6, I1).
* Eligibility (B5): only job families declared eligible are processed.
* Schedule kind (B4): only telework half-days are kept for the check; on-site half-days go to the
  validity study when it is registered (E8); anything else is never kept; a half-day the schedule
  does not reach yet waits ``pending_days``.
* Objection (G3): an agent whose objection is pending or upheld is not processed.
* Retention (F2) and legal holds (F4): a record is kept until 31 days (by default) after the end of
  its month, longer only under an unexpired hold.

Ingestion, reports, review cases, the portal, exports and retention all ask here; none derives
these rules again. A scope is loaded once per command or request and fails closed: an agent it
does not know is out of scope.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from loyaute.policy.register import Register
from loyaute.store.cases import Hold

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

KEPT = ("telework", "on_site")
"""Fates of a half-day that is stored (telework: the check; on_site: the validity study)."""
DROP_RULES = (
    "objection",
    "no_t0",
    "before_t0",
    "out_of_scope",
    "not_eligible",
    "pending_expired",
)


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


def common_t0(register: Register) -> date | None:
    """The latest of the committee opinion, the DPIA approval and the délibération's effect."""
    p = register.purpose
    dates = [p.committee_opinion_on, p.dpia_approved_on, p.deliberation_effective_on]
    if not all(dates):
        return None
    return max(date.fromisoformat(d) for d in dates)


def agent_t0(register: Register, notice_on: str | None) -> date | None:
    """Rule A5: the latest of the agent's notice date and the common dates; None without one."""
    common = common_t0(register)
    if common is None or not notice_on:
        return None
    return max(common, date.fromisoformat(notice_on))


def is_eligible(register: Register, job_family: str) -> bool:
    """Rule B5: the family is declared eligible (compared without regard to case)."""
    wanted = job_family.casefold()
    return any(f.casefold() == wanted for f in register.purpose.eligible_job_families)


def study_start(register: Register) -> date | None:
    """The day the validity study may keep on-site half-days from (E8), or None when it is off."""
    study = register.validity_study
    if not (study.enabled and study.registered_on):
        return None
    return date.fromisoformat(study.registered_on)


@dataclass(frozen=True)
class AgentScope:
    """What scope needs to know about one agent."""

    agent_id: str
    service: str
    job_family: str
    t0: date | None
    eligible: bool
    objecting: bool


@dataclass
class Scope:
    """The facts of scope for one command or request, loaded once."""

    today: date
    horizon: date
    """The oldest day still kept (F2)."""
    retention_days: int
    pending_days: int
    study_since: date | None
    agents: dict[str, AgentScope]
    holds: list[Hold] = field(default_factory=list)

    def of(self, agent_id: str) -> AgentScope | None:
        """One agent's scope (None: unknown, so out of scope)."""
        return self.agents.get(agent_id)

    def fate(self, agent_id: str, day: date, kind: str | None) -> str:
        """A half-day's fate: ``telework`` or ``on_site`` (kept), ``pending``, or a drop rule."""
        agent = self.agents.get(agent_id)
        if agent is None:
            return "out_of_scope"
        if agent.objecting:
            return "objection"
        if agent.t0 is None:
            return "no_t0"
        if day < agent.t0:
            return "before_t0"
        if kind is None:
            if day < self.today - timedelta(days=self.pending_days):
                return "pending_expired"
            return "pending"
        if kind == "telework":
            return "telework" if agent.eligible else "not_eligible"
        if kind == "on_site" and self.study_since is not None and day >= self.study_since:
            return "on_site"
        return "out_of_scope"

    def counts(self, agent_id: str, day: date) -> bool:
        """True when a telework half-day of the agent on ``day`` is in scope of the check."""
        return self.fate(agent_id, day, "telework") == "telework"

    def expired(self, day: date) -> bool:
        """True when records of ``day`` are past retention (F2), holds aside."""
        return self.today >= expires_on(day, self.retention_days)

    def held(self, pseudonym: str, day: date) -> bool:
        """True when an unexpired hold covers the pseudonym's records of ``day`` (F4)."""
        text = day.isoformat()
        return any(h.agent == pseudonym and h.day_from <= text <= h.day_to for h in self.holds)

    def held_on(self, day: date) -> set[str]:
        """Pseudonyms whose records of ``day`` are under an unexpired hold (F4)."""
        text = day.isoformat()
        return {h.agent for h in self.holds if h.day_from <= text <= h.day_to}

    def kept(self, pseudonym: str, day: date) -> bool:
        """True when a record of ``day`` is still kept: within retention, or held."""
        return not self.expired(day) or self.held(pseudonym, day)


def load(ws: Workspace, agent_ids: Iterable[str] | None = None) -> Scope:
    """The scope of every agent (or of the given ones)."""
    register = ws.register
    today = ws.today()
    objecting = ws.db.individual.objecting()
    if agent_ids is None:
        directory = ws.db.agents.everyone()  # departed agents' data is kept until retention
        notices = ws.db.notices.all()
    else:
        found = {a: ws.db.agents.get(a) for a in set(agent_ids)}
        directory = {a: agent for a, agent in found.items() if agent is not None}
        notices = {a: n for a in directory if (n := ws.db.notices.of(a)) is not None}
    agents = {
        a: AgentScope(
            a,
            agent.service,
            agent.job_family,
            agent_t0(register, notices.get(a)),
            is_eligible(register, agent.job_family),
            a in objecting,
        )
        for a, agent in directory.items()
    }
    retention = register.purpose.retention_after_month_end_days
    return Scope(
        today=today,
        horizon=first_kept_day(retention, today),
        retention_days=retention,
        pending_days=ws.settings.schedule.pending_days,
        study_since=study_start(register),
        agents=agents,
        holds=ws.db.cases.holds(today),
    )
