"""Compliance documents generated from the live configuration (rule A7, STYLE.md rule 7).

The register entry (GDPR art. 30(1)), a DPIA draft after the CNIL's PIA method with the
product's own measures filled in (and the validity study's latest coverage figures), and the
agents' information notice (arts. 12–14, 21(4)). Written once, as templates fed by
``loyaute.toml`` and ``register.toml`` through ``policy/processing.py`` (recipients, sources,
categories, storage), ``policy/retention_schedule.py`` (every period the purge applies) and
``policy/dpia.py`` (feared events): what the documents say is what the software does. Codes
never reach a French reader: ``policy/wording.py`` gives every one its words.

Markdown, HTML, and PDF through WeasyPrint (the ``pdf`` extra, which ``make install`` installs);
where WeasyPrint or the system libraries it needs are missing, ``pdf_available`` says why and
the web app serves the printable HTML page instead (the browser's "print to PDF").
"""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt

from loyaute import labels
from loyaute.errors import GateError, UsageError
from loyaute.i18n import tr, use_lang
from loyaute.policy import dpia, processing
from loyaute.policy import gates as gates_mod
from loyaute.policy.retention_schedule import UNSETTLED_EN, UNSETTLED_FR, schedule
from loyaute.policy.wording import (
    GROUPS,
    LEGAL_BASIS_ARTICLES,
    cnil_complaint,
    label,
    member_state_law,
    percent,
)
from loyaute.reports.validity import validity

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

KINDS = ("register", "dpia", "notice")

SOURCE_NAMES: dict[str, tuple[str, str]] = dict(GROUPS["source"])
"""Source code → (French, English) name (kept for callers of the earlier API)."""


def _placeholder(lang: str, fr: str, en: str) -> str:
    return f"[{en}]" if lang == "en" else f"[{fr}]"


def _coverage(ws: Workspace, lang: str) -> list[dict[str, Any]] | None:
    try:
        rows = validity(ws).rows
    except GateError:  # the study is optional; the DPIA says so when it is not run
        return None
    yes, no, hidden = ("yes", "no", "suppressed") if lang == "en" else ("oui", "non", "masqué")
    return [
        {
            "job_family": r["job_family"],
            "agents": r["agents"],
            "on_site_half_days": r["on_site_half_days"],
            "with_trace": r["with_trace"],
            "coverage": "" if r["suppressed"] else percent(float(r["coverage"]), lang),
            "reliable": hidden if r["suppressed"] else (yes if r["reliable"] else no),
        }
        for r in rows
    ] or None


def _risks(ws: Workspace, lang: str) -> list[dict[str, Any]]:
    i = 1 if lang == "en" else 0
    out = []
    for r in dpia.risks(ws):
        out.append(
            {
                "event": label(r.event, lang, "feared_event"),
                "impacts": r.impacts[i],
                "threats": r.threats[i],
                "severity_before": label(dpia.LEVELS[r.severity_before - 1], lang, "level"),
                "likelihood_before": label(dpia.LEVELS[r.likelihood_before - 1], lang, "level"),
                "severity_after": label(dpia.LEVELS[r.severity_after - 1], lang, "level"),
                "likelihood_after": label(dpia.LEVELS[r.likelihood_after - 1], lang, "level"),
                "level": label(r.level(), lang, "risk"),
                "measures": [m[i] for m in r.measures],
            }
        )
    return out


def context(ws: Workspace, lang: str) -> dict[str, Any]:
    """Everything the templates may print, from the live configuration, in words."""
    register = ws.register
    p = register.purpose
    i = 1 if lang == "en" else 0
    basis = (
        label(p.legal_basis, lang, "legal_basis")
        if p.legal_basis
        else _placeholder(lang, "à compléter", "to fill")
    )
    transfers = register.transfers
    return {
        "lang": lang,
        "controller": register.controller,
        "purpose": p,
        "study": register.validity_study,
        "settings": ws.settings,
        "mode": label(p.mode, lang, "mode"),
        "declarative": p.mode == "declarative",
        "basis": basis,
        "basis_article": LEGAL_BASIS_ARTICLES.get(p.legal_basis, ""),
        "member_state_law": member_state_law(register.controller.public_authority, lang),
        "residual_risk": (
            label(p.dpia_residual_risk, lang, "risk")
            if p.dpia_residual_risk
            else _placeholder(lang, "à évaluer", "to assess")
        ),
        "sources": [label(c, lang, "source") for c in processing.sources(ws)],
        "log_sources": [label(c, lang, "source") for c in processing.log_sources(ws)],
        "apps": [a.name for a in ws.settings.apps],
        "subjects": [label(c, lang, "data_subject") for c in processing.data_subjects()],
        "categories": [label(c, lang, "data_category") for c in processing.data_categories(ws)]
        + list(p.data_categories),
        "recipients": [r.text(lang) for r in processing.recipients(ws)],
        "transfers": transfers,
        "processors": processing.processors(ws),
        "outside_eu": processing.transfers_outside_eu(ws),
        "retention": [(label(x.record, lang, "record"), x.text(lang)) for x in schedule(ws)],
        "unsettled": UNSETTLED_EN if lang == "en" else UNSETTLED_FR,
        "measures": [m[i] for m in processing.security_measures(ws)],
        "risks": _risks(ws, lang),
        "estimated_risk": label(dpia.overall(dpia.risks(ws)), lang, "risk"),
        "cnil": cnil_complaint(lang),
        "fingerprint": gates_mod.fingerprint(ws.settings, register),
        "gates": gates_mod.evaluate(ws.settings, register),
        "coverage": _coverage(ws, lang),
        "threshold": percent(register.validity_study.reliability_threshold, lang),
        "t0": gates_mod.common_t0(register),
        "appeal_days": ws.settings.reports.appeal_period_days,
    }


def render_markdown(ws: Workspace, kind: str, lang: str = "fr") -> str:
    """The document as Markdown."""
    if kind not in KINDS:
        raise UsageError(
            tr(f"document parmi {', '.join(KINDS)}", f"document among {', '.join(KINDS)}")
        )
    env = Environment(
        loader=PackageLoader("loyaute", "templates/docs"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["day"] = labels.day  # dates as the document's reader reads them
    with use_lang(lang):
        return env.get_template(f"{kind}.{lang}.md").render(**context(ws, lang))


DOCUMENT_CSS = (
    resources.files("loyaute.web").joinpath("static/document.css").read_text(encoding="utf-8")
)
"""One stylesheet: inline in files written by the command line, linked by the web app."""


def render_html(markdown: str, title: str, lang: str, stylesheet: str | None = None) -> str:
    """A standalone, accessible HTML page from Markdown. Files carry their style inline (they
    travel alone); the web app passes ``stylesheet`` so its CSP can forbid inline style."""
    # Raw HTML in the Markdown — from a configuration value, say the controller's name — is
    # shown as text, never run (issue 10, finding 8); the page forbids scripts either way.
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    if stylesheet:
        style = f'<link rel="stylesheet" href="{html.escape(stylesheet)}">'
        policy = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'"
    else:
        style = f"<style>{DOCUMENT_CSS}</style>"
        policy = (
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
        )
    return (
        f'<!doctype html>\n<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n{style}\n</head>\n<body>\n"
        f"{body}</body>\n</html>\n"
    )


def write_document(ws: Workspace, kind: str, out: Path, lang: str = "fr") -> Path:
    """Write the document; the format follows the extension (.md, .html, .pdf)."""
    markdown = render_markdown(ws, kind, lang)
    suffix = out.suffix.lower()
    title = markdown.splitlines()[0].lstrip("# ").strip()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix in (".md", ".markdown", ".txt"):
        out.write_text(markdown, encoding="utf-8")
    elif suffix in (".html", ".htm"):
        out.write_text(render_html(markdown, title, lang), encoding="utf-8")
    elif suffix == ".pdf":
        out.write_bytes(render_pdf(render_html(markdown, title, lang)))
    else:
        raise UsageError(tr("extension .md, .html ou .pdf", "extension .md, .html or .pdf"))
    return out


PDF_HINT = "pip install 'loyaute[pdf]' (make install)"


def pdf_available() -> str | None:
    """None when PDF can be made here; else why not (WeasyPrint missing, or the Pango
    libraries it loads). The web app then offers the printable HTML page instead."""
    try:
        import weasyprint  # noqa: F401, PLC0415 - optional, heavy dependency
    except ImportError:
        return tr(
            "PDF indisponible : WeasyPrint n'est pas installé",
            "PDF unavailable: WeasyPrint is not installed",
        )
    except OSError as exc:  # WeasyPrint loads Pango when imported
        return tr(
            f"PDF indisponible : une bibliothèque système manque ({exc})",
            f"PDF unavailable: a system library is missing ({exc})",
        )
    return None


def render_pdf(page: str) -> bytes:
    """A standalone HTML page (``render_html``) as PDF bytes; ``UsageError`` naming the install
    command when WeasyPrint cannot run here."""
    why = pdf_available()
    if why is not None:
        raise UsageError(why, hint=PDF_HINT)
    from weasyprint import HTML  # noqa: PLC0415

    return bytes(HTML(string=page).write_pdf())
