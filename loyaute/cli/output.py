"""Output helpers of the command line, in one place: the consoles, the error handler, tables,
CSV and JSON, dates typed on the command line.

Domain errors (``errors.py``) become a one-line reason on stderr and the exit code their class
carries (1 refused, 2 usage, 77 not signed in, 78 configuration); a user error never shows a
traceback. When the output is not a terminal, nothing is wrapped or truncated: tables become
plain tab-separated text.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import typer

from loyaute.errors import LoyauteError, UsageError
from loyaute.i18n import tr

if TYPE_CHECKING:  # Rich is imported when something is printed, not to start the command line
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

HELP_MARKUP: Literal["rich"] | None = None
"""Help pages in Click's plain text, on a terminal as when piped: Typer's Rich help renderer
(``typer.rich_utils``, which imports Rich's Markdown and traceback modules and draws boxed
panels) doubles the start-up of ``loyaute --help`` (~0.12 s → ~0.23 s, issue 15's target is
3× ``import typer``). Tables and messages still use Rich on a terminal."""


class State:
    """Options shared by every command."""

    home: Path = Path("loyaute-home")


state = State()


def escape(text: str) -> str:
    """``text`` with Rich's markup made literal."""
    from rich.markup import escape as rich_escape  # noqa: PLC0415 - lazy

    return rich_escape(text)


def _console(stderr: bool) -> Console:
    from rich.console import Console  # noqa: PLC0415 - lazy

    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    # Piped or redirected: no wrapping, no width limit, no colour codes.
    return Console(
        stderr=stderr,
        highlight=False,
        soft_wrap=not terminal,
        width=None if terminal else 10_000,
        no_color=not terminal,
    )


class _Lazy:
    """A console created on first use (so that tests capturing stdout see the right stream)."""

    def __init__(self, stderr: bool) -> None:
        self.stderr = stderr

    def __getattr__(self, name: str) -> Any:
        return getattr(_console(self.stderr), name)


out: Console = _Lazy(False)  # type: ignore[assignment]
err: Console = _Lazy(True)  # type: ignore[assignment]


def handle_errors(fn: F) -> F:
    """Turn loyaute's own errors into a message on stderr and the right exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except LoyauteError as exc:
            err.print(f"[bold red]loyaute:[/] {escape(str(exc))}", markup=True, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            # A full disk, a damaged database: named, not a traceback (bugs keep theirs).
            from loyaute.store.failures import explain  # noqa: PLC0415 - only on failure

            named = explain(exc)
            if named is None:
                raise
            err.print(f"[bold red]loyaute:[/] {escape(str(named))}", markup=True, soft_wrap=True)
            raise typer.Exit(named.exit_code) from None

    return wrapper  # type: ignore[return-value]


def parse_date(text: str) -> date:
    """An ISO date typed on the command line."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            tr(f"date invalide : {text} (AAAA-MM-JJ)", f"invalid date: {text} (YYYY-MM-DD)")
        ) from None


def day_option(text: str | None) -> date | None:
    """An optional ISO date."""
    return parse_date(text) if text else None


def emit(
    rows: list[dict[str, Any]],
    columns: tuple[str, ...],
    fmt: str,
    parameters: dict[str, Any],
    title: str,
) -> None:
    """Rows as a table (stdout), CSV (stdout, parameters on stderr) or JSON."""
    if fmt == "csv":
        from loyaute.csvout import write_rows  # noqa: PLC0415 - lazy

        write_rows(sys.stdout, columns, rows)
        for key, value in parameters.items():  # stdout stays pure CSV; the reader still sees them
            err.print(f"{key} : {escape(str(value))}", soft_wrap=True)
        return
    if fmt == "json":
        typer.echo(
            json.dumps(
                {"parameters": parameters, "rows": rows}, ensure_ascii=False, indent=2, default=str
            )
        )
        return
    if fmt != "table":
        raise UsageError(tr("--format table, csv ou json", "--format table, csv or json"))
    # A table is for a person: labels, numbers, dates and weeks in the command's language (CSV
    # and JSON above keep the machine names and values, CONTRACT.md).
    from loyaute import labels  # noqa: PLC0415 - lazy: Babel on first use

    print_table(
        title,
        [labels.label("column", c) for c in columns],
        [[labels.row_cell(c, row) for c in columns] for row in rows],
    )
    for key, value in parameters.items():
        text = f"{labels.label('parameter', key)} : {labels.parameter(key, value)}"
        out.print(escape(text))


def print_table(
    title: str, headers: tuple[str, ...] | list[str], rows: list[list[str]], stderr: bool = False
) -> None:
    """A Rich table on a terminal; tab-separated lines, never wrapped, when piped."""
    stream = sys.stderr if stderr else sys.stdout
    if not stream.isatty():
        stream.write(title + "\n")
        stream.write("\t".join(headers) + "\n")
        for row in rows:
            stream.write("\t".join(cell.replace("\n", " ; ") for cell in row) + "\n")
        stream.flush()
        return
    from rich.table import Table  # noqa: PLC0415 - lazy

    table = Table(title=title, title_justify="left")
    for h in headers:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    (err if stderr else out).print(table)


@contextmanager
def progress(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on a terminal's stderr, fed by the ``(done, total)`` callback it yields
    (Rich is imported only then); piped, the callback does nothing."""
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.progress import (  # noqa: PLC0415 - lazy
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
    )

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as bar:
        task_id = bar.add_task(description, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task_id, completed=done, total=total)

        yield tick
