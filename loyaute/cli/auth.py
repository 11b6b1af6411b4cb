"""Who runs a command (rule E9): ``loyaute login`` and personal tokens, never a name taken from
an option or the environment.

``loyaute login LOGIN`` asks for the password (``--password-stdin`` reads it from standard input,
as ``docker login`` does) and keeps a short-lived command-line session for the current OS user: a
0600 file in the user's configuration folder (``$XDG_CONFIG_HOME/loyaute/sessions.json``), or the
path in ``LOYAUTE_SESSION_FILE``, holding one session token per workspace. ``loyaute account token
LOGIN`` issues a revocable personal token for automation, passed as ``LOYAUTE_TOKEN``.

Commands that show or change individual data, cases, rights, statements or the audit log call
``signed_in``: without a valid session or token they stop with exit code 77 and a French message
naming ``loyaute login``. Commands that run the processing itself (imports, ingestion, purge,
aggregate reports) act as the signed-in account when there is one, and otherwise as the OS user
— OS access to the workspace is the root of trust (docs/deployment.md).
"""

from __future__ import annotations

import json
import os
import pwd
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from loyaute.cli.output import HELP_MARKUP, err, handle_errors, out, state
from loyaute.errors import InputError, NotSignedIn, UsageError
from loyaute.i18n import tr

if TYPE_CHECKING:
    from loyaute.policy.roles import Identity
    from loyaute.workspace import Workspace

SESSION_ENV = "LOYAUTE_SESSION_FILE"
TOKEN_ENV = "LOYAUTE_TOKEN"


def os_user() -> str:
    """The OS account running the command, from the process's user id (not the environment)."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def session_file() -> Path:
    """Where command-line sessions are kept for the current OS user."""
    explicit = os.environ.get(SESSION_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(
        Path(pwd.getpwuid(os.getuid()).pw_dir) / ".config"
    )
    return Path(base) / "loyaute" / "sessions.json"


def _workspace_key(ws: Workspace) -> str:
    return str(ws.paths.home.resolve())


def _read_sessions(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_sessions(path: Path, sessions: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(sessions, f)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def current(ws: Workspace) -> Identity | None:
    """The signed-in account (personal token first, then the session), or None."""
    from loyaute.accounts import get_session, token_identity  # noqa: PLC0415 - lazy

    token = os.environ.get(TOKEN_ENV)
    if token:
        who = token_identity(ws.db, ws.clock, token)
        if who is None:
            raise NotSignedIn(
                tr(
                    f"{TOKEN_ENV} : jeton inconnu, expiré ou révoqué",
                    f"{TOKEN_ENV}: unknown, expired or revoked token",
                ),
                hint=tr(
                    "en demander un nouveau : `loyaute account token IDENTIFIANT`",
                    "issue a new one: `loyaute account token LOGIN`",
                ),
            )
        return who
    saved = _read_sessions(session_file()).get(_workspace_key(ws))
    session = get_session(ws.db, ws.clock, saved, kind="cli")
    return session.account if session else None


def signed_in(ws: Workspace) -> Identity:
    """The signed-in account, or exit 77 naming ``loyaute login``."""
    who = current(ws)
    if who is None:
        raise NotSignedIn(
            tr(
                "cette commande agit au nom d'un compte : aucune session ouverte",
                "this command acts as an account: no session is open",
            ),
            hint=tr(
                "se connecter avec `loyaute login IDENTIFIANT` (ou LOYAUTE_TOKEN)",
                "sign in with `loyaute login LOGIN` (or LOYAUTE_TOKEN)",
            ),
        )
    return who


def acting(ws: Workspace) -> Identity:
    """The signed-in account, or the OS user acting as loyaute's system role."""
    from loyaute.policy.roles import Identity, Role  # noqa: PLC0415 - lazy

    return current(ws) or Identity(f"os:{os_user()}", Role.SYSTEM)


def _read_password(password_stdin: bool, confirm: bool = False) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UsageError(
            tr(
                "pas de terminal pour saisir le mot de passe : utiliser --password-stdin",
                "no terminal to type the password: use --password-stdin",
            )
        )
    text: str = typer.prompt(
        tr("Mot de passe", "Password"), hide_input=True, confirmation_prompt=confirm
    )
    return text


def register(app: typer.Typer) -> None:
    """Add ``login``, ``logout`` and ``account`` to the app."""
    account_app = typer.Typer(
        rich_markup_mode=HELP_MARKUP,
        help=tr("Comptes et jetons personnels.", "Accounts and personal tokens."),
        no_args_is_help=True,
    )
    app.add_typer(account_app, name="account")

    @app.command("login")
    @handle_errors
    def login_command(
        login: Annotated[str, typer.Argument(help=tr("Identifiant du compte.", "Account login."))],
        password_stdin: Annotated[
            bool,
            typer.Option(
                "--password-stdin",
                help=tr(
                    "Lire le mot de passe sur l'entrée standard.", "Read the password from stdin."
                ),
            ),
        ] = False,
    ) -> None:
        """Ouvre une session pour les commandes qui agissent au nom d'un compte. / Sign in."""
        from loyaute.accounts import authenticate, open_session  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        password = _read_password(password_stdin)
        with Workspace.open(state.home) as ws:
            who = authenticate(
                ws.db, ws.clock, login, password, f"cli:{os_user()}", ws.settings.accounts
            )
            if who is None:
                ws.audit.append(
                    login[:200],
                    "",
                    "sign_in_refused",
                    reason=tr("ligne de commande", "command line"),
                )
                raise InputError(
                    tr(
                        "identifiant ou mot de passe incorrect, ou compte désactivé",
                        "wrong login or password, or account disabled",
                    )
                )
            token = open_session(ws.db, ws.clock, who, kind="cli")
            path = session_file()
            sessions = _read_sessions(path)
            sessions[_workspace_key(ws)] = token
            _write_sessions(path, sessions)
            ws.audit.append(
                who.login,
                who.role.value,
                "sign_in",
                reason=tr("ligne de commande", "command line"),
                details={"os_user": os_user()},
            )
        out.print(
            tr(
                f"Connecté en tant que {who.login} ({who.role}) ; session gardée dans {path}.",
                f"Signed in as {who.login} ({who.role}); session kept in {path}.",
            )
        )

    @app.command("logout")
    @handle_errors
    def logout_command() -> None:
        """Ferme la session de cet espace de travail. / Sign out of this workspace."""
        from loyaute.accounts import close_session  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        path = session_file()
        sessions = _read_sessions(path)
        with Workspace.open(state.home) as ws:
            token = sessions.pop(_workspace_key(ws), None)
            close_session(ws.db, token)
        _write_sessions(path, sessions)
        out.print(tr("Session fermée.", "Signed out."))

    @account_app.command("add")
    @handle_errors
    def account_add_command(
        login: Annotated[str, typer.Option("--login")],
        role: Annotated[
            str,
            typer.Option(
                "--role", help="operator | dpo | hr_reviewer | manager | agent | staff_rep"
            ),
        ],
        agent: Annotated[str, typer.Option("--agent", help="ID")] = "",
        password: Annotated[
            str | None,
            typer.Option(
                "--password", envvar="LOYAUTE_PASSWORD", help=tr("Sinon demandé.", "Else prompted.")
            ),
        ] = None,
        password_stdin: Annotated[
            bool,
            typer.Option(
                "--password-stdin", help=tr("Lire sur l'entrée standard.", "Read from stdin.")
            ),
        ] = False,
    ) -> None:
        """Crée un compte (mot de passe Argon2id). / Create an account (Argon2id password)."""
        from loyaute.accounts import create_account  # noqa: PLC0415 - lazy
        from loyaute.policy.access import require_action  # noqa: PLC0415
        from loyaute.policy.roles import Action  # noqa: PLC0415
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            who = acting(ws)
            require_action(ws, who, Action.ACCOUNTS_MANAGE)
            secret = password if password is not None else _read_password(password_stdin, True)
            created = create_account(ws.db, ws.clock, login, secret, role, agent)
            ws.audit.append(
                who.login,
                who.role.value,
                "account_add",
                agent_id=agent,
                reason=tr("création de compte", "account created"),
                details={"login": created.login, "role": created.role.value},
            )
        out.print(tr(f"Compte {login} créé.", f"Account {login} created."))

    @account_app.command("token")
    @handle_errors
    def account_token_command(
        login: Annotated[str, typer.Argument(help=tr("Identifiant du compte.", "Account login."))],
        password_stdin: Annotated[
            bool,
            typer.Option(
                "--password-stdin", help=tr("Lire sur l'entrée standard.", "Read from stdin.")
            ),
        ] = False,
        days: Annotated[
            int,
            typer.Option(
                "--days", min=1, max=365, help=tr("Validité en jours.", "Validity in days.")
            ),
        ] = 90,
    ) -> None:
        """Jeton personnel révocable pour l'automatisation (LOYAUTE_TOKEN). / A revocable
        personal token for automation (LOYAUTE_TOKEN)."""
        from loyaute.accounts import authenticate, issue_token  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        password = _read_password(password_stdin)
        with Workspace.open(state.home) as ws:
            who = authenticate(
                ws.db, ws.clock, login, password, f"cli:{os_user()}", ws.settings.accounts
            )
            if who is None:
                raise InputError(
                    tr(
                        "identifiant ou mot de passe incorrect, ou compte désactivé",
                        "wrong login or password, or account disabled",
                    )
                )
            number, token = issue_token(ws.db, ws.clock, who, days)
            ws.audit.append(
                who.login,
                who.role.value,
                "token_issued",
                reason=tr("jeton personnel", "personal token"),
                details={"token": number, "days": days},
            )
        err.print(
            tr(
                f"Jeton n° {number} pour {who.login}, valable {days} jours ; il n'est affiché "
                "qu'une fois (révocation : `loyaute account revoke NUMÉRO`) :",
                f"Token #{number} for {who.login}, valid {days} days; it is shown only once "
                "(revoke: `loyaute account revoke NUMBER`):",
            )
        )
        typer.echo(token)

    def _manage(login: str, what: str, verb_fr: str, verb_en: str) -> None:
        from loyaute.accounts import set_disabled, unlock  # noqa: PLC0415 - lazy
        from loyaute.policy.access import require_action  # noqa: PLC0415
        from loyaute.policy.roles import Action  # noqa: PLC0415
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            who = acting(ws)
            require_action(ws, who, Action.ACCOUNTS_MANAGE)
            if ws.db.accounts.get(login) is None:
                raise InputError(tr(f"compte inconnu : {login}", f"unknown account: {login}"))
            if what == "unlock":
                unlock(ws.db, login)
            else:
                set_disabled(ws.db, ws.clock, login, what == "disable", who.login)
            ws.audit.append(who.login, who.role.value, f"account_{what}", details={"login": login})
        out.print(tr(f"Compte {login} {verb_fr}.", f"Account {login} {verb_en}."))

    @account_app.command("unlock")
    @handle_errors
    def account_unlock_command(
        login: Annotated[str, typer.Argument(help=tr("Identifiant du compte.", "Account login."))],
    ) -> None:
        """Efface les échecs de connexion d'un compte (fin de l'attente). / Forget an account's
        failed sign-ins (end of the backoff)."""
        _manage(login, "unlock", "débloqué", "unlocked")

    @account_app.command("disable")
    @handle_errors
    def account_disable_command(
        login: Annotated[str, typer.Argument(help=tr("Identifiant du compte.", "Account login."))],
    ) -> None:
        """Désactive un compte : plus de connexion, sessions et jetons refusés. / Disable an
        account: no sign-in, sessions and tokens refused."""
        _manage(login, "disable", "désactivé", "disabled")

    @account_app.command("enable")
    @handle_errors
    def account_enable_command(
        login: Annotated[str, typer.Argument(help=tr("Identifiant du compte.", "Account login."))],
    ) -> None:
        """Réactive un compte désactivé. / Enable a disabled account again."""
        _manage(login, "enable", "réactivé", "enabled")

    @account_app.command("revoke")
    @handle_errors
    def account_revoke_command(
        number: Annotated[int, typer.Argument(help=tr("Numéro du jeton.", "Token number."))],
    ) -> None:
        """Révoque un de ses jetons personnels. / Revoke one of one's personal tokens."""
        from loyaute.accounts import revoke_token  # noqa: PLC0415 - lazy
        from loyaute.workspace import Workspace  # noqa: PLC0415

        with Workspace.open(state.home) as ws:
            who = signed_in(ws)
            revoke_token(ws.db, ws.clock, who, number)
            ws.audit.append(who.login, who.role.value, "token_revoked", details={"token": number})
        out.print(tr(f"Jeton n° {number} révoqué.", f"Token #{number} revoked."))
