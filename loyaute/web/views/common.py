"""Pages everyone shares: health, home, sign-in and sign-out, the notice, the documents."""

from __future__ import annotations

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from loyaute.policy.documents import (
    KINDS,
    pdf_available,
    render_html,
    render_markdown,
    render_pdf,
)
from loyaute.policy.roles import Action
from loyaute.web.auth import (
    HOME_OF_ROLE,
    SIGNED_IN,
    LocalPasswordsOff,
    SignInsBusy,
    TooManyAttempts,
    check_csrf,
    end_session,
    guard,
    sign_in,
    start_session,
    who,
)
from loyaute.web.context import Ctx
from loyaute.web.render import render

router = APIRouter()


@router.get("/healthz")
def healthz(ctx: Ctx = guard()) -> Response:
    """Ready (200), or ``degraded`` (503) while the configuration on disk does not parse."""
    if ctx.config_problem:
        return JSONResponse({"status": "degraded"}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/", response_class=HTMLResponse)
def home(ctx: Ctx = guard()) -> Response:
    """The role's home, or the sign-in page."""
    if ctx.account is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(HOME_OF_ROLE[ctx.account.role], status_code=303)


def _login(ctx: Ctx, status: int = 200, error: str = "") -> Response:
    oidc = ctx.ws.settings.oidc
    return render(
        ctx,
        "login.html",
        status=status,
        error=error,
        oidc=oidc.enabled,
        passwords=oidc.local_passwords,
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(ctx: Ctx = guard()) -> Response:
    """The sign-in page: the organisation's identity provider and/or a local password."""
    return _login(ctx)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    ctx: Ctx = guard(),
    login: str = Form(..., max_length=200),
    password: str = Form(..., max_length=500),
) -> Response:
    """Sign in; a wrong password and an unknown login get the same answer."""
    try:
        account = sign_in(ctx, login, password)
    except LocalPasswordsOff:
        return _login(
            ctx,
            403,
            ctx.t(
                "La connexion par mot de passe est désactivée : utilisez le compte de "
                "l'organisation.",
                "Password sign-in is off: use the organisation's account.",
            ),
        )
    except SignInsBusy:
        busy = _login(
            ctx,
            429,
            ctx.t(
                "Beaucoup de connexions en ce moment : réessayez dans un instant.",
                "Many sign-ins at the moment: try again in a moment.",
            ),
        )
        busy.headers["retry-after"] = "1"
        return busy
    except TooManyAttempts:
        return _login(
            ctx,
            429,
            ctx.t(
                "Trop de tentatives : réessayez dans une minute.",
                "Too many attempts: try again in a minute.",
            ),
        )
    if account is None:
        return _login(
            ctx,
            401,
            ctx.t(
                "Identifiant ou mot de passe incorrect, ou compte désactivé.",
                "Wrong login or password, or account disabled.",
            ),
        )
    response = RedirectResponse(HOME_OF_ROLE[account.role], status_code=303)
    start_session(ctx, account, response)
    return response


@router.post("/logout", response_class=HTMLResponse)
def logout(ctx: Ctx = guard(SIGNED_IN), csrf: str = Form("")) -> Response:
    """Sign out: the loyaute session ends; a person signed in through the identity provider is
    then sent to the provider's own sign-out (RP-initiated logout), when it offers one."""
    check_csrf(ctx, csrf)
    row = ctx.ws.db.accounts.get(who(ctx).login)
    provider = None
    if row is not None and row.origin == "oidc" and ctx.ws.settings.oidc.enabled:
        from loyaute.web.views.oidc import provider_sign_out  # noqa: PLC0415

        provider = provider_sign_out(ctx)
    response: Response = RedirectResponse("/login", status_code=303)
    if provider is not None:
        # a page that moves on by itself: the content policy's form-action 'self' forbids a
        # form's redirect to another site
        response = render(ctx, "signed_out.html", target=provider)
    end_session(ctx, response)
    return response


@router.get("/notice", response_class=HTMLResponse)
def notice(ctx: Ctx = guard(Action.NOTICE_READ)) -> Response:
    """The information notice, for everyone."""
    return _document(ctx, "notice")


def _document(ctx: Ctx, kind: str) -> Response:
    markdown = render_markdown(ctx.ws, kind, ctx.lang)
    title = markdown.splitlines()[0].lstrip("# ")
    return HTMLResponse(render_html(markdown, title, ctx.lang, stylesheet="/static/document.css"))


def _unknown(ctx: Ctx) -> Response:
    return render(
        ctx,
        "error.html",
        status=404,
        status_code=404,
        message=ctx.t("document inconnu", "unknown document"),
    )


@router.get("/docs/{kind}", response_class=HTMLResponse)
def documents(ctx: Ctx = guard(Action.DOCS_READ), kind: str = "register") -> Response:
    """Register entry and DPIA (DPO and staff representatives)."""
    if kind not in KINDS:
        return _unknown(ctx)
    return _document(ctx, kind)


@router.get(
    "/docs/{kind}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "text/html": {}}}},
)
def document_pdf(ctx: Ctx = guard(Action.DOCS_READ), kind: str = "register") -> Response:
    """The document as PDF; where WeasyPrint cannot run on the server, the printable page with
    a note saying how to save it as PDF from the browser (never an error)."""
    if kind not in KINDS:
        return _unknown(ctx)
    markdown = render_markdown(ctx.ws, kind, ctx.lang)
    title = markdown.splitlines()[0].lstrip("# ")
    why = pdf_available()
    if why is None:
        pdf = render_pdf(render_html(markdown, title, ctx.lang))
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{kind}-{ctx.lang}.pdf"'},
        )
    note = ctx.t(
        f"> {why}. Imprimez cette page et choisissez « Enregistrer au format PDF ».",
        f'> {why}. Print this page and choose "Save as PDF".',
    )
    first, _, rest = markdown.partition("\n")
    page = render_html(f"{first}\n\n{note}\n{rest}", title, ctx.lang, "/static/document.css")
    return HTMLResponse(page)
