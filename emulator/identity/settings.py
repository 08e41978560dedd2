"""``IdentitySettings``: the local identity stack in one typed object.

Every ARN and id below is a *local-stack* default (account ``000000000000``, AWS's
documentation account, which can never be real). Against AWS none of this is used: the
load test takes its role and application ARNs from the ``personas`` config section.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from streamload.core.personas import Persona, check_unique_personas, default_personas

__all__ = ["IdentitySettings", "RoleSpec", "LOCAL_ACCOUNT_ID", "LOCAL_AUDIENCE", "LOCAL_APPLICATION_ARN",
           "LOCAL_WEB_IDENTITY_ROLE", "LOCAL_IDENTITY_ROLE", "ISSUER_HOST_PLACEHOLDER"]

LOCAL_ACCOUNT_ID = "000000000000"
LOCAL_AUDIENCE = "streamload-sales-dashboard"
LOCAL_APPLICATION_ARN = f"arn:aws:sso::{LOCAL_ACCOUNT_ID}:application/ssoins-local/apl-streamload-sales"
LOCAL_WEB_IDENTITY_ROLE = "SalesDashboardWebIdentityRole"
LOCAL_IDENTITY_ROLE = "SalesDashboardIdentityEnhancedRole"
# The issuer's host:port is only known once the server is bound (port 0), so trust
# policies name it through this placeholder, substituted when they are evaluated.
ISSUER_HOST_PLACEHOLDER = "${issuer_host}"


class RoleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[\w+=,.@-]{1,64}$")
    trust_policy: dict[str, Any]
    max_session_duration_s: int = Field(3600, ge=900, le=43200)


def _default_roles() -> list[RoleSpec]:
    provider = f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:oidc-provider/{ISSUER_HOST_PLACEHOLDER}"
    web_identity = RoleSpec(name=LOCAL_WEB_IDENTITY_ROLE, trust_policy={
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{ISSUER_HOST_PLACEHOLDER}:aud": LOCAL_AUDIENCE}},
        }],
    })
    # Identity-enhanced sessions need sts:SetContext as well as sts:AssumeRole.
    identity_enhanced = RoleSpec(name=LOCAL_IDENTITY_ROLE, trust_policy={
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{LOCAL_WEB_IDENTITY_ROLE}"},
            "Action": ["sts:AssumeRole", "sts:SetContext"],
        }],
    })
    return [web_identity, identity_enhanced]


class IdentitySettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    account_id: str = Field(LOCAL_ACCOUNT_ID, pattern=r"^\d{12}$")
    # None: the issuer is the URL the first request reached (right for port 0).
    issuer_url: str | None = None
    audience: str = LOCAL_AUDIENCE
    token_ttl_s: int = Field(3600, ge=1)
    application_arn: str = LOCAL_APPLICATION_ARN
    # Groups assigned to the application; None means every persona's groups.
    application_groups: tuple[str, ...] | None = None
    personas: list[Persona] = Field(default_factory=default_personas)
    roles: list[RoleSpec] = Field(default_factory=_default_roles)
    # Local runs only: cap every session (and identity context) at this many seconds, below
    # AWS's 900 s minimum, so tests and soaks see credentials expire and get renewed.
    session_duration_cap_s: int | None = Field(None, ge=1)
    identity_context_ttl_s: int = Field(3600, ge=1)
    # Long-lived keys the local stack accepts (access key id -> secret).
    static_credentials: dict[str, str] = Field(default_factory=lambda: {"streamload-local": "streamload-local"})

    @model_validator(mode="after")
    def _unique(self) -> "IdentitySettings":
        check_unique_personas(self.personas)
        return self

    def assigned_groups(self) -> set[str]:
        if self.application_groups is not None:
            return set(self.application_groups)
        return {g for p in self.personas for g in p.groups}
