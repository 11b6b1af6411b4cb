"""Helpers of the web tests: a synchronous client over the ASGI app, the demo accounts, the
routes of the app, a small HTML reader and a snapshot of the state database.

Requests go through ``httpx.AsyncClient`` with ``httpx.ASGITransport`` (no server, no
starlette TestClient), driven from synchronous tests through one anyio blocking portal.
"""

from __future__ import annotations

import csv
import html
import itertools
import re
import shutil
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal
from fastapi import FastAPI
from fastapi.routing import APIRoute

from loyaute.accounts import create_account, digest, open_session, set_disabled
from loyaute.clock import FixedClock
from loyaute.policy.cases import answer_case, open_case
from loyaute.policy.rights import object_to_processing
from loyaute.policy.roles import Identity, Role
from loyaute.reports.validity import family_reliability
from loyaute.web.app import HOME_OF_ROLE, create_app
from loyaute.web.context import SESSION_COOKIE
from loyaute.workspace import Workspace
from tests.builders import agent as agent_identity
from tests.builders import records

NOW = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
"""Friday 20 March 2026, 17:00 in Paris: the demo's four weeks run up to this day, and the weeks
of 23 February and 2 March are closed (settled ten days after their Sunday), so aggregates publish."""

ROLES = ("operator", "dpo", "hr_reviewer", "staff_rep", "manager", "agent")
ANONYMOUS = "anonymous"
ROOT = Path(__file__).resolve().parents[2]

ALL = frozenset(ROLES)
AGGREGATE_READERS = frozenset({"dpo", "hr_reviewer", "staff_rep", "manager"})

EXPECTED: dict[tuple[str, str], frozenset[str] | None] = {
    # (method, path) → roles admitted; None = public.
    ("POST", "/api/login"): None,
    ("POST", "/api/logout"): ALL,
    ("GET", "/api/me"): ALL,
    ("GET", "/api/me/records"): frozenset({"agent", "manager"}),  # E6: one's own records
    ("GET", "/api/agents/{agent_id}/records"): ALL,  # the route itself admits only the reviewer
    ("GET", "/api/reports/presence"): AGGREGATE_READERS,  # E2, E5: never the operator
    ("GET", "/healthz"): None,
    ("GET", "/"): None,
    ("GET", "/login"): None,
    ("POST", "/login"): None,
    ("POST", "/logout"): ALL,
    ("GET", "/auth/oidc/start"): None,  # begins a sign-in: public, like /login
    ("GET", "/auth/oidc/callback"): None,  # the provider's way back: public, state-checked
    ("GET", "/me"): frozenset({"agent"}),
    ("POST", "/me/declare"): frozenset({"agent"}),
    ("POST", "/me/annotate"): frozenset({"agent"}),
    ("POST", "/me/dispute"): frozenset({"agent"}),
    ("POST", "/me/cases/{case_id}/answer"): frozenset({"agent"}),
    ("GET", "/me/export"): frozenset({"agent"}),
    ("GET", "/notice"): ALL,
    ("GET", "/docs/{kind}"): frozenset({"dpo", "staff_rep"}),
    ("GET", "/docs/{kind}/pdf"): frozenset({"dpo", "staff_rep"}),
    ("GET", "/reports/presence"): AGGREGATE_READERS,
    ("GET", "/reports/validity"): frozenset({"dpo", "hr_reviewer", "staff_rep"}),
    ("GET", "/manager"): frozenset({"manager"}),
    ("GET", "/manager/statement"): frozenset({"manager"}),
    ("POST", "/manager/statement/validate"): frozenset({"manager"}),
    ("GET", "/hr"): frozenset({"hr_reviewer"}),
    ("POST", "/hr/cases"): frozenset({"hr_reviewer"}),
    ("GET", "/hr/cases/{case_id}"): frozenset({"hr_reviewer"}),
    ("POST", "/hr/cases/{case_id}/close"): frozenset({"hr_reviewer"}),
    ("GET", "/dpo"): frozenset({"dpo"}),
    ("GET", "/dpo/audit"): frozenset({"dpo"}),
    ("POST", "/dpo/purge"): frozenset({"dpo"}),
    ("GET", "/dpo/accounts"): frozenset({"dpo"}),
    ("POST", "/dpo/accounts"): frozenset({"dpo"}),
    ("POST", "/dpo/objections"): frozenset({"dpo"}),
    ("GET", "/staff"): frozenset({"staff_rep"}),
    ("GET", "/operator"): frozenset({"operator"}),
}

_addresses = itertools.count(1)


def next_address() -> str:
    """A distinct client address for each client: the sign-in limiter counts per address, so
    tests do not share a budget unless they mean to."""
    n = next(_addresses)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


@dataclass(frozen=True)
class DemoAccount:
    """One row of demo-accounts.csv."""

    login: str
    password: str
    role: str
    agent_id: str


def read_accounts(home: Path) -> list[DemoAccount]:
    """The demo accounts, in file order."""
    with (home / "demo-accounts.csv").open(encoding="utf-8", newline="") as f:
        return [DemoAccount(**row) for row in csv.DictReader(f)]


def free_port() -> int:
    """A free TCP port on the loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def copy_workspace(template: Path, dest: Path) -> Path:
    """A private copy of the demo workspace (without the generated logs, which are not read)."""
    shutil.copytree(template, dest, ignore=shutil.ignore_patterns("demo-data"))
    return dest


# --- routes -----------------------------------------------------------------------------------------


def api_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """(method, path, route) of every FastAPI route, whether the installed FastAPI lists included
    routers flattened in ``app.routes`` or as included-router entries."""
    found: list[tuple[str, str, APIRoute]] = []
    try:
        from fastapi.routing import iter_route_contexts  # noqa: PLC0415 - newer FastAPI only
    except ImportError:  # pragma: no cover - older FastAPI flattens app.routes
        pairs: list[tuple[str | None, Any]] = [(getattr(r, "path", None), r) for r in app.routes]
    else:
        pairs = [(rc.path, rc.original_route) for rc in iter_route_contexts(app.routes)]
    for path, route in pairs:
        if isinstance(route, APIRoute):
            for method in sorted(route.methods):
                found.append((method, path or route.path, route))
    return found


def declared_roles(route: APIRoute) -> frozenset[str] | str | None:
    """What the route's ``guard`` dependency admits; ``"undeclared"`` without a guard."""
    admitted: frozenset[str] | str | None = "undeclared"
    for dep in route.dependant.dependencies:
        if hasattr(dep.call, "admitted"):
            admitted = dep.call.admitted
    return admitted


# --- HTML ------------------------------------------------------------------------------------------


@dataclass
class Form:
    """A form with its fields (name → value)."""

    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    hidden: dict[str, str] = field(default_factory=dict)


class PageReader(HTMLParser):
    """Forms, links, scripts, inline styles and inline event handlers of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self.scripts: list[dict[str, str]] = []
        self.inline_handlers: list[tuple[str, str]] = []
        self.style_attributes: list[str] = []
        self.style_elements: list[str] = []
        self.html_lang: str | None = None
        self._in_script: dict[str, str] | None = None
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for name, value in a.items():
            if name.startswith("on"):
                self.inline_handlers.append((tag, name))
            if name == "style":
                self.style_attributes.append(f"<{tag} style={value!r}>")
            if name in ("href", "src", "action", "formaction") and value.strip().lower().startswith(
                "javascript:"
            ):
                self.inline_handlers.append((tag, name))
        if tag == "html":
            self.html_lang = a.get("lang")
        elif tag == "form":
            self.forms.append(Form(a.get("method", "get").lower(), a.get("action", "")))
        elif tag in ("input", "select", "textarea") and self.forms and "name" in a:
            form = self.forms[-1]
            form.fields[a["name"]] = a.get("value", "")
            if a.get("type") == "hidden":
                form.hidden[a["name"]] = a.get("value", "")
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "script":
            self._in_script = {"src": a.get("src", ""), "text": ""}
            self.scripts.append(self._in_script)
        elif tag == "style":
            self._in_style = True
            self.style_elements.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None
        elif tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._in_script["text"] += data
        if self._in_style:
            self.style_elements[-1] += data


def read_page(text: str) -> PageReader:
    """Parse a page."""
    reader = PageReader()
    reader.feed(text)
    reader.close()
    return reader


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_of(text: str) -> str:
    """The CSRF token carried by the page's forms."""
    tokens = set(CSRF_FIELD.findall(text))
    assert len(tokens) == 1, f"expected one CSRF token on the page, found {tokens}"
    (token,) = tokens
    assert token, "the page's CSRF token is empty"
    return token


def visible_text(text: str) -> str:
    """The page with tags removed and entities decoded (for searching names)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


# --- clients --------------------------------------------------------------------------------------


class Client:
    """A synchronous face on ``httpx.AsyncClient`` over the ASGI app; keeps its cookies."""

    def __init__(
        self,
        portal: BlockingPortal,
        app: FastAPI,
        *,
        base_url: str = "http://127.0.0.1",
        address: str | None = None,
        cookies: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.portal = portal
        self.address = address or next_address()
        # An unhandled exception in the app becomes a 500, as a real server would answer.
        transport = httpx.ASGITransport(
            app=app, client=(self.address, 50000), raise_app_exceptions=False
        )
        self.http = httpx.AsyncClient(
            transport=transport, base_url=base_url, cookies=cookies, headers=headers
        )
        self.account: DemoAccount | None = None
        self._csrf: str | None = None
        self.closed = False

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request; redirects are not followed."""
        return self.portal.call(partial(self.http.request, method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """GET."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        """POST."""
        return self.request("POST", url, **kwargs)

    @property
    def token(self) -> str | None:
        """The session cookie this client carries."""
        return self.http.cookies.get(SESSION_COOKIE)

    @property
    def csrf(self) -> str:
        """The CSRF token of this client's session, read from its home page."""
        if self._csrf is None:
            assert self.account is not None, "an anonymous client has no CSRF token"
            page = self.get(HOME_OF_ROLE[self.account.role])
            assert page.status_code == 200, (page.status_code, page.headers.get("location"))
            self._csrf = csrf_of(page.text)
        return self._csrf

    def close(self) -> None:
        """Close the underlying client."""
        if not self.closed:
            self.portal.call(self.http.aclose)
            self.closed = True


@dataclass
class Web:
    """A private demo workspace, its app, its clock and its clients."""

    home: Path
    clock: FixedClock
    app: FastAPI
    portal: BlockingPortal
    accounts: list[DemoAccount]
    clients: list[Client] = field(default_factory=list)
    _signed_in: dict[str, Client] = field(default_factory=dict)

    @classmethod
    def build(cls, template: Path, dest: Path, portal: BlockingPortal, **app_kwargs: Any) -> Web:
        """Copy the demo workspace and build its app on a clock of its own."""
        home = copy_workspace(template, dest)
        clock = FixedClock(NOW)
        app = create_app(home, clock=clock, **app_kwargs)
        return cls(home, clock, app, portal, read_accounts(home))

    def account(self, role: str) -> DemoAccount:
        """The first demo account of a role."""
        return next(a for a in self.accounts if a.role == role)

    def client(self, **kwargs: Any) -> Client:
        """A new anonymous client (closed with the fixture)."""
        c = Client(self.portal, self.app, **kwargs)
        self.clients.append(c)
        return c

    def sign_in(self, who: str | DemoAccount, **kwargs: Any) -> Client:
        """A new client signed in through the sign-in form with a demo account."""
        account = who if isinstance(who, DemoAccount) else self.account(who)
        c = self.client(**kwargs)
        r = c.post("/login", data={"login": account.login, "password": account.password})
        assert r.status_code == 303, (account.login, r.status_code, r.text[:300])
        assert r.headers["location"] == HOME_OF_ROLE[account.role]
        c.account = account
        return c

    def signed_in(self, role: str) -> Client:
        """The shared signed-in client of a role (one sign-in per role and module)."""
        c = self._signed_in.get(role)
        if c is None or c.closed:
            c = self._signed_in[role] = self.sign_in(role)
        return c

    def extra_session(self, who: str | DemoAccount) -> Client:
        """A client with a new session of a demo account, opened directly in the store (no
        Argon2 verification: for tests that spend sessions, like sign-out)."""
        account = who if isinstance(who, DemoAccount) else self.account(who)
        with self.workspace() as ws:
            token = open_session(
                ws.db, self.clock, Identity(account.login, Role(account.role), account.agent_id)
            )
            csrf = ws.db.accounts.csrf_of(digest(token))
        c = self.client(cookies={SESSION_COOKIE: token})
        c.account = account
        c._csrf = csrf
        return c

    @contextmanager
    def workspace(self) -> Iterator[Workspace]:
        """The workspace, opened on the app's clock."""
        ws = Workspace.open(self.home, self.clock)
        try:
            yield ws
        finally:
            ws.close()

    def audit_since(self, seq: int) -> list[Any]:
        """Audit entries after ``seq``."""
        with self.workspace() as ws:
            return [e for e in ws.audit.entries() if e.seq > seq]

    def audit_head(self) -> int:
        """The last audit sequence number."""
        with self.workspace() as ws:
            entries = list(ws.audit.entries())
            return entries[-1].seq if entries else 0

    def state_snapshot(
        self, skip: tuple[str, ...] = ("sessions",)
    ) -> dict[str, list[tuple[Any, ...]]]:
        """Every table of the state database (sessions aside: reading one refreshes its idle
        clock), plus the activity store's current generation."""
        conn = sqlite3.connect(f"file:{self.home / 'store' / 'state.db'}?mode=ro", uri=True)
        try:
            tables = [
                r[0]
                for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if r[0] not in skip
            ]
            snapshot = {
                t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables
            }
        finally:
            conn.close()
        with self.workspace() as ws:
            generation = ws.activity.generation()
        snapshot["_activity_generation"] = [(str(generation),)]
        return snapshot

    def close(self) -> None:
        """Close every client."""
        for c in self.clients:
            c.close()


# --- the scenario the route tests act on -------------------------------------------------------------


@dataclass
class Scenario:
    """Who and what the matrix's path parameters and forms refer to."""

    agent: DemoAccount
    other_agent: str
    third_agent: str
    fourth_agent: str
    case_a: int
    case_a_period: tuple[date, date]
    case_b: int
    declare_at: tuple[str, str]
    dispute_at: tuple[str, str]
    annotate_at: tuple[str, str]
    new_case: dict[str, str]
    objection: int
    """A pending objection (G3) of an agent no other scenario step involves."""


def case_period(web: Web, agent_id: str) -> tuple[date, date]:
    """The agent's telework half-days of the latest week the validity study has published (a
    case is judged on its own weeks' coverage), with kept records outside it."""
    with web.workspace() as ws:
        rows = records(ws, agent_id)
        settle = ws.settings.reports.settle_days
        today = ws.today()
    days = sorted({date.fromisoformat(r.date) for r in rows})
    assert len(days) >= 2, f"{agent_id} has too few telework days for a case"
    closed = [d for d in days if d + timedelta(days=6 - d.weekday() + settle) < today]
    assert closed, f"{agent_id} has no telework day in a published week"
    monday = closed[-1] - timedelta(days=closed[-1].weekday())
    week = [d for d in closed if d >= monday]
    return week[0], week[-1]


DISABLED_ACCOUNT = "ancien.compte"
"""A disabled account of the scenario, for the DPO's accounts form to enable."""


def build_scenario(web: Web) -> Scenario:
    """Two open cases reviewed by the demo HR reviewer: A on the demo agent (viewed, answered),
    B on another agent (closed by the matrix); half-days of the agent to act on."""
    hr = Identity(web.account("hr_reviewer").login, Role.HR_REVIEWER)
    agent = web.account("agent")
    manager = web.account("manager").agent_id
    with web.workspace() as ws:
        reliable = {f for f, ok in family_reliability(ws).items() if ok}
        family = {a: found.job_family for a, found in ws.db.agents.all().items()}
        notices = ws.db.notices.all()
        late = {a for a, day in notices.items() if day > min(notices.values())}
    assert family[agent.agent_id] in reliable, (
        "the demo agent account must belong to a job family the validity study finds reliable"
    )
    others = []
    for a, f in sorted(family.items()):
        if f not in reliable or a in (agent.agent_id, manager) or a in late:
            continue
        try:
            case_period(web, a)
        except AssertionError:
            continue  # no telework day in a published week: no case can be judged
        others.append(a)
    other, third, fourth = others[:3]
    period_a, period_b = case_period(web, agent.agent_id), case_period(web, other)
    with web.workspace() as ws:
        case_a = open_case(
            ws, hr, agent.agent_id, hr.login, "Réclamation sur la semaine (test)", *period_a
        )
        case_b = open_case(ws, hr, other, hr.login, "Second dossier (test)", *period_b)
        # D5: the agent of case B has answered, so the matrix may close it
        answer_case(ws, agent_identity(other), case_b, "Réponse de l'agent (test)")
        create_account(ws.db, ws.clock, DISABLED_ACCOUNT, "un mot de passe long", "staff_rep", "")
        set_disabled(ws.db, ws.clock, DISABLED_ACCOUNT, True, "test")
        telework = [r for r in records(ws, agent.agent_id) if r.status != "disputed"]
        used = {agent.agent_id, manager, other, third, fourth}
        objector = next(a for a in sorted(family) if a not in used)
        objection = object_to_processing(
            ws, agent_identity(objector), "Je m'oppose au traitement (test)"
        )
    period_c = case_period(web, third)
    return Scenario(
        agent=agent,
        other_agent=other,
        third_agent=third,
        fourth_agent=fourth,
        case_a=case_a,
        case_a_period=period_a,
        case_b=case_b,
        declare_at=(telework[-1].date, telework[-1].half_day),
        dispute_at=(telework[-2].date, telework[-2].half_day),
        annotate_at=(telework[-3].date, telework[-3].half_day),
        new_case={
            "agent_id": third,
            "reason": "Dossier ouvert depuis le formulaire (test)",
            "day_from": period_c[0].isoformat(),
            "day_to": period_c[1].isoformat(),
        },
        objection=objection,
    )


def fill(path: str, role: str, s: Scenario) -> str:
    """The concrete URL of a route for a role."""
    agent = s.other_agent if role == "agent" else s.agent.agent_id  # E6: an agent asks for another
    case = s.case_b if path.endswith("/close") else s.case_a
    return (
        path.replace("{agent_id}", agent)
        .replace("{case_id}", str(case))
        .replace("{kind}", "register")
    )


def body(method: str, path: str, s: Scenario, account: DemoAccount | None) -> dict[str, Any]:
    """Request arguments: a complete, valid form or JSON body."""
    if method != "POST":
        return {}
    if path == "/api/login":
        who = account or s.agent
        return {"json": {"login": who.login, "password": who.password}}
    if path == "/login":
        who = account or s.agent
        return {"data": {"login": who.login, "password": who.password}}
    if path == "/api/logout":
        return {}
    forms: dict[str, dict[str, str]] = {
        "/logout": {},
        "/me/declare": {
            "day": s.declare_at[0],
            "half": s.declare_at[1],
            "kind": "phone",
            "note": "",
        },
        "/me/annotate": {
            "day": s.annotate_at[0],
            "half": s.annotate_at[1],
            "text": "Réunion au téléphone",
        },
        "/me/dispute": {
            "day": s.dispute_at[0],
            "half": s.dispute_at[1],
            "reason": "J'ai travaillé hors ligne",
        },
        "/me/cases/{case_id}/answer": {"text": "Ma réponse au dossier"},
        "/manager/statement/validate": {"month": "2026-01"},  # closed; February stays open
        "/hr/cases": dict(s.new_case),
        "/hr/cases/{case_id}/close": {"outcome": "Aucune suite : décision humaine motivée (test)"},
        "/dpo/purge": {},
        "/dpo/accounts": {"login": DISABLED_ACCOUNT, "change": "enable"},
        "/dpo/objections": {
            "number": str(s.objection),
            "decision": "rejected",
            "reason": "Motifs légitimes et impérieux (test)",
        },
    }
    return {"data": forms[path]}


def personal_markers(web: Web) -> dict[str, list[str]]:
    """What identifies an agent: ids, names, directory logins, pseudonyms."""
    with web.workspace() as ws:
        agents = [(a.agent_id, a.display_name) for a in ws.db.agents.all().values()]
        logins = list(ws.db.agents.login_keys())
        pseudonyms = [ws.pseudonymizer.pseudonym(a[0]) for a in agents]
    return {
        "agent id": [a[0] for a in agents],
        "name": [a[1] for a in agents],
        "login": logins,
        "pseudonym": pseudonyms,
    }


def find_markers(text: str, markers: dict[str, list[str]]) -> list[str]:
    """The markers present in a text (logins as whole tokens)."""
    found = []
    plain = visible_text(text)
    for kind, values in markers.items():
        for v in values:
            if kind == "login":
                if re.search(rf"(?<![\w.@-]){re.escape(v)}(?![\w.@-])", plain):
                    found.append(f"{kind} {v}")
            elif v in plain or v in text:
                found.append(f"{kind} {v}")
    return found
