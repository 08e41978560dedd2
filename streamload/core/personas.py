"""Personas: who logs in to the sales dashboard, which groups they are in, what they may see.

One model serves both sides: the local identity store (email -> groups) and the load test's
checker (allowed regions and columns). The four defaults are those of docs/identity.md.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Persona", "PersonasConfig", "DEFAULT_PERSONAS", "SALES_REGIONS", "SALES_COLUMNS", "REGIONAL_COLUMNS",
           "default_personas", "check_unique_personas"]

SALES_REGIONS = ("AMER", "EMEA", "APAC")
# Every column of the sales table, in table order.
SALES_COLUMNS = ("region", "country", "product", "quantity", "unit_price", "amount", "sold_at")
# Regional managers are not granted unit_price (pricing is set globally): the column-level
# security half of the set-up.
REGIONAL_COLUMNS = tuple(c for c in SALES_COLUMNS if c != "unit_price")


class Persona(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    # Identity Center groups; Redshift sees each as role ``AWSIDC:<group>``.
    groups: tuple[str, ...] = ()
    allowed_regions: tuple[str, ...] = ()
    allowed_columns: tuple[str, ...] = REGIONAL_COLUMNS

    @field_validator("allowed_regions")
    @classmethod
    def _upper_regions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(r.upper() for r in value)

    @field_validator("allowed_columns")
    @classmethod
    def _lower_columns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("a persona must be allowed at least one column")
        return tuple(c.lower() for c in value)

    @property
    def db_user(self) -> str:
        return f"AWSIDC:{self.email}"


def default_personas() -> list[Persona]:
    return [
        Persona(name="ethan", email="ethan@example.com", groups=("exec-global",),
                allowed_regions=SALES_REGIONS, allowed_columns=SALES_COLUMNS),
        Persona(name="frank", email="frank@example.com", groups=("amer-sales",), allowed_regions=("AMER",)),
        Persona(name="alex", email="alex@example.com", groups=("emea-sales",), allowed_regions=("EMEA",)),
        Persona(name="ming", email="ming@example.com", groups=("apac-sales",), allowed_regions=("APAC",)),
    ]


DEFAULT_PERSONAS: tuple[Persona, ...] = tuple(default_personas())


def check_unique_personas(personas: list[Persona]) -> list[Persona]:
    """Raise ``ValueError`` if two personas share a name or an email."""
    for attr in ("name", "email"):
        seen: set[str] = set()
        for persona in personas:
            value = getattr(persona, attr)
            if value in seen:
                raise ValueError(f"two personas have {attr} {value!r}")
            seen.add(value)
    return personas


# The local stack's ARNs (emulator/identity/settings.py); AWS runs set their own.
_LOCAL_ACCOUNT = "000000000000"
LOCAL_WEB_IDENTITY_ROLE_ARN = f"arn:aws:iam::{_LOCAL_ACCOUNT}:role/SalesDashboardWebIdentityRole"
LOCAL_IDENTITY_ROLE_ARN = f"arn:aws:iam::{_LOCAL_ACCOUNT}:role/SalesDashboardIdentityEnhancedRole"
LOCAL_APPLICATION_ARN = f"arn:aws:sso::{_LOCAL_ACCOUNT}:application/ssoins-local/apl-streamload-sales"


class PersonasConfig(BaseModel):
    """The ``personas`` section of the main config (client side: the load test).

    Pure pydantic, so ``streamload/core/config.py`` can import it without boto3 or Locust."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    enabled: bool = False
    # Local stack: the identity server's URL for all three; AWS: leave the STS/SSO-OIDC
    # endpoints unset and give each persona's ID token in token_files.
    sts_endpoint_url: str | None = None
    sso_oidc_endpoint_url: str | None = None
    issuer_token_url: str | None = None
    token_files: dict[str, Path] = Field(default_factory=dict)
    web_identity_role_arn: str = LOCAL_WEB_IDENTITY_ROLE_ARN
    identity_enhanced_role_arn: str = LOCAL_IDENTITY_ROLE_ARN
    application_arn: str = LOCAL_APPLICATION_ARN
    session_duration_s: int = Field(3600, ge=900, le=43200)
    renew_before_s: float = Field(300.0, ge=0)
    # After a failed sign-in, wait this long before trying again (errors are reported once).
    auth_retry_s: float = Field(30.0, gt=0)
    users_per_persona: int = Field(1, ge=0)
    query_interval_s: float = Field(1.0, ge=0)
    table: str = Field("sales", pattern=r"^[A-Za-z_][\w.]*$")
    query_sql: str = "SELECT {columns} FROM {table}"
    # Before the run, create the table, roles and RLS policies (scripts/sales/setup_local.sql,
    # or setup_sql) and load seed_rows rows if the table is empty. Unset: only on the local
    # stack -- against AWS an admin does this once (scripts/sales/setup_aws.md), and a run
    # must not create roles and policies in someone's warehouse unless told (setup = true).
    setup: bool | None = None
    setup_sql: Path | None = None
    seed_rows: int = Field(300, ge=0)
    seed: int = 7
    # Also ask, now and then, for a column the persona must not see, expecting a denial.
    column_probe: bool = True
    personas: list[Persona] = Field(default_factory=default_personas)
    # Added to ``personas``, so a config can name its own without restating the four defaults.
    extra: list[Persona] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> "PersonasConfig":
        check_unique_personas(self.all_personas)
        return self

    @property
    def all_personas(self) -> list[Persona]:
        """Every persona of the run: ``personas`` then ``extra``."""
        return [*self.personas, *self.extra]

    @field_validator("setup_sql")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None and not Path(value).is_file():
            raise ValueError(f"no such file: {value}")
        return value

    def persona(self, name: str) -> Persona:
        for persona in self.all_personas:
            if persona.name == name:
                return persona
        raise KeyError(name)
