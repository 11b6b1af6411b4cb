"""Failures of the disk and of the databases, named for people (issue 10, finding 14).

A full disk, a damaged database file or a database another program holds surface as SQLite,
DuckDB or OS errors from deep inside a command. ``explain`` turns each into a ``StoreError`` with
a French/English message and what to do next, so that the command line prints one line and
exits 1, and the web app answers 503 without showing a path — never a traceback.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from loyaute.errors import StoreError
from loyaute.i18n import tr

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def disk_full() -> StoreError:
    """No space left where the workspace writes."""
    return StoreError(
        tr(
            "disque plein : l'opération n'a pas pu enregistrer son résultat, rien n'a été modifié",
            "disk full: the operation could not store its result, nothing was changed",
        ),
        hint=tr(
            "libérer de l'espace sur le disque de l'espace de travail, puis relancer la commande",
            "free some space on the workspace's disk, then run the command again",
        ),
    )


def database_error(exc: sqlite3.Error, path: Path | None = None) -> StoreError:
    """What a SQLite error means for the person running the command."""
    text = str(exc).lower()
    name = path.name if path is not None else tr("une base de l'espace de travail", "a database")
    if "full" in text:
        return disk_full()
    if "not a database" in text or "malformed" in text or "encrypted" in text:
        return StoreError(
            tr(
                f"{name} est illisible (fichier endommagé) : rien n'a été modifié",
                f"{name} cannot be read (damaged file): nothing was changed",
            ),
            hint=tr(
                "arrêter loyaute, restaurer ce fichier depuis la dernière sauvegarde de l'espace "
                "de travail (docs/deployment.md), puis relancer",
                "stop loyaute, restore this file from the workspace's last backup "
                "(docs/deployment.md), then run again",
            ),
        )
    if "locked" in text or "busy" in text:
        return StoreError(
            tr(
                f"{name} est occupée par un autre programme : rien n'a été modifié",
                f"{name} is held by another program: nothing was changed",
            ),
            hint=tr("relancer dans un instant", "run again in a moment"),
        )
    if "readonly" in text or "unable to open" in text:
        return StoreError(
            tr(
                f"{name} ne peut pas être ouverte en écriture : rien n'a été modifié",
                f"{name} cannot be opened for writing: nothing was changed",
            ),
            hint=tr(
                "vérifier que le compte qui lance loyaute possède l'espace de travail "
                "(loyaute config check)",
                "check that the account running loyaute owns the workspace (loyaute config check)",
            ),
        )
    return StoreError(
        tr(
            f"erreur de la base de données ({exc}) : rien n'a été modifié",
            f"database error ({exc}): nothing was changed",
        )
    )


def explain(exc: BaseException) -> StoreError | None:
    """A named ``StoreError`` for a failure of the disk or of a database; None for anything
    else (a bug, which keeps its traceback)."""
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, sqlite3.Error):
        return database_error(exc)
    if isinstance(exc, OSError) and (exc.errno in DISK_FULL or "no space left" in str(exc).lower()):
        return disk_full()
    if type(exc).__module__.split(".")[0] == "duckdb":
        if "no space left" in str(exc).lower():
            return disk_full()
        return StoreError(
            tr(
                f"lecture du magasin impossible ({str(exc)[:200]})",
                f"the store could not be read ({str(exc)[:200]})",
            )
        )
    return None
