"""The register entry, the notice and the DPIA describe the processing exactly (issue 11, part D;
rules A1, A7, F1–F6, G1–G3): each generated document is parsed, in French and English, and every
item GDPR art. 13, art. 30(1) and art. 35(7) asks for is checked against the configuration —
recipients from the roles in use, storage and transfers from ``[[transfers]]``, the retention of
every kind of record the purge handles. Then the configuration is varied and the documents must
follow, and no code (``public_task``, ``crosscheck``, ``medium``…) may reach a French reader.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from loyaute.accounts import create_account
from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.config import load_settings
from loyaute.errors import ConfigError, UsageError
from loyaute.i18n import lang, set_lang
from loyaute.ingest.pipeline import ingest
from loyaute.policy import gates as gates_mod
from loyaute.policy import processing
from loyaute.policy.documents import pdf_available, render_markdown, write_document
from loyaute.policy.register import Register, Transfer, load_register
from loyaute.policy.retention_schedule import schedule
from loyaute.policy.wording import GROUPS, cnil_complaint, codes, label
from loyaute.reports.access_export import RIGHTS_FR
from loyaute.templates import loyaute_toml, register_toml
from loyaute.workspace import Workspace, check
from tests.builders import NOW, PASSWORD, SYSTEM, make_workspace

LANGS = ("fr", "en")
KINDS = ("register", "notice", "dpia")

OUTSIDE = Transfer(
    location="s3://journaux-fortigate/",
    holder="Nuage Lointain Inc.",
    country="États-Unis",
    outside_eu=True,
    safeguards="clauses contractuelles types 2021/914",
    contract_ref="DSI-2026-017",
)
INSIDE = Transfer(
    location="hdfs://namenode.interne:8020/logs/",
    holder="Direction du numérique",
    internal=True,
)
RETENTION = {
    "case_retention_days": 400,
    "notification_retention_days": 200,
    "objection_retention_days": 300,
    "access_request_retention_days": 250,
    "statement_retention_months": 18,
    "account_retention_days": 45,
}
"""Periods that differ from the defaults and from each other, so each can be found."""


@pytest.fixture(autouse=True)
def keep_language() -> Iterator[None]:
    before = lang()
    yield
    set_lang(before)


def configure(
    home: Path,
    *,
    purpose: dict[str, Any] | None = None,
    controller: dict[str, Any] | None = None,
    transfers: list[Transfer] | None = None,
    remote: list[str] | None = None,
) -> None:
    """Rewrite loyaute.toml and register.toml as the operator and the DPO would, the committee
    fingerprint kept current (A4)."""
    settings = load_settings(home / "loyaute.toml")
    if remote is not None:
        settings = settings.model_copy(
            update={"ingest": settings.ingest.model_copy(update={"remote_locations": remote})}
        )
    register = load_register(home / "register.toml")
    update: dict[str, Any] = {}
    if purpose:
        update["purpose"] = register.purpose.model_copy(update=purpose)
    if controller:
        update["controller"] = register.controller.model_copy(update=controller)
    if transfers is not None:
        update["transfers"] = transfers
    register = register.model_copy(update=update)
    register = register.model_copy(
        update={
            "purpose": register.purpose.model_copy(
                update={"committee_config_fingerprint": gates_mod.fingerprint(settings, register)}
            )
        }
    )
    (home / "loyaute.toml").write_text(loyaute_toml(settings), encoding="utf-8")
    (home / "register.toml").write_text(register_toml(register), encoding="utf-8")


def reopen(ws: Workspace) -> Workspace:
    home = ws.paths.home
    ws.close()
    return Workspace.open(home, FixedClock(NOW))


def full_workspace(root: Path) -> Workspace:
    """Cross-check mode, an account of every role, logs read from object storage abroad and
    from the organisation's HDFS, a processor and the technical access named, every new
    retention period changed."""
    ws = make_workspace(root)
    for login, role, agent_id in (
        ("resp.a3", "manager", "A3"),
        ("cst.test", "staff_rep", ""),
        ("dpo.test", "dpo", ""),
        ("dsi.test", "operator", ""),
        ("agent.a1", "agent", "A1"),
    ):
        create_account(ws.db, ws.clock, login, PASSWORD, role, agent_id)
    configure(
        ws.paths.home,
        purpose={
            **RETENTION,
            "protection_half_days": 4,
            "processors": ["Hébergeur Exemple SAS — serveur loyaute, contrat H-12"],
            "technical_access": ["administrateurs systèmes de la DSI"],
            "security_measures": ["sauvegardes chiffrées hors site"],
            "data_categories": ["numéro de bureau"],
            "recipients": ["service de la paie (agrégats seulement)"],
        },
        transfers=[OUTSIDE, INSIDE],
        remote=[OUTSIDE.location, INSIDE.location],
    )
    return reopen(ws)


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = full_workspace(tmp_path_factory.mktemp("full"))
    yield ws
    ws.close()


def sections(markdown: str) -> dict[str, str]:
    """``## heading`` → the text under it (subsections included)."""
    out: dict[str, str] = {}
    for block in re.split(r"^## ", markdown, flags=re.MULTILINE)[1:]:
        heading, _, body = block.partition("\n")
        out[heading.strip()] = body
    return out


def flat(text: str) -> str:
    """Whitespace folded: templates wrap their sentences."""
    return " ".join(text.split())


def words(ws: Workspace, group: str, codes_: list[str], language: str) -> list[str]:
    return [label(c, language, group) for c in codes_]


# --- the headings of each document, by the item they carry -------------------------------------

REGISTER = {
    "fr": {
        "controller": "Responsable de traitement et délégué à la protection des données",
        "purpose": "Finalité et base légale",
        "subjects": "Personnes concernées et catégories de données",
        "sources": "Sources des données",
        "recipients": "Destinataires",
        "transfers": "Transferts et stockage hors de l'organisation",
        "retention": "Durées de conservation",
        "security": "Mesures de sécurité",
    },
    "en": {
        "controller": "Controller and data protection officer",
        "purpose": "Purpose and legal basis",
        "subjects": "Data subjects and categories of data",
        "sources": "Sources of the data",
        "recipients": "Recipients",
        "transfers": "Transfers and storage outside the organisation",
        "retention": "Retention",
        "security": "Security measures",
    },
}
NOTICE = {
    "fr": {
        "purpose": "Pourquoi ce traitement",
        "sources": "Ce qui est lu et ce qui est conservé",
        "case": "Ce qu'un dossier d'examen peut entraîner",
        "recipients": "Destinataires",
        "transfers": "Stockage et transferts",
        "retention": "Durées de conservation",
        "rights": "Vos droits",
        "objection": "Droit d'opposition",
        "complaint": "Réclamation",
    },
    "en": {
        "purpose": "Why",
        "sources": "What is read and what is kept",
        "case": "What a review case can lead to",
        "recipients": "Recipients",
        "transfers": "Storage and transfers",
        "retention": "Retention",
        "rights": "Your rights",
        "objection": "Right to object",
        "complaint": "Complaint",
    },
}
DPIA = {
    "fr": {
        "description": "1. Description du traitement",
        "necessity": "2. Nécessité et proportionnalité",
        "risks": "3. Risques pour les droits et libertés des personnes",
        "measures": "4. Mesures prévues",
    },
    "en": {
        "description": "1. Description of the processing",
        "necessity": "2. Necessity and proportionality",
        "risks": "3. Risks to the rights and freedoms of people",
        "measures": "4. Measures",
    },
}


def parts(ws: Workspace, kind: str, language: str, headings: dict[str, dict[str, str]]) -> Any:
    text = render_markdown(ws, kind, language)
    found = sections(text)
    wanted = headings[language]
    assert set(wanted.values()) <= set(found), sorted(found)
    return text, {item: flat(found[heading]) for item, heading in wanted.items()}


def protection(language: str) -> str:
    """How the documents state the disclosure auditor's level (``purpose.protection_half_days``
    is 4 in the full workspace, not the default 3)."""
    return "4 demi-journées sans trace" if language == "fr" else "4 half-days without a trace"


def check_recipients(ws: Workspace, text: str, language: str) -> None:
    """Every recipient derived from the configuration, and each in its own words."""
    expected = processing.recipients(ws)
    for r in expected:
        assert flat(r.text(language)) in text, r.text(language)
    for role in ("manager", "hr_reviewer", "staff_rep", "dpo", "operator"):
        assert label(role, language, "role") in text, role
    assert OUTSIDE.holder in text
    assert OUTSIDE.contract_ref in text
    assert "Hébergeur Exemple SAS" in text
    assert "administrateurs systèmes de la DSI" in text
    assert "service de la paie" in text


def check_retention(ws: Workspace, text: str, language: str) -> None:
    """Every kind of record the purge handles, with its period from the configuration."""
    periods = schedule(ws)
    assert {p.record for p in periods} >= {
        "records",
        "cases",
        "evidence",
        "case_answers",
        "notifications",
        "objections",
        "access_requests",
        "statements",
        "accounts",
        "sessions",
        "tokens",
        "audit",
        "alerts",
        "directory",
        "schedule",
    }
    for p in periods:
        assert label(p.record, language, "record") in text, p.record
        assert flat(p.text(language)) in text, p.record
    for value in RETENTION.values():
        assert str(value) in text
    assert str(ws.register.purpose.retention_after_month_end_days) in text


# --- art. 30(1): the register entry ------------------------------------------------------------


@pytest.mark.parametrize("language", LANGS)
def test_a1_register_entry_carries_every_item_of_art_30(full: Workspace, language: str) -> None:
    """Art. 30(1)(a)–(g): controller and DPO, purposes and legal basis, categories of data
    subjects and of data, recipients, transfers, retention of every record kind, security
    measures — each from the configuration."""
    _, doc = parts(full, "register", language, REGISTER)
    controller = full.register.controller
    assert controller.name in doc["controller"]
    assert controller.address in doc["controller"]
    assert controller.dpo_contact in doc["controller"]
    assert label("public_task", language, "legal_basis") in doc["purpose"]
    assert "6(1)(e)" in doc["purpose"]
    assert "2016-151" in doc["purpose"]
    assert full.register.purpose.legal_text in doc["purpose"]
    for subject in words(full, "data_subject", processing.data_subjects(), language):
        assert subject in doc["subjects"]
    for category in words(full, "data_category", processing.data_categories(full), language):
        assert category in doc["subjects"]
    assert "numéro de bureau" in doc["subjects"]
    for source in words(full, "source", processing.sources(full), language):
        assert source in doc["sources"]
    assert label("directory_csv", language, "source") in doc["sources"]
    assert label("schedule", language, "source") in doc["sources"]
    check_recipients(full, doc["recipients"], language)
    assert OUTSIDE.safeguards in doc["transfers"]
    assert OUTSIDE.country in doc["transfers"]
    assert INSIDE.location in doc["transfers"]
    assert ("Aucun transfert" if language == "fr" else "No transfer") not in doc["transfers"]
    check_retention(full, doc["retention"], language)
    for measure in processing.security_measures(full):
        assert measure[1 if language == "en" else 0] in doc["security"]
    assert "sauvegardes chiffrées hors site" in doc["security"]
    assert protection(language) in doc["security"]  # the disclosure auditor (E7)


# --- art. 13 (and 14, 21): the notice -----------------------------------------------------------


@pytest.mark.parametrize("language", LANGS)
def test_a7_notice_carries_every_item_of_art_13(full: Workspace, language: str) -> None:
    """Art. 13(1)–(2) and 14(2)(f): who and how to reach them, the DPO, purposes and legal basis
    (legitimate interests: not applicable), recipients, transfers, retention, each right and how
    to exercise it, the right to complain to the CNIL, the source, automated decisions — and what
    a case can lead to, and the right to object apart (art. 21(4))."""
    text, doc = parts(full, "notice", language, NOTICE)
    head = flat(text.split("\n## ", 1)[0])
    controller = full.register.controller
    for value in (controller.name, controller.address, controller.dpo_contact):
        assert value in head
    assert label("public_task", language, "legal_basis") in doc["purpose"]
    assert "2016-151" in doc["purpose"]
    assert full.register.purpose.legal_text in doc["purpose"]
    assert ("intérêt légitime" if language == "fr" else "Legitimate interests") in doc["purpose"]
    assert ("sans objet" if language == "fr" else "not applicable") in doc["purpose"]
    for source in words(full, "source", processing.log_sources(full), language):
        assert source in doc["sources"]
    assert "art. 14" in doc["sources"]
    assert ("annuaire" if language == "fr" else "directory") in doc["sources"]
    assert ("planning" if language == "fr" else "schedule") in doc["sources"]
    check_recipients(full, doc["recipients"], language)
    assert OUTSIDE.holder in doc["transfers"]
    assert OUTSIDE.safeguards in doc["transfers"]
    check_retention(full, doc["retention"], language)
    rights = doc["rights"]
    for article in ("15", "16", "17", "18", "20", "22"):
        assert f"art. {article}" in rights, article
    assert controller.dpo_contact in rights  # how to exercise them
    assert ("un mois" if language == "fr" else "one month") in rights
    assert "17(3)(b)" in rights  # the limits of erasure
    assert "21" in doc["objection"]
    assert "art. 21" not in rights
    assert cnil_complaint(language) in doc["complaint"]
    assert "sanction" in doc["case"]
    assert ("automatiquement" if language == "fr" else "automatically") in doc["case"]


def test_g2_one_cnil_address_for_the_notice_and_the_access_export(full: Workspace) -> None:
    """The CNIL's address is defined once: the notice, the DPIA and the access export's rights
    quote the same text."""
    address = cnil_complaint("fr")
    assert address in render_markdown(full, "notice", "fr")
    assert address in flat(render_markdown(full, "dpia", "fr"))
    assert any(address in right for right in RIGHTS_FR)
    assert "75007" not in " ".join(RIGHTS_FR)


# --- art. 35(7): the DPIA -----------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGS)
def test_a2_dpia_carries_every_item_of_art_35_7(full: Workspace, language: str) -> None:
    """Art. 35(7)(a) description, (b) necessity and proportionality — argued against the CNIL's
    position on permanent monitoring, (c) the risks after the CNIL's PIA method (each feared
    event, severity and likelihood before and after), (d) the measures."""
    _, doc = parts(full, "dpia", language, DPIA)
    description = doc["description"]
    for source in words(full, "source", processing.sources(full), language):
        assert source in description
    check_recipients(full, description, language)
    check_retention(full, description, language)
    necessity = doc["necessity"]
    assert "2016-151" in necessity
    assert full.register.purpose.dpia_subsidiarity in necessity
    assert ("surveillance permanente" if language == "fr" else "permanent monitoring") in necessity
    assert "CNIL" in necessity
    risks = doc["risks"]
    for event in GROUPS["feared_event"]:
        assert label(event, language, "feared_event") in risks, event
    for level in ("maximum", "significant", "limited", "negligible"):
        assert label(level, language, "level") in risks
    measures = doc["measures"]
    for event in GROUPS["feared_event"]:
        assert label(event, language, "feared_event").capitalize() in measures
    assert ("mode recoupement" if language == "fr" else "cross-check mode") in measures
    assert protection(language) in measures  # the disclosure auditor (E7)
    assert protection(language) in necessity


# --- no code reaches a French reader ------------------------------------------------------------

FRENCH_WORDS = frozenset(
    {"agent", "agents", "trace", "notice", "audit", "sessions", "notifications", "objections"}
)
"""Codes that are also ordinary French words."""


def raw_codes(text: str) -> list[str]:
    """Codes of ``policy/wording.py`` written as codes in ``text`` (backticked values aside:
    the configuration fingerprint). A label left equal to its code is a raw code too."""
    text = re.sub(r"`[^`]*`", "", text)
    found = []
    for members in codes().values():
        for code in members:
            if code in FRENCH_WORDS:
                continue
            if re.search(rf"(?<![\w.@/-]){re.escape(code)}(?![\w@-])", text):
                found.append(code)
    return sorted(set(found))


def test_raw_code_finder_finds_codes() -> None:
    """The finder can fail: it sees the codes the issue found in the documents."""
    assert raw_codes("Mode crosscheck ; base : public_task ; risque medium.") == [
        "crosscheck",
        "medium",
        "public_task",
    ]
    assert raw_codes("mission d'intérêt public, mode recoupement, risque modéré") == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", ["crosscheck", "declarative"])
def test_no_raw_code_in_french_documents(tmp_path: Path, kind: str, mode: str) -> None:
    """Issue 11: no ``public_task``, ``crosscheck``, ``medium``… in French documents, in either
    mode, with storage abroad configured."""
    ws = full_workspace(tmp_path)
    try:
        if mode == "declarative":
            configure(ws.paths.home, purpose={"mode": mode})
            ws = reopen(ws)
        text = render_markdown(ws, kind, "fr")
    finally:
        ws.close()
    assert raw_codes(text) == []


# --- documents follow the configuration ---------------------------------------------------------


def test_recipients_follow_the_roles_in_use(tmp_path: Path) -> None:
    """A role gets its line only once an account has it: the first manager account adds the
    managers (service aggregates, named monthly statements) to every document."""
    ws = make_workspace(tmp_path)
    before = {k: render_markdown(ws, k, "fr") for k in KINDS}
    create_account(ws.db, ws.clock, "resp.a3", PASSWORD, "manager", "A3")
    after = {k: render_markdown(ws, k, "fr") for k in KINDS}
    ws.close()
    manager = label("manager", "fr", "role")
    for kind in KINDS:
        assert manager not in before[kind], kind
        assert manager in after[kind], kind
        assert "relevé mensuel nominatif" in after[kind]
    assert label("dpo", "fr", "role") in before["register"]  # the DPO always


def test_d2_mode_changes_the_recipients_and_the_dpia_measures(tmp_path: Path) -> None:
    """'Declarative by default' is a measure only in declarative mode; in cross-check mode the
    DPIA says traces are examined in a reasoned case, HR reviewers receive cases, and the
    estimated residual risk is higher."""
    ws = make_workspace(tmp_path / "x", register_update={"mode": "crosscheck"})
    cross = sections(render_markdown(ws, "dpia", "fr"))
    cross_register = render_markdown(ws, "register", "fr")
    ws.close()
    ws = make_workspace(tmp_path / "d", register_update={"mode": "declarative"})
    decl = sections(render_markdown(ws, "dpia", "fr"))
    decl_register = render_markdown(ws, "register", "fr")
    ws.close()
    assert "mode déclaratif" in decl["4. Mesures prévues"]
    assert "mode déclaratif" not in cross["4. Mesures prévues"]
    assert "mode recoupement" in cross["4. Mesures prévues"]
    assert "aucun dossier sur les traces n'est possible" in decl_register
    assert "dossiers d'examen dont il est le relecteur nommé" in cross_register
    estimate = "Risque résiduel estimé par loyaute d'après la configuration : "
    assert estimate + "faible" in decl["3. Risques pour les droits et libertés des personnes"]
    assert estimate + "modéré" in cross["3. Risques pour les droits et libertés des personnes"]


def test_transfers_come_from_the_register_never_a_fixed_none(tmp_path: Path) -> None:
    """Issue 11: transfers were hard-coded "Aucun". Without ``[[transfers]]`` the documents say
    the logs are read on the organisation's servers; with storage abroad they name it, its
    safeguards, and its operator as a processor."""
    ws = make_workspace(tmp_path)
    before = {k: render_markdown(ws, k, "fr") for k in KINDS}
    configure(ws.paths.home, transfers=[OUTSIDE], remote=[OUTSIDE.location])
    ws = reopen(ws)
    after = {k: render_markdown(ws, k, "fr") for k in KINDS}
    ws.close()
    assert "Aucun transfert hors de l'Union européenne" in before["register"]
    assert "Aucun stockage hors de l'organisation" in before["register"]
    for kind in KINDS:
        assert OUTSIDE.holder not in before[kind]
        assert OUTSIDE.holder in after[kind], kind
        assert OUTSIDE.safeguards in after[kind], kind
    assert "Aucun transfert" not in after["register"]
    assert "sous-traitant" in sections(after["register"])["Destinataires"]


@pytest.mark.parametrize(("key", "value"), sorted(RETENTION.items()))
def test_f_every_retention_period_reaches_every_document(
    tmp_path: Path, key: str, value: int
) -> None:
    """A period changed in register.toml is the period every document prints (and the
    fingerprint changes: a longer retention is material, A4)."""
    ws = make_workspace(tmp_path)
    before = gates_mod.fingerprint(ws.settings, ws.register)
    configure(ws.paths.home, purpose={key: value})
    ws = reopen(ws)
    try:
        assert gates_mod.fingerprint(ws.settings, ws.register) != before
        changed = [p for p in schedule(ws) if str(value) in p.fr]
        assert changed, key
        for kind in KINDS:
            text = flat(render_markdown(ws, kind, "fr"))
            for period in changed:
                assert flat(period.fr) in text, (kind, period.record)
    finally:
        ws.close()


def test_a3_legal_basis_and_member_state_law_follow_the_register(tmp_path: Path) -> None:
    """Legal obligation is art. 6(1)(c); private-law staff rest on the Labour Code, not the
    public service's décret."""
    ws = make_workspace(tmp_path)
    configure(
        ws.paths.home,
        purpose={"legal_basis": "legal_obligation"},
        controller={"public_authority": False},
    )
    ws = reopen(ws)
    try:
        for kind in KINDS:
            text = render_markdown(ws, kind, "fr")
            assert "obligation légale (art. 6(1)(c) du RGPD)" in text, kind
            assert "Code du travail" in text, kind
            assert "2016-151, article 7" not in text, kind
    finally:
        ws.close()


# --- storage outside the organisation must be declared ------------------------------------------


def test_transfers_are_required_for_a_remote_location(tmp_path: Path) -> None:
    """An object-storage prefix in ingest.remote_locations that no ``[[transfers]]`` entry names:
    ``config check`` lists it (exit 78) and gate A1 fails naming it; declared, both hold."""
    ws = make_workspace(tmp_path)
    home = ws.paths.home
    ws.close()
    configure(home, remote=["s3://journaux/vpn/"])
    problems = check(home)
    assert [p.path for p in problems] == ["register.toml:transfers"]
    assert "s3://journaux/vpn/" in problems[0].message
    result = CliRunner().invoke(app, ["--home", str(home), "config", "check"])
    assert result.exit_code == 78
    with Workspace.open(home, FixedClock(NOW)) as ws:
        a1 = next(g for g in gates_mod.evaluate(ws.settings, ws.register) if g.id == "A1")
    assert not a1.ok
    assert "transfers (s3://journaux/vpn/)" in a1.reason
    configure(
        home,
        transfers=[Transfer(location="s3://journaux/", holder="DSI", internal=True)],
    )
    assert check(home) == []
    with Workspace.open(home, FixedClock(NOW)) as ws:
        assert all(g.ok for g in gates_mod.evaluate(ws.settings, ws.register) if g.id == "A1")


def test_c6_ingest_refuses_a_remote_uri_outside_the_declared_locations(tmp_path: Path) -> None:
    """A URI on storage the register does not name is refused before anything is listed there
    (no storage is contacted: the bucket does not exist)."""
    ws = make_workspace(tmp_path)
    try:
        report = ingest(ws, ["s3://non-declare/fortigate/?scheme=http"], who=SYSTEM)
    finally:
        ws.close()
    (entry,) = report.files
    assert entry.status == "refused"
    assert "non déclaré" in entry.message or "undeclared" in entry.message
    assert report.problems == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"outside_eu": True, "contract_ref": "C-1"}, "safeguards"),
        ({}, "contract_ref"),
        ({"internal": True, "holder": " "}, "holder"),
        ({"internal": True, "location": "/mnt/logs"}, "URI"),
    ],
)
def test_a_transfer_is_complete_or_refused(fields: dict[str, Any], message: str) -> None:
    """Outside the EU needs its safeguards (art. 46), a processor its contract (art. 28)."""
    data = {"location": "s3://b/", "holder": "Prestataire", **fields}
    with pytest.raises(ValueError, match=message):
        Transfer.model_validate(data)
    raw = {"transfers": [data]}
    with pytest.raises(ValueError, match="transfers"):
        Register.model_validate(raw)


def test_a_transfer_problem_names_its_dotted_path(tmp_path: Path) -> None:
    """config check reports a wrong transfer with its path, like every other setting."""
    ws = make_workspace(tmp_path)
    home = ws.paths.home
    ws.close()
    text = (home / "register.toml").read_text(encoding="utf-8")
    text += '\n[[transfers]]\nlocation = "s3://b/"\nholder = "X"\noutside_eu = true\n'
    (home / "register.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_register(home / "register.toml")
    assert [p.path for p in info.value.problems] == ["transfers.0"]


# --- PDF ----------------------------------------------------------------------------------------


def test_docs_dpia_out_pdf_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`loyaute docs dpia --out dpia.pdf` on a fresh workspace (issue 11: WeasyPrint comes with
    `make install`)."""
    monkeypatch.delenv("LOYAUTE_HOME", raising=False)
    home = tmp_path / "home"
    runner = CliRunner()
    assert runner.invoke(app, ["--home", str(home), "init"]).exit_code == 0
    assert pdf_available() is None
    for kind, language in (("dpia", "fr"), ("notice", "en")):
        out = tmp_path / f"{kind}.pdf"
        result = runner.invoke(
            app, ["--home", str(home), "docs", kind, "--lang", language, "--out", str(out)]
        )
        assert result.exit_code == 0, result.stderr
        data = out.read_bytes()
        assert data.startswith(b"%PDF-")
        assert data.rstrip().endswith(b"%%EOF")
        assert len(data) > 10_000


def test_pdf_without_weasyprint_names_the_install_command(
    full: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where WeasyPrint cannot be imported the reason is given, with the install command, and
    nothing is written."""
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    assert pdf_available()
    with pytest.raises(UsageError) as info:
        write_document(full, "notice", tmp_path / "notice.pdf")
    assert "pip install 'loyaute[pdf]'" in str(info.value)
    assert not (tmp_path / "notice.pdf").exists()
