"""The agent's side: declarations (D2), annotations (D3), disputes (D4), objection (G3), access
requests and their clock (G1), notifications.

Every action on one agent's half-days is written to the audit log (H1). A disputed half-day is
frozen — excluded from reports and review cases — until a named person resolves it; the
resolution and its reason are kept and shown to the agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from loyaute.errors import InputError, UsageError
from loyaute.i18n import tr
from loyaute.reports.agent_view import t0_of

if TYPE_CHECKING:
    from loyaute.workspace import Workspace

DECLARATION_KINDS = ("system", "phone", "home_visit", "meeting", "field", "other")
ACCESS_DEADLINE_DAYS = 30
ACCESS_WARNING_DAYS = 20
ACCESS_EXTENSION_DAYS = 61


def _now(ws: Workspace) -> str:
    return ws.clock.now().isoformat(timespec="seconds")


def _check_half_day(
    ws: Workspace, agent_id: str, day: date, half: str, telework_only: bool
) -> None:
    if half not in ("AM", "PM"):
        raise UsageError(tr("demi-journée : AM ou PM", "half-day: AM or PM"))
    if ws.state.execute("SELECT 1 FROM agents WHERE agent_id = ?", (agent_id,)).fetchone() is None:
        raise InputError(tr(f"agent inconnu : {agent_id}", f"unknown agent: {agent_id}"))
    t0 = t0_of(ws, agent_id)
    if t0 is None or day < t0:
        raise InputError(
            tr(
                f"{day} est antérieur au T0 de l'agent : rien n'est conservé",
                f"{day} is before the agent's T0: nothing is kept",
            )
        )
    row = ws.state.execute(
        "SELECT kind FROM schedule WHERE agent_id = ? AND day = ? AND half = ?",
        (agent_id, day.isoformat(), half),
    ).fetchone()
    if telework_only and (row is None or row[0] != "telework"):
        raise InputError(
            tr(
                f"{day} {half} n'est pas une demi-journée de télétravail au planning",
                f"{day} {half} is not a scheduled telework half-day",
            )
        )


def declare(ws: Workspace, agent_id: str, day: date, half: str, kind: str, note: str = "") -> None:
    """D2: the agent declares how a telework half-day was worked."""
    if kind not in DECLARATION_KINDS:
        raise UsageError(
            tr(
                f"déclaration parmi {', '.join(DECLARATION_KINDS)}",
                f"declaration among {', '.join(DECLARATION_KINDS)}",
            )
        )
    _check_half_day(ws, agent_id, day, half, telework_only=True)
    ws.state.execute(
        "INSERT INTO declarations(agent_id, day, half, kind, note, at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(agent_id, day, half) DO UPDATE SET kind = excluded.kind, note = excluded.note, at = excluded.at",
        (agent_id, day.isoformat(), half, kind, note, _now(ws)),
    )
    ws.audit.append(
        agent_id,
        "agent",
        "declare",
        agent_id=agent_id,
        reason=tr("déclaration de l'agent", "agent's declaration"),
        details={"day": day.isoformat(), "half": half, "kind": kind},
    )


def annotate(ws: Workspace, agent_id: str, day: date, half: str, text: str) -> None:
    """D3: the agent annotates a half-day; the annotation travels with the record everywhere."""
    if not text.strip():
        raise UsageError(tr("annotation vide", "empty annotation"))
    _check_half_day(ws, agent_id, day, half, telework_only=False)
    ws.state.execute(
        "INSERT INTO annotations(agent_id, day, half, text, at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(agent_id, day, half) DO UPDATE SET text = excluded.text, at = excluded.at",
        (agent_id, day.isoformat(), half, text.strip(), _now(ws)),
    )
    ws.audit.append(
        agent_id,
        "agent",
        "annotate",
        agent_id=agent_id,
        reason=tr("annotation de l'agent", "agent's annotation"),
        details={"day": day.isoformat(), "half": half},
    )


def open_dispute(ws: Workspace, agent_id: str, day: date, half: str, reason: str) -> int:
    """D4: the agent contests a record; it is frozen until a named person resolves it."""
    if not reason.strip():
        raise UsageError(tr("motif de contestation vide", "empty reason"))
    _check_half_day(ws, agent_id, day, half, telework_only=False)
    if ws.state.execute(
        "SELECT 1 FROM disputes WHERE agent_id = ? AND day = ? AND half = ? AND resolved_at = ''",
        (agent_id, day.isoformat(), half),
    ).fetchone():
        raise InputError(
            tr("cette demi-journée est déjà contestée", "this half-day is already disputed")
        )
    cur = ws.state.execute(
        "INSERT INTO disputes(agent_id, day, half, reason, opened_at) VALUES (?, ?, ?, ?, ?)",
        (agent_id, day.isoformat(), half, reason.strip(), _now(ws)),
    )
    ws.audit.append(
        agent_id,
        "agent",
        "dispute",
        agent_id=agent_id,
        reason=reason.strip(),
        details={"day": day.isoformat(), "half": half},
    )
    return int(cur.lastrowid or 0)


def resolve_dispute(ws: Workspace, dispute_id: int, by: str, role: str, resolution: str) -> None:
    """D4: a named person resolves a dispute, with a reason kept and shown to the agent."""
    row = ws.state.execute("SELECT * FROM disputes WHERE id = ?", (dispute_id,)).fetchone()
    if row is None or row["resolved_at"]:
        raise InputError(
            tr(
                f"contestation {dispute_id} inconnue ou déjà résolue",
                f"dispute {dispute_id} unknown or already resolved",
            )
        )
    if not by.strip() or not resolution.strip():
        raise UsageError(
            tr("nom et motif de la résolution obligatoires", "name and reason required")
        )
    ws.state.execute(
        "UPDATE disputes SET resolved_by = ?, resolution = ?, resolved_at = ? WHERE id = ?",
        (by, resolution.strip(), _now(ws), dispute_id),
    )
    notify(
        ws,
        row["agent_id"],
        "dispute_resolved",
        tr(
            f"Votre contestation du {row['day']} {row['half']} a été examinée par {by} : {resolution}",
            f"Your dispute of {row['day']} {row['half']} was resolved by {by}: {resolution}",
        ),
    )
    ws.audit.append(
        by,
        role,
        "dispute_resolved",
        agent_id=row["agent_id"],
        reason=resolution.strip(),
        details={"dispute": dispute_id},
    )


def notify(ws: Workspace, agent_id: str, kind: str, text: str) -> None:
    """Leave a message the agent sees in their export and portal."""
    ws.state.execute(
        "INSERT INTO notifications(agent_id, at, kind, text) VALUES (?, ?, ?, ?)",
        (agent_id, _now(ws), kind, text),
    )


def object_to_processing(ws: Workspace, agent_id: str, reason: str) -> int:
    """G3: processing of that agent stops (no ingest, no reports, no case) pending a decision."""
    if ws.state.execute("SELECT 1 FROM agents WHERE agent_id = ?", (agent_id,)).fetchone() is None:
        raise InputError(tr(f"agent inconnu : {agent_id}", f"unknown agent: {agent_id}"))
    cur = ws.state.execute(
        "INSERT INTO objections(agent_id, reason, since) VALUES (?, ?, ?)",
        (agent_id, reason, _now(ws)),
    )
    ws.audit.append(agent_id, "agent", "objection", agent_id=agent_id, reason=reason)
    return int(cur.lastrowid or 0)


def decide_objection(ws: Workspace, objection_id: int, decision: str, reason: str, by: str) -> None:
    """G3: the documented decision on an objection (``upheld`` stops processing for good)."""
    if decision not in ("upheld", "rejected"):
        raise UsageError(tr("décision : upheld ou rejected", "decision: upheld or rejected"))
    if not reason.strip():
        raise UsageError(tr("la décision doit être motivée", "the decision must give its reasons"))
    row = ws.state.execute("SELECT * FROM objections WHERE id = ?", (objection_id,)).fetchone()
    if row is None or row["decided_on"]:
        raise InputError(
            tr(
                f"opposition {objection_id} inconnue ou déjà tranchée",
                f"objection {objection_id} unknown or already decided",
            )
        )
    ws.state.execute(
        "UPDATE objections SET decided_on = ?, decision = ?, decision_reason = ? WHERE id = ?",
        (_now(ws), decision, reason.strip(), objection_id),
    )
    notify(
        ws,
        row["agent_id"],
        "objection_decided",
        tr(
            f"Décision sur votre opposition : {decision} — {reason}",
            f"Decision on your objection: {decision} — {reason}",
        ),
    )
    ws.audit.append(
        by,
        "dpo",
        "objection_decided",
        agent_id=row["agent_id"],
        reason=reason.strip(),
        details={"decision": decision},
    )


def record_access_request(ws: Workspace, agent_id: str, on: date) -> int:
    """G1: an access request, with its one-month clock."""
    if ws.state.execute("SELECT 1 FROM agents WHERE agent_id = ?", (agent_id,)).fetchone() is None:
        raise InputError(tr(f"agent inconnu : {agent_id}", f"unknown agent: {agent_id}"))
    cur = ws.state.execute(
        "INSERT INTO access_requests(agent_id, requested_on) VALUES (?, ?)",
        (agent_id, on.isoformat()),
    )
    ws.audit.append(
        "dpo",
        "dpo",
        "access_request",
        agent_id=agent_id,
        reason=tr("demande d'accès (art. 15)", "access request (art. 15)"),
    )
    return int(cur.lastrowid or 0)


def extend_access_request(ws: Workspace, request_id: int, reason: str) -> None:
    """G1: the reasoned two-month extension (art. 12(3))."""
    if not reason.strip():
        raise UsageError(
            tr("la prolongation doit être motivée", "the extension must give its reasons")
        )
    ws.state.execute(
        "UPDATE access_requests SET extended_reason = ? WHERE id = ?", (reason.strip(), request_id)
    )


def close_access_requests(ws: Workspace, agent_id: str) -> None:
    """The access export answers the agent's open requests."""
    ws.state.execute(
        "UPDATE access_requests SET answered_on = ? WHERE agent_id = ? AND answered_on = ''",
        (ws.clock.now().date().isoformat(), agent_id),
    )


@dataclass(frozen=True)
class RequestClock:
    """Where an access request stands."""

    id: int
    agent_id: str
    requested_on: str
    due_on: str
    status: str  # answered, open, warning, extended, overdue


def access_request_clocks(ws: Workspace) -> list[RequestClock]:
    """Every access request with its deadline and state (warning at day 20, due at day 30)."""
    today = ws.clock.now().date()
    out = []
    for r in ws.state.execute("SELECT * FROM access_requests ORDER BY id"):
        requested = date.fromisoformat(r["requested_on"])
        due = requested + timedelta(
            days=ACCESS_DEADLINE_DAYS + (ACCESS_EXTENSION_DAYS if r["extended_reason"] else 0)
        )
        if r["answered_on"]:
            status = "answered"
        elif today > due:
            status = "overdue"
        elif r["extended_reason"]:
            status = "extended"
        elif (today - requested).days >= ACCESS_WARNING_DAYS:
            status = "warning"
        else:
            status = "open"
        out.append(RequestClock(r["id"], r["agent_id"], r["requested_on"], due.isoformat(), status))
    return out


def agent_side(ws: Workspace, agent_id: str) -> dict[str, Any]:
    """Declarations, annotations, disputes, notifications and cases of one agent."""

    def rows(sql: str) -> list[dict[str, Any]]:
        return [dict(r) for r in ws.state.execute(sql, (agent_id,))]

    return {
        "declarations": rows(
            "SELECT day, half, kind, note, at FROM declarations WHERE agent_id = ? ORDER BY day, half"
        ),
        "annotations": rows(
            "SELECT day, half, text, at FROM annotations WHERE agent_id = ? ORDER BY day, half"
        ),
        "disputes": rows(
            "SELECT id, day, half, reason, opened_at, resolved_by, resolution, resolved_at FROM disputes WHERE agent_id = ? ORDER BY id"
        ),
        "notifications": rows(
            "SELECT at, kind, text FROM notifications WHERE agent_id = ? ORDER BY id"
        ),
        "cases": rows(
            "SELECT id, reviewer, reason, day_from, day_to, opened_at, closed_at, outcome FROM cases WHERE agent_id = ? ORDER BY id"
        ),
        "objections": rows(
            "SELECT id, reason, since, decided_on, decision, decision_reason FROM objections WHERE agent_id = ? ORDER BY id"
        ),
    }


def validate_statement(ws: Workspace, manager_id: str, month: str) -> list[dict[str, Any]]:
    """D2: the manager validates the monthly statement of their agents' declarations.

    The manager sees, per agent, telework half-days and declarations — never traces — and each
    agent's line is an access to individual data, written to the audit log."""
    try:
        first = date.fromisoformat(month + "-01")
    except ValueError as exc:
        raise UsageError(tr("mois AAAA-MM", "month YYYY-MM")) from exc
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    agents = ws.state.execute(
        "SELECT agent_id, display_name FROM agents WHERE manager_id = ? ORDER BY agent_id",
        (manager_id,),
    ).fetchall()
    if not agents:
        raise InputError(
            tr(
                f"aucun agent n'a pour responsable {manager_id}",
                f"no agent has {manager_id} as manager",
            )
        )
    rows = []
    for agent_id, name in agents:
        telework = ws.state.execute(
            "SELECT COUNT(*) FROM schedule WHERE agent_id = ? AND kind = 'telework' AND day BETWEEN ? AND ?",
            (agent_id, first.isoformat(), last.isoformat()),
        ).fetchone()[0]
        declared = ws.state.execute(
            "SELECT COUNT(*) FROM declarations WHERE agent_id = ? AND day BETWEEN ? AND ?",
            (agent_id, first.isoformat(), last.isoformat()),
        ).fetchone()[0]
        rows.append(
            {
                "agent_id": agent_id,
                "display_name": name,
                "telework_half_days": telework,
                "declared": declared,
            }
        )
        ws.audit.append(
            manager_id,
            "manager",
            "statement_view",
            agent_id=agent_id,
            reason=tr(f"relevé mensuel {month}", f"monthly statement {month}"),
        )
    ws.state.execute(
        "INSERT INTO statements(manager_id, month, validated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(manager_id, month) DO UPDATE SET validated_at = excluded.validated_at",
        (manager_id, month, _now(ws)),
    )
    return rows
