"""Reading log files: directories, compression, bounded blocks of complete lines.

Raw logs are read, never copied (rule B1). Compression is recognised by its magic bytes, not by
the file name, so a rotated ``.1`` that is really gzip still reads. Memory stays bounded whatever
the file: lines are handed over in blocks of about ``chunk_bytes``, and a line longer than
``max_line_bytes`` is skipped (reason ``line_too_long``) without ever being held whole.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import itertools
import os
import stat
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from loyaute.errors import InputError
from loyaute.i18n import tr

GZIP_MAGIC = b"\x1f\x8b"
BZ2_MAGIC = b"BZh"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

DEFAULT_CHUNK_BYTES = 4 << 20
DEFAULT_MAX_LINE_BYTES = 1 << 20
COMPRESSED_READ_BYTES = 64 << 10


class CorruptData(ValueError):
    """Compressed data that cannot be decompressed (zstandard's own error, re-raised as one of
    the errors every reader already expects, so that zstandard is imported only when needed)."""


def _pafs() -> Any:
    """``pyarrow.fs``, imported only for object storage and HDFS (it costs ~50 ms)."""
    import pyarrow.fs as pafs  # noqa: PLC0415 - lazy

    return pafs


class _ZstdReader(io.RawIOBase):
    """Streaming zstd that notices a frame cut short (zstandard's own reader ends silently)."""

    def __init__(self, path: Location) -> None:
        self._f = path.open_sequential() if isinstance(path, RemoteFile) else path.open("rb")
        import zstandard  # noqa: PLC0415 - lazy: only compressed files need it

        self._errors = zstandard.ZstdError
        self._dctx = zstandard.ZstdDecompressor()
        self._obj = self._dctx.decompressobj()
        self._buffer = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._buffer and not self._done:
            data = self._f.read(COMPRESSED_READ_BYTES)
            if not data:
                self._done = True
                if not self._obj.eof:
                    raise EOFError("zstd frame ended before its end mark")
                break
            while data:
                try:
                    self._buffer += self._obj.decompress(data)
                except self._errors as exc:
                    raise CorruptData(str(exc)) from exc
                data = b""
                if self._obj.eof and self._obj.unused_data:
                    data = self._obj.unused_data
                    self._obj = self._dctx.decompressobj()
        n = min(len(view), len(self._buffer))
        view[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


class ReadError(InputError):
    """A file stopped being readable part-way (truncated or corrupt compressed data)."""

    def __init__(self, path: Location, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.reason = message


@dataclass(frozen=True)
class LongLine:
    """Marks one line that was longer than ``max_line_bytes`` and was not read."""


class RemoteFile:
    """A log file on object storage or HDFS (``s3://bucket/key``, ``gs://…``, ``hdfs://…``),
    read through ``pyarrow.fs`` with the platform's usual configuration (``AWS_*`` variables or
    ``?endpoint_override=…`` in the URI for S3, the Hadoop client for HDFS). It offers the few
    parts of ``Path`` the reading code uses; only its URI travels to worker processes and Spark
    executors, each of which opens the file system itself."""

    def __init__(self, uri: str, size: int | None = None) -> None:
        self.uri = uri
        self._size = size

    def __str__(self) -> str:
        """The URI as shown and stored: credentials written into it are masked."""
        scheme, sep, rest = self.uri.partition("://")
        authority, slash, tail = rest.partition("/")
        if "@" in authority:
            authority = "***@" + authority.rsplit("@", 1)[1]
        base, question, query = f"{authority}{slash}{tail}".partition("?")
        kept = (
            [
                part
                if part.split("=", 1)[0] not in _SECRET_PARAMETERS
                else part.split("=", 1)[0] + "=***"
                for part in query.split("&")
            ]
            if query
            else []
        )
        return f"{scheme}{sep}{base}{question}{'&'.join(kept)}"

    def __repr__(self) -> str:
        return f"RemoteFile({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemoteFile) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(self.uri)

    def __lt__(self, other: RemoteFile) -> bool:
        return self.uri < other.uri

    @property
    def name(self) -> str:
        """The last part of the key, as ``Path.name``."""
        return self.uri.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]

    def _fs(self) -> tuple[Any, str]:
        return _filesystem(self.uri)

    def info(self) -> Any:
        """The object's ``pyarrow.fs.FileInfo``."""
        fs, where = self._fs()
        return fs.get_file_info(where)

    def is_file(self) -> bool:
        return bool(self.info().type == _pafs().FileType.File)

    def is_dir(self) -> bool:
        return bool(self.info().type == _pafs().FileType.Directory)

    def exists(self) -> bool:
        return bool(self.info().type != _pafs().FileType.NotFound)

    @property
    def size(self) -> int:
        """Bytes stored."""
        if self._size is None:
            self._size = int(self.info().size or 0)
        return self._size

    def open(self, mode: str = "rb", buffering: int = -1) -> Any:
        """Random access (ranges, the fingerprint, backward search): ``read``, ``seek``,
        ``readinto``, ``read_at``."""
        if mode != "rb":
            raise ValueError(mode)
        fs, where = self._fs()
        return fs.open_input_file(where)

    def open_sequential(self) -> Any:
        """One streamed read from the start (compressed files, format detection)."""
        fs, where = self._fs()
        return fs.open_input_stream(where, buffer_size=1 << 20)

    def children(self) -> list[RemoteFile]:
        """Every object under this prefix (recursive, sorted, hidden names left out)."""
        fs, where = self._fs()
        base, _, query = self.uri.partition("?")
        at = base.rstrip("/").rfind(where.rstrip("/"))
        root = base[:at] if at >= 0 else base.split("://", 1)[0] + "://"
        found = []
        pafs = _pafs()
        for item in fs.get_file_info(pafs.FileSelector(where, recursive=True)):
            relative = item.path[len(where) :].strip("/")
            if item.type != pafs.FileType.File or any(
                part.startswith(".") for part in relative.split("/")
            ):
                continue
            uri = root + item.path + (f"?{query}" if query else "")
            found.append(RemoteFile(uri, item.size))
        return sorted(found)


_SECRET_PARAMETERS = frozenset({"access_key", "secret_key", "session_token", "password", "token"})


@functools.lru_cache(maxsize=64)
def _filesystem(uri: str) -> tuple[Any, str]:
    """The file system and the path inside it, once per URI and process."""
    return _pafs().FileSystem.from_uri(uri)  # type: ignore[no-any-return]


Location = Path | RemoteFile
"""Where a log file is: on a local or mounted file system, or on object storage / HDFS."""


def location(text: str | Path) -> Location:
    """A path, or a ``RemoteFile`` for a URI such as ``s3://bucket/prefix``."""
    if isinstance(text, Path):
        return text
    if "://" in text and not text.startswith("file://"):
        return RemoteFile(text)
    return Path(text.removeprefix("file://"))


def _kind_of(path: Path) -> str:
    """What a path that is no regular file is, in French and English."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return tr("introuvable", "not found")
    if stat.S_ISFIFO(mode):
        return tr("tube nommé", "named pipe")
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return tr("périphérique", "device")
    if stat.S_ISLNK(mode):
        return tr("lien cassé", "broken link")
    return tr("pas un fichier ordinaire", "not a regular file")


def expand_paths(
    paths: Sequence[str | Path], notes: list[str] | None = None
) -> tuple[list[Location], list[str]]:
    """Files to read: each file given, and every file under each directory or prefix (sorted,
    recursive). Returns the files and a message per path that could not be used: a named pipe,
    socket, device or broken link in a directory is one (it is not read). Hidden files in a
    directory (``.name``: editors' and rsync's temporary copies) are left out on purpose; how
    many, per directory, is added to ``notes``."""
    files: list[Location] = []
    problems: list[str] = []
    for raw in paths:
        where = location(raw)
        if isinstance(where, RemoteFile):
            try:
                info = where.info()
            except (OSError, ValueError) as exc:
                problems.append(f"{where}: inaccessible / unreachable ({exc})")
                continue
            if info.type == _pafs().FileType.File:
                files.append(RemoteFile(where.uri, info.size))
            elif info.type == _pafs().FileType.Directory:
                found_remote = where.children()
                if not found_remote:
                    problems.append(f"{where}: dossier vide / empty directory")
                files.extend(found_remote)
            else:
                problems.append(f"{where}: " + tr("introuvable", "not found"))
            continue
        path = where
        if path.is_dir():
            found: list[Path] = []
            hidden = 0
            for p in sorted(path.rglob("*")):
                if any(part.startswith(".") for part in p.relative_to(path).parts):
                    hidden += not p.is_dir()
                elif p.is_file():
                    found.append(p)
                elif not p.is_dir():
                    problems.append(
                        f"{p}: {_kind_of(p)} — non lu, loyaute ne lit que des fichiers ordinaires "
                        "/ not read, loyaute reads regular files only"
                    )
            if hidden and notes is not None:
                notes.append(
                    f"{path}: {hidden} fichier(s) caché(s) (.nom) non lu(s), comme prévu : les "
                    "nommer un par un pour les lire / hidden file(s) (.name) not read, as "
                    "designed: name them one by one to read them"
                )
            if not found:
                problems.append(f"{path}: dossier vide / empty directory")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists() or path.is_symlink():
            problems.append(
                f"{path}: {_kind_of(path)} — non lu, loyaute ne lit que des fichiers ordinaires "
                "/ not read, loyaute reads regular files only"
            )
        else:
            problems.append(f"{path}: " + tr("introuvable", "not found"))
    return files, problems


def compression_of(path: Location) -> str | None:
    """``gzip``, ``bz2``, ``zstd`` or None (plain), from the file's first bytes."""
    with path.open("rb") as f:
        magic = f.read(4)
    if magic.startswith(GZIP_MAGIC):
        return "gzip"
    if magic.startswith(BZ2_MAGIC):
        return "bz2"
    if magic.startswith(ZSTD_MAGIC):
        return "zstd"
    return None


def open_stream(path: Location) -> IO[bytes]:
    """Open a log file for reading, decompressing on the fly."""
    try:
        kind = compression_of(path)
        if isinstance(path, RemoteFile):
            raw = path.open_sequential()
            if kind == "gzip":
                return io.BufferedReader(_Owning(gzip.GzipFile(fileobj=raw, mode="rb"), raw))
            if kind == "bz2":
                return io.BufferedReader(_Owning(bz2.BZ2File(raw, "rb"), raw))
            if kind == "zstd":
                return io.BufferedReader(_ZstdReader(path))
            return io.BufferedReader(_Owning(raw, raw))
        if kind == "gzip":
            return io.BufferedReader(gzip.GzipFile(path, "rb"))
        if kind == "bz2":
            return io.BufferedReader(bz2.BZ2File(path, "rb"))
        if kind == "zstd":
            return io.BufferedReader(_ZstdReader(path))
        return path.open("rb", buffering=0)
    except OSError as exc:
        raise ReadError(path, f"illisible / unreadable ({exc.strerror or exc})") from exc


class _Owning(io.RawIOBase):
    """A reader over ``inner`` that also closes ``owned`` (a remote stream under a decompressor,
    which the decompressor would leave open)."""

    def __init__(self, inner: Any, owned: Any) -> None:
        self._inner = inner
        self._owned = owned

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._inner.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            if self._owned is not self._inner:
                self._owned.close()
            super().close()


DECOMPRESSION_ERRORS = (EOFError, zlib.error, OSError, ValueError)
"""What reading a damaged compressed stream raises (``CorruptData`` is a ValueError)."""


def _read(stream: IO[bytes], size: int, path: Location) -> bytes:
    try:
        return stream.read(size)
    except DECOMPRESSION_ERRORS as exc:
        raise ReadError(
            path, f"fichier tronqué ou corrompu / truncated or corrupt file ({exc})"
        ) from exc


def head(path: Location, max_lines: int = 40, max_bytes: int = 256 << 10) -> list[bytes]:
    """The first non-empty lines of a file (decompressed), for format detection.

    Reads in small pieces so that a truncated compressed file still shows its beginning."""
    pieces: list[bytes] = []
    size = 0
    with open_stream(path) as stream:
        while size < max_bytes:
            try:
                piece = stream.read(min(16 << 10, max_bytes - size))
            except DECOMPRESSION_ERRORS as exc:
                if not pieces:
                    raise ReadError(
                        path, f"données compressées illisibles / unreadable compressed data ({exc})"
                    ) from exc
                break
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
            if b"".join(pieces).count(b"\n") > max_lines * 2:
                break
    data = b"".join(pieces)
    lines = [ln.rstrip(b"\r") for ln in data.split(b"\n")]
    return [ln for ln in lines if ln.strip()][:max_lines]


class _RangeReader(io.RawIOBase):
    """Reads bytes ``[start, end)`` of a plain file, for splitting one file across workers."""

    def __init__(self, path: Location, start: int, end: int) -> None:
        self._f = path.open("rb", buffering=0)
        self._f.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        n = min(len(view), self._left)
        if n <= 0:
            return 0
        got = self._f.readinto(view[:n]) or 0
        self._left -= got
        return got

    def close(self) -> None:
        self._f.close()
        super().close()


def split_points(
    path: Location, parts: int, min_part_bytes: int = 64 << 20
) -> list[tuple[int, int]]:
    """Byte ranges of a plain file, cut just after a newline, for parallel parsing."""
    size = file_size(path)
    parts = max(1, min(parts, size // max(1, min_part_bytes)))
    if parts <= 1 or compression_of(path) is not None:
        return [(0, size)]
    cuts = [0]
    with BackwardReader(path) as reader:
        for i in range(1, parts):
            nl = reader.find(b"\n", size * i // parts, size)
            at = size if nl < 0 else nl + 1
            if cuts[-1] < at < size:
                cuts.append(at)
    cuts.append(size)
    return list(itertools.pairwise(cuts))


def iter_blocks(
    path: Location,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    byte_range: tuple[int, int] | None = None,
) -> Iterator[bytes | LongLine]:
    """Yield blocks of complete lines (about ``chunk_bytes`` each) and a ``LongLine`` in place
    of every line longer than ``max_line_bytes``; the last line may lack its newline.

    Reading goes by blocks no larger than ``max_line_bytes``: a line inside one block is then
    short enough by construction, and only a line spanning blocks needs measuring.
    On truncated or corrupt compressed data, what was read is yielded, then ``ReadError``.
    """
    plain = compression_of(path) is None
    if plain and isinstance(path, Path):
        start, end = byte_range if byte_range is not None else (0, file_size(path))
        yield from _plain_blocks(path, chunk_bytes, max_line_bytes, start, end)
        return
    if plain and byte_range is None:  # remote and plain: ranged reads of a whole block each
        byte_range = (0, file_size(path))
    block_size = max(1, min(chunk_bytes, max_line_bytes))
    if byte_range is None:
        # Small reads, so that a truncated stream loses at most one piece of what it holds.
        block_size = min(block_size, COMPRESSED_READ_BYTES)
    pending = bytearray()
    partial = bytearray()
    partial_too_long = False
    opened: IO[bytes] = (
        open_stream(path)
        if byte_range is None
        else io.BufferedReader(_RangeReader(path, *byte_range))
    )
    with opened as stream:
        while True:
            try:
                block = _read(stream, block_size, path)
            except ReadError:
                if pending:
                    yield bytes(pending)
                if partial and not partial_too_long:
                    yield bytes(partial)
                raise
            if not block:
                break
            first_nl = block.find(b"\n")
            if first_nl < 0:
                if not partial_too_long:
                    partial += block
                    if len(partial) > max_line_bytes:
                        partial_too_long = True
                        partial.clear()
                continue
            if partial_too_long or len(partial) + first_nl > max_line_bytes:
                if pending:
                    yield bytes(pending)
                    pending.clear()
                yield LongLine()
                partial_too_long = False
            else:
                pending += partial
                pending += block[: first_nl + 1]
            partial.clear()
            last_nl = block.rfind(b"\n")
            pending += block[first_nl + 1 : last_nl + 1]
            partial += block[last_nl + 1 :]
            if len(pending) >= chunk_bytes:
                yield bytes(pending)
                pending.clear()
    if partial_too_long:
        if pending:
            yield bytes(pending)
            pending.clear()
        yield LongLine()
    else:
        pending += partial
    if pending:
        yield bytes(pending)


def _plain_blocks(
    path: Path, chunk_bytes: int, max_line_bytes: int, start: int, end: int
) -> Iterator[bytes | LongLine]:
    """Plain files: blocks read with ``pread`` (never a memory map: a file cut short while it is
    read, as logrotate's ``copytruncate`` does, would kill the process with SIGBUS; here it is a
    ``ReadError`` for that file alone).

    Each read covers at least ``max_line_bytes + 1`` bytes, so long lines are found without
    looking at every line: from a line start ``p``, the last newline within ``max_line_bytes + 1``
    bytes ends every line that starts before it, so they are all short enough; no newline in that
    window means the line at ``p`` is too long.
    """
    if end <= start:
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise ReadError(path, f"illisible / unreadable ({exc.strerror or exc})") from exc
    window_bytes = max(chunk_bytes, max_line_bytes + 1)
    try:
        pos = start
        while pos < end:
            want = min(window_bytes, end - pos)
            buf = _pread(fd, want, pos, path)
            last = pos + want >= end
            cut = want if last else buf.rfind(b"\n") + 1
            if cut == 0:  # no newline in more than max_line_bytes: one long line
                yield LongLine()
                pos = _after_newline(fd, pos + want, end, path)
                continue
            block_start = p = 0
            while p < cut:
                window = min(cut, p + max_line_bytes + 1)
                q = buf.rfind(b"\n", p, window)
                if q >= 0:
                    p = q + 1
                    continue
                if window == cut and cut - p <= max_line_bytes:
                    break  # the range's last line, without newline, short enough
                if p > block_start:
                    yield buf[block_start:p]
                yield LongLine()
                nl = buf.find(b"\n", p, cut)
                p = block_start = cut if nl < 0 else nl + 1
            if cut > block_start:
                yield buf[block_start:cut]
            pos += cut
    finally:
        os.close(fd)


def _pread(fd: int, size: int, offset: int, path: Path) -> bytes:
    """Exactly ``size`` bytes at ``offset``, or ``ReadError`` when the file is now shorter."""
    try:
        data = os.pread(fd, size, offset)
        while len(data) < size:
            more = os.pread(fd, size - len(data), offset + len(data))
            if not more:
                break
            data += more
    except OSError as exc:
        raise ReadError(path, f"illisible / unreadable ({exc.strerror or exc})") from exc
    if len(data) < size:
        raise ReadError(path, SHRUNK_MESSAGE)
    return data


SHRUNK_MESSAGE = (
    "le fichier a raccourci pendant sa lecture (rotation « copytruncate » ?) : le relire une fois "
    "la rotation finie / the file shrank while it was read (copytruncate rotation?): read it "
    "again once the rotation is over"
)


def _after_newline(fd: int, pos: int, end: int, path: Path) -> int:
    """The offset just after the next newline at or after ``pos`` (``end`` when none)."""
    while pos < end:
        want = min(COMPRESSED_READ_BYTES * 16, end - pos)
        piece = _pread(fd, want, pos, path)
        nl = piece.find(b"\n")
        if nl >= 0:
            return pos + nl + 1
        pos += want
    return end


class BackwardReader:
    """Searches a file backwards in bounded windows (``rfind``, ``find``, slices), so finding
    the directive in force before an offset never maps or reads the whole prefix."""

    WINDOW = 1 << 20

    def __init__(self, path: Location) -> None:
        self._f = path.open("rb")
        self.size = (
            path.size if isinstance(path, RemoteFile) else os.fstat(self._f.fileno()).st_size
        )

    def close(self) -> None:
        """Close the file."""
        self._f.close()

    def __enter__(self) -> BackwardReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self, start: int, end: int) -> bytes:
        start, end = max(0, start), min(self.size, end)
        if end <= start:
            return b""
        if hasattr(self._f, "read_at"):  # a remote file: one ranged read
            return bytes(self._f.read_at(end - start, start))
        return os.pread(self._f.fileno(), end - start, start)

    def __getitem__(self, item: slice) -> bytes:
        start = item.start or 0
        stop = self.size if item.stop is None else item.stop
        return self._read(start, stop)

    def rfind(self, sub: bytes, start: int, end: int) -> int:
        """Last occurrence of ``sub`` in [start, end), or -1."""
        hi = min(end, self.size)
        while hi > start:
            lo = max(start, hi - self.WINDOW)
            chunk = self._read(lo, min(hi + len(sub) - 1, end))
            at = chunk.rfind(sub)
            if at >= 0:
                return lo + at
            hi = lo
        return -1

    def find(self, sub: bytes, start: int, end: int) -> int:
        """First occurrence of ``sub`` in [start, end), or -1."""
        lo = start
        while lo < min(end, self.size):
            hi = min(end, lo + self.WINDOW)
            chunk = self._read(lo, min(hi + len(sub) - 1, end))
            at = chunk.find(sub)
            if at >= 0:
                return lo + at
            lo = hi
        return -1


def file_size(path: Location) -> int:
    """Size on disk (compressed size for compressed files), for progress bars."""
    try:
        return path.size if isinstance(path, RemoteFile) else os.stat(path).st_size
    except OSError:
        return 0
