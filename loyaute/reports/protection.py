"""Protection proven, not assumed (rule E7): the auditor that gates every publication.

**The attacker.** A reader holds every figure published so far and knows the schedule: for each
week, which agents telework how many half-days, in which service and job family. Within a week,
the tables by service and by job family are sums over the same *atoms* — the (service, family)
pairs — so the reader knows, for each atom ``a``, its agents ``n_a`` and telework half-days
``T_a``, and looks for its unknown counts ``x_a`` (half-days with a trace): integers with
``0 <= x_a <= T_a``, whose sums over the published cells are the
published figures. Integer programming over these constraints gives, for any set of atoms, the
interval of values consistent with everything published. Weeks share no atom, and a month or a
range is only ever published as the sum of its published weekly cells, so a week is audited on
its own; the attack sees the same constraints whatever order weeks are published in.

**What is protected.** Every group of fewer than ``k_min`` agents a reader can name — each atom
under ``k_min``, and within one service or family the unions of its small atoms that hold fewer
than ``k_min`` agents together ("the service minus its finance staff", "the managers of these
three services"): all of them when the cell has at most six small atoms, else those of two or
three atoms and all of them together — and every suppressed cell. For each, the interval of its half-days without a trace (``T - x``) must be
at least ``protection_half_days`` wide (register.toml, default 3), or the whole of ``[0, T]`` when
the group has fewer telework half-days than that. This rules out the published zero that proves a
small group had a trace on every half-day, the service total minus a family's figure that pins a
group of seven to exactly one half-day without a trace, and any bound narrowed to less than the
level. (That no union of small atoms is *determined* exactly, whatever cells it spans, is checked
beforehand by ``disclosure.leaking_set``, rule E3.)

**How it is solved.** One HiGHS model per week: a column per atom bounded by
``[0, T_a]``, an equality row per published cell; each target's bounds are two solves with its
indicator as objective, warm-started from the previous basis (well under a millisecond each). The
rows of two classifications, each atom in one cell of each, form the incidence matrix of a
bipartite graph, which is totally unimodular: the linear programme's optimum is already the
integer one, so it is solved as an LP. With more than two classifications the columns are
declared integer and HiGHS solves the MILP.

**Suppression, not rounding.** A week whose publication would narrow an interval below the level
gets more suppression: the published cell with the fewest agents among those constraining a
failing target is withheld, and the audit runs again, until every target holds (withholding
every cell always does, so this ends). Controlled rounding was the other choice; it was not
taken because rounded cells no longer add up — the service table's total would differ from the
job-family table's, and a month from the sum of its weeks — which readers of a public body's
statistics take for errors, and because exact figures keep the frozen ledger (E3, F3) simple: a
published figure is the figure. The cost is that a cell is sometimes withheld for its value (a
zero over a group with small atoms); ``report audit`` says how many were, and why.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from loyaute.reports.disclosure import Atom, Cell, leaking_set

MEASURES = ("with_trace",)
"""The counts audited: half-days with a trace (and so without one, their complement within the
schedule's known half-days). Declared half-days — the agents' own statements, which they see and
which change nothing about a trace — are published with the same suppression but not audited:
E7 protects what the logs say about a person."""

PRIMARY = "primary"
COMPLEMENTARY = "complementary"
PROTECTION = "protection"
REASONS = (PRIMARY, COMPLEMENTARY, PROTECTION)
"""Why a cell is withheld: fewer than k agents (E3), a set under k agents determined exactly by
the others (E3), an interval narrowed below the protection level (E7)."""


EVERY_UNION_UP_TO = 6
"""A cell with at most this many small atoms has every union of them audited (64 at most);
above, unions of two and three atoms and the whole small part."""


@dataclass(frozen=True)
class AtomFacts:
    """What a reader knows of an atom from the schedule."""

    agents: int
    telework: int


@dataclass(frozen=True)
class Target:
    """A group whose counts must stay uncertain."""

    kind: str  # "small_group" (atoms under k agents in all) or "suppressed_cell"
    label: str
    atoms: frozenset[Atom]
    agents: int
    telework: int


@dataclass(frozen=True)
class Interval:
    """The values of ``measure`` over a target consistent with everything published."""

    target: Target
    measure: str
    lo: int
    hi: int

    @property
    def width(self) -> int:
        """How many values remain possible, minus one."""
        return self.hi - self.lo

    def protected(self, level: int) -> bool:
        """At least ``level`` wide, or everything from 0 to the group's half-days."""
        return self.width >= min(level, self.target.telework)


@dataclass
class Protection:
    """The decision for one week's tables and the audit behind it."""

    suppressed: dict[tuple[str, str], str] = field(default_factory=dict)
    """Cell key → why it is withheld (``REASONS``)."""
    targets: int = 0
    narrowest: Interval | None = None
    """The narrowest interval among the protected groups, as published (None: nothing to
    protect)."""


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """HiGHS prints a banner on stdout when a solver is created, whatever its options: CSV on
    stdout must stay pure (CONTRACT), so stdout is closed for that instant."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


_CREATE = threading.Lock()


def _highs() -> object:
    import highspy  # noqa: PLC0415 - only when a week is published or audited

    with _CREATE, _quiet_stdout():
        solver = highspy.Highs()  # type: ignore[no-untyped-call]
    solver.setOptionValue("output_flag", False)
    return solver


def intervals(
    atoms: Mapping[Atom, AtomFacts],
    published: Sequence[tuple[str, frozenset[Atom], int]],
    targets: Sequence[Target],
    measure: str,
) -> list[Interval]:
    """The interval of ``measure`` over each target, given the published cells
    ``(classification, atoms, value)`` and the atoms' half-days as bounds."""
    order = sorted(atoms)
    index = {a: i for i, a in enumerate(order)}
    constrained = {a for _, cell_atoms, _ in published for a in cell_atoms}
    out: list[Interval] = []
    solvable = []
    for target in targets:
        if not target.atoms & constrained:
            # No published figure involves it: everything from 0 to its half-days is possible.
            out.append(Interval(target, measure, 0, target.telework))
        else:
            solvable.append(target)
    if not solvable:
        return out
    import highspy  # noqa: PLC0415

    h = _highs()
    n = len(order)
    lower = np.zeros(n)
    upper = np.array([float(atoms[a].telework) for a in order])
    h.addVars(n, lower, upper)  # type: ignore[attr-defined]
    for _, cell_atoms, value in published:
        idx = np.array(sorted(index[a] for a in cell_atoms), dtype=np.int32)
        h.addRow(float(value), float(value), len(idx), idx, np.ones(len(idx)))  # type: ignore[attr-defined]
    if len({c for c, _, _ in published}) > 2:
        h.changeColsIntegrality(  # type: ignore[attr-defined]
            n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger)
        )
    columns = np.arange(n, dtype=np.int32)
    for target in solvable:
        cost = np.zeros(n)
        for a in target.atoms:
            cost[index[a]] = 1.0
        h.changeColsCost(n, columns, cost)  # type: ignore[attr-defined]
        bounds = []
        for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
            h.changeObjectiveSense(sense)  # type: ignore[attr-defined]
            h.run()  # type: ignore[attr-defined]
            status = h.getModelStatus()  # type: ignore[attr-defined]
            if status != highspy.HighsModelStatus.kOptimal:
                raise RuntimeError(f"HiGHS: {status}")  # published figures are always feasible
            bounds.append(round(h.getInfo().objective_function_value))  # type: ignore[attr-defined]
        out.append(Interval(target, measure, bounds[0], bounds[1]))
    return out


def targets_of(
    cells: Sequence[Cell],
    atoms: Mapping[Atom, AtomFacts],
    k: int,
    suppressed: Mapping[tuple[str, str], str],
) -> list[Target]:
    """The groups to protect: each atom under ``k`` agents; within each cell, every union of its
    small atoms (of two or three atoms when it has more than ``EVERY_UNION_UP_TO`` small atoms,
    and all of them together) that holds fewer than ``k`` agents; and every suppressed cell."""
    found: dict[frozenset[Atom], Target] = {}
    for atom, facts in sorted(atoms.items()):
        if facts.agents < k and facts.telework:
            found[frozenset({atom})] = Target(
                "small_group", " × ".join(atom), frozenset({atom}), facts.agents, facts.telework
            )
    for cell in cells:
        small = sorted(a for a in cell.atoms if atoms[a].agents < k)
        sizes = range(2, len(small) + 1 if len(small) <= EVERY_UNION_UP_TO else 4)
        unions = [frozenset(u) for n in sizes for u in itertools.combinations(small, n)]
        unions.append(frozenset(small))
        for union in unions:
            if len(union) < 2:
                continue
            agents = sum(atoms[a].agents for a in union)
            telework = sum(atoms[a].telework for a in union)
            if agents < k and telework and union not in found:
                label = f"{cell.group} : " + " + ".join(" × ".join(a) for a in sorted(union))
                found[union] = Target("small_group", label, union, agents, telework)
    for cell in cells:
        if cell.key in suppressed:
            telework = sum(atoms[a].telework for a in cell.atoms)
            if telework:
                found[cell.atoms] = Target(
                    "suppressed_cell", cell.group, cell.atoms, cell.agents, telework
                )
    return sorted(found.values(), key=lambda t: (t.kind, t.label, sorted(t.atoms)))


def audit(
    cells: Sequence[Cell],
    atoms: Mapping[Atom, AtomFacts],
    values: Mapping[Atom, Mapping[str, int]],
    suppressed: Mapping[tuple[str, str], str],
    k: int,
) -> list[Interval]:
    """Every target's interval, for every measure, with the cells not in ``suppressed``
    published. ``values`` are the atoms' true counts (to compute the published sums)."""
    targets = targets_of(cells, atoms, k, suppressed)
    published = [c for c in cells if c.key not in suppressed]
    out: list[Interval] = []
    for measure in MEASURES:
        figures = [
            (c.classification, c.atoms, sum(values[a][measure] for a in c.atoms)) for c in published
        ]
        out += intervals(atoms, figures, targets, measure)
    return out


def protect(
    cells: Sequence[Cell],
    atoms: Mapping[Atom, AtomFacts],
    values: Mapping[Atom, Mapping[str, int]],
    k: int,
    level: int,
) -> Protection:
    """Which cells of one week to withhold so that E3 and E7 hold (see the module docstring)."""
    suppressed: dict[tuple[str, str], str] = {c.key: PRIMARY for c in cells if c.agents < k}
    agents_of = {a: f.agents for a, f in atoms.items()}
    while True:
        published = sorted(
            (c for c in cells if c.key not in suppressed),
            key=lambda c: (c.agents, c.classification, c.group),
        )
        leak = leaking_set(published, agents_of, k)
        if leak is not None:
            victim = next((c for c in published if c.atoms & leak), published[0])
            suppressed[victim.key] = COMPLEMENTARY
            continue
        found = audit(cells, atoms, values, suppressed, k)
        failing = [i for i in found if not i.protected(level)]
        if not failing:
            narrowest = min(found, key=lambda i: (i.width, i.target.label), default=None)
            return Protection(suppressed, len({i.target for i in found}), narrowest)
        worst = min(failing, key=lambda i: (i.width, i.target.label, i.measure))
        victim = next(c for c in published if c.atoms & worst.target.atoms)
        suppressed[victim.key] = PROTECTION
