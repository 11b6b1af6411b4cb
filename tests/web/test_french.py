"""Every French page and document reads as French (issue 12): no English column name, no raw code
from the list of known codes, no ISO week or month label, no UTC time, no decimal with a dot —
on every page of every role, and in the human-readable access export."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from loyaute.i18n import use_lang
from loyaute.policy.roles import Identity, Role
from loyaute.reports.access_export import write_export
from tests.web.french import PAGES, fill, problems
from tests.web.support import Scenario, Web, visible_text


def _text(page: str) -> str:
    body = re.sub(r"<(script|style|title)[^>]*>.*?</\1>", " ", page, flags=re.S)
    body = re.sub(r'<(p|span|em)\b[^>]*lang="en"[^>]*>.*?</\1>', " ", body, flags=re.S)
    return re.sub(r"\s+", " ", visible_text(body))


def _previous_month(web: Web) -> str:
    return (web.clock.now().date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


@pytest.mark.parametrize("role", sorted(PAGES))
def test_every_french_page_reads_as_french(web: Web, scenario: Scenario, role: str) -> None:
    """The pages of a role, in French: each one checked, and each one has content. The register
    and DPIA documents are checked by ``test_the_generated_documents_read_as_french``."""
    c = web.client() if role == "anonymous" else web.signed_in(role)
    checked = 0
    for path in PAGES[role]:
        url = fill(path, scenario, _previous_month(web))
        r = c.get(url, headers={"accept-language": "fr-FR,fr;q=0.9"})
        assert r.status_code in (200, 404), (url, r.status_code)
        text = _text(r.text)
        assert len(text) > 200, f"{url} is nearly empty"
        found = problems(text, path)
        assert not found, f"{url}: " + "\n".join(found)
        checked += 1
    assert checked == len(PAGES[role])


DOCUMENTS = ("/docs/register", "/docs/dpia", "/notice")
"""Generated from the live configuration by policy/documents.py (issue 11), in French."""


@pytest.mark.parametrize("path", DOCUMENTS)
def test_the_generated_documents_read_as_french(web: Web, path: str) -> None:
    """The register entry, the DPIA draft and the notice, in French: no code, ISO week or month,
    UTC time or decimal with a dot."""
    r = web.signed_in("dpo").get(path)
    assert r.status_code == 200
    found = problems(_text(r.text), "/x")
    assert not found, "\n".join(found)


def test_the_checks_catch_what_they_look_for() -> None:
    """The checker itself: each kind of problem is found, and plain French passes."""
    assert problems("semaine du 2 au 6 novembre 2026 : 95,3 % avec trace", "/x") == []
    for bad in (
        "share_with_trace",
        "2026-W45",
        "le 2026-12-06T00:29:02+00:00",
        "0.9528",
        "2026-11",
        "public_task",
        "True",
        "matin AM",
    ):
        assert problems(f"texte {bad} texte", "/x") != [], bad


def test_the_access_export_reads_as_french(web: Web, tmp_path: Path) -> None:
    """G2: the export's index.html, written in French, has labels — its CSV keeps machine names."""
    agent = web.account("agent")
    with web.workspace() as ws, use_lang("fr"):
        write_export(
            ws, Identity(agent.login, Role.AGENT, agent.agent_id), agent.agent_id, tmp_path
        )
    text = _text((tmp_path / "index.html").read_text(encoding="utf-8"))
    assert len(text) > 200
    found = problems(text, "/export")
    assert not found, "\n".join(found)
    header = (tmp_path / "records.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "date,half_day,scheduled,status,categories,declaration,annotation"


FRENCH_COLON = re.compile(r"[A-Za-z)] :(?=\s)")
"""French typography (a space before a colon) in English text: "Processing mode : …"."""


def _french_colons(text: str) -> list[str]:
    """The French colons of the page's own words: a match inside a sentence written in French
    by a person (an agent's objection, a reviewer's reason — accented letters nearby) is that
    person's text, shown as written."""
    found = []
    for m in FRENCH_COLON.finditer(text):
        around = text[max(0, m.start() - 60) : m.end() + 60]
        if not re.search(r"[éèêàçùô]", around):
            found.append(around)
    return found


@pytest.mark.parametrize("role", sorted(PAGES))
def test_english_pages_use_english_punctuation(web: Web, scenario: Scenario, role: str) -> None:
    """The other direction: a page asked in English puts no space before its colons (the
    templates' ``colon()``), nor do the phone cards' labels (style.css, by ``html[lang]``)."""
    c = web.client() if role == "anonymous" else web.signed_in(role)
    for path in PAGES[role]:
        url = fill(path, scenario, _previous_month(web))
        r = c.get(url, headers={"accept-language": "en-GB,en;q=0.9"})
        if r.status_code != 200 or path in DOCUMENTS:
            continue
        assert 'lang="en"' in r.text[:300], url
        text = _text(r.text)
        assert _french_colons(text) == [], url
