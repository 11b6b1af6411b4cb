"""Roles, actions and purposes, and the one permission table the CLI and the web both read (E5).

A role may perform an action only when the table says so; the one door to individual data
(``policy/access.py``) adds what depends on the case at hand (the agent's own data, the reviewer
of an open case, the gates). Web routes declare the action they perform and admit exactly the
roles this table gives it; CLI commands do the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Who someone is in loyaute (rule E5)."""

    OPERATOR = "operator"
    DPO = "dpo"
    HR_REVIEWER = "hr_reviewer"
    MANAGER = "manager"
    AGENT = "agent"
    STAFF_REP = "staff_rep"
    SYSTEM = "system"
    """loyaute itself (automatic purge), or a command run at the shell without an account: OS
    access to the workspace is the root of trust (docs/deployment.md). Never an account role."""


ACCOUNT_ROLES: tuple[Role, ...] = tuple(r for r in Role if r is not Role.SYSTEM)


class Purpose(StrEnum):
    """Why data is read: each purpose has its own gates and recipients."""

    TELEWORK_CHECK = "telework_check"
    VALIDITY_STUDY = "validity_study"
    RIGHTS = "rights"  # the agent's own rights (access, rectification, objection)


class Action(StrEnum):
    """What someone does."""

    # the agent's own data (E6, D2–D4, G1–G3)
    PORTAL = "portal"  # the agent's portal: their calendar and what they can do there
    OWN_VIEW = "own_view"
    OWN_EXPORT = "own_export"
    DECLARE = "declare"
    ANNOTATE = "annotate"
    DISPUTE = "dispute"
    CASE_ANSWER = "case_answer"
    CASE_EXPORT = "case_export"
    OBJECT = "objection"
    # review cases (D5, D6, E4)
    CASE_OPEN = "case_open"
    CASE_VIEW = "case_view"
    CASE_CLOSE = "case_close"
    RECORDS_VIEW = "records_view"
    DISPUTE_RESOLVE = "dispute_resolved"
    # rights handled by the DPO (G1–G3)
    ACCESS_EXPORT = "access_export"
    ACCESS_REQUEST = "access_request"
    OBJECTION_DECIDE = "objection_decided"
    # managers' monthly statements (D2)
    STATEMENT_VIEW = "statement_view"
    STATEMENT_VALIDATE = "statement_validate"
    # aggregates (E2, E3)
    REPORT_PRESENCE = "report_presence"
    REPORT_VALIDITY = "report_validity"
    REPORT_TRACES = "report_traces"  # trace columns of aggregates in declarative mode (D2)
    REPORT_AUDIT = "report_audit"  # the protection reached by what was published (E7)
    # oversight
    AUDIT_READ = "audit_show"
    AUDIT_VERIFY = "audit_verify"
    AUDIT_STATISTICS = "audit_statistics"
    ALERTS_READ = "alerts_read"
    DOCS_READ = "docs_read"
    NOTICE_READ = "notice_read"
    PURGE = "purge"
    ACCOUNTS_MANAGE = "accounts_manage"
    # operations (no activity data, E5)
    INGEST = "ingest"
    INGEST_HEALTH = "ingest_health"
    PARSE = "parse"


A = Action
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.AGENT: frozenset(
        {
            A.PORTAL,
            A.OWN_VIEW,
            A.OWN_EXPORT,
            A.DECLARE,
            A.ANNOTATE,
            A.DISPUTE,
            A.CASE_ANSWER,
            A.CASE_EXPORT,
            A.OBJECT,
            A.NOTICE_READ,
        }
    ),
    Role.MANAGER: frozenset(
        {A.OWN_VIEW, A.STATEMENT_VIEW, A.STATEMENT_VALIDATE, A.REPORT_PRESENCE, A.NOTICE_READ}
    ),
    Role.HR_REVIEWER: frozenset(
        {
            A.CASE_OPEN,
            A.CASE_VIEW,
            A.CASE_CLOSE,
            A.RECORDS_VIEW,
            A.DISPUTE_RESOLVE,
            A.REPORT_PRESENCE,
            A.REPORT_VALIDITY,
            A.NOTICE_READ,
        }
    ),
    Role.DPO: frozenset(
        {
            A.ACCESS_EXPORT,
            A.ACCESS_REQUEST,
            A.OBJECTION_DECIDE,
            A.DISPUTE_RESOLVE,
            A.REPORT_PRESENCE,
            A.REPORT_VALIDITY,
            A.REPORT_TRACES,
            A.REPORT_AUDIT,
            A.AUDIT_READ,
            A.AUDIT_VERIFY,
            A.AUDIT_STATISTICS,
            A.ALERTS_READ,
            A.DOCS_READ,
            A.NOTICE_READ,
            A.PURGE,
            A.ACCOUNTS_MANAGE,
        }
    ),
    Role.STAFF_REP: frozenset(
        {
            A.REPORT_PRESENCE,
            A.REPORT_VALIDITY,
            A.REPORT_TRACES,
            A.REPORT_AUDIT,
            A.AUDIT_VERIFY,
            A.AUDIT_STATISTICS,
            A.DOCS_READ,
            A.NOTICE_READ,
        }
    ),
    Role.OPERATOR: frozenset({A.INGEST, A.INGEST_HEALTH, A.PARSE, A.AUDIT_VERIFY, A.NOTICE_READ}),
    Role.SYSTEM: frozenset(
        {
            A.INGEST,
            A.PARSE,
            A.PURGE,
            A.REPORT_PRESENCE,
            A.REPORT_VALIDITY,
            A.REPORT_TRACES,
            A.REPORT_AUDIT,
            A.DOCS_READ,
            A.ACCOUNTS_MANAGE,
        }
    ),
}
"""Role → the actions it may perform. Nothing else grants an action."""

INDIVIDUAL_ACTIONS: frozenset[Action] = frozenset(
    {
        A.CASE_OPEN,
        A.CASE_VIEW,
        A.CASE_CLOSE,
        A.RECORDS_VIEW,
        A.ACCESS_EXPORT,
        A.STATEMENT_VIEW,
        A.DISPUTE_RESOLVE,
        A.OBJECTION_DECIDE,
    }
)
"""Reads or changes of someone else's data: counted for the bulk-view alert (H2) and the staff
representatives' statistics."""

OWN_ACTIONS: frozenset[Action] = frozenset(
    {
        A.OWN_VIEW,
        A.OWN_EXPORT,
        A.DECLARE,
        A.ANNOTATE,
        A.DISPUTE,
        A.CASE_ANSWER,
        A.CASE_EXPORT,
        A.OBJECT,
    }
)
"""Actions on one's own data only (E6)."""


def roles_for(action: Action) -> frozenset[Role]:
    """The account roles the table gives an action (what a web route admits)."""
    return frozenset(r for r in ACCOUNT_ROLES if action in PERMISSIONS[r])


def may(role: Role | str, action: Action) -> bool:
    """True when the table gives ``action`` to ``role``."""
    try:
        return action in PERMISSIONS[Role(role)]
    except ValueError:
        return False


@dataclass(frozen=True)
class Identity:
    """An authenticated person (or loyaute itself): the only way an action names its author
    (E9: never a name taken from an option or the environment)."""

    login: str
    role: Role
    agent_id: str = ""

    def may(self, action: Action) -> bool:
        """True when the permission table gives the action to this role."""
        return may(self.role, action)


ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.OPERATOR: ("exploitant (DSI)", "IT operator"),
    Role.DPO: ("délégué à la protection des données", "data protection officer"),
    Role.HR_REVIEWER: ("relecteur RH", "HR reviewer"),
    Role.MANAGER: ("responsable", "manager"),
    Role.AGENT: ("agent", "agent"),
    Role.STAFF_REP: ("représentant du personnel", "staff representative"),
    Role.SYSTEM: ("système", "system"),
}
