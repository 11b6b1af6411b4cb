"""Sign-in with the organisation's OpenID provider, against a real one: npm's oidc-provider run
by Node on loopback (tests/idp), loyaute served by uvicorn. A real browser signs in as an agent
and as an HR reviewer; direct HTTP walks every way it must fail — bad state, replayed code,
wrong audience, expired token, unknown user, user without a mapped group, provider down — each
with its French message (English with ?lang=en) and an audit record. No mock stands in for the
provider."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from loyaute.config import OidcSettings, RoleGroup, Settings
from loyaute.identity import parse_directory, store_directory
from loyaute.templates import loyaute_toml
from loyaute.workspace import Workspace, init
from tests.builders import DIRECTORY
from tests.idp import (
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    Provider,
    Served,
    ShiftedClock,
    available,
    free_port,
    signing_key,
    walk,
)

pytestmark = pytest.mark.skipif(
    not available(), reason="node and tests/idp/node/node_modules (make node-test-deps) needed"
)

USERS: dict[str, dict[str, Any]] = {
    # provider account → claims
    "jdupont": {"preferred_username": "jdupont", "name": "Jeanne Dupont", "groups": ["GG-Agents"]},
    "pdurand": {
        "preferred_username": "LENORD\\pdurand",
        "name": "Paule Durand",
        "groups": ["GG-Agents", "GG-RH-Relecteurs"],
    },
    "inconnu": {"preferred_username": "inconnu", "groups": ["GG-Agents"]},
    "mleroy": {"preferred_username": "mleroy@lenord.fr", "groups": ["GG-Cantine"]},
    "hpetit": {"preferred_username": "hpetit", "groups": ["GG-Agents"]},
}
ROLES = [
    RoleGroup(group="GG-RH-Relecteurs", role="hr_reviewer"),
    RoleGroup(group="GG-Agents", role="agent"),
]


def make_workspace(home: Path, issuer: str, public_url: str, **oidc: Any) -> Path:
    """A workspace with the four agents of tests/builders.py and [oidc] pointing at ``issuer``."""
    init(home)
    settings = Settings(
        oidc=OidcSettings(
            enabled=True,
            issuer=issuer,
            client_id=CLIENT_ID,
            public_url=public_url,
            scopes=["openid", "profile", "email", "groups"],
            roles=ROLES,
            **oidc,
        )
    )
    (home / "loyaute.toml").write_text(loyaute_toml(settings), encoding="utf-8")
    secret = home / "secrets" / "oidc-client-secret"
    secret.write_text(CLIENT_SECRET + "\n", encoding="utf-8")
    os.chmod(secret, 0o600)
    (home / "directory.csv").write_text(DIRECTORY, encoding="utf-8")
    with Workspace.open(home) as ws:
        store_directory(
            ws.db, parse_directory(home / "directory.csv", ws.settings.directory), ws.today()
        )
    return home


@dataclass
class Site:
    """loyaute and its provider, for the module."""

    home: Path
    app: Served
    idp: Provider
    clock: ShiftedClock

    def audit(self, action: str) -> list[tuple[str, str]]:
        """(actor, reason) of the audit entries of ``action``."""
        with Workspace.open(self.home, self.clock) as ws:
            return [(e.actor, e.reason) for e in ws.audit.entries() if e.action == action]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("oidc")
    app_port = free_port()
    app_base = f"http://127.0.0.1:{app_port}"
    idp = Provider(folder, app_base, USERS, misaddressed="hpetit")
    clock = ShiftedClock()
    home = make_workspace(folder / "home", idp.issuer, app_base)
    app = Served(home, clock, port=app_port)
    try:
        yield Site(home, app, idp, clock)
    finally:
        app.stop()
        idp.stop()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(follow_redirects=False, timeout=20, trust_env=False) as c:
        yield c


def refused(site: Site, client: httpx.Client, callback: str, lang: str = "") -> httpx.Response:
    if lang:
        callback += "&lang=" + lang
    return client.get(callback)


def assert_refusal(site: Site, response: httpx.Response, kind: str, french: str) -> None:
    assert response.status_code in (403, 503), response.text
    assert french in response.text
    assert "loyaute_session" not in response.headers.get("set-cookie", "")
    assert kind in [reason for _, reason in site.audit("sign_in_refused")]


# --- signing in -----------------------------------------------------------------------------


def test_a_signed_in_agent_gets_a_strict_session_and_an_account_without_password(
    site: Site, client: httpx.Client
) -> None:
    response = client.get(walk(client, site.app.base, "jdupont"))
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert "loyaute_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert 'content="0;url=/me"' in response.text
    me = client.get(site.app.base + "/api/me").json()
    assert me == {"login": "jdupont", "role": "agent", "agent_id": "A1"}
    with Workspace.open(site.home, site.clock) as ws:
        row = ws.db.accounts.get("jdupont")
        assert row is not None
        assert (row.origin, row.password_hash) == ("oidc", "!")
        assert row.subject == f"{site.idp.issuer}|jdupont"
    assert ("jdupont", "oidc") in site.audit("sign_in")
    # the account has no password loyaute would accept
    local = httpx.post(
        site.app.base + "/api/login", json={"login": "jdupont", "password": "!"}, timeout=10
    )
    assert local.status_code == 401


def test_roles_come_from_the_first_mapped_group_and_logins_match_like_logs(
    site: Site, client: httpx.Client
) -> None:
    """``LENORD\\pdurand`` matches the directory's ``pdurand``; in the HR group and the agents'
    group, the first mapping listed (HR reviewer) wins."""
    response = client.get(walk(client, site.app.base, "pdurand"))
    assert response.status_code == 200
    assert 'content="0;url=/hr"' in response.text
    me = client.get(site.app.base + "/api/me").json()
    assert (me["role"], me["agent_id"]) == ("hr_reviewer", "A3")


# --- every way it must fail -------------------------------------------------------------------


def test_a_bad_state_is_refused(site: Site, client: httpx.Client) -> None:
    callback = walk(client, site.app.base, "jdupont")
    parts = dict(parse_qsl(urlsplit(callback).query))
    parts["state"] = "forged" + parts["state"][6:]
    forged = f"{site.app.base}/auth/oidc/callback?{urlencode(parts)}"
    assert_refusal(site, client.get(forged), "bad_state", "inconnue, expirée ou déjà utilisée")
    english = client.get(forged + "&lang=en")
    assert "unknown, expired or already used" in english.text


def test_a_callback_from_another_browser_is_refused(site: Site, client: httpx.Client) -> None:
    """The state is bound to the browser that began the sign-in (login CSRF)."""
    callback = walk(client, site.app.base, "jdupont")
    with httpx.Client(follow_redirects=False, timeout=20, trust_env=False) as other:
        response = other.get(callback)
    assert_refusal(site, response, "bad_state", "inconnue, expirée ou déjà utilisée")


def test_a_replayed_code_is_refused(site: Site, client: httpx.Client) -> None:
    """A code used once, presented again with a fresh state: the provider refuses it."""
    callback = walk(client, site.app.base, "jdupont")
    assert client.get(callback).status_code == 200
    code = dict(parse_qsl(urlsplit(callback).query))["code"]
    fresh = walk(client, site.app.base, "jdupont")
    parts = dict(parse_qsl(urlsplit(fresh).query))
    parts["code"] = code
    replay = f"{site.app.base}/auth/oidc/callback?{urlencode(parts)}"
    assert_refusal(site, client.get(replay), "code_refused", "déjà utilisé ou expiré")


def test_a_token_for_another_audience_is_refused(site: Site, client: httpx.Client) -> None:
    """The provider addresses hpetit's ID token to its 'intranet' client."""
    response = client.get(walk(client, site.app.base, "hpetit"))
    assert_refusal(site, response, "wrong_audience", "destiné à une autre application")


def test_an_expired_token_is_refused(site: Site, client: httpx.Client) -> None:
    """The provider's ID tokens live five minutes; loyaute checks this one eight minutes later
    (the sign-in itself may take ten)."""
    callback = walk(client, site.app.base, "jdupont")
    site.clock.offset = timedelta(minutes=8)
    try:
        response = client.get(callback)
    finally:
        site.clock.offset = timedelta()
    assert_refusal(site, response, "token_expired", "a expiré")


def test_a_person_no_agent_matches_is_refused(site: Site, client: httpx.Client) -> None:
    response = client.get(walk(client, site.app.base, "inconnu"))
    assert_refusal(site, response, "unknown_user", "rattaché à aucun agent")
    assert ("oidc:inconnu", "unknown_user") in site.audit("sign_in_refused")


def test_a_person_in_no_mapped_group_is_refused(site: Site, client: httpx.Client) -> None:
    """mleroy is agent A2 of the directory, but the provider gives them no mapped group: no
    role is given by default, not even agent."""
    callback = walk(client, site.app.base, "mleroy")
    assert_refusal(site, client.get(callback), "no_role", "aucun groupe")
    with Workspace.open(site.home, site.clock) as ws:
        assert ws.db.accounts.get("mleroy@lenord.fr") is None


def test_a_provider_that_is_down_is_reported(
    tmp_path: Path, client: httpx.Client, site: Site
) -> None:
    port = free_port()
    home = make_workspace(tmp_path / "home", f"http://localhost:{free_port()}", "")
    served = Served(home, ShiftedClock(), port=port)
    try:
        response = client.get(served.base + "/auth/oidc/start")
        assert response.status_code == 503
        assert "ne répond pas" in response.text
        with Workspace.open(home) as ws:
            assert [e.reason for e in ws.audit.entries() if e.action == "sign_in_refused"] == [
                "provider_down"
            ]
    finally:
        served.stop()


def test_rotated_keys_are_fetched_again(tmp_path: Path, client: httpx.Client) -> None:
    """The provider restarts with a new signing key: the next ID token names a key loyaute has
    not seen, and loyaute fetches the keys again instead of refusing."""
    app_port = free_port()
    base = f"http://127.0.0.1:{app_port}"
    idp = Provider(tmp_path, base, USERS, keys=[signing_key("old")])
    home = make_workspace(tmp_path / "home", idp.issuer, base)
    served = Served(home, ShiftedClock(), port=app_port)
    try:
        assert client.get(walk(client, base, "jdupont")).status_code == 200
        idp.stop()
        idp = Provider(tmp_path, base, USERS, keys=[signing_key("new")], port=idp.port)
        client.cookies.clear()
        assert client.get(walk(client, base, "jdupont")).status_code == 200
    finally:
        served.stop()
        idp.stop()


def test_local_passwords_can_be_switched_off(tmp_path: Path, client: httpx.Client) -> None:
    port = free_port()
    home = make_workspace(tmp_path / "home", "http://localhost:9", "", local_passwords=False)
    served = Served(home, ShiftedClock(), port=port)
    try:
        page = client.get(served.base + "/login")
        assert 'name="password"' not in page.text
        assert "/auth/oidc/start" in page.text
        response = client.post(served.base + "/login", data={"login": "x", "password": PASSWORD})
        assert response.status_code == 403
        assert "désactivée" in response.text
        api = client.post(served.base + "/api/login", json={"login": "x", "password": "y"})
        assert api.status_code == 403
        with Workspace.open(home) as ws:
            assert [e.reason for e in ws.audit.entries() if e.action == "sign_in_refused"] == [
                "local_passwords_off",
                "local_passwords_off",
            ]
    finally:
        served.stop()


# --- in a real browser ------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


def browser_sign_in(browser: Any, site: Site, login: str) -> Any:
    """Sign in from loyaute's sign-in page through the provider's; the page where it lands."""
    context = browser.new_context(locale="fr-FR")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(site.app.base + "/login")
    page.click("#oidc")
    page.wait_for_url(f"{site.idp.issuer}/**")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    return page


def test_an_agent_and_an_hr_reviewer_sign_in_in_a_browser(site: Site, browser: Any) -> None:
    """Through the provider's own pages and back: each lands on their home, signed in with a
    session the browser keeps (SameSite=Strict although the sign-in came from another site);
    signing out ends the loyaute session and the provider's."""
    agent = browser_sign_in(browser, site, "jdupont")
    agent.wait_for_url(site.app.base + "/me")
    assert "jdupont" in agent.inner_text("header")
    hr = browser_sign_in(browser, site, "pdurand")
    hr.wait_for_url(site.app.base + "/hr")
    assert "Dossiers d'examen" in hr.inner_text("nav")
    hr.context.close()

    agent.click("header form button[type=submit]")  # Se déconnecter
    agent.wait_for_url(f"{site.idp.issuer}/**")  # the provider's sign-out
    agent.click("button[name=logout]")
    agent.wait_for_url(site.app.base + "/login")
    agent.goto(site.app.base + "/me")
    assert agent.url == site.app.base + "/login"
    # the provider's session is over too: a new sign-in asks for the login again
    agent.click("#oidc")
    agent.wait_for_selector("input[name=login]")
    agent.context.close()
