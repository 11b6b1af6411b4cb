"""Rendering pages: the request's language, the role's navigation, the CSRF token, the banner of
a configuration problem (shown to the DPO and the operator only)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from loyaute import labels
from loyaute.errors import UsageError
from loyaute.i18n import lang, tr
from loyaute.policy.roles import Role
from loyaute.web.context import Ctx

NAV: dict[str, list[tuple[str, str, str]]] = {
    Role.AGENT: [
        ("/me", "Mes demi-journées", "My half-days"),
        ("/notice", "Notice d'information", "Information notice"),
    ],
    Role.MANAGER: [("/manager", "Mon service", "My service"), ("/notice", "Notice", "Notice")],
    Role.HR_REVIEWER: [
        ("/hr", "Dossiers d'examen", "Review cases"),
        ("/reports/presence", "Agrégats", "Aggregates"),
        ("/reports/validity", "Étude de validité", "Validity study"),
    ],
    Role.DPO: [
        ("/dpo", "Tableau de bord DPO", "DPO console"),
        ("/dpo/audit", "Journal des accès", "Access log"),
        ("/dpo/accounts", "Comptes", "Accounts"),
        ("/reports/presence", "Agrégats", "Aggregates"),
        ("/reports/validity", "Étude de validité", "Validity study"),
    ],
    Role.STAFF_REP: [
        ("/staff", "Représentants du personnel", "Staff representatives"),
        ("/reports/presence", "Agrégats", "Aggregates"),
        ("/reports/validity", "Étude de validité", "Validity study"),
    ],
    Role.OPERATOR: [("/operator", "Exploitation", "Operations")],
}
BANNER_ROLES = frozenset({Role.DPO, Role.OPERATOR})
"""Who is told that the configuration on disk does not parse (others never see it)."""

CaseId = Annotated[int, Path(ge=1, le=2_147_483_647)]
"""A case number in a URL: anything else is a 422, never an error deeper down."""


def templates() -> Environment:
    """The Jinja2 environment of the web pages (autoescaped), with the filters that show codes,
    numbers, dates and weeks as a person reads them in the request's language (``labels``)."""
    env = Environment(
        loader=PackageLoader("loyaute.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the package: no stat() per page
    )
    env.filters.update(labels.jinja_filters())
    env.globals.update(
        alert_text=labels.alert,
        register_words=labels.register_words,
        fate_text=lambda code: labels.label("fate", code),
        reason_text=_reason_text,
        colon=lambda: labels.pick((" :", ":")),  # French puts a space before a colon
        pager=lambda query, page: urlencode({k: v for k, v in query.items() if v} | {"page": page}),
    )
    return env


def _reason_text(code: str) -> str:
    """Why a line was set aside, in a sentence (the collector's own tables)."""
    from loyaute.ingest.collect.metrics import skip_reason_text  # noqa: PLC0415

    return skip_reason_text(code, lang())


def render(ctx: Ctx, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A page in the request's language, with navigation and CSRF token."""
    env = ctx.request.app.state.env
    account = ctx.account
    banner = ctx.config_problem if account is not None and account.role in BANNER_ROLES else ""
    html = env.get_template(template).render(
        _=ctx.t,
        lang=ctx.lang,
        account=account,
        nav=NAV.get(account.role, []) if account else [],
        csrf=ctx.session.csrf if ctx.session else "",
        path=ctx.request.url.path,
        config_problem=banner,
        **values,
    )
    return HTMLResponse(html, status_code=status)


def back(path: str, note: str = "") -> RedirectResponse:
    """Redirect after a POST (the note is a fixed code, never personal data)."""
    return RedirectResponse(path + (f"?done={note}" if note else ""), status_code=303)


def day_of(text: str) -> date:
    """A date typed in a form; a wrong one is a 400 that does not repeat what was typed."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            tr("date invalide (AAAA-MM-JJ attendue)", "invalid date (YYYY-MM-DD expected)")
        ) from None


def month_of(text: str | None, today: date) -> date:
    """The first day of a ``YYYY-MM`` month (this month when missing or wrong)."""
    try:
        return date.fromisoformat((text or "") + "-01")
    except ValueError:
        return today.replace(day=1)
