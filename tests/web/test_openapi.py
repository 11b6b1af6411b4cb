"""Schemathesis against /openapi.json, in process on the ASGI app, with a signed-in session.

Every operation the schema lists is called with generated data by a role the route admits (the
session's CSRF token added to forms, so that the handlers themselves see the data): no answer may
be a server error (an unhandled exception is one), every answer must have the documented content
type and, when a schema is documented, match it. The JSON API (/api/…) must also answer only with
documented statuses; pages are held to their documented 2xx answers (their refusals and redirects
are HTML pages, which the route tests cover).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from loyaute.web.context import SESSION_COOKIE
from tests.web.support import EXPECTED, Web

EXAMPLES = 12
SIGN_IN_EXAMPLES = 4  # each attempt costs an Argon2 verification
SESSION_ENDING = {("POST", "/logout"), ("POST", "/api/logout")}
PREFERRED = ("agent", "hr_reviewer", "dpo", "manager", "staff_rep", "operator")


@pytest.fixture(scope="module")
def api_schema(web: Web) -> Any:
    """The app's schema, loaded through the app itself."""
    return schemathesis.openapi.from_asgi("/openapi.json", web.app)


def test_the_schema_describes_the_api(api_schema: Any) -> None:
    """/openapi.json lists every route of the app, the contract's API among them."""
    operations = {(r.ok().method.upper(), r.ok().path) for r in api_schema.get_all_operations()}
    assert operations == set(EXPECTED)
    for needed in (
        ("POST", "/api/login"),
        ("POST", "/api/logout"),
        ("GET", "/api/me"),
        ("GET", "/api/me/records"),
        ("GET", "/api/agents/{agent_id}/records"),
        ("GET", "/api/reports/presence"),
    ):
        assert needed in operations


def role_for(method: str, path: str) -> str | None:
    """The role a check signs in with: one the route admits (the case reviewer for the case
    records), none for public routes."""
    roles = EXPECTED[(method, path)]
    if roles is None:
        return None
    if path == "/api/agents/{agent_id}/records":
        return "hr_reviewer"
    return next(r for r in PREFERRED if r in roles)


@pytest.mark.parametrize(("method", "path"), list(EXPECTED), ids=[f"{m} {p}" for m, p in EXPECTED])
def test_operation_conforms_to_the_schema(
    web: Web, api_schema: Any, method: str, path: str
) -> None:
    """No 5xx, documented content types and bodies; documented statuses for the JSON API."""
    operation = api_schema[path][method]
    role = role_for(method, path)
    api = path.startswith("/api/")
    checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
    if api:
        checks.append(status_code_conformance)
    shared = web.extra_session(role) if role else None
    examples = (
        SIGN_IN_EXAMPLES if path in ("/login", "/api/login") and method == "POST" else EXAMPLES
    )

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time, raw example kept
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        session = web.extra_session(role) if role and (method, path) in SESSION_ENDING else shared
        cookies = {SESSION_COOKIE: session.token or ""} if session else {}
        if (
            session
            and isinstance(case.body, dict)
            and method == "POST"
            and not path.startswith("/api/")
        ):
            case.body["csrf"] = session.csrf
        try:
            response = case.call(cookies=cookies)
        except Exception as exc:
            raise AssertionError(
                f"{method} {case.formatted_path} body={case.body!r} query={case.query!r}: "
                f"unhandled {exc!r} — a server answers 500"
            ) from exc
        if api or response.status_code < 300:
            case.validate_response(response, checks=checks)
        else:  # a page's refusals and redirects are HTML pages, tested by the route tests
            case.validate_response(response, checks=[not_a_server_error])

    call()
