"""Server-rendered pages, one home per role. Thin handlers: parse, call policy/reports, render."""

from __future__ import annotations

import io
import pathlib
import tempfile
import zipfile
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from loyaute.accounts import authenticate, close_session
from loyaute.errors import UsageError
from loyaute.i18n import tr
from loyaute.policy import gates as gates_mod
from loyaute.policy.access import AccessDenied
from loyaute.policy.cases import answer_case, close_case, open_case, show_case
from loyaute.policy.documents import KINDS, render_html, render_markdown
from loyaute.policy.retention import purge
from loyaute.policy.rights import (
    DECLARATION_KINDS,
    access_request_clocks,
    agent_side,
    annotate,
    declare,
    open_dispute,
    validate_statement,
)
from loyaute.reports.access_export import NO_PROOF_EN, NO_PROOF_FR, write_export
from loyaute.reports.agent_view import agent_records
from loyaute.reports.presence import PRESENCE_COLUMNS
from loyaute.reports.runner import managed_services, run_presence, run_validity
from loyaute.reports.validity import VALIDITY_COLUMNS
from loyaute.web import charts
from loyaute.web.app import HOME_OF_ROLE, guard
from loyaute.web.context import SESSION_COOKIE, Ctx, start_session

router = APIRouter()

NAV = {
    "agent": [
        ("/me", "Mes demi-journées", "My half-days"),
        ("/notice", "Notice d'information", "Information notice"),
    ],
    "manager": [("/manager", "Mon service", "My service"), ("/notice", "Notice", "Notice")],
    "hr_reviewer": [
        ("/hr", "Dossiers d'examen", "Review cases"),
        ("/reports/presence", "Agrégats", "Aggregates"),
        ("/reports/validity", "Étude de validité", "Validity study"),
    ],
    "dpo": [
        ("/dpo", "Tableau de bord DPO", "DPO console"),
        ("/dpo/audit", "Journal des accès", "Access log"),
        ("/reports/presence", "Agrégats", "Aggregates"),
        ("/reports/validity", "Étude de validité", "Validity study"),
    ],
    "staff_rep": [
        ("/staff", "Représentants du personnel", "Staff representatives"),
        ("/reports/presence", "Agrégats", "Aggregates"),
        ("/reports/validity", "Étude de validité", "Validity study"),
    ],
    "operator": [("/operator", "Exploitation", "Operations")],
}


def render(ctx: Ctx, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A page in the request's language, with navigation and CSRF token."""
    env = ctx.request.app.state.env
    account = ctx.account
    html = env.get_template(template).render(
        _=ctx.t,
        lang=ctx.lang,
        account=account,
        nav=NAV.get(account.role, []) if account else [],
        csrf=ctx.session.csrf if ctx.session else "",
        path=ctx.request.url.path,
        **values,
    )
    return HTMLResponse(html, status_code=status)


def check_csrf(ctx: Ctx, token: str) -> None:
    """Refuse a form without the session's CSRF token."""
    if ctx.session is None or not token or token != ctx.session.csrf:
        raise AccessDenied("jeton CSRF invalide / invalid CSRF token")


def back(path: str, note: str = "") -> RedirectResponse:
    """Redirect after a POST (the note is a fixed code, never personal data)."""
    return RedirectResponse(path + (f"?done={note}" if note else ""), status_code=303)


@router.get("/healthz", dependencies=[guard()])
def healthz() -> dict[str, str]:
    """Ready."""
    return {"status": "ok"}


@router.get("/", response_class=HTMLResponse)
def home(ctx: Ctx = guard()) -> Response:
    """The role's home, or the sign-in page."""
    if ctx.account is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(HOME_OF_ROLE[ctx.account.role], status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(ctx: Ctx = guard()) -> Response:
    """The sign-in form."""
    return render(ctx, "login.html", error="")


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    ctx: Ctx = guard(),
    login: str = Form(..., max_length=200),
    password: str = Form(..., max_length=500),
) -> Response:
    """Sign in; a wrong password and an unknown login get the same answer."""
    client = ctx.request.client.host if ctx.request.client else "?"
    if not ctx.request.app.state.limiter.allow(client, login):
        return render(
            ctx,
            "login.html",
            status=429,
            error=ctx.t(
                "Trop de tentatives : réessayez dans une minute.",
                "Too many attempts: try again in a minute.",
            ),
        )
    account = authenticate(ctx.ws.state, ctx.ws.clock, login, password)
    if account is None:
        return render(
            ctx,
            "login.html",
            status=401,
            error=ctx.t(
                "Identifiant ou mot de passe incorrect, ou compte verrouillé.",
                "Wrong login or password, or account locked.",
            ),
        )
    response = RedirectResponse(HOME_OF_ROLE[account.role], status_code=303)
    start_session(ctx, account, response)
    return response


@router.post("/logout", response_class=HTMLResponse)
def logout(ctx: Ctx = guard(*HOME_OF_ROLE), csrf: str = Form("")) -> Response:
    """Sign out."""
    check_csrf(ctx, csrf)
    close_session(ctx.ws.state, ctx.token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- agent ----------------------------------------------------------------------------------------


CaseId = Annotated[int, Path(ge=1, le=2_147_483_647)]
"""A case number in a URL: anything else is a 422, never an error deeper down."""


def day_of(text: str) -> date:
    """A date typed in a form; a wrong one is a 400 that does not repeat what was typed."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            tr("date invalide (AAAA-MM-JJ attendue)", "invalid date (YYYY-MM-DD expected)")
        ) from None


def _month(text: str | None, today: date) -> date:
    try:
        return date.fromisoformat((text or "") + "-01")
    except ValueError:
        return today.replace(day=1)


@router.get("/me", response_class=HTMLResponse)
def agent_home(ctx: Ctx = guard("agent"), month: str | None = None) -> Response:
    """E6: the agent's calendar — exactly what a reviewer could see — and what they can do."""
    assert ctx.account is not None
    agent_id = ctx.account.agent_id
    today = ctx.ws.clock.now().astimezone(ctx.ws.settings.zone).date()
    first = _month(month, today)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    records = agent_records(ctx.ws, agent_id, first, last)
    days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    cells = {(r.date, r.half_day): r.status for r in records}
    side = agent_side(ctx.ws, agent_id)
    myself = {ctx.account.login, agent_id}
    viewers = [e for e in ctx.ws.audit.entries(agent_id) if e.actor not in myself][-100:]
    previous = (first - timedelta(days=1)).strftime("%Y-%m")
    following = (last + timedelta(days=1)).strftime("%Y-%m")
    return render(
        ctx,
        "agent.html",
        month=first.strftime("%Y-%m"),
        previous=previous,
        following=following,
        records=records,
        chart=charts.calendar(
            days, cells, ctx.t("Calendrier des demi-journées", "Half-day calendar")
        ),
        labels=_agent_labels(ctx),
        kind_options=_kind_options(ctx),
        side=side,
        viewers=list(reversed(viewers)),
        statement=ctx.t(NO_PROOF_FR, NO_PROOF_EN),
        done=ctx.request.query_params.get("done", ""),
    )


KIND_LABELS = {
    "system": ("sur le système", "on the system"),
    "phone": ("au téléphone", "on the phone"),
    "home_visit": ("en visite à domicile", "on a home visit"),
    "meeting": ("en réunion", "in a meeting"),
    "field": ("sur le terrain", "in the field"),
    "other": ("autrement", "otherwise"),
}


def _agent_labels(ctx: Ctx) -> dict[str, Any]:
    """The calendar's words, translated once per page rather than once per row."""
    t = ctx.t
    return {
        "half": {"AM": t("matin", "morning"), "PM": t("après-midi", "afternoon")},
        "scheduled": {
            "telework": t("télétravail", "telework"),
            "on_site": t("sur site", "on site"),
        },
        "status": {
            "trace": t("trace enregistrée", "trace recorded"),
            "no_trace": t("aucune trace numérique enregistrée", "no digital trace recorded"),
            "disputed": t("contesté (gelé)", "disputed (frozen)"),
            "out_of_scope": t("hors du champ", "out of scope"),
        },
        "act": t("Déclarer, annoter, contester", "Declare, annotate, contest"),
        "worked": t("J'ai travaillé", "I worked"),
        "note": t("Précision (facultatif)", "Note (optional)"),
        "declare": t("Déclarer", "Declare"),
        "annotation": t("Annotation", "Annotation"),
        "annotate": t("Annoter", "Annotate"),
        "reason": t("Motif de la contestation", "Reason for contesting"),
        "contest": t("Contester", "Contest"),
    }


def _kind_options(ctx: Ctx) -> Markup:
    """The ``<option>`` list of declaration kinds (D2), built once per page."""
    return Markup("").join(
        Markup('<option value="{}">{}</option>').format(k, ctx.t(*KIND_LABELS[k]))
        for k in DECLARATION_KINDS
    )


@router.post("/me/declare", response_class=HTMLResponse)
def agent_declare(
    ctx: Ctx = guard("agent"),
    csrf: str = Form(""),
    day: str = Form(...),
    half: str = Form(...),
    kind: str = Form(...),
    note: str = Form("", max_length=500),
) -> Response:
    """D2: declare a telework half-day."""
    check_csrf(ctx, csrf)
    assert ctx.account is not None
    declare(ctx.ws, ctx.account.agent_id, day_of(day), half, kind, note)
    return back("/me", "declared")


@router.post("/me/annotate", response_class=HTMLResponse)
def agent_annotate(
    ctx: Ctx = guard("agent"),
    csrf: str = Form(""),
    day: str = Form(...),
    half: str = Form(...),
    text: str = Form(..., max_length=1000),
) -> Response:
    """D3: annotate a half-day."""
    check_csrf(ctx, csrf)
    assert ctx.account is not None
    annotate(ctx.ws, ctx.account.agent_id, day_of(day), half, text)
    return back("/me", "annotated")


@router.post("/me/dispute", response_class=HTMLResponse)
def agent_dispute(
    ctx: Ctx = guard("agent"),
    csrf: str = Form(""),
    day: str = Form(...),
    half: str = Form(...),
    reason: str = Form(..., max_length=1000),
) -> Response:
    """D4: contest a record; it is frozen until a person resolves it."""
    check_csrf(ctx, csrf)
    assert ctx.account is not None
    open_dispute(ctx.ws, ctx.account.agent_id, day_of(day), half, reason)
    return back("/me", "disputed")


@router.post("/me/cases/{case_id}/answer", response_class=HTMLResponse)
def agent_answer(
    case_id: CaseId,
    ctx: Ctx = guard("agent"),
    csrf: str = Form(""),
    text: str = Form(..., max_length=4000),
) -> Response:
    """D5: answer a review case before any decision."""
    check_csrf(ctx, csrf)
    assert ctx.account is not None
    answer_case(ctx.ws, case_id, ctx.account.agent_id, text)
    return back("/me", "answered")


@router.get(
    "/me/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "the four files"}},
)
def agent_export(ctx: Ctx = guard("agent")) -> Response:
    """G2: the access export, as a zip of the four files."""
    assert ctx.account is not None
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "export"
        write_export(ctx.ws, ctx.account.agent_id, out, actor=ctx.account.login, role="agent")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(out.iterdir()):
                z.write(f, f.name)
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="mes-donnees-loyaute.zip"'},
    )


@router.get("/notice", response_class=HTMLResponse)
def notice(ctx: Ctx = guard(*HOME_OF_ROLE)) -> Response:
    """The information notice, for everyone."""
    return _document(ctx, "notice")


def _document(ctx: Ctx, kind: str) -> Response:
    markdown = render_markdown(ctx.ws, kind, ctx.lang)
    title = markdown.splitlines()[0].lstrip("# ")
    return HTMLResponse(render_html(markdown, title, ctx.lang, stylesheet="/static/document.css"))


@router.get("/docs/{kind}", response_class=HTMLResponse)
def documents(ctx: Ctx = guard("dpo", "staff_rep"), kind: str = "register") -> Response:
    """Register entry and DPIA (DPO and staff representatives)."""
    if kind not in KINDS:
        return render(
            ctx,
            "error.html",
            status=404,
            status_code=404,
            message="document inconnu / unknown document",
        )
    return _document(ctx, kind)


# --- aggregates -------------------------------------------------------------------------------------


def _presence_view(ctx: Ctx, by: str, period: str) -> dict[str, Any]:
    assert ctx.account is not None
    report = run_presence(
        ctx.ws,
        ctx.account.login,
        ctx.account.role,
        by=by,
        period=period,
        manager_id=ctx.account.agent_id or None,
    )
    groups = sorted({r["group"] for r in report.rows})
    periods = sorted({r["period"] for r in report.rows})
    values: dict[tuple[str, str], Any] = {}
    for r in report.rows:
        if r["suppressed"]:
            values[(r["group"], r["period"])] = "suppressed"
        elif r["share_with_trace"] != "":
            values[(r["group"], r["period"])] = r["share_with_trace"]
    chart = (
        charts.heatmap(
            groups,
            periods,
            values,
            ctx.t(
                "Part des demi-journées avec trace, par groupe et période",
                "Share of half-days with a trace, by group and period",
            ),
        )
        if values
        else ""
    )
    return {
        "report": report,
        "columns": PRESENCE_COLUMNS,
        "chart": chart,
        "by": by,
        "period": period,
    }


@router.get("/reports/presence", response_class=HTMLResponse)
def presence_page(
    ctx: Ctx = guard("dpo", "hr_reviewer", "staff_rep", "manager"),
    by: str = "service",
    period: str = "week",
) -> Response:
    """E2/E3: aggregated presence with a heatmap; suppressed cells drawn as such."""
    if by not in ("service", "job_family") or period not in ("week", "month"):
        by, period = "service", "week"
    assert ctx.account is not None
    if ctx.account.role == "manager":
        by = "service"
    return render(ctx, "presence.html", **_presence_view(ctx, by, period))


@router.get("/reports/validity", response_class=HTMLResponse)
def validity_page(ctx: Ctx = guard("dpo", "hr_reviewer", "staff_rep")) -> Response:
    """The validity study: coverage by job family against the reliability threshold."""
    assert ctx.account is not None
    report = run_validity(ctx.ws, ctx.account.login, ctx.account.role)
    chart = charts.coverage(
        report.rows,
        float(report.parameters["threshold"]),
        ctx.t("Couverture par famille de métiers", "Coverage by job family"),
    )
    return render(ctx, "validity.html", report=report, columns=VALIDITY_COLUMNS, chart=chart)


# --- manager ---------------------------------------------------------------------------------------


@router.get("/manager", response_class=HTMLResponse)
def manager_home(ctx: Ctx = guard("manager"), month: str | None = None) -> Response:
    """Aggregates of the managed service; the monthly statement of declarations (no traces)."""
    assert ctx.account is not None
    today = ctx.ws.clock.now().astimezone(ctx.ws.settings.zone).date()
    first = _month(month, today)
    view = _presence_view(ctx, "service", "week")
    validated = ctx.ws.state.execute(
        "SELECT validated_at FROM statements WHERE manager_id = ? AND month = ?",
        (ctx.account.agent_id, first.strftime("%Y-%m")),
    ).fetchone()
    return render(
        ctx,
        "manager.html",
        services=sorted(managed_services(ctx.ws, ctx.account.agent_id)),
        month=first.strftime("%Y-%m"),
        validated=validated[0] if validated else "",
        **view,
    )


@router.post("/manager/statement", response_class=HTMLResponse)
def manager_statement(
    ctx: Ctx = guard("manager"), csrf: str = Form(""), month: str = Form(...)
) -> Response:
    """D2: show and validate the month's statement of declarations."""
    check_csrf(ctx, csrf)
    assert ctx.account is not None
    rows = validate_statement(ctx.ws, ctx.account.agent_id, month)
    return render(ctx, "statement.html", rows=rows, month=month)


# --- HR reviewer -------------------------------------------------------------------------------


@router.get("/hr", response_class=HTMLResponse)
def hr_home(ctx: Ctx = guard("hr_reviewer")) -> Response:
    """The reviewer's cases and the form to open one."""
    assert ctx.account is not None
    cases = [
        dict(r)
        for r in ctx.ws.state.execute(
            "SELECT id, reason, day_from, day_to, opened_at, closed_at, outcome FROM cases WHERE reviewer = ? ORDER BY id DESC",
            (ctx.account.login,),
        )
    ]
    return render(
        ctx,
        "hr.html",
        cases=cases,
        mode=ctx.ws.register.purpose.mode,
        done=ctx.request.query_params.get("done", ""),
    )


@router.post("/hr/cases", response_class=HTMLResponse)
def hr_open_case(
    ctx: Ctx = guard("hr_reviewer"),
    csrf: str = Form(""),
    agent_id: str = Form(..., max_length=100),
    reason: str = Form(..., max_length=2000),
    day_from: str = Form(...),
    day_to: str = Form(...),
) -> Response:
    """D5: open a case (the reviewer is the signed-in person)."""
    check_csrf(ctx, csrf)
    assert ctx.account is not None
    number = open_case(
        ctx.ws,
        ctx.account.login,
        agent_id,
        ctx.account.login,
        reason,
        day_of(day_from),
        day_of(day_to),
    )
    return RedirectResponse(f"/hr/cases/{number}", status_code=303)


@router.get("/hr/cases/{case_id}", response_class=HTMLResponse)
def hr_case(case_id: CaseId, ctx: Ctx = guard("hr_reviewer")) -> Response:
    """E4: the case's period, re-identified, for its reviewer only; audited."""
    assert ctx.account is not None
    view = show_case(ctx.ws, case_id, ctx.account.login)
    days: list[str] = []
    lo, hi = date.fromisoformat(view.case["day_from"]), date.fromisoformat(view.case["day_to"])
    while lo <= hi:
        days.append(lo.isoformat())
        lo += timedelta(days=1)
    chart = charts.calendar(
        days,
        {(r.date, r.half_day): r.status for r in view.records},
        ctx.t("Demi-journées de la période", "Half-days of the period"),
    )
    return render(
        ctx, "case.html", view=view, chart=chart, statement=ctx.t(NO_PROOF_FR, NO_PROOF_EN)
    )


@router.post("/hr/cases/{case_id}/close", response_class=HTMLResponse)
def hr_close_case(
    case_id: CaseId,
    ctx: Ctx = guard("hr_reviewer"),
    csrf: str = Form(""),
    outcome: str = Form(..., max_length=4000),
) -> Response:
    """D6: record the human decision with its evidence bundle."""
    check_csrf(ctx, csrf)
    assert ctx.account is not None
    close_case(ctx.ws, case_id, ctx.account.login, outcome)
    return back("/hr", "closed")


# --- DPO ------------------------------------------------------------------------------------------


@router.get("/dpo", response_class=HTMLResponse)
def dpo_home(ctx: Ctx = guard("dpo")) -> Response:
    """Gates, fingerprint, documents, alerts, access requests, holds."""
    ws = ctx.ws
    missing = ws.state.execute(
        "SELECT COUNT(*) FROM agents WHERE agent_id NOT IN (SELECT agent_id FROM notices)"
    ).fetchone()[0]
    total = ws.state.execute("SELECT COUNT(*) FROM agents").fetchone()[0]
    gates = gates_mod.evaluate(ws.settings, ws.register, missing, total)
    alerts = [
        dict(r)
        for r in ws.state.execute(
            "SELECT at, kind, actor, detail FROM alerts ORDER BY id DESC LIMIT 50"
        )
    ]
    holds = [
        dict(r)
        for r in ws.state.execute(
            "SELECT id, day_from, day_to, owner, expires_on, case_id FROM holds ORDER BY id"
        )
    ]
    return render(
        ctx,
        "dpo.html",
        gates=gates,
        fingerprint=gates_mod.fingerprint(ws.settings, ws.register),
        alerts=alerts,
        requests=access_request_clocks(ws),
        holds=holds,
        done=ctx.request.query_params.get("done", ""),
    )


@router.get("/dpo/audit", response_class=HTMLResponse)
def dpo_audit(ctx: Ctx = guard("dpo")) -> Response:
    """The audit log and its verification (H1)."""
    checked, broken = ctx.ws.audit.verify()
    entries = list(ctx.ws.audit.entries())[-300:]
    return render(
        ctx, "audit.html", entries=list(reversed(entries)), checked=checked, broken=broken
    )


@router.post("/dpo/purge", response_class=HTMLResponse)
def dpo_purge(ctx: Ctx = guard("dpo"), csrf: str = Form("")) -> Response:
    """Apply retention now."""
    check_csrf(ctx, csrf)
    assert ctx.account is not None
    purge(ctx.ws, actor=ctx.account.login, per_agent_t0=True)
    return back("/dpo", "purged")


# --- staff representatives -------------------------------------------------------------------------


@router.get("/staff", response_class=HTMLResponse)
def staff_home(ctx: Ctx = guard("staff_rep")) -> Response:
    """Audit statistics without names: individual views and cases by month and role."""
    views: Counter[tuple[str, str]] = Counter()
    individual = {
        "case_view",
        "case_open",
        "case_close",
        "access_export",
        "records_view",
        "reidentify",
        "statement_view",
    }
    for e in ctx.ws.audit.entries():
        if e.action in individual:
            views[(e.at[:7], e.role)] += 1
    cases: dict[str, int] = defaultdict(int)
    for r in ctx.ws.state.execute("SELECT substr(opened_at, 1, 7) FROM cases"):
        cases[r[0]] += 1
    rows = [{"month": m, "role": role, "views": n} for (m, role), n in sorted(views.items())]
    return render(
        ctx, "staff.html", rows=rows, cases=sorted(cases.items()), mode=ctx.ws.register.purpose.mode
    )


# --- operator ----------------------------------------------------------------------------------------


@router.get("/operator", response_class=HTMLResponse)
def operator_home(ctx: Ctx = guard("operator")) -> Response:
    """Ingest health: files read, lines and reasons; no activity data at all (E5)."""
    files = [
        dict(r)
        for r in ctx.ws.state.execute(
            "SELECT path, format, ingested_at, lines, events FROM manifest ORDER BY ingested_at DESC LIMIT 200"
        )
    ]
    quarantine = ctx.ws.state.execute(
        "SELECT reason, COUNT(*) FROM quarantine GROUP BY reason"
    ).fetchall()
    return render(ctx, "operator.html", files=files, quarantine=quarantine)
