"""Secrets kept in files of their own: the LDAP bind password, the OpenID client secret (H3).

A secret never sits in ``loyaute.toml``, a log line, an error message or the audit log. Its file
is owner-only (mode 0600) and is read when needed; a file others can read is refused, as the
pseudonymisation key is (``identity.load_key``).
"""

from __future__ import annotations

import stat
from pathlib import Path

from loyaute.config import Settings
from loyaute.errors import ConfigProblem, LoyauteError, WorkspaceError
from loyaute.i18n import tr


def resolve(home: Path, setting: str) -> Path:
    """A secret file named in the settings: absolute, or relative to the workspace."""
    path = Path(setting)
    return path if path.is_absolute() else home / path


def read_secret(path: Path, setting: str) -> str:
    """The secret in ``path`` (its last line break removed); ``setting`` names the key of
    loyaute.toml that points to it, for the message."""
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise WorkspaceError(
            tr(f"{setting} : fichier introuvable {path}", f"{setting}: file not found {path}"),
            hint=tr(
                "créer le fichier (mode 0600) avec le secret seul",
                "create the file (mode 0600) holding the secret alone",
            ),
        ) from exc
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise WorkspaceError(
            tr(
                f"{setting} : {path} est lisible par d'autres : chmod 600 attendu",
                f"{setting}: {path} is readable by others: chmod 600 expected",
            )
        )
    text = path.read_text(encoding="utf-8").rstrip("\r\n")
    if not text:
        raise WorkspaceError(tr(f"{setting} : {path} est vide", f"{setting}: {path} is empty"))
    return text


def secret_problems(home: Path, settings: Settings) -> list[ConfigProblem]:
    """``config check``: the secret files the settings need are there, owner-only, not empty."""
    wanted = []
    if settings.oidc.enabled:
        wanted.append(("oidc.client_secret_file", settings.oidc.client_secret_file))
    if settings.directory.ldap.url:
        wanted.append(("directory.ldap.password_file", settings.directory.ldap.password_file))
    problems = []
    for key, value in wanted:
        try:
            read_secret(resolve(home, value), key)
        except LoyauteError as exc:
            problems.append(ConfigProblem(f"loyaute.toml:{key}", exc.message))
    return problems
