"""``KinesisSettings``: every knob of the local Kinesis server in one typed object.

Defaults are AWS's documented values, so a default server behaves like a fresh account in
a large region -- throughput limits on, signatures checked -- and tests shrink them (e.g.
``shard_write_records_per_s``, ``iterator_ttl_s``) instead of patching code.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .faults import FaultPlan

__all__ = ["KinesisSettings", "LOCAL_ACCOUNT_ID", "LOCAL_REGION", "LOCAL_ACCESS_KEY_ID", "LOCAL_SECRET_ACCESS_KEY", "MIB"]

MIB = 1024 * 1024
# The account every caller lands in unless ``access_key_accounts`` says otherwise; it is
# the id AWS uses in documentation examples, so it can never be a real account.
LOCAL_ACCOUNT_ID = "000000000000"
LOCAL_REGION = "us-east-1"
# The local stack's key pair (emulator/stack.py uses the same strings). It opens nothing
# outside this machine.
LOCAL_ACCESS_KEY_ID = "streamload-local"
LOCAL_SECRET_ACCESS_KEY = "streamload-local"


class KinesisSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # ---- who may call -------------------------------------------------------------
    default_account_id: str = Field(LOCAL_ACCOUNT_ID, pattern=r"^\d{12}$")
    # Access key id -> secret access key. Requests are SigV4-verified against these;
    # other keys get UnrecognizedClientException.
    credentials: dict[str, str] = Field(default_factory=lambda: {LOCAL_ACCESS_KEY_ID: LOCAL_SECRET_ACCESS_KEY})
    # Access key id -> account id (the cross-account set-up); unlisted keys use the default.
    access_key_accounts: dict[str, str] = Field(default_factory=dict)
    verify_signatures: bool = True
    # Unsigned requests get MissingAuthenticationTokenException unless this is on.
    allow_unsigned_requests: bool = False
    max_signature_skew_s: float = Field(900.0, gt=0)
    # Used when a request carries no SigV4 credential scope to take the region from.
    default_region: str = LOCAL_REGION

    # ---- streams --------------------------------------------------------------------
    # Seconds a new stream stays CREATING (and a resharded one UPDATING) before ACTIVE.
    stream_creating_s: float = Field(0.0, ge=0)
    stream_updating_s: float = Field(0.0, ge=0)
    default_retention_hours: int = Field(24, ge=24, le=8760)
    # Local runs only: trim records after this many seconds instead of the stream's
    # retention hours, so a short soak shows memory bounded by retention.
    retention_override_s: float | None = Field(None, gt=0)
    retention_check_interval_s: float = Field(60.0, gt=0)
    on_demand_shard_count: int = Field(4, ge=1)
    # On-demand scaling (see on_demand.py): a shard busier than this for
    # on_demand_split_delay_s is split in two; growth stops at the stream's write maximum.
    on_demand_split_bytes_per_s: float = Field(500_000.0, gt=0)
    on_demand_split_records_per_s: float = Field(500.0, gt=0)
    on_demand_split_delay_s: float = Field(900.0, ge=0)
    on_demand_check_interval_s: float = Field(10.0, gt=0)
    on_demand_max_write_bytes_per_s: float = Field(200.0 * MIB, gt=0)
    # AWS: UpdateStreamMode at most twice per rolling 24 hours per stream.
    max_mode_switches_per_day: int = Field(2, ge=1)
    # Shard quota per account and region (AWS: 500 in the large regions, 200 elsewhere).
    max_shards_per_region: int = Field(500, ge=1)
    # AWS: UpdateShardCount at most 10 times per rolling 24 hours per stream.
    max_shard_count_updates_per_day: int = Field(10, ge=1)

    # ---- record and request sizes ---------------------------------------------------
    # data + partition key, per record; the default for new streams (CreateStream's
    # MaxRecordSizeInKiB and UpdateMaxRecordSize choose 1-10 MiB per stream).
    max_record_bytes: int = Field(1 * MIB, ge=1, le=10 * MIB)
    max_put_records_request_bytes: int = Field(5 * MIB, ge=1)
    max_get_records_response_bytes: int = Field(10 * MIB, ge=1)
    iterator_ttl_s: float = Field(300.0, gt=0)

    # ---- throughput (per shard) and control-plane rates -----------------------------
    throughput_limits_enabled: bool = True
    shard_write_records_per_s: float = Field(1000.0, gt=0)
    shard_write_bytes_per_s: float = Field(1.0 * MIB, gt=0)
    shard_read_calls_per_s: float = Field(5.0, gt=0)
    shard_read_bytes_per_s: float = Field(2.0 * MIB, gt=0)
    # Token-bucket depth in seconds of quota: an idle shard takes this many seconds'
    # worth at once, then the sustained rate (see throttling.py for why 1 s).
    throughput_burst_s: float = Field(1.0, gt=0)
    # LimitExceededException for CreateStream/DescribeStream/... above AWS's TPS quotas.
    control_plane_limits_enabled: bool = True

    # ---- faults, persistence ---------------------------------------------------------
    faults: FaultPlan = Field(default_factory=FaultPlan)
    data_dir: Path | None = None
    # With data_dir: sync each put's write to disk before answering (survives power loss, slower).
    # Without it a put still reaches the operating system before it is acknowledged.
    fsync: bool = False
    # How soon a write the disk refused is tried again (puts wait for it; none is lost).
    flush_interval_s: float = Field(0.2, gt=0)

    @model_validator(mode="after")
    def _keys_with_accounts_have_secrets(self) -> "KinesisSettings":
        if self.verify_signatures:
            missing = sorted(set(self.access_key_accounts) - set(self.credentials))
            if missing:
                raise ValueError(f"access_key_accounts lists keys without a secret in credentials: {missing}")
        return self

    @classmethod
    def unthrottled(cls, **overrides: object) -> "KinesisSettings":
        """AWS's behaviour minus every rate limit: for benchmarks and functional tests
        that are not about throughput."""
        return cls(throughput_limits_enabled=False, control_plane_limits_enabled=False, **overrides)
