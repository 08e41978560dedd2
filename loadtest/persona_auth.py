"""How a persona signs in: the identity-enhanced credential flow, once per process,
renewed before expiry (see ``loadtest/personas.py`` for the whole picture).

    ID token -> STS AssumeRoleWithWebIdentity -> SSO-OIDC CreateTokenWithIAM (jwt-bearer)
      -> STS AssumeRole + ProvidedContexts -> identity-enhanced session
"""
from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore import UNSIGNED
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from streamload.core.personas import Persona, PersonasConfig
from streamload.core.config import TargetConfig

__all__ = ["PersonaAuthError", "PersonaCredentials", "fetch_id_token", "obtain_persona_credentials",
           "PersonaSessions", "JWT_BEARER_GRANT", "IDENTITY_CENTER_PROVIDER_ARN"]

log = logging.getLogger("streamload.loadtest.personas")

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
IDENTITY_CENTER_PROVIDER_ARN = "arn:aws:iam::aws:contextProvider/IdentityCenter"


# -- credentials ------------------------------------------------------------------------

class PersonaAuthError(Exception):
    """Sign-in failed for a persona; ``code`` is the AWS error code (or our own)."""

    def __init__(self, persona: str, step: str, code: str, message: str) -> None:
        super().__init__(f"{persona}: {step} failed: {code}: {message}")
        self.persona, self.step, self.code, self.message = persona, step, code, message


@dataclass(frozen=True)
class PersonaCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: float
    arn: str


def _boto_config(pool: int = 10, unsigned: bool = False) -> BotoConfig:
    extra = {"signature_version": UNSIGNED} if unsigned else {}
    return BotoConfig(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=pool,
                      connect_timeout=5, read_timeout=30, **extra)


def _keys(creds: dict[str, Any]) -> dict[str, str]:
    return {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"]}


def fetch_id_token(persona: Persona, cfg: PersonasConfig, timeout_s: float = 10.0) -> str:
    """The persona's OIDC ID token: from its token file, else the local issuer."""
    path = cfg.token_files.get(persona.name)
    if path is not None:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise PersonaAuthError(persona.name, "read ID token", "TokenFileError", f"{path}: {exc.strerror}") from None
    if not cfg.issuer_token_url:
        raise PersonaAuthError(persona.name, "get ID token", "NoTokenSource",
                               "set personas.issuer_token_url or personas.token_files")
    body = urllib.parse.urlencode({"username": persona.name}).encode()
    try:
        with urllib.request.urlopen(cfg.issuer_token_url, data=body, timeout=timeout_s) as resp:
            return json.loads(resp.read())["id_token"]
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("error_description", exc.reason)
        except ValueError:
            detail = exc.reason
        raise PersonaAuthError(persona.name, "get ID token", "IdPError", str(detail)) from None
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        raise PersonaAuthError(persona.name, "get ID token", "IdPUnreachable", str(exc)) from None


def obtain_persona_credentials(persona: Persona, cfg: PersonasConfig, region: str) -> PersonaCredentials:
    """Run the whole flow once; raise ``PersonaAuthError`` naming the step that failed."""
    token = fetch_id_token(persona, cfg)
    session = boto3.session.Session()
    step = "AssumeRoleWithWebIdentity"
    try:
        anonymous_sts = session.client("sts", region_name=region, endpoint_url=cfg.sts_endpoint_url,
                                       config=_boto_config(unsigned=True))
        web = anonymous_sts.assume_role_with_web_identity(
            RoleArn=cfg.web_identity_role_arn, RoleSessionName=f"streamload-{persona.name}",
            WebIdentityToken=token)["Credentials"]
        step = "CreateTokenWithIAM"
        oidc = session.client("sso-oidc", region_name=region, endpoint_url=cfg.sso_oidc_endpoint_url,
                              config=_boto_config(), **_keys(web))
        granted = oidc.create_token_with_iam(clientId=cfg.application_arn, grantType=JWT_BEARER_GRANT,
                                             assertion=token)
        context = (granted.get("awsAdditionalDetails") or {}).get("identityContext") or _context_claim(granted, persona.name)
        step = "AssumeRole"
        sts = session.client("sts", region_name=region, endpoint_url=cfg.sts_endpoint_url,
                             config=_boto_config(), **_keys(web))
        enhanced = sts.assume_role(
            RoleArn=cfg.identity_enhanced_role_arn, RoleSessionName=f"streamload-{persona.name}",
            DurationSeconds=cfg.session_duration_s,
            ProvidedContexts=[{"ProviderArn": IDENTITY_CENTER_PROVIDER_ARN, "ContextAssertion": context}])
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise PersonaAuthError(persona.name, step, error.get("Code", "Unknown"), error.get("Message", "")) from None
    except BotoCoreError as exc:
        raise PersonaAuthError(persona.name, step, type(exc).__name__, str(exc)) from None
    creds = enhanced["Credentials"]
    return PersonaCredentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"],
                              creds["Expiration"].timestamp(), enhanced["AssumedRoleUser"]["Arn"])


def _context_claim(granted: dict[str, Any], persona: str) -> str:
    """``sts:identity_context`` from the idToken (older responses lack awsAdditionalDetails)."""
    import base64

    try:
        claims = json.loads(base64.urlsafe_b64decode(granted["idToken"].split(".")[1] + "=="))
        return claims["sts:identity_context"]
    except (KeyError, IndexError, ValueError):
        raise PersonaAuthError(persona, "CreateTokenWithIAM", "NoIdentityContext",
                               "the token carries no sts:identity_context") from None


@dataclass
class _SessionEntry:
    credentials: PersonaCredentials | None = None
    client: Any = None
    error: PersonaAuthError | None = None
    retry_at: float = 0.0
    renewals: int = 0


class PersonaSessions:
    """Per-process cache: one identity-enhanced session and Data API client per persona.

    ``client(persona)`` renews ``renew_before_s`` before expiry. A failed sign-in is raised
    to every caller until ``auth_retry_s`` passes, but ``on_error`` (logging, the Locust
    failure event) runs once per persona and distinct error, so a bad token is one line.
    """

    def __init__(self, cfg: PersonasConfig, target: TargetConfig, max_pool_connections: int = 20,
                 obtain: Callable[[Persona, PersonasConfig, str], PersonaCredentials] = obtain_persona_credentials,
                 clock: Callable[[], float] = time.time,
                 on_error: Callable[[PersonaAuthError], None] | None = None) -> None:
        self.cfg, self.target, self.pool = cfg, target, max_pool_connections
        self._obtain, self._clock, self._on_error = obtain, clock, on_error
        self._entries: dict[str, _SessionEntry] = {}
        self._reported: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def renewals(self, persona: str) -> int:
        entry = self._entries.get(persona)
        return entry.renewals if entry else 0

    def client(self, persona: Persona):
        with self._lock:  # one sign-in at a time per process is plenty, and no stampede
            entry = self._entries.setdefault(persona.name, _SessionEntry())
            now = self._clock()
            creds = entry.credentials
            if creds is not None and creds.expiration - now > self.cfg.renew_before_s:
                return entry.client
            if entry.error is not None and now < entry.retry_at:
                if creds is not None and creds.expiration > now:
                    return entry.client  # renewal failed; the old session is still good
                raise entry.error
            try:
                fresh = self._obtain(persona, self.cfg, self.target.region)
            except PersonaAuthError as exc:
                entry.error, entry.retry_at = exc, now + self.cfg.auth_retry_s
                self._report_once(exc)
                if creds is not None and creds.expiration > now:
                    return entry.client
                raise
            entry.renewals += creds is not None
            entry.credentials, entry.error = fresh, None
            entry.client = self._data_api_client(fresh)
            return entry.client

    def _report_once(self, exc: PersonaAuthError) -> None:
        seen = self._reported.setdefault(exc.persona, set())
        if exc.code in seen:
            return
        seen.add(exc.code)
        log.error("persona %s cannot sign in: %s", exc.persona, exc)
        if self._on_error is not None:
            self._on_error(exc)

    def _data_api_client(self, creds: PersonaCredentials):
        kwargs: dict[str, Any] = {"region_name": self.target.region}
        if self.target.redshift_data_endpoint_url:
            kwargs["endpoint_url"] = self.target.redshift_data_endpoint_url
        return boto3.session.Session().client(
            "redshift-data", config=_boto_config(self.pool), aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key, aws_session_token=creds.session_token, **kwargs)
