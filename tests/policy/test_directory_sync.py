"""``loyaute directory sync`` against a real OpenLDAP server (Debian's slapd, started here):
paged reads of a tree larger than the server's size limit, every login form, the manager chain,
changes and departures applied atomically, the mass-removal stop, a sync run twice, a wrong
password, an unreachable server, TLS verified. No mock stands in for the server."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.clock import FixedClock
from loyaute.config import LdapAttributes, LdapSettings, Settings
from loyaute.errors import ConfigError
from loyaute.identity import LoginIndex
from loyaute.ldap import DirectoryServerError, login_values
from loyaute.policy.directory_sync import MassRemoval, sync
from loyaute.policy.roles import Identity, Role
from loyaute.templates import loyaute_toml
from loyaute.workspace import Workspace, init
from tests.slapd import AGENTS_DN, BIND_DN, BIND_PASSWORD, SLAPD, SUFFIX, Person, Slapd, free_port

pytestmark = pytest.mark.skipif(not SLAPD.exists(), reason="Debian's slapd is not installed")

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
WHO = Identity("dsi.test", Role.SYSTEM)
BIG = 1_200
SERVICES = ["Finances", "Action sociale", "Routes", "Collèges", "RH", "DSI"]
FAMILIES = ["administratif", "finances", "informatique", "travail_social", "encadrement"]


def big_tree() -> list[Person]:
    """1,200 agents: a director, six heads of service under them, everyone else under a head."""
    people = [Person("D0000", "direction", "Anne Directrice", "Direction", "encadrement")]
    heads = []
    for i, service in enumerate(SERVICES):
        head = Person(
            f"H{i:04d}", f"chef{i}", f"Chef {service}", service, "encadrement", "direction"
        )
        heads.append(head)
        people.append(head)
    for n in range(BIG - len(people)):
        i = n % len(SERVICES)
        people.append(
            Person(
                f"A{n:05d}",
                f"agent{n:05d}",
                f"Agent N{n:05d}",
                SERVICES[i],
                FAMILIES[n % len(FAMILIES)],
                heads[i].sam,
                extra_mail=f"alias{n:05d}@lenord.fr" if n % 3 == 0 else "",
            )
        )
    return people


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """One server for the module, with the large tree under ou=agents."""
    server = Slapd(tmp_path_factory.mktemp("slapd"))
    try:
        server.add_people(big_tree())
        yield server
    finally:
        server.stop()


def small_unit(slapd: Slapd, name: str, size: int = 10) -> tuple[str, list[Person]]:
    """An organisational unit of its own for a test that changes the tree."""
    base = f"ou={name},{SUFFIX}"
    slapd.add(f"dn: {base}\nobjectClass: organizationalUnit\nou: {name}\n")
    people = [Person(f"{name}-M", f"{name}m", "Marie Cheffe", "Routes", "encadrement", base=base)]
    people += [
        Person(
            f"{name}-{n}",
            f"{name}{n}",
            f"Agent {n}",
            "Routes",
            "administratif",
            f"{name}m",
            base=base,
        )
        for n in range(1, size)
    ]
    slapd.add_people(people)
    return base, people


def workspace(tmp: Path, slapd: Slapd, **ldap: Any) -> Path:
    """A workspace whose [directory.ldap] points at the test server (StartTLS by default)."""
    home = tmp / "home"
    init(home)
    options: dict[str, Any] = {
        "url": slapd.ldap_url,
        "start_tls": True,
        "ca_file": str(slapd.ca),
        "bind_dn": BIND_DN,
        "base_dn": AGENTS_DN,
        "filter": "(objectClass=adUser)",
        "page_size": 200,
        "attributes": LdapAttributes(),
    } | ldap
    settings = Settings.model_validate(
        {"directory": {"ldap": LdapSettings.model_validate(options).model_dump()}}
    )
    (home / "loyaute.toml").write_text(loyaute_toml(settings), encoding="utf-8")
    secret = home / "secrets" / "ldap-bind-password"
    secret.write_text(BIND_PASSWORD + "\n", encoding="utf-8")
    os.chmod(secret, 0o600)
    return home


def open_ws(home: Path) -> Workspace:
    return Workspace.open(home, FixedClock(NOW))


def snapshot(ws: Workspace) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every row of the directory tables."""
    agents = [tuple(r) for r in ws.db.conn.execute("SELECT * FROM agents ORDER BY agent_id")]
    logins = [tuple(r) for r in ws.db.conn.execute("SELECT * FROM logins ORDER BY login_key")]
    return agents, logins


def audit_actions(ws: Workspace) -> list[tuple[str, dict[str, Any]]]:
    return [(e.action, e.details) for e in ws.audit.entries() if e.action.startswith("directory")]


# --- reading -----------------------------------------------------------------------------------


def test_a_plain_search_is_capped_by_the_server(slapd: Slapd) -> None:
    """The server, like Active Directory, stops a search at its size limit: only a paged search
    can read the whole tree (what the next test proves loyaute does)."""
    result = subprocess.run(
        [
            "ldapsearch",
            "-x",
            "-H",
            slapd.ldaps_url,
            "-D",
            BIND_DN,
            "-w",
            BIND_PASSWORD,
            "-b",
            AGENTS_DN,
            "(objectClass=adUser)",
            "dn",
        ],
        capture_output=True,
        env={**os.environ, "LDAPTLS_CACERT": str(slapd.ca)},
        check=False,
    )
    assert result.returncode == 4  # sizeLimitExceeded
    assert result.stdout.count(b"\ndn: ") == 500


def test_cli_sync_reads_a_large_tree_in_pages(slapd: Slapd, tmp_path: Path) -> None:
    """1,200 agents through pages of 200, every login form, the manager chain resolved from DNs;
    the command prints what it did and the audit log counts it."""
    home = workspace(tmp_path, slapd)
    result = CliRunner().invoke(app, ["--home", str(home), "directory", "sync"])
    assert result.exit_code == 0, result.output
    assert "1200" in result.output
    with open_ws(home) as ws:
        agents = ws.db.agents.all()
        assert len(agents) == BIG
        assert agents["A00001"].manager_id == "H0001"
        assert agents["H0001"].manager_id == "D0000"
        assert (agents["A00001"].service, agents["A00001"].job_family) == (
            "Action sociale",
            "finances",
        )
        index = LoginIndex.load(ws.db)
        for login in (
            "agent00003",  # sAMAccountName
            "LENORD\\agent00003",
            "agent00003@lenord.local",  # userPrincipalName
            "agent00003@lenord.fr",  # mail and SMTP: proxy address
            "alias00003@lenord.fr",  # smtp: secondary address
        ):
            assert index.resolve(login) == "A00003", login
        assert index.resolve("/o=LeNord/ou=Exchange/cn=Recipients/cn=agent00003") is None
        ((action, details),) = audit_actions(ws)
        assert action == "directory_sync"
        assert details["added"] == BIG
        assert details["read"] == BIG
        assert BIND_PASSWORD not in str(ws.audit.entries())


def test_ldaps_works_and_an_unknown_ca_is_refused(slapd: Slapd, tmp_path: Path) -> None:
    """LDAPS reads the same directory; a certificate signed by a CA loyaute was not given is
    refused before any password is sent."""
    base, _ = small_unit(slapd, "tls")
    home = workspace(tmp_path, slapd, url=slapd.ldaps_url, start_tls=False, base_dn=base)
    with open_ws(home) as ws:
        assert len(sync(ws, WHO).changes.added) == 10
    other = workspace(tmp_path / "other", slapd, base_dn=base, ca_file="")
    with open_ws(other) as ws, pytest.raises(DirectoryServerError) as caught:
        sync(ws, WHO)
    assert caught.value.kind == "tls"


# --- comparing and applying -------------------------------------------------------------------


def test_changes_and_departures_are_applied_and_the_departed_keep_their_data(
    slapd: Slapd, tmp_path: Path
) -> None:
    """A full comparison: a move of service, a new job family, a new manager, a new login, an
    agent gone and one added — each reported, applied in one go; the departed agent is marked,
    their logins stop resolving, their notice and declarations stay (F2, G1)."""
    base, _people = small_unit(slapd, "chg", size=20)
    home = workspace(tmp_path, slapd, base_dn=base)
    with open_ws(home) as ws:
        sync(ws, WHO)
        ws.db.notices.record(["chg-5"], date(2026, 4, 1))
        ws.db.individual.declare("chg-5", date(2026, 4, 28), "AM", "phone", "", "2026-04-28")
    slapd.modify(
        f"dn: cn=chg1,{base}\nchangetype: modify\nreplace: department\ndepartment: Collèges\n\n"
        f"dn: cn=chg2,{base}\nchangetype: modify\nreplace: title\ntitle: informatique\n\n"
        f"dn: cn=chg3,{base}\nchangetype: modify\nreplace: manager\nmanager: cn=chg4,{base}\n\n"
        f"dn: cn=chg4,{base}\nchangetype: modify\nadd: proxyAddresses\n"
        "proxyAddresses: smtp:nouvelle.adresse@lenord.fr\n\n"
    )
    slapd.delete([f"cn=chg5,{base}"])
    slapd.add_people(
        [Person("chg-new", "chgnew", "Nouvelle Venue", "Routes", "administratif", base=base)]
    )
    with open_ws(home) as ws:
        report = sync(ws, WHO)
        changes = report.changes
        assert changes.added == ["chg-new"]
        assert changes.gone == ["chg-5"]
        assert changes.changed == {
            "chg-1": ["service"],
            "chg-2": ["job_family"],
            "chg-3": ["manager_id"],
            "chg-4": ["logins"],
        }
        agents = ws.db.agents.everyone()
        assert agents["chg-1"].service == "Collèges"
        assert agents["chg-3"].manager_id == "chg-4"
        assert agents["chg-5"].left_on == "2026-05-04"
        assert "chg-5" not in ws.db.agents.all()
        index = LoginIndex.load(ws.db)
        assert index.resolve("nouvelle.adresse@lenord.fr") == "chg-4"
        assert index.resolve("chg5") is None
        assert index.resolve("chg5@lenord.fr") is None
        assert ws.db.notices.of("chg-5") == "2026-04-01"
        assert [d.kind for d in ws.db.individual.declarations_of("chg-5")] == ["phone"]
        (_, details) = audit_actions(ws)[-1]
        assert (details["added"], details["changed"], details["gone"]) == (1, 4, 1)


def test_a_sync_run_twice_changes_nothing(slapd: Slapd, tmp_path: Path) -> None:
    base, _ = small_unit(slapd, "twice")
    home = workspace(tmp_path, slapd, base_dn=base)
    with open_ws(home) as ws:
        assert not sync(ws, WHO).changes.nothing
        before = snapshot(ws)
        again = sync(ws, WHO)
        assert again.changes.nothing
        assert not again.applied
        assert snapshot(ws) == before
        assert [a for a, _ in audit_actions(ws)] == ["directory_sync", "directory_sync"]


def test_a_returning_agent_is_present_again(slapd: Slapd, tmp_path: Path) -> None:
    base, people = small_unit(slapd, "back", size=20)
    home = workspace(tmp_path, slapd, base_dn=base)
    with open_ws(home) as ws:
        sync(ws, WHO)
        slapd.delete([people[3].dn])
        sync(ws, WHO)
        assert ws.db.agents.everyone()["back-3"].left_on
        slapd.add_people([people[3]])
        assert sync(ws, WHO).changes.added == ["back-3"]
        assert ws.db.agents.all()["back-3"].left_on == ""
        assert LoginIndex.load(ws.db).resolve("back3") == "back-3"


# --- the mass-removal stop --------------------------------------------------------------------


def test_a_sync_removing_too_many_agents_stops_until_confirmed(
    slapd: Slapd, tmp_path: Path
) -> None:
    """Half of a unit gone (50 % > 10 %): nothing changes, the stop is audited, the command
    exits 1 naming --confirm; with --confirm the departures are applied."""
    base, people = small_unit(slapd, "mass")
    home = workspace(tmp_path, slapd, base_dn=base)
    runner = CliRunner()
    assert runner.invoke(app, ["--home", str(home), "directory", "sync"]).exit_code == 0
    with open_ws(home) as ws:
        before = snapshot(ws)
    slapd.delete([p.dn for p in people[5:]])
    result = runner.invoke(app, ["--home", str(home), "directory", "sync"])
    assert result.exit_code == 1
    assert "--confirm" in result.output
    with open_ws(home) as ws:
        assert snapshot(ws) == before
        assert audit_actions(ws)[-1][0] == "directory_sync_stopped"
        assert audit_actions(ws)[-1][1]["gone"] == 5
    result = runner.invoke(app, ["--home", str(home), "directory", "sync", "--confirm"])
    assert result.exit_code == 0, result.output
    with open_ws(home) as ws:
        assert len(ws.db.agents.all()) == 5
        assert len(ws.db.agents.everyone()) == 10


def test_a_filter_that_matches_nobody_does_not_empty_the_directory(
    slapd: Slapd, tmp_path: Path
) -> None:
    base, _ = small_unit(slapd, "filter")
    home = workspace(tmp_path, slapd, base_dn=base)
    with open_ws(home) as ws:
        sync(ws, WHO)
    broken = workspace(tmp_path / "broken", slapd, base_dn=base, filter="(department=Rouets)")
    broken_toml = (broken / "loyaute.toml").read_text(encoding="utf-8")
    (home / "loyaute.toml").write_text(broken_toml, encoding="utf-8")
    with open_ws(home) as ws:
        with pytest.raises(MassRemoval):
            sync(ws, WHO)
        assert len(ws.db.agents.all()) == 10


# --- failures -------------------------------------------------------------------------------


def test_a_wrong_password_is_refused_audited_and_never_shown(slapd: Slapd, tmp_path: Path) -> None:
    home = workspace(tmp_path, slapd)
    wrong = "pas-le-bon-mot-de-passe"
    (home / "secrets" / "ldap-bind-password").write_text(wrong, encoding="utf-8")
    result = CliRunner().invoke(app, ["--home", str(home), "directory", "sync"])
    assert result.exit_code == 1
    assert "bind_dn" in result.output
    assert wrong not in result.output
    with open_ws(home) as ws:
        assert ws.db.agents.count() == 0
        ((action, details),) = audit_actions(ws)
        assert (action, details["kind"]) == ("directory_sync_failed", "bind")
        assert wrong not in str(ws.audit.entries())


def test_an_unreachable_server_is_reported_and_audited(slapd: Slapd, tmp_path: Path) -> None:
    home = workspace(tmp_path, slapd, url=f"ldap://127.0.0.1:{free_port()}", timeout_seconds=2)
    with open_ws(home) as ws:
        with pytest.raises(DirectoryServerError) as caught:
            sync(ws, WHO)
        assert caught.value.kind == "unreachable"
        assert "injoignable" in caught.value.message
        assert audit_actions(ws)[-1][1]["kind"] == "unreachable"


def test_a_password_file_others_can_read_is_refused(slapd: Slapd, tmp_path: Path) -> None:
    home = workspace(tmp_path, slapd)
    os.chmod(home / "secrets" / "ldap-bind-password", 0o644)
    result = CliRunner().invoke(app, ["--home", str(home), "directory", "sync"])
    assert result.exit_code == 1
    assert "chmod 600" in result.output


def test_a_clear_text_connection_is_refused_by_the_configuration() -> None:
    with pytest.raises(ValueError, match="start_tls"):
        LdapSettings(url="ldap://ad.lenord.local", base_dn="dc=lenord,dc=local")
    assert isinstance(ConfigError, type)


def test_proxy_addresses_keep_smtp_addresses_only() -> None:
    values = ["SMTP:Jean.Dupont@lenord.fr", "smtp:jd@lenord.fr", "X500:/o=LeNord/cn=jd", "sip:jd@x"]
    assert login_values(values) == ["Jean.Dupont@lenord.fr", "jd@lenord.fr"]


def test_config_check_names_a_missing_bind_password_file(slapd: Slapd, tmp_path: Path) -> None:
    home = workspace(tmp_path, slapd)
    (home / "secrets" / "ldap-bind-password").unlink()
    result = CliRunner().invoke(app, ["--home", str(home), "config", "check"])
    assert result.exit_code == 78
    assert "directory.ldap.password_file" in result.output
