"""The agent directory read from LDAP / Active Directory (``loyaute directory sync``).

One read-only pass: a TLS connection (LDAPS, or StartTLS on ldap://; the server's certificate is
always verified), a simple bind with the service account's password read from its own file, and
a paged search (RFC 2696) so that a directory larger than the server's size limit (1,000 entries
on Active Directory) is read whole. Each entry becomes an ``Agent`` through the attribute mapping
of ``[directory.ldap.attributes]``; the manager's DN is resolved to that entry's agent id.

ldap3 is pure Python (no C library to build); it is imported here only. Messages never carry the
password, and say what to check next (H3, STYLE.md habit 4).
"""

from __future__ import annotations

import contextlib
import re
import ssl
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from loyaute.config import LdapSettings
from loyaute.errors import LoyauteError
from loyaute.i18n import tr
from loyaute.store.directory import Agent

with warnings.catch_warnings():
    # ldap3 2.9 imports names pyasn1 has since renamed; the warning is theirs, not ours.
    warnings.simplefilter("ignore", DeprecationWarning)
    import ldap3
    from ldap3.core import exceptions as ldap_errors

_ADDRESS_TYPE = re.compile(r"^([A-Za-z][A-Za-z0-9]{0,9}):(.*)$")


class DirectoryServerError(LoyauteError):
    """The directory server could not be read (unreachable, refused bind, bad filter, TLS)."""

    def __init__(self, message: str, kind: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.kind = kind
        """unreachable, bind, tls, search: for the audit log."""


@dataclass
class LdapDirectory:
    """What the server returned: the agents, and the entries that could not be one."""

    agents: list[Agent] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """One line per entry left out (its DN and why)."""
    unresolved_managers: int = 0


def login_values(values: list[str]) -> list[str]:
    """Logins from one attribute's values: ``smtp:``/``SMTP:`` prefixes (proxyAddresses) removed,
    other address types (X500:, SIP:, EUM:) left out."""
    out: list[str] = []
    for value in values:
        text = value.strip()
        match = _ADDRESS_TYPE.match(text)
        if match and "@" not in match.group(1):
            if match.group(1).lower() != "smtp":
                continue
            text = match.group(2).strip()
        if text:
            out.append(text)
    return out


def normalise_dn(dn: str) -> str:
    """A DN for comparison: case-folded, no spaces around separators."""
    return ",".join(part.strip() for part in dn.split(",")).casefold()


def read_directory(settings: LdapSettings, password: str) -> LdapDirectory:
    """Read every agent the filter selects."""
    conn = _connect(settings, password)
    try:
        entries = list(_search(conn, settings))
    finally:
        _close(conn)
    return to_agents(entries, settings)


def _server(settings: LdapSettings) -> Any:
    scheme, _, rest = settings.url.partition("://")
    hostport = rest.split("/", 1)[0]
    host, _, port = hostport.rpartition(":") if hostport.count(":") == 1 else (hostport, "", "")
    host = host or hostport
    tls = ldap3.Tls(
        validate=ssl.CERT_REQUIRED,
        version=ssl.PROTOCOL_TLS_CLIENT,
        ca_certs_file=settings.ca_file or None,
    )
    return ldap3.Server(
        host,
        port=int(port) if port else (636 if scheme.lower() == "ldaps" else 389),
        use_ssl=scheme.lower() == "ldaps",
        tls=tls,
        get_info=ldap3.NONE,
        connect_timeout=settings.timeout_seconds,
    )


def _connect(settings: LdapSettings, password: str) -> Any:
    conn = ldap3.Connection(
        _server(settings),
        user=settings.bind_dn,
        password=password,
        authentication=ldap3.SIMPLE,
        receive_timeout=settings.timeout_seconds,
        raise_exceptions=True,
        read_only=True,
        auto_referrals=False,
    )
    try:
        with warnings.catch_warnings():
            # ldap3 checks the certificate's name with ssl.match_hostname, which Python 3.11
            # marks deprecated (it still checks; ldap3 carries its own copy for 3.12).
            warnings.simplefilter("ignore", DeprecationWarning)
            conn.open()
            if settings.start_tls:
                conn.start_tls()
            conn.bind()
    except ldap_errors.LDAPException as exc:
        _close(conn)
        raise _connect_error(settings, exc) from None
    return conn


def _close(conn: Any) -> None:
    with contextlib.suppress(ldap_errors.LDAPException, OSError):
        conn.unbind()
    socket = getattr(conn, "socket", None)
    if socket is not None:
        with contextlib.suppress(OSError):
            socket.close()


def _connect_error(settings: LdapSettings, exc: Exception) -> DirectoryServerError:
    """The message for a failed connection or bind (never the password)."""
    where = settings.url
    if isinstance(exc, ldap_errors.LDAPInvalidCredentialsResult):
        return DirectoryServerError(
            tr(
                f"{where} : identifiants refusés pour {settings.bind_dn}",
                f"{where}: credentials refused for {settings.bind_dn}",
            ),
            "bind",
            hint=tr(
                "vérifier bind_dn et le fichier password_file",
                "check bind_dn and the password_file",
            ),
        )
    if isinstance(exc, ldap_errors.LDAPStartTLSError | ldap_errors.LDAPSSLConfigurationError):
        return DirectoryServerError(
            tr(f"{where} : échec TLS ({type(exc).__name__})", f"{where}: TLS failed"),
            "tls",
            hint=tr(
                "vérifier ca_file et le nom du serveur dans son certificat",
                "check ca_file and the server name in its certificate",
            ),
        )
    if isinstance(exc, ldap_errors.LDAPSocketOpenError):
        tls_failure = "certificate" in str(exc).lower() or "ssl" in str(exc).lower()
        return DirectoryServerError(
            tr(f"{where} : serveur injoignable", f"{where}: server unreachable")
            if not tls_failure
            else tr(
                f"{where} : certificat du serveur refusé", f"{where}: server certificate refused"
            ),
            "tls" if tls_failure else "unreachable",
            hint=tr(
                "vérifier l'adresse, le port, le pare-feu et ca_file",
                "check the address, the port, the firewall and ca_file",
            ),
        )
    return DirectoryServerError(
        tr(
            f"{where} : connexion refusée ({type(exc).__name__})",
            f"{where}: connection refused ({type(exc).__name__})",
        ),
        "bind",
    )


def _search(conn: Any, settings: LdapSettings) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """(DN, attribute → values) of each entry, page after page."""
    attrs = settings.attributes
    wanted = sorted(
        {
            attrs.agent_id,
            attrs.display_name,
            attrs.service,
            attrs.job_family,
            attrs.manager,
            *attrs.logins,
        }
    )
    try:
        for item in conn.extend.standard.paged_search(
            settings.base_dn,
            settings.filter,
            search_scope=ldap3.SUBTREE,
            attributes=wanted,
            paged_size=settings.page_size,
            generator=True,
        ):
            if item.get("type") != "searchResEntry":
                continue  # referrals: not followed
            raw: dict[str, list[bytes]] = item.get("raw_attributes", {})
            values = {
                name.casefold(): [v.decode("utf-8", "replace") for v in vals]
                for name, vals in raw.items()
            }
            yield item["dn"], values
    except ldap_errors.LDAPInvalidFilterError:
        raise DirectoryServerError(
            tr(
                f"filtre LDAP invalide : {settings.filter}",
                f"invalid LDAP filter: {settings.filter}",
            ),
            "search",
        ) from None
    except ldap_errors.LDAPNoSuchObjectResult:
        raise DirectoryServerError(
            tr(
                f"base_dn introuvable : {settings.base_dn}",
                f"base_dn not found: {settings.base_dn}",
            ),
            "search",
        ) from None
    except ldap_errors.LDAPException as exc:
        raise DirectoryServerError(
            tr(
                f"{settings.url} : recherche interrompue ({type(exc).__name__})",
                f"{settings.url}: search failed ({type(exc).__name__})",
            ),
            "search",
        ) from None


def to_agents(
    entries: list[tuple[str, dict[str, list[str]]]], settings: LdapSettings
) -> LdapDirectory:
    """Agents from the entries (attribute names compared without case, as LDAP does)."""
    attrs = settings.attributes
    out = LdapDirectory()

    def first(values: dict[str, list[str]], name: str) -> str:
        found = values.get(name.casefold(), [])
        return found[0].strip() if found else ""

    ids_by_dn = {
        normalise_dn(dn): agent_id
        for dn, values in entries
        if (agent_id := first(values, attrs.agent_id))
    }
    for dn, values in entries:
        agent_id = first(values, attrs.agent_id)
        service = first(values, attrs.service)
        family = first(values, attrs.job_family)
        missing = [
            name
            for name, value in (
                (attrs.agent_id, agent_id),
                (attrs.service, service),
                (attrs.job_family, family),
            )
            if not value
        ]
        logins: list[str] = []
        for name in attrs.logins:
            for login in login_values(values.get(name.casefold(), [])):
                if login.casefold() not in {x.casefold() for x in logins}:
                    logins.append(login)
        if not logins:
            missing.append(tr("identifiant", "login"))
        if missing:
            out.skipped.append(
                tr(f"{dn} : sans {', '.join(missing)}", f"{dn}: no {', '.join(missing)}")
            )
            continue
        manager = first(values, attrs.manager)
        manager_id = ids_by_dn.get(normalise_dn(manager), "") if "=" in manager else manager
        if manager and not manager_id:
            out.unresolved_managers += 1
        out.agents.append(
            Agent(
                agent_id=agent_id,
                display_name=first(values, attrs.display_name) or agent_id,
                service=service,
                job_family=family,
                manager_id=manager_id,
                logins=tuple(logins),
            )
        )
    return out
