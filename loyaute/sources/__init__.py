"""Sources: one module per log format, one shared contract (``base.py``).

``build_sources`` makes the sources a configuration describes, keyed by their ``--format`` name;
``detect`` picks the one that recognises a file's first lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from loyaute.errors import UnknownFormatError
from loyaute.sources.base import Source
from loyaute.sources.exchange_httpproxy import ExchangeHttpProxySource
from loyaute.sources.exchange_iis import ExchangeIisSource
from loyaute.sources.fortigate import FortiGateSource
from loyaute.sources.generic import AUTHENTIC2, Mapping, authentic2_source, make_generic
from loyaute.sources.proxy import AppMapping, ProxySource

if TYPE_CHECKING:  # a worker process unpickling a source never loads the configuration
    from loyaute.config import GenericSource as GenericSettings
    from loyaute.config import Settings

MIN_SCORE = 50
"""Below this score a file is not recognised and ``--format`` must be given."""


def mapping_of(settings: GenericSettings, zone: str = "Europe/Paris") -> Mapping:
    """The mapping a ``[[sources.generic]]`` entry describes (on top of its preset); naive times
    are read in ``zone`` (the organisation's) unless the entry names another."""
    base = replace(AUTHENTIC2 if settings.preset == "authentic2" else Mapping(), timezone=zone)
    given = settings.model_fields_set
    changes: dict[str, object] = {}
    for name in (
        "format",
        "delimiter",
        "timestamp",
        "timestamp_format",
        "timezone",
        "login",
        "category",
        "app",
        "app_column",
        "event_column",
    ):
        if name in given or not settings.preset:
            changes[name] = getattr(settings, name)
    for name in ("interactive_events", "ignored_events"):
        if name in given or not settings.preset:
            changes[name] = frozenset(getattr(settings, name))
    if not changes.get("timezone"):
        changes["timezone"] = zone
    return replace(base, **changes)  # type: ignore[arg-type]


def build_sources(settings: Settings) -> dict[str, Source]:
    """Every source available under this configuration, by format name."""
    device_zone = ZoneInfo(settings.sources.fortigate.device_timezone or settings.timezone)
    exchange = settings.sources.exchange
    sources: list[Source] = [
        FortiGateSource(device_zone=device_zone),
        ExchangeIisSource(backend_ports=frozenset(str(p).encode() for p in exchange.backend_ports)),
        ExchangeHttpProxySource(),
        ProxySource(
            apps=tuple(
                AppMapping(a.name, tuple(h.lower() for h in a.hosts), tuple(a.paths))
                for a in settings.apps
            ),
            default_host=settings.sources.proxy.default_host,
            monitoring_user_agents=tuple(settings.sources.proxy.monitoring_user_agents),
            monitoring_logins=frozenset(settings.sources.proxy.monitoring_logins),
        ),
        make_generic(
            "authentic2",
            replace(AUTHENTIC2, timezone=settings.timezone),
            authentic2_source().description,
        ),
        make_generic("csv", Mapping(format="csv", timezone=settings.timezone)),
        make_generic("jsonl", Mapping(format="jsonl", timezone=settings.timezone)),
    ]
    sources.extend(
        make_generic(g.name, mapping_of(g, settings.timezone)) for g in settings.sources.generic
    )
    return {s.name: s for s in sources}


def detect(head: Sequence[bytes], sources: dict[str, Source]) -> Source:
    """The source most sure of these first lines; ``UnknownFormatError`` when none is."""
    scored = sorted(((s.sniff(head), s.name) for s in sources.values()), reverse=True)
    if not scored or scored[0][0] < MIN_SCORE:
        raise UnknownFormatError(
            "format non reconnu / unrecognised format",
            hint="indiquer --format parmi / give --format among: " + ", ".join(sorted(sources)),
        )
    return sources[scored[0][1]]


__all__ = ["MIN_SCORE", "Source", "build_sources", "detect", "mapping_of"]
