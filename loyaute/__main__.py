"""``python -m loyaute``, and the ``loyaute`` console script's entry point.

The console script imports this module rather than ``loyaute.cli``: a worker process of the local
engine runs the main script again to rebuild ``__main__`` (multiprocessing does), and for this
module that costs nothing, where importing the CLI would load Typer and Rich for nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

ROOT_OPTIONS_WITH_VALUE = ("--home",)
"""The root options that take a value (besides ``--lang``), skipped while looking for it."""


def language_asked(args: Sequence[str]) -> str | None:
    """The ``--lang`` given among the root options (before the command), if any: help texts are
    worded when the command line is built, so the language must be known before."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        arg = args[i]
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
        i += 2 if arg in ROOT_OPTIONS_WITH_VALUE else 1
    return None


def main() -> None:
    """Run the command line."""
    lang = language_asked(sys.argv[1:])
    if lang:
        os.environ["LOYAUTE_LANG"] = lang
    from loyaute.cli import main as run  # noqa: PLC0415 - see the module docstring

    run()


if __name__ == "__main__":
    main()
