"""Which user fields name a person (FORMATS.md, "Rules for every source").

A parser reports the login exactly as written; these helpers only decide whether the field names
nobody (a null marker) or something that is never a person (health mailboxes, machine accounts).
Matching a login to an agent is the identity layer's job, not a source's.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import unquote

from loyaute.sources.base import Reason

NULL_MARKERS = frozenset({"", "-", "n/a", "(null)", '""', "anonymous", "null", "none", "(none)"})

_SYSTEM_NAMES = frozenset(
    {
        "system",
        "anonymous logon",
        "local service",
        "network service",
        "nt authority\\system",
        "nt authority\\anonymous logon",
    }
)


def bare_login(raw: str) -> str:
    """URL-decoded, without a ``DOMAIN\\`` prefix, lower case: the form used for the checks."""
    text = unquote(raw.strip().strip('"')) if "%" in raw else raw.strip().strip('"')
    if "\\" in text:
        text = text.rsplit("\\", 1)[1]
    return text.lower()


@lru_cache(maxsize=65536)
def login_reason(raw: str | None) -> Reason | None:
    """``NO_USER`` for a null marker, ``NOT_A_PERSON`` for a technical account, else None."""
    if raw is None:
        return Reason.NO_USER
    stripped = raw.strip()
    if stripped.lower() in NULL_MARKERS:
        return Reason.NO_USER
    full = unquote(stripped).lower() if "%" in stripped else stripped.lower()
    if full in _SYSTEM_NAMES:
        return Reason.NOT_A_PERSON
    bare = bare_login(stripped)
    if bare in NULL_MARKERS:
        return Reason.NO_USER
    if (
        bare in _SYSTEM_NAMES
        or bare.startswith(("healthmailbox", "systemmailbox", "federatedemail.", "migration."))
        or bare.endswith("$")
    ):
        return Reason.NOT_A_PERSON
    return None


def decode_text(raw: bytes) -> str:
    """Decode a field: UTF-8, else Windows-1252 (French user names), else Latin-1 (never fails)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
