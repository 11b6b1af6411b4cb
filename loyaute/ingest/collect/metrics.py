"""The collector's health and counters: what came in, what it became, what was set aside and
why, what was committed — never a login, an address or a time finer than the commit (E5).

``Counters`` is kept by the running collector; ``status_json`` is the snapshot it writes to the
state database at every commit (the operator's page reads it there), and ``prometheus_text`` the
same figures in the Prometheus text format for the loopback endpoint.
"""

from __future__ import annotations

import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRANSPORTS = ("udp", "tcp", "tls", "relp", "file")

COLLECTOR_REASON_TEXT: dict[str, tuple[str, str]] = {
    "rotated_file_missing": (
        "fichier suivi introuvable après rotation : sa fin non lue manque",
        "followed file not found after rotation: its unread end is missing",
    ),
    "tls_handshake_failed": (
        "connexion TLS refusée (poignée de main en échec : certificat, protocole, texte en clair)",
        "TLS connection refused (handshake failed: certificate, protocol, plain text)",
    ),
    "connection_reset": (
        "connexion coupée par l'émetteur",
        "connection reset by the sender",
    ),
    "truncated_without_copy": (
        "fichier tronqué (copytruncate) sans copie retrouvée : des lignes peuvent manquer",
        "file truncated (copytruncate) and no copy found: lines may be missing",
    ),
}


def skip_reason_text(code: str, lang: str = "fr") -> str:
    """Explain any reason the collector counts (a source's, a file's, a frame's, its own)."""
    from loyaute.ingest.collect.framing import FRAME_REASON_TEXT  # noqa: PLC0415 - cycle
    from loyaute.ingest.collect.intake import COLLECT_REASON_TEXT  # noqa: PLC0415
    from loyaute.ingest.reading import FILE_REASON_TEXT  # noqa: PLC0415
    from loyaute.sources.base import REASON_TEXT  # noqa: PLC0415

    tables: list[dict[Any, tuple[str, str]]] = [
        REASON_TEXT,
        FILE_REASON_TEXT,
        FRAME_REASON_TEXT,
        COLLECT_REASON_TEXT,
        COLLECTOR_REASON_TEXT,
    ]
    for table in tables:
        for key, (fr, en) in table.items():
            if str(key) == code or getattr(key, "value", None) == code:
                return en if lang == "en" else fr
    return code


@dataclass
class FollowedStatus:
    """One followed file as the operator sees it."""

    path: str
    format: str
    offset: int
    size: int
    state: str
    """``following``, ``draining`` (rotated away, read to its end), ``waiting`` (not there or
    empty yet) or ``refused: <reason>``."""


@dataclass
class Counters:
    """Everything the collector counts since it started."""

    started_at: str = ""
    started_monotonic: float = field(default_factory=time.monotonic)
    messages: Counter[str] = field(default_factory=Counter)
    """Syslog messages received, by transport."""
    bytes: Counter[str] = field(default_factory=Counter)
    """Bytes received, by transport (files: bytes read)."""
    lines: Counter[str] = field(default_factory=Counter)
    """Lines handed to a source, by transport."""
    events: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    """Lines (or frames) set aside, by reason code."""
    half_days: Counter[str] = field(default_factory=Counter)
    """Fate of the new half-day keys committed: ``kept``, ``pending``, ``unmatched_login``,
    ``dropped:<rule>``."""
    commits: int = 0
    commit_failures: int = 0
    last_commit_at: str = ""
    last_commit_seconds: float = 0.0
    connections_open: Counter[str] = field(default_factory=Counter)
    connections_total: Counter[str] = field(default_factory=Counter)
    udp_kernel_drops: int = 0
    """Datagrams the kernel dropped for the UDP socket (``/proc/net/udp`` ``drops``)."""
    relp_unacked: int = 0
    uncommitted_since: float | None = None
    """Monotonic time of the oldest line whose keys are not committed yet (None: nothing
    waits)."""
    follow: list[FollowedStatus] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lag_seconds(self, now: float | None = None) -> float:
        """How long the oldest uncommitted line has waited (0 when nothing waits)."""
        if self.uncommitted_since is None:
            return 0.0
        return max(0.0, (now if now is not None else time.monotonic()) - self.uncommitted_since)

    def warn(self, text: str, limit: int = 20) -> None:
        """Keep an operator warning (the latest ``limit``)."""
        self.warnings.append(text)
        del self.warnings[:-limit]


def without_data(exc: BaseException) -> str:
    """An unexpected error as it may be logged (rule F1): its type and where it happened — the
    frames' code, never its message or values, which could quote a line of a log."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    return f"{type(exc).__name__} at {where}" if where else type(exc).__name__


def status_json(
    counters: Counters,
    *,
    state: str,
    listeners: list[str],
    pid: int,
    updated_at: str,
    commit_every_seconds: float = 5.0,
) -> dict[str, Any]:
    """The snapshot the operator's page shows (JSON-ready)."""
    c = counters
    return {
        "state": state,
        "commit_every_seconds": commit_every_seconds,
        "pid": pid,
        "started_at": c.started_at,
        "updated_at": updated_at,
        "listeners": listeners,
        "messages": dict(c.messages),
        "bytes": dict(c.bytes),
        "lines": dict(c.lines),
        "events": c.events,
        "skipped": dict(c.skipped),
        "half_days": dict(c.half_days),
        "commits": c.commits,
        "commit_failures": c.commit_failures,
        "last_commit_at": c.last_commit_at,
        "last_commit_seconds": round(c.last_commit_seconds, 3),
        "lag_seconds": round(c.lag_seconds(), 3),
        "connections_open": dict(c.connections_open),
        "connections_total": dict(c.connections_total),
        "udp_kernel_drops": c.udp_kernel_drops,
        "relp_unacked": c.relp_unacked,
        "follow": [
            {
                "path": f.path,
                "format": f.format,
                "offset": f.offset,
                "size": f.size,
                "state": f.state,
            }
            for f in c.follow
        ],
        "warnings": list(c.warnings),
    }


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _series(
    out: list[str], name: str, kind: str, help_text: str, rows: list[tuple[dict[str, str], float]]
) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} {kind}")
    for labels, value in rows:
        text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        number = repr(float(value)) if isinstance(value, float) else str(value)
        out.append(f"{name}{{{text}}} {number}" if text else f"{name} {number}")


def prometheus_text(counters: Counters, now: float | None = None) -> str:
    """The counters in the Prometheus text exposition format (version 0.0.4)."""
    c = counters
    out: list[str] = []
    p = "loyaute_collect_"
    _series(out, p + "up", "gauge", "1 while the collector runs.", [({}, 1)])
    for name, help_text, values in (
        ("messages_total", "Syslog messages received, by transport.", c.messages),
        ("bytes_total", "Bytes received or read, by transport.", c.bytes),
        ("lines_total", "Lines handed to a source, by transport.", c.lines),
    ):
        _series(
            out,
            p + name,
            "counter",
            help_text,
            [({"transport": t}, values.get(t, 0)) for t in TRANSPORTS],
        )
    _series(out, p + "events_total", "counter", "Lines that were a trace event.", [({}, c.events)])
    _series(
        out,
        p + "skipped_total",
        "counter",
        "Lines or frames set aside, by reason.",
        [({"reason": r}, n) for r, n in sorted(c.skipped.items())],
    )
    _series(
        out,
        p + "half_days_total",
        "counter",
        "New half-day keys committed, by fate.",
        [({"fate": f}, n) for f, n in sorted(c.half_days.items())],
    )
    _series(out, p + "commits_total", "counter", "Store commits.", [({}, c.commits)])
    _series(
        out,
        p + "commit_failures_total",
        "counter",
        "Store commits that failed (retried).",
        [({}, c.commit_failures)],
    )
    _series(
        out,
        p + "commit_duration_seconds",
        "gauge",
        "Duration of the last commit.",
        [({}, round(c.last_commit_seconds, 6))],
    )
    _series(
        out,
        p + "lag_seconds",
        "gauge",
        "Age of the oldest line whose half-days are not committed yet.",
        [({}, round(c.lag_seconds(now), 3))],
    )
    _series(
        out,
        p + "connections_open",
        "gauge",
        "Open connections, by transport.",
        [({"transport": t}, c.connections_open.get(t, 0)) for t in ("tcp", "tls", "relp")],
    )
    _series(
        out,
        p + "connections_total",
        "counter",
        "Connections accepted, by transport.",
        [({"transport": t}, c.connections_total.get(t, 0)) for t in ("tcp", "tls", "relp")],
    )
    _series(
        out,
        p + "udp_kernel_drops_total",
        "counter",
        "Datagrams the kernel dropped on the UDP socket (receive buffer full).",
        [({}, c.udp_kernel_drops)],
    )
    _series(
        out,
        p + "relp_unacknowledged",
        "gauge",
        "RELP messages received and not acknowledged yet (acknowledged once committed).",
        [({}, c.relp_unacked)],
    )
    _series(
        out,
        p + "follow_lag_bytes",
        "gauge",
        "Bytes of a followed file not read yet.",
        [({"path": f.path}, max(0, f.size - f.offset)) for f in c.follow],
    )
    return "\n".join(out) + "\n"
