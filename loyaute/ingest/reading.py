"""Driving a source over files: detection, record splitting and numbering, long lines, read
errors.

A file no source can read (empty, binary, UTF-16, a web server's error log, an unknown format) is
refused with a reason code and a French/English text (``UnrecognisedFileError``), and the other
files still go through; a file that breaks part-way (truncated compressed data) keeps what was
read before the break and says so. Every record is accounted for: an event or a skip record with
its reason.

Records end with a newline, or with NUL: some syslog relays separate records with ``\\0`` (a
run of NULs, and a newline right after it, end one record). Line numbers count records, so a
file without NUL is numbered by its lines exactly as an editor shows them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa

from loyaute.errors import UnknownFormatError
from loyaute.ingest.engine import Task
from loyaute.ingest.files import (
    DECOMPRESSION_ERRORS,
    DEFAULT_CHUNK_BYTES,
    DEFAULT_MAX_LINE_BYTES,
    BackwardReader,
    Location,
    LongLine,
    ReadError,
    head,
    iter_blocks,
    open_stream,
)
from loyaute.sources import detect
from loyaute.sources.base import SKIP_SCHEMA, Chunk, Parsed, Reason, Source


def _memory_pool() -> pa.MemoryPool:
    """Arrow buffers through jemalloc, which Arrow sets to give a parsed block's memory back as
    soon as it is freed (as the system allocator does; the default mimalloc pool keeps it: peak
    RSS of an IIS worker 223 → 177 MB), while reusing its pages: the system allocator maps fresh
    pages for every block (1 M IIS lines: 185,000 page faults and 0.5 s of system time against
    40,000 and 0.15 s, at the same peak RSS). The system allocator where Arrow has no jemalloc."""
    try:
        return pa.jemalloc_memory_pool()
    except (NotImplementedError, AttributeError):  # pragma: no cover - wheel without jemalloc
        return pa.system_memory_pool()


pa.set_memory_pool(_memory_pool())


@dataclass
class FileResult:
    """What reading one file (or one byte range of it) gave."""

    path: str
    format: str | None = None
    lines: int = 0
    events: int = 0
    interactive: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    error: str | None = None
    """Set when the file could not be read, or stopped being readable part-way."""

    def add(self, parsed: Parsed) -> None:
        """Count one parsed block."""
        self.lines += parsed.lines
        self.events += parsed.events.num_rows
        if parsed.events.num_rows:
            self.interactive += int(
                parsed.events.column("interactive").to_numpy(zero_copy_only=False).sum()
            )
        self.skipped.update(parsed.skip_counts())

    def merge(self, other: FileResult) -> None:
        """Add the counts of another range of the same file."""
        self.lines += other.lines
        self.events += other.events
        self.interactive += other.interactive
        self.skipped.update(other.skipped)
        if other.error and not self.error:
            self.error = other.error


class FileReason(StrEnum):
    """Why no source reads a file. Each code has a French and an English explanation."""

    EMPTY = "empty_file"
    BINARY = "binary_file"
    UTF16 = "utf16_file"
    ERROR_LOG = "error_log"
    UNRECOGNISED = "unrecognised_format"


FILE_REASON_TEXT: dict[FileReason, tuple[str, str]] = {
    FileReason.EMPTY: (
        "fichier vide (ou seulement des lignes vides)",
        "empty file (or only blank lines)",
    ),
    FileReason.BINARY: (
        "fichier binaire : ni du texte, ni une compression reconnue (gzip, bz2, zstd)",
        "binary file: neither text nor a known compression (gzip, bz2, zstd)",
    ),
    FileReason.UTF16: (
        "texte en UTF-16, non pris en charge",
        "UTF-16 text, not supported",
    ),
    FileReason.ERROR_LOG: (
        "journal d'erreurs Apache/nginx : il ne dit pas qui s'est connecté",
        "Apache/nginx error log: it does not say who signed in",
    ),
    FileReason.UNRECOGNISED: ("format non reconnu", "unrecognised format"),
}


def file_reason_text(reason: str, lang: str = "fr") -> str:
    """Explain a file reason code to a person, in French unless ``lang`` is ``en``."""
    try:
        fr, en = FILE_REASON_TEXT[FileReason(reason)]
    except ValueError:
        return reason
    return en if lang == "en" else fr


class UnrecognisedFileError(UnknownFormatError):
    """No source reads this file; ``reason`` says why (a ``FileReason`` code).

    A refusal of one file, not a failure of the run: the other files go through."""

    def __init__(self, path: Location, reason: FileReason, hint: str | None = None) -> None:
        fr, en = FILE_REASON_TEXT[reason]
        super().__init__(f"{path}: {fr} / {en}", hint=hint)
        self.path = path
        self.reason = reason


_ERROR_LOG_RE = re.compile(
    # nginx: 2024/01/15 10:00:00 [error] 1234#1234: …
    rb"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(?:debug|info|notice|warn|error|crit|alert|emerg)\] \d+#\d+:"
    # Apache: [Mon Jan 15 10:00:00.123456 2024] [core:error] [pid 1234] …
    rb"|^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)? \d{4}\] \[(?:[\w-]+:)?"
    rb"(?:debug|info|notice|warn|error|crit|alert|emerg|trace\d)\]"
)
_CONTROL = bytes(sorted(set(range(32)) - {0, 9, 10, 12, 13, 27} | {127}))
"""Bytes a text log does not hold (NUL aside: it may end records). Over 3% of them: binary."""


def resolve_source(path: Location, sources: dict[str, Source], forced: str | None) -> Source:
    """The source named by ``--format``, else the one that recognises the file.

    Raises ``UnrecognisedFileError`` (with its ``FileReason``) when no source can read the file,
    and ``ReadError`` when its data cannot be read at all (corrupt compressed data)."""
    if forced is not None:
        return sources[forced]
    lines = head(path)
    sample = b"\n".join(lines)
    if _looks_utf16(sample):
        raise UnrecognisedFileError(
            path,
            FileReason.UTF16,
            "le convertir en UTF-8 (iconv -f UTF-16 -t UTF-8) / convert it to UTF-8",
        )
    window = sample[:65536]
    if len(window) - len(window.translate(None, _CONTROL)) > len(window) * 0.03:
        raise UnrecognisedFileError(
            path,
            FileReason.BINARY,
            "si c'est un journal, indiquer --format parmi / if it is a log, give --format among: "
            + ", ".join(sorted(sources)),
        )
    records = [r.rstrip(b"\r") for line in lines for r in _NUL_RUN_RE.split(line)]
    records = [r for r in records if r.strip()][:40]
    if not records:
        raise UnrecognisedFileError(path, FileReason.EMPTY)
    try:
        return detect(records, sources)
    except UnknownFormatError as exc:
        if sum(1 for r in records if _ERROR_LOG_RE.match(r)) * 2 >= len(records):
            raise UnrecognisedFileError(
                path,
                FileReason.ERROR_LOG,
                "lire le journal d'accès (access.log) / read the access log (access.log)",
            ) from exc
        raise UnrecognisedFileError(path, FileReason.UNRECOGNISED, exc.hint) from exc


def _looks_utf16(sample: bytes) -> bool:
    """A byte-order mark, or NUL in every other byte and only there (text written as UTF-16;
    a run of NUL padding has NUL in both)."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    window = sample[:4096]
    if len(window) < 16:
        return False
    half = len(window) // 2
    even, odd = window[0::2].count(0), window[1::2].count(0)
    return min(even, odd) <= half * 0.05 and max(even, odd) >= half * 0.9


# --- records ending with NUL ----------------------------------------------------------------

RECORD_END_RE = re.compile(rb"\x00+(?:\r?\n)?")
"""Where a NUL-separated record ends: a run of NULs, and the newline right after it if any."""
_NUL_RUN_RE = re.compile(rb"\x00+")
_PEEK_BYTES = 64 << 10


def nul_to_newline(data: bytes) -> bytes:
    """Records that end with NUL as newline-terminated lines (``RECORD_END_RE``); data without
    NUL is returned unchanged (one ``memchr``)."""
    return RECORD_END_RE.sub(b"\n", data) if b"\x00" in data else data


def _framing(path: Location) -> str:
    """``nul`` when the file's first bytes hold NUL-ended records, ``utf16`` for UTF-16 text,
    else ``lines``. Unreadable data is left for the block reader to report."""
    try:
        with open_stream(path) as stream:
            first = stream.read(_PEEK_BYTES)
    except (ReadError, *DECOMPRESSION_ERRORS):
        return "lines"
    if b"\x00" not in first:
        return "lines"
    return "utf16" if _looks_utf16(first) else "nul"


def _nul_blocks(
    path: Location, chunk_bytes: int, max_line_bytes: int, byte_range: tuple[int, int] | None
) -> Iterator[bytes | LongLine]:
    """``iter_blocks`` for a file of NUL-ended records: blocks of whole records, translated
    to lines, and a ``LongLine`` for each record over ``max_line_bytes``. A NUL-only stream has
    no newline for ``iter_blocks`` to cut at: it would be one endless line."""
    size = max(1, min(chunk_bytes, max_line_bytes))
    return _line_blocks(_translated(_pieces(path, size, byte_range)), chunk_bytes, max_line_bytes)


def _pieces(path: Location, size: int, byte_range: tuple[int, int] | None) -> Iterator[bytes]:
    """The file's bytes (decompressed), or a plain file's byte range, ``size`` at a time."""
    left: int | None = None
    if byte_range is None:
        stream = open_stream(path)
    else:
        stream = path.open("rb")
        stream.seek(byte_range[0])
        left = byte_range[1] - byte_range[0]
    with stream:
        while left is None or left > 0:
            try:
                piece = stream.read(size if left is None else min(size, left))
            except DECOMPRESSION_ERRORS as exc:
                raise ReadError(
                    path, f"fichier tronqué ou corrompu / truncated or corrupt file ({exc})"
                ) from exc
            if not piece:
                return
            if left is not None:
                left -= len(piece)
            yield piece


def _translated(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Pieces with each record end made a newline. A NUL run at the end of a piece may go on
    in the next one (more NULs, a newline): it is held back, as one NUL, until it is known."""
    carry = b""
    for piece in pieces:
        data = carry + piece
        end = len(data) - 1 if data.endswith(b"\x00\r") else len(data)
        kept = data[:end].rstrip(b"\x00")
        carry = b"\x00" + data[end:] if len(kept) < end else b""
        if kept:
            yield nul_to_newline(kept if carry else data)
    if carry:
        yield nul_to_newline(carry)


def _line_blocks(
    texts: Iterable[bytes], chunk_bytes: int, max_line_bytes: int
) -> Iterator[bytes | LongLine]:
    """Blocks of complete lines (about ``chunk_bytes``) from pieces of text, with a ``LongLine``
    in place of a line over ``max_line_bytes`` (``iter_blocks``'s rules)."""
    pending = bytearray()
    partial = bytearray()
    too_long = False
    try:
        for text in texts:
            first_nl = text.find(b"\n")
            if first_nl < 0:
                if not too_long:
                    partial += text
                    if len(partial) > max_line_bytes:
                        too_long = True
                        partial.clear()
                continue
            if too_long or len(partial) + first_nl > max_line_bytes:
                if pending:
                    yield bytes(pending)
                    pending.clear()
                yield LongLine()
                too_long = False
            else:
                pending += partial
                pending += text[: first_nl + 1]
            partial.clear()
            last_nl = text.rfind(b"\n")
            pending += text[first_nl + 1 : last_nl + 1]
            partial += text[last_nl + 1 :]
            if len(pending) >= chunk_bytes:
                yield bytes(pending)
                pending.clear()
    except ReadError:
        if pending:
            yield bytes(pending)
        if partial and not too_long:
            yield bytes(partial)
        raise
    if too_long:
        if pending:
            yield bytes(pending)
            pending.clear()
        yield LongLine()
    else:
        pending += partial
    if pending:
        yield bytes(pending)


def _long_line(line: int) -> Parsed:
    batch = pa.RecordBatch.from_pylist(
        [{"line": line, "reason": Reason.LINE_TOO_LONG.value, "ts": None, "login": None}],
        schema=SKIP_SCHEMA,
    )
    return Parsed(skipped=batch)


def parse_blocks(
    path: Location,
    source: Source,
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    byte_range: tuple[int, int] | None = None,
) -> Iterator[tuple[Chunk | None, Parsed]]:
    """Parse a file (or a byte range of a plain file) block by block, with each block's lines.

    Line numbers (record numbers: a NUL ends a record as a newline does) are 1-based within
    the file, or within the range when one is given. The chunk is None for a line too long to be
    read; a chunk's data is the records as newline-terminated lines. Raises ``ReadError`` after
    yielding what could be read when the data breaks part-way, and before reading anything for
    UTF-16 text (a NUL in every other byte is no record separator).
    """
    framing = _framing(path)
    if framing == "utf16":
        fr, en = FILE_REASON_TEXT[FileReason.UTF16]
        raise ReadError(path, f"{fr} / {en}")
    if byte_range is not None and byte_range[0] > 0:
        with BackwardReader(path) as prefix:
            parser = source.parser_at(source.prefix_state(prefix, byte_range[0]))
    else:
        parser = source.parser()
    line = 1
    blocks = (
        _nul_blocks(path, chunk_bytes, max_line_bytes, byte_range)
        if framing == "nul"
        else iter_blocks(path, chunk_bytes, max_line_bytes, byte_range)
    )
    for block in blocks:
        if isinstance(block, LongLine):
            yield None, _long_line(line)
            line += 1
            continue
        chunk = Chunk(nul_to_newline(bytes(block)), line)
        parsed = parser.parse(chunk)
        line += parsed.lines
        yield chunk, parsed


def parse_file(
    path: Location,
    source: Source,
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    byte_range: tuple[int, int] | None = None,
) -> Iterator[Parsed]:
    """``parse_blocks`` without the blocks."""
    for _, parsed in parse_blocks(
        path, source, chunk_bytes=chunk_bytes, max_line_bytes=max_line_bytes, byte_range=byte_range
    ):
        yield parsed


def summarize(
    path: Location,
    source: Source,
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    byte_range: tuple[int, int] | None = None,
) -> FileResult:
    """Parse a file and keep only the counts (lines, events, skips by reason)."""
    result = FileResult(str(path), source.name)
    try:
        for parsed in parse_file(
            path,
            source,
            chunk_bytes=chunk_bytes,
            max_line_bytes=max_line_bytes,
            byte_range=byte_range,
        ):
            result.add(parsed)
    except ReadError as exc:
        result.error = exc.reason
    return result


def summarize_task(task: Task) -> FileResult:
    """Engine entry point: count what one task's file or range holds."""
    return summarize(
        task.path,
        task.source,
        chunk_bytes=task.chunk_bytes,
        max_line_bytes=task.max_line_bytes,
        byte_range=task.byte_range,
    )
