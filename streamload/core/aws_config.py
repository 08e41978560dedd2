"""``AwsProvisionConfig``: the ``[aws]`` section of the config, which drives
``streamload aws provision|preflight|teardown|cost`` and the cost estimate before a run.

It lives in the core layer so the config loads (file, ``STREAMLOAD_AWS__<FIELD>``, flags)
without importing ``streamload.aws``. Profiles pick the two accounts (leave
``redshift_profile`` unset, or point both at one account, for the same-account set-up).
Account ids are never configured: they come from ``sts:GetCallerIdentity``. The default
names are those docs/aws.md lists.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AwsProvisionConfig"]


class AwsProvisionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    run_id: str = Field("streamload", min_length=1, max_length=128, pattern=r"^[\w.:/=+@ -]+$")
    stream_profile: str | None = Field(None, description="profile of the stream account (account 1)")
    redshift_profile: str | None = Field(
        None, description="profile of the Redshift account (account 2); unset = stream_profile"
    )
    stream_mode: Literal["PROVISIONED", "ON_DEMAND"] = "PROVISIONED"
    kinesis_policy_name: str = "KinesisStreamPolicy"
    kinesis_role_name: str = "KinesisStreamRole"
    redshift_policy_name: str = "RedshiftStreamPolicy"
    redshift_role_name: str = "RedshiftStreamRole"
    # Redshift is the only principal RedshiftStreamRole trusts, so nobody can run the
    # preflight's first assume-role hop. Setting this role/user ARN adds one trust statement
    # (Sid PreflightAssumeRole) for it; unset keeps the trust exactly as docs/aws.md shows.
    preflight_principal_arn: str | None = None
    iam_propagation_timeout_s: float = Field(90.0, ge=0)
    # Inputs of the cost estimate only.
    record_size_bytes: int = Field(1100, ge=1, le=1_048_576)
    redshift_node_type: str = "ra3.xlplus"
    redshift_nodes: int = Field(2, ge=1)
    serverless_base_rpu: int = Field(8, ge=4)
