"""Exchange IIS W3C logs: Outlook, OWA and mobile mail (category ``mail``).

``#Fields:`` gives the layout and may be written again mid-file with another layout (after
every restart), so the layout is re-read at each directive. Runs of lines under a known layout
are parsed by Arrow's CSV reader and classified with vectorised kernels; lines cut from their
header (an excerpt, a forwarded stream) are split in Python, locating the fields around the
method and status as Elastic's IIS module does for its common layouts.

A line is a trace when it has a user, a 2xx/3xx status, comes from the front-end site (the
back-end site on port 444 logs every request again) and is not a health probe. IIS writes the
line when the request completes, in UTC: ``start`` = logged time − ``time-taken``.

Interactive or background follows the table of FORMATS.md: OWA actions and phone commands a
person makes are interactive; Outlook's MAPI/RPC/EWS sync, autodiscover, OWA notification
channels and ActiveSync Ping/Sync are background.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from loyaute.sources.base import (
    EVENT_SCHEMA,
    SKIP_SCHEMA,
    TS_TYPE,
    Chunk,
    LineParser,
    Parsed,
    Reason,
    Searchable,
    Source,
    split_lines,
)
from loyaute.sources.columns import (
    Distinct,
    mask_true,
    numpy_bool,
    per_distinct,
    to_int,
    utc_date_time,
)
from loyaute.sources.people import decode_text, login_reason

LOGICAL = ("date", "time", "stem", "query", "port", "user", "ua", "status", "taken")
W3C_NAMES = {
    "date": "date",
    "time": "time",
    "cs-uri-stem": "stem",
    "cs-uri-query": "query",
    "s-port": "port",
    "cs-username": "user",
    "cs(user-agent)": "ua",
    "sc-status": "status",
    "time-taken": "taken",
}

# Stem classes
NOT_EXCHANGE, PROBE, BACKGROUND, INTERACTIVE, OWA_SERVICE, ACTIVESYNC = range(6)

INTERACTIVE_EAS = frozenset(
    {
        "sendmail",
        "smartreply",
        "smartforward",
        "meetingresponse",
        "moveitems",
        "search",
        "foldercreate",
        "folderdelete",
        "folderupdate",
        "resolverecipients",
    }
)
INTERACTIVE_OWA = frozenset(
    {
        "getitem",
        "createitem",
        "updateitem",
        "finditem",
        "findconversation",
        "senditem",
        "deleteitem",
        "moveitem",
        "copyitem",
        "getconversationitems",
        "createattachment",
        "createattachmentfromlocalfile",
        "getattachment",
        "findpeople",
        "getpersona",
        "markasjunk",
        "applyconversationaction",
        "updatefolder",
        "createfolder",
        "deletefolder",
        "movefolder",
        "respondtomeetingrequest",
        "createcalendarevent",
        "updatecalendarevent",
        "cancelcalendarevent",
        "forwarditem",
        "replyitem",
    }
)

_CMD_RE = r"(?i)(?:^|[&?])cmd=(?P<verb>[A-Za-z]+)"
_ACTION_RE = r"(?i)(?:^|[&?])action=(?P<verb>[A-Za-z]+)"
_USER_QUERY_RE = r"(?i)(?:^|[&?])user=(?P<user>[^&]+)"
_METHOD_RE = re.compile(rb"^[A-Z][A-Z_-]{1,20}$")


EXCHANGE_BACKGROUND = frozenset({"mapi", "rpc", "ews", "autodiscover", "oab", "powershell"})
OWA_SIGN_IN = frozenset({"", "auth.owa", "auth/logon.aspx", "default.aspx"})


def stem_class(raw: bytes | None) -> int:
    """Classify a URL stem (case-insensitive) by its first path segment."""
    if not raw:
        return NOT_EXCHANGE
    stem = raw.decode("latin-1").lower()
    if stem.endswith("/healthcheck.htm"):
        return PROBE
    head, _, rest = stem.lstrip("/").partition("/")
    if head == "microsoft-server-activesync":
        return ACTIVESYNC
    if head == "owa":
        if rest in OWA_SIGN_IN:
            return INTERACTIVE
        if rest.startswith("service.svc"):
            return OWA_SERVICE
        return BACKGROUND
    if head == "ecp":
        return INTERACTIVE
    if head in EXCHANGE_BACKGROUND:
        return BACKGROUND
    return NOT_EXCHANGE


_CMD_PY = re.compile(_CMD_RE.encode())
_ACTION_PY = re.compile(_ACTION_RE.encode())


def verb_class(verb: bytes, interactive: frozenset[str]) -> int:
    """INTERACTIVE when an ActiveSync command or OWA action is one a person makes."""
    return INTERACTIVE if verb.decode("latin-1").lower() in interactive else BACKGROUND


def request_class(
    stem: bytes | None,
    query: bytes | None,
    interactive_activesync: frozenset[str] = INTERACTIVE_EAS,
    interactive_owa: frozenset[str] = INTERACTIVE_OWA,
) -> int:
    """Classify one request (row by row, for the HttpProxy logs); same rules as the IIS path."""
    klass = stem_class(stem)
    if klass == ACTIVESYNC:
        m = _CMD_PY.search(query or b"")
        return verb_class(m.group("verb"), interactive_activesync) if m else BACKGROUND
    if klass == OWA_SERVICE:
        m = _ACTION_PY.search(query or b"")
        return verb_class(m.group("verb"), interactive_owa) if m else BACKGROUND
    return klass


def protocol_of(raw: bytes | None) -> str | None:
    """The Exchange protocol a stem belongs to (``owa``, ``activesync``, ``mapi``…)."""
    if not raw:
        return None
    stem = raw.decode("latin-1").lower().lstrip("/")
    head = stem.split("/", 1)[0]
    if head == "microsoft-server-activesync":
        return "activesync"
    return head or None


@dataclass(frozen=True)
class Layout:
    """A ``#Fields:`` layout: the W3C names and where the logical columns sit."""

    names: tuple[str, ...]

    @property
    def positions(self) -> dict[str, int]:
        """Logical column → index in the line."""
        out: dict[str, int] = {}
        for i, name in enumerate(self.names):
            logical = W3C_NAMES.get(name.lower())
            if logical and logical not in out:
                out[logical] = i
        return out

    @property
    def usable(self) -> bool:
        """A layout without date, time, stem and user cannot give a trace."""
        return {"date", "time", "stem", "user"} <= set(self.positions)


def parse_fields_directive(line: bytes) -> Layout | None:
    """``#Fields: date time …`` (also ``# Fields:``) → its layout."""
    text = line.lstrip(b"#").strip()
    if not text.lower().startswith(b"fields:"):
        return None
    names = tuple(decode_text(text[7:]).split())
    return Layout(names) if names else None


def guess_fields(parts: list[bytes]) -> dict[str, bytes] | None:
    """Locate the logical fields of a line cut from its header, or None.

    The line starts with date and time; the method is the first upper-case token followed by
    a path, then stem, query, port, user. The status is the first run of three numbers after
    the user agent; time-taken is the last number of the numeric run that follows the status
    (``sc-bytes cs-bytes time-taken`` or ``time-taken`` alone).
    """
    if len(parts) < 10:
        return None
    method_at = None
    for i in range(2, min(6, len(parts) - 4)):
        if _METHOD_RE.match(parts[i]) and parts[i + 1].startswith(b"/"):
            method_at = i
            break
    if method_at is None:
        return None
    stem, query, port, user = parts[method_at + 1 : method_at + 5]
    if not port.isdigit():
        return None
    out = {
        "date": parts[0],
        "time": parts[1],
        "stem": stem,
        "query": query,
        "port": port,
        "user": user,
    }
    rest_at = method_at + 6  # after c-ip
    if rest_at < len(parts) and parts[rest_at].startswith(b"HTTP/"):
        rest_at += 1
    if rest_at < len(parts):
        out["ua"] = parts[rest_at]
    for j in range(rest_at + 1, len(parts) - 2):
        a, b, c = parts[j], parts[j + 1], parts[j + 2]
        if len(a) == 3 and a.isdigit() and b.isdigit() and c.isdigit():
            out["status"] = a
            k = j + 3
            run: list[bytes] = []
            while k < len(parts) and parts[k].isdigit() and len(run) < 3:
                run.append(parts[k])
                k += 1
            if len(run) in (1, 3):
                out["taken"] = run[-1]
            elif run:
                out["taken"] = run[0]
            break
    if "status" not in out:
        return None
    return out


@dataclass(frozen=True)
class ExchangeIisSource(Source):
    """Exchange front-end IIS logs (``u_exYYMMDD.log``)."""

    name = "exchange-iis"
    category = "mail"
    description = "Exchange IIS W3C (u_ex*.log): Outlook, OWA, ActiveSync"

    backend_ports: frozenset[bytes] = field(default_factory=lambda: frozenset({b"444"}))
    interactive_activesync: frozenset[str] = INTERACTIVE_EAS
    interactive_owa: frozenset[str] = INTERACTIVE_OWA

    def sniff(self, head: Sequence[bytes]) -> int:
        """``#Software: Microsoft Internet Information Services`` / ``#Fields: date time``."""
        score = 0
        for line in head:
            low = line.lower()
            if low.startswith(b"#software: microsoft internet information services"):
                score = max(score, 90)
            elif low.lstrip(b"# ").startswith(b"fields: date time"):
                score = max(score, 85)
            elif re.match(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S", line):
                parts = line.split(b" ")
                if guess_fields(parts) is not None:
                    exchange = stem_class(guess_fields(parts).get("stem"))  # type: ignore[union-attr]
                    score = max(score, 75 if exchange != NOT_EXCHANGE else 55)
        return score

    def parser(self) -> LineParser:
        """A parser for one file; it follows each ``#Fields`` directive."""
        return _IisParser(self, None)

    def prefix_state(self, data: Searchable, offset: int) -> object | None:
        """The layout in force at ``offset``: the last ``#Fields`` directive before it."""
        at = max(data.rfind(b"\n#Fields:", 0, offset), data.rfind(b"\n# Fields:", 0, offset))
        if at < 0:
            if not (data[:8] == b"#Fields:" or data[:9] == b"# Fields:"):
                return None
            at = -1
        end = data.find(b"\n", at + 1, offset)
        return parse_fields_directive(bytes(data[at + 1 : end if end >= 0 else offset]).rstrip())

    def parser_at(self, state: object | None) -> LineParser:
        """A parser starting mid-file under the given layout."""
        return _IisParser(self, state if isinstance(state, Layout) else None)


class _IisParser(LineParser):
    def __init__(self, source: ExchangeIisSource, layout: Layout | None) -> None:
        self.source = source
        self.layout = layout

    def parse(self, chunk: Chunk) -> Parsed:
        data = bytes(chunk.data)
        n = len(data)
        if not n:
            return Parsed()
        # One vectorised look at the block: where lines start, which are directives (``#``),
        # which are blank, and where a carriage return stands alone. Runs between directives
        # without blank lines or stray returns go to Arrow's CSV reader; the others line by line.
        arr = np.frombuffer(data, dtype=np.uint8)
        starts = np.flatnonzero(arr == 10) + 1
        starts = np.concatenate(([0], starts[starts < n]))
        first = arr[starts]
        after = arr[np.minimum(starts + 1, n - 1)]
        directives = starts[first == ord("#")].tolist()
        blank = starts[(first == 10) | ((first == 13) & (after == 10) & (starts + 1 < n))]
        returns = np.flatnonzero(arr == 13)
        stray = returns[(returns + 1 >= n) | (arr[np.minimum(returns + 1, n - 1)] != 10)]
        rough = np.sort(np.concatenate((blank, stray)))

        parts: list[Parsed] = []
        line = chunk.first_line
        pos = 0
        for at in [*directives, n]:
            if at > pos:
                lo, hi = np.searchsorted(rough, [pos, at])
                parsed, count = self._segment(data[pos:at], line, clean=bool(hi == lo))
                parts.append(parsed)
                line += count
            if at == n:
                break
            end = data.find(b"\n", at)
            end = n if end < 0 else end + 1
            layout = parse_fields_directive(data[at:end].rstrip(b"\r\n"))
            if layout is not None:
                self.layout = layout
            parts.append(_skips([line], Reason.HEADER))
            line += 1
            pos = end
        return Parsed.concat(parts)

    def _segment(self, segment: bytes, first_line: int, clean: bool) -> tuple[Parsed, int]:
        """A run of lines without directive; ``clean``: no blank line and no stray return."""
        layout = self.layout
        clean = clean and layout is not None and layout.usable and _utf8(segment)
        if clean and layout is not None:
            cols, lines, pre = _read_layout(segment, first_line, layout)
        else:
            cols, lines, pre = _read_lines(segment, first_line, layout)
        return _classify(self.source, cols, lines, pre), len(lines)


def _utf8(segment: bytes) -> bool:
    """Arrow's CSV reader decodes rejected rows as UTF-8: other bytes go the line-by-line way."""
    if segment.isascii():
        return True
    try:
        segment.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _skips(lines: list[int], reason: Reason) -> Parsed:
    n = len(lines)
    batch = pa.RecordBatch.from_arrays(
        [
            pa.array(lines, pa.int64()),
            pa.array([reason.value] * n, pa.string()),
            pa.nulls(n, TS_TYPE),
            pa.nulls(n, pa.string()),
        ],
        schema=SKIP_SCHEMA,
    )
    return Parsed(skipped=batch)


Columns = dict[str, pa.Array]


def _read_layout(
    segment: bytes, first_line: int, layout: Layout
) -> tuple[Columns, np.ndarray, pa.Array]:
    """Arrow's CSV reader over a run of lines sharing one layout."""
    names = [f"c{i}" for i in range(len(layout.names))]
    positions = layout.positions
    wanted = {logical: names[i] for logical, i in positions.items()}
    invalid: list[int] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        invalid.append(int(row.number))
        return "skip"

    table = pcsv.read_csv(
        pa.BufferReader(segment),
        read_options=pcsv.ReadOptions(column_names=names, use_threads=False, block_size=1 << 22),
        parse_options=pcsv.ParseOptions(
            delimiter=" ",
            quote_char=False,
            escape_char=False,
            newlines_in_values=False,
            invalid_row_handler=on_invalid,
        ),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(wanted.values(), pa.binary()),
            include_columns=list(wanted.values()),
            strings_can_be_null=False,
            check_utf8=False,
        ),
    )
    total = table.num_rows + len(invalid)
    numbers = np.arange(first_line, first_line + total, dtype=np.int64)
    cols: Columns = {}
    for logical in LOGICAL:
        if logical in wanted:
            cols[logical] = table.column(wanted[logical]).combine_chunks()
        else:
            cols[logical] = pa.nulls(table.num_rows, pa.binary())
    pre = pa.nulls(table.num_rows, pa.string())
    if not invalid:
        return cols, numbers, pre
    # Rows that do not fit the declared layout get a second chance line by line (a layout
    # change without a directive, an unencoded space); they are appended after the others.
    bad = np.asarray(invalid, dtype=np.int64) - 1
    keep = np.ones(total, dtype=bool)
    keep[bad] = False
    all_lines = split_lines(segment)
    retry_cols, _, retry_pre = _columns([all_lines[i] for i in bad.tolist()], None)
    cols = {k: pa.concat_arrays([cols[k], retry_cols[k]]) for k in LOGICAL}
    pre = pa.concat_arrays([pre, retry_pre])
    numbers = np.concatenate([numbers[keep], numbers[~keep]])
    return cols, numbers, pre


def _read_lines(
    segment: bytes, first_line: int, layout: Layout | None
) -> tuple[Columns, np.ndarray, pa.Array]:
    """Line by line: for headerless runs and runs with blank lines or stray carriage returns."""
    lines = split_lines(segment)
    cols, n, pre = _columns(lines, layout)
    return cols, np.arange(first_line, first_line + n, dtype=np.int64), pre


def _columns(lines: list[bytes], layout: Layout | None) -> tuple[Columns, int, pa.Array]:
    """Split lines in Python: by the layout when the width fits, else by ``guess_fields``."""
    values: dict[str, list[bytes | None]] = {logical: [] for logical in LOGICAL}
    pre: list[str | None] = []
    positions = layout.positions if layout is not None and layout.usable else None
    width = len(layout.names) if layout is not None else 0
    for raw in lines:
        found: dict[str, bytes] | None = None
        reason: str | None = None
        if not raw.strip():
            reason = Reason.BLANK.value
        else:
            parts = raw.split(b" ")
            if positions is not None and len(parts) == width:
                found = {logical: parts[i] for logical, i in positions.items()}
            else:
                found = guess_fields(parts)
                if found is None:
                    reason = Reason.MALFORMED.value
        for logical in LOGICAL:
            values[logical].append(found.get(logical) if found else None)
        pre.append(reason)
    cols = {logical: pa.array(values[logical], pa.binary()) for logical in LOGICAL}
    return cols, len(lines), pa.array(pre, pa.string())


def _subset_classes(
    classes: np.ndarray, which: int, query: pa.Array, pattern: str, interactive: frozenset[str]
) -> None:
    """Resolve a query-dependent stem class (ActiveSync Cmd, OWA action) in place."""
    idx = np.flatnonzero(classes == which)
    if not len(idx):
        return
    sub = query.take(pa.array(idx))
    verb = pc.extract_regex(pc.fill_null(sub, b""), pattern)
    names = pc.struct_field(verb, [0])

    mapped = pc.fill_null(
        per_distinct(names, lambda verb: verb_class(verb, interactive), pa.int8()), BACKGROUND
    )
    classes[idx] = mapped.to_numpy(zero_copy_only=False)


def _classify(source: ExchangeIisSource, cols: Columns, lines: np.ndarray, pre: pa.Array) -> Parsed:
    n = len(lines)
    if n == 0:
        return Parsed()
    ts = utc_date_time(cols["date"], cols["time"])
    stems = Distinct(cols["stem"])
    stem_classes = pc.fill_null(stems.map(stem_class, pa.int8()), NOT_EXCHANGE)
    classes = np.array(stem_classes.to_numpy(zero_copy_only=False), dtype=np.int8)
    activesync = classes == ACTIVESYNC
    query = cols["query"]
    _subset_classes(classes, ACTIVESYNC, query, _CMD_RE, source.interactive_activesync)
    _subset_classes(classes, OWA_SERVICE, query, _ACTION_RE, source.interactive_owa)

    users = cols["user"]
    user_values = Distinct(users)
    user_reason = pc.if_else(
        pc.is_null(users),
        pa.scalar(Reason.NO_USER.value),
        user_values.map(_user_reason, pa.string()),
    )
    logins = user_values.map(_login_text, pa.string())
    # ActiveSync also names the user in the query (User=…) when cs-username is empty.
    no_user = numpy_bool(pc.equal(user_reason, Reason.NO_USER.value))
    eas_fallback = np.flatnonzero(no_user & activesync)
    if len(eas_fallback):
        logins, user_reason = _query_users(query, eas_fallback, logins, user_reason)

    probe_ua = per_distinct(cols["ua"], lambda v: v.startswith(b"AMProbe"), pa.bool_())
    backend = per_distinct(cols["port"], lambda v: v in source.backend_ports, pa.bool_())
    status_ok = per_distinct(
        cols["status"],
        lambda v: len(v) == 3 and v[:1] in (b"2", b"3") and v.isdigit(),
        pa.bool_(),
    )
    classes_arr = pa.array(classes, pa.int8())
    empty = None
    for logical in ("date", "time", "stem", "user"):
        col = pc.equal(pc.fill_null(pc.binary_length(cols[logical]), 0), 0)
        empty = col if empty is None else pc.and_(empty, col)
    pre = pc.if_else(pc.and_(pc.is_null(pre), empty), pa.scalar(Reason.BLANK.value), pre)
    reason = pc.case_when(
        pc.make_struct(
            pc.is_valid(pre),
            pc.is_null(ts),
            mask_true(pc.or_(probe_ua, pc.equal(classes_arr, PROBE))),
            mask_true(backend),
            pc.equal(classes_arr, NOT_EXCHANGE),
            pc.is_valid(user_reason),
            pc.invert(mask_true(status_ok)),
            field_names=[str(i) for i in range(7)],
        ),
        pre,
        Reason.BAD_TIME.value,
        Reason.PROBE.value,
        Reason.BACKEND.value,
        Reason.NOT_EXCHANGE.value,
        user_reason,
        Reason.FAILED_STATUS.value,
    )
    is_event = pc.is_null(reason)
    taken_us = pc.multiply(to_int(cols["taken"]), 1000)
    ts_ts = pc.cast(ts, pa.int64())
    start = pc.subtract(ts_ts, taken_us)
    apps = stems.map(protocol_of, pa.string())
    line_arr = pa.array(lines, pa.int64())
    interactive = pc.equal(classes_arr, INTERACTIVE)
    event_ts = ts.filter(is_event).cast(TS_TYPE)
    events = pa.RecordBatch.from_arrays(
        [
            line_arr.filter(is_event),
            event_ts,
            start.filter(is_event).cast(TS_TYPE),
            event_ts,
            logins.filter(is_event),
            pa.repeat(pa.scalar("mail"), len(event_ts)),
            interactive.filter(is_event),
            apps.filter(is_event),
        ],
        schema=EVENT_SCHEMA,
    )
    is_skip = pc.invert(is_event)
    skip_login = pc.if_else(
        pc.equal(pc.fill_null(user_reason, ""), Reason.NO_USER.value),
        pa.scalar(None, pa.string()),
        logins,
    )
    skipped = pa.RecordBatch.from_arrays(
        [
            line_arr.filter(is_skip),
            reason.filter(is_skip),
            ts.filter(is_skip).cast(TS_TYPE),
            skip_login.filter(is_skip),
        ],
        schema=SKIP_SCHEMA,
    )
    return Parsed(events, skipped)


@lru_cache(maxsize=1 << 16)
def _login_text(raw: bytes) -> str:
    """A login as written, decoded (cached: the same few thousand logins fill every block)."""
    return decode_text(raw)


@lru_cache(maxsize=1 << 16)
def _user_reason(raw: bytes) -> str | None:
    reason = login_reason(decode_text(raw))
    return reason.value if reason is not None else None


def _query_users(
    query: pa.Array, rows: np.ndarray, logins: pa.Array, user_reason: pa.Array
) -> tuple[pa.Array, pa.Array]:
    """Take the ``User=`` of the query for the given rows (as written, URL-encoding kept)."""
    sub = pc.fill_null(query.take(pa.array(rows)), b"")
    found = pc.struct_field(pc.extract_regex(sub, _USER_QUERY_RE), [0])
    values = Distinct(found)
    names = values.map(decode_text, pa.string())
    reasons = values.map(_user_reason, pa.string())
    has = numpy_bool(pc.is_valid(names))
    if not has.any():
        return logins, user_reason
    mask = np.zeros(len(logins), dtype=bool)
    mask[rows[has]] = True
    keep = pa.array(has)
    logins = pc.replace_with_mask(logins, pa.array(mask), names.filter(keep))
    user_reason = pc.replace_with_mask(user_reason, pa.array(mask), reasons.filter(keep))
    return logins, user_reason
