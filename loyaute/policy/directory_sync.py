"""``loyaute directory sync``: the directory kept in step with LDAP / Active Directory.

A sync is a full comparison of what the server holds with what loyaute keeps: agents added,
changed (name, service, job family, manager, logins) and gone are counted, then applied in one
transaction. An agent who is gone is marked as departed, never deleted: their records,
declarations, notice, cases and requests stay until retention removes them (F2, F4, G1); a
departed agent's logins stop resolving at once. A sync that would remove more than
``max_removed_share`` of the agents stops and asks for ``--confirm`` — a broken filter or an
emptied organisational unit must not empty the directory. Every sync, stopped or failed ones
included, is in the audit log with its counts (never a password, never a name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from loyaute.config import LdapSettings
from loyaute.errors import InputError, LoyauteError, UsageError
from loyaute.i18n import tr
from loyaute.identity import DirectoryChanges, compare, directory_keys, match_keys
from loyaute.policy.roles import Identity
from loyaute.secret_files import read_secret, resolve
from loyaute.store.directory import Agent

if TYPE_CHECKING:
    from loyaute.ldap import LdapDirectory
    from loyaute.workspace import Workspace

Reader = Callable[[LdapSettings, str], "LdapDirectory"]


class MassRemoval(LoyauteError):
    """The sync would remove more agents than the configured share; nothing was changed."""


@dataclass
class SyncReport:
    """What a sync found and did."""

    changes: DirectoryChanges
    read: int
    skipped: list[str] = field(default_factory=list)
    unresolved_managers: int = 0
    applied: bool = False


def check_agents(agents: list[Agent]) -> list[str]:
    """Problems that make a directory unusable: an agent id twice, a login of two agents."""
    problems: list[str] = []
    seen: set[str] = set()
    owner: dict[str, str] = {}
    for agent in agents:
        if agent.agent_id in seen:
            problems.append(
                tr(f"agent {agent.agent_id} présent deux fois", f"agent {agent.agent_id} twice")
            )
            continue
        seen.add(agent.agent_id)
        for login in agent.logins:
            for key in match_keys(login):
                other = owner.setdefault(key, agent.agent_id)
                if other != agent.agent_id:
                    problems.append(
                        tr(
                            f"l'identifiant « {login} » est à la fois celui de {other} et de "
                            f"{agent.agent_id}",
                            f"login '{login}' belongs to both {other} and {agent.agent_id}",
                        )
                    )
    return sorted(set(problems))


def sync(
    ws: Workspace, who: Identity, *, confirm: bool = False, reader: Reader | None = None
) -> SyncReport:
    """Read the directory server, compare, and apply (or stop before a mass removal)."""
    settings = ws.settings.directory.ldap
    if not settings.url:
        raise UsageError(
            tr(
                "annuaire LDAP non configuré : renseigner [directory.ldap] dans loyaute.toml",
                "LDAP directory not configured: fill [directory.ldap] in loyaute.toml",
            )
        )
    if reader is None:
        from loyaute.ldap import read_directory  # noqa: PLC0415 - ldap3 only when syncing

        reader = read_directory
    try:
        password = read_secret(
            resolve(ws.paths.home, settings.password_file), "directory.ldap.password_file"
        )
        found = reader(settings, password)
        problems = check_agents(found.agents)
        if problems:
            raise InputError(
                tr(
                    f"{settings.url} : {len(problems)} problème(s), rien n'a été modifié\n",
                    f"{settings.url}: {len(problems)} problem(s), nothing was changed\n",
                )
                + "\n".join(f"  - {p}" for p in problems[:50])
            )
    except LoyauteError as exc:
        ws.audit.append(
            who.login,
            who.role.value,
            "directory_sync_failed",
            reason=tr("synchronisation de l'annuaire", "directory sync"),
            details={"server": settings.url, "kind": getattr(exc, "kind", type(exc).__name__)},
        )
        raise
    changes = compare(ws.db, found.agents)
    report = SyncReport(changes, len(found.agents), found.skipped, found.unresolved_managers)
    details = {
        "server": settings.url,
        "read": len(found.agents),
        "skipped": len(found.skipped),
        **changes.counts(),
    }
    if changes.removed_share > settings.max_removed_share and not confirm:
        ws.audit.append(
            who.login,
            who.role.value,
            "directory_sync_stopped",
            reason=tr("retrait massif : confirmation demandée", "mass removal: confirmation asked"),
            details=details,
        )
        raise MassRemoval(
            tr(
                f"la synchronisation retirerait {len(changes.gone)} agent(s) sur "
                f"{changes.present_before} ({changes.removed_share:.0%}), au-delà du seuil de "
                f"{settings.max_removed_share:.0%} : rien n'a été modifié",
                f"the sync would remove {len(changes.gone)} of {changes.present_before} agents "
                f"({changes.removed_share:.0%}), above the {settings.max_removed_share:.0%} "
                "threshold: nothing was changed",
            ),
            hint=tr(
                "vérifier base_dn et filter ; si ces départs sont réels, relancer avec --confirm",
                "check base_dn and filter; if these departures are real, run again with --confirm",
            ),
        )
    if not changes.nothing:
        ws.db.agents.apply(
            found.agents, changes.gone, ws.today().isoformat(), directory_keys(found.agents)
        )
        report.applied = True
    details["confirmed"] = confirm
    ws.audit.append(
        who.login,
        who.role.value,
        "directory_sync",
        reason=tr("synchronisation de l'annuaire", "directory sync"),
        details=details,
    )
    return report
