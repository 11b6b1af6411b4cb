"""Commands that show or change individual data — review cases, the agent's side, statements,
rights, the access export — and the audit log. Each acts as the signed-in account (rule E9):
without a session or a personal token they exit 77."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from loyaute.cli.auth import signed_in
from loyaute.cli.output import (
    HELP_MARKUP,
    emit,
    err,
    handle_errors,
    out,
    parse_date,
    print_table,
    state,
)
from loyaute.errors import EXIT_REFUSED
from loyaute.i18n import tr

FormatOption = Annotated[str, typer.Option("--format", help="table | csv | json")]
DateOption = Annotated[str, typer.Option("--date", help="AAAA-MM-JJ")]
HalfOption = Annotated[str, typer.Option("--half", help="AM | PM")]
OwnAgentOption = Annotated[
    str | None,
    typer.Option(
        "--agent",
        help=tr(
            "Son propre identifiant d'agent (par défaut celui du compte).",
            "One's own agent id (default: the account's).",
        ),
    ),
]


def register(app: typer.Typer) -> None:
    """Add the review, rights, statement and audit commands to the app."""
    case_app = typer.Typer(
        rich_markup_mode=HELP_MARKUP,
        help=tr("Dossiers d'examen individuels (D5).", "Individual review cases (D5)."),
        no_args_is_help=True,
    )
    dispute_app = typer.Typer(
        rich_markup_mode=HELP_MARKUP,
        help=tr("Contestations (D4).", "Disputes (D4)."),
        no_args_is_help=True,
    )
    rights_app = typer.Typer(
        rich_markup_mode=HELP_MARKUP,
        help=tr("Droits des agents (G1, G3).", "Agents' rights (G1, G3)."),
        no_args_is_help=True,
    )
    statement_app = typer.Typer(
        rich_markup_mode=HELP_MARKUP,
        help=tr("Relevés mensuels de déclarations.", "Monthly statements of declarations."),
        no_args_is_help=True,
    )
    audit_app = typer.Typer(
        rich_markup_mode=HELP_MARKUP,
        help=tr("Journal des accès.", "Access log."),
        no_args_is_help=True,
    )
    app.add_typer(case_app, name="case")
    app.add_typer(dispute_app, name="dispute")
    app.add_typer(rights_app, name="rights")
    app.add_typer(statement_app, name="statement")
    app.add_typer(audit_app, name="audit")

    # --- review cases -----------------------------------------------------------------------------

    @case_app.command("open")
    @handle_errors
    def case_open_command(
        agent: Annotated[str, typer.Option("--agent", help="ID")],
        reviewer: Annotated[
            str,
            typer.Option(
                "--reviewer", help=tr("Compte du relecteur RH.", "The HR reviewer's account.")
            ),
        ],
        reason: Annotated[str, typer.Option("--reason")],
        day_from: Annotated[str, typer.Option("--from", help="AAAA-MM-JJ")],
        day_to: Annotated[str, typer.Option("--to", help="AAAA-MM-JJ")],
    ) -> None:
        """Ouvre un dossier d'examen ; imprime son numéro seul sur la dernière ligne. / Open a
        case; print its number alone on the last line."""
        from loyaute.policy.cases import open_case  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            number = open_case(
                ws,
                signed_in(ws),
                agent,
                reviewer,
                reason,
                parse_date(day_from),
                parse_date(day_to),
            )
        out.print(
            tr("Dossier ouvert ; l'agent est informé.", "Case opened; the agent is notified.")
        )
        typer.echo(number)

    @case_app.command("show")
    @handle_errors
    def case_show_command(
        number: Annotated[int, typer.Argument()], fmt: FormatOption = "table"
    ) -> None:
        """Le relecteur du dossier voit la période, ré-identifiée (E4) : demi-journées de
        télétravail seulement (E8). / The case's reviewer sees its period (telework only)."""
        from loyaute import labels  # noqa: PLC0415 - lazy
        from loyaute.policy.agent_data import RECORD_COLUMNS  # noqa: PLC0415
        from loyaute.policy.cases import NO_PROOF, show_case  # noqa: PLC0415
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            view = show_case(ws, signed_in(ws), number)
        rows = [{"agent_id": view.agent.agent_id, **r.as_dict()} for r in view.records]
        params = {
            tr("dossier", "case"): number,
            "agent": f"{view.agent.display_name} ({view.agent.agent_id})",
            tr("motif", "reason"): view.case.reason,
            tr("période", "period"): labels.span(view.case.day_from, view.case.day_to),
            tr("réponse de l'agent attendue jusqu'au", "agent may answer until"): labels.day(
                view.case.answer_due
            ),
            tr("réponses de l'agent", "agent's answers"): " | ".join(a.text for a in view.answers),
            "statement": tr(*NO_PROOF),
        }
        emit(
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
        text: Annotated[str, typer.Option("--text")],
    ) -> None:
        """L'agent répond avant toute décision (D5). / The agent answers before any decision."""
        from loyaute.policy.cases import answer_case  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            answer_case(ws, signed_in(ws), number, text)
        out.print(tr("Réponse enregistrée.", "Answer recorded."))

    @case_app.command("close")
    @handle_errors
    def case_close_command(
        number: Annotated[int, typer.Argument()],
        outcome: Annotated[
            str,
            typer.Option("--outcome", help=tr("La décision écrite.", "The written decision.")),
        ],
    ) -> None:
        """Décision humaine écrite, avec son dossier de preuves, après la réponse de l'agent ou
        la fin de son délai (D5, D6). / A written human decision with its evidence."""
        from loyaute.policy.cases import close_case  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            close_case(ws, signed_in(ws), number, outcome)
        out.print(
            tr(
                "Dossier clos ; l'agent est informé de la décision et peut exporter le dossier.",
                "Case closed; the agent is told of the decision and may export the file.",
            )
        )

    @case_app.command("export")
    @handle_errors
    def case_export_command(
        number: Annotated[int, typer.Argument()],
        out_dir: Annotated[Path, typer.Option("--out")],
    ) -> None:
        """L'agent exporte son dossier (D6). / The agent exports their case file (D6)."""
        from loyaute.policy.cases import export_case  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            path = export_case(ws, signed_in(ws), number, out_dir)
        out.print(str(path))

    # --- the agent's side -------------------------------------------------------------------------

    @app.command("declare")
    @handle_errors
    def declare_command(
        day: DateOption,
        half: HalfOption,
        kind: Annotated[
            str,
            typer.Option("--kind", help="system | phone | home_visit | meeting | field | other"),
        ],
        note: Annotated[str, typer.Option("--note")] = "",
        agent: OwnAgentOption = None,
    ) -> None:
        """L'agent déclare une demi-journée de télétravail (D2). / The agent declares a
        half-day."""
        from loyaute.policy.rights import declare  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            declare(ws, signed_in(ws), parse_date(day), half.upper(), kind, note, agent)
        out.print(tr("Déclaration enregistrée.", "Declaration recorded."))

    @app.command("annotate")
    @handle_errors
    def annotate_command(
        day: DateOption,
        half: HalfOption,
        text: Annotated[str, typer.Option("--text")],
        agent: OwnAgentOption = None,
    ) -> None:
        """L'agent annote une demi-journée (D3). / The agent annotates a half-day (D3)."""
        from loyaute.policy.rights import annotate  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            annotate(ws, signed_in(ws), parse_date(day), half.upper(), text, agent)
        out.print(tr("Annotation enregistrée.", "Annotation recorded."))

    @dispute_app.command("open")
    @handle_errors
    def dispute_open_command(
        day: DateOption,
        half: HalfOption,
        reason: Annotated[str, typer.Option("--reason")],
        agent: OwnAgentOption = None,
    ) -> None:
        """L'agent conteste un enregistrement, qui est gelé (D4). / Contest a record; it is
        frozen."""
        from loyaute.policy.rights import open_dispute  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            number = open_dispute(ws, signed_in(ws), parse_date(day), half.upper(), reason, agent)
        out.print(
            tr(
                "Contestation enregistrée, enregistrement gelé :",
                "Dispute recorded, record frozen:",
            )
        )
        typer.echo(number)

    @dispute_app.command("resolve")
    @handle_errors
    def dispute_resolve_command(
        number: Annotated[int, typer.Argument()],
        resolution: Annotated[str, typer.Option("--resolution")],
    ) -> None:
        """Un relecteur RH ou le DPO résout une contestation (D4). / An HR reviewer or the DPO
        resolves a dispute."""
        from loyaute.policy.rights import resolve_dispute  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            resolve_dispute(ws, signed_in(ws), number, resolution)
        out.print(tr("Contestation résolue.", "Dispute resolved."))

    # --- statements -------------------------------------------------------------------------------

    @statement_app.command("show")
    @handle_errors
    def statement_show_command(
        month: Annotated[str, typer.Option("--month", help="AAAA-MM")],
        fmt: FormatOption = "table",
    ) -> None:
        """Le responsable affiche le relevé mensuel des déclarations (D2). / Show a statement."""
        from loyaute import labels  # noqa: PLC0415 - lazy
        from loyaute.policy.rights import show_statement  # noqa: PLC0415
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            statement = show_statement(ws, signed_in(ws), month)
        emit(
            [line.__dict__ for line in statement.lines],
            ("agent_id", "display_name", "telework_half_days", "declared"),
            fmt,
            {
                tr("validé le", "validated on"): statement.validated_at or tr("non", "no"),
                tr("mois clos", "month closed"): statement.closed,
            },
            tr(f"Relevé de {labels.month(month)}", f"Statement for {labels.month(month)}"),
        )

    @statement_app.command("validate")
    @handle_errors
    def statement_validate_command(
        month: Annotated[str, typer.Option("--month", help="AAAA-MM")],
    ) -> None:
        """Le responsable valide le relevé d'un mois clos (D2). / Validate a closed month."""
        from loyaute.policy.rights import validate_statement  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            at = validate_statement(ws, signed_in(ws), month)
        out.print(tr(f"Relevé {month} validé ({at}).", f"Statement {month} validated ({at})."))

    # --- rights -----------------------------------------------------------------------------------

    @app.command("access-export")
    @handle_errors
    def access_export_command(
        agent_id: Annotated[str, typer.Argument(help="ID")],
        out_dir: Annotated[
            Path, typer.Option("--out", help=tr("Dossier de sortie.", "Output folder."))
        ],
    ) -> None:
        """Export complet pour l'agent (droit d'accès, G2) : par le DPO, ou l'agent lui-même. /
        The agent's full access export (G2): by the DPO, or the agent themself."""
        from loyaute.policy.retention import purge  # noqa: PLC0415 - lazy
        from loyaute.reports.access_export import write_export  # noqa: PLC0415
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            who = signed_in(ws)
            purge(ws)
            result = write_export(ws, who, agent_id, out_dir)
        out.print(
            tr(
                f"Export écrit dans {result.out} : {result.records} demi-journées, "
                f"{result.viewers} accès.",
                f"Export written to {result.out}: {result.records} half-days, "
                f"{result.viewers} accesses.",
            )
        )

    @rights_app.command("request")
    @handle_errors
    def rights_request_command(
        agent: Annotated[str, typer.Option("--agent", help="ID")],
        on: Annotated[str | None, typer.Option("--on", help="AAAA-MM-JJ")] = None,
    ) -> None:
        """Le DPO enregistre une demande d'accès (délai d'un mois, G1). / Record an access
        request (G1)."""
        from loyaute.policy.rights import record_access_request  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            number = record_access_request(
                ws, signed_in(ws), agent, parse_date(on) if on else ws.today()
            )
        typer.echo(number)

    @rights_app.command("extend")
    @handle_errors
    def rights_extend_command(
        number: Annotated[int, typer.Argument()],
        reason: Annotated[str, typer.Option("--reason")],
    ) -> None:
        """Prolongation motivée de deux mois (art. 12(3)). / Reasoned two-month extension."""
        from loyaute.policy.rights import extend_access_request  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            extend_access_request(ws, signed_in(ws), number, reason)
        out.print(tr("Prolongation enregistrée.", "Extension recorded."))

    @rights_app.command("list")
    @handle_errors
    def rights_list_command() -> None:
        """Demandes d'accès et leur échéance. / Access requests and their deadlines."""
        from loyaute.policy.rights import access_request_clocks  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            rows = [c.__dict__ for c in access_request_clocks(ws, signed_in(ws))]
        emit(
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

    @rights_app.command("objections")
    @handle_errors
    def rights_objections_command() -> None:
        """Oppositions qui attendent la décision du DPO (G3). / Objections waiting for the DPO's
        decision."""
        from loyaute.policy.rights import pending_objections  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            rows = [o.__dict__ for o in pending_objections(ws, signed_in(ws))]
        emit(
            rows,
            ("id", "agent_id", "since", "reason"),
            "table",
            {},
            tr("Oppositions en attente de décision", "Objections waiting for a decision"),
        )

    @rights_app.command("object")
    @handle_errors
    def rights_object_command(
        reason: Annotated[str, typer.Option("--reason")],
        agent: OwnAgentOption = None,
    ) -> None:
        """Opposition de l'agent : son traitement s'arrête (G3). / Objection: processing
        stops."""
        from loyaute.policy.rights import object_to_processing  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            typer.echo(object_to_processing(ws, signed_in(ws), reason, agent))

    @rights_app.command("decide")
    @handle_errors
    def rights_decide_command(
        number: Annotated[int, typer.Argument()],
        decision: Annotated[str, typer.Option("--decision", help="upheld | rejected")],
        reason: Annotated[str, typer.Option("--reason")],
    ) -> None:
        """Décision motivée du DPO sur une opposition (G3). / Reasoned decision on an
        objection."""
        from loyaute.policy.rights import decide_objection  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            decide_objection(ws, signed_in(ws), number, decision, reason)
        out.print(tr("Décision enregistrée.", "Decision recorded."))

    # --- the audit log ----------------------------------------------------------------------------

    @audit_app.command("show")
    @handle_errors
    def audit_show_command(
        agent: Annotated[str | None, typer.Option("--agent", help="ID")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    ) -> None:
        """Affiche le journal des accès (DPO ; la lecture est elle-même journalisée). / Show
        the access log (DPO; the read is itself audited)."""
        from loyaute.policy.oversight import read_audit  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            entries = read_audit(ws, signed_in(ws), agent)
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
        print_table(
            tr("Journal des accès", "Access log"),
            [
                "#",
                tr("quand", "at"),
                tr("qui", "actor"),
                tr("rôle", "role"),
                "action",
                "agent",
                tr("motif", "reason"),
            ],
            [[str(e.seq), e.at, e.actor, e.role, e.action, e.agent_id, e.reason] for e in entries],
        )

    @audit_app.command("verify")
    @handle_errors
    def audit_verify_command() -> None:
        """Vérifie la chaîne de hachage. / Verify the hash chain."""
        from loyaute.policy.oversight import verify_audit  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            found = verify_audit(ws, signed_in(ws))
            outside = ws.audit.checkpoints.configured
        if found.broken is not None:
            err.print(
                tr(
                    f"[red]Journal altéré : première entrée rompue n° {found.broken} "
                    f"({found.reason})[/]",
                    f"[red]Log tampered with: first broken entry #{found.broken} "
                    f"({found.reason})[/]",
                )
            )
            raise typer.Exit(EXIT_REFUSED)
        out.print(
            tr(
                f"Chaîne intacte : {found.checked} entrées vérifiées, "
                f"{found.checkpoints} point(s) de contrôle externe(s) concordant(s).",
                f"Chain intact: {found.checked} entries verified, "
                f"{found.checkpoints} outside checkpoint(s) in agreement.",
            )
        )
        if not outside:
            err.print(
                tr(
                    "[yellow]Aucun point de contrôle hors de l'espace de travail n'est configuré "
                    "([audit] checkpoint_file ou checkpoint_syslog) : une réécriture par qui "
                    "détient la clé ne serait pas détectée (H4).[/]",
                    "[yellow]No checkpoint outside the workspace is configured ([audit] "
                    "checkpoint_file or checkpoint_syslog): a rewrite by whoever holds the key "
                    "would go unnoticed (H4).[/]",
                )
            )

    @audit_app.command("alerts")
    @handle_errors
    def audit_alerts_command() -> None:
        """Alertes au DPO (H2). / DPO alerts (H2)."""
        from loyaute.policy.oversight import alerts  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            rows = [a.__dict__ for a in alerts(ws, signed_in(ws))]
        emit(rows, ("id", "at", "kind", "actor", "detail"), "table", {}, tr("Alertes", "Alerts"))
