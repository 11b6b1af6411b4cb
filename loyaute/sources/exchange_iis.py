"""Exchange IIS W3C logs: Outlook, OWA and mobile mail (category ``mail``).

``#Fields:`` gives the layout and may be written again mid-file with another layout (after
every restart), so the layout is re-read at each directive. Runs of lines under a known layout
are parsed by Arrow's CSV reader and classified on whole columns (each user name and URL stem
judged once per worker); lines cut from their header (an excerpt, a forwarded stream) are split in
Python, locating the fields around the method and status as Elastic's IIS module does for its
common layouts. A UTF-8 byte order mark before the first line is ignored.

A line is a trace when it has a user, a 2xx/3xx status, comes from the front-end site (the
back-end site on port 444 logs every request again), is not a health probe and was not refused by
Exchange's forms sign-in (see ``_REFUSED_RE``). IIS writes the line when the request completes, in
UTC: ``start`` = logged time − ``time-taken``.

Interactive or background follows the table of FORMATS.md: OWA actions and phone commands a
person makes are interactive; Outlook's MAPI/RPC/EWS sync, autodiscover, OWA notification
channels and ActiveSync Ping/Sync are background.
"""

from __future__ import annotations

import re
import threading
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
    Memo,
    Vocabulary,
    digits_to_int,
    lengths,
    numpy_bool,
    timestamps,
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
BOM = b"\xef\xbb\xbf"
"""The UTF-8 byte order mark some tools write before a file's first line."""


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
        for raw in head:
            line = raw.removeprefix(BOM)
            low = line.lower()
            if low.startswith(b"#software: microsoft internet information services"):
                score = max(score, 90)
            elif low.lstrip(b"# ").startswith(b"fields: date time"):
                score = max(score, 85)
            elif re.match(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S", line):
                found = guess_fields(line.split(b" "))
                if found is not None:
                    exchange = stem_class(found.get("stem"))
                    score = max(score, 75 if exchange != NOT_EXCHANGE else 55)
        return score

    def parser(self) -> LineParser:
        """A parser for one file; it follows each ``#Fields`` directive."""
        return _IisParser(self, None)

    def prefix_state(self, data: Searchable, offset: int) -> object | None:
        """The layout in force at ``offset``: the last ``#Fields`` directive before it."""
        at = max(data.rfind(b"\n#Fields:", 0, offset), data.rfind(b"\n# Fields:", 0, offset))
        if at < 0:
            first = bytes(data[: min(offset, 16)]).removeprefix(BOM)
            if not first.startswith((b"#Fields:", b"# Fields:")):
                return None
            at = -1
        end = data.find(b"\n", at + 1, offset)
        directive = bytes(data[at + 1 : end if end >= 0 else offset]).removeprefix(BOM)
        return parse_fields_directive(directive.rstrip())

    def parser_at(self, state: object | None) -> LineParser:
        """A parser starting mid-file under the given layout."""
        return _IisParser(self, state if isinstance(state, Layout) else None)


class _IisParser(LineParser):
    def __init__(self, source: ExchangeIisSource, layout: Layout | None) -> None:
        self.source = source
        self.layout = layout
        self.started = False
        self.rules = _rules(source)

    def parse(self, chunk: Chunk) -> Parsed:
        data = bytes(chunk.data)
        if not self.started:
            # A UTF-8 byte order mark (Notepad, some log shippers) before the first line.
            self.started = True
            data = data.removeprefix(BOM)
        if not data:
            return Parsed()
        n = len(data)
        parts: list[Parsed] = []
        line = chunk.first_line
        pos = 0
        while pos < n:
            at = _next_directive(data, pos)
            if at > pos:
                parsed, count = self._segment(data[pos:at], line)
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
        return parts[0] if len(parts) == 1 else Parsed.concat(parts)

    def _segment(self, segment: bytes, first_line: int) -> tuple[Parsed, int]:
        """A run of lines without directive: Arrow's CSV reader under a usable layout, unless a
        stray carriage return (which Arrow reads as a line end) or bytes that are not UTF-8 (which
        its rejected-row hook cannot hand over) send it line by line."""
        layout = self.layout
        if (
            layout is not None
            and layout.usable
            and (b"\r" not in segment or segment.count(b"\r") == segment.count(b"\r\n"))
            and _utf8(segment)
        ):
            batches, count = _read_layout(segment, first_line, layout)
        else:
            lines = split_lines(segment)
            cols, pre = _columns(lines, layout)
            numbers = np.arange(first_line, first_line + len(lines), dtype=np.int64)
            batches, count = [(cols, numbers, pre)], len(lines)
        parsed = [_classify(self.rules, cols, numbers, pre) for cols, numbers, pre in batches]
        return (parsed[0] if len(parsed) == 1 else Parsed.concat(parsed)), count


def _next_directive(data: bytes, pos: int) -> int:
    """Where the next line starting with ``#`` begins (``len(data)`` when none does)."""
    at = data.find(b"#", pos)  # one byte: a memchr, much faster than searching b"\n#"
    while at > pos and data[at - 1] != 0x0A:
        at = data.find(b"#", at + 1)
    return len(data) if at < 0 else at


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
Batch = tuple[Columns, np.ndarray, np.ndarray]
"""Columns by logical name, the line numbers, and per line a pre-decided reason code (0: none)."""


def _read_layout(segment: bytes, first_line: int, layout: Layout) -> tuple[list[Batch], int]:
    """Arrow's CSV reader over a run of lines sharing one layout; lines that do not fit it (a
    blank line, a field more or less) are read again line by line, as a second batch."""
    names = [f"c{i}" for i in range(len(layout.names))]
    wanted = {logical: names[i] for logical, i in layout.positions.items()}
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
            ignore_empty_lines=False,
            invalid_row_handler=on_invalid,
        ),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(wanted.values(), pa.binary()),
            include_columns=list(wanted.values()),
            strings_can_be_null=False,
            check_utf8=False,
        ),
    )
    rows = table.num_rows
    total = rows + len(invalid)
    numbers = np.arange(first_line, first_line + total, dtype=np.int64)
    cols: Columns = {}
    for logical in LOGICAL:
        if logical in wanted:
            cols[logical] = table.column(wanted[logical]).combine_chunks()
        else:
            cols[logical] = pa.nulls(rows, pa.binary())
    if not invalid:
        return [(cols, numbers, np.zeros(rows, dtype=np.int8))], total
    # Rows that do not fit the declared layout get a second chance line by line (a blank line,
    # a layout change without a directive, an unencoded space).
    bad = np.asarray(invalid, dtype=np.int64) - 1
    keep = np.ones(total, dtype=bool)
    keep[bad] = False
    all_lines = split_lines(segment)
    retry_cols, retry_pre = _columns([all_lines[i] for i in bad.tolist()], None)
    return [
        (cols, numbers[keep], np.zeros(rows, dtype=np.int8)),
        (retry_cols, numbers[bad], retry_pre),
    ], total


def _columns(lines: list[bytes], layout: Layout | None) -> tuple[Columns, np.ndarray]:
    """Split lines in Python: by the layout when the width fits, else by ``guess_fields``."""
    values: dict[str, list[bytes | None]] = {logical: [] for logical in LOGICAL}
    pre = np.zeros(len(lines), dtype=np.int8)
    positions = layout.positions if layout is not None and layout.usable else None
    width = len(layout.names) if layout is not None else 0
    for row, raw in enumerate(lines):
        found: dict[str, bytes] | None = None
        if not raw.strip():
            pre[row] = CODE[Reason.BLANK]
        else:
            parts = raw.split(b" ")
            if positions is not None and len(parts) == width:
                found = {logical: parts[i] for logical, i in positions.items()}
            else:
                found = guess_fields(parts)
                if found is None:
                    pre[row] = CODE[Reason.MALFORMED]
        for logical in LOGICAL:
            values[logical].append(found.get(logical) if found else None)
    cols = {logical: pa.array(values[logical], pa.binary()) for logical in LOGICAL}
    return cols, pre


# --- Classification --------------------------------------------------------------------------

# Skip reasons as small codes, in the order the rules are checked (a line takes the first reason
# that applies); code 0 is an event.
ORDER: tuple[Reason, ...] = (
    Reason.BLANK,
    Reason.MALFORMED,
    Reason.BAD_TIME,
    Reason.PROBE,
    Reason.BACKEND,
    Reason.NOT_EXCHANGE,
    Reason.NO_USER,
    Reason.NOT_A_PERSON,
    Reason.FAILED_STATUS,
)
CODE: dict[Reason | None, int] = {None: 0} | {reason: i + 1 for i, reason in enumerate(ORDER)}
_REASON_TEXT = pa.array([None, *(r.value for r in ORDER)], pa.string())

# Exchange's forms sign-in (its FBA module) refuses a request by sending the browser back to the
# sign-in page (a 302) or by answering 440, and writes why into the logged query: a ``POST
# /owa/auth.owa`` whose credentials the back end refused is logged with
# ``&LogoffReason=NoCookiesGetOrE14AuthPost`` and status 302. The 302's target
# (``/owa/auth/logon.aspx?…&reason=2``) is not in that line: IIS logs a request's own query and
# status, never the answer's ``Location``. What the log does show is the next request, the
# browser fetching the sign-in page again with ``reason=`` 2 (credentials refused), or 1 (signed
# out), 3 (timed out), 4 (password changed). Neither line is a person reading mail: both are
# skipped as ``failed_status`` (the refusal is a 401 of the back end turned into a redirect).
# A sign-in that succeeds carries neither mark and stays interactive.
_REFUSED_RE = r"(?i)(?:^|[&?])LogoffReason="
_SIGN_IN_AGAIN_RE = r"(?i)(?:^|[&?])(?:LogoffReason=|reason=[1-9])"
FORMS_GUARDED, SIGN_IN_PAGE = 1, 2
_OK_STATUSES = pa.array([str(code).encode() for code in range(200, 400)], pa.binary())
_REDIRECT = pa.array([b"302"], pa.binary())


def _stem_info(raw: bytes) -> tuple[int, str | None, int]:
    """Class, Exchange protocol, and whether Exchange's forms sign-in guards the stem (``/owa``,
    ``/ecp``) or it is the sign-in page itself."""
    stem = raw.decode("latin-1").lower().lstrip("/")
    head, _, rest = stem.partition("/")
    forms = SIGN_IN_PAGE if (head, rest) == ("owa", "auth/logon.aspx") else 0
    forms = forms or (FORMS_GUARDED if head in ("owa", "ecp") else 0)
    return stem_class(raw), protocol_of(raw), forms


@lru_cache(maxsize=1 << 16)
def _user_info(raw: bytes) -> tuple[int, str]:
    """Reason code (0: a person) and the login as written, decoded."""
    text = decode_text(raw)
    return CODE[login_reason(text)], text


_VOCABULARIES = threading.local()


def _vocabularies() -> tuple[Vocabulary, Vocabulary]:
    """URL stems and user names met so far by this thread's parsers: each value is judged once
    per worker, not once per block or per file."""
    try:
        found: tuple[Vocabulary, Vocabulary] = _VOCABULARIES.pair
    except AttributeError:
        found = _VOCABULARIES.pair = (
            Vocabulary(_stem_info, (NOT_EXCHANGE, None, 0)),
            Vocabulary(_user_info, (CODE[Reason.NO_USER], None)),
        )
    return found


@dataclass
class _Rules:
    """One source's settings, and the vocabularies of the thread parsing."""

    backend: pa.Array
    eas_verb: Memo[int]
    owa_verb: Memo[int]
    stems: Vocabulary
    users: Vocabulary


def _rules(source: ExchangeIisSource) -> _Rules:
    eas, owa = source.interactive_activesync, source.interactive_owa
    return _Rules(
        pa.array(sorted(source.backend_ports), pa.binary()),
        Memo(lambda v: verb_class(v, eas)),
        Memo(lambda v: verb_class(v, owa)),
        *_vocabularies(),
    )


def _in(column: pa.Array, values: pa.Array) -> np.ndarray:
    """Rows whose value is one of ``values`` (never a null row)."""
    return numpy_bool(pc.is_in(column, value_set=values, skip_nulls=True))


def _matching(query: pa.Array, rows: np.ndarray, pattern: str) -> np.ndarray:
    """The given rows whose query matches ``pattern``."""
    if not len(rows):
        return rows
    found: np.ndarray = rows[
        numpy_bool(pc.match_substring_regex(query.take(pa.array(rows)), pattern))
    ]
    return found


def _verbs(query: pa.Array, rows: np.ndarray, pattern: str, memo: Memo[int]) -> np.ndarray:
    """The class of an ActiveSync command or an OWA action in the query of the given rows."""
    sub = pc.fill_null(query.take(pa.array(rows)), b"")
    verbs = Distinct(pc.struct_field(pc.extract_regex(sub, pattern), [0]))
    return verbs.numpy(memo, BACKGROUND, np.int8)


def _classify(rules: _Rules, cols: Columns, lines: np.ndarray, pre: np.ndarray) -> Parsed:
    """Events and skips of one batch of rows, every check on whole columns."""
    n = len(lines)
    if n == 0:
        return Parsed()
    rules.stems.trim()
    rules.users.trim()
    ts, ts_ok = utc_date_time(cols["date"], cols["time"])
    stem = rules.stems.lookup(cols["stem"])
    klass = rules.stems.numpy(0, np.int8)[stem]
    query = cols["query"]

    user = rules.users.lookup(cols["user"])
    user_code = rules.users.numpy(0, np.int8)[user]
    # ActiveSync also names the user in the query (User=…) when cs-username names nobody.
    fallback = np.flatnonzero((user_code == CODE[Reason.NO_USER]) & (klass == ACTIVESYNC))
    if len(fallback):
        sub = pc.fill_null(query.take(pa.array(fallback)), b"")
        named = rules.users.lookup(pc.struct_field(pc.extract_regex(sub, _USER_QUERY_RE), [0]))
        has = named > 0
        user[fallback[has]] = named[has]
        user_code = rules.users.numpy(0, np.int8)[user]

    for which, pattern, memo in (
        (ACTIVESYNC, _CMD_RE, rules.eas_verb),
        (OWA_SERVICE, _ACTION_RE, rules.owa_verb),
    ):
        rows = np.flatnonzero(klass == which)
        if len(rows):
            klass[rows] = _verbs(query, rows, pattern, memo)

    status_ok = _in(cols["status"], _OK_STATUSES)
    forms = rules.stems.numpy(2, np.int8)[stem]
    if forms.any():
        guarded = (forms == FORMS_GUARDED) & _in(cols["status"], _REDIRECT)
        status_ok[_matching(query, np.flatnonzero(guarded), _REFUSED_RE)] = False
        again = (forms == SIGN_IN_PAGE) & status_ok
        status_ok[_matching(query, np.flatnonzero(again), _SIGN_IN_AGAIN_RE)] = False

    empty = (lengths(cols["date"]) == 0) & (lengths(cols["time"]) == 0)
    empty &= (lengths(cols["stem"]) == 0) & (lengths(cols["user"]) == 0)
    # The rules in reverse order: a line keeps the first reason that applies.
    code = np.where(status_ok, 0, CODE[Reason.FAILED_STATUS]).astype(np.int8)
    code = np.where(user_code != 0, user_code, code)
    code[klass == NOT_EXCHANGE] = CODE[Reason.NOT_EXCHANGE]
    code[_in(cols["port"], rules.backend)] = CODE[Reason.BACKEND]
    probe = numpy_bool(pc.starts_with(cols["ua"], b"AMProbe")) | (klass == PROBE)
    code[probe] = CODE[Reason.PROBE]
    code[~ts_ok] = CODE[Reason.BAD_TIME]
    code[empty & (pre == 0)] = CODE[Reason.BLANK]
    code = np.where(pre != 0, pre, code)

    taken, taken_ok = digits_to_int(cols["taken"])
    ev = np.flatnonzero(code == 0)
    sk = np.flatnonzero(code != 0)
    logins = rules.users.arrow(1, pa.string())
    event_ts = timestamps(ts[ev], None, TS_TYPE)
    events = pa.RecordBatch.from_arrays(
        [
            pa.array(lines[ev], pa.int64()),
            event_ts,
            timestamps(ts[ev] - taken[ev] * 1000, taken_ok[ev], TS_TYPE),
            event_ts,
            logins.take(pa.array(user[ev])),
            _mail(len(ev)),
            pa.array(klass[ev] == INTERACTIVE, pa.bool_()),
            rules.stems.arrow(1, pa.string()).take(pa.array(stem[ev])),
        ],
        schema=EVENT_SCHEMA,
    )
    # A skipped line keeps its login when it has one (not for "no user": slot 0 is null).
    skip_login = np.where(user_code[sk] == CODE[Reason.NO_USER], 0, user[sk])
    skipped = pa.RecordBatch.from_arrays(
        [
            pa.array(lines[sk], pa.int64()),
            _REASON_TEXT.take(pa.array(code[sk], pa.int8())),
            timestamps(ts[sk], ts_ok[sk], TS_TYPE),
            logins.take(pa.array(skip_login)),
        ],
        schema=SKIP_SCHEMA,
    )
    return Parsed(events, skipped)


_MAIL_ROWS = pa.array(["mail"] * (1 << 16), pa.string())


def _mail(n: int) -> pa.Array:
    """The category column: a slice of one shared array (no copy) for blocks up to 65,536 rows."""
    return _MAIL_ROWS.slice(0, n) if n <= len(_MAIL_ROWS) else pa.repeat(pa.scalar("mail"), n)
