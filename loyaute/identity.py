"""Agents, their logins and their keyed pseudonyms.

The directory maps every login an agent may appear under (sAMAccountName, UPN, mail, VPN user)
to the agent. Matching ignores case, a ``DOMAIN\\`` prefix and URL-encoding, and a bare login also
matches ``login@any-domain`` (CONTRACT.md). Agents are pseudonymised at ingestion with a keyed
HMAC (rule B6); the key lives in its own file, mode 0600, never in the store, a log line, an error
message or a ``repr`` (rule H3).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import hmac
import itertools
import os
import secrets
import stat
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from loyaute.config import DirectorySettings
from loyaute.errors import InputError, WorkspaceError
from loyaute.i18n import tr
from loyaute.store.directory import Agent

if TYPE_CHECKING:
    from loyaute.store.state import Database

PSEUDONYM_HEX = 32
_BAD_LOGIN_CHARS = set(" \t\r\n\"'<>,")


def login_key(raw: str) -> str:
    """The comparison form of a login: URL-decoded, no ``DOMAIN\\`` prefix, case-folded."""
    text = raw.strip().strip('"')
    if "%" in text:
        text = unquote(text)
    if "\\" in text:
        text = text.rsplit("\\", 1)[1]
    return text.strip().casefold()


# --- the key ------------------------------------------------------------------------------------


class Pseudonymizer:
    """Keyed HMAC-SHA256 pseudonyms. The key never shows in a repr, a log or an error."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise WorkspaceError(
                tr("clé de pseudonymisation trop courte", "pseudonym key too short")
            )
        self._key = key

    def __repr__(self) -> str:
        return "Pseudonymizer(key=<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("the pseudonymisation key is not picklable (rule H3)")

    def fingerprint(self) -> str:
        """An HMAC of a fixed label: tells two keys apart, reveals nothing of the key (H5)."""
        return hmac.new(self._key, b"loyaute/key-fingerprint/v1", hashlib.sha256).hexdigest()[:32]

    def pseudonym(self, agent_id: str) -> str:
        """The agent's pseudonym: stable for this key, meaningless without it."""
        digest = hmac.new(self._key, agent_id.encode("utf-8"), hashlib.sha256).hexdigest()
        return digest[:PSEUDONYM_HEX]


def create_key(path: Path) -> None:
    """Write a new random key, mode 0600; refuse to replace an existing one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise WorkspaceError(
            tr(
                f"{path} existe déjà : la clé n'est jamais remplacée (les pseudonymes en dépendent)",
                f"{path} already exists: the key is never replaced (pseudonyms depend on it)",
            )
        ) from exc
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")


def load_key(path: Path) -> Pseudonymizer:
    """Read the pseudonymisation key; refuse a missing key or one readable by others."""
    return Pseudonymizer(read_secret(path, tr("clé de pseudonymisation", "pseudonym key")))


def read_secret(path: Path, what: str) -> bytes:
    """A key file's bytes (hex text, mode 0600); a missing, shared or unreadable one refused."""
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise WorkspaceError(
            tr(f"{what} introuvable : {path}", f"{what} missing: {path}"),
            hint=tr("restaurer la clé (sauvegarde, coffre)", "restore the key (backup, vault)"),
        ) from exc
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise WorkspaceError(
            tr(
                f"{path} est lisible par d'autres : chmod 600 attendu",
                f"{path} is readable by others: chmod 600 expected",
            )
        )
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError as exc:
        raise WorkspaceError(tr(f"{path} : clé illisible", f"{path}: unreadable key")) from exc
    if len(key) < 32:
        raise WorkspaceError(tr(f"{path} : clé trop courte", f"{path}: key too short"))
    return key


# --- the directory -----------------------------------------------------------------------------


class ImportProblems(InputError):
    """Every problem found in an input file; nothing was changed."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:200])
        more = f"\n  … {len(problems) - 200} autres" if len(problems) > 200 else ""
        InputError.__init__(
            self,
            tr(
                f"{path} : {len(problems)} problème(s), rien n'a été modifié\n{shown}{more}",
                f"{path}: {len(problems)} problem(s), nothing was changed\n{shown}{more}",
            ),
        )


def sniff_delimiter(header: str) -> str:
    """``,`` or ``;`` (or tab), whichever the header uses most."""
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def file_encoding(path: Path) -> str:
    """``utf-8-sig`` when the whole file is UTF-8 (with or without BOM), else ``cp1252`` (Octime
    and Excel exports); read in pieces, so a file of any size is checked in bounded memory."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as f:
            while piece := f.read(1 << 20):
                decoder.decode(piece)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from exc
    return "utf-8-sig"


Rows = Iterator[tuple[int, dict[str, str]]]
WIDTH = "__width__"
"""Key of the one-entry row that stands for a line with the wrong number of columns."""


@contextmanager
def csv_rows(path: Path) -> Iterator[tuple[list[str], Rows]]:
    """The header and, one at a time, the rows (with their line numbers) of a CSV export of any
    size. Blank lines are left out; a line with the wrong number of columns comes as
    ``{WIDTH: "<n>"}``. A line the CSV reader cannot read (a NUL, an endless quoted field)
    raises ``ImportProblems`` naming it."""
    encoding = file_encoding(path)
    try:
        f = path.open(encoding=encoding, errors="replace", newline="")
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from exc
    with f:
        first = f.readline()
        if not first.strip():
            raise ImportProblems(path, [tr("ligne 1 : en-tête manquant", "line 1: missing header")])
        reader = csv.reader(itertools.chain([first], f), delimiter=sniff_delimiter(first))
        header = [h.strip() for h in next(reader)]

        def rows() -> Rows:
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise ImportProblems(
                        path,
                        [
                            tr(
                                f"ligne {reader.line_num} : CSV illisible ({exc})",
                                f"line {reader.line_num}: unreadable CSV ({exc})",
                            )
                        ],
                    ) from None
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(header):
                    yield reader.line_num, {WIDTH: str(len(values))}
                    continue
                yield reader.line_num, {h: v.strip() for h, v in zip(header, values, strict=True)}

        yield header, rows()


def read_csv_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and rows (with their line numbers) of a small CSV export, all in memory."""
    with csv_rows(path) as (header, rows):
        return header, list(rows)


def split_logins(text: str) -> list[str]:
    """A login list separated by ``;`` or ``|``."""
    return [p.strip() for p in text.replace("|", ";").split(";") if p.strip()]


def _directory_wanted(columns: DirectorySettings) -> dict[str, str]:
    return {
        "agent_id": columns.agent_id_column,
        "display_name": columns.display_name_column,
        "service": columns.service_column,
        "job_family": columns.job_family_column,
        "manager_id": columns.manager_id_column,
        "logins": columns.logins_column,
    }


def directory_columns(path: Path, columns: DirectorySettings) -> list[str]:
    """The columns loyaute reads that this directory export has (its header only)."""
    with csv_rows(path) as (header, _):
        return [c for c in _directory_wanted(columns).values() if c in header]


def parse_directory(
    path: Path,
    columns: DirectorySettings,
    previous: Collection[str] = (),
    dropped: Collection[str] = (),
) -> list[Agent]:
    """Read and validate a directory export; ``ImportProblems`` lists every problem found.

    ``previous`` are the columns the last import had: one of them missing now (an optional
    column such as ``manager_id``, whose absence would clear every manager link) is refused
    unless it is named in ``dropped``."""
    header, rows = read_csv_rows(path)
    wanted = _directory_wanted(columns)
    missing = [c for k, c in wanted.items() if c not in header and k != "manager_id"]
    if missing:
        raise ImportProblems(
            path,
            [
                tr(
                    f"ligne 1 : colonne(s) manquante(s) {missing}",
                    f"line 1: missing column(s) {missing}",
                )
            ],
        )
    lost = [c for c in previous if c not in header and c not in dropped]
    if lost:
        raise ImportProblems(
            path,
            [
                tr(
                    f"ligne 1 : colonne(s) {lost} manquante(s) alors que l'import précédent les "
                    "avait : importer ce fichier effacerait ces données pour tous les agents "
                    "(liens hiérarchiques pour manager_id). Rétablir la colonne dans l'export, "
                    "ou confirmer son retrait avec --drop-column " + " --drop-column ".join(lost),
                    f"line 1: column(s) {lost} missing although the previous import had them: "
                    "importing this file would clear that data for every agent (manager links "
                    "for manager_id). Put the column back in the export, or confirm its removal "
                    "with --drop-column " + " --drop-column ".join(lost),
                )
            ],
        )
    problems: list[str] = []
    agents: list[Agent] = []
    seen_ids: dict[str, int] = {}
    owner: dict[str, tuple[str, int]] = {}
    for line, row in rows:
        if "__width__" in row:
            problems.append(
                tr(
                    f"ligne {line} : {row['__width__']} colonnes au lieu de {len(header)}",
                    f"line {line}: {row['__width__']} columns instead of {len(header)}",
                )
            )
            continue
        agent_id = row[wanted["agent_id"]]
        if not agent_id:
            problems.append(tr(f"ligne {line} : agent_id vide", f"line {line}: empty agent_id"))
            continue
        if agent_id in seen_ids:
            problems.append(
                tr(
                    f"ligne {line} : agent {agent_id} déjà vu ligne {seen_ids[agent_id]}",
                    f"line {line}: agent {agent_id} already on line {seen_ids[agent_id]}",
                )
            )
            continue
        seen_ids[agent_id] = line
        for key in ("service", "job_family"):
            if not row[wanted[key]]:
                problems.append(
                    tr(f"ligne {line} : {wanted[key]} vide", f"line {line}: empty {wanted[key]}")
                )
        logins = split_logins(row[wanted["logins"]])
        if not logins:
            problems.append(tr(f"ligne {line} : aucun identifiant", f"line {line}: no login"))
        for login in logins:
            if _BAD_LOGIN_CHARS & set(login) or login_key(login) in ("", "-", "n/a"):
                problems.append(
                    tr(
                        f"ligne {line} : identifiant invalide « {login} »",
                        f"line {line}: invalid login '{login}'",
                    )
                )
                continue
            clash = next(
                (
                    owner[key]
                    for key in match_keys(login)
                    if key in owner and owner[key][0] != agent_id
                ),
                None,
            )
            if clash is not None:
                problems.append(
                    tr(
                        f"ligne {line} : l'identifiant « {login} » est aussi celui de l'agent "
                        f"{clash[0]} (ligne {clash[1]})",
                        f"line {line}: login '{login}' also belongs to agent {clash[0]} "
                        f"(line {clash[1]})",
                    )
                )
            for key in match_keys(login):
                owner.setdefault(key, (agent_id, line))
        agents.append(
            Agent(
                agent_id=agent_id,
                display_name=row[wanted["display_name"]] or agent_id,
                service=row[wanted["service"]],
                job_family=row[wanted["job_family"]],
                manager_id=row.get(wanted["manager_id"], ""),
                logins=tuple(logins),
            )
        )
    if not agents and not problems:
        problems.append(tr("aucun agent dans le fichier", "no agent in the file"))
    if problems:
        raise ImportProblems(path, problems)
    return agents


def match_keys(login: str) -> list[str]:
    """Keys under which a directory login is found: its key, and ``@local`` — the local part a
    UPN has, or that a bare login matches in any domain (two agents may not share one)."""
    key = login_key(login)
    return [key, "@" + key.split("@", 1)[0]]


CHANGE_FIELDS = ("display_name", "service", "job_family", "manager_id")


@dataclass
class DirectoryChanges:
    """What making a new directory current changes: a full comparison with what is kept."""

    added: list[str] = field(default_factory=list)
    """Agents new to the directory (or back after leaving)."""
    changed: dict[str, list[str]] = field(default_factory=dict)
    """agent id → the fields that change (service, job_family, manager_id, logins, …)."""
    gone: list[str] = field(default_factory=list)
    """Present agents missing from the new directory: marked as left, data kept."""
    present_before: int = 0

    @property
    def nothing(self) -> bool:
        """True when the new directory is the one kept."""
        return not (self.added or self.changed or self.gone)

    @property
    def removed_share(self) -> float:
        """Share of the present agents the change would remove."""
        return len(self.gone) / self.present_before if self.present_before else 0.0

    def counts(self) -> dict[str, int]:
        """Counts for the audit log and the report (no names: the log says how many)."""
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "gone": len(self.gone),
            "present_before": self.present_before,
        }


def directory_keys(agents: list[Agent]) -> list[tuple[str, str]]:
    """(login key, agent id) of every login of these agents."""
    return [(key, a.agent_id) for a in agents for login in a.logins for key in match_keys(login)]


def compare(db: Database, agents: list[Agent]) -> DirectoryChanges:
    """Compare a new directory with the one kept (present agents, their fields and logins)."""
    kept = db.agents.all()
    keys_before = db.agents.keys_by_agent()
    keys_after: dict[str, set[str]] = {}
    for key, agent_id in directory_keys(agents):
        keys_after.setdefault(agent_id, set()).add(key)
    changes = DirectoryChanges(present_before=len(kept))
    for agent in agents:
        before = kept.get(agent.agent_id)
        if before is None:
            changes.added.append(agent.agent_id)
            continue
        fields = [f for f in CHANGE_FIELDS if getattr(before, f) != getattr(agent, f)]
        if keys_before.get(agent.agent_id, set()) != keys_after.get(agent.agent_id, set()):
            fields.append("logins")
        if fields:
            changes.changed[agent.agent_id] = fields
    new_ids = {a.agent_id for a in agents}
    changes.gone = sorted(a for a in kept if a not in new_ids)
    return changes


def store_directory(db: Database, agents: list[Agent], on: date) -> DirectoryChanges:
    """Make ``agents`` the current directory in one transaction and say what changed. An agent
    missing from it is marked as left on ``on``, never deleted: their records, notice, cases and
    requests stay until retention removes them (F2, F4, G1)."""
    changes = compare(db, agents)
    if not changes.nothing:
        db.agents.apply(agents, changes.gone, on.isoformat(), directory_keys(agents))
    return changes


class LoginIndex:
    """Resolves logins as written in logs to agent ids."""

    def __init__(self, keys: dict[str, str]) -> None:
        self._keys = keys

    @classmethod
    def load(cls, db: Database) -> LoginIndex:
        """The index of the directory currently stored."""
        return cls(db.agents.login_keys())

    def resolve(self, raw: str) -> str | None:
        """The agent a login names, or None."""
        key = login_key(raw)
        agent = self._keys.get(key)
        if agent is not None:
            return agent
        if "@" in key:
            # jdupont@lenord.fr in a log, ``jdupont`` in the directory
            return self._keys.get(key.split("@", 1)[0])
        # ``jdupont`` in a log, ``jdupont@lenord.fr`` in the directory
        return self._keys.get("@" + key)
