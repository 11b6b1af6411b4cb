"""Sign-in with the organisation's OpenID Connect provider (ADFS, Entra ID, Keycloak, authentic2).

The authorization code flow with PKCE (S256), a ``state`` and a ``nonce`` of 256 bits each, the
code exchanged on the back channel with the client secret (read from its own 0600 file, H3). The
ID token is checked before anything it says is believed: its signature against the provider's
keys (fetched from the ``jwks_uri`` of the discovery document, fetched again once when a token
names a key not seen yet: the provider rotated its keys), then its issuer, audience, authorized
party, expiry, issue time, nonce and access-token hash (Authlib's ``CodeIDToken`` rules, joserfc
for the signature — Authlib's own ``parse_id_token`` does the same).

Who the person is in loyaute then follows from the configuration alone: the login claim must
name a present agent of the directory (matched like a log's login), and the groups claim must
hold a group of ``[[oidc.roles]]`` — no role, not even ``agent``, is given by default.

Every failure is an ``OidcRefusal`` with a ``kind`` (for the audit log) and a French and English
message (for the page); tokens, codes and secrets never appear in either.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from loyaute.config import OidcSettings
from loyaute.errors import LoyauteError
from loyaute.i18n import tr
from loyaute.identity import LoginIndex

DISCOVERY_TTL_SECONDS = 3600
SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]
"""Asymmetric signatures only: a token signed with ``none`` or a shared secret is refused."""

MESSAGES: dict[str, tuple[str, str]] = {
    "bad_state": (
        "Cette demande de connexion est inconnue, expirée ou déjà utilisée : recommencez la "
        "connexion depuis la page d'accueil.",
        "This sign-in request is unknown, expired or already used: sign in again from the home "
        "page.",
    ),
    "provider_error": (
        "Le fournisseur d'identité a interrompu la connexion.",
        "The identity provider stopped the sign-in.",
    ),
    "code_refused": (
        "Le fournisseur d'identité a refusé le code de connexion (déjà utilisé ou expiré) : "
        "recommencez la connexion.",
        "The identity provider refused the sign-in code (already used or expired): sign in again.",
    ),
    "token_invalid": (
        "Le jeton d'identité reçu n'est pas valide (signature, émetteur ou nonce) : connexion "
        "refusée.",
        "The identity token received is not valid (signature, issuer or nonce): sign-in refused.",
    ),
    "wrong_audience": (
        "Le jeton d'identité reçu est destiné à une autre application : connexion refusée.",
        "The identity token received is meant for another application: sign-in refused.",
    ),
    "token_expired": (
        "Le jeton d'identité reçu a expiré : recommencez la connexion.",
        "The identity token received has expired: sign in again.",
    ),
    "unknown_user": (
        "Votre compte n'est rattaché à aucun agent de l'annuaire de loyaute : adressez-vous au "
        "service des ressources humaines ou à la DSI.",
        "Your account matches no agent of loyaute's directory: contact human resources or IT.",
    ),
    "no_role": (
        "Votre compte n'appartient à aucun groupe qui donne accès à loyaute : adressez-vous à la "
        "DSI.",
        "Your account belongs to no group that gives access to loyaute: contact IT.",
    ),
    "account_clash": (
        "Un compte local de loyaute porte déjà cet identifiant : la DSI doit le retirer avant la "
        "connexion par le fournisseur d'identité.",
        "A local loyaute account already has this login: IT must remove it before signing in "
        "through the identity provider.",
    ),
    "provider_down": (
        "Le fournisseur d'identité ne répond pas : réessayez dans quelques minutes ou prévenez "
        "la DSI.",
        "The identity provider does not answer: try again in a few minutes or tell IT.",
    ),
    "disabled": (
        "La connexion par le fournisseur d'identité n'est pas activée.",
        "Sign-in through the identity provider is not enabled.",
    ),
}


class OidcRefusal(LoyauteError):
    """A sign-in through the provider refused; ``kind`` is a key of ``MESSAGES``."""

    def __init__(self, kind: str, login: str = "") -> None:
        fr, en = MESSAGES[kind]
        super().__init__(tr(fr, en))
        self.kind = kind
        self.login = login
        """The login claim, once known (for the audit log)."""

    def text(self, lang: str) -> str:
        """The message in the page's language."""
        fr, en = MESSAGES[self.kind]
        return en if lang == "en" else fr

    @property
    def status(self) -> int:
        """HTTP status of the refusal page."""
        return {"provider_down": 503, "disabled": 404}.get(self.kind, 403)


@dataclass(frozen=True)
class Start:
    """A sign-in begun: where to send the browser, and what to keep until it comes back."""

    url: str
    state: str
    nonce: str
    verifier: str


@dataclass(frozen=True)
class Person:
    """Who signed in, as loyaute will know them."""

    subject: str
    login: str
    role: str
    agent_id: str


class _Cache:
    """Discovery documents and key sets per issuer (shared by the server's threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.metadata: dict[str, tuple[float, dict[str, Any]]] = {}
        self.keys: dict[str, dict[str, Any]] = {}


_CACHE = _Cache()


def _client(settings: OidcSettings) -> httpx.Client:
    return httpx.Client(
        timeout=settings.timeout_seconds,
        verify=settings.ca_file or True,
        follow_redirects=False,
        trust_env=False,
    )


def _get_json(settings: OidcSettings, url: str) -> dict[str, Any]:
    try:
        with _client(settings) as client:
            response = client.get(url, headers={"accept": "application/json"})
            response.raise_for_status()
            data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcRefusal("provider_down") from exc
    if not isinstance(data, dict):
        raise OidcRefusal("provider_down")
    return data


def metadata(settings: OidcSettings) -> dict[str, Any]:
    """The provider's discovery document (cached an hour); its issuer must be the one
    configured (no mix-up with another provider)."""
    issuer = settings.issuer.rstrip("/")
    with _CACHE.lock:
        cached = _CACHE.metadata.get(issuer)
    if cached is not None and time.monotonic() - cached[0] < DISCOVERY_TTL_SECONDS:
        return cached[1]
    data = _get_json(settings, issuer + "/.well-known/openid-configuration")
    if str(data.get("issuer", "")).rstrip("/") != issuer or "authorization_endpoint" not in data:
        raise OidcRefusal("provider_down")
    with _CACHE.lock:
        _CACHE.metadata[issuer] = (time.monotonic(), data)
    return data


def _key_set(settings: OidcSettings, refresh: bool) -> KeySet:
    issuer = settings.issuer.rstrip("/")
    with _CACHE.lock:
        known = _CACHE.keys.get(issuer)
    if known is None or refresh:
        known = _get_json(settings, str(metadata(settings)["jwks_uri"]))
        with _CACHE.lock:
            _CACHE.keys[issuer] = known
    return KeySet.import_key_set(known)  # type: ignore[arg-type]


def start(settings: OidcSettings, redirect_uri: str) -> Start:
    """A new sign-in: the authorization URL with state, nonce and the PKCE challenge."""
    endpoint = str(metadata(settings)["authorization_endpoint"])
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)
    url = prepare_grant_uri(
        endpoint,
        client_id=settings.client_id,
        response_type="code",
        redirect_uri=redirect_uri,
        scope=" ".join(settings.scopes),
        state=state,
        nonce=nonce,
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
    )
    return Start(url, state, nonce, verifier)


def exchange(
    settings: OidcSettings, secret: str, code: str, redirect_uri: str, verifier: str
) -> dict[str, Any]:
    """The token response for an authorization code (client_secret_basic, PKCE verifier)."""
    endpoint = str(metadata(settings)["token_endpoint"])
    try:
        with _client(settings) as client:
            response = client.post(
                endpoint,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": verifier,
                },
                auth=(settings.client_id, secret),
                headers={"accept": "application/json"},
            )
    except httpx.HTTPError as exc:
        raise OidcRefusal("provider_down") from exc
    if response.status_code >= 500:
        raise OidcRefusal("provider_down")
    try:
        tokens = response.json()
    except ValueError as exc:
        raise OidcRefusal("provider_down") from exc
    if response.status_code != 200 or not isinstance(tokens, dict) or "id_token" not in tokens:
        raise OidcRefusal("code_refused")
    return tokens


def verify_id_token(
    settings: OidcSettings, tokens: dict[str, Any], nonce: str, now: datetime
) -> dict[str, Any]:
    """The ID token's claims, once its signature and claims hold; ``OidcRefusal`` otherwise."""
    raw = str(tokens["id_token"])
    registry = JWSRegistry(algorithms=SIGNING_ALGORITHMS)
    try:
        try:
            token = jwt.decode(raw, _key_set(settings, refresh=False), registry=registry)
        except InvalidKeyIdError:
            # a key not seen yet: the provider rotated its keys
            token = jwt.decode(raw, _key_set(settings, refresh=True), registry=registry)
    except (BadSignatureError, InvalidKeyIdError, JoseError, ValueError) as exc:
        raise OidcRefusal("token_invalid") from exc
    claims = CodeIDToken(
        token.claims,
        token.header,
        {"iss": {"values": [settings.issuer.rstrip("/"), settings.issuer]}},
        {
            "nonce": nonce,
            "client_id": settings.client_id,
            "access_token": tokens.get("access_token"),
        },
    )
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if settings.client_id not in audiences:
        raise OidcRefusal("wrong_audience")
    try:
        claims.validate(now=int(now.timestamp()), leeway=settings.clock_skew_seconds)
    except ExpiredTokenError as exc:
        raise OidcRefusal("token_expired") from exc
    except ClaimError as exc:
        kind = "wrong_audience" if exc.claim in ("aud", "azp") else "token_invalid"
        raise OidcRefusal(kind) from exc
    except JoseError as exc:
        raise OidcRefusal("token_invalid") from exc
    return dict(claims)


def person(settings: OidcSettings, claims: dict[str, Any], index: LoginIndex) -> Person:
    """Who the verified claims name in loyaute: a present directory agent, with the role of
    their first group listed in ``[[oidc.roles]]``."""
    login = claims.get(settings.login_claim)
    login = login.strip() if isinstance(login, str) else ""
    agent_id = index.resolve(login) if login else None
    if not agent_id:
        raise OidcRefusal("unknown_user", login)
    groups = claims.get(settings.groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    held = {str(g) for g in groups}
    role = next((m.role for m in settings.roles if m.group in held), None)
    if role is None:
        raise OidcRefusal("no_role", login)
    subject = f"{settings.issuer.rstrip('/')}|{claims['sub']}"
    return Person(subject, login, role, agent_id)


def end_session_url(settings: OidcSettings, after: str) -> str | None:
    """RP-initiated logout at the provider, when it offers one (None otherwise, or when the
    provider cannot be reached: the loyaute session is ended all the same)."""
    try:
        endpoint = metadata(settings).get("end_session_endpoint")
    except OidcRefusal:
        return None
    if not endpoint:
        return None
    query = urlencode({"client_id": settings.client_id, "post_logout_redirect_uri": after})
    return f"{endpoint}{'&' if '?' in str(endpoint) else '?'}{query}"
