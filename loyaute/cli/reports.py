"""Aggregate reports: ``report presence`` and ``report validity`` (E2, E3)."""

from __future__ import annotations

from typing import Annotated

import typer

from loyaute.cli.auth import acting
from loyaute.cli.output import day_option, emit, handle_errors, state
from loyaute.errors import UsageError
from loyaute.i18n import tr

FormatOption = Annotated[str, typer.Option("--format", help="table | csv | json")]
FromOption = Annotated[str | None, typer.Option("--from", help="AAAA-MM-JJ")]
ToOption = Annotated[str | None, typer.Option("--to", help="AAAA-MM-JJ")]


def register(app: typer.Typer) -> None:
    """Add ``report`` to the app."""
    report_app = typer.Typer(
        help=tr("Rapports agrégés.", "Aggregate reports."), no_args_is_help=True
    )
    app.add_typer(report_app, name="report")

    @report_app.command("presence")
    @handle_errors
    def report_presence_command(
        day_from: FromOption = None,
        day_to: ToOption = None,
        by: Annotated[str, typer.Option("--by", help="service | job_family")] = "service",
        period: Annotated[str | None, typer.Option("--period", help="week | month")] = None,
        fmt: FormatOption = "table",
    ) -> None:
        """Demi-journées de télétravail avec et sans trace numérique, agrégées et protégées (E2,
        E3). / Telework half-days with and without a digital trace, aggregated and protected."""
        from loyaute.reports.presence import PRESENCE_COLUMNS  # noqa: PLC0415 - lazy
        from loyaute.reports.runner import run_presence  # noqa: PLC0415
        from loyaute.workspace import Workspace  # noqa: PLC0415

        if by not in ("service", "job_family") or period not in (None, "week", "month"):
            raise UsageError(
                tr(
                    "--by service|job_family, --period week|month",
                    "--by service|job_family, --period week|month",
                )
            )
        with Workspace.open(state.home) as ws:
            report = run_presence(
                ws, acting(ws), by, period, day_option(day_from), day_option(day_to)
            )
        emit(
            report.rows,
            PRESENCE_COLUMNS,
            fmt,
            report.parameters,
            tr(
                "Traces numériques en télétravail (agrégats)",
                "Digital traces in telework (aggregates)",
            ),
        )

    @report_app.command("validity")
    @handle_errors
    def report_validity_command(
        day_from: FromOption = None, day_to: ToOption = None, fmt: FormatOption = "table"
    ) -> None:
        """Étude de validité par famille de métiers. / Validity study by job family."""
        from loyaute.reports.runner import run_validity  # noqa: PLC0415 - lazy
        from loyaute.reports.validity import VALIDITY_COLUMNS  # noqa: PLC0415
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            report = run_validity(ws, acting(ws), day_option(day_from), day_option(day_to))
        emit(
            report.rows,
            VALIDITY_COLUMNS,
            fmt,
            report.parameters,
            tr("Étude de validité", "Validity study"),
        )

    @report_app.command("audit")
    @handle_errors
    def report_audit_command(fmt: FormatOption = "table") -> None:
        """Protection atteinte par les agrégats publiés (E3, E7) : cellules masquées et pourquoi,
        intervalle le plus étroit laissé sur un petit groupe. / Protection reached by the
        published aggregates: withheld cells and why, the narrowest interval left about a small
        group."""
        from loyaute.reports.disclosure_audit import AUDIT_COLUMNS  # noqa: PLC0415 - lazy
        from loyaute.reports.runner import run_audit  # noqa: PLC0415
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            report = run_audit(ws, acting(ws))
        emit(
            report.rows,
            AUDIT_COLUMNS,
            fmt,
            report.parameters,
            tr("Protection des agrégats publiés", "Protection of the published aggregates"),
        )
