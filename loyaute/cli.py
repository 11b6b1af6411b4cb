"""The ``loyaute`` command: parse arguments, call one function, print. Nothing else.

Domain errors (``errors.py``) become a one-line reason on stderr and the exit code their class
carries (1 refused, 2 usage, 78 configuration); a user error never shows a traceback.
"""

from __future__ import annotations

import csv
import functools
import getpass
import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from loyaute import __version__
from loyaute.accounts import create_account
from loyaute.config import Settings, load_settings
from loyaute.demo.runner import run_demo
from loyaute.errors import EXIT_REFUSED, ConfigError, InputError, LoyauteError, UsageError
from loyaute.i18n import lang, set_lang, tr
from loyaute.identity import parse_directory, store_directory
from loyaute.ingest.engine import Engine, LocalEngine
from loyaute.ingest.files import Location, ReadError, expand_paths
from loyaute.ingest.pipeline import IngestReport, ingest, rescope
from loyaute.ingest.reading import FileResult, parse_file, resolve_source
from loyaute.policy import gates as gates_mod
from loyaute.policy.cases import answer_case, close_case, export_case, open_case, show_case
from loyaute.policy.documents import write_document
from loyaute.policy.notices import record_notices
from loyaute.policy.retention import purge
from loyaute.policy.rights import (
    access_request_clocks,
    annotate,
    decide_objection,
    declare,
    extend_access_request,
    object_to_processing,
    open_dispute,
    record_access_request,
    resolve_dispute,
    validate_statement,
)
from loyaute.reports.access_export import write_export
from loyaute.reports.agent_view import RECORD_COLUMNS
from loyaute.reports.presence import PRESENCE_COLUMNS
from loyaute.reports.runner import NO_PROOF, run_presence, run_validity
from loyaute.reports.validity import VALIDITY_COLUMNS
from loyaute.schedule import import_schedule
from loyaute.sources import build_sources
from loyaute.sources.base import Parsed, reason_text
from loyaute.sources.timeparse import from_us
from loyaute.workspace import Workspace
from loyaute.workspace import check as workspace_check
from loyaute.workspace import init as workspace_init

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
            err.print(f"[bold red]loyaute:[/] {escape(str(exc))}", markup=True, soft_wrap=True)
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
        list[str],
        typer.Argument(
            help=tr(
                "Fichiers ou dossiers de journaux, ou URI s3://… / hdfs://…",
                "Log files or directories, or s3://… / hdfs://… URIs.",
            )
        ),
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


# --- workspace ------------------------------------------------------------------------------------

config_app = typer.Typer(help=tr("Configuration.", "Configuration."), no_args_is_help=True)
directory_app = typer.Typer(
    help=tr("Annuaire des agents.", "Agent directory."), no_args_is_help=True
)
schedule_app = typer.Typer(
    help=tr("Planning (Octime).", "Schedule (Octime)."), no_args_is_help=True
)
notice_app = typer.Typer(
    help=tr("Notice d'information.", "Information notice."), no_args_is_help=True
)
audit_app = typer.Typer(help=tr("Journal des accès.", "Access log."), no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(directory_app, name="directory")
app.add_typer(schedule_app, name="schedule")
app.add_typer(notice_app, name="notice")
app.add_typer(audit_app, name="audit")

out = Console(highlight=False)


def _actor() -> str:
    return os.environ.get("LOYAUTE_ACTOR") or getpass.getuser()


def _open() -> Workspace:
    return Workspace.open(state.home)


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            tr(f"date invalide : {text} (AAAA-MM-JJ)", f"invalid date: {text} (YYYY-MM-DD)")
        ) from None


@app.command("init")
@handle_errors
def init_command() -> None:
    """Crée l'espace de travail. / Create the workspace."""
    paths = workspace_init(state.home)
    out.print(tr(f"Espace de travail créé : {paths.home}", f"Workspace created: {paths.home}"))
    out.print(
        tr(
            "Prochaines étapes : remplir register.toml (DPO), vérifier loyaute.toml (DSI), puis "
            "`loyaute config check` et `loyaute gates`.",
            "Next: fill register.toml (DPO), review loyaute.toml (IT), then `loyaute config check` "
            "and `loyaute gates`.",
        )
    )


@config_app.command("check")
@handle_errors
def config_check_command() -> None:
    """Valide loyaute.toml, register.toml et l'environnement. / Validate both files and the
    environment."""
    problems = workspace_check(state.home)
    if problems:
        raise ConfigError(str(state.home), problems)
    out.print(tr("Configuration valide.", "Configuration valid."))


@directory_app.command("import")
@handle_errors
def directory_import_command(
    file: Annotated[
        Path, typer.Argument(help=tr("Export CSV de l'annuaire.", "Directory CSV export."))
    ],
) -> None:
    """Charge l'annuaire (remplace le précédent). / Load the directory (replaces the previous one)."""
    ws = _open()
    agents = parse_directory(file, ws.settings.directory)
    store_directory(ws.state, agents)
    out.print(tr(f"{len(agents)} agents importés.", f"{len(agents)} agents imported."))


@schedule_app.command("import")
@handle_errors
def schedule_import_command(
    files: Annotated[
        list[Path], typer.Argument(help=tr("Exports CSV du planning.", "Schedule CSV exports."))
    ],
) -> None:
    """Charge le planning (mise à jour par agent, date, demi-journée). / Load schedule rows (upsert)."""
    ws = _open()
    report = import_schedule(ws.state, files, ws.settings.schedule)
    rescoped = rescope(ws, report.days, actor=_actor())
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(report.kinds.items()))
    out.print(
        tr(
            f"{report.rows} lignes, {report.half_days} demi-journées ({kinds}).",
            f"{report.rows} rows, {report.half_days} half-days ({kinds}).",
        )
    )
    if rescoped.promoted:
        out.print(
            tr(
                f"{rescoped.promoted} demi-journée(s) en attente rattachée(s).",
                f"{rescoped.promoted} pending half-day(s) now scheduled.",
            )
        )
    if report.unknown_codes:
        codes = ", ".join(f"{c} ({n})" for c, n in report.unknown_codes.most_common())
        err.print(
            tr(
                f"[yellow]Codes inconnus, traités comme hors champ : {escape(codes)} — les ajouter à \\[schedule.codes][/]",
                f"[yellow]Unknown codes, treated as out of scope: {escape(codes)} — add them to \\[schedule.codes][/]",
            )
        )


@notice_app.command("record")
@handle_errors
def notice_record_command(
    on: Annotated[
        str, typer.Option("--on", help=tr("Date de remise (AAAA-MM-JJ).", "Delivery date."))
    ],
    all_agents: Annotated[
        bool, typer.Option("--all", help=tr("Tous les agents.", "Every agent."))
    ] = False,
    agent: Annotated[list[str] | None, typer.Option("--agent", help="ID")] = None,
) -> None:
    """Enregistre la remise de la notice d'information. / Record delivery of the notice."""
    day = _parse_date(on)
    if all_agents == bool(agent):
        raise UsageError(tr("préciser --all ou --agent ID…", "give --all or --agent ID…"))
    ws = _open()
    count = record_notices(ws, day, None if all_agents else list(agent or []), actor=_actor())
    out.print(
        tr(
            f"Notice enregistrée pour {count} agent(s) au {day}.",
            f"Notice recorded for {count} agent(s) on {day}.",
        )
    )


@app.command("gates")
@handle_errors
def gates_command(
    fingerprint_only: Annotated[
        bool,
        typer.Option(
            "--fingerprint",
            help=tr("Affiche seulement l'empreinte.", "Print only the fingerprint."),
        ),
    ] = False,
) -> None:
    """État des garde-fous A1–A7. / State of gates A1–A7."""
    ws = _open()
    if fingerprint_only:
        typer.echo(gates_mod.fingerprint(ws.settings, ws.register))
        return
    missing_notice = ws.state.execute(
        "SELECT COUNT(*) FROM agents WHERE agent_id NOT IN (SELECT agent_id FROM notices)"
    ).fetchone()[0]
    total = ws.state.execute("SELECT COUNT(*) FROM agents").fetchone()[0]
    gates = gates_mod.evaluate(ws.settings, ws.register, missing_notice, total)
    table = Table(title=tr("Garde-fous", "Gates"), title_justify="left")
    table.add_column("ID")
    table.add_column(tr("garde-fou", "gate"))
    table.add_column(tr("état", "state"))
    table.add_column(tr("motif", "reason"), overflow="fold")
    for g in gates:
        state_text = "[green]OK[/]" if g.ok else tr("[red]bloquant[/]", "[red]blocking[/]")
        table.add_row(g.id, escape(g.title), state_text, escape(g.reason))
    out.print(table)
    out.print(
        tr("Empreinte de configuration : ", "Configuration fingerprint: ")
        + gates_mod.fingerprint(ws.settings, ws.register)
    )
    if not all(g.ok for g in gates):
        raise typer.Exit(EXIT_REFUSED)


def _ingest_table(report: IngestReport) -> Table:
    table = Table(title=tr("Rapport d'ingestion", "Ingest report"), title_justify="left")
    for name in (
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
    ):
        table.add_column(name, overflow="fold")
    for f in report.files:
        unmatched = ""
        if f.unmatched:
            top = ", ".join(login for login, _ in f.unmatched.most_common(3))
            unmatched = f"{len(f.unmatched)} ({top}{'…' if len(f.unmatched) > 3 else ''})"
        status = f.status if not f.message else f"{f.status}: {f.message}"
        table.add_row(
            escape(Path(f.path).name),
            f.format or "?",
            escape(status),
            str(f.lines),
            str(f.events),
            "\n".join(f"{k} {v}" for k, v in sorted(f.skipped.items())),
            escape(unmatched),
            str(f.kept),
            str(f.pending),
            "\n".join(f"{k} {v}" for k, v in sorted(f.dropped.items())),
        )
    return table


@app.command("ingest")
@handle_errors
def ingest_command(
    paths: Annotated[
        list[str],
        typer.Argument(
            help=tr(
                "Fichiers ou dossiers de journaux, ou URI s3://… / hdfs://…",
                "Log files or directories, or s3://… / hdfs://… URIs.",
            )
        ),
    ],
    format: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help=tr("Format (sinon détecté).", "Format (else detected).")
        ),
    ] = None,
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
            help=tr("Maître Spark (local[N], spark://…).", "Spark master (local[N], spark://…)."),
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", help=tr("Processus (0 = un par cœur).", "Processes (0 = one per core).")
        ),
    ] = None,
) -> None:
    """Lit des journaux, réduit et enregistre ; affiche un rapport. / Read logs, reduce, store;
    print a report."""
    ws = _open()
    chosen = engine or ws.settings.ingest.engine
    eng: Engine
    if chosen == "spark":
        from loyaute.ingest.spark import SparkEngine  # noqa: PLC0415 - optional extra

        eng = SparkEngine(master or ws.settings.ingest.spark_master)
    elif chosen == "local":
        eng = LocalEngine(workers if workers is not None else ws.settings.ingest.workers)
    else:
        raise UsageError(
            tr(
                f"moteur inconnu : {chosen} (local, spark)",
                f"unknown engine: {chosen} (local, spark)",
            )
        )
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as progress:
        task_id = progress.add_task(tr("lecture", "reading"), total=None)

        def tick(done: int, total: int) -> None:
            progress.update(task_id, completed=done, total=total)

        report = ingest(ws, list(paths), format, eng, force=force, actor=_actor(), on_progress=tick)
    if report_format == "json":
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        out.print(_ingest_table(report))
    for w in report.warnings:
        err.print(f"[yellow]{escape(w)}[/]")
    for p in report.problems:
        err.print(f"[red]{escape(p)}[/]")
    if report.failed:
        raise typer.Exit(EXIT_REFUSED)


@app.command("access-export")
@handle_errors
def access_export_command(
    agent_id: Annotated[str, typer.Argument(help="ID")],
    out_dir: Annotated[
        Path, typer.Option("--out", help=tr("Dossier de sortie.", "Output folder."))
    ],
) -> None:
    """Export complet pour l'agent (droit d'accès, G2). / The agent's full access export (G2)."""
    ws = _open()
    purge(ws, actor=_actor())
    result = write_export(ws, agent_id, out_dir, actor=_actor())
    out.print(
        tr(
            f"Export écrit dans {result.out} : {result.records} demi-journées, {result.viewers} accès.",
            f"Export written to {result.out}: {result.records} half-days, {result.viewers} accesses.",
        )
    )


@audit_app.command("show")
@handle_errors
def audit_show_command(
    agent: Annotated[str | None, typer.Option("--agent", help="ID")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
) -> None:
    """Affiche le journal des accès. / Show the access log."""
    ws = _open()
    entries = list(ws.audit.entries(agent))
    if as_json:
        for e in entries:
            typer.echo(
                json.dumps(
                    {
                        "seq": e.seq,
                        "at": e.at,
                        "actor": e.actor,
                        "role": e.role,
                        "action": e.action,
                        "agent_id": e.agent_id,
                        "reason": e.reason,
                        "details": e.details,
                    },
                    ensure_ascii=False,
                )
            )
        return
    table = Table(title=tr("Journal des accès", "Access log"), title_justify="left")
    for name in (
        "#",
        tr("quand", "at"),
        tr("qui", "actor"),
        tr("rôle", "role"),
        "action",
        "agent",
        tr("motif", "reason"),
    ):
        table.add_column(name, overflow="fold")
    for e in entries:
        table.add_row(
            str(e.seq), e.at, escape(e.actor), e.role, e.action, e.agent_id, escape(e.reason)
        )
    out.print(table)


@audit_app.command("verify")
@handle_errors
def audit_verify_command() -> None:
    """Vérifie la chaîne de hachage. / Verify the hash chain."""
    ws = _open()
    checked, broken = ws.audit.verify()
    if broken is not None:
        err.print(
            tr(
                f"[red]Journal altéré : première entrée rompue n° {broken}[/]",
                f"[red]Log tampered with: first broken entry #{broken}[/]",
            )
        )
        raise typer.Exit(EXIT_REFUSED)
    out.print(
        tr(
            f"Chaîne intacte : {checked} entrées vérifiées.",
            f"Chain intact: {checked} entries verified.",
        )
    )


@app.command("purge")
@handle_errors
def purge_command(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help=tr("Montrer sans supprimer.", "Show without removing.")),
    ] = False,
) -> None:
    """Applique les durées de conservation maintenant. / Apply retention now."""
    ws = _open()
    report = purge(ws, dry_run=dry_run, actor=_actor(), per_agent_t0=True)
    if not report.removed:
        out.print(tr("Rien à supprimer.", "Nothing to remove."))
    for rule, count in sorted(report.removed.items()):
        verb = tr("à supprimer", "to remove") if dry_run else tr("supprimé(s)", "removed")
        out.print(f"{rule}: {count} {verb}")


# --- reports, declarations, cases, rights, documents ---------------------------------------------

report_app = typer.Typer(help=tr("Rapports agrégés.", "Aggregate reports."), no_args_is_help=True)
case_app = typer.Typer(
    help=tr("Dossiers d'examen individuels (D5).", "Individual review cases (D5)."),
    no_args_is_help=True,
)
dispute_app = typer.Typer(help=tr("Contestations (D4).", "Disputes (D4)."), no_args_is_help=True)
rights_app = typer.Typer(
    help=tr("Droits des agents (G1, G3).", "Agents' rights (G1, G3)."), no_args_is_help=True
)
statement_app = typer.Typer(
    help=tr("Relevés mensuels de déclarations.", "Monthly statements of declarations."),
    no_args_is_help=True,
)
app.add_typer(report_app, name="report")
app.add_typer(case_app, name="case")
app.add_typer(dispute_app, name="dispute")
app.add_typer(rights_app, name="rights")
app.add_typer(statement_app, name="statement")

RoleOption = Annotated[
    str, typer.Option("--as", help=tr("Rôle de la personne qui lit.", "Role of the reader."))
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        help=tr(
            "Qui agit (défaut LOYAUTE_ACTOR ou l'utilisateur).",
            "Who acts (default LOYAUTE_ACTOR or the user).",
        ),
    ),
]
FormatOption = Annotated[str, typer.Option("--format", help="table | csv | json")]


def _emit(
    rows: list[dict[str, Any]],
    columns: tuple[str, ...],
    fmt: str,
    parameters: dict[str, Any],
    title: str,
) -> None:
    if fmt == "csv":
        writer = csv.DictWriter(
            sys.stdout, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: ("true" if v is True else "false" if v is False else v) for k, v in row.items()}
            )
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
    table = Table(title=title, title_justify="left")
    for c in columns:
        table.add_column(c, overflow="fold")
    for row in rows:
        table.add_row(*(escape(str(row.get(c, ""))) for c in columns))
    out.print(table)
    for key, value in parameters.items():
        out.print(f"{key} : {escape(str(value))}")


def _day_option(text: str | None) -> date | None:
    return _parse_date(text) if text else None


@report_app.command("presence")
@handle_errors
def report_presence_command(
    day_from: Annotated[str | None, typer.Option("--from", help="AAAA-MM-JJ")] = None,
    day_to: Annotated[str | None, typer.Option("--to", help="AAAA-MM-JJ")] = None,
    by: Annotated[str, typer.Option("--by", help="service | job_family")] = "service",
    period: Annotated[str | None, typer.Option("--period", help="week | month")] = None,
    fmt: FormatOption = "table",
    role: RoleOption = "dpo",
    actor: ActorOption = None,
) -> None:
    """Présence en télétravail agrégée, avec secret statistique (E2, E3). / Aggregated telework
    presence with disclosure control (E2, E3)."""
    if by not in ("service", "job_family") or period not in (None, "week", "month"):
        raise UsageError(
            tr(
                "--by service|job_family, --period week|month",
                "--by service|job_family, --period week|month",
            )
        )
    ws = _open()
    report = run_presence(
        ws, actor or _actor(), role, by, period, _day_option(day_from), _day_option(day_to)
    )
    _emit(
        report.rows,
        PRESENCE_COLUMNS,
        fmt,
        report.parameters,
        tr("Présence en télétravail (agrégats)", "Telework presence (aggregates)"),
    )


@report_app.command("validity")
@handle_errors
def report_validity_command(
    day_from: Annotated[str | None, typer.Option("--from", help="AAAA-MM-JJ")] = None,
    day_to: Annotated[str | None, typer.Option("--to", help="AAAA-MM-JJ")] = None,
    fmt: FormatOption = "table",
    role: RoleOption = "dpo",
    actor: ActorOption = None,
) -> None:
    """Étude de validité par famille de métiers. / Validity study by job family."""
    ws = _open()
    report = run_validity(ws, actor or _actor(), role, _day_option(day_from), _day_option(day_to))
    _emit(
        report.rows,
        VALIDITY_COLUMNS,
        fmt,
        report.parameters,
        tr("Étude de validité", "Validity study"),
    )


@app.command("declare")
@handle_errors
def declare_command(
    agent: Annotated[str, typer.Option("--agent", help="ID")],
    day: Annotated[str, typer.Option("--date", help="AAAA-MM-JJ")],
    half: Annotated[str, typer.Option("--half", help="AM | PM")],
    kind: Annotated[
        str, typer.Option("--kind", help="system | phone | home_visit | meeting | field | other")
    ],
    note: Annotated[str, typer.Option("--note")] = "",
) -> None:
    """L'agent déclare une demi-journée de télétravail (D2). / The agent declares a half-day (D2)."""
    ws = _open()
    declare(ws, agent, _parse_date(day), half.upper(), kind, note)
    out.print(tr("Déclaration enregistrée.", "Declaration recorded."))


@app.command("annotate")
@handle_errors
def annotate_command(
    agent: Annotated[str, typer.Option("--agent", help="ID")],
    day: Annotated[str, typer.Option("--date", help="AAAA-MM-JJ")],
    half: Annotated[str, typer.Option("--half", help="AM | PM")],
    text: Annotated[str, typer.Option("--text")],
) -> None:
    """L'agent annote une demi-journée (D3). / The agent annotates a half-day (D3)."""
    ws = _open()
    annotate(ws, agent, _parse_date(day), half.upper(), text)
    out.print(tr("Annotation enregistrée.", "Annotation recorded."))


@dispute_app.command("open")
@handle_errors
def dispute_open_command(
    agent: Annotated[str, typer.Option("--agent", help="ID")],
    day: Annotated[str, typer.Option("--date", help="AAAA-MM-JJ")],
    half: Annotated[str, typer.Option("--half", help="AM | PM")],
    reason: Annotated[str, typer.Option("--reason")],
) -> None:
    """L'agent conteste un enregistrement, qui est gelé (D4). / Contest a record; it is frozen."""
    ws = _open()
    number = open_dispute(ws, agent, _parse_date(day), half.upper(), reason)
    out.print(
        tr("Contestation enregistrée, enregistrement gelé :", "Dispute recorded, record frozen:")
    )
    typer.echo(number)


@dispute_app.command("resolve")
@handle_errors
def dispute_resolve_command(
    number: Annotated[int, typer.Argument()],
    by: Annotated[
        str, typer.Option("--by", help=tr("Nom de la personne qui tranche.", "Who resolves."))
    ],
    resolution: Annotated[str, typer.Option("--resolution")],
    role: RoleOption = "hr_reviewer",
) -> None:
    """Une personne nommée résout une contestation (D4). / A named person resolves a dispute."""
    ws = _open()
    resolve_dispute(ws, number, by, role, resolution)
    out.print(tr("Contestation résolue.", "Dispute resolved."))


@statement_app.command("validate")
@handle_errors
def statement_validate_command(
    manager: Annotated[str, typer.Option("--manager", help="ID")],
    month: Annotated[str, typer.Option("--month", help="AAAA-MM")],
) -> None:
    """Le responsable valide le relevé mensuel des déclarations (D2). / Validate the monthly statement."""
    ws = _open()
    rows = validate_statement(ws, manager, month)
    _emit(
        rows,
        ("agent_id", "display_name", "telework_half_days", "declared"),
        "table",
        {},
        tr(f"Relevé {month}", f"Statement {month}"),
    )


@case_app.command("open")
@handle_errors
def case_open_command(
    agent: Annotated[str, typer.Option("--agent", help="ID")],
    reviewer: Annotated[str, typer.Option("--reviewer")],
    reason: Annotated[str, typer.Option("--reason")],
    day_from: Annotated[str, typer.Option("--from", help="AAAA-MM-JJ")],
    day_to: Annotated[str, typer.Option("--to", help="AAAA-MM-JJ")],
    actor: ActorOption = None,
    role: RoleOption = "hr_reviewer",
) -> None:
    """Ouvre un dossier d'examen ; imprime son numéro seul sur la dernière ligne. / Open a case;
    print its number alone on the last line."""
    ws = _open()
    number = open_case(
        ws,
        actor or _actor(),
        agent,
        reviewer,
        reason,
        _parse_date(day_from),
        _parse_date(day_to),
        role,
    )
    out.print(tr("Dossier ouvert ; l'agent est informé.", "Case opened; the agent is notified."))
    typer.echo(number)


@case_app.command("show")
@handle_errors
def case_show_command(
    number: Annotated[int, typer.Argument()],
    fmt: FormatOption = "table",
    actor: ActorOption = None,
    role: RoleOption = "hr_reviewer",
) -> None:
    """Le relecteur du dossier voit la période, ré-identifiée (E4). / The reviewer sees the period."""
    ws = _open()
    view = show_case(ws, number, actor or _actor(), role)
    rows = [{"agent_id": view.agent["agent_id"], **r.as_dict()} for r in view.records]
    params = {
        tr("dossier", "case"): number,
        "agent": f"{view.agent['display_name']} ({view.agent['agent_id']})",
        tr("motif", "reason"): view.case["reason"],
        tr("période", "period"): f"{view.case['day_from']} → {view.case['day_to']}",
        tr("réponses de l'agent", "agent's answers"): " | ".join(a["text"] for a in view.answers),
        "statement": tr(*NO_PROOF),
    }
    _emit(
        rows,
        ("agent_id", *RECORD_COLUMNS),
        fmt,
        params,
        tr(f"Dossier n° {number}", f"Case #{number}"),
    )


@case_app.command("answer")
@handle_errors
def case_answer_command(
    number: Annotated[int, typer.Argument()],
    agent: Annotated[str, typer.Option("--agent", help="ID")],
    text: Annotated[str, typer.Option("--text")],
) -> None:
    """L'agent répond avant toute décision (D5). / The agent answers before any decision (D5)."""
    ws = _open()
    answer_case(ws, number, agent, text)
    out.print(tr("Réponse enregistrée.", "Answer recorded."))


@case_app.command("close")
@handle_errors
def case_close_command(
    number: Annotated[int, typer.Argument()],
    outcome: Annotated[str, typer.Option("--outcome")],
    actor: ActorOption = None,
    role: RoleOption = "hr_reviewer",
) -> None:
    """Décision humaine, avec son dossier de preuves (D6). / A human decision with its evidence."""
    ws = _open()
    close_case(ws, number, actor or _actor(), outcome, role)
    out.print(
        tr(
            "Dossier clos ; l'agent peut exporter le dossier complet.",
            "Case closed; the agent may export the full file.",
        )
    )


@case_app.command("export")
@handle_errors
def case_export_command(
    number: Annotated[int, typer.Argument()],
    out_dir: Annotated[Path, typer.Option("--out")],
    agent: Annotated[
        str, typer.Option("--agent", help=tr("L'agent concerné.", "The agent concerned."))
    ],
) -> None:
    """L'agent exporte son dossier (D6). / The agent exports their case file (D6)."""
    ws = _open()
    path = export_case(ws, number, out_dir, agent, "agent", own_agent_id=agent)
    out.print(str(path))


@rights_app.command("request")
@handle_errors
def rights_request_command(
    agent: Annotated[str, typer.Option("--agent", help="ID")],
    on: Annotated[str | None, typer.Option("--on", help="AAAA-MM-JJ")] = None,
) -> None:
    """Enregistre une demande d'accès (délai d'un mois, G1). / Record an access request (G1)."""
    ws = _open()
    number = record_access_request(ws, agent, _parse_date(on) if on else ws.clock.now().date())
    typer.echo(number)


@rights_app.command("extend")
@handle_errors
def rights_extend_command(
    number: Annotated[int, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")],
) -> None:
    """Prolongation motivée de deux mois (art. 12(3)). / Reasoned two-month extension."""
    ws = _open()
    extend_access_request(ws, number, reason)
    out.print(tr("Prolongation enregistrée.", "Extension recorded."))


@rights_app.command("list")
@handle_errors
def rights_list_command() -> None:
    """Demandes d'accès et leur échéance. / Access requests and their deadlines."""
    ws = _open()
    rows = [c.__dict__ for c in access_request_clocks(ws)]
    _emit(
        rows,
        ("id", "agent_id", "requested_on", "due_on", "status"),
        "table",
        {},
        tr("Demandes d'accès", "Access requests"),
    )
    if any(r["status"] in ("warning", "overdue") for r in rows):
        err.print(
            tr(
                "[yellow]Des demandes approchent ou dépassent leur échéance.[/]",
                "[yellow]Some requests are near or past their deadline.[/]",
            )
        )


@rights_app.command("object")
@handle_errors
def rights_object_command(
    agent: Annotated[str, typer.Option("--agent", help="ID")],
    reason: Annotated[str, typer.Option("--reason")],
) -> None:
    """Opposition : le traitement de l'agent s'arrête (G3). / Objection: processing stops (G3)."""
    ws = _open()
    typer.echo(object_to_processing(ws, agent, reason))


@rights_app.command("decide")
@handle_errors
def rights_decide_command(
    number: Annotated[int, typer.Argument()],
    decision: Annotated[str, typer.Option("--decision", help="upheld | rejected")],
    reason: Annotated[str, typer.Option("--reason")],
    actor: ActorOption = None,
) -> None:
    """Décision motivée sur une opposition (G3). / Reasoned decision on an objection (G3)."""
    ws = _open()
    decide_objection(ws, number, decision, reason, actor or _actor())
    out.print(tr("Décision enregistrée.", "Decision recorded."))


@audit_app.command("alerts")
@handle_errors
def audit_alerts_command() -> None:
    """Alertes au DPO (H2). / DPO alerts (H2)."""
    ws = _open()
    rows = [
        dict(r)
        for r in ws.state.execute("SELECT id, at, kind, actor, detail FROM alerts ORDER BY id")
    ]
    _emit(rows, ("id", "at", "kind", "actor", "detail"), "table", {}, tr("Alertes", "Alerts"))


@app.command("docs")
@handle_errors
def docs_command(
    kind: Annotated[str, typer.Argument(help="register | dpia | notice")],
    out_file: Annotated[Path, typer.Option("--out", help=".md, .html, .pdf")],
    lang: Annotated[str, typer.Option("--lang", help="fr | en")] = "fr",
) -> None:
    """Documents de conformité générés depuis la configuration. / Compliance documents."""
    if lang not in ("fr", "en"):
        raise UsageError("--lang fr | en")
    ws = _open()
    path = write_document(ws, kind, out_file, lang)
    out.print(str(path))


@app.command("demo")
@handle_errors
def demo_command(
    agents: Annotated[
        int,
        typer.Option(
            "--agents", min=10, max=20000, help=tr("Nombre d'agents.", "Number of agents.")
        ),
    ] = 500,
    weeks: Annotated[
        int,
        typer.Option("--weeks", min=1, max=26, help=tr("Semaines de journaux.", "Weeks of logs.")),
    ] = 8,
    seed: Annotated[
        int, typer.Option("--seed", help=tr("Graine du générateur.", "Generator seed."))
    ] = 1,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve", help=tr("Puis lancer l'application web.", "Then serve the web app.")
        ),
    ] = False,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", envvar="PORT")] = 8000,
) -> None:
    """Département synthétique, de bout en bout. / Synthetic Département, end to end."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as progress:
        task_id = progress.add_task(
            tr("génération et ingestion", "generating and ingesting"), total=None
        )

        def tick(done: int, total: int) -> None:
            progress.update(task_id, completed=done, total=total)

        summary = run_demo(state.home, agents=agents, weeks=weeks, seed=seed, on_progress=tick)
    for line in summary.lines():
        out.print(escape(line))
    if serve:
        _serve(host, port)


def _serve(host: str, port: int, workers: int = 1) -> None:
    import uvicorn  # noqa: PLC0415 - only the server needs it

    from loyaute.web.app import HOME_ENV, create_app  # noqa: PLC0415

    app_ = create_app(state.home)  # fails here, once, on a workspace that cannot serve
    out.print(
        tr(
            f"Application web : http://{host}:{port}/  (Ctrl+C pour arrêter)",
            f"Web app: http://{host}:{port}/  (Ctrl+C to stop)",
        )
    )
    # No access log: URLs may name an agent, and server logs must not (ASVS, H3).
    if workers <= 1:
        uvicorn.run(app_, host=host, port=port, access_log=False, log_level="warning")
        return
    os.environ[HOME_ENV] = str(state.home.resolve())
    uvicorn.run(
        "loyaute.web.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
    )


@app.command("serve")
@handle_errors
def serve_command(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", envvar="PORT")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help=tr(
                "Processus serveurs (1 par cœur pour beaucoup d'utilisateurs).",
                "Server processes (one per core for many users).",
            ),
        ),
    ] = 1,
) -> None:
    """Application web (défaut 127.0.0.1:8000). / Web app (default 127.0.0.1:8000)."""
    Workspace.open(state.home).close()
    _serve(host, port, workers)


account_app = typer.Typer(
    help=tr("Comptes de l'application web.", "Web app accounts."), no_args_is_help=True
)
app.add_typer(account_app, name="account")


@account_app.command("add")
@handle_errors
def account_add_command(
    login: Annotated[str, typer.Option("--login")],
    role: Annotated[
        str,
        typer.Option("--role", help="operator | dpo | hr_reviewer | manager | agent | staff_rep"),
    ],
    agent: Annotated[str, typer.Option("--agent", help="ID")] = "",
    password: Annotated[
        str,
        typer.Option(
            "--password",
            envvar="LOYAUTE_PASSWORD",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
        ),
    ] = "",
) -> None:
    """Crée un compte (mot de passe Argon2id). / Create an account (Argon2id password)."""
    ws = _open()
    create_account(ws.state, ws.clock, login, password, role, agent)
    out.print(tr(f"Compte {login} créé.", f"Account {login} created."))


def main() -> None:
    """Console entry point."""
    if os.environ.get("LOYAUTE_LANG"):
        set_lang(os.environ["LOYAUTE_LANG"][:2].lower())
    app()
