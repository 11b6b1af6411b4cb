"""The command line's own words — help headings and usage errors — in the command's language.

Typer ships Click with its words in English ("Usage:", "Options", "Error: No such option: …").
loyaute's users are French public agents, so the command line speaks French like the rest of the
product (``--lang en`` or ``LOYAUTE_LANG=en`` for English), through Click's own extension points
only: the context's ``formatter_class`` (headings, usage line, the ``[default: …]`` notes of the
help pages) and ``standalone_mode=False``, which hands usage errors to ``run`` to be worded here
instead of being printed by Click. The machine-facing behaviour does not change: the same exit
codes (2 for a usage error, 1 for an interruption), messages on stderr.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from typer._click.core import Context
from typer._click.exceptions import (
    BadParameter,
    ClickException,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)
from typer._click.formatting import HelpFormatter

from loyaute.i18n import tr

SECTIONS = {
    "Options": ("Options", "Options"),
    "Commands": ("Commandes", "Commands"),
    "Arguments": ("Arguments", "Arguments"),
}

NOTES = {
    "default": ("défaut", "default"),
    "env var": ("variable d'environnement", "env var"),
    "required": ("obligatoire", "required"),
}
"""The notes Click adds in brackets after an option's help (``[env var: PORT; default: 8000]``)."""

_NOTE = re.compile(r"\[([^\[\]]*)\]$")

HELP_TEXT = "Show this message and exit."

MESSAGES = (
    (
        re.compile(r"No such command '(.*)'\.$"),
        ("commande inconnue : « {} »", "no such command: {}"),
    ),
    (re.compile(r"Missing command\.$"), ("commande manquante", "missing command")),
    (
        re.compile(r"Got unexpected extra arguments? \((.*)\)$"),
        ("argument en trop : {}", "unexpected extra argument: {}"),
    ),
    (
        re.compile(r"Option '(.*)' requires an argument\.$"),
        ("l'option « {} » attend une valeur", "option {} requires a value"),
    ),
    (
        re.compile(r"Option '(.*)' does not take a value\.$"),
        ("l'option « {} » ne prend pas de valeur", "option {} takes no value"),
    ),
    (
        re.compile(r"'(.*)' is not a valid integer\.$"),
        ("« {} » n'est pas un nombre entier", "{} is not an integer"),
    ),
    (
        re.compile(r"'(.*)' is not a valid float\.$"),
        ("« {} » n'est pas un nombre", "{} is not a number"),
    ),
    (
        re.compile(r"'(.*)' is not a valid boolean\.$"),
        ("« {} » n'est ni oui ni non", "{} is not a boolean"),
    ),
)
"""Click's fixed messages that carry one value, as ``(pattern, (French, English))``."""

SUGGESTION = re.compile(r"^(.*)\. Did you mean (.*)\?$")


def _pick(pair: tuple[str, str]) -> str:
    return tr(*pair)


def _note(text: str) -> str:
    found = _NOTE.search(text)
    if not found:
        return text
    parts = []
    for part in found.group(1).split("; "):
        name, colon, value = part.partition(": ")
        if name in NOTES:
            parts.append(_pick(NOTES[name]) + (tr(" : ", ": ") + value if colon else ""))
        else:
            parts.append(part)
    return text[: found.start()] + "[" + "; ".join(parts) + "]"


class Formatter(HelpFormatter):
    """Click's plain help pages, with their headings and notes in the command's language."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(
            prog, args, tr("Utilisation : ", "Usage: ") if prefix is None else prefix
        )

    def write_heading(self, heading: str) -> None:
        # French puts a space before the colon.
        self.write(f"{'':>{self.current_indent}}{heading}{tr(' :', ':')}\n")

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        with super().section(_pick(SECTIONS[name]) if name in SECTIONS else name):
            yield

    def write_dl(
        self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        worded = [
            (
                term,
                tr("Afficher cette aide et quitter.", HELP_TEXT)
                if text == HELP_TEXT
                else _note(text),
            )
            for term, text in rows
        ]
        super().write_dl(worded, col_max, col_spacing)


def install() -> None:
    """Every context of this process formats help with ``Formatter`` (a class attribute Click
    documents for this purpose)."""
    Context.formatter_class = Formatter


def message(error: ClickException) -> str:
    """A usage error in the command's language."""
    if isinstance(error, NoSuchOption):
        text = tr(f"option inconnue : {error.option_name}", f"no such option: {error.option_name}")
        if error.possibilities:
            names = ", ".join(sorted(error.possibilities))
            text += tr(f" (options possibles : {names})", f" (possible options: {names})")
        return text
    if isinstance(error, MissingParameter):
        hint = _hint(error)
        kind = error.param_type or (error.param.param_type_name if error.param else "")
        return tr(f"{_KINDS.get(kind, kind)} manquant : {hint}", f"missing {kind}: {hint}")
    if isinstance(error, BadParameter):
        hint = _hint(error)
        inner = _translated(error.message)
        if not hint:
            return tr(f"valeur invalide : {inner}", f"invalid value: {inner}")
        return tr(f"valeur invalide pour {hint} : {inner}", f"invalid value for {hint}: {inner}")
    return _translated(error.format_message())


def _hint(error: BadParameter) -> str:
    """The parameter an error is about, as Click names it ('--from' / 'PATHS')."""
    hint: Any = error.param_hint or (error.param.get_error_hint() if error.param else "")
    if isinstance(hint, (list, tuple)):
        return " / ".join(hint)
    return str(hint)


_KINDS = {"option": "option", "argument": "argument", "parameter": "paramètre"}


def _translated(text: str) -> str:
    suggestion = ""
    found = SUGGESTION.match(text)
    if found:
        text = found.group(1) + "."
        suggestion = tr(
            f" Vouliez-vous dire {found.group(2)} ?", f" Did you mean {found.group(2)}?"
        )
    for pattern, pair in MESSAGES:
        match = pattern.match(text)
        if match:
            return _pick(pair).format(*match.groups()) + suggestion
    return text.rstrip(".") + suggestion if suggestion else text


def show(error: ClickException) -> None:
    """Print a usage error as Click would (usage line, hint, error), in the command's words."""
    if isinstance(error, NoArgsIsHelpError):  # a group run without a command: its help
        print(error.format_message(), file=sys.stderr)
        return
    if isinstance(error, UsageError) and error.ctx is not None:
        ctx = error.ctx
        usage = ctx.get_usage()
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            hint = tr(
                f"Aide : « {ctx.command_path} {ctx.help_option_names[0]} ».\n",
                f"Try '{ctx.command_path} {ctx.help_option_names[0]}' for help.\n",
            )
        print(f"{usage}\n{hint}", file=sys.stderr)
    print(tr(f"Erreur : {message(error)}", f"Error: {message(error)}"), file=sys.stderr)


def run(app: typer.Typer, args: Sequence[str] | None = None) -> int:
    """Run the command line; usage errors worded here. Returns the exit code."""
    install()
    try:
        result: Any = app(args=args, standalone_mode=False)
    except ClickException as error:
        show(error)
        return error.exit_code
    except typer.Abort:
        print(tr("Interrompu.", "Aborted!"), file=sys.stderr)
        return 1
    return result if isinstance(result, int) else 0
