"""The agent's portal (E6): their own half-days — exactly what a reviewer could see — what the
validity study holds about them, declarations, annotations, disputes, answers, the export, and
who looked at their data and why."""

from __future__ import annotations

import io
import pathlib
import tempfile
import zipfile
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from loyaute.policy.access import individual
from loyaute.policy.cases import answer_case
from loyaute.policy.rights import DECLARATION_KINDS, annotate, declare, open_dispute
from loyaute.policy.roles import Action
from loyaute.policy.scope import month_end
from loyaute.reports.access_export import NO_PROOF_EN, NO_PROOF_FR, write_export
from loyaute.web import charts
from loyaute.web.auth import check_csrf, guard, who
from loyaute.web.context import Ctx
from loyaute.web.render import CaseId, back, day_of, month_of, render

router = APIRouter()

KIND_LABELS = {
    "system": ("sur le système", "on the system"),
    "phone": ("au téléphone", "on the phone"),
    "home_visit": ("en visite à domicile", "on a home visit"),
    "meeting": ("en réunion", "in a meeting"),
    "field": ("sur le terrain", "in the field"),
    "other": ("autrement", "otherwise"),
}
"""How the form's choices read after "J'ai travaillé…" (the tables use ``labels.DECLARATION``)."""


@router.get("/me", response_class=HTMLResponse)
def agent_home(ctx: Ctx = guard(Action.PORTAL), month: str | None = None) -> Response:
    """E6: the agent's calendar — exactly what a reviewer could see — and what they can do."""
    me = who(ctx)
    today = ctx.ws.today()
    first = month_of(month, today)
    last = month_end(first)
    data = individual(ctx.ws, me, Action.OWN_VIEW, me.agent_id, reason="portail de l'agent")
    records = data.records(first, last)
    study = [r for r in data.study() if first.isoformat() <= r.date <= last.isoformat()]
    days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    cells = {(r.date, r.half_day): r.status for r in records}
    myself = {me.login, me.agent_id}
    viewers = [e for e in data.viewers() if e.actor not in myself][-100:]
    return render(
        ctx,
        "agent.html",
        month=first.strftime("%Y-%m"),
        previous=(first - timedelta(days=1)).strftime("%Y-%m"),
        following=(last + timedelta(days=1)).strftime("%Y-%m"),
        records=records,
        study=study,
        chart=charts.calendar(
            days, cells, ctx.t("Calendrier des demi-journées", "Half-day calendar")
        ),
        labels=_agent_labels(ctx),
        legend=charts.legend_items(),
        kind_options=_kind_options(ctx),
        side=data.side(),
        viewers=list(reversed(viewers)),
        statement=ctx.t(NO_PROOF_FR, NO_PROOF_EN),
        done=ctx.request.query_params.get("done", ""),
    )


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
    ctx: Ctx = guard(Action.DECLARE),
    csrf: str = Form(""),
    day: str = Form(...),
    half: str = Form(...),
    kind: str = Form(...),
    note: str = Form("", max_length=500),
) -> Response:
    """D2: declare a telework half-day."""
    check_csrf(ctx, csrf)
    declare(ctx.ws, who(ctx), day_of(day), half, kind, note)
    return back("/me", "declared")


@router.post("/me/annotate", response_class=HTMLResponse)
def agent_annotate(
    ctx: Ctx = guard(Action.ANNOTATE),
    csrf: str = Form(""),
    day: str = Form(...),
    half: str = Form(...),
    text: str = Form(..., max_length=1000),
) -> Response:
    """D3: annotate a half-day."""
    check_csrf(ctx, csrf)
    annotate(ctx.ws, who(ctx), day_of(day), half, text)
    return back("/me", "annotated")


@router.post("/me/dispute", response_class=HTMLResponse)
def agent_dispute(
    ctx: Ctx = guard(Action.DISPUTE),
    csrf: str = Form(""),
    day: str = Form(...),
    half: str = Form(...),
    reason: str = Form(..., max_length=1000),
) -> Response:
    """D4: contest a record; it is frozen until a person resolves it."""
    check_csrf(ctx, csrf)
    open_dispute(ctx.ws, who(ctx), day_of(day), half, reason)
    return back("/me", "disputed")


@router.post("/me/cases/{case_id}/answer", response_class=HTMLResponse)
def agent_answer(
    case_id: CaseId,
    ctx: Ctx = guard(Action.CASE_ANSWER),
    csrf: str = Form(""),
    text: str = Form(..., max_length=4000),
) -> Response:
    """D5: answer a review case before any decision."""
    check_csrf(ctx, csrf)
    answer_case(ctx.ws, who(ctx), case_id, text)
    return back("/me", "answered")


@router.get(
    "/me/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "the export's files"}},
)
def agent_export(ctx: Ctx = guard(Action.OWN_EXPORT)) -> Response:
    """G2: the access export, as a zip of its files."""
    me = who(ctx)
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "export"
        write_export(ctx.ws, me, me.agent_id, out)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(out.iterdir()):
                z.write(f, f.name)
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="mes-donnees-loyaute.zip"'},
    )
