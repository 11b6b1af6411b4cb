"""What a French page must not show, and every page of every role, shared by the in-process
French-text test (``test_french.py``) and the browser sweep (``test_pages_sweep.py``)."""

from __future__ import annotations

import re

from tests.web.support import Scenario

PAGES: dict[str, list[str]] = {
    "agent": ["/me", "/me?month={previous_month}", "/notice"],
    "manager": ["/manager", "/manager/statement", "/reports/presence", "/notice"],
    "hr_reviewer": [
        "/hr",
        "/hr/cases/{case_a}",
        "/reports/presence",
        "/reports/presence?by=job_family&period=month",
        "/reports/validity",
        "/notice",
    ],
    "dpo": [
        "/dpo",
        "/dpo/audit",
        "/dpo/audit?action=case_view&page=1",
        "/dpo/accounts",
        "/reports/presence?by=job_family&period=week",
        "/reports/validity",
        "/docs/register",
        "/docs/dpia",
        "/notice",
    ],
    "staff_rep": ["/staff", "/reports/presence", "/reports/validity", "/docs/register"],
    "operator": ["/operator", "/notice"],
    "anonymous": ["/login", "/page-qui-n-existe-pas"],
}
"""Every GET page of each role (with the scenario's case and month filled in)."""

REGISTER_CODES = ("public_task", "legal_obligation", "crosscheck", "declarative", "medium")
"""Codes of the register (policy/wording.py gives their words): never shown on a French page or
document."""

KNOWN_CODES = (
    # report columns and metadata keys
    "group",
    "period",
    "telework_half_days",
    "with_trace",
    "without_trace",
    "share_with_trace",
    "job_family",
    "on_site_half_days",
    "coverage",
    "reliable",
    "suppressed",
    "k_min",
    "settle_days",
    "awaiting_data",
    "suppressed_rows",
    "family_weeks_left_out",
    # statuses, half-days, kinds, declarations, categories
    "no_trace",
    "out_of_scope",
    "disputed",
    "on_site",
    "telework",
    "home_visit",
    "system",
    "phone",
    "meeting",
    "AM",
    "PM",
    "True",
    "False",
    # roles and audit actions
    "hr_reviewer",
    "staff_rep",
    "operator",
    "case_view",
    "case_open",
    "own_view",
    "audit_show",
    "report_presence",
    "report_validity",
    "statement_view",
    "sign_in",
    "backfill_refused",
    "notice_recorded",
    "rescope",
    "bulk_views",
    "reidentification_outside_case",
    "repeated_refusals",
    # fates and skip reasons
    "pending_expired",
    "not_eligible",
    "before_t0",
    "not_a_person",
    "unmapped_app",
)
"""Codes that must never show in the visible French text (as whole words)."""

ISO_WEEK = re.compile(r"\b\d{4}-W\d{2}\b")
UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\+00:00|\bUTC\b")
DOT_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")
ISO_MONTH = re.compile(r"(?<![\w-])(?<!n° )\d{4}-\d{2}(?![\w-])")
ISO_DAY = re.compile(r"(?<![\w-])\d{4}-\d{2}-\d{2}(?![\w-])")


def fill(path: str, s: Scenario, previous_month: str) -> str:
    """A page's concrete URL."""
    return path.replace("{case_a}", str(s.case_a)).replace("{previous_month}", previous_month)


def problems(text: str, path: str) -> list[str]:
    """What a French page shows that it must not: raw codes, English column names, ISO weeks or
    months, UTC times, decimals with a dot."""
    found = []
    codes = (*KNOWN_CODES, *REGISTER_CODES)
    for code in codes:
        if re.search(rf"(?<![\w\-/.@']){re.escape(code)}(?![\w\-/.@'])", text):
            found.append(f"raw code {code!r}")
    for name, pattern in (
        ("ISO week", ISO_WEEK),
        ("UTC time", UTC_TIME),
        ("decimal with a dot", DOT_DECIMAL),
        ("ISO month", ISO_MONTH),
        ("ISO day", ISO_DAY),
    ):
        for match in pattern.finditer(text):
            start = max(0, match.start() - 40)
            found.append(f"{name} {match.group()!r} in …{text[start : match.end() + 20]}…")
    return found
