"""The web app in a real browser: Debian's Chromium, headless, driven by Playwright's sync API,
against the demo workspace served by uvicorn on a free loopback port (D2, D3, D4, G2, E6, H1, D5).

Screenshots of the main pages are saved under test-artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import re
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from anyio.from_thread import BlockingPortal
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    expect,
    sync_playwright,
)

from loyaute import labels
from loyaute.i18n import use_lang
from tests.web.support import ROOT, Scenario, Web, build_scenario, free_port

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
)

SHOTS = ROOT / "test-artifacts" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@dataclass
class Served:
    """The demo app on a loopback port."""

    web: Web
    base: str
    scenario: Scenario
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def served(
    demo_home: Path, portal: BlockingPortal, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """uvicorn in a background thread, without access log, on this module's workspace copy."""
    web = Web.build(demo_home, tmp_path_factory.mktemp("browser") / "home", portal)
    scenario = build_scenario(web)
    port = free_port()
    config = uvicorn.Config(
        web.app,
        host="127.0.0.1",
        port=port,
        access_log=False,
        log_level="warning",
        ws="none",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield Served(web, f"http://127.0.0.1:{port}", scenario)
    server.should_exit = True
    thread.join(timeout=10)
    web.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium from the Debian package (never a downloaded browser)."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser: Browser, served: Served) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies), French."""
    ctx = browser.new_context(locale="fr-FR", accept_downloads=True, base_url=served.base)
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


def console_errors(page: Page) -> list[str]:
    """Collect the page's console errors (CSP violations are reported there) and failed
    subresources (the browser's own /favicon.ico probe aside)."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(f"{page.url}: {message.text}")

    def on_response(response: Response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            errors.append(f"{response.url}: {response.status}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    return errors


def shot(page: Page, name: str) -> None:
    """Save a full-page screenshot as a test artifact."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, served: Served, role: str) -> None:
    """Sign in through the form with the demo account of a role."""
    account = served.web.account(role)
    page.goto("/login")
    page.locator("#login").fill(account.login)
    page.locator("#password").fill(account.password)
    page.get_by_role("button", name="Se connecter").click()
    home = {"agent": "/me", "dpo": "/dpo", "hr_reviewer": "/hr", "manager": "/manager"}.get(role)
    if home:
        expect(page).to_have_url(re.compile(re.escape(served.base + home) + r"(\?.*)?$"))


def record_row(page: Page, day: str, half: str) -> Any:
    """The table row of a half-day (its action summary names the date and half-day, as a person
    reads them: "mardi 3 mars 2026 matin")."""
    with use_lang("fr"):
        named = f"{labels.day(day)} {labels.label('half', half)}"
    return page.locator("tbody tr").filter(has=page.locator("summary", has_text=named))


def test_agent_declares_contests_and_downloads_the_export(
    context: BrowserContext, served: Served, tmp_path: Path
) -> None:
    """E6/D2/D4/G2: the agent sees the calendar (an SVG with a title, and the same data in the
    table beside it), declares a telework half-day, contests another (it becomes "contesté (gelé)")
    and downloads the access export with its four files."""
    page = context.new_page()
    errors = console_errors(page)
    sign_in(page, served, "agent")
    calendar = page.get_by_role("group", name="Calendrier des demi-journées")
    expect(calendar).to_have_count(1)
    weeks = calendar.locator("svg")
    assert weeks.count() >= 4, "one chart per week of the month"
    expect(weeks.first.locator("title")).to_contain_text("Semaine du")
    expect(page.locator("table.cards caption").first).to_contain_text(
        "Ce qu'un relecteur habilité pourrait voir"
    )
    shot(page, "agent-calendar")

    day, half = served.scenario.declare_at
    row = record_row(page, day, half)
    expect(row).to_have_count(1)
    declaration = row.locator("td").nth(5)
    expect(declaration).not_to_contain_text("visite à domicile")
    row.locator("summary").click()
    row.locator("select[name=kind]").select_option("home_visit")
    row.get_by_role("button", name="Déclarer").click()
    expect(page).to_have_url(re.compile(r"/me\?done=declared$"))
    expect(record_row(page, day, half).locator("td").nth(5)).to_contain_text("visite à domicile")

    day, half = served.scenario.dispute_at
    row = record_row(page, day, half)
    expect(row.locator("td").nth(3)).not_to_have_text("contesté (gelé)")
    row.locator("summary").click()
    row.locator("input[name=reason]").fill("J'étais en visioconférence sur mon téléphone")
    row.get_by_role("button", name="Contester").click()
    expect(page).to_have_url(re.compile(r"/me\?done=disputed$"))
    expect(record_row(page, day, half).locator("td").nth(3)).to_have_text("contesté (gelé)")
    shot(page, "agent-after-dispute")

    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("Télécharger toutes mes données")).click()
    target = tmp_path / "export.zip"
    info.value.save_as(target)
    with zipfile.ZipFile(target) as z:
        assert set(z.namelist()) == {
            "records.csv",
            "study.csv",
            "viewers.csv",
            "export.json",
            "index.html",
        }
        records = z.read("records.csv").decode("utf-8")
    assert any(day in line and half in line and "disputed" in line for line in records.splitlines())
    assert errors == []


def test_dpo_sees_the_audit_chain_intact(context: BrowserContext, served: Served) -> None:
    """H1: the DPO opens the access log from the navigation and reads that the chain is intact."""
    page = context.new_page()
    errors = console_errors(page)
    sign_in(page, served, "dpo")
    expect(page.locator("h1")).to_have_text("Tableau de bord du DPO")
    shot(page, "dpo-console")
    page.get_by_role("navigation").get_by_role("link", name="Journal des accès").click()
    expect(page).to_have_url(served.base + "/dpo/audit")
    expect(page.get_by_role("status")).to_contain_text("Chaîne intacte")
    expect(page.locator("tbody tr").first).to_be_visible()
    shot(page, "dpo-audit")
    assert errors == []


def test_hr_reviewer_opens_a_case_from_the_form(context: BrowserContext, served: Served) -> None:
    """D5/E4: the HR reviewer opens a case (one agent, a period, a written reason) from the form
    and lands on the case page, the agent re-identified for that period only."""
    page = context.new_page()
    errors = console_errors(page)
    sign_in(page, served, "hr_reviewer")
    shot(page, "hr-cases")
    form = served.scenario.new_case
    page.locator("#agent_id").fill(form["agent_id"])
    page.locator("#reason").fill("Réclamation écrite du service sur cette semaine")
    page.locator("#day_from").fill(form["day_from"])
    page.locator("#day_to").fill(form["day_to"])
    page.get_by_role("button", name="Ouvrir le dossier").click()
    expect(page).to_have_url(re.compile(r"/hr/cases/\d+$"))
    with served.web.workspace() as ws:
        name = ws.db.conn.execute(
            "SELECT display_name FROM agents WHERE agent_id = ?", (form["agent_id"],)
        ).fetchone()[0]
    expect(page.locator("h1")).to_contain_text(name)
    with use_lang("fr"):
        period = f"{labels.day(form['day_from'], 'long')} → {labels.day(form['day_to'], 'long')}"
    expect(page.locator("main")).to_contain_text(period)
    expect(page.get_by_role("group", name="Demi-journées de la période")).to_have_count(1)
    shot(page, "hr-case")
    assert errors == []


def test_sign_in_with_the_keyboard_only(context: BrowserContext, served: Served) -> None:
    """The sign-in form is reached with Tab, filled and submitted with Enter (RGAA)."""
    account = served.web.account("agent")
    page = context.new_page()
    page.goto("/login")
    presses = 0
    while page.evaluate("document.activeElement && document.activeElement.id") != "login":
        presses += 1
        assert presses <= 4, "the login field is not reached within four Tab presses"
        page.keyboard.press("Tab")
    page.keyboard.type(account.login)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(account.password)
    page.keyboard.press("Enter")
    expect(page).to_have_url(served.base + "/me")
    shot(page, "keyboard-sign-in")


@pytest.mark.parametrize(
    ("role", "paths"),
    [
        ("manager", ["/manager", "/reports/presence"]),
        (
            "staff_rep",
            ["/staff", "/reports/validity", "/reports/presence?by=job_family&period=month"],
        ),
        ("operator", ["/operator"]),
        (None, ["/login", "/login?lang=en"]),
    ],
)
def test_main_pages_render_without_console_errors(
    context: BrowserContext, served: Served, role: str | None, paths: list[str]
) -> None:
    """The main pages load in the browser without a console error (no CSP violation: no inline
    script or style is refused) and without a horizontal scroll bar at 1280 px."""
    page = context.new_page()
    errors = console_errors(page)
    if role:
        sign_in(page, served, role)
    for path in paths:
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        expect(page.locator("h1")).to_be_visible()
        name = f"{role or 'anonymous'}{re.sub(r'[^a-z0-9]+', '-', path)}".rstrip("-")
        shot(page, name)
    assert errors == []


def test_the_notice_renders_under_the_csp(context: BrowserContext, served: Served) -> None:
    """A7: the information notice, reached from the sign-in page, loads without the browser
    refusing any of it under the site's CSP."""
    page = context.new_page()
    errors = console_errors(page)
    sign_in(page, served, "agent")
    page.get_by_role("link", name=re.compile("notice d'information")).first.click()
    expect(page).to_have_url(served.base + "/notice")
    expect(page.locator("h1")).to_be_visible()
    shot(page, "notice")
    assert errors == []
