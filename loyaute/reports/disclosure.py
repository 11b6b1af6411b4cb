"""Disclosure control (rule E3): the one place that decides which aggregate cells are published.

Within one period, the cells of the service table and of the job-family table are sums over the
same *atoms*: the (service, job family) pairs that have teleworkers. Each agent belongs to exactly
one atom. A count about fewer than k agents can leak in two ways: a cell itself built from fewer
than k agents (primary suppression), or a combination of published cells that isolates a set of
atoms holding fewer than k agents together — a service minus the job family it almost entirely
consists of, for instance (complementary suppression).

The second test is exact linear algebra. The total of a set S of atoms is determined by the
published numbers exactly when S's indicator vector lies in the row space of the matrix M of
published cells over atoms. A set about fewer than k agents contains only atoms under k agents
("small" atoms), so only the subspace V of the row space that is zero on every other atom
matters. Reducing M to row echelon form with the other atoms' columns first leaves a basis of V
whose pivots are on small atoms; a 0/1 vector of V is a 0/1 combination of that basis (its pivot
entries are the coefficients), so the 2^d candidates are enumerated and each one's agents counted.
Arithmetic is exact, modulo a large prime. Cells are suppressed, smallest first among those that
touch a leaking set, until no such set remains.

Periods never share atoms, and every coarser figure (a month, a range) is published only as the
sum of published weekly cells of one group, so the guarantee holds for any sequence of reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import product

import numpy as np

Atom = tuple[str, ...]
PRIME = 2_147_483_647  # 2^31 - 1: products of two residues fit in int64
MAX_DIMENSION = 16
"""Above 2^16 candidate sets the search stops and treats the table as leaking (safe side)."""


@dataclass(frozen=True)
class Cell:
    """One aggregate cell of one period: a group of a classification, over some atoms."""

    classification: str
    group: str
    atoms: frozenset[Atom]
    agents: int

    @property
    def key(self) -> tuple[str, str]:
        """(classification, group)."""
        return (self.classification, self.group)


def _echelon(matrix: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Reduced row echelon form over GF(PRIME), and the pivot column of each row."""
    m = matrix.copy() % PRIME
    rows, cols = m.shape
    pivots: list[int] = []
    r = 0
    for c in range(cols):
        if r >= rows:
            break
        nonzero = np.flatnonzero(m[r:, c])
        if not len(nonzero):
            continue
        p = r + int(nonzero[0])
        if p != r:
            m[[r, p]] = m[[p, r]]
        inverse = pow(int(m[r, c]), PRIME - 2, PRIME)
        m[r] = (m[r] * inverse) % PRIME
        for other in range(rows):
            if other != r and m[other, c]:
                m[other] = (m[other] - m[other, c] * m[r]) % PRIME
        pivots.append(c)
        r += 1
    return m[: len(pivots)], pivots


def leaking_set(
    cells: Iterable[Cell], atom_agents: dict[Atom, int], k: int
) -> frozenset[Atom] | None:
    """A set of atoms about fewer than k agents whose total the cells determine, or None."""
    cells = list(cells)
    small = sorted(a for a, n in atom_agents.items() if n < k)
    if not cells or not small:
        return None
    big = sorted(a for a, n in atom_agents.items() if n >= k)
    order = big + small  # big columns first: pivots on small columns span V
    index = {a: i for i, a in enumerate(order)}
    matrix = np.zeros((len(cells), len(order)), dtype=np.int64)
    for r, cell in enumerate(cells):
        for atom in cell.atoms:
            matrix[r, index[atom]] = 1
    reduced, pivots = _echelon(matrix)
    basis = [reduced[i, len(big) :] for i, c in enumerate(pivots) if c >= len(big)]
    if not basis:
        return None
    if len(basis) > MAX_DIMENSION:
        return frozenset(small)
    stacked = np.array(basis)
    for coefficients in product((0, 1), repeat=len(basis)):
        if not any(coefficients):
            continue
        vector = (np.array(coefficients, dtype=np.int64) @ stacked) % PRIME
        if np.all((vector == 0) | (vector == 1)):
            members = frozenset(small[i] for i in np.flatnonzero(vector))
            if members and sum(atom_agents[a] for a in members) < k:
                return members
    return None


def leaks(cells: Iterable[Cell], atom_agents: dict[Atom, int], k: int) -> bool:
    """True when published ``cells`` determine a count about fewer than k agents."""
    return leaking_set(cells, atom_agents, k) is not None


def protect(cells: list[Cell], atom_agents: dict[Atom, int], k: int) -> set[tuple[str, str]]:
    """Keys of the cells to suppress: primary (fewer than k agents), then complementary."""
    suppressed = {c.key for c in cells if c.agents < k}
    published = sorted(
        (c for c in cells if c.key not in suppressed),
        key=lambda c: (c.agents, c.classification, c.group),
    )
    while True:
        found = leaking_set(published, atom_agents, k)
        if found is None:
            return suppressed
        victim = next((c for c in published if c.atoms & found), published[0])
        suppressed.add(victim.key)
        published = [c for c in published if c.key != victim.key]
