"""Disclosure control (rule E3): primary suppression of cells under k agents, and complementary
suppression so that no combination of published cells isolates a set of atoms about fewer than k
agents.

The property test checks ``protect`` against an independent brute force: exact rational Gaussian
elimination (``fractions.Fraction``) and the enumeration of every set of atoms under k agents.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyaute.reports.disclosure import Atom, Cell, leaking_set, leaks, protect

# --- an independent oracle ---------------------------------------------------------------------


def echelon(vectors: Iterable[list[Fraction]]) -> list[tuple[int, list[Fraction]]]:
    """Reduced row echelon form over the rationals: (pivot column, row) pairs."""
    basis: list[tuple[int, list[Fraction]]] = []
    for vector in vectors:
        v = reduce(list(vector), basis)
        pivot = next((i for i, x in enumerate(v) if x != 0), None)
        if pivot is None:
            continue
        inverse = 1 / v[pivot]
        v = [x * inverse for x in v]
        # Keep the basis fully reduced: clear the new pivot column from the earlier rows.
        basis = [(p, [a - row[pivot] * b for a, b in zip(row, v, strict=True)]) for p, row in basis]
        basis.append((pivot, v))
    return basis


def reduce(vector: list[Fraction], basis: list[tuple[int, list[Fraction]]]) -> list[Fraction]:
    """``vector`` minus its projection on the basis' pivots."""
    v = list(vector)
    for pivot, row in basis:
        factor = v[pivot]
        if factor:
            v = [a - factor * b for a, b in zip(v, row, strict=True)]
    return v


def in_row_space(vector: list[Fraction], basis: list[tuple[int, list[Fraction]]]) -> bool:
    """True when ``vector`` is a linear combination of the basis rows."""
    return not any(reduce(vector, basis))


def determined_small_sets(
    published: list[Cell], atom_agents: dict[Atom, int], k: int
) -> list[frozenset[Atom]]:
    """Every non-empty set of atoms about fewer than k agents whose total the published cells
    determine (its indicator vector lies in their row space). Brute force: all such sets."""
    order = sorted(atom_agents)
    index = {a: i for i, a in enumerate(order)}
    rows = []
    for cell in published:
        row = [Fraction(0)] * len(order)
        for atom in cell.atoms:
            row[index[atom]] = Fraction(1)
        rows.append(row)
    basis = echelon(rows)
    small = [a for a in order if atom_agents[a] < k]
    assert len(small) <= 12, "instance too large for the brute force"
    found: list[frozenset[Atom]] = []

    def walk(start: int, chosen: list[Atom], total: int) -> None:
        for i in range(start, len(small)):
            atom = small[i]
            agents = total + atom_agents[atom]
            if agents >= k:
                continue
            members = [*chosen, atom]
            vector = [Fraction(0)] * len(order)
            for a in members:
                vector[index[a]] = Fraction(1)
            if in_row_space(vector, basis):
                found.append(frozenset(members))
            walk(i + 1, members, agents)

    walk(0, [], 0)
    return found


def tables(atom_agents: dict[Atom, int]) -> list[Cell]:
    """The service table and the job-family table over the atoms, as ``publish_week`` builds
    them (each agent is in exactly one atom, so a cell's agents are the sum of its atoms')."""
    cells = []
    for position, classification in enumerate(("service", "job_family")):
        groups: dict[str, set[Atom]] = {}
        for atom in atom_agents:
            groups.setdefault(atom[position], set()).add(atom)
        for group, atoms in sorted(groups.items()):
            cells.append(
                Cell(classification, group, frozenset(atoms), sum(atom_agents[a] for a in atoms))
            )
    return cells


def published_after(cells: list[Cell], suppressed: set[tuple[str, str]]) -> list[Cell]:
    return [c for c in cells if c.key not in suppressed]


# --- the oracle itself can fail ----------------------------------------------------------------


def test_oracle_finds_the_service_minus_family_difference() -> None:
    """The brute force is not vacuous: a service and the family it almost entirely consists of
    determine the two managers' figures (E3)."""
    atoms = {("Finances", "finances"): 12, ("Finances", "encadrement"): 2}
    cells = tables(atoms)
    primary = [c for c in cells if c.agents >= 10]
    assert {c.key for c in primary} == {("service", "Finances"), ("job_family", "finances")}
    assert determined_small_sets(primary, atoms, 10) == [frozenset({("Finances", "encadrement")})]


# --- hand-made structures ----------------------------------------------------------------------


def test_e3_service_made_of_one_family_and_two_managers_is_complemented() -> None:
    """E3: Finances (12 finance agents + 2 managers) and the finances family are each above k,
    but their difference is the two managers: one of them must go (complementary suppression)."""
    atoms: dict[Atom, int] = {
        ("Finances", "finances"): 12,
        ("Finances", "encadrement"): 2,
        ("RH", "administratif"): 20,
        ("RH", "encadrement"): 1,
    }
    cells = tables(atoms)
    k = 10
    primary_only = [c for c in cells if c.agents >= k]
    found = leaking_set(primary_only, atoms, k)
    assert found is not None
    assert sum(atoms[a] for a in found) < k
    assert determined_small_sets(primary_only, atoms, k)  # the oracle agrees it leaks

    suppressed = protect(cells, atoms, k)
    assert ("job_family", "encadrement") in suppressed  # primary: 3 agents
    published = published_after(cells, suppressed)
    keys = {c.key for c in published}
    assert not {("service", "Finances"), ("job_family", "finances")} <= keys
    assert not {("service", "RH"), ("job_family", "administratif")} <= keys
    assert leaking_set(published, atoms, k) is None
    assert determined_small_sets(published, atoms, k) == []
    assert published  # the protection does not blank the whole table


def test_e3_family_of_many_small_atoms_is_published() -> None:
    """E3: the managers' family spread over four services (2+3+2+4 = 11 agents) is published:
    its total is about 11 agents, and no published cell isolates one service's managers."""
    atoms: dict[Atom, int] = {
        ("S1", "encadrement"): 2,
        ("S2", "encadrement"): 3,
        ("S3", "encadrement"): 2,
        ("S4", "encadrement"): 4,
    }
    cells = tables(atoms)
    suppressed = protect(cells, atoms, 10)
    assert suppressed == {("service", s) for s in ("S1", "S2", "S3", "S4")}
    assert ("job_family", "encadrement") not in suppressed
    assert leaking_set(published_after(cells, suppressed), atoms, 10) is None


def test_e3_family_of_small_atoms_under_k_is_suppressed() -> None:
    """E3, the failing side of the previous test: 2+3+2+2 = 9 agents is under k."""
    atoms: dict[Atom, int] = {
        ("S1", "encadrement"): 2,
        ("S2", "encadrement"): 3,
        ("S3", "encadrement"): 2,
        ("S4", "encadrement"): 2,
    }
    cells = tables(atoms)
    assert protect(cells, atoms, 10) == {c.key for c in cells}


@pytest.mark.parametrize("k", [5, 10, 12])
def test_e3_primary_suppression_boundary(k: int) -> None:
    """E3: a cell of k−1 agents is suppressed, a cell of exactly k agents is published."""
    atoms: dict[Atom, int] = {("S", "F"): k, ("T", "G"): k - 1}
    cells = tables(atoms)
    assert protect(cells, atoms, k) == {("service", "T"), ("job_family", "G")}


def test_e3_nothing_suppressed_when_every_atom_has_k_agents() -> None:
    """E3: suppression is not gratuitous: with every atom at k or more, every cell is published."""
    atoms: dict[Atom, int] = {
        ("S1", "F1"): 10,
        ("S1", "F2"): 11,
        ("S2", "F1"): 14,
        ("S2", "F2"): 10,
    }
    cells = tables(atoms)
    assert protect(cells, atoms, 10) == set()
    assert not leaks(cells, atoms, 10)


def test_e3_every_route_to_a_small_atom_is_closed() -> None:
    """E3: the managers' atom (S1, F1) is S1 − F2 and also F1 − S2; suppressing one cell of the
    first pair leaves the second, so at least one cell of each pair must go."""
    atoms: dict[Atom, int] = {("S1", "F1"): 3, ("S1", "F2"): 15, ("S2", "F1"): 15}
    cells = tables(atoms)
    assert {c.key for c in cells if c.agents < 10} == set()  # no primary suppression at all
    assert determined_small_sets(cells, atoms, 10) == [frozenset({("S1", "F1")})]
    suppressed = protect(cells, atoms, 10)
    assert suppressed & {("service", "S1"), ("job_family", "F2")}
    assert suppressed & {("job_family", "F1"), ("service", "S2")}
    assert determined_small_sets(published_after(cells, suppressed), atoms, 10) == []


def test_e3_margins_of_a_full_grid_do_not_determine_a_corner() -> None:
    """E3 is linear algebra, not a heuristic: in a 2×2 grid the four margins leave one degree of
    freedom, so a small corner is not determined and nothing needs suppressing."""
    atoms: dict[Atom, int] = {
        ("S1", "F1"): 3,
        ("S1", "F2"): 15,
        ("S2", "F1"): 15,
        ("S2", "F2"): 15,
    }
    cells = tables(atoms)
    assert determined_small_sets(cells, atoms, 10) == []
    assert not leaks(cells, atoms, 10)
    assert protect(cells, atoms, 10) == set()


# --- properties ----------------------------------------------------------------------------------


@st.composite
def structures(draw: st.DrawFn) -> tuple[dict[Atom, int], int]:
    """Random services × job families (at most 12 atoms), 1 to 25 agents each, k from 5 to 12."""
    services = draw(st.integers(1, 4))
    families = draw(st.integers(1, 4))
    grid = [(f"S{s}", f"F{f}") for s in range(services) for f in range(families)]
    present = draw(
        st.lists(st.sampled_from(grid), min_size=1, max_size=min(12, len(grid)), unique=True)
    )
    atoms = {a: draw(st.integers(1, 25)) for a in sorted(present)}
    k = draw(st.integers(5, 12))
    return atoms, k


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structures())
def test_e3_no_published_combination_determines_a_count_under_k(
    structure: tuple[dict[Atom, int], int],
) -> None:
    """E3 (property): after ``protect``, no non-empty set of atoms with fewer than k agents in
    total has its indicator vector in the row space of the published cells — checked by brute
    force over every such set, with exact rational arithmetic."""
    atoms, k = structure
    cells = tables(atoms)
    suppressed = protect(cells, atoms, k)
    assert suppressed <= {c.key for c in cells}
    published = published_after(cells, suppressed)
    assert determined_small_sets(published, atoms, k) == []


@settings(max_examples=300, deadline=None)
@given(structures())
def test_e3_primary_suppression_is_never_relaxed(structure: tuple[dict[Atom, int], int]) -> None:
    """E3 (property): every cell under k agents is suppressed, whatever the complementary step
    does; and when no atom is under k, nothing is suppressed at all."""
    atoms, k = structure
    cells = tables(atoms)
    suppressed = protect(cells, atoms, k)
    assert {c.key for c in cells if c.agents < k} <= suppressed
    if all(n >= k for n in atoms.values()):
        assert suppressed == set()
