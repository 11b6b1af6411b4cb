"""A typo in loyaute.toml while the server runs does not take the site down (issue 9, finding 7):
the last good configuration stays in use, the DPO and the operator see a banner naming the
problem, nobody else sees it, and ``/healthz`` answers ``degraded`` with a non-200 status."""

from __future__ import annotations

from tests.web.support import Web, visible_text

TYPO = 'timezone = "Europe/Paris"\nhalf_day = 3\n'
"""A key that does not exist (``half_days`` is the real one)."""


def break_settings(web: Web) -> str:
    path = web.home / "loyaute.toml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace('timezone = "Europe/Paris"\n', TYPO, 1), encoding="utf-8")
    assert "half_day = 3" in path.read_text(encoding="utf-8")
    return good


def test_a_configuration_typo_keeps_the_site_up(fresh_web: Web) -> None:
    web = fresh_web
    dpo, operator, agent = web.sign_in("dpo"), web.sign_in("operator"), web.sign_in("agent")
    assert web.client().get("/healthz").json() == {"status": "ok"}
    good = break_settings(web)

    health = web.client().get("/healthz")
    assert health.status_code == 503
    assert health.json() == {"status": "degraded"}  # no detail for an anonymous caller

    login = web.client().get("/login")
    assert login.status_code == 200
    assert "half_day" not in login.text

    page = agent.get("/me")
    assert page.status_code == 200
    assert "half_day" not in page.text
    assert "configuration" not in visible_text(page.text).lower()

    for c, home in ((dpo, "/dpo"), (operator, "/operator")):
        page = c.get(home)
        assert page.status_code == 200
        text = visible_text(page.text)
        assert "La configuration sur disque est invalide" in text
        assert "half_day" in text
        assert "loyaute config check" in text

    (web.home / "loyaute.toml").write_text(good, encoding="utf-8")
    assert web.client().get("/healthz").status_code == 200
    assert "La configuration sur disque est invalide" not in visible_text(dpo.get("/dpo").text)


def test_a_damaged_state_database_gives_503_and_no_path(fresh_web: Web) -> None:
    """Issue 10, finding 14: the state database damaged while the server runs. Visitors get 503
    and the page names no file and no path; nothing like a traceback."""
    web = fresh_web
    agent = web.sign_in("agent")
    assert agent.get("/me").status_code == 200
    state = web.home / "store" / "state.db"
    for side in (state.with_name("state.db-wal"), state.with_name("state.db-shm")):
        side.unlink(missing_ok=True)
    state.write_bytes(b"not a database any more\n" * 400)
    page = agent.get("/me")
    assert page.status_code == 503
    assert "indisponible" in page.text
    for leak in (str(web.home), "state.db", "Traceback", "sqlite"):
        assert leak not in page.text
