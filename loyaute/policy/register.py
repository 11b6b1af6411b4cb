"""``register.toml``: the DPO's file — the register entry, the DPIA, the committee opinion.

``init`` writes it with every key and empty values: nothing runs for the telework-check purpose
until the DPO has filled it (rules A1–A4). Types are checked here; whether the gates *hold* is
decided in ``policy/gates.py`` so that ``gates`` can explain each one.

Every retention period lives here, not in ``loyaute.toml``: how long each kind of record is kept
is a decision of the controller that the register entry states (GDPR art. 30(1)(f)), that the
notice tells the agents (art. 13(2)(a)) and that the staff committee is shown (a longer period
changes the configuration fingerprint, A4). Keeping them in the DPO's file means the documents
print the very numbers the purge applies, and the operator's file cannot change them unseen. The
lifetimes of sign-in sessions and personal tokens are not choices of the purpose but security
limits of the accounts (``accounts.py``, OWASP ASVS); the documents print them too.

``[[transfers]]`` names every storage outside the organisation that the logs are read from
(``ingest.remote_locations`` in loyaute.toml): ``config check`` and gate A1 refuse a remote
location the register does not name.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from loyaute.config import Model, problems_of, read_toml
from loyaute.errors import ConfigError, ConfigProblem

K_MIN_FLOOR = 5
"""Rule E3: k may be raised by the deployer, never set below 5."""
RETENTION_DEFAULT_DAYS = 31
RETENTION_MAX_DAYS = 365
"""Rule F2: 31 days after the end of the month by default; longer needs a DPIA justification,
twelve months at most."""


def _date_or_empty(value: str) -> str:
    if value:
        try:
            date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(
                f"'{value}' n'est pas une date AAAA-MM-JJ / not a YYYY-MM-DD date"
            ) from exc
    return value


class Controller(Model):
    """The controller (responsable de traitement)."""

    name: str = Field("", description="Name of the controller (e.g. Département du Nord).")
    public_authority: bool = Field(
        True, description="A public authority may not rely on legitimate interest or consent (A3)."
    )
    dpo_contact: str = Field("", description="How to reach the DPO (address, e-mail).")
    address: str = Field("", description="Postal address of the controller.")


class Purpose(Model):
    """The telework-check purpose: register entry, DPIA and committee opinion."""

    mode: Literal["declarative", "crosscheck"] = Field(
        "declarative", description="declarative (default, D2) or crosscheck."
    )
    legal_basis: Literal[
        "", "public_task", "legal_obligation", "legitimate_interest", "consent"
    ] = Field("", description="public_task (6(1)(e)) or legal_obligation (6(1)(c)).")
    legal_text: str = Field("", description="The text the basis rests on (délibération, article).")
    registered_on: str = Field("", description="Date the DPO recorded the register entry (A1).")
    data_categories: list[str] = Field(
        [],
        description="Other categories of personal data (art. 30), printed after those loyaute "
        "derives from what it keeps.",
    )
    recipients: list[str] = Field(
        [],
        description="Other recipients (art. 30), printed after those loyaute derives from the "
        "roles in use and the processors.",
    )
    processors: list[str] = Field(
        [],
        description="Processors (art. 28) besides the storage of [[transfers]], e.g. the host of "
        "the loyaute server, with their contract reference.",
    )
    technical_access: list[str] = Field(
        [],
        description="Functions with OS access to the workspace (its service account, backups): "
        "recipients with technical access (docs/deployment.md).",
    )
    security_measures: list[str] = Field(
        [],
        description="Other security measures (art. 30, 32), printed after those loyaute applies.",
    )
    dpia_approved_on: str = Field("", description="Date the DPIA was approved (A2).")
    dpia_dpo_opinion: str = Field("", description="The DPO's opinion on the DPIA (A2).")
    dpia_staff_views: str = Field("", description="Staff representatives' views on the DPIA (A2).")
    dpia_residual_risk: Literal["", "low", "medium", "high"] = Field(
        "", description="low, medium or high; high needs the CNIL consultation reference (art. 36)."
    )
    dpia_subsidiarity: str = Field(
        "", description="Why declarative statements are not enough (needed for crosscheck, D2)."
    )
    cnil_consultation_ref: str = Field("", description="CNIL prior consultation reference.")
    committee_opinion_on: str = Field("", description="Date of the staff committee opinion (A4).")
    committee_minutes_ref: str = Field("", description="Reference of the committee minutes (A4).")
    committee_config_fingerprint: str = Field(
        "", description="`loyaute gates --fingerprint` as shown to the committee (A4)."
    )
    deliberation_effective_on: str = Field(
        "", description="Date the délibération takes effect (A5)."
    )
    eligible_job_families: list[str] = Field(
        [], description="Job families whose work is mostly on the information system (B5)."
    )
    eligibility_justification: str = Field(
        "",
        description="DPIA justification for including a field, phone or social-work family (B5).",
    )
    k_min: int = Field(10, description="Smallest group published in aggregates (E3), ≥ 5.")
    protection_half_days: int = Field(
        3,
        ge=1,
        le=20,
        description="Narrowest interval of half-days without a trace that published figures may "
        "leave about a group of fewer than k_min agents or a withheld cell (E7).",
    )
    retention_after_month_end_days: int = Field(
        RETENTION_DEFAULT_DAYS, description="Half-day records kept this long after month end (F2)."
    )
    retention_justification: str = Field("", description="DPIA justification above 31 days (F2).")
    audit_retention_months: int = Field(12, description="Audit log retention, 12 to 36 (F5).")
    quarantine_retention_days: int = Field(7, description="Malformed-input examples (F6), ≤ 31.")
    case_answer_days: int = Field(
        10,
        ge=1,
        le=60,
        description="Working days an agent has to answer a review case before any decision (D5).",
    )
    case_retention_days: int = Field(
        365,
        ge=30,
        le=1095,
        description="A closed review case — its decision, evidence bundle and the agent's "
        "answers — is kept this long after its closing, and never while its appeal hold runs (F4).",
    )
    notification_retention_days: int = Field(
        365, ge=30, le=1095, description="Messages left to an agent are kept this long."
    )
    objection_retention_days: int = Field(
        365,
        ge=30,
        le=1095,
        description="A rejected objection is kept this long after its decision; a pending one "
        "until decided, an upheld one while the agent is in the directory (it stops the "
        "processing, G3).",
    )
    access_request_retention_days: int = Field(
        365,
        ge=30,
        le=1095,
        description="An answered access request is kept this long after the answer (G1).",
    )
    statement_retention_months: int = Field(
        12,
        ge=1,
        le=36,
        description="A manager's validation of a monthly statement is kept this long after the "
        "month's end (D2).",
    )
    account_retention_days: int = Field(
        90,
        ge=0,
        le=365,
        description="An account is deleted this long after it stopped being usable: disabled, "
        "or its agent left the directory (sessions and tokens go with it).",
    )

    @field_validator(
        "registered_on", "dpia_approved_on", "committee_opinion_on", "deliberation_effective_on"
    )
    @classmethod
    def _dates(cls, value: str) -> str:
        return _date_or_empty(value)

    @field_validator("k_min")
    @classmethod
    def _k(cls, value: int) -> int:
        if value < K_MIN_FLOOR:
            raise ValueError(f"k_min ne peut être inférieur à {K_MIN_FLOOR} (E3)")
        return value

    @field_validator("audit_retention_months")
    @classmethod
    def _audit(cls, value: int) -> int:
        if not 12 <= value <= 36:
            raise ValueError("entre 12 et 36 mois (F5) / between 12 and 36 months")
        return value

    @field_validator("quarantine_retention_days")
    @classmethod
    def _quarantine(cls, value: int) -> int:
        if not 0 <= value <= 31:
            raise ValueError("31 jours au plus (F6) / 31 days at most")
        return value

    @model_validator(mode="after")
    def _retention(self) -> Purpose:
        problem = retention_problem(
            self.retention_after_month_end_days, self.retention_justification
        )
        if problem:
            raise ValueError(problem)
        return self


REMOTE_SCHEMES = ("s3", "gs", "gcs", "hdfs", "viewfs", "abfs", "az")
"""URI schemes of storage outside the machine (pyarrow.fs reads them, RemoteFile)."""


def is_remote(location: str) -> bool:
    """True for a URI such as ``s3://bucket/prefix`` (``file://`` and paths are local)."""
    scheme, sep, _ = location.partition("://")
    return bool(sep) and scheme.lower() != "file"


def _where(uri: str) -> str:
    """Where a URI points: without its query (endpoints, credentials) nor the credentials that
    may precede the host (``s3://KEY:SECRET@bucket``)."""
    scheme, sep, rest = uri.split("?", 1)[0].partition("://")
    authority, slash, tail = rest.partition("/")
    return f"{scheme.lower()}{sep}{authority.rsplit('@', 1)[-1]}{slash}{tail}"


def covers(prefix: str, location: str) -> bool:
    """True when ``location`` lies under the declared ``prefix``."""
    base = _where(prefix).rstrip("/")
    where = _where(location)
    return where == base or where.startswith(base + "/")


class Transfer(Model):
    """Storage outside the organisation's loyaute machine that logs are read from (object
    storage, HDFS): a recipient of the raw logs, and a transfer when outside the EU."""

    location: str = Field(
        description="URI prefix as given to ingest: s3://bucket/prefix, gs://bucket/, "
        "hdfs://namenode:8020/logs/."
    )
    holder: str = Field(
        description="Who operates the storage (a provider's name, or the organisation's own "
        "data centre)."
    )
    internal: bool = Field(
        False,
        description="Operated by the organisation itself (then not a processor and no contract).",
    )
    country: str = Field("France", description="Country where the data is stored.")
    outside_eu: bool = Field(
        False, description="Stored or reachable outside the European Union (arts. 44–49)."
    )
    safeguards: str = Field(
        "",
        description="Transfer tool (adequacy decision, standard contractual clauses…): "
        "required when outside_eu.",
    )
    contract_ref: str = Field(
        "", description="Processing contract (art. 28) reference: required unless internal."
    )

    @field_validator("location")
    @classmethod
    def _uri(cls, value: str) -> str:
        if not is_remote(value):
            raise ValueError(
                f"'{value}' : une URI s3://, gs://, hdfs://… / a s3://, gs://, hdfs://… URI"
            )
        return value

    @model_validator(mode="after")
    def _complete(self) -> Transfer:
        if not self.holder.strip():
            raise ValueError("holder : qui exploite ce stockage / who operates this storage")
        if self.outside_eu and not self.safeguards.strip():
            raise ValueError(
                "hors UE : safeguards est obligatoire (art. 46) / outside the EU: safeguards "
                "is required"
            )
        if not self.internal and not self.contract_ref.strip():
            raise ValueError(
                "sous-traitant : contract_ref est obligatoire (art. 28) / a processor: "
                "contract_ref is required"
            )
        return self


def uncovered(remote_locations: list[str], transfers: list[Transfer]) -> list[str]:
    """The remote locations no ``[[transfers]]`` entry names."""
    return [
        where for where in remote_locations if not any(covers(t.location, where) for t in transfers)
    ]


class ValidityStudy(Model):
    """The validity study: a second, aggregate-only purpose with its own registration."""

    enabled: bool = Field(False, description="Keep on-site half-days for the validity study.")
    registered_on: str = Field("", description="Date the study's register entry was recorded.")
    reliability_threshold: float = Field(
        0.90, ge=0.5, le=1.0, description="Coverage below which a job family is unreliable."
    )

    @field_validator("registered_on")
    @classmethod
    def _date(cls, value: str) -> str:
        return _date_or_empty(value)


def retention_problem(days: object, justification: object) -> str | None:
    """Rule F2: 0 to 365 days, and a DPIA justification above 31."""
    if not isinstance(days, int) or isinstance(days, bool):
        return None  # the type error is reported by the field itself
    if days < 0 or days > RETENTION_MAX_DAYS:
        return (
            f"entre 0 et {RETENTION_MAX_DAYS} jours (F2) / between 0 and {RETENTION_MAX_DAYS} days"
        )
    if days > RETENTION_DEFAULT_DAYS and not str(justification or "").strip():
        return (
            "au-delà de 31 jours, retention_justification est obligatoire (F2) / "
            "above 31 days, retention_justification is required"
        )
    return None


def basis_problem(public_authority: object, basis: object) -> str | None:
    """Rule A3: a public authority may not rely on legitimate interest or consent."""
    if public_authority is not False and basis in ("legitimate_interest", "consent"):
        return (
            f"{basis} : une autorité publique ne peut s'appuyer que sur public_task ou "
            "legal_obligation (A3) / a public authority may rely only on public_task or "
            "legal_obligation"
        )
    return None


class Register(Model):
    """``register.toml``."""

    controller: Controller = Field(default_factory=Controller)
    purpose: Purpose = Field(default_factory=Purpose)
    validity_study: ValidityStudy = Field(default_factory=ValidityStudy)
    transfers: list[Transfer] = Field(
        [],
        description="Storage outside the organisation the logs are read from (art. 30(1)(e)): "
        "one entry per prefix of ingest.remote_locations in loyaute.toml.",
    )

    @model_validator(mode="after")
    def _basis(self) -> Register:
        problem = basis_problem(self.controller.public_authority, self.purpose.legal_basis)
        if problem:
            raise ValueError(problem)
        return self


def cross_problems(data: dict[str, object]) -> list[ConfigProblem]:
    """Rules that span several keys, checked on the raw file so that each is reported with its
    dotted path even when other keys are wrong too."""
    raw_controller, raw_purpose = data.get("controller"), data.get("purpose")
    controller: dict[str, object] = raw_controller if isinstance(raw_controller, dict) else {}
    purpose: dict[str, object] = raw_purpose if isinstance(raw_purpose, dict) else {}
    out = []
    problem = basis_problem(controller.get("public_authority", True), purpose.get("legal_basis"))
    if problem:
        out.append(ConfigProblem("purpose.legal_basis", problem))
    problem = retention_problem(
        purpose.get("retention_after_month_end_days", RETENTION_DEFAULT_DAYS),
        purpose.get("retention_justification", ""),
    )
    if problem:
        out.append(ConfigProblem("purpose.retention_after_month_end_days", problem))
    return out


def load_register(path: Path) -> Register:
    """Read ``register.toml``; every problem with its dotted path (exit 78)."""
    data = read_toml(path)
    cross = cross_problems(data)
    try:
        register = Register.model_validate(data)
    except ValidationError as exc:
        # Cross-key rules are reported once, by ``cross_problems``, with their own paths.
        field_problems = [p for p in problems_of(exc) if p.path not in ("(racine)", "purpose")]
        raise ConfigError(str(path), field_problems + cross) from exc
    if cross:
        raise ConfigError(str(path), cross)
    return register
