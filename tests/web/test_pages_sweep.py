"""Every page of every role in real Chromium, at 1280 px and at 390 px (a phone): no horizontal
overflow at 390 px, no axe-core violation of WCAG 2.1 A/AA (RGAA 4.1), no raw code from the list
of known codes in the visible French text (issue 12).

One browser for the module, one context per role (signed in once); axe-core comes from the npm
package pinned in tests/web/node (``make node-test-deps``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.web.french import PAGES, fill, problems
from tests.web.test_browser import ARGS, CHROMIUM, Served, served  # noqa: F401 - fixture

AXE = Path(__file__).resolve().parent / "node" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390)
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium from the Debian package."""
    assert AXE.is_file(), f"{AXE} is missing: run `make node-test-deps`"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


def _check(page: Any, url: str, path: str, width: int) -> list[str]:
    found = []
    if width < 400:
        wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        if wide[0] > wide[1]:
            found.append(f"{url} at {width}px: page {wide[0]}px wide (horizontal scrolling)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }",
        TAGS,
    )
    found += [
        f"{url} at {width}px: axe {v['id']} ({v['impact']}) {json.dumps(v['nodes'])}"
        for v in result
    ]
    text = page.evaluate("() => document.body.innerText")
    lang_en = page.evaluate(
        "() => Array.from(document.querySelectorAll('[lang=en]')).map(e => e.innerText)"
    )
    for english in lang_en:
        text = text.replace(english, " ")
    found += [f"{url}: {p}" for p in problems(text, path) if p.startswith("raw code")]
    return found


@pytest.mark.parametrize("role", sorted(PAGES))
def test_every_page_of_a_role_at_desktop_and_phone_width(
    browser: Browser,
    served: Served,  # noqa: F811 - the imported fixture
    role: str,
) -> None:
    """Each page of the role at 1280 and 390 px: fits the phone's width, passes axe-core at
    WCAG 2.1 A/AA, shows no raw code."""
    context = browser.new_context(
        locale="fr-FR",
        base_url=served.base,
        bypass_csp=True,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        if role != "anonymous":
            account = served.web.account(role)
            page.goto("/login")
            page.locator("#login").fill(account.login)
            page.locator("#password").fill(account.password)
            page.get_by_role("button", name="Se connecter").click()
            page.wait_for_url(lambda u: "/login" not in u)
        previous = (served.web.clock.now().date().replace(day=1) - timedelta(days=1)).strftime(
            "%Y-%m"
        )
        found: list[str] = []
        visited = 0
        for path in PAGES[role]:
            url = fill(path, served.scenario, previous)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                response = page.goto(url)
                assert response is not None
                assert response.status in (200, 404), (url, response.status)
                found += _check(page, url, path, width)
                visited += 1
        assert visited == 2 * len(PAGES[role])
        assert not found, "\n".join(found)
    finally:
        context.close()
