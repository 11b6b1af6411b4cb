"""The ``loyaute`` command: parse arguments, call one function, print. Nothing else.

Domain errors (``errors.py``) become a one-line reason on stderr and the exit code their class
carries (1 refused, 2 usage, 78 configuration); a user error never shows a traceback.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from loyaute import __version__
from loyaute.config import Settings, load_settings
from loyaute.errors import EXIT_REFUSED, InputError, LoyauteError, UsageError
from loyaute.i18n import lang, set_lang, tr
from loyaute.ingest.files import ReadError, expand_paths
from loyaute.ingest.reading import FileResult, parse_file, resolve_source
from loyaute.sources import build_sources
from loyaute.sources.base import Parsed, reason_text
from loyaute.sources.timeparse import from_us

app = typer.Typer(
    name="loyaute",
    help=tr(
        "loyaute — contrôle des traces numériques en télétravail, loyal par construction.",
        "loyaute — telework digital-trace check, lawful by design.",
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])


class State:
    """Options shared by every command."""

    home: Path = Path("loyaute-home")


state = State()


def handle_errors(fn: F) -> F:
    """Turn loyaute's own errors into a message on stderr and the right exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except LoyauteError as exc:
            err.print(f"[bold red]loyaute:[/] {exc}", markup=True, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


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
    if lang:
        set_lang(lang)


def _settings_for(config: Path | None) -> Settings:
    """``--config`` if given, else the workspace's loyaute.toml if there is one, else defaults."""
    if config is not None:
        if not config.is_file():
            raise UsageError(tr(f"{config} : fichier introuvable", f"{config}: no such file"))
        return load_settings(config)
    candidate = state.home / "loyaute.toml"
    return load_settings(candidate if candidate.is_file() else None)


def _iso(us: int | None) -> str | None:
    if us is None:
        return None
    return from_us(us).isoformat().replace("+00:00", "Z")


def _records(path: Path, parsed: Parsed) -> list[tuple[int, dict[str, Any]]]:
    """The JSON objects of one parsed block, ordered by line."""
    rows: list[tuple[int, dict[str, Any]]] = []
    ev = parsed.events
    if ev.num_rows:
        cols = {
            name: ev.column(name).cast("int64").to_pylist()
            if name in ("ts", "start", "end")
            else ev.column(name).to_pylist()
            for name in ev.schema.names
        }
        for i in range(ev.num_rows):
            obj: dict[str, Any] = {
                "file": str(path),
                "line": cols["line"][i],
                "ts": _iso(cols["ts"][i]),
                "login": cols["login"][i],
                "category": cols["category"][i],
                "interactive": cols["interactive"][i],
                "app": cols["app"][i],
            }
            if cols["start"][i] is not None or cols["end"][i] is not None:
                obj["start"] = _iso(cols["start"][i])
                obj["end"] = _iso(cols["end"][i])
            rows.append((cols["line"][i], obj))
    sk = parsed.skipped
    if sk.num_rows:
        lines = sk.column("line").to_pylist()
        reasons = sk.column("reason").to_pylist()
        ts = sk.column("ts").cast("int64").to_pylist()
        logins = sk.column("login").to_pylist()
        for i in range(sk.num_rows):
            obj = {"file": str(path), "line": lines[i], "skipped": reasons[i]}
            if ts[i] is not None:
                obj["ts"] = _iso(ts[i])
            if logins[i] is not None:
                obj["login"] = logins[i]
            rows.append((lines[i], obj))
    rows.sort(key=lambda r: r[0])
    return rows


def _summary(results: list[FileResult], problems: list[str]) -> None:
    """Per-file counts and the meaning of every skip reason, on stderr."""
    table = Table(title=tr("Lecture des fichiers", "Files read"), title_justify="left")
    table.add_column(tr("fichier", "file"), overflow="fold")
    table.add_column("format")
    table.add_column(tr("lignes", "lines"), justify="right")
    table.add_column(tr("traces", "events"), justify="right")
    table.add_column(tr("interactives", "interactive"), justify="right")
    table.add_column(tr("écartées par raison", "skipped by reason"), overflow="fold")
    reasons: Counter[str] = Counter()
    for r in results:
        reasons.update(r.skipped)
        skipped = "\n".join(f"{k} {v}" for k, v in sorted(r.skipped.items()))
        if r.error:
            skipped = f"[red]{escape(r.error)}[/]" + (f"\n{skipped}" if skipped else "")
        table.add_row(
            escape(Path(r.path).name),
            r.format or "?",
            str(r.lines),
            str(r.events),
            str(r.interactive),
            skipped,
        )
    err.print(table)
    for problem in problems:
        err.print(f"[red]{escape(problem)}[/]")
    if reasons:
        err.print(tr("Raisons :", "Reasons:"))
        for reason in sorted(reasons):
            err.print(f"  {reason} : {escape(reason_text(reason, lang()))}")


@app.command("parse")
@handle_errors
def parse_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help=tr("Fichiers ou dossiers de journaux.", "Log files or directories.")),
    ],
    format: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help=tr("Format (sinon détecté).", "Format (else detected).")
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help=tr("loyaute.toml à utiliser.", "loyaute.toml to use.")),
    ] = None,
) -> None:
    """Essai à blanc d'une source : une ligne JSON par ligne lue (trace ou ligne écartée avec sa
    raison), rien n'est enregistré. / Dry run of a source: one JSON line per log line (event, or
    skipped with its reason); nothing is stored."""
    settings = _settings_for(config)
    sources = build_sources(settings)
    if format is not None and format not in sources:
        raise UsageError(
            tr(f"format inconnu : {format}", f"unknown format: {format}"),
            hint=", ".join(sorted(sources)),
        )
    files, problems = expand_paths(paths)
    results: list[FileResult] = []
    out = sys.stdout
    for path in files:
        try:
            source = resolve_source(path, sources, format)
        except InputError as exc:
            problems.append(str(exc))
            continue
        result = FileResult(str(path), source.name)
        try:
            for parsed in parse_file(
                path,
                source,
                chunk_bytes=settings.ingest.chunk_bytes,
                max_line_bytes=settings.ingest.max_line_bytes,
            ):
                result.add(parsed)
                for _, obj in _records(path, parsed):
                    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        except ReadError as exc:
            result.error = exc.reason
        except InputError as exc:
            result.error = str(exc)
        results.append(result)
    out.flush()
    _summary(results, problems)
    if problems or any(r.error for r in results):
        raise typer.Exit(EXIT_REFUSED)


@app.command("formats")
@handle_errors
def formats_command(
    config: Annotated[Path | None, typer.Option("--config", help="loyaute.toml.")] = None,
) -> None:
    """Formats de journaux connus. / Known log formats."""
    table = Table()
    table.add_column("format")
    table.add_column(tr("catégorie", "category"))
    table.add_column("description")
    for name, source in sorted(build_sources(_settings_for(config)).items()):
        table.add_row(name, source.category, source.description)
    Console().print(table)


def main() -> None:
    """Console entry point."""
    if os.environ.get("LOYAUTE_LANG"):
        set_lang(os.environ["LOYAUTE_LANG"][:2].lower())
    app()
