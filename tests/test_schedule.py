"""Schedule import (CONTRACT.md "Input files", rule B4).

UTF-8 or Windows-1252, ``,`` or ``;``, dates ISO or ``DD/MM/YYYY``, half-days AM, PM, matin,
après-midi / apres-midi or JOUR; codes mapped by ``[schedule.codes]`` without regard to case;
upsert per agent, date and half-day; all or nothing with every problem listed. Rule B4: only
telework (and on-site, for the validity study) half-days are kept as such — leave, sickness,
training, missions, field days and union time become a bare ``other``, their code never stored.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyaute.cli import app
from loyaute.config import DirectorySettings, ScheduleCodes, ScheduleSettings
from loyaute.identity import ImportProblems, parse_directory, store_directory
from loyaute.schedule import import_schedule
from loyaute.store.state import Database
from tests.conftest import FIXTURES

WS = FIXTURES / "workspace"
HEADER = "agent_id,date,half_day,code\n"
SENSITIVE_CODES = [b"ASA", b"MAL", b"VAD", b"FORM", b"TERRAIN", b"CONGE", b"XYZ", b"MALADIE"]

Row = tuple[str, str, str, str]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A state database holding the fixture directory (A001, A002, A003)."""
    path = tmp_path / "state.db"
    conn = Database(path)
    try:
        store_directory(
            conn, parse_directory(WS / "directory.csv", DirectorySettings()), date(2026, 3, 1)
        )
    finally:
        conn.close()
    return path


@pytest.fixture
def conn(db: Path) -> Iterator[Database]:
    c = Database(db)
    try:
        yield c
    finally:
        c.close()


def csv_file(
    tmp_path: Path, text: str, name: str = "planning.csv", encoding: str = "utf-8"
) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def rows(conn: Database) -> list[Row]:
    return [
        (r["agent_id"], r["day"], r["half"], r["kind"])
        for r in conn.conn.execute("SELECT * FROM schedule ORDER BY agent_id, day, half")
    ]


def kinds(conn: Database) -> dict[tuple[str, str, str], str]:
    return {(a, d, h): k for a, d, h, k in rows(conn)}


def problems_of(conn: Database, paths: list[Path], settings: ScheduleSettings) -> list[str]:
    with pytest.raises(ImportProblems) as info:
        import_schedule(conn, paths, settings)
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


def database_bytes(db: Path) -> bytes:
    """Every byte SQLite wrote for this database (main file and any side file)."""
    return b"".join(p.read_bytes() for p in sorted(db.parent.glob(db.name + "*")))


# --- reading ------------------------------------------------------------------------------------


def test_utf8_comma_iso_dates_and_the_default_code_table(conn: Database) -> None:
    """CONTRACT schedule CSV (UTF-8, ``,``, ISO dates) and rule B4 kinds."""
    report = import_schedule(conn, [WS / "schedule.csv"], ScheduleSettings())
    assert kinds(conn) == {
        ("A001", "2026-03-02", "AM"): "telework",  # TLT
        ("A001", "2026-03-02", "PM"): "on_site",  # PRES
        ("A002", "2026-03-02", "AM"): "telework",  # TT, JOUR
        ("A002", "2026-03-02", "PM"): "telework",
        ("A003", "2026-03-02", "AM"): "other",  # CA
        ("A003", "2026-03-02", "PM"): "other",  # FORM
        ("A001", "2026-03-03", "AM"): "other",  # ASA, JOUR
        ("A001", "2026-03-03", "PM"): "other",
        ("A002", "2026-03-03", "AM"): "other",  # MAL
        ("A002", "2026-03-03", "PM"): "other",  # VAD
        ("A003", "2026-03-03", "AM"): "unknown",  # XYZ, JOUR
        ("A003", "2026-03-03", "PM"): "unknown",
    }
    assert report.rows == 9
    assert report.half_days == 12
    assert report.kinds == Counter(telework=3, on_site=1, other=6, unknown=2)
    assert report.days == {date(2026, 3, 2), date(2026, 3, 3)}


def test_windows_1252_semicolon_french_dates_and_words(conn: Database) -> None:
    """CONTRACT schedule CSV: Windows-1252, ``;``, ``DD/MM/YYYY``, matin / après-midi /
    apres-midi, lower-case codes."""
    report = import_schedule(conn, [WS / "schedule_cp1252.csv"], ScheduleSettings())
    assert kinds(conn) == {
        ("A001", "2026-03-02", "AM"): "telework",  # matin, tlt
        ("A001", "2026-03-02", "PM"): "on_site",  # après-midi (cp1252 è), Pres
        ("A002", "2026-03-03", "AM"): "telework",  # JOUR, tt
        ("A002", "2026-03-03", "PM"): "telework",
        ("A003", "2026-03-03", "PM"): "telework",  # apres-midi
    }
    assert report.unknown_codes == Counter()


@pytest.mark.parametrize(
    ("word", "halves"),
    [
        ("AM", ["AM"]),
        ("PM", ["PM"]),
        ("matin", ["AM"]),
        ("après-midi", ["PM"]),
        ("apres-midi", ["PM"]),
        ("JOUR", ["AM", "PM"]),
    ],
)
@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_half_day_words(
    conn: Database, tmp_path: Path, word: str, halves: list[str], encoding: str
) -> None:
    """CONTRACT schedule CSV: every half-day word of the contract, in either encoding."""
    path = csv_file(tmp_path, f"{HEADER}A001,2026-03-02,{word},TLT\n", encoding=encoding)
    import_schedule(conn, [path], ScheduleSettings())
    assert [(h, k) for _, _, h, k in rows(conn)] == [(h, "telework") for h in halves]


@pytest.mark.parametrize("text", ["2026-03-02", "02/03/2026"])
def test_both_date_forms_are_the_same_day(conn: Database, tmp_path: Path, text: str) -> None:
    """CONTRACT schedule CSV: ``date`` ISO or ``DD/MM/YYYY`` (day first, French order)."""
    import_schedule(conn, [csv_file(tmp_path, f"{HEADER}A001,{text},AM,TLT\n")], ScheduleSettings())
    assert rows(conn) == [("A001", "2026-03-02", "AM", "telework")]


def test_codes_come_from_the_settings_case_insensitively(conn: Database, tmp_path: Path) -> None:
    """CONTRACT ``[schedule.codes]``: the table of loyaute.toml decides; codes compared without
    regard to case on both sides; a default code absent from this table is unknown."""
    settings = ScheduleSettings(
        codes=ScheduleCodes(
            telework=["Tele"],
            on_site=["bureau"],
            leave=["Conge"],
            field=["Terrain"],
            training=["Stage"],
            union=["Syndic"],
        )
    )
    path = csv_file(
        tmp_path,
        HEADER
        + "A001,2026-03-02,AM,TELE\n"
        + "A001,2026-03-02,PM,tele\n"
        + "A002,2026-03-02,AM,BUREAU\n"
        + "A002,2026-03-02,PM,cOnGe\n"
        + "A003,2026-03-02,AM,stage\n"
        + "A003,2026-03-02,PM,TLT\n",
    )
    report = import_schedule(conn, [path], settings)
    assert kinds(conn) == {
        ("A001", "2026-03-02", "AM"): "telework",
        ("A001", "2026-03-02", "PM"): "telework",
        ("A002", "2026-03-02", "AM"): "on_site",
        ("A002", "2026-03-02", "PM"): "other",
        ("A003", "2026-03-02", "AM"): "other",
        ("A003", "2026-03-02", "PM"): "unknown",
    }
    assert sum(report.unknown_codes.values()) == 1
    assert [c.upper() for c in report.unknown_codes] == ["TLT"]


def test_upsert_per_agent_date_and_half(conn: Database, tmp_path: Path) -> None:
    """CONTRACT ``schedule import``: upsert per agent, date, half-day — a second import changes
    one half-day's kind and leaves the others alone."""
    import_schedule(conn, [WS / "schedule.csv"], ScheduleSettings())
    before = kinds(conn)
    correction = csv_file(
        tmp_path,
        HEADER + "A001,02/03/2026,matin,MAL\nA003,2026-03-03,PM,TLT\nA001,2026-03-04,AM,TT\n",
    )
    report = import_schedule(conn, [correction], ScheduleSettings())
    after = kinds(conn)
    assert after[("A001", "2026-03-02", "AM")] == "other"  # was telework
    assert after[("A003", "2026-03-03", "PM")] == "telework"  # was unknown
    assert after[("A001", "2026-03-04", "AM")] == "telework"  # new
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed == {
        ("A001", "2026-03-02", "AM"),
        ("A003", "2026-03-03", "PM"),
        ("A001", "2026-03-04", "AM"),
    }
    assert len(after) == len(before) + 1
    assert report.half_days == 3


def test_reimporting_the_same_file_changes_nothing(conn: Database) -> None:
    """CONTRACT upsert: importing twice gives the same table, no duplicate rows."""
    import_schedule(conn, [WS / "schedule.csv"], ScheduleSettings())
    first = rows(conn)
    import_schedule(conn, [WS / "schedule.csv"], ScheduleSettings())
    assert rows(conn) == first


def test_several_files_in_one_import(conn: Database) -> None:
    """CONTRACT ``schedule import FILE…``: several files, different encodings, one import."""
    report = import_schedule(
        conn, [WS / "schedule.csv", WS / "schedule_cp1252.csv"], ScheduleSettings()
    )
    k = kinds(conn)
    assert k[("A003", "2026-03-02", "AM")] == "other"  # from the first file
    assert k[("A003", "2026-03-03", "PM")] == "telework"  # the second file wins on this key
    assert k[("A003", "2026-03-03", "AM")] == "unknown"
    assert report.rows == 9 + 4


# --- rule B4: what is never kept ------------------------------------------------------------------


def test_b4_schedule_table_has_no_code_column(conn: Database) -> None:
    """Rule B4: the schedule table keeps agent, day, half and kind — nothing that holds a code."""
    columns = {r["name"] for r in conn.conn.execute("PRAGMA table_info(schedule)")}
    assert columns == {"agent_id", "day", "half", "kind"}


def test_b4_kind_is_constrained(conn: Database) -> None:
    """Rule B4: the database itself refuses a kind naming leave or sickness."""
    with pytest.raises(sqlite3.IntegrityError):
        conn.conn.execute("INSERT INTO schedule VALUES ('A001', '2026-03-02', 'AM', 'sick_leave')")


def test_b4_leave_field_training_union_become_other(conn: Database, tmp_path: Path) -> None:
    """Rule B4: every default leave, field, training and union code is stored as ``other``."""
    settings = ScheduleSettings()
    codes = settings.codes
    never_kept = [*codes.leave, *codes.field, *codes.training, *codes.union]
    lines = [f"A001,2026-04-{i + 1:02d},JOUR,{code}" for i, code in enumerate(never_kept)]
    report = import_schedule(conn, [csv_file(tmp_path, HEADER + "\n".join(lines) + "\n")], settings)
    assert {k for *_, k in rows(conn)} == {"other"}
    assert len(rows(conn)) == 2 * len(never_kept)
    assert report.unknown_codes == Counter()


def test_b4_no_code_reaches_the_database_file(db: Path, tmp_path: Path) -> None:
    """Rule B4: after importing leave (CA, MAL), union (ASA), field (VAD), training (FORM) and
    unknown (XYZ, MALADIE) codes, not one of them is anywhere in the database's bytes."""
    conn = Database(db)
    try:
        import_schedule(
            conn,
            [
                WS / "schedule.csv",
                WS / "schedule_cp1252.csv",
                csv_file(
                    tmp_path, HEADER + "A002,2026-03-05,JOUR,MALADIE\nA003,2026-03-05,AM,TERRAIN\n"
                ),
            ],
            ScheduleSettings(),
        )
        assert ("A002", "2026-03-05", "AM", "unknown") in rows(conn)
    finally:
        conn.close()
    data = database_bytes(db)
    assert b"telework" in data  # the bytes read are the ones holding the rows
    for code in SENSITIVE_CODES:
        assert code not in data, code


def test_unknown_codes_are_stored_unknown_and_reported(conn: Database, tmp_path: Path) -> None:
    """CONTRACT code table / rule B4: a code the table does not know is stored ``unknown`` (so it
    is never checked as telework) and counted in ``ScheduleReport.unknown_codes``."""
    path = csv_file(
        tmp_path,
        HEADER
        + "A001,2026-03-02,AM,XYZ\n"
        + "A002,2026-03-02,JOUR,XYZ\n"
        + "A003,2026-03-02,PM,QQQ\n"
        + "A003,2026-03-02,AM,TLT\n",
    )
    report = import_schedule(conn, [path], ScheduleSettings())
    assert report.unknown_codes == Counter({"XYZ": 2, "QQQ": 1})
    assert kinds(conn) == {
        ("A001", "2026-03-02", "AM"): "unknown",
        ("A002", "2026-03-02", "AM"): "unknown",
        ("A002", "2026-03-02", "PM"): "unknown",
        ("A003", "2026-03-02", "PM"): "unknown",
        ("A003", "2026-03-02", "AM"): "telework",
    }


# --- every problem listed, nothing changed --------------------------------------------------------

BAD_SCHEDULE = (
    HEADER
    + "A001,2026-03-10,AM,TLT\n"  # line 2: fine
    + "Z999,2026-03-10,AM,TLT\n"  # line 3: not in the directory
    + "A001,31/02/2026,AM,TLT\n"  # line 4: no 31 February
    + "A001,2026-13-01,AM,TLT\n"  # line 5: no 13th month
    + "A001,2026-03-10,soir,TLT\n"  # line 6: unreadable half-day
    + "A002,2026-03-10,PM,\n"  # line 7: empty code
    + "A002,2026-03-10,PM\n"  # line 8: three columns
)


def test_every_problem_is_listed_with_its_line(conn: Database, tmp_path: Path) -> None:
    """CONTRACT schedule import: every problem at once, each with its line and what is wrong."""
    problems = problems_of(conn, [csv_file(tmp_path, BAD_SCHEDULE)], ScheduleSettings())
    assert sorted(lines_of(problems)) == [3, 4, 5, 6, 7, 8]
    by_line = dict(zip(lines_of(problems), problems, strict=True))
    assert "Z999" in by_line[3]
    assert "31/02/2026" in by_line[4]
    assert "2026-13-01" in by_line[5]
    assert "soir" in by_line[6]


def test_several_problems_on_one_line_are_all_listed(conn: Database, tmp_path: Path) -> None:
    """CONTRACT: every problem — an unknown agent with a bad date, half-day and code is four."""
    problems = problems_of(
        conn, [csv_file(tmp_path, HEADER + "Z999,30/02/2026,nuit,\n")], ScheduleSettings()
    )
    assert lines_of(problems) == [2, 2, 2, 2]


def test_a_refused_import_changes_nothing(conn: Database, tmp_path: Path) -> None:
    """CONTRACT: all or nothing — the table is identical before and after a refused file, even
    its good line 2 and even a good file given first."""
    import_schedule(conn, [WS / "schedule.csv"], ScheduleSettings())
    before = rows(conn)
    good = csv_file(
        tmp_path, HEADER + "A003,2026-03-20,AM,TLT\nA001,2026-03-02,AM,CA\n", "good.csv"
    )
    problems_of(conn, [good, csv_file(tmp_path, BAD_SCHEDULE)], ScheduleSettings())
    assert rows(conn) == before


@pytest.mark.parametrize(
    "line",
    [
        "Z999,2026-03-10,AM,TLT",
        "A001,31/02/2026,AM,TLT",
        "A001,2026-13-01,AM,TLT",
        "A001,2026-02-30,AM,TLT",
        "A001,10/03/26,AM,TLT",
        "A001,,AM,TLT",
        "A001,2026-03-10,soir,TLT",
        "A001,2026-03-10,,TLT",
        "A001,2026-03-10,AM,",
        "A001,2026-03-10,AM,   ",
    ],
)
def test_each_problem_alone_refuses_the_file(conn: Database, tmp_path: Path, line: str) -> None:
    """CONTRACT: agent absent from the directory, unreadable date, unreadable half-day or empty
    code — each alone refuses the file (line 3), and the good line 2 is not stored."""
    text = HEADER + "A002,2026-03-10,AM,TLT\n" + line + "\n"
    problems = problems_of(conn, [csv_file(tmp_path, text)], ScheduleSettings())
    assert lines_of(problems) == [3]
    assert rows(conn) == []


def test_missing_column_is_named(conn: Database, tmp_path: Path) -> None:
    """CONTRACT schedule CSV: a header without ``half_day`` is refused naming the column."""
    problems = problems_of(
        conn, [csv_file(tmp_path, "agent_id,date,code\nA001,2026-03-02,TLT\n")], ScheduleSettings()
    )
    assert len(problems) == 1
    assert "half_day" in problems[0]


def test_empty_file_is_refused(conn: Database, tmp_path: Path) -> None:
    """CONTRACT schedule CSV: an empty file is a problem, not a silent no-op."""
    problems_of(conn, [csv_file(tmp_path, "")], ScheduleSettings())
    assert rows(conn) == []


# --- a real export: column mapping ----------------------------------------------------------------

OCTIME = ScheduleSettings(
    agent_id_column="Matricule", date_column="Date", half_day_column="Période", code_column="Code"
)


def test_octime_export_with_a_column_mapping(conn: Database) -> None:
    """CONTRACT: a column mapping reads an Octime-like ``Matricule;Date;Période;Code`` export
    (Windows-1252, ``;``, DD/MM/YYYY, Matin / Après-midi / Jour)."""
    report = import_schedule(conn, [WS / "schedule_octime.csv"], OCTIME)
    assert kinds(conn) == {
        ("A001", "2026-03-09", "AM"): "telework",  # TT
        ("A001", "2026-03-09", "PM"): "other",  # ASA
        ("A002", "2026-03-09", "AM"): "other",  # MAL, Jour
        ("A002", "2026-03-09", "PM"): "other",
        ("A003", "2026-03-09", "AM"): "on_site",  # SITE
    }
    assert report.rows == 4


def test_octime_export_needs_the_mapping(conn: Database) -> None:
    """CONTRACT: without the mapping the default column names are missing — refused, named."""
    problems = problems_of(conn, [WS / "schedule_octime.csv"], ScheduleSettings())
    assert len(problems) == 1
    assert "agent_id" in problems[0]


def test_cli_schedule_import_with_mapping_and_unknown_codes(tmp_path: Path) -> None:
    """CONTRACT ``schedule import`` through the CLI, with the [schedule] mapping of loyaute.toml:
    exit 0, unknown codes named on stderr so the operator can map them."""
    home = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["--home", str(home), "init"]).exit_code == 0
    settings = home / "loyaute.toml"
    text = settings.read_text(encoding="utf-8")
    for key, value in (
        ("agent_id_column", "Matricule"),
        ("date_column", "Date"),
        ("half_day_column", "Période"),
        ("code_column", "Code"),
    ):
        # the [schedule] table comes before [directory], so the first match is the right one
        text, n = re.subn(rf'^{key} = "[a-z_]+"$', f'{key} = "{value}"', text, count=1, flags=re.M)
        assert n == 1
    settings.write_text(text, encoding="utf-8")
    ok = runner.invoke(app, ["--home", str(home), "directory", "import", str(WS / "directory.csv")])
    assert ok.exit_code == 0, ok.stderr
    extra = csv_file(tmp_path, "Matricule;Date;Période;Code\nA001;10/03/2026;Matin;ZZZ\n")
    result = runner.invoke(
        app,
        ["--home", str(home), "schedule", "import", str(WS / "schedule_octime.csv"), str(extra)],
    )
    assert result.exit_code == 0, result.stderr
    assert "ZZZ" in result.stderr
    c = Database(home / "store" / "state.db")
    try:
        assert kinds(c)[("A001", "2026-03-09", "AM")] == "telework"
        assert kinds(c)[("A001", "2026-03-10", "AM")] == "unknown"
    finally:
        c.close()


def test_cli_refused_schedule_lists_problems_and_exits_1(tmp_path: Path) -> None:
    """CONTRACT exit 1 with the problems on stderr; the schedule table stays empty."""
    home = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["--home", str(home), "init"]).exit_code == 0
    assert (
        runner.invoke(
            app, ["--home", str(home), "directory", "import", str(WS / "directory.csv")]
        ).exit_code
        == 0
    )
    result = runner.invoke(
        app, ["--home", str(home), "schedule", "import", str(csv_file(tmp_path, BAD_SCHEDULE))]
    )
    assert result.exit_code == 1
    for line in (3, 4, 5, 6, 7, 8):
        assert re.search(rf"^\s*- (ligne|line) {line}\b", result.stderr, re.MULTILINE), line
    c = Database(home / "store" / "state.db")
    try:
        assert rows(c) == []
    finally:
        c.close()


# --- issue 10, finding 11: rows that contradict each other ------------------------------------


def test_two_rows_of_one_file_giving_a_half_day_two_kinds_are_refused(
    conn: Database, tmp_path: Path
) -> None:
    """Finding 11: the last of two conflicting rows silently won. Now the file is refused, both
    lines named, nothing stored; JOUR and AM of the same code, or a row given twice, are no
    conflict."""
    text = (
        HEADER
        + "A001,2026-03-02,AM,TLT\n"  # line 2
        + "A001,2026-03-02,JOUR,TLT\n"  # line 3: AM again, same kind: fine
        + "A002,2026-03-02,PM,TLT\n"  # line 4
        + "A002,2026-03-02,PM,TLT\n"  # line 5: repeated: fine
        + "A002,02/03/2026,après-midi,PRES\n"  # line 6: contradicts line 4
    )
    problems = problems_of(conn, [csv_file(tmp_path, text)], ScheduleSettings())
    assert lines_of(problems[:1]) == [6]
    assert "A002" in problems[0]
    assert "ligne 4" in problems[0] or "line 4" in problems[0]
    assert "2026-03-02" in problems[0]
    assert rows(conn) == []


def test_a_repeated_row_is_counted_and_a_later_file_replaces_an_earlier_one(
    conn: Database, tmp_path: Path
) -> None:
    """The documented rule across files: a later file of one import replaces an earlier file's
    row (as a later import would); identical rows in one file are counted once."""
    first = csv_file(
        tmp_path, HEADER + "A001,2026-03-02,AM,TLT\nA001,2026-03-02,AM,TLT\n", name="a.csv"
    )
    second = csv_file(tmp_path, HEADER + "A001,2026-03-02,AM,PRES\n", name="b.csv")
    report = import_schedule(conn, [first, second], ScheduleSettings())
    assert kinds(conn) == {("A001", "2026-03-02", "AM"): "on_site"}
    assert report.half_days == 1
    assert report.repeated == 2
    assert report.rows == 3


def test_conflicts_are_counted_beyond_those_shown(conn: Database, tmp_path: Path) -> None:
    """A file full of conflicts: the first ones named, every one counted."""
    body = "".join(
        f"A001,2026-03-{d:02d},AM,TLT\nA001,2026-03-{d:02d},AM,PRES\n" for d in range(1, 31)
    ) + "".join(f"A002,2026-04-{d:02d},PM,TLT\nA002,2026-04-{d:02d},PM,CA\n" for d in range(1, 31))
    problems = problems_of(conn, [csv_file(tmp_path, HEADER + body)], ScheduleSettings())
    assert sum(1 for p in problems if re.match(r"^(ligne|line) \d+", p)) == 50
    assert any("10 autre(s)" in p or "10 more" in p for p in problems)
    assert rows(conn) == []


def test_a_large_file_with_a_bad_row_at_its_end_changes_nothing(
    conn: Database, tmp_path: Path
) -> None:
    """Streaming in batches does not mean storing in batches: 100,000 good rows, then one for an
    unknown agent — the whole import is refused, the schedule is as it was."""
    import_schedule(conn, [WS / "schedule.csv"], ScheduleSettings())
    before = rows(conn)
    body = "".join(
        f"A00{1 + i % 3},{date.fromordinal(738000 + i // 6).isoformat()},"
        f"{'AM' if i % 2 else 'PM'},TLT\n"
        for i in range(100_000)
    )
    big = csv_file(tmp_path, HEADER + body + "Z999,2026-03-02,AM,TLT\n")
    problems = problems_of(conn, [big], ScheduleSettings())
    assert lines_of(problems) == [100_002]
    assert rows(conn) == before


def test_an_unreadable_csv_line_is_named_not_a_traceback(conn: Database, tmp_path: Path) -> None:
    """A NUL in a line is a CSV error: it is reported with its line number."""
    path = tmp_path / "planning.csv"
    path.write_bytes(HEADER.encode() + b"A001,2026-03-02,AM,TLT\nA001,2026-03-\x0003,AM,TLT\n")
    problems = problems_of(conn, [path], ScheduleSettings())
    assert lines_of(problems) == [3]
