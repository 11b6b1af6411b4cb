"""An attacker written apart from loyaute's auditor (rule E7), for the tests.

It models what a reader who knows the schedule can do with everything published: one integer
variable per *agent* (half-days with a trace, between 0 and the agent's telework half-days that
week), one equality per published cell over the agents it counts, and it minimises and
maximises the sum over any group with HiGHS's mixed-integer solver through highspy's modelling
API. The auditor works on atoms, with a linear programme and warm starts; agreeing with this on
every example is the test.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import highspy


class Attacker:
    """Everything published about one week, and the schedule."""

    def __init__(
        self, telework: Mapping[str, int], published: Iterable[tuple[frozenset[str], int]]
    ) -> None:
        self.telework = dict(telework)
        self.h = highspy.Highs()
        self.h.silent()
        self.x = {
            a: self.h.addVariable(lb=0, ub=t, type=highspy.HighsVarType.kInteger)
            for a, t in sorted(self.telework.items())
        }
        for agents, value in published:
            members = sorted(agents)
            self.h.addConstr(
                sum((self.x[a] for a in members[1:]), start=self.x[members[0]]) == value
            )

    def bounds(self, group: Iterable[str]) -> tuple[int, int]:
        """The fewest and the most half-days with a trace the group can have had."""
        members = sorted(set(group))
        objective = sum((self.x[a] for a in members[1:]), start=self.x[members[0]])
        self.h.minimize(objective)
        self._check()
        low = round(self.h.getInfo().objective_function_value)
        self.h.maximize(objective)
        self._check()
        high = round(self.h.getInfo().objective_function_value)
        return low, high

    def _check(self) -> None:
        """The published figures must be consistent with the schedule the attacker was given:
        otherwise the test's picture of the truth is wrong, and its bounds mean nothing."""
        status = self.h.getModelStatus()
        assert status == highspy.HighsModelStatus.kOptimal, status

    def without_trace(self, group: Iterable[str]) -> tuple[int, int]:
        """The interval of the group's half-days without a trace."""
        members = set(group)
        total = sum(self.telework[a] for a in members)
        low, high = self.bounds(members)
        return total - high, total - low
