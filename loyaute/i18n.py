"""French first, English available.

The people using loyaute are French public agents, so every message is written in French and
English side by side and shown in French unless ``LOYAUTE_LANG=en`` (or ``--lang en``) asks for
English. Code, identifiers and comments stay English.
"""

from __future__ import annotations

import os

LANGS = ("fr", "en")
_current: list[str] = [os.environ.get("LOYAUTE_LANG", "fr")[:2].lower()]


def set_lang(lang: str) -> None:
    """Choose the language of messages for this process."""
    _current[0] = lang if lang in LANGS else "fr"


def lang() -> str:
    """The language messages are shown in."""
    return _current[0] if _current[0] in LANGS else "fr"


def tr(fr: str, en: str) -> str:
    """The French or English text, whichever is in use."""
    return en if lang() == "en" else fr
