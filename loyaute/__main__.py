"""``python -m loyaute``, and the ``loyaute`` console script's entry point.

The console script imports this module rather than ``loyaute.cli``: a worker process of the local
engine runs the main script again to rebuild ``__main__`` (multiprocessing does), and for this
module that costs nothing, where importing the CLI would load Typer and Rich for nothing.
"""

from __future__ import annotations


def main() -> None:
    """Run the command line."""
    from loyaute.cli import main as run  # noqa: PLC0415 - see the module docstring

    run()


if __name__ == "__main__":
    main()
