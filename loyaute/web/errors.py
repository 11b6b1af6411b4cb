"""The one place where errors become pages: loyaute's own errors, refusals, unknown pages and
invalid forms, each answered in the request's language with a title a person understands and the
next step to take — JSON under ``/api/`` (and for clients asking for it).

A page never tells a person to run a command: a gate that does not hold is the DPO's to fix, and
the page says so; a path, a key or a stack trace never reaches the visitor (H3).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from loyaute.errors import (
    GateError,
    KeyMismatch,
    LoyauteError,
    StoreError,
    UsageError,
    WorkspaceError,
)
from loyaute.i18n import lang, tr
from loyaute.policy.access import AccessDenied
from loyaute.web.auth import Forbidden, NotSignedIn

log = logging.getLogger("loyaute.web")

TITLES: dict[int, tuple[str, str]] = {
    400: ("Demande incorrecte", "Bad request"),
    401: ("Connexion nécessaire", "Sign-in needed"),
    403: ("Accès refusé", "Access refused"),
    404: ("Page introuvable", "Page not found"),
    405: ("Action non prévue ici", "Action not allowed here"),
    409: ("Action impossible pour l'instant", "Not possible for now"),
    422: ("Demande refusée", "Request refused"),
    429: ("Trop de demandes", "Too many requests"),
    503: ("Service momentanément indisponible", "Service unavailable for the moment"),
}
NEXT_STEPS: dict[int, tuple[str, str]] = {
    400: (
        "Vérifiez ce que vous avez saisi (une date s'écrit AAAA-MM-JJ), puis recommencez.",
        "Check what you typed (a date is written YYYY-MM-DD), then try again.",
    ),
    403: (
        "Votre rôle ne donne pas accès à cette page. Revenez à votre page d'accueil ; si vous "
        "pensez devoir y accéder, adressez-vous au délégué à la protection des données (DPO).",
        "Your role does not give access to this page. Go back to your home page; if you think "
        "you should have access, ask the data protection officer (DPO).",
    ),
    404: (
        "L'adresse est peut-être mal recopiée, ou la page n'existe plus. Revenez à votre page "
        "d'accueil et suivez les liens du menu.",
        "The address may be mistyped, or the page no longer exists. Go back to your home page "
        "and follow the menu's links.",
    ),
    405: ("Revenez à votre page d'accueil.", "Go back to your home page."),
    409: (
        "Les garde-fous légaux ne sont pas tous remplis : le délégué à la protection des données "
        "(DPO) en voit l'état sur son tableau de bord. Adressez-vous à lui.",
        "Not every legal gate holds yet: the data protection officer (DPO) sees their state on "
        "the DPO console. Ask them.",
    ),
    422: (
        "Vérifiez le formulaire (champs obligatoires, dates, longueur des textes), puis "
        "recommencez.",
        "Check the form (required fields, dates, length of texts), then try again.",
    ),
    429: ("Attendez une minute, puis recommencez.", "Wait a minute, then try again."),
    503: (
        "L'exploitant en est averti. Réessayez dans quelques minutes.",
        "The operator is told. Try again in a few minutes.",
    ),
}


def wants_json(request: Request) -> bool:
    """API paths and clients asking for JSON get JSON errors."""
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def error_page(request: Request, status: int, message: str = "") -> Response:
    """An error as a page in the request's language (JSON for the API)."""
    if wants_json(request):
        return JSONResponse(
            {"detail": message or tr(*TITLES.get(status, ("Erreur", "Error")))}, status_code=status
        )
    title = tr(*TITLES.get(status, ("Erreur", "Error")))
    step = tr(*NEXT_STEPS.get(status, NEXT_STEPS[404 if status < 500 else 503]))
    html = request.app.state.env.get_template("error.html").render(
        status=status,
        title=title,
        message=message,
        next_step=step,
        lang=lang(),
        account=None,
        nav=[],
        csrf="",
        _=tr,
    )
    return HTMLResponse(html, status_code=status)


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": "not signed in"}, status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return error_page(request, 403)

    @app.exception_handler(AccessDenied)
    async def access_denied(request: Request, exc: AccessDenied) -> Response:
        return error_page(request, 403, exc.message)

    @app.exception_handler(LoyauteError)
    async def loyaute_error(request: Request, exc: LoyauteError) -> Response:
        if isinstance(exc, (WorkspaceError, KeyMismatch, StoreError)):
            # The server's own state (a key, a store, a file): said in the server log by kind,
            # never to the visitor, whose page must not show a path or a key (H3).
            log.error("workspace unavailable: %s", type(exc).__name__)
            return error_page(request, 503)
        if isinstance(exc, GateError):
            # the message names the gates; the command-line hint is not for a web reader
            return error_page(request, 409, exc.message)
        status = 400 if isinstance(exc, UsageError) else 422
        return error_page(request, status, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        # Starlette's own (an unknown path: 404, a wrong method: 405) and FastAPI's
        detail = "" if exc.status_code in (404, 405) else str(exc.detail)
        response = error_page(request, exc.status_code, detail)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if wants_json(request):
            return await request_validation_exception_handler(request, exc)
        return error_page(request, 422)
