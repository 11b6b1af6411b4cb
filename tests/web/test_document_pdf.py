"""The DPO's "Télécharger en PDF" (issue 11): the register, the DPIA and the notice as PDF, and
where WeasyPrint cannot run on the server, the printable page instead of an error."""

from __future__ import annotations

import sys

import pytest

from tests.web.support import Web


@pytest.mark.parametrize("kind", ["register", "dpia", "notice"])
def test_the_dpo_downloads_each_document_as_pdf(web: Web, kind: str) -> None:
    c = web.signed_in("dpo")
    home = c.get("/dpo")
    assert f'href="/docs/{kind}/pdf"' in home.text
    r = c.get(f"/docs/{kind}/pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert f'filename="{kind}-fr.pdf"' in r.headers["content-disposition"]


def test_without_weasyprint_the_printable_page_is_served(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No PDF engine on the server: the staff representative still gets the document, as a page
    that says how to save it as PDF from the browser, in the language asked for."""
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    c = web.signed_in("staff_rep")
    r = c.get("/docs/dpia/pdf")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "Enregistrer au format PDF" in r.text
    assert "Analyse d'impact" in r.text
    en = c.get("/docs/dpia/pdf?lang=en")
    assert "Save as PDF" in en.text


def test_an_unknown_document_is_404(web: Web) -> None:
    assert web.signed_in("dpo").get("/docs/minutes/pdf").status_code == 404
