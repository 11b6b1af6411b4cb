"""Agents, logins and pseudonyms (CONTRACT.md "Input files", rules B6 and H3).

Login matching ignores case, a ``DOMAIN\\`` prefix and URL-encoding, and a bare login also matches
``login@any-domain``. The directory import is all or nothing and lists every problem at once. The
pseudonymiser is a keyed HMAC whose key never leaves its file (B6) nor shows anywhere (H3).
"""

from __future__ import annotations

import copy
import hashlib
import os
import pickle
import re
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.config import DirectorySettings
from loyaute.errors import InputError, WorkspaceError
from loyaute.identity import (
    Agent,
    ImportProblems,
    LoginIndex,
    Pseudonymizer,
    create_key,
    load_key,
    parse_directory,
    store_directory,
)
from loyaute.store.state import Database
from tests.conftest import FIXTURES

WS = FIXTURES / "workspace"
DAY = date(2026, 3, 1)
HEADER = "agent_id,display_name,service,job_family,manager_id,logins\n"


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[Database]:
    """An empty state database."""
    c = Database(tmp_path / "state.db")
    try:
        yield c
    finally:
        c.close()


def csv_file(tmp_path: Path, text: str, name: str = "dir.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def stored(conn: Database) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """The whole directory as stored: agents and login keys."""
    agents = [tuple(r) for r in conn.conn.execute("SELECT * FROM agents ORDER BY agent_id")]
    logins = [tuple(r) for r in conn.conn.execute("SELECT * FROM logins ORDER BY login_key")]
    return agents, logins


def index_of(conn: Database, path: Path, columns: DirectorySettings | None = None) -> LoginIndex:
    store_directory(conn, parse_directory(path, columns or DirectorySettings()), DAY)
    return LoginIndex.load(conn)


def problems_of(path: Path, columns: DirectorySettings | None = None) -> list[str]:
    with pytest.raises(ImportProblems) as info:
        parse_directory(path, columns or DirectorySettings())
    assert info.value.exit_code == 1
    return info.value.problems


def lines_of(problems: list[str]) -> list[int]:
    """The line each problem is attributed to ("ligne N :" / "line N:")."""
    found = []
    for p in problems:
        m = re.match(r"^(?:ligne|line) (\d+)", p)
        assert m, f"problem without its line: {p}"
        found.append(int(m.group(1)))
    return found


# --- login matching -----------------------------------------------------------------------------


@pytest.fixture
def index(conn: Database) -> LoginIndex:
    """The fixture directory: A001 jdupont (+ UPN, DOMAIN\\ form), A002 only a UPN, A003 bare."""
    return index_of(conn, WS / "directory.csv")


@pytest.mark.parametrize(
    "raw",
    [
        "jdupont",
        "JDUPONT",
        "JDupont",
        "LENORD\\jdupont",
        "lenord\\JDUPONT",
        "AUTREDOMAINE\\jdupont",
        "lenord%5Cjdupont",
        "LENORD%5cjdupont",
        "jeanne.dupont@lenord.fr",
        "Jeanne.Dupont@LENORD.FR",
        "jeanne.dupont%40lenord.fr",
        "jdupont@lenord.fr",
        "jdupont@autre-domaine.org",
        "jeanne.dupont",
        "JEANNE.DUPONT",
        "  jdupont  ",
    ],
)
def test_logins_of_an_agent_match_in_every_written_form(index: LoginIndex, raw: str) -> None:
    """CONTRACT matching: case, ``DOMAIN\\``, URL-encoding; bare ``jdupont`` in the directory
    also matches ``jdupont@any-domain`` in a log."""
    assert index.resolve(raw) == "A001"


@pytest.mark.parametrize(
    "raw",
    ["cmartin", "CMARTIN", "LENORD\\cmartin", "lenord%5Ccmartin", "cmartin@lenord.fr"],
)
def test_a_bare_log_login_matches_a_upn_in_the_directory(index: LoginIndex, raw: str) -> None:
    """CONTRACT matching, other direction: the directory has only ``cmartin@lenord.fr``; the VPN
    writes ``cmartin``."""
    assert index.resolve(raw) == "A002"


@pytest.mark.parametrize(
    "raw",
    [
        "jdupon",
        "jdupont2",
        "dupont",
        "xjdupont",
        "inconnu@lenord.fr",
        "LENORD\\inconnu",
        "",
        "@lenord.fr",
    ],
)
def test_unknown_logins_resolve_to_none(index: LoginIndex, raw: str) -> None:
    """CONTRACT matching: no fuzzy matching, no prefix or substring match — unknown is None."""
    assert index.resolve(raw) is None


def test_a_bare_log_login_matches_the_upn_local_part_of_the_directory(
    conn: Database, tmp_path: Path
) -> None:
    """CONTRACT matching: ``hbernard`` in a log finds the agent listed as ``hbernard@lenord.fr``;
    ``hbernard@ailleurs.org`` does not become someone else."""
    path = csv_file(
        tmp_path,
        HEADER + "D1,H B,DSI,informatique,,hbernard@lenord.fr\nD2,X Y,DSI,informatique,,xy\n",
    )
    idx = index_of(conn, path)
    assert idx.resolve("hbernard") == "D1"
    assert idx.resolve("HBERNARD") == "D1"
    assert idx.resolve("hbernard@lenord.fr") == "D1"
    assert idx.resolve("xy@lenord.fr") == "D2"
    assert idx.resolve("hbernar") is None


def test_index_follows_the_stored_directory(conn: Database, tmp_path: Path) -> None:
    """CONTRACT directory import "replaces the previous one": old logins stop resolving."""
    index_of(conn, WS / "directory.csv")
    idx = index_of(conn, csv_file(tmp_path, HEADER + "Z1,Z,DSI,informatique,,zed\n"))
    assert idx.resolve("zed") == "Z1"
    assert idx.resolve("jdupont") is None
    assert idx.resolve("cmartin") is None


# --- directory import ---------------------------------------------------------------------------


def test_comma_directory_with_both_login_separators(tmp_path: Path) -> None:
    """CONTRACT directory CSV: ``,`` sniffed; logins separated by ``;`` or ``|``."""
    agents = {a.agent_id: a for a in parse_directory(WS / "directory.csv", DirectorySettings())}
    assert set(agents) == {"A001", "A002", "A003"}
    assert agents["A001"] == Agent(
        "A001",
        "Jeanne Dupont",
        "DSI",
        "informatique",
        "",
        ("jdupont", "jeanne.dupont@lenord.fr", "LENORD\\jdupont"),
    )
    assert agents["A003"].logins == ("hlefevre", "vpn-hlefevre")
    assert agents["A003"].display_name == "Hélène Lefèvre"
    assert agents["A002"].manager_id == "A001"


def test_semicolon_directory_with_utf8_bom(tmp_path: Path) -> None:
    """CONTRACT directory CSV: ``;`` sniffed, a UTF-8 BOM (Excel) does not spoil the first column."""
    agents = {
        a.agent_id: a
        for a in parse_directory(WS / "directory_semicolon_bom.csv", DirectorySettings())
    }
    assert set(agents) == {"B001", "B002"}
    assert agents["B001"].display_name == "Élodie Marchand"
    assert agents["B001"].logins == ("emarchand", "emarchand@lenord.fr")
    assert agents["B002"].display_name == "Loïc Bénard"
    assert agents["B002"].manager_id == "B001"


def test_windows_1252_directory(tmp_path: Path) -> None:
    """CONTRACT input files: an old Windows-1252 export keeps its accented names (é, è, à, œ)."""
    agents = {
        a.agent_id: a for a in parse_directory(WS / "directory_cp1252.csv", DirectorySettings())
    }
    assert agents["C001"].display_name == "Hélène Lefèvre"
    assert agents["C001"].service == "Aide sociale à l'enfance"
    assert agents["C002"].display_name == "François Cœur"
    assert agents["C002"].service == "Collèges"
    assert agents["C002"].logins == ("fcoeur", "françois.cœur@lenord.fr")


def test_column_mapping_reads_a_real_export() -> None:
    """CONTRACT: a column mapping in loyaute.toml ([directory]) accepts an export with other
    column names; unmapped columns (a phone number) are not kept (minimisation, B1/B2)."""
    columns = DirectorySettings(
        agent_id_column="Matricule",
        display_name_column="Nom usuel",
        service_column="Direction",
        job_family_column="Filière",
        manager_id_column="Responsable",
        logins_column="Comptes",
    )
    agents = {a.agent_id: a for a in parse_directory(WS / "directory_hr_export.csv", columns)}
    assert agents["0042"] == Agent(
        "0042", "Jeanne Dupont", "DSI", "informatique", "", ("jdupont", "jeanne.dupont@lenord.fr")
    )
    assert agents["0043"].manager_id == "0042"
    assert "0320000000" not in repr(agents)


def test_default_columns_do_not_read_a_real_export() -> None:
    """CONTRACT: without the mapping the same export is refused, naming the missing columns."""
    problems = problems_of(WS / "directory_hr_export.csv")
    assert len(problems) == 1
    assert "agent_id" in problems[0]
    assert "logins" in problems[0]


def test_column_mapping_through_loyaute_toml(tmp_path: Path) -> None:
    """CONTRACT: the mapping lives in loyaute.toml's [directory] table and the CLI uses it."""
    home = tmp_path / "ws"
    assert CliRunner().invoke(app, ["--home", str(home), "init"]).exit_code == 0
    settings = home / "loyaute.toml"
    text = settings.read_text(encoding="utf-8")
    head, sep, section = text.partition("\n[directory]\n")
    assert sep
    section, nxt, rest = section.partition("\n[")
    for key, value in (
        ("agent_id_column", "Matricule"),
        ("display_name_column", "Nom usuel"),
        ("service_column", "Direction"),
        ("job_family_column", "Filière"),
        ("manager_id_column", "Responsable"),
        ("logins_column", "Comptes"),
    ):
        section, n = re.subn(rf'^{key} = "[a-z_]+"$', f'{key} = "{value}"', section, flags=re.M)
        assert n == 1, key
    text = head + sep + section + nxt + rest
    settings.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["--home", str(home), "directory", "import", str(WS / "directory_hr_export.csv")]
    )
    assert result.exit_code == 0, result.stderr
    c = Database(home / "store" / "state.db")
    try:
        assert set(c.agents.all()) == {"0042", "0043"}
        assert LoginIndex.load(c).resolve("LENORD\\pdurand") == "0043"
    finally:
        c.close()


def test_import_replaces_the_previous_directory(conn: Database, tmp_path: Path) -> None:
    """CONTRACT ``directory import`` replaces the previous one: agents and logins gone from the
    current directory — yet the departed are kept, marked, until retention removes their data."""
    store_directory(conn, parse_directory(WS / "directory.csv", DirectorySettings()), DAY)
    assert set(conn.agents.all()) == {"A001", "A002", "A003"}
    later = date(2026, 4, 1)
    changes = store_directory(
        conn, parse_directory(WS / "directory_semicolon_bom.csv", DirectorySettings()), later
    )
    assert set(conn.agents.all()) == {"B001", "B002"}
    assert (sorted(changes.added), changes.gone) == (["B001", "B002"], ["A001", "A002", "A003"])
    logins = {r[0] for r in conn.conn.execute("SELECT agent_id FROM logins")}
    assert logins == {"B001", "B002"}
    departed = conn.agents.everyone()
    assert {a: departed[a].left_on for a in ("A001", "A002", "A003")} == dict.fromkeys(
        ("A001", "A002", "A003"), "2026-04-01"
    )
    assert conn.agents.count() == 2


def test_blank_lines_are_ignored(tmp_path: Path) -> None:
    """CONTRACT directory CSV: an empty trailing line (Excel) is not an agent nor a problem."""
    path = csv_file(tmp_path, HEADER + "E1,E,DSI,informatique,,e1\n\n,,,,,\n")
    assert [a.agent_id for a in parse_directory(path, DirectorySettings())] == ["E1"]


# --- every problem at once, nothing changed -----------------------------------------------------

BAD_DIRECTORY = (
    HEADER
    + "G1,Good One,DSI,informatique,,gone\n"  # line 2: fine
    + ",No Id,DSI,informatique,,noid\n"  # line 3: empty agent_id
    + "G1,Again,DSI,informatique,,again\n"  # line 4: duplicate agent_id
    + "G3,Three,DSI,informatique,,gone\n"  # line 5: login of G1
    + "G4,Four,DSI,informatique,,j dupont\n"  # line 6: space in a login
    + 'G5,Five,DSI,informatique,,"o\'brien"\n'  # line 7: quote in a login
    + "G6,Six,DSI\n"  # line 8: three columns
    + "G7,Seven,DSI,informatique,,g7,extra\n"  # line 9: seven columns
)


def test_every_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    """CONTRACT directory import: every problem at once, each with its line."""
    problems = problems_of(csv_file(tmp_path, BAD_DIRECTORY))
    assert sorted(set(lines_of(problems))) == [3, 4, 5, 6, 7, 8, 9]
    by_line = dict(zip(lines_of(problems), problems, strict=True))
    assert "agent_id" in by_line[3]
    assert "G1" in by_line[4]
    assert "gone" in by_line[5]
    assert "G1" in by_line[5]
    assert "j dupont" in by_line[6]
    assert "o'brien" in by_line[7]


def test_cli_failed_import_keeps_the_previous_directory(tmp_path: Path) -> None:
    """CONTRACT: ``directory import`` of a bad file exits 1, lists the problems on stderr and
    keeps the previous directory."""
    home = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["--home", str(home), "init"]).exit_code == 0
    ok = runner.invoke(app, ["--home", str(home), "directory", "import", str(WS / "directory.csv")])
    assert ok.exit_code == 0, ok.stderr
    c = Database(home / "store" / "state.db")
    try:
        before = stored(c)
    finally:
        c.close()
    assert [a[0] for a in before[0]] == ["A001", "A002", "A003"]
    bad = runner.invoke(
        app,
        ["--home", str(home), "directory", "import", str(csv_file(tmp_path, BAD_DIRECTORY))],
    )
    assert bad.exit_code == 1
    for line in (3, 4, 5, 6, 7, 8, 9):
        assert re.search(rf"^\s*- (ligne|line) {line}\b", bad.stderr, re.MULTILINE), line
    c = Database(home / "store" / "state.db")
    try:
        assert stored(c) == before
        assert LoginIndex.load(c).resolve("jdupont") == "A001"
    finally:
        c.close()


def test_empty_agent_id(tmp_path: Path) -> None:
    """CONTRACT directory CSV: an agent without identifier is refused (line named)."""
    problems = problems_of(csv_file(tmp_path, HEADER + ",Nobody,DSI,informatique,,nobody\n"))
    assert lines_of(problems) == [2]
    assert "agent_id" in problems[0]


def test_duplicate_agent_id(tmp_path: Path) -> None:
    """CONTRACT directory CSV: one row per agent — a second row for the same id is refused."""
    problems = problems_of(
        csv_file(
            tmp_path,
            HEADER + "D1,First,DSI,informatique,,first\nD1,Second,DSI,informatique,,second\n",
        )
    )
    assert lines_of(problems) == [3]
    assert "D1" in problems[0]


def test_two_agents_sharing_a_login(tmp_path: Path) -> None:
    """CONTRACT matching: a login names one agent — two agents with ``jdupont`` (one of them as
    ``LENORD\\JDupont``) are refused."""
    problems = problems_of(
        csv_file(
            tmp_path,
            HEADER + "S1,S1,DSI,informatique,,jdupont\nS2,S2,DSI,informatique,,LENORD\\JDupont\n",
        )
    )
    assert lines_of(problems) == [3]
    assert "S1" in problems[0]


def test_two_agents_sharing_a_upn_local_part(tmp_path: Path) -> None:
    """CONTRACT matching: ``jdupont@lenord.fr`` and ``jdupont@cg59.fr`` would both answer a bare
    ``jdupont`` in a log: refused."""
    problems = problems_of(
        csv_file(
            tmp_path,
            HEADER
            + "U1,U1,DSI,informatique,,jdupont@lenord.fr\n"
            + "U2,U2,DSI,informatique,,jdupont@cg59.fr\n",
        )
    )
    assert lines_of(problems) == [3]
    assert "U1" in problems[0]


def test_a_bare_login_and_another_agents_upn_with_that_local_part(tmp_path: Path) -> None:
    """CONTRACT matching: a bare login matches ``login@any-domain`` in both directions, so agent
    V1 listed as ``jdupont`` and agent V2 listed as ``jdupont@lenord.fr`` both answer a log's
    ``jdupont`` (and ``jdupont@autre.fr``): the directory is ambiguous and must be refused, not
    resolved silently to whichever key is looked up first."""
    problems = problems_of(
        csv_file(
            tmp_path,
            HEADER + "V1,V1,DSI,informatique,,jdupont\nV2,V2,DSI,informatique,,jdupont@lenord.fr\n",
        )
    )
    assert lines_of(problems) == [3]
    assert "V1" in problems[0]


def test_same_agent_may_list_a_login_in_several_forms(tmp_path: Path) -> None:
    """CONTRACT: one agent listing ``jdupont``, ``LENORD\\jdupont`` and ``jdupont@lenord.fr`` is not
    a conflict (the boundary of the rule above)."""
    path = csv_file(
        tmp_path, HEADER + "W1,W1,DSI,informatique,,jdupont;LENORD\\jdupont|jdupont@lenord.fr\n"
    )
    assert [a.agent_id for a in parse_directory(path, DirectorySettings())] == ["W1"]


@pytest.mark.parametrize(
    "login",
    ["j dupont", '"jdupont"x', "jd'upont", "n/a", "-", "<jdupont>"],
)
def test_garbage_login(tmp_path: Path, login: str) -> None:
    """CONTRACT matching: a login with spaces, quotes or a placeholder is refused, naming it."""
    quoted = '"' + login.replace('"', '""') + '"'
    problems = problems_of(csv_file(tmp_path, HEADER + f"X1,X,DSI,informatique,,{quoted}\n"))
    assert lines_of(problems) == [2]
    assert login in problems[0]


def test_an_agent_without_login(tmp_path: Path) -> None:
    """CONTRACT: an agent must be findable in the logs — an empty logins cell is a problem."""
    problems = problems_of(csv_file(tmp_path, HEADER + "N1,N,DSI,informatique,,\n"))
    assert lines_of(problems) == [2]


@pytest.mark.parametrize(
    "row",
    ["W1,W,DSI,informatique,,w1,surplus", "W1,W,DSI,informatique", "W1"],
)
def test_wrong_column_count(tmp_path: Path, row: str) -> None:
    """CONTRACT directory CSV: a row whose width differs from the header is refused (line named)."""
    problems = problems_of(csv_file(tmp_path, HEADER + "OK,OK,DSI,informatique,,ok\n" + row + "\n"))
    assert lines_of(problems) == [3]


@pytest.mark.parametrize("column", ["agent_id", "service", "job_family", "logins"])
def test_missing_column(tmp_path: Path, column: str) -> None:
    """CONTRACT directory CSV: the header must name every column; the missing one is named."""
    names = ["agent_id", "display_name", "service", "job_family", "manager_id", "logins"]
    values = ["M1", "M", "DSI", "informatique", "", "m1"]
    keep = [i for i, n in enumerate(names) if n != column]
    text = ",".join(names[i] for i in keep) + "\n" + ",".join(values[i] for i in keep) + "\n"
    problems = problems_of(csv_file(tmp_path, text))
    assert len(problems) == 1
    assert column in problems[0]


@pytest.mark.parametrize("text", ["", "\n", HEADER, HEADER + "\n\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    """CONTRACT directory CSV (header required): an empty file or a header alone is refused —
    importing it would wipe the directory."""
    problems = problems_of(csv_file(tmp_path, text))
    assert len(problems) == 1


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    """CONTRACT exit 1: a file that does not exist is a refused action, not a traceback."""
    with pytest.raises(InputError):
        parse_directory(tmp_path / "absent.csv", DirectorySettings())


# --- the pseudonymiser (B6, H3) -----------------------------------------------------------------

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


def test_pseudonym_is_deterministic_per_key() -> None:
    """Rule B6: the same agent gets the same pseudonym under the same key, across instances."""
    assert Pseudonymizer(KEY_A).pseudonym("A001") == Pseudonymizer(KEY_A).pseudonym("A001")


def test_pseudonym_depends_on_the_key_and_the_agent() -> None:
    """Rule B6: keyed — another key or another agent gives another pseudonym."""
    a = Pseudonymizer(KEY_A)
    assert a.pseudonym("A001") != Pseudonymizer(KEY_B).pseudonym("A001")
    assert a.pseudonym("A001") != a.pseudonym("A002")


def test_pseudonym_is_32_hex_and_not_the_plain_hash() -> None:
    """Rule B6: 32 lowercase hex digits; not an unkeyed hash anyone could recompute."""
    p = Pseudonymizer(KEY_A).pseudonym("A001")
    assert re.fullmatch(r"[0-9a-f]{32}", p)
    assert p != hashlib.sha256(b"A001").hexdigest()[:32]
    assert "A001" not in p


def test_key_never_shows_in_repr_or_str() -> None:
    """Rule H3: repr/str of the pseudonymiser (what a log or traceback prints) hide the key."""
    p = Pseudonymizer(KEY_A)
    for text in (repr(p), str(p), f"{p}", f"{p!r}"):
        assert KEY_A.hex() not in text
        assert repr(KEY_A) not in text
        assert KEY_A.hex()[:8] not in text


def test_pseudonymizer_refuses_pickling() -> None:
    """Rule H3: the key cannot be pickled into a cache, a queue or a worker's payload."""
    p = Pseudonymizer(KEY_A)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError):
            pickle.dumps(p, protocol=protocol)
    with pytest.raises(TypeError):
        copy.deepcopy(p)


def test_pseudonymizer_has_no_instance_dict() -> None:
    """Rule H3: no ``__dict__`` / ``vars()`` that would dump the key with the object."""
    p = Pseudonymizer(KEY_A)
    with pytest.raises(TypeError):
        vars(p)


def test_short_key_is_refused_without_showing_it() -> None:
    """Rule B6: a key shorter than 32 bytes is refused; the error does not quote it (H3)."""
    with pytest.raises(WorkspaceError) as info:
        Pseudonymizer(b"0123456789abcdef")
    assert "0123456789abcdef" not in str(info.value)


def test_create_key_writes_0600_and_refuses_to_overwrite(tmp_path: Path) -> None:
    """Rule B6: the key file is created mode 0600 and never replaced."""
    path = tmp_path / "vault" / "pseudonym.key"
    create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    with pytest.raises(WorkspaceError) as info:
        create_key(path)
    assert path.read_bytes() == first
    assert first.decode().strip() not in str(info.value)


def test_create_key_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    """Rule B6: a permissive umask does not widen the key's mode."""
    old = os.umask(0)
    try:
        create_key(tmp_path / "k")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600


def test_load_key_roundtrip(tmp_path: Path) -> None:
    """Rule B6: a key written by create_key gives stable pseudonyms when loaded again."""
    path = tmp_path / "pseudonym.key"
    create_key(path)
    assert load_key(path).pseudonym("A001") == load_key(path).pseudonym("A001")
    assert load_key(path).pseudonym("A001") == Pseudonymizer(
        bytes.fromhex(path.read_text(encoding="ascii").strip())
    ).pseudonym("A001")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_load_key_refuses_a_key_readable_by_others(tmp_path: Path, mode: int) -> None:
    """Rules B6, H3: a key readable by group or others is refused with a clear message, which
    names the file and the expected mode but never the key."""
    path = tmp_path / "pseudonym.key"
    create_key(path)
    secret = path.read_text(encoding="ascii").strip()
    path.chmod(mode)
    with pytest.raises(WorkspaceError) as info:
        load_key(path)
    assert info.value.exit_code == 1
    message = str(info.value)
    assert str(path) in message
    assert "600" in message
    assert secret not in message
    assert secret[:16] not in message


def test_load_key_refuses_a_missing_file(tmp_path: Path) -> None:
    """Rule B6: a missing key is a clear WorkspaceError naming the path, with a hint to restore."""
    path = tmp_path / "nowhere" / "pseudonym.key"
    with pytest.raises(WorkspaceError) as info:
        load_key(path)
    assert str(path) in str(info.value)
    assert info.value.hint
    assert not path.exists()


def test_load_key_refuses_garbage_without_quoting_it(tmp_path: Path) -> None:
    """Rules B6, H3: an unreadable key file is refused; its content is not echoed."""
    path = tmp_path / "pseudonym.key"
    path.write_text("not-hex-at-all-secretish-content\n", encoding="ascii")
    path.chmod(0o600)
    with pytest.raises(WorkspaceError) as info:
        load_key(path)
    assert "secretish" not in str(info.value)


def test_a_directory_without_a_column_the_last_import_had_is_refused(tmp_path: Path) -> None:
    """Issue 10, finding 11: a directory export without ``manager_id`` was accepted and cleared
    every manager link. Now it is refused, naming the column and how to confirm; with
    ``--drop-column manager_id`` the removal is deliberate and done."""
    home = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["--home", str(home), "init"]).exit_code == 0
    first = runner.invoke(
        app, ["--home", str(home), "directory", "import", str(WS / "directory.csv")]
    )
    assert first.exit_code == 0, first.output
    without = tmp_path / "sans_manager.csv"
    lines = (WS / "directory.csv").read_text(encoding="utf-8").splitlines()
    without.write_text(
        "\n".join(",".join(p for i, p in enumerate(ln.split(",")) if i != 4) for ln in lines)
        + "\n",
        encoding="utf-8",
    )
    assert "manager_id" not in without.read_text(encoding="utf-8")

    def managers() -> dict[str, str]:
        db = Database(home / "store" / "state.db")
        try:
            return {a: db.agents.get(a).manager_id for a in ("A001", "A002", "A003")}  # type: ignore[union-attr]
        finally:
            db.close()

    refused = runner.invoke(
        app, ["--home", str(home), "directory", "import", str(without)], env={"LOYAUTE_LANG": "fr"}
    )
    assert refused.exit_code == 1
    assert "manager_id" in refused.stderr
    assert "--drop-column manager_id" in refused.stderr
    assert managers() == {"A001": "", "A002": "A001", "A003": "A001"}

    confirmed = runner.invoke(
        app,
        ["--home", str(home), "directory", "import", str(without), "--drop-column", "manager_id"],
    )
    assert confirmed.exit_code == 0, confirmed.output
    assert managers() == {"A001": "", "A002": "", "A003": ""}
    # The column is gone from what the next import is compared with: no flag needed again.
    again = runner.invoke(app, ["--home", str(home), "directory", "import", str(without)])
    assert again.exit_code == 0, again.output
