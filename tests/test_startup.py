"""Start-up (issue 15): the command line imports only what a command uses.

A rule test, not a timed one: ``loyaute --help`` (and a command's own ``--help``) must not load
DuckDB, Arrow, the web stack, Argon2 or Spark — each costs tens to hundreds of milliseconds that
every invocation would pay. The time itself is measured by ``bench/run.py --end-to-end``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HEAVY = ("duckdb", "pyarrow", "numpy", "fastapi", "starlette", "uvicorn", "argon2", "pyspark")

SCRIPT = """
import contextlib, io, json, sys
from loyaute.cli import app
with contextlib.redirect_stdout(io.StringIO()) as shown:
    try:
        app(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "help": shown.getvalue(), "modules": sorted(sys.modules)}))
"""


def _loaded(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("args", [("--help",), ("ingest", "--help"), ("report", "--help")])
def test_help_imports_no_heavy_module(args: tuple[str, ...]) -> None:
    result = _loaded(*args)
    assert result["code"] == 0
    assert "--help" in str(result["help"])
    modules = set(result["modules"])  # type: ignore[call-overload]
    assert [m for m in HEAVY if m in modules] == []
    # Nor any domain module beyond errors and messages: each command imports its own.
    ours = {m for m in modules if m.startswith("loyaute.") and not m.startswith("loyaute.cli")}
    assert ours <= {"loyaute.errors", "loyaute.i18n"}, sorted(ours)


TTY_SCRIPT = """
import contextlib, io, json, sys
assert sys.stdout.isatty()
from loyaute.cli import app
with contextlib.redirect_stdout(io.StringIO()) as shown:
    try:
        app(["--help"])
    except SystemExit as exc:
        code = exc.code
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "help": shown.getvalue(), "modules": sorted(sys.modules)}, out)
"""


def test_help_on_a_terminal_is_plain_text_without_richs_renderer(tmp_path: Path) -> None:
    """On a terminal too, ``--help`` is Click's plain text: Typer's Rich renderer (which imports
    Rich's Markdown and traceback modules) is what took ``--help`` past 3× ``import typer``."""
    import pty  # noqa: PLC0415 - POSIX only, this test only

    result_file = tmp_path / "result.json"
    status = pty.spawn(
        [sys.executable, "-c", TTY_SCRIPT, str(result_file)], lambda fd: os.read(fd, 65536)
    )
    assert os.waitstatus_to_exitcode(status) == 0
    result = json.loads(result_file.read_text())
    assert result["code"] == 0
    assert "--help" in result["help"]
    assert "╭" not in result["help"]  # no Rich panel
    assert "typer.rich_utils" not in result["modules"]
    assert "rich.markdown" not in result["modules"]


def test_console_script_enters_without_the_cli() -> None:
    """``loyaute.__main__`` (the console script's module, which a forkserver worker imports
    again to rebuild ``__main__``) imports nothing of the command line until it runs."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, loyaute.__main__; print(json.dumps(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    modules = set(json.loads(done.stdout))
    assert "typer" not in modules
    assert "loyaute.cli" not in modules
