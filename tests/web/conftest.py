"""Fixtures of the web tests: the demo workspace is built once per session (``run_demo`` on a
fixed clock); each test module works on its own copy, with its own app and clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from loyaute.clock import FixedClock
from loyaute.demo.runner import run_demo
from loyaute.ingest.engine import LocalEngine
from tests.web.support import NOW, Scenario, Web, build_scenario


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic Département: 60 agents, four weeks, crosscheck mode, validity study on."""
    home = tmp_path_factory.mktemp("web-demo") / "home"
    run_demo(home, agents=60, weeks=4, seed=5, clock=FixedClock(NOW), engine=LocalEngine(1))
    return home


@pytest.fixture(scope="session")
def portal() -> Iterator[BlockingPortal]:
    """One event loop, in a thread, that runs every in-process request."""
    with start_blocking_portal() as p:
        yield p


@pytest.fixture(scope="module")
def web(
    demo_home: Path, portal: BlockingPortal, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Web]:
    """This module's copy of the demo workspace and its app."""
    w = Web.build(demo_home, tmp_path_factory.mktemp("web") / "home", portal)
    yield w
    w.close()


@pytest.fixture
def fresh_web(
    demo_home: Path, portal: BlockingPortal, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Web]:
    """A copy of its own for a test that moves the clock or locks accounts."""
    w = Web.build(demo_home, tmp_path_factory.mktemp("fresh") / "home", portal)
    yield w
    w.close()


@pytest.fixture(scope="module")
def scenario(web: Web) -> Scenario:
    """Two open review cases on this module's workspace and half-days to act on."""
    return build_scenario(web)
