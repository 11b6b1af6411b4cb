"""The baseline: the line-by-line Python ``re`` script a DSI would write for the same job.

One plain loop per format, no multiprocessing, no vectorisation, nothing deliberately slow:

* FortiGate: find the ``logid``; for the VPN session log ids only, regex out ``user``,
  ``eapuser``, ``xauthuser``, ``action``, ``eventtime`` (else ``date``/``time``/``tz``) and
  ``duration``; drop failures, negotiations, new connections, ``N/A`` users and site-to-site
  tunnels; compute the UTC instant and the session span.
* Exchange IIS: follow ``#Fields``, split each line on spaces, keep front-end lines with a user
  and a 2xx/3xx status, drop probes and technical mailboxes, classify interactive/background by
  stem, ActiveSync ``Cmd`` and OWA ``action``; compute the UTC instant and ``start`` from
  ``time-taken``.

Each returns counts: lines, events, interactive events (events are also tallied per login). The
rules are those of FORMATS.md, written again here from its tables, not imported from ``loyaute``.

Usage::

    python bench/naive.py fortigate bench/data/fortigate-*/*.log
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import IO

# --------------------------------------------------------------------------------------------
# FortiGate
# --------------------------------------------------------------------------------------------

LOGID_RE = re.compile(r'logid="?(\d{10})')


def _kv(name: str) -> re.Pattern[str]:
    return re.compile(r"\b" + name + r'=(?:"([^"]*)"|([^\s"]*))')


USER_RE = _kv("user")
EAPUSER_RE = _kv("eapuser")
XAUTHUSER_RE = _kv("xauthuser")
ACTION_RE = _kv("action")
EVENTTIME_RE = _kv("eventtime")
DATE_RE = _kv("date")
TIME_RE = _kv("time")
TZ_RE = _kv("tz")
DURATION_RE = _kv("duration")
IP_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$|:")

SESSION_LOGIDS = {
    "0101039947": "up",  # SSL-VPN tunnel up
    "0101039424": "up",  # SSL-VPN web portal login
    "0101039948": "down",  # SSL-VPN tunnel down
    "0101039425": "down",  # SSL-VPN web portal logout
    "0101039949": "alive",  # SSL-VPN statistics
    "0101037138": "ipsec",  # IPsec tunnel up/down: see action
    "0101037141": "alive",  # IPsec statistics
    "0107045057": "up",  # FortiClient endpoint added
    "0107045058": "end",  # FortiClient endpoint closed
}
NO_USER = {"", "-", "n/a", "(null)", "anonymous", "none"}


def _get(pattern: re.Pattern[str], line: str) -> str | None:
    m = pattern.search(line)
    if m is None:
        return None
    value = m.group(1)
    return value if value is not None else m.group(2)


def _is_person(value: str | None) -> bool:
    if not value:
        return False
    low = value.lower()
    bare = low.rsplit("\\", 1)[-1]
    return low not in NO_USER and not bare.startswith("healthmailbox") and not bare.endswith("$")


def _fortigate_time(line: str) -> datetime | None:
    """UTC instant of a line: eventtime (s, ms, µs or ns), else date + time + tz."""
    eventtime = _get(EVENTTIME_RE, line)
    if eventtime and eventtime.isdigit():
        scale = {10: 1, 13: 1_000, 16: 1_000_000, 19: 1_000_000_000}.get(len(eventtime))
        if scale:
            return datetime.fromtimestamp(int(eventtime) / scale, UTC)
    d, t, tz = _get(DATE_RE, line), _get(TIME_RE, line), _get(TZ_RE, line)
    if not (d and t):
        return None
    try:
        naive = datetime.fromisoformat(f"{d}T{t}")
    except ValueError:
        return None
    if tz and len(tz) == 5 and tz[0] in "+-":
        offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5]))
        return naive.replace(tzinfo=timezone(-offset if tz[0] == "-" else offset))
    return None  # no zone: a real script would assume the firewall's zone


def naive_fortigate(lines: Iterable[str]) -> dict[str, int]:
    """Count the VPN session events of FortiGate syslog lines."""
    n = events = 0
    skipped: Counter[str] = Counter()
    per_login: Counter[str] = Counter()
    for line in lines:
        n += 1
        m = LOGID_RE.search(line)
        if m is None:
            skipped["no_logid"] += 1
            continue
        kind = SESSION_LOGIDS.get(m.group(1))
        if kind is None:  # traffic, UTM, system, failures, negotiations, new connections
            skipped["not_session"] += 1
            continue
        if kind == "ipsec":
            action = _get(ACTION_RE, line)
            kind = {"tunnel-up": "up", "tunnel-down": "down", "tunnel-stats": "alive"}.get(
                action or ""
            )
            if kind is None:
                skipped["not_session"] += 1
                continue
        if m.group(1).startswith("0101037"):
            login = _get(XAUTHUSER_RE, line)
            if not _is_person(login):
                login = _get(EAPUSER_RE, line)
            if not _is_person(login):
                login = _get(USER_RE, line)  # IKEv2 puts the peer IP there
                if login and (IP_RE.search(login) or login.isdigit()):
                    login = None
        else:
            login = _get(USER_RE, line)
        if not _is_person(login):
            skipped["no_user"] += 1
            continue
        ts = _fortigate_time(line)
        if ts is None:
            skipped["bad_time"] += 1
            continue
        duration = _get(DURATION_RE, line)
        if kind == "up":
            span = (ts, None)
        elif duration and duration.isdigit():
            span = (ts - timedelta(seconds=int(duration)), ts)
        else:
            span = (None, ts)
        assert span[0] is None or span[0] <= ts
        events += 1
        per_login[login.lower()] += 1  # type: ignore[union-attr]
    return {
        "lines": n,
        "events": events,
        "interactive": events,  # a VPN session is interactive
    }


# --------------------------------------------------------------------------------------------
# Exchange IIS
# --------------------------------------------------------------------------------------------

CMD_RE = re.compile(r"(?:^|[&?])Cmd=([A-Za-z]+)", re.IGNORECASE)
OWA_ACTION_RE = re.compile(r"(?:^|[&?])action=([A-Za-z]+)", re.IGNORECASE)
EAS_USER_RE = re.compile(r"(?:^|[&?])User=([^&]+)", re.IGNORECASE)

INTERACTIVE_EAS = {"sendmail", "smartreply", "smartforward", "meetingresponse", "moveitems"}
INTERACTIVE_OWA = {
    "getitem",
    "createitem",
    "updateitem",
    "finditem",
    "findconversation",
    "senditem",
    "deleteitem",
    "moveitem",
    "getconversationitems",
}
BACKGROUND_STEMS = ("/mapi", "/rpc/", "/ews", "/autodiscover", "/oab/", "/powershell")
SIGN_IN_STEMS = {"/owa", "/owa/", "/owa/auth.owa", "/owa/auth/logon.aspx"}


def _iis_class(stem: str, query: str) -> str | None:
    """``interactive``, ``background``, ``probe`` or None (not an Exchange request)."""
    if stem.endswith("/healthcheck.htm"):
        return "probe"
    if stem.startswith("/microsoft-server-activesync"):
        m = CMD_RE.search(query)
        return "interactive" if m and m.group(1).lower() in INTERACTIVE_EAS else "background"
    if stem.startswith("/owa"):
        if stem in SIGN_IN_STEMS:
            return "interactive"
        if stem.startswith("/owa/service.svc"):
            m = OWA_ACTION_RE.search(query)
            return "interactive" if m and m.group(1).lower() in INTERACTIVE_OWA else "background"
        return "background"
    if stem.startswith("/ecp"):
        return "interactive"
    if stem.startswith(BACKGROUND_STEMS):
        return "background"
    return None


def naive_iis(lines: Iterable[str]) -> dict[str, int]:
    """Count the mail events (and interactive ones) of Exchange IIS W3C lines."""
    n = events = interactive = 0
    skipped: Counter[str] = Counter()
    per_login: Counter[str] = Counter()
    width = 0
    pos: dict[str, int] = {}
    for line in lines:
        n += 1
        if line.startswith("#"):
            if line.startswith("#Fields:"):
                names = line[8:].split()
                width = len(names)
                pos = {name.lower(): i for i, name in enumerate(names)}
            skipped["header"] += 1
            continue
        parts = line.split()
        if not pos or len(parts) != width:
            skipped["malformed"] += 1
            continue
        if parts[pos["s-port"]] == "444":
            skipped["backend"] += 1
            continue
        if parts[pos["cs(user-agent)"]].startswith("AMProbe"):
            skipped["probe"] += 1
            continue
        stem = parts[pos["cs-uri-stem"]].lower()
        query = parts[pos["cs-uri-query"]]
        klass = _iis_class(stem, query)
        if klass is None or klass == "probe":
            skipped["not_exchange" if klass is None else "probe"] += 1
            continue
        user = parts[pos["cs-username"]]
        if user.lower() in NO_USER and stem.startswith("/microsoft-server-activesync"):
            m = EAS_USER_RE.search(query)
            user = m.group(1) if m else user
        if not _is_person(user):
            skipped["no_user"] += 1
            continue
        status = parts[pos["sc-status"]]
        if not (len(status) == 3 and status[0] in "23"):
            skipped["failed_status"] += 1
            continue
        ts = datetime.fromisoformat(f"{parts[pos['date']]}T{parts[pos['time']]}+00:00")
        taken = parts[pos["time-taken"]]
        start = ts - timedelta(milliseconds=int(taken)) if taken.isdigit() else None
        assert start is None or start <= ts
        events += 1
        if klass == "interactive":
            interactive += 1
        per_login[user.lower()] += 1
    return {"lines": n, "events": events, "interactive": interactive}


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

RUNNERS = {"fortigate": naive_fortigate, "exchange-iis": naive_iis}


def open_text(path: Path) -> IO[str]:
    """Open a log as text (gzip by name), undecodable bytes replaced."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open(encoding="utf-8", errors="replace")


def run(fmt: str, paths: Iterable[Path]) -> dict[str, int]:
    """Run the naive loop of ``fmt`` over files, one after the other, and add up the counts."""
    total: Counter[str] = Counter()
    for path in paths:
        with open_text(path) as f:
            total.update(RUNNERS[fmt](f))
    return dict(total)


def main(argv: list[str]) -> int:
    """``naive.py FORMAT FILE...``: print the counts and the time as JSON."""
    if len(argv) < 2 or argv[0] not in RUNNERS:
        print(f"usage: naive.py {{{'|'.join(RUNNERS)}}} FILE...", file=sys.stderr)
        return 2
    started = time.perf_counter()
    counts = run(argv[0], [Path(p) for p in argv[1:]])
    counts_out: dict[str, float] = dict(counts)
    counts_out["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(counts_out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
