"""The exception tree of loyaute.

Domain code raises these; only the CLI (``cli.py``) and, later, the single web error handler
translate them into exit codes and messages. Every message says what happened and what to do
next, and never contains a secret (rule H3 of LEGAL.md).

::

    LoyauteError                      exit 1: a refused or failed action
    ├── UsageError                    exit 2: the command was called wrongly
    ├── ConfigError                   exit 78: invalid configuration, every problem listed
    ├── WorkspaceError                exit 1: missing or uninitialised workspace
    ├── InputError                    exit 1: an input file cannot be used at all
    │   └── UnknownFormatError        no source recognises the file
    │       └── UnrecognisedFileError (ingest/reading.py) … with its reason: empty, binary, UTF-16,
    │                                 an error log, an unknown format
    ├── GateError                     exit 1: a legal gate (A1…A7) does not hold
    ├── StoreError                    exit 1: the activity store could not be written; unchanged
    │   ├── SchemaViolation (store/records.py)  a column outside the whitelist (B2)
    │   └── StoreConflict (store/records.py)    another writer committed first (H5)
    ├── NotSignedIn                   exit 77: the command acts as an account, and none is signed in
    └── KeyMismatch                   exit 78: the pseudonym key is not this workspace's
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_SIGN_IN = 77
EXIT_CONFIG = 78


class LoyauteError(Exception):
    """Base of every error loyaute raises on purpose; ``exit_code`` tells the CLI what to return."""

    exit_code: int = EXIT_REFUSED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} — {self.hint}"


class UsageError(LoyauteError):
    """The command line is wrong (unknown format name, incompatible options)."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a configuration file, located by its dotted path (``half_days.am``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ConfigError(LoyauteError):
    """The configuration is invalid; carries every problem found, not only the first."""

    exit_code = EXIT_CONFIG

    def __init__(self, source: str, problems: Sequence[ConfigProblem]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problème(s)\n{lines}")


class WorkspaceError(LoyauteError):
    """The workspace is missing or not initialised."""


class InputError(LoyauteError):
    """An input file cannot be read at all (missing, unreadable, not a log)."""


class UnknownFormatError(InputError):
    """No source recognises the first lines of a file."""


class GateError(LoyauteError):
    """A legal gate does not hold, so the processing refuses to run (rules A1…A7)."""


class NotSignedIn(LoyauteError):
    """A command that shows or changes individual data, cases, rights, statements or the audit
    log needs a signed-in account (rule E9); none is (exit 77, as sysexits' EX_NOPERM)."""

    exit_code = EXIT_SIGN_IN


class KeyMismatch(LoyauteError):
    """The pseudonymisation key is not the one this workspace was made with (rule H5): using it
    would read every stored record as someone else's, or as nobody's."""

    exit_code = EXIT_CONFIG


class StoreError(LoyauteError):
    """The activity store could not be written; it is unchanged."""
