"""The web app and the demo: ``serve`` and ``demo``."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from loyaute.cli.output import escape, handle_errors, out, progress, state
from loyaute.i18n import tr


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


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``demo`` to the app."""

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
        from loyaute.workspace import Workspace  # noqa: PLC0415 - lazy

        Workspace.open(state.home).close()
        _serve(host, port, workers)

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
            typer.Option(
                "--weeks", min=1, max=26, help=tr("Semaines de journaux.", "Weeks of logs.")
            ),
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
        from loyaute.demo.runner import run_demo  # noqa: PLC0415

        with progress(tr("génération et ingestion", "generating and ingesting")) as tick:
            summary = run_demo(state.home, agents=agents, weeks=weeks, seed=seed, on_progress=tick)
        for line in summary.lines():
            out.print(escape(line))
        if serve:
            _serve(host, port)
