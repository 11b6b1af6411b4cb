"""Shared test helpers: parse bytes with a source, read rows back, locate fixtures and corpus."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from loyaute.sources.base import Chunk, Parsed, Source

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"


def parse_bytes(source: Source, data: bytes, first_line: int = 1) -> Parsed:
    """Parse ``data`` as one chunk with a fresh parser of ``source``."""
    return source.parser().parse(Chunk(data, first_line))


def parse_in_chunks(source: Source, data: bytes, cuts: list[int]) -> Parsed:
    """Parse ``data`` cut at the given line indexes, with one parser (as a file is read)."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines = lines[:-1]
    parser = source.parser()
    parts = []
    bounds = [0, *sorted(c for c in set(cuts) if 0 < c < len(lines)), len(lines)]
    line = 1
    for a, b in itertools.pairwise(bounds):
        block = b"".join(ln + b"\n" for ln in lines[a:b])
        parsed = parser.parse(Chunk(block, line))
        line += parsed.lines
        parts.append(parsed)
    return Parsed.concat(parts)


def events(parsed: Parsed) -> list[dict[str, Any]]:
    """Event rows (dicts, aware UTC datetimes), ordered by line."""
    return sorted(parsed.events.to_pylist(), key=lambda r: r["line"])


def skips(parsed: Parsed) -> list[dict[str, Any]]:
    """Skip rows (dicts), ordered by line."""
    return sorted(parsed.skipped.to_pylist(), key=lambda r: r["line"])


def reasons(parsed: Parsed) -> Counter[str]:
    """Skipped lines counted by reason."""
    return parsed.skip_counts()


def utc(*args: int) -> datetime:
    """An aware UTC datetime, for comparing with parsed times."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture(autouse=True)
def _no_personal_sessions(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests never use (or leave) the developer's command-line sessions or tokens, and never read
    the current directory's ``loyaute-home`` (``make demo`` leaves one there)."""
    monkeypatch.setenv("LOYAUTE_SESSION_FILE", str(tmp_path_factory.mktemp("sessions") / "s.json"))
    monkeypatch.setenv("LOYAUTE_HOME", str(tmp_path_factory.mktemp("no-home") / "loyaute-home"))
    monkeypatch.delenv("LOYAUTE_TOKEN", raising=False)
    monkeypatch.delenv("LOYAUTE_ACTOR", raising=False)


@pytest.fixture
def corpus() -> Path:
    """The public samples in ../shared/corpus; the test is skipped when they are absent."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    return CORPUS
