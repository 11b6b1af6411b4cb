"""Workspace commands: init, config check, directory and schedule imports, notices, gates, purge,
compliance documents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loyaute.cli.auth import acting
from loyaute.cli.output import (
    HELP_MARKUP,
    err,
    escape,
    handle_errors,
    out,
    parse_date,
    print_table,
    state,
)
from loyaute.errors import EXIT_REFUSED, ConfigError, UsageError
from loyaute.i18n import tr

DIRECTORY_COLUMNS = "directory_columns"
"""Meta key: the columns the last directory import had (a column dropped since is refused)."""


def register(app: typer.Typer) -> None:
    """Add the workspace commands to the app."""
    config_app = typer.Typer(
        rich_markup_mode=HELP_MARKUP,
        help=tr("Configuration.", "Configuration."),
        no_args_is_help=True,
    )
    directory_app = typer.Typer(
        rich_markup_mode=HELP_MARKUP,
        help=tr("Annuaire des agents.", "Agent directory."),
        no_args_is_help=True,
    )
    schedule_app = typer.Typer(
        rich_markup_mode=HELP_MARKUP,
        help=tr("Planning (Octime).", "Schedule (Octime)."),
        no_args_is_help=True,
    )
    notice_app = typer.Typer(
        rich_markup_mode=HELP_MARKUP,
        help=tr("Notice d'information.", "Information notice."),
        no_args_is_help=True,
    )
    app.add_typer(config_app, name="config")
    app.add_typer(directory_app, name="directory")
    app.add_typer(schedule_app, name="schedule")
    app.add_typer(notice_app, name="notice")

    @app.command("init")
    @handle_errors
    def init_command() -> None:
        """Crée l'espace de travail. / Create the workspace."""
        from loyaute.workspace import init  # noqa: PLC0415 - lazy

        paths = init(state.home)
        out.print(tr(f"Espace de travail créé : {paths.home}", f"Workspace created: {paths.home}"))
        out.print(
            tr(
                "Prochaines étapes : remplir register.toml (DPO), vérifier loyaute.toml (DSI), puis "
                "`loyaute config check` et `loyaute gates`.",
                "Next: fill register.toml (DPO), review loyaute.toml (IT), then `loyaute config "
                "check` and `loyaute gates`.",
            )
        )

    @config_app.command("check")
    @handle_errors
    def config_check_command() -> None:
        """Valide loyaute.toml, register.toml et l'environnement. / Validate both files and the
        environment."""
        from loyaute.workspace import check  # noqa: PLC0415 - lazy

        problems = check(state.home)
        if problems:
            raise ConfigError(str(state.home), problems)
        out.print(tr("Configuration valide.", "Configuration valid."))

    @directory_app.command("import")
    @handle_errors
    def directory_import_command(
        file: Annotated[
            Path, typer.Argument(help=tr("Export CSV de l'annuaire.", "Directory CSV export."))
        ],
        drop_column: Annotated[
            list[str] | None,
            typer.Option(
                "--drop-column",
                help=tr(
                    "Confirmer qu'une colonne de l'import précédent n'est plus fournie (ses "
                    "données seront effacées).",
                    "Confirm that a column of the previous import is no longer given (its data "
                    "will be cleared).",
                ),
            ),
        ] = None,
    ) -> None:
        """Charge l'annuaire (remplace le précédent). / Load the directory (replaces the previous
        one)."""
        import json  # noqa: PLC0415 - lazy

        from loyaute.identity import (  # noqa: PLC0415 - lazy
            directory_columns,
            parse_directory,
            store_directory,
        )
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws, ws.lock.hold("directory import"):
            who = acting(ws)
            previous = json.loads(ws.db.meta(DIRECTORY_COLUMNS) or "[]")
            agents = parse_directory(file, ws.settings.directory, previous, drop_column or ())
            columns = directory_columns(file, ws.settings.directory)
            with ws.db.transaction():
                changes = store_directory(ws.db, agents, ws.today())
                ws.db.set_meta(DIRECTORY_COLUMNS, json.dumps(columns))
            ws.audit.append(
                who.login,
                who.role.value,
                "directory_import",
                reason=tr("import de l'annuaire", "directory import"),
                details={
                    "agents": len(agents),
                    **changes.counts(),
                    "dropped_columns": sorted(set(previous) - set(columns)),
                },
            )
        out.print(tr(f"{len(agents)} agents importés.", f"{len(agents)} agents imported."))
        if changes.gone:
            out.print(
                tr(
                    f"{len(changes.gone)} agent(s) qui ne figurent plus dans le fichier marqué(s) comme parti(s) : "
                    "leurs données restent jusqu'à leur durée de conservation.",
                    f"{len(changes.gone)} agent(s) missing from the file marked as departed: "
                    "their data stays until its retention ends.",
                )
            )

    @directory_app.command("sync")
    @handle_errors
    def directory_sync_command(
        confirm: Annotated[
            bool,
            typer.Option(
                "--confirm",
                help=tr(
                    "Appliquer même si plus d'agents que le seuil partiraient.",
                    "Apply even when more agents than the threshold would leave.",
                ),
            ),
        ] = False,
    ) -> None:
        """Met l'annuaire à jour depuis LDAP / Active Directory ([directory.ldap]). / Update the
        directory from LDAP / Active Directory."""
        from loyaute.policy.directory_sync import sync  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            report = sync(ws, acting(ws), confirm=confirm)
        changes = report.changes
        fields: dict[str, int] = {}
        for changed in changes.changed.values():
            for name in changed:
                fields[name] = fields.get(name, 0) + 1
        detail = ", ".join(f"{k} {v}" for k, v in sorted(fields.items()))
        print_table(
            tr("Synchronisation de l'annuaire", "Directory sync"),
            [tr("quoi", "what"), tr("agents", "agents")],
            [
                [tr("lus sur le serveur", "read from the server"), str(report.read)],
                [tr("ajoutés", "added"), str(len(changes.added))],
                [
                    tr("modifiés", "changed") + (f" ({detail})" if detail else ""),
                    str(len(changes.changed)),
                ],
                [tr("partis (données gardées)", "gone (data kept)"), str(len(changes.gone))],
                [tr("entrées ignorées", "entries skipped"), str(len(report.skipped))],
            ],
        )
        for line in report.skipped[:20]:
            err.print(f"[yellow]{escape(line)}[/]")
        if report.unresolved_managers:
            err.print(
                tr(
                    f"[yellow]{report.unresolved_managers} responsable(s) hors du filtre : "
                    "manager_id laissé vide[/]",
                    f"[yellow]{report.unresolved_managers} manager(s) outside the filter: "
                    "manager_id left empty[/]",
                )
            )
        out.print(
            tr("Annuaire à jour.", "Directory updated.")
            if report.applied
            else tr("Aucun changement.", "No change.")
        )

    @schedule_app.command("import")
    @handle_errors
    def schedule_import_command(
        files: Annotated[
            list[Path], typer.Argument(help=tr("Exports CSV du planning.", "Schedule CSV exports."))
        ],
    ) -> None:
        """Charge le planning (mise à jour par agent, date, demi-journée). / Load schedule rows
        (upsert)."""
        from loyaute.ingest.pipeline import rescope  # noqa: PLC0415 - lazy
        from loyaute.schedule import import_schedule  # noqa: PLC0415
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws, ws.lock.hold("schedule import"):
            who = acting(ws)
            report = import_schedule(ws.db, files, ws.settings.schedule)
            rescoped = rescope(ws, report.days, who=who)
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(report.kinds.items()))
        out.print(
            tr(
                f"{report.rows} lignes, {report.half_days} demi-journées ({kinds}).",
                f"{report.rows} rows, {report.half_days} half-days ({kinds}).",
            )
        )
        if report.repeated:
            out.print(
                tr(
                    f"{report.repeated} demi-journée(s) donnée(s) plus d'une fois : à "
                    "l'identique dans un fichier, ou remplacée(s) par un fichier suivant.",
                    f"{report.repeated} half-day(s) given more than once: identically in one "
                    "file, or replaced by a later file.",
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
                    f"[yellow]Codes inconnus, traités comme hors champ : {escape(codes)} — les "
                    "ajouter à \\[schedule.codes][/]",
                    f"[yellow]Unknown codes, treated as out of scope: {escape(codes)} — add them "
                    "to \\[schedule.codes][/]",
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
        from loyaute.policy.notices import record_notices  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        day = parse_date(on)
        if all_agents == bool(agent):
            raise UsageError(tr("préciser --all ou --agent ID…", "give --all or --agent ID…"))
        with Workspace.open(state.home) as ws, ws.lock.hold("notice record"):
            count = record_notices(ws, acting(ws), day, None if all_agents else list(agent or []))
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
        from loyaute.policy import gates as gates_mod  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            fingerprint = gates_mod.fingerprint(ws.settings, ws.register)
            if fingerprint_only:
                typer.echo(fingerprint)
                return
            gates = gates_mod.status(ws)
        print_table(
            tr("Garde-fous", "Gates"),
            ["ID", tr("garde-fou", "gate"), tr("état", "state"), tr("motif", "reason")],
            [
                [g.id, g.title, "OK" if g.ok else tr("bloquant", "blocking"), g.reason]
                for g in gates
            ],
        )
        out.print(tr("Empreinte de configuration : ", "Configuration fingerprint: ") + fingerprint)
        if not all(g.ok for g in gates):
            raise typer.Exit(EXIT_REFUSED)

    @app.command("purge")
    @handle_errors
    def purge_command(
        dry_run: Annotated[
            bool,
            typer.Option("--dry-run", help=tr("Montrer sans supprimer.", "Show without removing.")),
        ] = False,
    ) -> None:
        """Applique les durées de conservation maintenant. / Apply retention now."""
        from loyaute.policy.retention import purge  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            report = purge(ws, dry_run=dry_run, who=acting(ws), per_agent_t0=True)
        if not report.removed:
            out.print(tr("Rien à supprimer.", "Nothing to remove."))
        for rule, count in sorted(report.removed.items()):
            verb = tr("à supprimer", "to remove") if dry_run else tr("supprimé(s)", "removed")
            out.print(f"{rule}: {count} {verb}")

    @app.command("docs")
    @handle_errors
    def docs_command(
        kind: Annotated[str, typer.Argument(help="register | dpia | notice")],
        out_file: Annotated[Path, typer.Option("--out", help=".md, .html, .pdf")],
        lang: Annotated[str, typer.Option("--lang", help="fr | en")] = "fr",
    ) -> None:
        """Documents de conformité générés depuis la configuration. / Compliance documents."""
        from loyaute.policy.documents import write_document  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        if lang not in ("fr", "en"):
            raise UsageError("--lang fr | en")
        with Workspace.open(state.home) as ws:
            path = write_document(ws, kind, out_file, lang)
        out.print(str(path))
