"""The route × role matrix and the need-to-know rules of the web app (E4, E5, E6, H1).

Every route declares the roles it admits through ``guard``, and the app's ``PERMISSIONS`` registry
lists them; the matrix walks every route with every role (and anonymously) and checks the answer:
anonymous → sign-in (303 to /login) for pages, 401 for the API; a role the route does not admit →
403, audited as "refused"; an admitted role → the page or the action. ``EXPECTED`` is the
need-to-know table (E5, in support.py) written from LEGAL.md: a new route must be added to it,
with its roles.
"""

from __future__ import annotations

import html
import re

import pytest

from loyaute import labels
from loyaute.accounts import create_account
from loyaute.policy.access import individual
from loyaute.policy.cases import answer_case, close_case, open_case
from loyaute.policy.roles import Action, Identity, Role
from loyaute.reports.runner import managed_services, run_presence
from loyaute.web.app import HOME_OF_ROLE, PERMISSIONS
from loyaute.web.context import SESSION_COOKIE
from tests.builders import DPO, agent, manager, records
from tests.web.support import (
    ANONYMOUS,
    EXPECTED,
    ROLES,
    Client,
    DemoAccount,
    Scenario,
    Web,
    api_routes,
    body,
    case_period,
    declared_roles,
    fill,
    find_markers,
    personal_markers,
    read_page,
    visible_text,
)

GRANTED = {("GET", "/api/agents/{agent_id}/records"): frozenset({"hr_reviewer"})}
"""Routes whose guard admits more roles than the route grants: the others get 403 from the
check-and-audit function (E4: only the reviewer of an open case on that agent)."""

SUCCESS = {
    ("GET", "/"): 303,
    ("POST", "/login"): 303,
    ("POST", "/logout"): 303,
    ("POST", "/me/declare"): 303,
    ("POST", "/me/annotate"): 303,
    ("POST", "/me/dispute"): 303,
    ("POST", "/me/cases/{case_id}/answer"): 303,
    ("POST", "/hr/cases"): 303,
    ("POST", "/hr/cases/{case_id}/close"): 303,
    ("POST", "/dpo/purge"): 303,
    ("POST", "/dpo/accounts"): 303,
    ("POST", "/dpo/objections"): 303,
    ("POST", "/manager/statement/validate"): 303,
    # the demo keeps local accounts: provider sign-in is off, and says so (tests/web/test_oidc.py
    # signs in through a real provider)
    ("GET", "/auth/oidc/start"): 404,
    ("GET", "/auth/oidc/callback"): 404,
}
"""The status of a granted request (200 otherwise)."""

SESSION_ROUTES = {
    ("POST", "/login"),
    ("POST", "/api/login"),
    ("POST", "/logout"),
    ("POST", "/api/logout"),
}
"""Routes that open or close a session: each check gets a client of its own."""

STATUS_WORDS = (
    "trace enregistrée",
    "aucune trace numérique enregistrée",
    "contesté (gelé)",
    "trace recorded",
    "no digital trace recorded",
)


def client_for(web: Web, method: str, path: str, role: str) -> Client:
    """The client a check uses: anonymous, the role's shared session, or a session of its own."""
    if role == ANONYMOUS:
        return web.client()
    if (method, path) in {("POST", "/logout"), ("POST", "/api/logout")}:
        return web.extra_session(role)
    if (method, path) in SESSION_ROUTES:
        shared = web.signed_in(role)
        c = web.client(cookies={SESSION_COOKIE: shared.token or ""})
        c.account = shared.account
        return c
    return web.signed_in(role)


# --- declarations ------------------------------------------------------------------------------------


def test_the_matrix_covers_every_route(web: Web) -> None:
    """Every route of the app is in the need-to-know table, and nothing else is (E5)."""
    routes = {(m, p) for m, p, _ in api_routes(web.app)}
    assert routes, "no route found in the app"
    assert sorted(routes - set(EXPECTED)) == [], "routes missing from the matrix"
    assert sorted(set(EXPECTED) - routes) == [], "matrix rows without a route"


def test_every_route_guards_the_roles_it_needs(web: Web) -> None:
    """Each route goes through ``guard`` and admits exactly the roles of the need-to-know table
    (E5): the operator reads no activity data, a manager no individual page."""
    for method, path, route in api_routes(web.app):
        declared = declared_roles(route)
        assert declared != "undeclared", f"{method} {path} declares no permission"
        assert declared == EXPECTED[(method, path)], f"{method} {path}"


def test_every_route_is_in_the_permissions_registry(web: Web) -> None:
    """The app's PERMISSIONS registry lists every route with the roles its guard admits, so that
    the route × role matrix can be read from it."""
    routes = api_routes(web.app)
    missing = sorted(f"{m} {p}" for m, p, _ in routes if (m, p) not in PERMISSIONS)
    assert missing == [], f"{len(missing)} of {len(routes)} routes missing from PERMISSIONS"
    for method, path, route in routes:
        assert PERMISSIONS[(method, path)] == declared_roles(route), f"{method} {path}"


# --- the matrix ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [ANONYMOUS, *ROLES])
@pytest.mark.parametrize(("method", "path"), list(EXPECTED), ids=[f"{m} {p}" for m, p in EXPECTED])
def test_route_role_matrix(web: Web, scenario: Scenario, method: str, path: str, role: str) -> None:
    """Anonymous: sign-in first (303 → /login for pages, 401 for the API). A role the route does
    not admit: 403, and the refusal is written to the audit log by the same check-and-audit
    function as the command line (E5, H1). An admitted role: the page or the action."""
    admitted = EXPECTED[(method, path)]
    granted = GRANTED.get((method, path), admitted)
    c = client_for(web, method, path, role)
    url = fill(path, role, scenario)
    kwargs = body(method, path, scenario, c.account)
    if "data" in kwargs and path not in ("/login",):
        kwargs["data"]["csrf"] = c.csrf if c.account else "no-session"
    head = web.audit_head()
    r = c.request(method, url, **kwargs)
    where = f"{role} {method} {url}"

    if admitted is not None and role == ANONYMOUS:
        if path.startswith("/api/"):
            assert r.status_code == 401, where
        else:
            assert r.status_code == 303, where
            assert r.headers["location"] == "/login", where
        return
    if admitted is not None and role not in granted:
        assert r.status_code == 403, (where, r.status_code, r.text[:300])
        assert "half_day" not in r.text, where
        added = web.audit_since(head)
        assert added, f"{where}: the refusal was not audited"
        assert {e.action for e in added} == {"refused"}, (where, [e.action for e in added])
        assert c.account is not None
        assert any(e.actor == c.account.login and e.role == role for e in added), where
        if role not in admitted:
            assert any(e.reason == f"route {url}" for e in added), (
                where,
                [e.reason for e in added],
            )
        return
    expected = SUCCESS.get((method, path), 200)
    assert r.status_code == expected, (
        where,
        r.status_code,
        r.headers.get("location"),
        r.text[:300],
    )
    if path == "/":
        home = HOME_OF_ROLE[role] if role != ANONYMOUS else "/login"
        assert r.headers["location"] == home, where
    if (method, path) == ("POST", "/login"):
        assert r.headers["location"] == HOME_OF_ROLE[(c.account or scenario.agent).role], where
    if path == "/logout":
        assert r.headers["location"] == "/login", where
    if path == "/hr/cases":
        assert re.fullmatch(r"/hr/cases/\d+", r.headers["location"]), where


# --- E4, E6: individual records --------------------------------------------------------------------


def test_an_agent_cannot_read_another_agents_records(web: Web, scenario: Scenario) -> None:
    """E6/E4: an agent asking for another agent's records gets 403, no record, and the refusal is
    audited with the agent asked about."""
    c = web.signed_in("agent")
    head = web.audit_head()
    r = c.get(f"/api/agents/{scenario.other_agent}/records")
    assert r.status_code == 403
    assert "half_day" not in r.text
    added = web.audit_since(head)
    refused = [e for e in added if e.action == "refused"]
    assert len(refused) == 1, [(e.action, e.reason) for e in added]
    assert refused[0].actor == scenario.agent.login
    assert refused[0].agent_id == scenario.other_agent
    assert refused[0].details.get("attempted") == "records_view"
    assert not [e for e in added if e.action == "records_view"]


def test_the_case_reviewer_gets_exactly_the_case_period(web: Web, scenario: Scenario) -> None:
    """E4/H1: the reviewer of an open case reads the agent's records for the case's period only,
    the same rows as the agent's own view of that period, and each access is audited with the
    case's reason; the agent then sees who looked and why (E6)."""
    c = web.signed_in("hr_reviewer")
    lo, hi = scenario.case_a_period
    url = f"/api/agents/{scenario.agent.agent_id}/records"
    head = web.audit_head()
    first, second = c.get(url), c.get(url)
    assert first.status_code == second.status_code == 200
    rows = first.json()
    with web.workspace() as ws:
        expected = [r.as_dict() for r in records(ws, scenario.agent.agent_id, lo, hi)]
        everything = records(ws, scenario.agent.agent_id)
        reason = ws.db.conn.execute(
            "SELECT reason FROM cases WHERE id = ?", (scenario.case_a,)
        ).fetchone()[0]
    assert rows == expected
    assert rows, "the case period holds no record: the check would prove nothing"
    assert {r["scheduled"] for r in rows} == {"telework"}  # E8: never the study's on-site days
    assert all(lo.isoformat() <= r["date"] <= hi.isoformat() for r in rows)
    assert any(not (lo.isoformat() <= r.date <= hi.isoformat()) for r in everything), (
        "the agent has no record outside the period: the restriction would prove nothing"
    )
    views = [e for e in web.audit_since(head) if e.action == "records_view"]
    assert len(views) == 2
    for e in views:
        assert e.actor == web.account("hr_reviewer").login
        assert e.role == "hr_reviewer"
        assert e.agent_id == scenario.agent.agent_id
        assert e.reason == reason
        assert e.details == {"case": scenario.case_a}
    page = visible_text(web.signed_in("agent").get("/me").text)
    assert web.account("hr_reviewer").login in page
    assert reason in page


def test_another_reviewer_is_refused_the_case(web: Web, scenario: Scenario) -> None:
    """E4: only the case's own reviewer may read the records; another HR reviewer gets 403,
    audited."""
    with web.workspace() as ws:
        create_account(ws.db, web.clock, "rh.autre", "un-mot-de-passe-long", "hr_reviewer")
    other = DemoAccount("rh.autre", "un-mot-de-passe-long", "hr_reviewer", "")
    c = web.sign_in(other)
    head = web.audit_head()
    r = c.get(f"/api/agents/{scenario.agent.agent_id}/records")
    assert r.status_code == 403
    added = web.audit_since(head)
    assert [(e.actor, e.action) for e in added] == [("rh.autre", "refused")]
    r = c.get(f"/hr/cases/{scenario.case_a}")
    assert r.status_code == 403


def test_a_closed_case_gives_no_more_access(web: Web, scenario: Scenario) -> None:
    """E4: once the case is closed, its reviewer reads no more records through the API."""
    hr = Identity(web.account("hr_reviewer").login, Role.HR_REVIEWER)
    lo, hi = case_period(web, scenario.fourth_agent)
    with web.workspace() as ws:
        number = open_case(
            ws, hr, scenario.fourth_agent, hr.login, "Dossier vite clos (test)", lo, hi
        )
    c = web.signed_in("hr_reviewer")
    url = f"/api/agents/{scenario.fourth_agent}/records"
    assert c.get(url).status_code == 200
    with web.workspace() as ws:
        answer_case(ws, agent(scenario.fourth_agent), number, "Réponse (test)")
        close_case(ws, hr, number, "Clos sans suite (test)")
    assert c.get(url).status_code == 403


def test_my_records_are_the_agents_own_view(web: Web) -> None:
    """E6: /api/me/records returns exactly the records of the signed-in agent (and of the
    manager, who is an agent too), for every demo account that has records."""
    accounts = [a for a in web.accounts if a.role in ("agent", "manager")]
    assert len(accounts) >= 3
    nonempty = 0
    for account in accounts:
        c = (
            web.signed_in("agent")
            if account == web.account("agent")
            else web.extra_session(account)
        )
        r = c.get("/api/me/records")
        assert r.status_code == 200, account.login
        with web.workspace() as ws:
            expected = [row.as_dict() for row in records(ws, account.agent_id)]
        assert r.json() == expected, account.login
        nonempty += bool(expected)
    assert nonempty >= 2


def test_e8_the_agents_page_shows_others_telework_only_and_the_study_apart(web: Web) -> None:
    """E8 (issue 9, finding 1): on the agent's page, the table of what a reviewer could see lists
    telework half-days only; the on-site half-days the validity study holds are in a section of
    their own, labelled as visible to the agent only."""
    c = web.signed_in("agent")
    agent_account = web.account("agent")
    with web.workspace() as ws:
        on_site = individual(
            ws, agent(agent_account.agent_id), Action.OWN_VIEW, agent_account.agent_id
        ).study()
    assert on_site, "the demo agent has no on-site half-day: the check would prove nothing"
    month = on_site[-1].date[:7]
    page = html.unescape(c.get(f"/me?month={month}").text)
    visible = page.split("Ce qu'un relecteur habilité pourrait voir", 1)[1].split("</table>", 1)[0]
    assert "télétravail" in visible
    assert "sur site" not in visible
    study = page.split("Étude de validité : ce qu'elle conserve à mon sujet", 1)[1]
    study = study.split("</table>", 1)[0]
    assert "Visibles de vous seul" in study
    assert labels.day(on_site[-1].date) in study


def test_the_agents_own_actions_are_not_shown_as_other_people_looking(web: Web) -> None:
    """E6: the table "Accès à mes données par d'autres personnes" lists who else looked and why;
    the agent's own declarations, annotations and disputes are not accesses by other people."""
    c = web.signed_in("agent")
    agent = web.account("agent")
    with web.workspace() as ws:
        row = records(ws, agent.agent_id)[0]
    r = c.post(
        "/me/annotate",
        data={"csrf": c.csrf, "day": row.date, "half": row.half_day, "text": "Note de l'agent"},
    )
    assert r.status_code == 303
    with web.workspace() as ws:
        own = [e for e in ws.audit.entries(agent.agent_id) if e.role == "agent"]
    assert own, "the agent's own actions are not in the audit log"
    page = c.get("/me").text
    caption = "Consultations de mes données par d'autres personnes que moi"
    section = html.unescape(page).split(caption, 1)[1].split("</table>", 1)[0]
    cells = [visible_text(row).split() for row in section.split("<tr>")[1:]]
    mine = [cell for cell in cells if agent.agent_id in cell or agent.login in cell]
    assert mine == [], f"the agent's own actions listed as other people's: {mine}"


MALFORMED = [
    ("agent", "POST", "/me/declare", {"day": "10/03/2026", "half": "AM", "kind": "phone"}),
    ("agent", "POST", "/me/annotate", {"day": "hier", "half": "AM", "text": "note"}),
    ("agent", "POST", "/me/dispute", {"day": "2026-13-40", "half": "AM", "reason": "motif"}),
    ("agent", "POST", "/me/cases/99999999999999999999/answer", {"text": "réponse"}),
    ("agent", "GET", "/me?month=zz", None),
    (
        "hr_reviewer",
        "POST",
        "/hr/cases",
        {"agent_id": "A00002", "reason": "motif", "day_from": "hier", "day_to": "2026-03-10"},
    ),
    ("hr_reviewer", "GET", "/hr/cases/99999999999999999999", None),
    ("hr_reviewer", "POST", "/hr/cases/99999999999999999999/close", {"outcome": "décision"}),
    ("manager", "GET", "/manager/statement?month=mars", None),
    ("manager", "GET", "/manager/statement?month=2027-05", None),
    ("manager", "GET", "/manager?month=2026-99", None),
    ("dpo", "GET", "/docs/inconnu", None),
    ("dpo", "GET", "/api/reports/presence?by=x&period=y", None),
]


@pytest.mark.parametrize(
    ("role", "method", "url", "form"), MALFORMED, ids=[f"{m} {u}" for _, m, u, _ in MALFORMED]
)
def test_malformed_input_is_refused_not_a_server_error(
    web: Web, role: str, method: str, url: str, form: dict[str, str] | None
) -> None:
    """A malformed date, month or case number from an admitted role gets an answer (a 4xx
    refusal, or the page with a default), never a server error; a refused form changes
    nothing (H1: nothing half-done is left in the store or the audit log)."""
    c = web.signed_in(role)
    token = c.csrf  # read from a page first: pages may publish aggregates
    before = web.state_snapshot()
    head = web.audit_head()
    r = c.get(url) if form is None else c.post(url, data={**form, "csrf": token})
    assert r.status_code < 500, (url, r.status_code)
    if form is not None:
        assert 400 <= r.status_code < 500, (url, r.status_code)
        assert web.state_snapshot() == before, url
        assert [e.action for e in web.audit_since(head) if e.action != "refused"] == [], url


# --- E5: managers and operators -------------------------------------------------------------------


def test_a_manager_sees_only_their_own_service(web: Web) -> None:
    """E5: the manager's aggregates (API and pages) cover their own service and no other."""
    manager_account = web.account("manager")
    manager_of = manager(manager_account.agent_id)
    c = web.signed_in("manager")
    with web.workspace() as ws:
        own = managed_services(ws, manager_of)
        services = {a.service for a in ws.db.agents.all().values()}
        everyone = run_presence(ws, DPO, by="service", period="week")
    others = services - own
    assert own
    assert others
    assert {r["group"] for r in everyone.rows} - own, "the full report has no other service"
    for period in ("week", "month"):
        r = c.get("/api/reports/presence", params={"by": "service", "period": period})
        assert r.status_code == 200, period
        groups = {row["group"] for row in r.json()["rows"]}
        assert groups, period
        assert groups <= own, (period, groups - own)
    r = c.get("/api/reports/presence", params={"by": "job_family", "period": "week"})
    if r.status_code == 200:
        assert {row["group"] for row in r.json()["rows"]} <= own
    else:
        assert 400 <= r.status_code < 500
    for url in ("/manager", "/reports/presence", "/reports/presence?by=job_family&period=month"):
        page = c.get(url)
        assert page.status_code == 200, url
        text = visible_text(page.text)
        assert any(s in text for s in own), url
        leaked = sorted(s for s in others if s in text)
        assert leaked == [], (url, leaked)


def test_the_operator_sees_no_activity_data(web: Web, scenario: Scenario) -> None:
    """E5: every page and endpoint the operator can open carries no agent id, name, login or
    pseudonym and no record status; every route with activity data refuses them."""
    markers = personal_markers(web)
    assert find_markers(web.signed_in("dpo").get("/dpo/audit").text, markers), (
        "the markers find nothing even on the DPO's audit page: the check would prove nothing"
    )
    c = web.signed_in("operator")
    opened = 0
    for method, path, _ in api_routes(web.app):
        if method != "GET":
            continue
        url = fill(path, "operator", scenario)
        r = c.get(url)
        if path.startswith("/auth/oidc/"):
            # provider sign-in is off in the demo: its pages say so, and nothing else
            assert r.status_code == 404, (url, r.status_code)
            assert find_markers(r.text, markers) == [], url
            continue
        if r.status_code == 200:
            opened += 1
            assert find_markers(r.text, markers) == [], url
            low = r.text.lower()
            assert not [w for w in STATUS_WORDS if w in low], url
        else:
            assert r.status_code in (303, 403), (url, r.status_code)
            if r.status_code == 303:
                assert r.headers["location"] == "/operator", url
    assert opened >= 4  # /operator, /notice, /api/me, /healthz, /login


# --- languages ----------------------------------------------------------------------------------------


def test_pages_are_french_by_default_and_english_on_request(web: Web) -> None:
    """Pages are French by default, English with ?lang=en (remembered) or Accept-Language: en."""
    page = web.client().get("/login")
    assert read_page(page.text).html_lang == "fr"
    assert "Connexion" in page.text
    assert "Sign in" not in page.text

    c = web.client()
    page = c.get("/login?lang=en")
    assert read_page(page.text).html_lang == "en"
    assert "Sign in" in page.text
    assert "Connexion" not in page.text
    assert read_page(c.get("/login").text).html_lang == "en"  # remembered in a cookie
    assert read_page(c.get("/login?lang=fr").text).html_lang == "fr"

    for header, lang in (
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("de-DE,en;q=0.5,fr;q=0.9", "fr"),
        ("de-DE", "fr"),
    ):
        page = web.client(headers={"Accept-Language": header}).get("/login")
        assert read_page(page.text).html_lang == lang, header

    agent = web.extra_session("agent")
    assert "Mes demi-journées" in agent.get("/me").text
    english = agent.get("/me?lang=en").text
    assert read_page(english).html_lang == "en"
    assert "My telework half-days" in english
    assert "Mes demi-journées de télétravail" not in english
