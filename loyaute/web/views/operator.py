"""The operator's home: ingest health — files read, lines and reasons, the collector's health
and counters; no activity data (E5)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from loyaute.ingest.collect.metrics import skip_reason_text
from loyaute.policy.oversight import ingest_health
from loyaute.policy.roles import Action
from loyaute.store.collector import CollectorStatus
from loyaute.web.auth import guard, who
from loyaute.web.context import Ctx
from loyaute.web.render import render

router = APIRouter()

STALE_AFTER_COMMITS = 3
"""A running collector that wrote no snapshot for this many commit intervals (30 s at least)
is shown as silent."""


@router.get("/operator", response_class=HTMLResponse)
def operator_home(ctx: Ctx = guard(Action.INGEST_HEALTH)) -> Response:
    """Files read, quarantined lines by reason, continuous collection."""
    health = ingest_health(ctx.ws, who(ctx))
    totals = [
        {
            "format": fmt,
            "files": files,
            "lines": lines,
            "events": events,
            "kept": kept,
            "set_aside": sum(skipped.values()),
            "reasons": [
                (code, n, skip_reason_text(code, ctx.lang))
                for code, n in sorted(skipped.items(), key=lambda kv: -kv[1])
            ],
        }
        for fmt, files, lines, events, kept, skipped in health.totals
    ]
    return render(
        ctx,
        "operator.html",
        files=health.files[:30],
        file_count=len(health.files),
        totals=totals,
        problems=health.problems,
        quarantine=health.quarantine,
        collector=_collector(health.collector, ctx.ws.clock.now(), ctx.lang),
    )


def _collector(status: CollectorStatus | None, now: datetime, lang: str) -> dict[str, Any] | None:
    """The collector's snapshot as the page shows it: state (silent when its heartbeat is
    late), counters, reasons explained."""
    if status is None:
        return None
    s = dict(status.status)
    state = str(s.get("state", ""))
    try:
        updated = datetime.fromisoformat(status.updated_at)
    except ValueError:
        updated = None
    every = float(s.get("commit_every_seconds", 5.0))
    late = timedelta(seconds=max(30.0, STALE_AFTER_COMMITS * every))
    if state == "running" and updated is not None and now - updated > late:
        state = "silent"
    s["shown_state"] = state
    s["reasons"] = [
        (code, n, skip_reason_text(code, lang))
        for code, n in sorted(dict(s.get("skipped", {})).items())
    ]
    return s
