"""``loyaute collect``: the long-running intake (syslog and followed files), in the foreground."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from loyaute.cli.auth import acting
from loyaute.cli.output import err, escape, handle_errors, state
from loyaute.i18n import tr


def register(app: typer.Typer) -> None:
    """Add ``collect`` to the app."""

    @app.command("collect")
    @handle_errors
    def collect_command(
        tcp: Annotated[
            str | None,
            typer.Option(
                "--tcp",
                metavar="HOST:PORT",
                help=tr(
                    "Syslog TCP (RFC 6587, comptage d'octets ou fin de ligne).",
                    "Syslog over TCP (RFC 6587, octet counting or newline framing).",
                ),
            ),
        ] = None,
        udp: Annotated[
            str | None,
            typer.Option("--udp", metavar="HOST:PORT", help=tr("Syslog UDP.", "Syslog over UDP.")),
        ] = None,
        tls: Annotated[
            str | None,
            typer.Option(
                "--tls",
                metavar="HOST:PORT",
                help=tr("Syslog TLS (RFC 5425).", "Syslog over TLS (RFC 5425)."),
            ),
        ] = None,
        cert: Annotated[
            Path | None,
            typer.Option("--cert", help=tr("Certificat TLS (PEM).", "TLS certificate (PEM).")),
        ] = None,
        key: Annotated[
            Path | None,
            typer.Option("--key", help=tr("Clé TLS (PEM).", "TLS private key (PEM).")),
        ] = None,
        relp: Annotated[
            str | None,
            typer.Option(
                "--relp",
                metavar="HOST:PORT",
                help=tr(
                    "RELP (omrelp de rsyslog) : accusé de réception après enregistrement.",
                    "RELP (rsyslog's omrelp): acknowledged once committed.",
                ),
            ),
        ] = None,
        follow: Annotated[
            list[str] | None,
            typer.Option(
                "--follow",
                metavar="PATH",
                help=tr(
                    "Fichier (ou motif glob) suivi au fil de l'eau, rotations comprises.",
                    "File (or glob) followed as it grows, across rotations.",
                ),
            ),
        ] = None,
        format: Annotated[
            str | None,
            typer.Option(
                "--format", "-f", help=tr("Format (sinon détecté).", "Format (else detected).")
            ),
        ] = None,
        commit_every: Annotated[
            float | None,
            typer.Option(
                "--commit-every",
                metavar="SECONDS",
                help=tr("Secondes entre deux enregistrements.", "Seconds between commits."),
            ),
        ] = None,
        metrics: Annotated[
            str | None,
            typer.Option(
                "--metrics",
                metavar="HOST:PORT",
                help=tr(
                    "Métriques Prometheus (boucle locale), chemin /metrics.",
                    "Prometheus metrics (loopback), path /metrics.",
                ),
            ),
        ] = None,
    ) -> None:
        """Collecte continue : syslog (UDP, TCP, TLS, RELP) et fichiers suivis, réduits en
        mémoire et enregistrés comme par ingest, jusqu'à SIGTERM ou SIGINT. / Continuous intake:
        syslog (UDP, TCP, TLS, RELP) and followed files, reduced in memory and committed as
        ingest does, until SIGTERM or SIGINT."""
        from loyaute.ingest.collect import CollectOptions, collect  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        def ready(listeners: list[str]) -> None:
            sys.stdout.write(
                tr("loyaute collect : prêt à recevoir — ", "loyaute collect: ready to receive — ")
                + " · ".join(listeners)
                + "\n"
            )
            sys.stdout.flush()

        def warn(text: str) -> None:
            err.print(f"[yellow]{escape(text)}[/]")

        with Workspace.open(state.home) as ws:
            options = CollectOptions.from_settings(
                ws.settings.collect,
                tcp=tcp,
                udp=udp,
                tls=tls,
                relp=relp,
                cert=cert,
                key=key,
                follow=follow,
                format=format,
                commit_every=commit_every,
                metrics=metrics,
            )
            summary = collect(ws, options, acting(ws), ready=ready, on_warning=warn)
        c = summary.counters
        err.print(
            tr(
                f"loyaute collect : arrêté — {sum(c.lines.values())} lignes, {c.events} traces, "
                f"{c.commits} enregistrement(s)",
                f"loyaute collect: stopped — {sum(c.lines.values())} lines, {c.events} events, "
                f"{c.commits} commit(s)",
            )
        )
