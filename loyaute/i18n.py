"""French first, English available — and the language is the request's, not the process's.

The people using loyaute are French public agents, so every message is written in French and
English side by side (``tr(fr, en)``) and shown in French unless someone asks for English.

**Who chooses the language.** The edges do, once per unit of work: the web app per request
(``?lang=``, then the language cookie, then ``Accept-Language``), the command line per command
(``--lang``, then ``LOYAUTE_LANG``). They set it with ``use_lang`` (a ``contextvars`` variable)
or ``set_lang`` (the command's own default, for the threads it starts).

**Why a context variable and not lazy message objects.** About six hundred messages are written
as ``tr(fr, en)`` in domain code, mostly inside the exceptions it raises and the reasons it
returns. Turning each into a lazy bilingual object would touch every one of them and every
``str()`` of an error, for the same result: the text is chosen while the request that asked for it
is running. A context variable gives exactly that — each web request runs in its own context
(asyncio tasks copy it, Starlette's thread pool runs sync handlers inside a copy), so two people
reading the site at once, one in French and one in English, each get their own language, and
domain code keeps calling ``tr`` without knowing who asked. Threads that a command starts itself
(ingest workers) do not inherit a context: they fall back on the command's default set by
``set_lang``. What domain code must not do is keep a translated string beyond the request that
made it (a module-level constant built with ``tr`` would freeze the language of import time):
such values keep both texts and translate when shown.

Labels of codes and the formatting of numbers, dates and weeks (Babel) live in ``labels.py``,
used only at the edges: ``cli/``, ``web/`` and the documents.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

LANGS = ("fr", "en")


def _clean(lang: str | None) -> str:
    code = (lang or "")[:2].lower()
    return code if code in LANGS else "fr"


_default: list[str] = [_clean(os.environ.get("LOYAUTE_LANG"))]
_current: ContextVar[str | None] = ContextVar("loyaute_lang", default=None)


def set_lang(lang: str | None) -> None:
    """Set the language of this command (the default of every thread it starts) and of the
    current context."""
    _default[0] = _clean(lang)
    _current.set(None)


@contextmanager
def use_lang(lang: str | None) -> Iterator[str]:
    """Within the block, ``tr`` answers in ``lang`` for this context only (a web request)."""
    token = _current.set(_clean(lang))
    try:
        yield _clean(lang)
    finally:
        _current.reset(token)


def lang() -> str:
    """The language messages are shown in, here and now."""
    return _current.get() or _default[0]


def tr(fr: str, en: str) -> str:
    """The French or English text, whichever the current request or command uses."""
    return en if lang() == "en" else fr
