"""The ``loyaute`` command: parse arguments, call one function, print — nothing else.

One module per command group (``workspace``, ``ingest``, ``collect``, ``reports``, ``review``, ``auth``,
``serve``); output helpers and the error handler in ``output``. Each command imports the domain
modules it uses inside its own body, so ``loyaute --help`` and every command start without
loading the web stack, DuckDB or the demo.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from loyaute import __version__
from loyaute.cli import auth, collect, ingest, reports, review, serve, workspace
from loyaute.cli.output import HELP_MARKUP, state
from loyaute.i18n import set_lang, tr

app = typer.Typer(
    rich_markup_mode=HELP_MARKUP,
    name="loyaute",
    help=tr(
        "loyaute — contrôle des traces numériques en télétravail, loyal par construction.",
        "loyaute — telework digital-trace check, lawful by design.",
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"loyaute {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar="LOYAUTE_HOME",
            help=tr(
                "Espace de travail (défaut ./loyaute-home).", "Workspace (default ./loyaute-home)."
            ),
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang", help=tr("Langue des messages : fr ou en.", "Message language: fr or en.")
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Version."),
    ] = False,
) -> None:
    """Options common to every command."""
    state.home = home or Path("loyaute-home")
    set_lang(lang or os.environ.get("LOYAUTE_LANG"))  # per command: nothing carries over


ingest.register(app)
collect.register(app)
workspace.register(app)
reports.register(app)
review.register(app)
auth.register(app)
serve.register(app)


def main() -> None:
    """Console entry point."""
    if os.environ.get("LOYAUTE_LANG"):
        set_lang(os.environ["LOYAUTE_LANG"][:2].lower())
    from loyaute.cli.click_words import run  # noqa: PLC0415 - only when the CLI runs

    sys.exit(run(app))


__all__ = ["app", "main"]
