"""Server-rendered pages, one module per role home plus the pages everyone shares. Thin
handlers: parse, call policy or reports, render."""

from __future__ import annotations

from fastapi import APIRouter

from loyaute.web.views import agent, common, dpo, hr, manager, oidc, operator, reports, staff

ROUTERS: tuple[APIRouter, ...] = (
    common.router,
    oidc.router,
    agent.router,
    reports.router,
    manager.router,
    hr.router,
    dpo.router,
    staff.router,
    operator.router,
)
