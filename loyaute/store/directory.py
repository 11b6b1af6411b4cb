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
    left_on: str = ""
    """Day the agent left the directory (ISO; '' while present): their data stays until
    retention removes it."""


class AgentRepo(Repo):
    """Agents and the keys under which their logins are found.

    An agent who leaves the directory is kept, marked with ``left_on`` and without logins, so
    that their records, declarations, notice, cases and rights requests keep their subject until
    retention removes them (F2, F4, G1); ``delete_departed`` then removes the row."""

    @staticmethod
    def _agent(r: sqlite3.Row) -> Agent:
        return Agent(
            r["agent_id"],
            r["display_name"],
            r["service"],
            r["job_family"],
            r["manager_id"],
            left_on=r["left_on"],
        )

    def get(self, agent_id: str) -> Agent | None:
        """One agent (present or departed), or None."""
        row = self.conn.execute("SELECT * FROM agents WHERE agent_id = ?", (agent_id,)).fetchone()
        return None if row is None else self._agent(row)

    def all(self) -> dict[str, Agent]:
        """The current directory: every present agent, by id."""
        return {
            r["agent_id"]: self._agent(r)
            for r in self.conn.execute("SELECT * FROM agents WHERE left_on = '' ORDER BY agent_id")
        }

    def everyone(self) -> dict[str, Agent]:
        """Present and departed agents, by id: everyone whose data may still be kept."""
        return {
            r["agent_id"]: self._agent(r)
            for r in self.conn.execute("SELECT * FROM agents ORDER BY agent_id")
        }

    def count(self) -> int:
        """How many agents the current directory holds."""
        return int(
            self.conn.execute("SELECT COUNT(*) FROM agents WHERE left_on = ''").fetchone()[0]
        )

    def without_notice(self) -> int:
        """Present agents with no notice delivery date (rule A7)."""
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM agents WHERE left_on = '' "
                "AND agent_id NOT IN (SELECT agent_id FROM notices)"
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

    def apply(
        self,
        present: list[Agent],
        departed: Iterable[str],
        left_on: str,
        keys: Iterable[tuple[str, str]],
    ) -> None:
        """Make ``present`` the current directory in one transaction: each agent inserted or
        updated (a returning agent is present again), each of ``departed`` marked as left on
        ``left_on`` (never deleted here), and the login index replaced by ``keys``."""
        with transaction(self.conn):
            self.conn.executemany(
                "INSERT INTO agents(agent_id, display_name, service, job_family, manager_id, "
                "left_on) VALUES (?, ?, ?, ?, ?, '') ON CONFLICT(agent_id) DO UPDATE SET "
                "display_name = excluded.display_name, service = excluded.service, "
                "job_family = excluded.job_family, manager_id = excluded.manager_id, left_on = ''",
                [
                    (a.agent_id, a.display_name, a.service, a.job_family, a.manager_id)
                    for a in present
                ],
            )
            self.conn.executemany(
                "UPDATE agents SET left_on = ? WHERE agent_id = ? AND left_on = ''",
                [(left_on, a) for a in departed],
            )
            self.conn.execute("DELETE FROM logins")
            self.conn.executemany(
                "INSERT OR REPLACE INTO logins(login_key, agent_id) VALUES (?, ?)", list(keys)
            )

    def delete_departed(self, before: str, keep: set[str]) -> int:
        """Remove agents who left before ``before`` (and their notice date), except ``keep``:
        retention has removed their records by then (F2)."""
        gone = [
            r[0]
            for r in self.conn.execute(
                "SELECT agent_id FROM agents WHERE left_on != '' AND left_on < ?", (before,)
            )
            if r[0] not in keep
        ]
        with transaction(self.conn):
            self.conn.executemany("DELETE FROM notices WHERE agent_id = ?", [(a,) for a in gone])
            self.conn.executemany("DELETE FROM agents WHERE agent_id = ?", [(a,) for a in gone])
        return len(gone)

    def login_keys(self) -> dict[str, str]:
        """login key → agent id (present agents only: a departed agent has none)."""
        return {r[0]: r[1] for r in self.conn.execute("SELECT login_key, agent_id FROM logins")}

    def keys_by_agent(self) -> dict[str, set[str]]:
        """agent id → the login keys under which they are found."""
        out: dict[str, set[str]] = {}
        for key, agent_id in self.conn.execute("SELECT login_key, agent_id FROM logins"):
            out.setdefault(agent_id, set()).add(key)
        return out


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
