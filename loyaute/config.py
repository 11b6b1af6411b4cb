"""Typed settings: ``loyaute.toml`` (the deployer's file).

Every setting has a type, a default and a description; unknown keys are refused, and every
problem is reported with its dotted path (``half_days.am``) in one go (exit 78). The template
``init`` writes and the settings reference in ``docs/`` are generated from these models, so a
setting cannot exist without its documentation.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from loyaute.errors import ConfigError, ConfigProblem

_WINDOW_RE = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")


class Model(BaseModel):
    """Closed models: an unknown key is an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def window_minutes(text: str) -> tuple[int, int]:
    """``"07:00-12:30"`` → minutes since midnight of start and end (end after start)."""
    m = _WINDOW_RE.match(text.strip())
    if not m:
        raise ValueError(f"'{text}' n'est pas une plage HH:MM-HH:MM / is not a HH:MM-HH:MM range")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise ValueError(f"'{text}': heure invalide / invalid time")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise ValueError(f"'{text}': la fin doit suivre le début / end must follow start")
    return start, end


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"fuseau inconnu / unknown time zone '{name}'") from exc
    return name


class HalfDays(Model):
    """Half-day windows in local time. Traces outside both windows are ignored (rule C9)."""

    am: str = Field("07:00-12:30", description="Morning window, local time, HH:MM-HH:MM.")
    pm: str = Field("12:30-20:00", description="Afternoon window, local time, HH:MM-HH:MM.")

    @field_validator("am", "pm")
    @classmethod
    def _valid(cls, value: str) -> str:
        window_minutes(value)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> HalfDays:
        if window_minutes(self.am)[1] > window_minutes(self.pm)[0]:
            raise ValueError("am doit finir avant le début de pm / am must end before pm starts")
        return self


class ScheduleCodes(Model):
    """Schedule code → kind. Codes are compared without regard to case."""

    telework: list[str] = Field(["TLT", "TT"], description="Telework: the only kind checked.")
    on_site: list[str] = Field(["PRES", "SITE"], description="On site (validity study only).")
    leave: list[str] = Field(
        ["CA", "RTT", "MAL", "CONGE"], description="Leave, sickness: never kept."
    )
    field: list[str] = Field(
        ["MIS", "TERRAIN", "VAD"], description="Missions, field days, home visits: never kept."
    )
    training: list[str] = Field(["FORM"], description="Training: never kept.")
    union: list[str] = Field(["ASA", "DS"], description="Union time: never kept.")

    @model_validator(mode="after")
    def _disjoint(self) -> ScheduleCodes:
        seen: dict[str, str] = {}
        for kind in ("telework", "on_site", "leave", "field", "training", "union"):
            for code in getattr(self, kind):
                key = code.strip().upper()
                if key in seen and seen[key] != kind:
                    raise ValueError(f"code '{code}' à la fois {seen[key]} et {kind}")
                seen[key] = kind
        return self


class ScheduleSettings(Model):
    """How the schedule export (Octime or other) is read."""

    codes: ScheduleCodes = Field(default_factory=ScheduleCodes)
    pending_days: int = Field(
        7,
        ge=0,
        le=31,
        description="Days a half-day with no schedule yet is held before being dropped (B4).",
    )
    agent_id_column: str = Field("agent_id", description="Column of the agent identifier.")
    date_column: str = Field("date", description="Column of the date (ISO or DD/MM/YYYY).")
    half_day_column: str = Field("half_day", description="Column of AM/PM/matin/après-midi/JOUR.")
    code_column: str = Field("code", description="Column of the schedule code.")


class LdapAttributes(Model):
    """Which LDAP attribute holds each directory field (Active Directory names by default)."""

    agent_id: str = Field("employeeID", description="Stable agent identifier.")
    display_name: str = Field("displayName", description="Name shown in review cases.")
    service: str = Field("department", description="Service (aggregation unit).")
    job_family: str = Field("title", description="Job family (eligibility, B5).")
    manager: str = Field(
        "manager",
        description="The manager: a DN (Active Directory) resolved to that entry's agent id, or "
        "the manager's agent id itself.",
    )
    logins: list[str] = Field(
        ["sAMAccountName", "userPrincipalName", "mail", "proxyAddresses"],
        description="Every attribute holding a login the agent may appear under in the logs "
        "(`smtp:`/`SMTP:` prefixes of proxyAddresses are removed; other address types are "
        "ignored).",
    )


class LdapSettings(Model):
    """Where and how `directory sync` reads the directory (LDAPS or StartTLS, simple bind)."""

    url: str = Field(
        "",
        description="Server URL, ldaps://host[:port] or ldap://host[:port] with start_tls "
        "(empty: sync not configured).",
    )
    start_tls: bool = Field(False, description="Upgrade an ldap:// connection with StartTLS.")
    ca_file: str = Field(
        "", description="CA certificates (PEM) that sign the server's certificate (empty: system)."
    )
    bind_dn: str = Field("", description="DN (or user@domain) of the read-only service account.")
    password_file: str = Field(
        "secrets/ldap-bind-password",
        description="File holding the bind password (mode 0600), relative to the workspace or "
        "absolute. Never in loyaute.toml.",
    )
    base_dn: str = Field("", description="Where the search starts.")
    filter: str = Field(
        "(&(objectCategory=person)(objectClass=user)"
        "(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
        description="LDAP filter of the agents (default: enabled Active Directory users).",
    )
    page_size: int = Field(
        500, ge=10, le=5000, description="Entries per page of the paged search (RFC 2696)."
    )
    timeout_seconds: int = Field(10, ge=1, le=300, description="Connection and answer timeout.")
    max_removed_share: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="A sync that would remove more than this share of the agents stops and "
        "asks for --confirm (a broken filter must not empty the directory).",
    )
    attributes: LdapAttributes = Field(default_factory=LdapAttributes)

    @model_validator(mode="after")
    def _tls(self) -> LdapSettings:
        if not self.url:
            return self
        scheme = self.url.partition("://")[0].lower()
        if scheme not in ("ldap", "ldaps"):
            raise ValueError("url : ldaps://… ou ldap://… / url: ldaps://… or ldap://…")
        if scheme == "ldap" and not self.start_tls:
            raise ValueError(
                "ldap:// sans start_tls : le mot de passe passerait en clair ; ldaps:// ou "
                "start_tls = true / ldap:// without start_tls would send the password in clear"
            )
        if scheme == "ldaps" and self.start_tls:
            raise ValueError(
                "ldaps:// est déjà chiffré : start_tls = false / ldaps:// with start_tls"
            )
        if not self.base_dn:
            raise ValueError("base_dn est requis / base_dn is required")
        return self


class DirectorySettings(Model):
    """How the agent directory export is read (column names of a real export)."""

    agent_id_column: str = Field("agent_id", description="Stable agent identifier.")
    display_name_column: str = Field("display_name", description="Name shown in review cases.")
    service_column: str = Field("service", description="Service (aggregation unit).")
    job_family_column: str = Field("job_family", description="Job family (eligibility, B5).")
    manager_id_column: str = Field("manager_id", description="Agent id of the manager.")
    logins_column: str = Field("logins", description="Logins separated by ';' or '|'.")
    ldap: LdapSettings = Field(
        default_factory=LdapSettings,
        description="`loyaute directory sync`: the directory read from LDAP / Active Directory.",
    )


class RoleGroup(Model):
    """One group of the provider and the loyaute role it gives."""

    group: str = Field(description="Group name as the provider's groups claim writes it.")
    role: Literal["agent", "manager", "hr_reviewer", "dpo", "operator", "staff_rep"] = Field(
        description="Role given to its members."
    )


class OidcSettings(Model):
    """Sign-in with the organisation's OpenID Connect provider (ADFS, Entra ID, Keycloak,
    authentic2)."""

    enabled: bool = Field(False, description="Offer sign-in with the provider.")
    issuer: str = Field(
        "",
        description="Issuer URL; its /.well-known/openid-configuration gives the endpoints and "
        "keys.",
    )
    client_id: str = Field("", description="Client id of loyaute at the provider.")
    client_secret_file: str = Field(
        "secrets/oidc-client-secret",
        description="File holding the client secret (mode 0600), relative to the workspace or "
        "absolute. Never in loyaute.toml.",
    )
    scopes: list[str] = Field(
        ["openid", "profile", "email"], description="Scopes asked for (openid is required)."
    )
    login_claim: str = Field(
        "preferred_username",
        description="ID token claim naming the person's login, matched to the directory like a "
        "log's login (e.g. upn, preferred_username, email).",
    )
    groups_claim: str = Field("groups", description="ID token claim listing the person's groups.")
    roles: list[RoleGroup] = Field(
        [],
        description="Group → role, first match wins. A person in no listed group is refused: no "
        "role, not even agent, is given by default.",
    )
    public_url: str = Field(
        "",
        description="Address of loyaute as browsers reach it (https://loyaute.example.org); the "
        "redirect URI is this plus /auth/oidc/callback. Empty: taken from each request.",
    )
    local_passwords: bool = Field(
        True, description="Keep sign-in with local loyaute passwords on the web (demo default)."
    )
    clock_skew_seconds: int = Field(
        60, ge=0, le=300, description="Tolerance on the ID token's times."
    )
    timeout_seconds: int = Field(10, ge=1, le=120, description="Timeout of calls to the provider.")
    ca_file: str = Field(
        "", description="CA certificates (PEM) of the provider's HTTPS (empty: system)."
    )

    @model_validator(mode="after")
    def _complete(self) -> OidcSettings:
        if not self.enabled:
            if not self.local_passwords:
                raise ValueError(
                    "ni fournisseur OIDC ni mots de passe locaux : personne ne pourrait se "
                    "connecter / neither OIDC nor local passwords: nobody could sign in"
                )
            return self
        missing = [k for k in ("issuer", "client_id") if not getattr(self, k)]
        if missing:
            raise ValueError(f"requis quand enabled = true / required when enabled: {missing}")
        if "openid" not in self.scopes:
            raise ValueError("scopes doit contenir openid / scopes must include openid")
        if not _secure_url(self.issuer):
            raise ValueError("issuer en https:// (http:// seulement en boucle locale)")
        if self.public_url and not _secure_url(self.public_url):
            raise ValueError("public_url en https:// (http:// seulement en boucle locale)")
        return self


def _secure_url(url: str) -> bool:
    """https, or plain http on the loopback only (tests, a local demo)."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit(":", 1)[0].strip("[]").lower()
    if scheme == "https":
        return bool(host)
    return scheme == "http" and host in ("127.0.0.1", "localhost", "::1")


class AppRule(Model):
    """A business application behind the extranet reverse proxy."""

    name: str = Field(description="Application name (e.g. grand-angle, ines, publik, pleiade).")
    hosts: list[str] = Field(description="Virtual host names (case-insensitive, no port).")
    paths: list[str] = Field(["/"], description="Path prefixes that belong to the application.")

    @field_validator("paths")
    @classmethod
    def _slash(cls, value: list[str]) -> list[str]:
        for p in value:
            if not p.startswith("/"):
                raise ValueError(f"'{p}': un chemin commence par / / a path starts with /")
        return value


class FortiGateSettings(Model):
    """FortiGate source."""

    device_timezone: str = Field(
        "",
        description="Zone of the firewall clock for lines with neither eventtime nor tz "
        "(empty: the organisation's zone).",
    )

    @field_validator("device_timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _zone(value) if value else value


class ExchangeSettings(Model):
    """Exchange sources (IIS and HttpProxy)."""

    count_background: bool = Field(
        False,
        description="Also count background traffic (Outlook sync, phone Ping) as a trace. "
        "Weaker evidence: a closed laptop or a phone in a drawer keeps syncing.",
    )
    backend_ports: list[int] = Field([444], description="Ports of the Exchange back-end site.")


class ProxySettings(Model):
    """Reverse-proxy source."""

    default_host: str = Field(
        "",
        description="Virtual host assumed for lines that carry none (one access log per host).",
    )
    monitoring_user_agents: list[str] = Field(
        [],
        description="Beginnings of the User-Agent of monitoring clients that sign in "
        "(e.g. check_http, curl), any case: their requests are never a trace (skipped as probe).",
    )
    monitoring_logins: list[str] = Field(
        [],
        description="Logins of monitoring accounts (compared without domain, any case): their "
        "requests are never a trace (skipped as not_a_person).",
    )

    @field_validator("monitoring_user_agents", "monitoring_logins")
    @classmethod
    def _not_blank(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item.strip():
                raise ValueError("une entrée vide couvrirait tout / an empty entry would match all")
        return value


class GenericSource(Model):
    """A CSV or JSON-lines source with a column mapping (another VPN, an app's audit table)."""

    name: str = Field(description="Format name to use with --format.")
    preset: Literal["", "authentic2"] = Field("", description="Start from a built-in mapping.")
    format: Literal["csv", "jsonl"] = Field("csv", description="csv or jsonl.")
    delimiter: str = Field("", description="CSV delimiter; empty to sniff ',' ';' or tab.")
    timestamp: str = Field("timestamp", description="Column or key holding the time.")
    timestamp_format: str = Field("", description="strptime format; empty for ISO 8601.")
    timezone: str = Field(
        "",
        description="Zone of naive timestamps (empty: the organisation's zone; never UTC by guess).",
    )
    login: str = Field("user", description="Column or key holding the login.")
    category: Literal["vpn", "mail", "apps"] = Field("apps", description="Category of traces.")
    app: str = Field("", description="Fixed application name.")
    app_column: str = Field("", description="Column holding the application name.")
    event_column: str = Field("", description="Column holding the event type, if any.")
    interactive_events: list[str] = Field(
        [], description="Event types that are interactive (empty: every line is interactive)."
    )
    ignored_events: list[str] = Field([], description="Event types that are never a trace.")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _zone(value)


DEFAULT_SOURCES = ["fortigate", "exchange-iis", "exchange-httpproxy", "proxy", "authentic2"]


class SourcesSettings(Model):
    """Settings of each source."""

    enabled: list[str] = Field(
        list(DEFAULT_SOURCES),
        description="Formats ingest accepts for this purpose (listed in the agents' notice). "
        "Adding one is a material change (A4).",
    )
    fortigate: FortiGateSettings = Field(default_factory=FortiGateSettings)
    exchange: ExchangeSettings = Field(default_factory=ExchangeSettings)
    proxy: ProxySettings = Field(default_factory=ProxySettings)
    generic: list[GenericSource] = Field(
        [], description="Generic CSV/JSON sources, each usable as a --format name."
    )


class IngestSettings(Model):
    """How ingestion runs."""

    engine: Literal["local", "spark"] = Field("local", description="local processes or spark.")
    workers: int = Field(0, ge=0, le=256, description="Worker processes; 0 = one per core.")
    spark_master: str = Field("local[2]", description="Spark master URL for engine = spark.")
    chunk_bytes: int = Field(
        4 << 20, ge=1 << 16, le=1 << 30, description="Bytes of lines parsed at once per worker."
    )
    max_line_bytes: int = Field(
        1 << 20, ge=1 << 10, le=1 << 28, description="Longer lines are skipped (line_too_long)."
    )
    remote_locations: list[str] = Field(
        [],
        description="Object storage or HDFS prefixes ingest may read logs from "
        "(s3://bucket/prefix, gs://…, hdfs://…); each must be named in register.toml "
        "[[transfers]], and a remote URI outside them is refused.",
    )

    @field_validator("remote_locations")
    @classmethod
    def _remote(cls, value: list[str]) -> list[str]:
        for item in value:
            scheme, sep, rest = item.partition("://")
            if not sep or scheme.lower() == "file" or not rest.strip("/"):
                raise ValueError(
                    f"'{item}' : une URI s3://, gs://, hdfs://… / a s3://, gs://, hdfs://… URI"
                )
        return value


_ENDPOINT_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def parse_endpoint(text: str) -> tuple[str, int]:
    """``"HOST:PORT"`` (IPv6 in brackets: ``"[::1]:514"``) → host and port (0 = any free port)."""
    m = _ENDPOINT_RE.match(text.strip())
    if not m or int(m.group(2)) > 65535:
        raise ValueError(f"'{text}' n'est pas une adresse HÔTE:PORT / is not a HOST:PORT address")
    return m.group(1).strip("[]"), int(m.group(2))


class CollectSettings(Model):
    """Continuous collection (``loyaute collect``): syslog listeners and followed files. Each
    setting is also a command-line option, which wins over the file."""

    tcp: str = Field(
        "",
        description="Syslog over TCP (RFC 6587, octet-counting or newline "
        "framing) on HOST:PORT; empty: no TCP listener.",
    )
    udp: str = Field(
        "",
        description="Syslog over UDP (RFC 5426) on HOST:PORT; empty: none. "
        "Datagrams the kernel drops are counted and reported.",
    )
    tls: str = Field(
        "",
        description="Syslog over TLS (RFC 5425) on HOST:PORT; needs "
        "tls_cert_file and tls_key_file.",
    )
    tls_cert_file: str = Field(
        "", description="Server certificate (PEM, with its chain) of the tls listener."
    )
    tls_key_file: str = Field("", description="Private key (PEM) of tls_cert_file.")
    tls_client_ca_file: str = Field(
        "",
        description="When set, TLS senders must present a certificate signed by this CA (PEM); "
        "empty: any sender may connect (authenticate the server only).",
    )
    relp: str = Field(
        "",
        description="RELP on HOST:PORT (rsyslog's omrelp): each message is acknowledged only "
        "once its half-days are committed, so a sender resends what a crash lost.",
    )
    follow: list[str] = Field(
        [],
        description="Files to follow as they grow, across rotations (a path, or a glob such as "
        "/var/log/exchange/u_ex*.log).",
    )
    format: str = Field(
        "",
        description="Format of everything collected; empty: recognised "
        "per file and per sending host and application, as ingest does.",
    )
    commit_every_seconds: float = Field(
        5.0,
        ge=0.1,
        le=3600,
        description="Seconds between commits of new half-days (and of followed-file offsets).",
    )
    metrics: str = Field(
        "",
        description="Prometheus text endpoint on a loopback HOST:PORT (e.g. 127.0.0.1:9108), "
        "path /metrics; empty: none.",
    )
    follow_poll_seconds: float = Field(
        0.5, ge=0.05, le=60, description="Seconds between looks at the followed files."
    )
    rotation_grace_seconds: float = Field(
        10.0,
        ge=0,
        le=3600,
        description="A file rotated away is read until it has not grown for this long.",
    )
    udp_receive_buffer_bytes: int = Field(
        8 << 20,
        ge=1 << 12,
        le=1 << 30,
        description="Receive buffer asked for the UDP socket (the kernel caps it at "
        "net.core.rmem_max unless the collector runs as root).",
    )
    drain_seconds: float = Field(
        2.0,
        ge=0,
        le=60,
        description="On SIGTERM, how long TCP senders are given to finish what they were "
        "sending after the collector half-closes their connection.",
    )

    @field_validator("tcp", "udp", "tls", "relp", "metrics")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if value:
            parse_endpoint(value)
        return value

    @field_validator("metrics")
    @classmethod
    def _loopback(cls, value: str) -> str:
        if value and parse_endpoint(value)[0] not in LOOPBACK_HOSTS:
            raise ValueError("métriques sur la boucle locale seulement / metrics on loopback only")
        return value

    @model_validator(mode="after")
    def _tls_files(self) -> CollectSettings:
        if self.tls and not (self.tls_cert_file and self.tls_key_file):
            raise ValueError(
                "tls demande tls_cert_file et tls_key_file / tls needs tls_cert_file and "
                "tls_key_file"
            )
        return self


class ReportsSettings(Model):
    """Aggregate reports."""

    settle_days: int = Field(
        10,
        ge=0,
        le=60,
        description="Days after a week's Sunday before its figures are published and frozen "
        "(late logs and declarations arrive first; a later change cannot be read off a "
        "difference between two reports).",
    )
    appeal_period_days: int = Field(
        61,
        ge=0,
        le=365,
        description="Records of a closed review case are held this long for an appeal (F4).",
    )
    bulk_view_alert: int = Field(
        20, ge=1, description="Individual views by one person in 24 hours that alert the DPO (H2)."
    )
    refused_alert: int = Field(
        3, ge=1, description="Refused attempts by one person in 24 hours that alert the DPO (H2)."
    )


class AccountsSettings(Model):
    """Local accounts: how sign-in resists guessing without locking anyone out (H3)."""

    concurrent_password_checks: int = Field(
        4,
        ge=1,
        le=64,
        description="Password checks (Argon2id, 64 MiB each) run at once per server process; "
        "more wait, then get 429.",
    )
    password_check_wait_ms: int = Field(
        2000, ge=0, le=30000, description="How long a sign-in waits for a free password check."
    )
    free_failures: int = Field(
        5,
        ge=1,
        le=100,
        description="Failed sign-ins of one login from one address before each new attempt "
        "from there must wait (doubling from backoff_base_seconds).",
    )
    backoff_base_seconds: int = Field(
        2, ge=1, le=3600, description="First wait after free_failures failures."
    )
    backoff_max_seconds: int = Field(
        900, ge=1, le=86400, description="Longest wait between two attempts from one address."
    )
    unknown_address_failures: int = Field(
        30,
        ge=1,
        le=100000,
        description="Failures of one login within an hour, from addresses it never signed in "
        "from, after which those addresses wait too (its usual addresses never do).",
    )


class AuditSettings(Model):
    """The access log's key and its checkpoints outside the workspace (H4)."""

    key_file: str = Field(
        "secrets/audit.key",
        description="Key of the access log's MAC chain (mode 0600), relative to the workspace or "
        "absolute; kept like the pseudonymisation key, apart from the log.",
    )
    checkpoint_file: str = Field(
        "",
        description="Append-only file outside the workspace that receives a checkpoint (entry "
        "count and head MAC) after every entry; `audit verify` compares the chain with it. Make it "
        "append-only (chattr +a) or on another machine's mount.",
    )
    checkpoint_syslog: str = Field(
        "",
        description="Syslog destination of the same checkpoints (/dev/log, udp:HOST:PORT or "
        "tcp:HOST:PORT), kept by the SIEM.",
    )


class Settings(Model):
    """``loyaute.toml``."""

    timezone: str = Field("Europe/Paris", description="The organisation's time zone.")
    key_file: str = Field(
        "secrets/pseudonym.key",
        description="Pseudonymisation key file (mode 0600), relative to the workspace or "
        "absolute (a vault mount). Never inside the store (B6).",
    )
    lock_wait_seconds: int = Field(
        120,
        ge=0,
        le=3600,
        description="How long a command that changes the workspace waits for another writer to "
        "finish before it stops and names it (one writer at a time, H5).",
    )
    half_days: HalfDays = Field(default_factory=HalfDays)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    directory: DirectorySettings = Field(default_factory=DirectorySettings)
    apps: list[AppRule] = Field([], description="Reverse-proxy host/path → application.")
    sources: SourcesSettings = Field(default_factory=SourcesSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    reports: ReportsSettings = Field(default_factory=ReportsSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    accounts: AccountsSettings = Field(default_factory=AccountsSettings)
    oidc: OidcSettings = Field(default_factory=OidcSettings)
    collect: CollectSettings = Field(default_factory=CollectSettings)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _zone(value)

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        names = [a.name for a in self.apps]
        if len(set(names)) != len(names):
            raise ValueError("deux [[apps]] portent le même nom / two [[apps]] share a name")
        generic = [g.name for g in self.sources.generic]
        if len(set(generic)) != len(generic):
            raise ValueError("deux sources génériques portent le même nom")
        known = {*DEFAULT_SOURCES, "csv", "jsonl", *generic}
        unknown = [name for name in self.sources.enabled if name not in known]
        if unknown:
            raise ValueError(f"sources.enabled : format(s) inconnu(s) {unknown}")
        if self.collect.format and self.collect.format not in known:
            raise ValueError(f"collect.format : format inconnu {self.collect.format}")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The organisation's zone."""
        return ZoneInfo(self.timezone)


def problems_of(exc: ValidationError) -> list[ConfigProblem]:
    """Every validation problem with its dotted path."""
    out = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(racine)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "clé inconnue / unknown key"
        out.append(ConfigProblem(path, msg))
    return out


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning a syntax error into a ConfigError."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [ConfigProblem("(syntaxe)", str(exc))]) from exc
    except OSError as exc:
        raise ConfigError(str(path), [ConfigProblem("(fichier)", str(exc))]) from exc


def load_settings(path: Path | None) -> Settings:
    """Read ``loyaute.toml`` (the defaults when ``path`` is None)."""
    if path is None:
        return Settings()
    data = read_toml(path)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), problems_of(exc)) from exc
