"""The agent directory, the login index and the notice delivery dates (rules A5, A7)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from loyaute.store.state import Repo, transaction


@dataclass(frozen=True)
class Agent:
    """One agent of the directory."""

    agent_id: str
    display_name: str
    service: str
    job_family: str
    manager_id: str
    logins: tuple[str, ...] = ()


class AgentRepo(Repo):
    """Agents and the keys under which their logins are found."""

    @staticmethod
    def _agent(r: sqlite3.Row) -> Agent:
        return Agent(
            r["agent_id"], r["display_name"], r["service"], r["job_family"], r["manager_id"]
        )

    def get(self, agent_id: str) -> Agent | None:
        """One agent, or None."""
        row = self.conn.execute("SELECT * FROM agents WHERE agent_id = ?", (agent_id,)).fetchone()
        return None if row is None else self._agent(row)

    def all(self) -> dict[str, Agent]:
        """Every agent, by id."""
        return {
            r["agent_id"]: self._agent(r)
            for r in self.conn.execute("SELECT * FROM agents ORDER BY agent_id")
        }

    def count(self) -> int:
        """How many agents the directory holds."""
        return int(self.conn.execute("SELECT COUNT(*) FROM agents").fetchone()[0])

    def without_notice(self) -> int:
        """Agents with no notice delivery date (rule A7)."""
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM agents WHERE agent_id NOT IN (SELECT agent_id FROM notices)"
            ).fetchone()[0]
        )

    def of_manager(self, manager_id: str) -> list[Agent]:
        """Agents whose manager is ``manager_id``."""
        return [
            self._agent(r)
            for r in self.conn.execute(
                "SELECT * FROM agents WHERE manager_id = ? ORDER BY agent_id", (manager_id,)
            )
        ]

    def services_of_manager(self, manager_id: str) -> set[str]:
        """Services of the agents a manager manages (E5: a manager's own service)."""
        return {
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT service FROM agents WHERE manager_id = ?", (manager_id,)
            )
        }

    def replace(self, agents: list[Agent], keys: Iterable[tuple[str, str]]) -> None:
        """Replace the directory (agents and login keys) in one transaction."""
        with transaction(self.conn):
            self.conn.execute("DELETE FROM logins")
            self.conn.execute("DELETE FROM agents")
            self.conn.executemany(
                "INSERT INTO agents(agent_id, display_name, service, job_family, manager_id) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (a.agent_id, a.display_name, a.service, a.job_family, a.manager_id)
                    for a in agents
                ],
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO logins(login_key, agent_id) VALUES (?, ?)", list(keys)
            )

    def login_keys(self) -> dict[str, str]:
        """login key → agent id."""
        return {r[0]: r[1] for r in self.conn.execute("SELECT login_key, agent_id FROM logins")}


class NoticeRepo(Repo):
    """When each agent received the information notice (the start of their T0, A5)."""

    def all(self) -> dict[str, str]:
        """agent id → delivery date (ISO)."""
        return {r[0]: r[1] for r in self.conn.execute("SELECT agent_id, delivered_on FROM notices")}

    def of(self, agent_id: str) -> str | None:
        """One agent's delivery date, or None."""
        row = self.conn.execute(
            "SELECT delivered_on FROM notices WHERE agent_id = ?", (agent_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def record(self, agent_ids: list[str], on: date) -> None:
        """Record the delivery date of these agents, all or nothing."""
        with transaction(self.conn):
            self.conn.executemany(
                "INSERT INTO notices(agent_id, delivered_on) VALUES (?, ?) "
                "ON CONFLICT(agent_id) DO UPDATE SET delivered_on = excluded.delivered_on",
                [(a, on.isoformat()) for a in agent_ids],
            )
