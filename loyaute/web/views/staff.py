"""The staff representatives' home: audit statistics without names, the protection reached by
the published aggregates (E7), links to the register, the DPIA, the validity study and the
aggregates."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from loyaute.policy.oversight import audit_statistics
from loyaute.policy.roles import Role
from loyaute.reports.runner import run_audit
from loyaute.web.auth import guard, who
from loyaute.web.context import Ctx
from loyaute.web.render import render

router = APIRouter()


@router.get("/staff", response_class=HTMLResponse)
def staff_home(ctx: Ctx = guard(Role.STAFF_REP)) -> Response:
    """Individual views by month and role, cases opened by month — no names."""
    stats = audit_statistics(ctx.ws, who(ctx))
    rows = [{"month": m, "role": r, "views": n} for m, r, n in stats.views]
    protection = run_audit(ctx.ws, who(ctx))
    return render(
        ctx,
        "staff.html",
        rows=rows,
        cases=stats.cases,
        mode=ctx.ws.register.purpose.mode,
        protection=protection,
        protection_weeks=protection.rows[-PROTECTION_WEEKS_SHOWN:],
    )


PROTECTION_WEEKS_SHOWN = 16
"""The latest published weeks shown on the page (``loyaute report audit`` lists them all)."""
