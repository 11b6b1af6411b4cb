"""The workspace: ``loyaute.toml``, ``register.toml``, the key, the stores, the audit log.

``init`` creates it; every other command opens it and refuses, naming the command that creates
it, when it is missing or incomplete. ``check`` validates both files and the environment in one
go (``config check``): every problem with its dotted path.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from loyaute.clock import Clock, SystemClock
from loyaute.config import Settings, load_settings, read_toml
from loyaute.errors import ConfigError, ConfigProblem, KeyMismatch, LoyauteError, WorkspaceError
from loyaute.i18n import tr
from loyaute.identity import Pseudonymizer, create_key, load_key, read_secret
from loyaute.policy.register import Register, load_register, uncovered
from loyaute.secret_files import secret_problems
from loyaute.store.audit import AuditLog, Checkpoints
from loyaute.store.lock import WorkspaceLock
from loyaute.store.state import PRIVATE_DIR, Database
from loyaute.templates import loyaute_toml, register_toml

# Arrow is imported when the activity store is first used, not to open a workspace.
if TYPE_CHECKING:
    from loyaute.store.records import ActivityStore

PRIVATE_UMASK = 0o077
"""Everything a workspace command creates is readable by its owner only (H3)."""

MARKER = ".loyaute-workspace"


@dataclass
class Paths:
    """Where everything of a workspace lives."""

    home: Path

    @property
    def settings(self) -> Path:
        return self.home / "loyaute.toml"

    @property
    def register(self) -> Path:
        return self.home / "register.toml"

    @property
    def marker(self) -> Path:
        return self.home / MARKER

    @property
    def store(self) -> Path:
        return self.home / "store"

    @property
    def activity(self) -> Path:
        return self.store / "activity"

    @property
    def state(self) -> Path:
        return self.store / "state.db"

    @property
    def audit(self) -> Path:
        return self.home / "audit" / "audit.db"

    @property
    def lock(self) -> Path:
        return self.home / ".lock"

    def key(self, settings: Settings) -> Path:
        """The key file: absolute, or relative to the workspace."""
        return self.resolve(settings.key_file)

    def resolve(self, setting: str) -> Path:
        """A path setting: absolute, or relative to the workspace."""
        path = Path(setting)
        return path if path.is_absolute() else self.home / path


def _not_initialised(home: Path) -> WorkspaceError:
    return WorkspaceError(
        tr(
            f"pas d'espace de travail loyaute dans {home}",
            f"no loyaute workspace in {home}",
        ),
        hint=tr(
            f"le créer avec `loyaute --home {home} init`",
            f"create it with `loyaute --home {home} init`",
        ),
    )


T = TypeVar("T")


class lazy(Generic[T]):
    """A property computed on first use and kept on the instance, without the class-wide lock
    of ``functools.cached_property`` on Python 3.11 (which serialises every web request thread
    opening its own workspace)."""

    def __init__(self, fn: Callable[[Any], T]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> lazy[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> T | lazy[T]:
        if obj is None:
            return self
        value = self.fn(obj)
        obj.__dict__[self.name] = value
        return value


@dataclass
class Workspace:
    """An opened workspace; stores and logs are opened on first use."""

    paths: Paths
    settings: Settings
    register: Register
    clock: Clock = field(default_factory=SystemClock)
    key_loader: Callable[[Path], Pseudonymizer] = load_key
    """How the key is read (the web app's cache reads it once for every request)."""

    @classmethod
    def open(cls, home: Path, clock: Clock | None = None) -> Workspace:
        """Open an initialised workspace (ConfigError when a file is invalid)."""
        paths = Paths(home)
        if not paths.marker.is_file() or not paths.settings.is_file():
            raise _not_initialised(home)
        if not paths.register.is_file():
            raise WorkspaceError(
                tr(f"{paths.register} manquant", f"{paths.register} missing"),
                hint=tr("le restaurer ou relancer `init` dans un nouveau dossier", "restore it"),
            )
        problems: list[ConfigProblem] = []
        settings: Settings | None = None
        register: Register | None = None
        try:
            settings = load_settings(paths.settings)
        except ConfigError as exc:
            problems += [ConfigProblem(f"loyaute.toml:{p.path}", p.message) for p in exc.problems]
        try:
            register = load_register(paths.register)
        except ConfigError as exc:
            problems += [ConfigProblem(f"register.toml:{p.path}", p.message) for p in exc.problems]
        if problems or settings is None or register is None:
            raise ConfigError(str(home), problems)
        os.umask(PRIVATE_UMASK)
        return cls(paths, settings, register, clock or SystemClock())

    @lazy
    def db(self) -> Database:
        """The app-state database and its repositories."""
        return Database(self.paths.state)

    @lazy
    def audit(self) -> AuditLog:
        """The audit log (its own database), keyed and checkpointed (H4)."""
        return open_audit(self.paths, self.settings, self.register, self.clock)

    @lazy
    def activity(self) -> ActivityStore:
        """The activity store."""
        from loyaute.store.records import ActivityStore  # noqa: PLC0415 - see the imports

        return ActivityStore(self.paths.activity)

    @lazy
    def pseudonymizer(self) -> Pseudonymizer:
        """The keyed pseudonymiser (the key is read only when needed), refused when it is not
        this workspace's key (H5)."""
        pseudonymizer = self.key_loader(self.paths.key(self.settings))
        check_key(self, pseudonymizer)
        return pseudonymizer

    @lazy
    def lock(self) -> WorkspaceLock:
        """The writer lock (H5): held by every command that changes the workspace."""
        return WorkspaceLock(self.paths.lock, self.settings.lock_wait_seconds)

    def today(self) -> date:
        """Today in the organisation's zone: the one place a local "today" is computed."""
        return self.clock.now().astimezone(self.settings.zone).date()

    def close(self) -> None:
        """Close the databases."""
        if "db" in self.__dict__:
            self.db.close()
        if "audit" in self.__dict__:
            self.audit.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_audit(paths: Paths, settings: Settings, register: Register, clock: Clock) -> AuditLog:
    """The audit log with its key (created with the log when it has none yet) and checkpoints."""
    key_path = paths.resolve(settings.audit.key_file)
    if not key_path.exists() and not AuditLog.is_keyed(paths.audit):
        create_key(key_path)  # a new log, or one written before logs had a key
    key = (
        read_secret(key_path, tr("clé du journal des accès", "access log key"))
        if key_path.exists()
        else None
    )
    checkpoint = settings.audit.checkpoint_file
    return AuditLog(
        paths.audit,
        clock,
        key=key,
        checkpoints=Checkpoints(
            paths.resolve(checkpoint) if checkpoint else None, settings.audit.checkpoint_syslog
        ),
        retention_months=register.purpose.audit_retention_months,
    )


KEY_FINGERPRINT = "key_fingerprint"


def check_key(ws: Workspace, pseudonymizer: Pseudonymizer) -> None:
    """Rule H5: the key must be the one the workspace was made with (its fingerprint is kept in
    the state database; a workspace older than the fingerprint records it on first use, unless
    its stored records belong to no agent under that key)."""
    found = pseudonymizer.fingerprint()
    kept = ws.db.meta(KEY_FINGERPRINT)
    if kept is None:
        stored = {
            r
            for t in ("records", "pending", "study")
            for r in ws.activity.read(t).column("agent").to_pylist()
        }
        if stored and not stored & {pseudonymizer.pseudonym(a) for a in ws.db.agents.all()}:
            kept = ""  # none of the stored pseudonyms is an agent's under this key: refuse
        else:
            ws.db.set_meta(KEY_FINGERPRINT, found)
            return
    if kept != found:
        raise KeyMismatch(
            tr(
                "la clé de pseudonymisation n'est pas celle de cet espace de travail : aucune "
                "commande ne l'utilisera (les enregistrements seraient lus comme ceux de personne)",
                "the pseudonymisation key is not this workspace's key: no command will use it "
                "(every record would read as nobody's)",
            ),
            hint=tr(
                "restaurer la clé d'origine (sauvegarde, coffre) à l'emplacement key_file",
                "restore the original key (backup, vault) at key_file",
            ),
        )


def init(home: Path) -> Paths:
    """Create a workspace: both files with every key, the key (0600), empty stores."""
    paths = Paths(home)
    if paths.marker.exists():
        raise WorkspaceError(
            tr(f"{home} est déjà un espace de travail", f"{home} is already a workspace"),
        )
    settings = Settings()
    # Every refusal comes before the first write: a refused init leaves nothing behind.
    for existing in (paths.settings, paths.register, paths.key(settings), paths.state, paths.audit):
        if existing.exists():
            raise WorkspaceError(
                tr(
                    f"{existing} existe déjà : rien n'a été écrit",
                    f"{existing} exists: nothing was written",
                )
            )
    os.umask(PRIVATE_UMASK)
    home.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    os.chmod(home, PRIVATE_DIR)
    paths.settings.write_text(loyaute_toml(settings), encoding="utf-8")
    paths.register.write_text(register_toml(), encoding="utf-8")
    create_key(paths.key(settings))
    os.chmod(paths.key(settings).parent, 0o700)
    paths.activity.mkdir(parents=True, exist_ok=True)
    db = Database(paths.state)
    try:
        db.set_meta(KEY_FINGERPRINT, load_key(paths.key(settings)).fingerprint())
    finally:
        db.close()
    create_key(paths.resolve(settings.audit.key_file))
    open_audit(paths, settings, Register(), SystemClock()).close()
    paths.marker.write_text("loyaute workspace v1\n", encoding="utf-8")
    return paths


def _raw_key_file(path: Path) -> str | None:
    try:
        data = read_toml(path)
    except ConfigError:
        return None
    value = data.get("key_file")
    return value if isinstance(value, str) and value else None


def check(home: Path) -> list[ConfigProblem]:
    """``config check``: both files and the environment; every problem, none raised."""
    paths = Paths(home)
    if not paths.marker.is_file():
        raise _not_initialised(home)
    problems: list[ConfigProblem] = []
    key_file = Settings().key_file
    settings: Settings | None = None
    try:
        settings = load_settings(paths.settings)
        key_file = settings.key_file
        problems += secret_problems(home, settings)
    except ConfigError as exc:
        problems += [ConfigProblem(f"loyaute.toml:{p.path}", p.message) for p in exc.problems]
        # The key is still checked, at the path the file names when that key itself is readable.
        raw = _raw_key_file(paths.settings)
        if raw is not None:
            key_file = raw
    try:
        register = load_register(paths.register)
    except ConfigError as exc:
        problems += [ConfigProblem(f"register.toml:{p.path}", p.message) for p in exc.problems]
    else:
        if settings is not None:
            problems += transfer_problems(settings, register)
    if key_file:
        key = paths.key(Settings(key_file=key_file))
        try:
            loaded = load_key(key)
            db = Database(paths.state)
            try:
                kept = db.meta(KEY_FINGERPRINT)
            finally:
                db.close()
            if kept is not None and kept != loaded.fingerprint():
                problems.append(
                    ConfigProblem(
                        "loyaute.toml:key_file",
                        tr(
                            "la clé de pseudonymisation n'est pas celle de cet espace de travail "
                            "(H5) : restaurer la clé d'origine",
                            "the pseudonymisation key is not this workspace's key (H5): restore "
                            "the original key",
                        ),
                    )
                )
        except LoyauteError as exc:
            problems.append(ConfigProblem("loyaute.toml:key_file", exc.message))
        try:
            key_dev = key.resolve().stat().st_dev if key.exists() else None
            if key.exists() and key.resolve().is_relative_to(paths.store.resolve()):
                problems.append(
                    ConfigProblem(
                        "loyaute.toml:key_file",
                        tr(
                            "la clé ne doit pas être dans le magasin (B6)",
                            "the key must not be inside the store (B6)",
                        ),
                    )
                )
            del key_dev
        except OSError:
            pass
    for what, path in (
        ("store", paths.activity),
        ("store", paths.state.parent),
        ("audit", paths.audit.parent),
    ):
        if not path.is_dir() or not os.access(path, os.W_OK):
            problems.append(
                ConfigProblem(
                    f"(environnement) {what}",
                    tr(
                        f"{path} introuvable ou non inscriptible", f"{path} missing or not writable"
                    ),
                )
            )
    problems += loose_modes(paths)
    return problems


def transfer_problems(settings: Settings, register: Register) -> list[ConfigProblem]:
    """A remote log location (loyaute.toml) that no ``[[transfers]]`` entry of register.toml
    names: the register would hide where the logs are (art. 30(1)(e), issue 11)."""
    return [
        ConfigProblem(
            "register.toml:transfers",
            tr(
                f"{where} (ingest.remote_locations) n'est nommé par aucune entrée [[transfers]]",
                f"{where} (ingest.remote_locations) is named by no [[transfers]] entry",
            ),
        )
        for where in uncovered(settings.ingest.remote_locations, register.transfers)
    ]


LOOSE_REPORT_LIMIT = 20


def loose_modes(paths: Paths) -> list[ConfigProblem]:
    """Workspace folders and files that others than their owner may read or write (H3): the
    workspace holds personal data and its key; folders should be 0700 and files 0600."""
    found: list[ConfigProblem] = []
    skipped = {"demo-data"}  # generated logs of the demo, not the workspace's own state
    candidates = [paths.home]
    for root, dirs, files in os.walk(paths.home):
        dirs[:] = [d for d in dirs if d not in skipped]
        candidates += [Path(root) / d for d in dirs] + [Path(root) / f for f in files]
    for path in candidates:
        try:
            mode = path.lstat().st_mode
        except OSError:
            continue
        if stat.S_ISLNK(mode) or not mode & (stat.S_IRWXG | stat.S_IRWXO):
            continue
        expected = "0700" if stat.S_ISDIR(mode) else "0600"
        found.append(
            ConfigProblem(
                "(environnement) droits",
                tr(
                    f"{path} est en {stat.S_IMODE(mode):04o} : {expected} attendu (chmod {expected[1:]})",
                    f"{path} is {stat.S_IMODE(mode):04o}: {expected} expected (chmod {expected[1:]})",
                ),
            )
        )
    if len(found) > LOOSE_REPORT_LIMIT:
        more = len(found) - LOOSE_REPORT_LIMIT
        found = [
            *found[:LOOSE_REPORT_LIMIT],
            ConfigProblem(
                "(environnement) droits", tr(f"… et {more} autre(s)", f"… and {more} more")
            ),
        ]
    return found
