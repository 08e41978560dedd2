"""The local identity stack's state: OIDC issuer, IAM roles, STS sessions, Identity Center.

Nothing here knows about HTTP. The flow it implements (docs/identity.md):

1. the local OIDC issuer signs an ID token for a persona (RS256, key made at start);
2. ``assume_role_with_web_identity`` checks that token (issuer, signature, audience,
   expiry) and the role's trust policy, and issues session credentials;
3. ``create_token_with_iam`` (jwt-bearer grant) trades the same token for an Identity
   Center token whose claim ``sts:identity_context`` carries the user and groups;
4. ``assume_role`` with that context (provider IdentityCenter) issues *identity-enhanced*
   credentials, registered in the ``IdentityRegistry`` with the user's email and groups,
   which the Data API maps to ``AWSIDC:<email>`` and roles ``AWSIDC:<group>``.
"""
from __future__ import annotations

import base64
import json
import secrets
import string
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .exceptions import (AccessDenied, AccessDeniedException, ExpiredTokenException, InvalidClientException,
                         InvalidClientTokenId, InvalidGrantException, InvalidIdentityToken, InvalidParameterValue,
                         InvalidRequestException, MissingParameter, UnsupportedGrantTypeException, ValidationError)
from streamload.core.personas import Persona
from .policy import Principal, role_arn_of_session, trust_allows
from .registry import CallerIdentity, IdentityRegistry
from .settings import ISSUER_HOST_PLACEHOLDER, IdentitySettings, RoleSpec
from .tokens import SigningKey, TokenExpired, TokenInvalid, decode_unverified

__all__ = ["IdentityBackend", "IssuedCredentials", "IDENTITY_CENTER_PROVIDER_ARN", "JWT_BEARER_GRANT"]

IDENTITY_CENTER_PROVIDER_ARN = "arn:aws:iam::aws:contextProvider/IdentityCenter"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
# Identifies the local Identity Center as the signer of identity contexts; never contacted.
IDENTITY_CENTER_ISSUER = "urn:streamload:local-identity-center"
DEFAULT_DURATION_S = 3600
_KEY_ALPHABET = string.ascii_uppercase + "234567"


@dataclass(frozen=True)
class IssuedCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: float
    assumed_role_arn: str
    assumed_role_id: str


class IdentityBackend:
    def __init__(self, settings: IdentitySettings, registry: IdentityRegistry,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.registry = registry
        self.clock = clock
        self.issuer_key = SigningKey()
        self.identity_center_key = SigningKey()
        self._issuer_url = settings.issuer_url.rstrip("/") if settings.issuer_url else None
        self.roles: dict[str, RoleSpec] = {r.name: r for r in settings.roles}
        self._users = {p.email.lower(): p for p in settings.personas}
        self._personas = {p.name: p for p in settings.personas}

    # -- OIDC issuer ------------------------------------------------------------------
    @property
    def issuer_url(self) -> str:
        if self._issuer_url is None:
            raise RuntimeError("the issuer URL is not known before the first request")
        return self._issuer_url

    def bind_issuer(self, origin: str) -> None:
        """Take the URL clients reach us at as the issuer, unless one was configured."""
        if self._issuer_url is None:
            self._issuer_url = origin.rstrip("/")

    @property
    def issuer_host(self) -> str:
        return self.issuer_url.split("://", 1)[-1]

    @property
    def oidc_provider_arn(self) -> str:
        return f"arn:aws:iam::{self.settings.account_id}:oidc-provider/{self.issuer_host}"

    def persona(self, name_or_email: str) -> Persona | None:
        return self._personas.get(name_or_email) or self._users.get(name_or_email.lower())

    def issue_id_token(self, name_or_email: str, ttl_s: float | None = None) -> str:
        """A signed ID token for a persona (the password-less local login)."""
        persona = self.persona(name_or_email)
        if persona is None:
            raise KeyError(name_or_email)
        now = int(self.clock())
        ttl = self.settings.token_ttl_s if ttl_s is None else ttl_s
        return self.issuer_key.sign({
            "iss": self.issuer_url, "aud": self.settings.audience, "sub": f"user-{persona.name}",
            "email": persona.email, "preferred_username": persona.name,
            "iat": now, "nbf": now, "exp": int(now + ttl), "jti": uuid.uuid4().hex,
        })

    def openid_configuration(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer_url, "jwks_uri": f"{self.issuer_url}/jwks",
            "token_endpoint": f"{self.issuer_url}/oidc/token",
            "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["iss", "aud", "sub", "email", "exp", "iat"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.issuer_key.jwk()]}

    # -- callers ----------------------------------------------------------------------
    def secret_for(self, access_key_id: str) -> str | None:
        static = self.settings.static_credentials.get(access_key_id)
        return static if static is not None else self.registry.secret_for(access_key_id)

    def caller(self, access_key_id: str) -> CallerIdentity:
        """The identity behind an access key; ``InvalidClientTokenId`` if unknown or expired."""
        if access_key_id in self.settings.static_credentials:
            return CallerIdentity(access_key_id=access_key_id, account_id=self.settings.account_id,
                                  arn=f"arn:aws:iam::{self.settings.account_id}:user/{access_key_id}")
        identity = self.registry.lookup(access_key_id, now=self.clock())
        if identity is None:
            raise InvalidClientTokenId("The security token included in the request is invalid.")
        return identity

    # -- STS --------------------------------------------------------------------------
    def _role(self, role_arn: str | None, action: str, who: str) -> RoleSpec:
        if not role_arn:
            raise MissingParameter("The request must contain the parameter RoleArn.")
        parts = role_arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
            raise ValidationError(f"{role_arn} is invalid")
        role = self.roles.get(parts[5].rsplit("/", 1)[-1])
        if role is None or parts[4] != self.settings.account_id:
            raise AccessDenied(f"{who} is not authorized to perform: {action} on resource: {role_arn}")
        return role

    def _trust_policy(self, role: RoleSpec) -> dict[str, Any]:
        if self._issuer_url is None:
            return role.trust_policy
        # Substituting through JSON text reaches condition keys and values alike.
        text = json.dumps(role.trust_policy).replace(ISSUER_HOST_PLACEHOLDER, self.issuer_host)
        return json.loads(text)

    def _duration(self, role: RoleSpec, requested: int | None) -> float:
        duration = DEFAULT_DURATION_S if requested is None else requested
        if duration > role.max_session_duration_s:
            raise ValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
        if self.settings.session_duration_cap_s is not None:
            duration = min(duration, self.settings.session_duration_cap_s)
        return float(duration)

    def _issue(self, role: RoleSpec, session_name: str | None, duration_s: float, **identity: Any) -> IssuedCredentials:
        if not session_name:
            raise MissingParameter("The request must contain the parameter RoleSessionName.")
        role_id = "AROA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(17))
        creds = IssuedCredentials(
            access_key_id="ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
            secret_access_key=base64.b64encode(secrets.token_bytes(30)).decode(),
            session_token=base64.b64encode(secrets.token_bytes(96)).decode(),
            expiration=self.clock() + duration_s,
            assumed_role_arn=f"arn:aws:sts::{self.settings.account_id}:assumed-role/{role.name}/{session_name}",
            assumed_role_id=f"{role_id}:{session_name}",
        )
        self.registry.register(
            CallerIdentity(access_key_id=creds.access_key_id, account_id=self.settings.account_id,
                           arn=creds.assumed_role_arn, role_name=role.name, expires_at=creds.expiration, **identity),
            creds.secret_access_key, creds.session_token)
        return creds

    def assume_role_with_web_identity(self, role_arn: str | None, session_name: str | None, token: str | None,
                                      duration_s: int | None = None) -> tuple[IssuedCredentials, dict[str, Any]]:
        if not token:
            raise MissingParameter("The request must contain the parameter WebIdentityToken.")
        claims = self.verify_id_token(token, InvalidIdentityToken, ExpiredTokenException)
        role = self._role(role_arn, "sts:AssumeRoleWithWebIdentity", "Not authorized:")
        host = self.issuer_host
        who = Principal("Federated", (self.oidc_provider_arn,),
                        {f"{host}:aud": str(claims.get("aud")), f"{host}:sub": str(claims.get("sub")),
                         f"{host}:email": str(claims.get("email"))})
        if not trust_allows(self._trust_policy(role), who, "sts:AssumeRoleWithWebIdentity"):
            raise AccessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity")
        return self._issue(role, session_name, self._duration(role, duration_s)), claims

    def verify_id_token(self, token: str, invalid: type, expired: type) -> dict[str, Any]:
        """Claims of a token from the local issuer; raises ``invalid``/``expired`` errors."""
        try:
            _, unverified, _, _ = decode_unverified(token)
            if self._issuer_url is None or unverified.get("iss") != self._issuer_url:
                raise TokenInvalid(f"No OpenIDConnect provider found in your account for {unverified.get('iss')}")
            return self.issuer_key.verify(token, self.issuer_url, self.settings.audience, now=self.clock())
        except TokenExpired as exc:
            raise expired(str(exc)) from None
        except TokenInvalid as exc:
            raise invalid(str(exc)) from None

    def assume_role(self, caller: CallerIdentity, role_arn: str | None, session_name: str | None,
                    duration_s: int | None = None, provided_contexts: list[dict[str, str]] | None = None
                    ) -> IssuedCredentials:
        arns = (caller.arn,) + tuple(a for a in (role_arn_of_session(caller.arn),) if a)
        role = self._role(role_arn, "sts:AssumeRole", f"User: {caller.arn}")
        policy = self._trust_policy(role)
        who = Principal("AWS", arns)
        actions = ["sts:AssumeRole"] + (["sts:SetContext"] if provided_contexts else [])
        for action in actions:
            if not trust_allows(policy, who, action):
                raise AccessDenied(f"User: {caller.arn} is not authorized to perform: {action} on resource: {role_arn}")
        identity: dict[str, Any] = {}
        if provided_contexts:
            context = self._identity_context(provided_contexts)
            identity = {"user_email": context["email"], "groups": tuple(context["groups"])}
        return self._issue(role, session_name, self._duration(role, duration_s), **identity)

    def _identity_context(self, provided: list[dict[str, str]]) -> dict[str, Any]:
        matching = [c for c in provided if c.get("ProviderArn") == IDENTITY_CENTER_PROVIDER_ARN]
        unknown = [c.get("ProviderArn") for c in provided if c.get("ProviderArn") != IDENTITY_CENTER_PROVIDER_ARN]
        if unknown:
            raise InvalidParameterValue(f"Unsupported context provider: {unknown[0]}")
        if len(matching) != 1 or not matching[0].get("ContextAssertion"):
            raise InvalidParameterValue("ProvidedContexts must hold one IdentityCenter ContextAssertion.")
        try:
            return self.identity_center_key.verify(matching[0]["ContextAssertion"], IDENTITY_CENTER_ISSUER, None,
                                                   now=self.clock())
        except TokenExpired:
            raise ExpiredTokenException("The provided identity context has expired.") from None
        except TokenInvalid:
            raise InvalidParameterValue("The ContextAssertion is not a valid IdentityCenter context.") from None

    # -- IAM Identity Center (SSO-OIDC) -------------------------------------------------
    def create_token_with_iam(self, caller: CallerIdentity, client_id: str | None, grant_type: str | None,
                              assertion: str | None, scope: list[str] | None = None) -> dict[str, Any]:
        if not client_id or not grant_type:
            raise InvalidRequestException("clientId and grantType are required.")
        if client_id != self.settings.application_arn:
            raise InvalidClientException(f"{client_id} is not an application with OAuth grants configured.")
        if grant_type != JWT_BEARER_GRANT:
            raise UnsupportedGrantTypeException(f"Grant type {grant_type} is not configured for this application.")
        if not assertion:
            raise InvalidRequestException("assertion is required for the JWT bearer grant.")
        claims = self.verify_id_token(assertion, InvalidGrantException, InvalidGrantException)
        persona = self._users.get(str(claims.get("email", "")).lower())
        if persona is None:
            raise InvalidGrantException(
                f"No user in the identity store matches the token's email claim {claims.get('email')!r}.")
        groups = [g for g in persona.groups if g in self.settings.assigned_groups()]
        if not groups:
            raise AccessDeniedException(
                f"User {persona.email} is not a member of any group assigned to application {client_id} "
                f"(user's groups: {list(persona.groups) or 'none'}).")
        now = int(self.clock())
        ttl = self.settings.identity_context_ttl_s
        if self.settings.session_duration_cap_s is not None:
            ttl = min(ttl, self.settings.session_duration_cap_s)
        context = self.identity_center_key.sign({
            "iss": IDENTITY_CENTER_ISSUER, "email": persona.email, "groups": groups,
            "user_id": f"idc-{persona.name}", "app": client_id, "iat": now, "exp": now + ttl,
            "caller": caller.arn,
        })
        id_token = self.identity_center_key.sign({
            "iss": IDENTITY_CENTER_ISSUER, "aud": client_id, "sub": f"idc-{persona.name}", "email": persona.email,
            "iat": now, "exp": now + ttl, "sts:identity_context": context,
        })
        return {
            "accessToken": base64.urlsafe_b64encode(secrets.token_bytes(48)).decode(),
            "tokenType": "Bearer", "expiresIn": ttl, "idToken": id_token,
            "issuedTokenType": ACCESS_TOKEN_TYPE,
            "scope": scope or ["openid", "aws", "sts:identity_context"],
            "awsAdditionalDetails": {"identityContext": context},
        }
