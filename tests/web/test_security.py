"""Sessions, sign-in, CSRF, headers and logs of the web app (rule H3: OWASP ASVS level 2; H1; E5).

Sessions are random tokens stored hashed, in HttpOnly, SameSite=Strict cookies (Secure over
https), with an idle and an absolute expiry; sign-out ends them on the server. Sign-in answers the
same, after the same single password check, for a wrong password, an unknown login, a disabled
account and an address in backoff; failures slow down the address they come from, never lock the
owner out of their usual address; each address has a budget of attempts; a process runs a bounded
number of password checks at once. Every form of a session carries its CSRF token. Every
response carries the security headers; pages hold no inline script and no personal data in their
URLs; the server keeps no access log.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote_plus

import httpx
import pytest
from argon2 import PasswordHasher

from loyaute.web.app import create_app
from loyaute.web.context import SESSION_COOKIE
from loyaute.workspace import Workspace
from tests.web.support import (
    ANONYMOUS,
    ROLES,
    Client,
    Scenario,
    Web,
    api_routes,
    body,
    copy_workspace,
    csrf_of,
    declared_roles,
    fill,
    find_markers,
    free_port,
    personal_markers,
    read_accounts,
    read_page,
)

MAX_FAILURES = 5


def session_cookie_header(response: httpx.Response) -> str:
    """The Set-Cookie header of the session cookie."""
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)]
    assert len(headers) == 1, response.headers.get_list("set-cookie")
    return headers[0]


def attributes(set_cookie: str) -> dict[str, str]:
    """Cookie attributes, lower-cased names."""
    out = {}
    for part in set_cookie.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        out[name.lower()] = value
    return out


def digest(token: str) -> str:
    """How the store keys a session token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def session_rows(web: Web) -> set[str]:
    """Token hashes of the open sessions."""
    with web.workspace() as ws:
        return {r[0] for r in ws.db.conn.execute("SELECT token_hash FROM sessions")}


# --- cookies and sessions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1", "https://127.0.0.1", "http://loyaute.example.fr"]
)
def test_session_cookie_is_httponly_strict_and_secure_over_https(web: Web, base_url: str) -> None:
    """H3: the session cookie is HttpOnly and SameSite=Strict for the whole site, and Secure
    whenever the request is https or the host is not the loopback (behind a TLS proxy)."""
    agent = web.account("agent")
    for url, kwargs in (
        ("/login", {"data": {"login": agent.login, "password": agent.password}}),
        ("/api/login", {"json": {"login": agent.login, "password": agent.password}}),
    ):
        r = web.client(base_url=base_url).post(url, **kwargs)
        assert r.status_code in (200, 303), (url, r.status_code)
        attrs = attributes(session_cookie_header(r))
        assert "httponly" in attrs, url
        assert attrs.get("samesite", "").lower() == "strict", url
        assert attrs.get("path") == "/", url
        if not base_url.startswith("http://127.0.0.1"):
            assert "secure" in attrs, (base_url, url)


def test_sessions_expire_when_idle(fresh_web: Web) -> None:
    """H3: a session unused for 30 minutes is over; each use pushes the limit back."""
    c = fresh_web.sign_in("agent")
    assert c.get("/api/me").status_code == 200
    for _ in range(3):
        fresh_web.clock.instant += timedelta(minutes=29)
        assert c.get("/api/me").status_code == 200
    fresh_web.clock.instant += timedelta(minutes=31)
    assert c.get("/api/me").status_code == 401
    r = c.get("/me")
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    assert digest(c.token or "") not in session_rows(fresh_web)


def test_sessions_end_after_eight_hours_even_when_used(fresh_web: Web) -> None:
    """H3: a session has an absolute lifetime of 8 hours, however often it is used."""
    c = fresh_web.sign_in("agent")
    elapsed = timedelta()
    while elapsed + timedelta(minutes=25) < timedelta(hours=8):
        fresh_web.clock.instant += timedelta(minutes=25)
        elapsed += timedelta(minutes=25)
        assert c.get("/api/me").status_code == 200, elapsed
    fresh_web.clock.instant += timedelta(minutes=25)
    assert c.get("/api/me").status_code == 401


@pytest.mark.parametrize("route", ["/logout", "/api/logout"])
def test_sign_out_ends_the_session_on_the_server(web: Web, route: str) -> None:
    """H3: after sign-out the old token is worthless, even replayed by someone who kept it."""
    c = web.sign_in("dpo")
    token = c.token
    assert token
    assert digest(token) in session_rows(web)
    data = {"data": {"csrf": c.csrf}} if route == "/logout" else {}
    r = c.post(route, **data)
    assert r.status_code == (303 if route == "/logout" else 200)
    assert (
        "max-age=0" in session_cookie_header(r).lower()
        or "expires=" in session_cookie_header(r).lower()
    )
    assert digest(token) not in session_rows(web)
    replay = web.client(cookies={SESSION_COOKIE: token})
    assert replay.get("/api/me").status_code == 401
    page = replay.get("/dpo")
    assert page.status_code == 303
    assert page.headers["location"] == "/login"


def test_session_tokens_and_passwords_are_stored_hashed(web: Web) -> None:
    """H3: passwords are Argon2id hashes (never the password), session tokens are stored only as
    their SHA-256."""
    c = web.sign_in("staff_rep")
    conn = sqlite3.connect(f"file:{web.home / 'store' / 'state.db'}?mode=ro", uri=True)
    try:
        hashes = dict(conn.execute("SELECT login, password_hash FROM accounts").fetchall())
        sessions = [r[0] for r in conn.execute("SELECT token_hash FROM sessions")]
    finally:
        conn.close()
    assert set(hashes) >= {a.login for a in web.accounts}
    for account in web.accounts:
        stored = hashes[account.login]
        assert stored.startswith("$argon2id$"), account.login
        assert account.password not in stored
    staff = web.account("staff_rep")
    assert PasswordHasher().verify(hashes[staff.login], staff.password)
    assert c.token not in sessions
    assert digest(c.token or "") in sessions


def test_a_password_typed_in_the_login_field_is_not_kept(fresh_web: Web) -> None:
    """H3: someone types their password in the login field; the backoff counts that failure by
    a digest of what was typed, so the password is nowhere in the database; retention forgets
    the failure once its wait is long over."""
    web = fresh_web
    typed = "Motdepasse-De-Jeanne-2026!"
    r = web.client().post("/login", data={"login": typed, "password": "jdupont"})
    assert r.status_code == 401
    state = web.home / "store" / "state.db"
    stored = b"".join(p.read_bytes() for p in sorted(state.parent.glob("state.db*")))
    assert typed.encode() not in stored
    with web.workspace() as ws:
        assert ws.db.signins.failures(typed, next(iter(_addresses(ws)))) is not None
        later = (ws.clock.now() + timedelta(days=2)).isoformat(timespec="seconds")
        assert ws.db.signins.forget_before(later, "0000") >= 1
        assert not _addresses(ws)


def _addresses(ws: Workspace) -> set[str]:
    return {str(r[0]) for r in ws.db.conn.execute("SELECT address FROM signin_failures")}


# --- sign-in ----------------------------------------------------------------------------------------


def test_wrong_password_and_unknown_login_get_the_same_answer(fresh_web: Web) -> None:
    """H3: a wrong password and an unknown login cannot be told apart (page and API)."""
    web = fresh_web
    agent = web.account("agent")
    pages = [
        web.client().post("/login", data={"login": agent.login, "password": "pas-le-bon-mot"}),
        web.client().post(
            "/login", data={"login": "personne.inconnue", "password": "pas-le-bon-mot"}
        ),
    ]
    assert pages[0].status_code == pages[1].status_code
    assert pages[0].status_code in (401, 403)
    assert pages[0].text == pages[1].text
    assert SESSION_COOKIE not in pages[0].headers.get("set-cookie", "")
    api = [
        web.client().post("/api/login", json={"login": agent.login, "password": "pas-le-bon-mot"}),
        web.client().post("/api/login", json={"login": "personne.inconnue", "password": "x"}),
    ]
    assert api[0].status_code == api[1].status_code
    assert api[0].status_code in (401, 403)
    assert api[0].json() == api[1].json()


def test_api_sign_in_refusals_use_the_documented_status(web: Web) -> None:
    """The refusals of POST /api/login carry a status that /openapi.json documents for it (it
    documents 401 "refused"); a client built from the schema must recognise them."""
    documented = set(web.app.openapi()["paths"]["/api/login"]["post"]["responses"])
    agent = web.account("agent")
    c = web.client()
    wrong = c.post("/api/login", json={"login": agent.login, "password": "pas-le-bon-mot"})
    assert str(wrong.status_code) in documented, (wrong.status_code, sorted(documented))


def test_failures_slow_down_their_address_never_the_owners(fresh_web: Web) -> None:
    """H3 (issue 10, finding 5): five wrong passwords from one address put that address in
    backoff (2 s, then doubling): even the right password from there gets the answer of a wrong
    one until the wait is over; the owner, from the address they usually sign in from, is not
    slowed at all. Fewer failures followed by a success reset the count."""
    agent = fresh_web.account("agent")
    limiter = fresh_web.app.state.limiter
    fresh_web.app.state.limiter = type(limiter)(per_login=100, per_address=1000)  # backoff only
    attacker = fresh_web.client(address="203.0.113.66")

    def owner() -> httpx.Response:
        return fresh_web.client(address="10.1.2.3").post(
            "/login", data={"login": agent.login, "password": agent.password}
        )

    assert owner().status_code == 303  # the owner's usual address, known from now on

    def attempt(password: str) -> httpx.Response:
        return attacker.post("/login", data={"login": agent.login, "password": password})

    for _ in range(MAX_FAILURES - 1):
        assert attempt("pas-le-bon-mot").status_code == 401
    assert attempt(agent.password).status_code == 303  # four failures: no wait; count reset
    wrong = None
    for _ in range(MAX_FAILURES):
        wrong = attempt("pas-le-bon-mot")
    assert wrong is not None
    waiting = attempt(agent.password)
    assert waiting.status_code == wrong.status_code == 401
    assert waiting.text == wrong.text
    assert SESSION_COOKIE not in waiting.headers.get("set-cookie", "")
    for _ in range(40):
        attempt("pas-le-bon-mot")  # a long attack from that address
    assert owner().status_code == 303  # never the owner's usual address
    fresh_web.clock.instant += timedelta(minutes=16)  # past the longest wait (15 min)
    assert attempt(agent.password).status_code == 303


def test_a_swarm_of_unknown_addresses_slows_unknown_addresses_only(fresh_web: Web) -> None:
    """H3: failures spread over many addresses the login never signed in from (a botnet) slow
    down those addresses once they pass 30 within an hour; the owner's usual address signs in."""
    agent = fresh_web.account("agent")
    usual = fresh_web.client(address="10.1.2.3")
    assert (
        usual.post("/login", data={"login": agent.login, "password": agent.password}).status_code
        == 303
    )
    for i in range(31):
        bot = fresh_web.client(address=f"198.18.{i // 250}.{i % 250 + 1}")
        assert (
            bot.post("/login", data={"login": agent.login, "password": "x" * 12}).status_code == 401
        )
    newcomer = fresh_web.client(address="198.19.0.1")
    r = newcomer.post("/login", data={"login": agent.login, "password": agent.password})
    assert r.status_code == 401  # an unknown address, during the swarm
    again = fresh_web.client(address="10.1.2.3")
    assert (
        again.post("/login", data={"login": agent.login, "password": agent.password}).status_code
        == 303
    )


class Counting:
    """A password hasher that counts its checks, and how many run at once."""

    def __init__(self, real: PasswordHasher, calls: list[str]) -> None:
        import threading  # noqa: PLC0415

        self.real = real
        self.calls = calls
        self.running = 0
        self.peak = 0
        self.lock = threading.Lock()

    def verify(self, hash_: str, password: str) -> bool:
        with self.lock:
            self.calls.append(hash_)
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            return bool(self.real.verify(hash_, password))
        finally:
            with self.lock:
                self.running -= 1

    def hash(self, password: str) -> str:
        return str(self.real.hash(password))

    def check_needs_rehash(self, hash_: str) -> bool:
        return bool(self.real.check_needs_rehash(hash_))


def test_every_refusal_costs_one_password_check(
    fresh_web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    """H3 (issue 10, finding 5): an unknown login, a wrong password, a disabled account and an
    address in backoff each cost exactly one Argon2 check and get the same answer — neither the
    answer nor its time says which logins exist."""
    from loyaute import accounts  # noqa: PLC0415

    calls: list[str] = []
    monkeypatch.setattr(accounts, "_hasher", Counting(accounts._hasher, calls))
    agent, other = fresh_web.account("agent"), fresh_web.account("dpo")
    with fresh_web.workspace() as ws:
        accounts.set_disabled(ws.db, ws.clock, other.login, True, "test")
    slow = fresh_web.client(address="203.0.113.9")
    for _ in range(MAX_FAILURES):
        slow.post("/login", data={"login": agent.login, "password": "pas-le-bon-mot"})
    cases = {
        "unknown": (fresh_web.client(), "personne.inconnue", "pas-le-bon-mot"),
        "wrong": (fresh_web.client(), agent.login, "pas-le-bon-mot"),
        "disabled": (fresh_web.client(), other.login, other.password),
        "backoff": (slow, agent.login, agent.password),
    }
    answers = {}
    for name, (client, login, password) in cases.items():
        calls.clear()
        r = client.post("/login", data={"login": login, "password": password})
        answers[name] = (r.status_code, r.text)
        assert len(calls) == 1, name
    assert len(set(answers.values())) == 1, answers


def test_password_checks_run_a_bounded_number_at_once(fresh_web: Web) -> None:
    """H3 (issue 10, finding 4): 24 sign-ins at once with unknown logins never run more than
    ``concurrent_password_checks`` Argon2 checks together in the process (64 MiB each)."""
    import threading  # noqa: PLC0415

    from loyaute import accounts  # noqa: PLC0415

    real = accounts._hasher
    tracked = Counting(real, [])
    accounts._hasher = tracked  # type: ignore[assignment]
    try:
        with fresh_web.workspace() as ws:
            limit = ws.settings.accounts.concurrent_password_checks
        threads = []
        codes: list[int] = []

        def one(i: int) -> None:
            with fresh_web.workspace() as ws:
                try:
                    found = accounts.authenticate(
                        ws.db,
                        ws.clock,
                        f"inconnu{i}",
                        "x" * 12,
                        f"10.9.0.{i}",
                        ws.settings.accounts,
                    )
                    codes.append(401 if found is None else 200)
                except accounts.PasswordChecksBusy:
                    codes.append(429)

        for i in range(24):
            threads.append(threading.Thread(target=one, args=(i,)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        accounts._hasher = real
    assert 1 <= tracked.peak <= limit
    assert sorted(set(codes)) <= [401, 429]
    assert len(codes) == 24


def test_sign_in_attempts_on_one_login_are_limited_per_address(fresh_web: Web) -> None:
    """H3: an address that spends its budget of attempts on one login gets 429 for that login —
    even with the right password, on the form and on the API — while another address is not
    throttled, nor slowed down by the first one's failures."""
    web = fresh_web
    limiter = web.app.state.limiter
    assert 1 <= limiter.per_login <= 10
    agent = web.account("agent")
    c = web.client()
    for i in range(limiter.per_login):
        r = c.post("/login", data={"login": agent.login, "password": f"pas-le-bon-mot-{i}"})
        assert r.status_code in (401, 429), i
        if r.status_code == 429:
            pytest.fail(f"refused after {i} attempts: the budget is {limiter.per_login}")
    blocked = c.post("/login", data={"login": agent.login, "password": agent.password})
    assert blocked.status_code == 429
    assert SESSION_COOKIE not in blocked.headers.get("set-cookie", "")
    api = c.post("/api/login", json={"login": agent.login, "password": agent.password})
    assert api.status_code == 429
    assert SESSION_COOKIE not in api.headers.get("set-cookie", "")
    other = web.client().post("/login", data={"login": agent.login, "password": agent.password})
    assert other.status_code == 303  # another address is neither throttled nor slowed down


def test_sign_in_attempts_are_limited_per_address(fresh_web: Web) -> None:
    """H3: an address also has a budget over all logins (a spray over many logins gets 429); the
    budget is the app's limiter, set small here so the test runs fast."""
    limiter = fresh_web.app.state.limiter
    assert limiter.per_address <= 1000
    fresh_web.app.state.limiter = type(limiter)(per_login=limiter.per_login, per_address=6)
    c = fresh_web.client()
    for i in range(6):
        r = c.post("/login", data={"login": f"inconnu{i}", "password": "pas-le-bon-mot"})
        assert r.status_code == 401, i
    agent = fresh_web.account("agent")
    assert (
        c.post("/login", data={"login": agent.login, "password": agent.password}).status_code == 429
    )
    assert c.post("/api/login", json={"login": "autre", "password": "x"}).status_code == 429
    assert (
        fresh_web.client()
        .post("/login", data={"login": agent.login, "password": agent.password})
        .status_code
        == 303
    )


def test_rate_limited_api_sign_in_is_documented(web: Web) -> None:
    """The 429 of POST /api/login is a status /openapi.json documents for it."""
    documented = set(web.app.openapi()["paths"]["/api/login"]["post"]["responses"])
    c = web.client()
    for _ in range(web.app.state.limiter.per_login):
        c.post("/api/login", json={"login": "inconnu", "password": "x"})
    r = c.post("/api/login", json={"login": "inconnu", "password": "x"})
    assert r.status_code == 429
    assert "429" in documented, sorted(documented)


# --- CSRF --------------------------------------------------------------------------------------------


def form_routes(web: Web) -> list[tuple[str, str]]:
    """(path, role) of every POST route that takes a CSRF token, with the role it admits."""
    out = []
    for method, path, route in api_routes(web.app):
        if method == "POST" and any(p.name == "csrf" for p in route.dependant.body_params):
            roles = declared_roles(route)
            assert isinstance(roles, frozenset), path
            out.append((path, "agent" if "agent" in roles else sorted(roles)[0]))
    return out


FORM_ROUTES = [
    "/logout",
    "/me/declare",
    "/me/annotate",
    "/me/dispute",
    "/me/cases/{case_id}/answer",
    "/manager/statement/validate",
    "/hr/cases",
    "/hr/cases/{case_id}/close",
    "/dpo/purge",
    "/dpo/accounts",
    "/dpo/objections",
]


def test_every_session_form_route_takes_a_csrf_token(web: Web) -> None:
    """Every POST page route but sign-in takes the CSRF token (the JSON API is called with the
    SameSite=Strict cookie and no form)."""
    pages = sorted(
        p
        for m, p, _ in api_routes(web.app)
        if m == "POST" and not p.startswith("/api/") and p != "/login"
    )
    assert sorted(p for p, _ in form_routes(web)) == pages
    assert sorted(FORM_ROUTES) == pages


@pytest.mark.parametrize("path", FORM_ROUTES)
def test_a_form_without_its_sessions_token_is_refused(
    web: Web, scenario: Scenario, path: str
) -> None:
    """CSRF (H3): a POST without the token, with an empty one, or with the token of another
    session (same account or another) gets 403 and changes nothing; with its own token it goes
    through (the control that shows the refusal is the token's doing)."""
    role = dict(form_routes(web))[path]
    c = web.extra_session(role)
    url = fill(path, role, scenario)
    form = body("POST", path, scenario, c.account)["data"]
    own = c.csrf
    others = [web.extra_session(role).csrf, web.extra_session("staff_rep").csrf]
    assert own not in others
    before = web.state_snapshot()
    head = web.audit_head()
    for token in (None, "", *others, own[:-1]):
        data = dict(form) if token is None else {**form, "csrf": token}
        r = c.post(url, data=data)
        assert r.status_code == 403, (path, token, r.status_code)
    assert web.state_snapshot() == before, path
    assert [e.action for e in web.audit_since(head) if e.action != "refused"] == []
    assert c.get("/api/me").status_code == 200  # still signed in: nothing was done

    r = c.post(url, data={**form, "csrf": own})
    assert r.status_code in (200, 303), (path, r.status_code, r.text[:300])
    if path == "/logout":
        assert c.get("/api/me").status_code == 401
    elif path != "/dpo/purge":
        assert web.state_snapshot() != before, f"{path} changed nothing even with its token"


def test_every_post_form_carries_the_sessions_token(web: Web, scenario: Scenario) -> None:
    """Every POST form on every page of a signed-in role carries its session's CSRF token, and the
    forms reach every CSRF-protected route."""
    reached: set[str] = set()
    for role in ROLES:
        c = web.signed_in(role)
        for method, path, _ in api_routes(web.app):
            if method != "GET" or path.startswith("/api/"):
                continue
            r = c.get(fill(path, role, scenario))
            if r.status_code != 200 or "text/html" not in r.headers.get("content-type", ""):
                continue
            for form in read_page(r.text).forms:
                if form.method != "post" or form.action == "/login":
                    continue  # the sign-in form precedes any session
                assert form.hidden.get("csrf") == c.csrf, (role, path, form.action)
                reached.add(form.action)
    patterns = {re.sub(r"/\d+(?=/|$)", "/{case_id}", action) for action in reached}
    assert set(FORM_ROUTES) <= patterns, sorted(set(FORM_ROUTES) - patterns)


# --- every response, every page ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def responses(web: Web, scenario: Scenario) -> list[tuple[str, httpx.Response]]:
    """Pages and answers of every kind: each GET route for anonymous and each role, errors,
    static files, the schema, and the redirects of sign-in and of the forms."""
    out: list[tuple[str, httpx.Response]] = []
    gets = [p for m, p, _ in api_routes(web.app) if m == "GET"]
    for role in (ANONYMOUS, *ROLES):
        c = web.client() if role == ANONYMOUS else web.extra_session(role)
        for path in gets:
            url = fill(path, role, scenario)
            out.append((f"{role} GET {url}", c.get(url)))
            out.append((f"{role} GET {url}?lang=en", c.get(url, params={"lang": "en"})))
        out.append((f"{role} GET /nulle-part", c.get("/nulle-part")))
        out.append((f"{role} GET /hr/cases/999999", c.get("/hr/cases/999999")))
    anonymous = web.client()
    out.append(("GET /static/style.css", anonymous.get("/static/style.css")))
    out.append(("GET /openapi.json", anonymous.get("/openapi.json")))
    agent = web.account("agent")
    out.append(
        (
            "POST /login",
            anonymous.post("/login", data={"login": agent.login, "password": agent.password}),
        )
    )
    out.append(
        (
            "POST /login wrong",
            web.client().post("/login", data={"login": agent.login, "password": "non"}),
        )
    )
    out.append(
        (
            "POST /api/login",
            web.client().post("/api/login", json={"login": agent.login, "password": "non"}),
        )
    )
    for path in (
        "/me/declare",
        "/me/annotate",
        "/hr/cases",
        "/dpo/purge",
        "/manager/statement/validate",
    ):
        role = {
            "/hr/cases": "hr_reviewer",
            "/dpo/purge": "dpo",
            "/manager/statement/validate": "manager",
        }.get(path, "agent")
        c = web.signed_in(role)
        form = body("POST", path, scenario, c.account)["data"]
        out.append((f"{role} POST {path}", c.post(path, data={**form, "csrf": c.csrf})))
        out.append((f"{role} POST {path} no token", c.post(path, data=form)))
    return out


def csp_directives(value: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as directive → sources."""
    out = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def test_security_headers_on_every_response(responses: list[tuple[str, httpx.Response]]) -> None:
    """H3: every response forbids framing, inline script and sniffing, sends no referrer, and
    pages are never cached."""
    assert len(responses) > 200
    statuses = {r.status_code for _, r in responses}
    assert {200, 303, 401, 403, 404} <= statuses, statuses
    for label, r in responses:
        h = r.headers
        csp = csp_directives(h.get("content-security-policy", ""))
        scripts = csp.get("script-src", csp.get("default-src"))
        assert scripts is not None, label
        assert "'unsafe-inline'" not in scripts, label
        assert "'unsafe-eval'" not in scripts, label
        assert "*" not in scripts, label
        assert csp.get("frame-ancestors") == ["'none'"], label
        assert csp.get("object-src") == ["'none'"], label
        assert h.get("x-frame-options") == "DENY", label
        assert h.get("x-content-type-options") == "nosniff", label
        assert h.get("referrer-policy") == "same-origin", label
        if "/static/" not in label:
            assert "no-store" in h.get("cache-control", ""), label


def html_pages(responses: list[tuple[str, httpx.Response]]) -> list[tuple[str, httpx.Response]]:
    """The HTML answers."""
    pages = [
        (label, r) for label, r in responses if "text/html" in r.headers.get("content-type", "")
    ]
    assert len(pages) > 50
    return pages


def test_no_inline_script_in_any_page(responses: list[tuple[str, httpx.Response]]) -> None:
    """H3: no page carries inline script — no <script> without src, no event-handler attribute,
    no javascript: URL — so the CSP without 'unsafe-inline' breaks nothing."""
    for label, r in html_pages(responses):
        page = read_page(r.text)
        inline = [s for s in page.scripts if not s["src"] or s["text"].strip()]
        assert inline == [], label
        assert page.inline_handlers == [], label


def test_no_inline_style_in_any_page(responses: list[tuple[str, httpx.Response]]) -> None:
    """The CSP allows styles from the site only (style-src 'self', no 'unsafe-inline'): a page
    with a <style> element or a style attribute would be shown unstyled by the browser."""
    offenders = set()
    for label, r in html_pages(responses):
        page = read_page(r.text)
        if page.style_elements or page.style_attributes:
            offenders.add(label.split(" ", 1)[1])
    assert sorted(offenders) == [], "pages with inline style: " + ", ".join(sorted(offenders))


def test_page_urls_carry_no_personal_data(
    web: Web, responses: list[tuple[str, httpx.Response]]
) -> None:
    """No agent id, name, login or pseudonym in the links and form targets of pages nor in the
    Location of redirects (URLs reach logs, history and proxies); the only exception is the API
    path /api/agents/{agent_id}/records that the contract fixes."""
    markers = personal_markers(web)
    urls: list[tuple[str, str]] = []
    for label, r in responses:
        if "location" in r.headers:
            urls.append((label, r.headers["location"]))
        if "text/html" in r.headers.get("content-type", ""):
            page = read_page(r.text)
            urls += [(label, href) for href in page.links]
            urls += [(label, f.action) for f in page.forms]
    assert len(urls) > 100
    assert any(u.startswith("/hr/cases/") for _, u in urls)
    leaks = [
        (label, url, find_markers(unquote_plus(url), markers))
        for label, url in urls
        if not url.startswith("/api/agents/")
    ]
    assert [leak for leak in leaks if leak[2]] == []


# --- server logs ------------------------------------------------------------------------------------------


@contextmanager
def loyaute_serve(home: Path, *extra: str) -> Iterator[tuple[httpx.Client, list[str]]]:
    """`loyaute serve` in a subprocess on a free port; yields a client and, once the server has
    stopped, its whole output (stdout and stderr) in the list."""
    port = free_port()
    command = [sys.executable, "-m", "loyaute", "--home", str(home), "serve", *extra]
    proc = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output: list[str] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as h:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, proc.communicate()
                try:
                    if h.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
            yield h, output
    finally:
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
            proc.kill()
            out, err = proc.communicate()
        output.append(out + err)
    assert f":{port}" in output[0], "the server's output was not captured"


def test_the_server_keeps_no_access_log(demo_home: Path, tmp_path: Path) -> None:
    """H3: `loyaute serve` writes no request line: URLs and logins never reach the server's output."""
    home = copy_workspace(demo_home, tmp_path / "home")
    agent = next(a for a in read_accounts(home) if a.role == "agent")
    with loyaute_serve(home) as (h, output):
        assert h.get(f"/api/agents/{agent.agent_id}/records").status_code == 401
        assert h.get("/login", params={"qui": agent.agent_id}).status_code == 200
        wrong = h.post("/login", data={"login": agent.login, "password": "pas-le-bon-mot"})
        assert wrong.status_code == 401
        assert h.get("/me/export").status_code == 303
    logged = output[0]
    for needle in (
        agent.agent_id,
        agent.login,
        "/api/agents",
        "/login",
        "/me/export",
        "/healthz",
        "HTTP/1.1",
    ):
        assert needle not in logged, (needle, logged[-2000:])


def test_several_server_processes_share_sessions_and_the_audit_log(
    demo_home: Path, tmp_path: Path
) -> None:
    """`serve --workers 2`: a session opened on one process is honoured by the other (the
    sessions live in SQLite), refusals from both reach the one hash chain, which stays intact,
    and no request line is written by either process (H3)."""
    home = copy_workspace(demo_home, tmp_path / "home")
    agent = next(a for a in read_accounts(home) if a.role == "agent")
    with loyaute_serve(home, "--workers", "2") as (h, output):
        signed = h.post("/login", data={"login": agent.login, "password": agent.password})
        assert signed.status_code == 303
        close = {"connection": "close"}  # a new connection each time, taken by either process
        pages = [h.get("/me", headers=close) for _ in range(20)]
        assert {p.status_code for p in pages} == {200}
        refused = [h.get("/dpo", headers=close) for _ in range(6)]
        assert {r.status_code for r in refused} == {403}
    ws = Workspace.open(home)
    try:
        checked, broken = ws.audit.verify()
        refusals = [
            e for e in ws.audit.entries() if e.actor == agent.login and e.action == "refused"
        ]
    finally:
        ws.close()
    assert broken is None
    assert checked > 0
    assert len(refusals) == 6
    assert "/me" not in output[0]
    assert agent.login not in output[0]


def test_the_server_logs_no_personal_data_from_a_failed_request(
    demo_home: Path, tmp_path: Path
) -> None:
    """H3: whatever a signed-in person sends, nothing of it reaches the server's output — not
    even when the request fails (an agent id typed into a date field)."""
    home = copy_workspace(demo_home, tmp_path / "home")
    accounts = read_accounts(home)
    agent = next(a for a in accounts if a.role == "agent")
    other = next(a for a in accounts if a.role == "agent" and a != agent)
    with loyaute_serve(home) as (h, output):
        signed = h.post("/login", data={"login": agent.login, "password": agent.password})
        assert signed.status_code == 303
        token = csrf_of(h.get("/me").text)
        r = h.post(
            "/me/declare",
            data={"csrf": token, "day": other.agent_id, "half": "AM", "kind": "phone"},
        )
        assert r.status_code != 200
    logged = output[0]
    assert other.agent_id not in logged, [ln for ln in logged.splitlines() if other.agent_id in ln]


def test_security_headers_on_a_server_error(web: Web) -> None:
    """H3: even an unexpected error's 500 carries the security headers and is not cached."""
    app = create_app(web.home, clock=web.clock)

    def boom() -> None:
        raise RuntimeError("panne simulée")

    app.add_api_route("/panne-de-test", boom)
    c = Client(web.portal, app)
    try:
        r = c.get("/panne-de-test")
    finally:
        c.close()
    assert r.status_code == 500
    assert r.headers.get("x-content-type-options") == "nosniff"
    assert r.headers.get("x-frame-options") == "DENY"
    assert "frame-ancestors 'none'" in r.headers.get("content-security-policy", "")
    assert "no-store" in r.headers.get("cache-control", "")


@pytest.mark.parametrize("path", ["/login", "/api/login"])
def test_sign_in_posted_from_another_site_is_refused(fresh_web: Web, path: str) -> None:
    """Login CSRF (H3): a sign-in posted by another site's page — which no session token can
    protect — is refused before any handler runs, with no session opened; the same request from
    the site itself signs in."""
    agent = fresh_web.account("agent")
    creds = {"login": agent.login, "password": agent.password}
    send = {"json": creds} if path.startswith("/api/") else {"data": creds}
    c = fresh_web.client()
    r = c.post(path, headers={"origin": "https://attaquant.example"}, **send)
    assert r.status_code == 403
    assert SESSION_COOKIE not in r.headers.get("set-cookie", "")
    assert r.headers.get("x-frame-options") == "DENY"
    r = c.post(path, headers={"origin": "null"}, **send)
    assert r.status_code == 403
    ok = fresh_web.client().post(path, headers={"origin": "http://127.0.0.1"}, **send)
    assert ok.status_code in (200, 303)
    assert SESSION_COOKIE in ok.headers.get("set-cookie", "")


def test_a_non_ascii_session_cookie_is_no_server_error(web: Web) -> None:
    """Issue 10, finding 9: a session cookie with characters outside ASCII (a proxy or a browser
    extension mangled it) is no session — every route answers as to a visitor, never 500."""
    c = web.client()
    raw = [(b"cookie", f"{SESSION_COOKIE}=jeton-mutilé-é€".encode())]
    for url in ("/login", "/", "/me", "/api/me", "/healthz"):
        r = c.get(url, headers=raw)
        assert r.status_code in (200, 303, 401), (url, r.status_code)


def test_an_agent_cannot_tell_which_case_numbers_exist(fresh_web: Web, scenario_b: int) -> None:
    """Issue 10, finding 10: answering a case that exists but is someone else's, and one that
    does not exist, get the same refusal; each attempt is audited and counts towards the DPO's
    repeated-refusals alert (H2)."""
    agent = fresh_web.sign_in("agent")
    answers = []
    for number in (scenario_b, 99999):
        r = agent.post(f"/me/cases/{number}/answer", data={"csrf": agent.csrf, "text": "x"})
        # only the number the page repeats ("3" is also in "&#39;" and "403")
        answers.append((r.status_code, r.text.replace(f"n° {number}", "n° N")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 403
    with fresh_web.workspace() as ws:
        refused = [
            e
            for e in ws.audit.entries()
            if e.actor == agent.account.login and e.action == "refused"  # type: ignore[union-attr]
        ]
        assert len(refused) == 2
        assert {e.details.get("attempted") for e in refused} == {"case_answer"}
    r = agent.post("/me/cases/4242/answer", data={"csrf": agent.csrf, "text": "x"})
    assert r.status_code == 403
    with fresh_web.workspace() as ws:
        kinds = {(a.kind, a.actor) for a in ws.db.alerts.all()}
    assert ("repeated_refusals", agent.account.login) in kinds  # type: ignore[union-attr]


@pytest.fixture
def scenario_b(fresh_web: Web) -> int:
    """A case on another agent than the demo agent account."""
    from tests.web.support import build_scenario  # noqa: PLC0415

    return build_scenario(fresh_web).case_b
