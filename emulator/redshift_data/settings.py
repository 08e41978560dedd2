"""``RedshiftDataSettings``: every knob of the local Data API server in one typed object."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from emulator.identity.registry import IdentityRegistry

__all__ = ["RedshiftDataSettings", "LOCAL_KINESIS_ACCESS_KEY", "LOCAL_KINESIS_SECRET_KEY"]

# Credentials for the *local* Kinesis server only; real AWS never sees them.
LOCAL_KINESIS_ACCESS_KEY = "streamload-local"
LOCAL_KINESIS_SECRET_KEY = "streamload-local"


class RedshiftDataSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    # libpq DSN of the PostgreSQL server; its database name is replaced by each
    # statement's Database, so any database on that server can be addressed.
    pg_dsn: str
    # Where streaming ingestion reads Kinesis from (None: streaming MVs cannot refresh).
    kinesis_endpoint_url: str | None = None
    region: str = "us-east-1"
    kinesis_access_key_id: str = LOCAL_KINESIS_ACCESS_KEY
    kinesis_secret_access_key: str = LOCAL_KINESIS_SECRET_KEY
    # Seconds between background refreshes of AUTO REFRESH YES views (0 disables).
    auto_refresh_interval_s: float = Field(1.0, ge=0)
    # Data API quota on SUBMITTED/PICKED/STARTED statements.
    max_active_statements: int = Field(200, ge=1)
    # PostgreSQL connections per database; statements beyond it wait in PICKED.
    pool_size: int = Field(20, ge=1)
    # Sessions the local STS issued, by access key (None: every caller is the admin user).
    # (Any + a validator: pydantic cannot build a schema for the registry's lock field.)
    identity_registry: Any = None
    # DbUser values that mean the admin (a cluster's master user), not a mapped user.
    superuser_db_users: tuple[str, ...] = ("awsuser", "admin", "postgres")
    # PostgreSQL connections per mapped (non-admin) database user and database.
    user_pool_size: int = Field(5, ge=1)
    # Data API quota on open sessions (SessionKeepAliveSeconds).
    max_active_sessions: int = Field(500, ge=1)
    # How long finished statements and their results stay retrievable (AWS: 24 hours).
    result_retention_s: float = Field(24 * 3600, gt=0)
    # Bounds AWS does not have: beyond these the oldest finished statements are forgotten early,
    # so memory stays flat over a long run (a client reads a result right after it finishes).
    max_kept_statements: int = Field(5_000, ge=1)
    max_kept_result_bytes: int = Field(16 * 1024 * 1024, ge=0)
    # SigV4: requests must be signed with a key below or one the local STS issued (the registry).
    verify_signatures: bool = True
    static_credentials: dict[str, str] = Field(
        default_factory=lambda: {LOCAL_KINESIS_ACCESS_KEY: LOCAL_KINESIS_SECRET_KEY})
    # Accept requests without an Authorization header as the admin (curl); signed ones are still checked.
    allow_unsigned_requests: bool = False
    max_signature_skew_s: float = Field(900.0, gt=0)

    @field_validator("identity_registry")
    @classmethod
    def _is_registry(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, IdentityRegistry):
            raise ValueError("identity_registry must be an IdentityRegistry or None")
        return value
