"""Ingestion commands: ``parse`` (the operator's dry run), ``formats``, ``ingest``."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from loyaute.cli.auth import acting
from loyaute.cli.output import err, escape, handle_errors, print_table, progress, state
from loyaute.errors import EXIT_REFUSED, InputError, UsageError
from loyaute.i18n import lang, tr

if TYPE_CHECKING:
    from loyaute.config import Settings
    from loyaute.ingest.files import Location
    from loyaute.ingest.pipeline import IngestReport
    from loyaute.ingest.reading import FileResult
    from loyaute.sources.base import Parsed

PathsArgument = Annotated[
    list[str],
    typer.Argument(
        help=tr(
            "Fichiers ou dossiers de journaux, ou URI s3://… / hdfs://…",
            "Log files or directories, or s3://… / hdfs://… URIs.",
        )
    ),
]
FormatOption = Annotated[
    str | None,
    typer.Option("--format", "-f", help=tr("Format (sinon détecté).", "Format (else detected).")),
]


def settings_for(config: Path | None) -> Settings:
    """``--config`` if given, else the workspace's loyaute.toml if there is one, else defaults."""
    from loyaute.config import load_settings  # noqa: PLC0415 - lazy

    if config is not None:
        if not config.is_file():
            raise UsageError(tr(f"{config} : fichier introuvable", f"{config}: no such file"))
        return load_settings(config)
    candidate = state.home / "loyaute.toml"
    return load_settings(candidate if candidate.is_file() else None)


def _iso(us: int | None) -> str | None:
    from loyaute.sources.timeparse import from_us  # noqa: PLC0415 - lazy

    if us is None:
        return None
    return from_us(us).isoformat().replace("+00:00", "Z")


def _records(path: Location, parsed: Parsed) -> list[tuple[int, dict[str, Any]]]:
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


def _summary(results: list[FileResult], problems: list[str], notes: list[str]) -> None:
    """Per-file counts and the meaning of every skip reason, on stderr."""
    from loyaute.sources.base import reason_text  # noqa: PLC0415 - lazy

    reasons: Counter[str] = Counter()
    rows = []
    for r in results:
        reasons.update(r.skipped)
        skipped = "\n".join(f"{k} {v}" for k, v in sorted(r.skipped.items()))
        if r.error:
            skipped = r.error + (f"\n{skipped}" if skipped else "")
        rows.append(
            [
                Path(r.path).name,
                r.format or "?",
                str(r.lines),
                str(r.events),
                str(r.interactive),
                skipped,
            ]
        )
    print_table(
        tr("Lecture des fichiers", "Files read"),
        [
            tr("fichier", "file"),
            "format",
            tr("lignes", "lines"),
            tr("traces", "events"),
            tr("interactives", "interactive"),
            tr("écartées par raison", "skipped by reason"),
        ],
        rows,
        stderr=True,
    )
    for note in notes:
        err.print(f"[yellow]{escape(note)}[/]")
    for problem in problems:
        err.print(f"[red]{escape(problem)}[/]")
    if reasons:
        err.print(tr("Raisons :", "Reasons:"))
        for reason in sorted(reasons):
            err.print(f"  {reason} : {escape(reason_text(reason, lang()))}")


def _audit_parse(results: list[FileResult]) -> None:
    """``parse`` shows raw logins with exact times: within a workspace, which files an operator
    read and how many lines is written to the audit log (never the logins)."""
    from loyaute.workspace import MARKER, Workspace  # noqa: PLC0415 - lazy

    if not (state.home / MARKER).is_file():
        return
    with Workspace.open(state.home) as ws:
        who = acting(ws)
        ws.audit.append(
            who.login,
            who.role.value,
            "parse",
            reason=tr("essai à blanc d'une source", "dry run of a source"),
            details={"files": {r.path: r.lines for r in results}},
        )


def register(app: typer.Typer) -> None:
    """Add ``parse``, ``formats`` and ``ingest`` to the app."""

    @app.command("parse")
    @handle_errors
    def parse_command(
        paths: PathsArgument,
        format: FormatOption = None,
        config: Annotated[
            Path | None,
            typer.Option("--config", help=tr("loyaute.toml à utiliser.", "loyaute.toml to use.")),
        ] = None,
    ) -> None:
        """Essai à blanc d'une source : une ligne JSON par ligne lue (trace ou ligne écartée avec
        sa raison), rien n'est enregistré. / Dry run of a source: one JSON line per log line
        (event, or skipped with its reason); nothing is stored."""
        from loyaute.ingest.files import ReadError, expand_paths  # noqa: PLC0415 - lazy
        from loyaute.ingest.reading import (  # noqa: PLC0415
            FileResult,
            UnrecognisedFileError,
            file_reason_text,
            parse_file,
            resolve_source,
        )
        from loyaute.sources import build_sources  # noqa: PLC0415

        settings = settings_for(config)
        sources = build_sources(settings)
        if format is not None and format not in sources:
            raise UsageError(
                tr(f"format inconnu : {format}", f"unknown format: {format}"),
                hint=", ".join(sorted(sources)),
            )
        notes: list[str] = []
        files, problems = expand_paths(paths, notes)
        results: list[FileResult] = []
        stream = sys.stdout
        refused: list[FileResult] = []
        for path in files:
            try:
                source = resolve_source(path, sources, format)
            except UnrecognisedFileError as exc:
                # A file no source reads is refused with its reason; the others go through.
                entry = FileResult(str(path), None)
                entry.error = file_reason_text(exc.reason, lang()) + (
                    f" — {exc.hint}" if exc.hint else ""
                )
                refused.append(entry)
                continue
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
                        stream.write(json.dumps(obj, ensure_ascii=False) + "\n")
            except ReadError as exc:
                result.error = exc.reason
            except InputError as exc:
                result.error = str(exc)
            results.append(result)
        stream.flush()
        _summary(results + refused, problems, notes)
        _audit_parse(results)
        # Exit 1 when something could not be read, broke part-way, or nothing was read at all;
        # a file refused with its reason beside files that were read is said, not a failure.
        if problems or any(r.error for r in results) or not results:
            raise typer.Exit(EXIT_REFUSED)

    @app.command("formats")
    @handle_errors
    def formats_command(
        config: Annotated[Path | None, typer.Option("--config", help="loyaute.toml.")] = None,
    ) -> None:
        """Formats de journaux connus. / Known log formats."""
        from loyaute.sources import build_sources  # noqa: PLC0415 - lazy

        print_table(
            "formats",
            ["format", tr("catégorie", "category"), "description"],
            [
                [name, source.category, source.description]
                for name, source in sorted(build_sources(settings_for(config)).items())
            ],
        )

    @app.command("ingest")
    @handle_errors
    def ingest_command(
        paths: PathsArgument,
        format: FormatOption = None,
        report_format: Annotated[str, typer.Option("--report", help="table | json")] = "table",
        force: Annotated[
            bool,
            typer.Option(
                "--force",
                help=tr("Relire les fichiers déjà lus.", "Read again files already ingested."),
            ),
        ] = False,
        engine: Annotated[str | None, typer.Option("--engine", help="local | spark")] = None,
        master: Annotated[
            str | None,
            typer.Option(
                "--master",
                help=tr(
                    "Maître Spark (local[N], spark://…).", "Spark master (local[N], spark://…)."
                ),
            ),
        ] = None,
        workers: Annotated[
            int | None,
            typer.Option(
                "--workers",
                help=tr("Processus (0 = un par cœur).", "Processes (0 = one per core)."),
            ),
        ] = None,
    ) -> None:
        """Lit des journaux, réduit et enregistre ; affiche un rapport. / Read logs, reduce,
        store; print a report."""
        from loyaute.ingest.engine import Engine, LocalEngine  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        if report_format not in ("table", "json"):
            raise UsageError("--report table | json")
        with Workspace.open(state.home) as ws:
            chosen = engine or ws.settings.ingest.engine
            eng: Engine
            if chosen == "spark":
                from loyaute.ingest.spark import SparkEngine  # noqa: PLC0415 - optional extra

                eng = SparkEngine(master or ws.settings.ingest.spark_master)
            elif chosen == "local":
                eng = LocalEngine(workers if workers is not None else ws.settings.ingest.workers)
                # Worker processes import their modules while this one imports the pipeline's.
                eng.warm_up(paths, MAP_MODULES)
            else:
                raise UsageError(
                    tr(
                        f"moteur inconnu : {chosen} (local, spark)",
                        f"unknown engine: {chosen} (local, spark)",
                    )
                )
            from loyaute.ingest.pipeline import ingest  # noqa: PLC0415 - after the warm-up

            with progress(tr("lecture", "reading")) as tick:
                report = ingest(
                    ws, list(paths), format, eng, force=force, who=acting(ws), on_progress=tick
                )
        if report_format == "json":
            typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        elif report.files:
            _ingest_table(report)
        for w in report.warnings:
            err.print(f"[yellow]{escape(w)}[/]")
        for p in report.problems:
            err.print(f"[red]{escape(p)}[/]")
        if report.failed:
            raise typer.Exit(EXIT_REFUSED)


MAP_MODULES = ("loyaute.ingest.mapper",)
"""What a worker process of the local engine runs (``pipeline.ingest``'s task function)."""


def _ingest_table(report: IngestReport) -> None:
    rows = []
    for f in report.files:
        unmatched = ""
        if f.unmatched:
            top = ", ".join(login for login, _ in f.unmatched.most_common(3))
            unmatched = f"{len(f.unmatched)} ({top}{'…' if len(f.unmatched) > 3 else ''})"
        status = f.status if not f.message else f"{f.status}: {f.message}"
        rows.append(
            [
                Path(f.path).name,
                f.format or "?",
                status,
                str(f.lines),
                str(f.events),
                "\n".join(f"{k} {v}" for k, v in sorted(f.skipped.items())),
                unmatched,
                str(f.kept),
                str(f.pending),
                "\n".join(f"{k} {v}" for k, v in sorted(f.dropped.items())),
            ]
        )
    print_table(
        tr("Rapport d'ingestion", "Ingest report"),
        [
            tr("fichier", "file"),
            "format",
            tr("état", "status"),
            tr("lignes", "lines"),
            tr("traces", "events"),
            tr("écartées", "skipped"),
            tr("identifiants inconnus", "unmatched logins"),
            tr("demi-j. gardées", "half-days kept"),
            tr("en attente", "pending"),
            tr("écartées par règle", "dropped by rule"),
        ],
        rows,
    )
