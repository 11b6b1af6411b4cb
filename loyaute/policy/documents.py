"""Compliance documents generated from the live configuration (rule A7, STYLE.md rule 7).

The register entry (GDPR art. 30), a DPIA draft with the product's own measures filled in (and the
validity study's latest coverage figures), and the agents' information notice (arts. 12–13,
21(4)). Written once, as templates fed by ``loyaute.toml`` and ``register.toml``: what the
documents say is what the software does. Markdown, HTML, and PDF when WeasyPrint is installed.
"""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt

from loyaute.errors import GateError, UsageError
from loyaute.i18n import tr
from loyaute.policy import gates as gates_mod
from loyaute.reports.validity import validity

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

KINDS = ("register", "dpia", "notice")

SOURCE_NAMES = {
    "fortigate": (
        "connexions VPN FortiClient (pare-feu FortiGate)",
        "FortiClient VPN connections (FortiGate firewall)",
    ),
    "exchange-iis": (
        "messagerie Outlook, webmail, mobile (journaux Exchange)",
        "Outlook, webmail and mobile mail (Exchange logs)",
    ),
    "exchange-httpproxy": (
        "messagerie (journaux HttpProxy Exchange)",
        "mail (Exchange HttpProxy logs)",
    ),
    "proxy": (
        "applications métier via le portail extranet",
        "business applications through the extranet portal",
    ),
    "authentic2": ("connexions au portail Publik", "sign-ins to the Publik portal"),
}


def context(ws: Workspace, lang: str) -> dict[str, Any]:
    """Everything the templates may print, from the live configuration."""
    register = ws.register
    coverage = None
    try:
        report = validity(ws)
        coverage = report.rows
    except GateError:  # the study is optional; the DPIA says so when it is not run
        coverage = None
    index = 1 if lang == "en" else 0
    return {
        "lang": lang,
        "controller": register.controller,
        "purpose": register.purpose,
        "study": register.validity_study,
        "settings": ws.settings,
        "sources": [SOURCE_NAMES.get(s, (s, s))[index] for s in ws.settings.sources.enabled],
        "apps": [a.name for a in ws.settings.apps],
        "fingerprint": gates_mod.fingerprint(ws.settings, register),
        "gates": gates_mod.evaluate(ws.settings, register),
        "coverage": coverage,
        "t0": gates_mod.common_t0(register),
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
        try:
            from weasyprint import HTML  # noqa: PLC0415 - optional, heavy dependency
        except ImportError as exc:
            raise UsageError(
                tr(
                    "PDF indisponible : WeasyPrint n'est pas installé",
                    "PDF unavailable: WeasyPrint is not installed",
                ),
                hint="pip install 'loyaute[pdf]'",
            ) from exc
        HTML(string=render_html(markdown, title, lang)).write_pdf(out)
    else:
        raise UsageError(tr("extension .md, .html ou .pdf", "extension .md, .html or .pdf"))
    return out
