"""Compliance documents generated from the live configuration (rule A7): the register entry
(GDPR art. 30), the DPIA draft and the agents' information notice, in French and English,
Markdown and HTML.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyaute import labels
from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.config import HalfDays, load_settings
from loyaute.errors import UsageError
from loyaute.i18n import lang, set_lang
from loyaute.policy.documents import SOURCE_NAMES, render_markdown, write_document
from loyaute.policy.register import load_register
from loyaute.templates import loyaute_toml, register_toml
from loyaute.workspace import Workspace
from tests.builders import NOW, make_workspace
from tests.reports import test_validity as study

KINDS = ("register", "dpia", "notice")


@pytest.fixture(autouse=True)
def keep_language() -> Iterator[None]:
    before = lang()
    yield
    set_lang(before)


@pytest.fixture(scope="module")
def studied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace whose validity study has data (finances reliable at 0.90)."""
    ws = study.open_study(tmp_path_factory.mktemp("docs"))
    yield ws
    ws.close()


@pytest.fixture
def cli_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("loyaute.workspace.SystemClock", lambda: FixedClock(study.NOW))


def cli(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--home", str(home), *args])
    return result.exit_code, result.stdout, result.stderr


class Structure(HTMLParser):
    """Checks that every element is closed, in order, and collects the <html> attributes."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.html_attrs: dict[str, str | None] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.html_attrs = dict(attrs)
        if tag == "title":
            self._in_title = True
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def check_html(text: str, language: str) -> Structure:
    assert text.lower().startswith("<!doctype html>")
    parser = Structure()
    parser.feed(text)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    assert parser.html_attrs.get("lang") == language
    assert parser.title.strip()
    assert '<meta charset="utf-8">' in text
    return parser


def sections(markdown: str) -> dict[str, str]:
    """``## heading`` → the text under it."""
    out: dict[str, str] = {}
    for block in re.split(r"^## ", markdown, flags=re.MULTILINE)[1:]:
        heading, _, body = block.partition("\n")
        out[heading.strip()] = body
    return out


def test_html_checker_catches_a_broken_page() -> None:
    """The structure check can fail: an unclosed element, a missing lang attribute."""
    broken = Structure()
    broken.feed("<!doctype html><html><body><p>texte</body></html>")
    assert broken.errors
    with pytest.raises(AssertionError):
        check_html('<!doctype html>\n<html lang="en"><head><title>t</title></head></html>', "fr")


# --- every document, every language, every format ------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_a7_documents_in_markdown_and_html(
    studied: Workspace, cli_clock: None, tmp_path: Path, kind: str, language: str
) -> None:
    """A7: ``loyaute docs KIND --lang L --out FILE`` writes Markdown or HTML by extension; the
    HTML page is well formed and declares its language; the two languages differ."""
    md, html = tmp_path / f"{kind}.md", tmp_path / f"{kind}.html"
    for out in (md, html):
        code, stdout, err = cli(
            studied.paths.home, "docs", kind, "--lang", language, "--out", str(out)
        )
        assert code == 0, err
        assert str(out.name) in stdout.replace("\n", "")
    markdown = md.read_text(encoding="utf-8")
    assert markdown.startswith("# ")
    assert "{{" not in markdown
    assert "{%" not in markdown
    page = html.read_text(encoding="utf-8")
    parsed = check_html(page, language)
    assert parsed.title.strip() == markdown.splitlines()[0].lstrip("# ").strip()
    other = render_markdown(studied, kind, "en" if language == "fr" else "fr")
    assert other.splitlines()[0] != markdown.splitlines()[0]


def test_a7_documents_follow_the_live_configuration(tmp_path: Path) -> None:
    """A7 (documents say what the software does): a value changed in register.toml or
    loyaute.toml changes the generated documents."""
    ws = make_workspace(tmp_path)
    home = ws.paths.home
    before = {k: render_markdown(ws, k, "fr") for k in KINDS}
    ws.close()
    register = load_register(home / "register.toml")
    register = register.model_copy(
        update={
            "controller": register.controller.model_copy(
                update={"name": "Département de l'Aisne", "dpo_contact": "dpo@aisne.example"}
            ),
            "purpose": register.purpose.model_copy(
                update={
                    "retention_after_month_end_days": 20,
                    "recipients": ["direction des ressources humaines", "DPO"],
                }
            ),
        }
    )
    (home / "register.toml").write_text(register_toml(register), encoding="utf-8")
    settings = load_settings(home / "loyaute.toml")
    settings = settings.model_copy(
        update={"half_days": HalfDays(am="08:00-12:00", pm="13:30-18:30")}
    )
    (home / "loyaute.toml").write_text(loyaute_toml(settings), encoding="utf-8")
    ws = Workspace.open(home, FixedClock(NOW))
    try:
        after = {k: render_markdown(ws, k, "fr") for k in KINDS}
    finally:
        ws.close()
    for kind in KINDS:
        assert after[kind] != before[kind]
        assert "Département de l'Aisne" in after[kind]
        assert "Département de l'Aisne" not in before[kind]
    notice = after["notice"]
    assert "dpo@aisne.example" in notice
    assert "20 jours après la fin du mois" in notice
    assert "31 jours après la fin du mois" in before["notice"]
    assert "direction des ressources humaines" in sections(notice)["Destinataires"]
    assert "08:00-12:00" in notice
    assert "13:30-18:30" in notice
    assert "07:00-12:30" not in notice


# --- the notice: every item of A7 ----------------------------------------------------------------

NOTICE_HEADINGS = {
    "fr": {
        "not_collected": "Ce qui n'est PAS collecté",
        "recipients": "Destinataires",
        "retention": "Durées de conservation",
        "rights": "Vos droits",
        "objection": "Droit d'opposition",
        "complaint": "Réclamation",
        "purpose": "Pourquoi ce traitement",
        "sources": "Ce qui est lu et ce qui est conservé",
    },
    "en": {
        "not_collected": "What is NOT collected",
        "recipients": "Recipients",
        "retention": "Retention",
        "rights": "Your rights",
        "objection": "Right to object",
        "complaint": "Complaint",
        "purpose": "Why",
        "sources": "What is read and what is kept",
    },
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a7_notice_contains_every_item(studied: Workspace, language: str) -> None:
    """A7 (arts. 12–13, 21(4)): controller, DPO, purpose, legal basis and its text, sources, what
    is NOT collected, recipients, retention, rights, the right to object in a paragraph of its
    own, the right to complain to the CNIL, and no automated decision."""
    notice = render_markdown(studied, "notice", language)
    register = studied.register
    parts = sections(notice)
    headings = NOTICE_HEADINGS[language]
    assert set(headings.values()) <= set(parts), sorted(parts)
    head = notice.split("\n## ", 1)[0]
    assert register.controller.name in head
    assert register.controller.dpo_contact in head
    assert "DPO" in head
    purpose = parts[headings["purpose"]]
    assert register.purpose.legal_text in purpose
    assert "6(1)(e)" in purpose
    assert ("mission d'intérêt public" if language == "fr" else "public task") in purpose
    index = 0 if language == "fr" else 1
    for source in studied.settings.sources.enabled:
        assert SOURCE_NAMES[source][index] in parts[headings["sources"]]
    not_collected = parts[headings["not_collected"]]
    for item in (("IP", "IP"), ("captures d'écran", "screenshots"), ("localisation", "location")):
        assert item[index] in not_collected
    for recipient in register.purpose.recipients:
        assert recipient in parts[headings["recipients"]]
    assert str(register.purpose.retention_after_month_end_days) in parts[headings["retention"]]
    rights = parts[headings["rights"]]
    for article in ("15", "16", "17", "18", "22"):
        assert f"art. {article}" in rights
    assert ("automatisée" if language == "fr" else "automated") in rights
    objection = parts[headings["objection"]]
    assert "21" in objection
    assert ("opposer" if language == "fr" else "object") in objection
    assert "21" not in rights  # the objection is not folded into the list of rights
    assert "CNIL" in parts[headings["complaint"]]


def test_a7_notice_describes_the_mode_in_force(tmp_path: Path) -> None:
    """A7/D2: the notice says whether the agent declares (managers never see traces) or whether
    aggregates are cross-checked, as configured."""
    ws = make_workspace(tmp_path / "x", register_update={"mode": "crosscheck"})
    crosscheck = render_markdown(ws, "notice", "fr")
    ws.close()
    ws = make_workspace(tmp_path / "d", register_update={"mode": "declarative"})
    declarative = render_markdown(ws, "notice", "fr")
    ws.close()
    assert "**déclaratif**" in declarative
    assert "jamais vos traces" in declarative
    assert "**recoupement**" in crosscheck
    assert "jamais vos traces" not in crosscheck


# --- the DPIA and the register entry -------------------------------------------------------------


@pytest.mark.parametrize(("language", "yes"), [("fr", "oui"), ("en", "yes")])
def test_dpia_includes_the_validity_study_table(
    studied: Workspace, language: str, yes: str
) -> None:
    """The DPIA shows the validity study's coverage by family when the study is enabled."""
    dpia = render_markdown(studied, "dpia", language)
    ninety, sixty = ("90\u202f%", "60\u202f%") if language == "fr" else ("90%", "60%")
    assert f"| finances | 10 | 200 | 180 | {ninety} | {yes} |" in dpia
    assert f"| travail_social | 10 | 200 | 120 | {sixty} |" in dpia
    assert (
        ninety
        in sections(dpia)["5. Étude de validité" if language == "fr" else "5. Validity study"]
    )


def test_dpia_without_the_study_says_reliability_is_not_established(tmp_path: Path) -> None:
    """Without the study the DPIA has no table and says that no review case is possible."""
    ws = study.open_study(tmp_path, validity=False)
    try:
        dpia = render_markdown(ws, "dpia", "fr")
        en = render_markdown(ws, "dpia", "en")
    finally:
        ws.close()
    section = " ".join(sections(dpia)["5. Étude de validité"].split())
    assert "| finances" not in section
    assert "aucun dossier d'examen n'est possible" in section
    assert "no review case is possible" in " ".join(sections(en)["5. Validity study"].split())


def test_a1_register_entry_has_every_art30_field(studied: Workspace) -> None:
    """A1: the register entry carries controller, DPO, purpose, legal basis and text, data
    categories, recipients, retention, security measures and the configuration fingerprint."""
    entry = render_markdown(studied, "register", "fr")
    p = studied.register.purpose
    for value in (
        studied.register.controller.name,
        studied.register.controller.dpo_contact,
        "mission d'intérêt public (art. 6(1)(e) du RGPD)",
        p.legal_text,
        *p.data_categories,
        *p.recipients,
        *p.security_measures,
        f"{p.retention_after_month_end_days} jours",
        labels.day(p.registered_on, "long"),  # "31 janvier 2026", as a reader reads a date
    ):
        assert value in entry, value
    from loyaute.policy.gates import fingerprint  # noqa: PLC0415

    assert fingerprint(studied.settings, studied.register) in entry


# --- formats -------------------------------------------------------------------------------------


def test_unknown_extension_is_a_usage_error(
    studied: Workspace, cli_clock: None, tmp_path: Path
) -> None:
    """Only .md, .html and .pdf: another extension is a usage error (exit 2), nothing written."""
    with pytest.raises(UsageError):
        write_document(studied, "notice", tmp_path / "notice.docx")
    assert not (tmp_path / "notice.docx").exists()
    code, _, err = cli(studied.paths.home, "docs", "notice", "--out", str(tmp_path / "n.odt"))
    assert code == 2
    assert err
    code, _, _ = cli(
        studied.paths.home, "docs", "notice", "--lang", "de", "--out", str(tmp_path / "n.md")
    )
    assert code == 2
    code, _, _ = cli(studied.paths.home, "docs", "minutes", "--out", str(tmp_path / "m.md"))
    assert code == 2


@pytest.mark.skipif(
    importlib.util.find_spec("weasyprint") is not None, reason="WeasyPrint is installed"
)
def test_pdf_without_weasyprint_names_the_extra(
    studied: Workspace, cli_clock: None, tmp_path: Path
) -> None:
    """PDF needs WeasyPrint; without it the error says how to install it."""
    with pytest.raises(UsageError) as info:
        write_document(studied, "notice", tmp_path / "notice.pdf")
    assert "pip install 'loyaute[pdf]'" in str(info.value)
    assert not (tmp_path / "notice.pdf").exists()
    code, _, err = cli(studied.paths.home, "docs", "notice", "--out", str(tmp_path / "n.pdf"))
    assert code == 2
    assert "pip install 'loyaute[pdf]'" in " ".join(err.split())
