"""Fixtures of the collector's process tests: a gated workspace around today (copied per test),
its untouched copy for the batch reference, and cleanup of every process a test starts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.ingest.collect.support import CollectProcess, Rsyslog, copy_home, live_workspace


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[date]]:
    """One gated workspace around today, copied for each test."""
    return live_workspace(tmp_path_factory.mktemp("live"))


@pytest.fixture
def home(template: tuple[Path, list[date]], tmp_path: Path) -> Path:
    return copy_home(template[0], tmp_path / "ws")


@pytest.fixture
def reference(home: Path, tmp_path: Path) -> Path:
    """A copy of the workspace before anything is collected: the batch ingest goes there."""
    return copy_home(home, tmp_path / "reference")


@pytest.fixture
def days(template: tuple[Path, list[date]]) -> list[date]:
    return template[1]


@pytest.fixture
def processes() -> Iterator[list[CollectProcess | Rsyslog]]:
    """Every collector and rsyslog a test starts is stopped when it ends, whatever happened."""
    started: list[CollectProcess | Rsyslog] = []
    yield started
    for p in reversed(started):
        p.close()
