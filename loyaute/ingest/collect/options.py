"""The collector's options: ``[collect]`` in loyaute.toml with the command line laid over it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from loyaute.config import CollectSettings, parse_endpoint
from loyaute.errors import UsageError
from loyaute.i18n import tr


@dataclass(frozen=True)
class Endpoint:
    """A listening address."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        """``HOST:PORT``."""
        try:
            host, port = parse_endpoint(text)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        return cls(host, port)

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class CollectOptions:
    """The collector's settings once the command line is laid over ``[collect]``."""

    tcp: Endpoint | None = None
    udp: Endpoint | None = None
    tls: Endpoint | None = None
    relp: Endpoint | None = None
    cert: Path | None = None
    key: Path | None = None
    client_ca: Path | None = None
    follow: tuple[str, ...] = ()
    format: str | None = None
    commit_every_seconds: float = 5.0
    metrics: Endpoint | None = None
    follow_poll_seconds: float = 0.5
    rotation_grace_seconds: float = 10.0
    udp_receive_buffer_bytes: int = 8 << 20
    drain_seconds: float = 2.0

    @classmethod
    def from_settings(
        cls,
        s: CollectSettings,
        *,
        tcp: str | None = None,
        udp: str | None = None,
        tls: str | None = None,
        relp: str | None = None,
        cert: Path | None = None,
        key: Path | None = None,
        follow: list[str] | None = None,
        format: str | None = None,
        commit_every: float | None = None,
        metrics: str | None = None,
    ) -> CollectOptions:
        """``[collect]``, with each option given on the command line in place of its setting."""

        def endpoint(given: str | None, setting: str) -> Endpoint | None:
            text = given if given is not None else setting
            return Endpoint.parse(text) if text else None

        def path(given: Path | None, setting: str) -> Path | None:
            return given if given is not None else Path(setting) if setting else None

        options = cls(
            tcp=endpoint(tcp, s.tcp),
            udp=endpoint(udp, s.udp),
            tls=endpoint(tls, s.tls),
            relp=endpoint(relp, s.relp),
            cert=path(cert, s.tls_cert_file),
            key=path(key, s.tls_key_file),
            client_ca=path(None, s.tls_client_ca_file),
            # absolute, so that the offsets recorded for a path mean the same from any folder
            follow=tuple(os.path.abspath(p) for p in (follow or s.follow)),
            format=(format if format is not None else s.format) or None,
            commit_every_seconds=commit_every
            if commit_every is not None
            else s.commit_every_seconds,
            metrics=endpoint(metrics, s.metrics),
            follow_poll_seconds=s.follow_poll_seconds,
            rotation_grace_seconds=s.rotation_grace_seconds,
            udp_receive_buffer_bytes=s.udp_receive_buffer_bytes,
            drain_seconds=s.drain_seconds,
        )
        options.check()
        return options

    def check(self) -> None:
        """Refuse a command line that cannot work, before anything starts."""
        if not (self.tcp or self.udp or self.tls or self.relp or self.follow):
            raise UsageError(
                tr(
                    "rien à collecter : indiquer --tcp, --udp, --tls, --relp ou --follow "
                    "(ou [collect] dans loyaute.toml)",
                    "nothing to collect: give --tcp, --udp, --tls, --relp or --follow "
                    "(or [collect] in loyaute.toml)",
                )
            )
        if self.tls and not (self.cert and self.key):
            raise UsageError(tr("--tls demande --cert et --key", "--tls needs --cert and --key"))
        if not 0.1 <= self.commit_every_seconds <= 3600:
            raise UsageError("--commit-every : 0.1 … 3600")
        if self.metrics and self.metrics.host not in ("127.0.0.1", "::1", "localhost"):
            raise UsageError(tr("--metrics : boucle locale seulement", "--metrics: loopback only"))


def hostport(host: str, port: int) -> str:
    """``host:port``, IPv6 in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
