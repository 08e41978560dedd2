"""``AwsProvisionConfig``: the ``[aws]`` section that drives provision, preflight, teardown
and the cost estimate.

Names default to those of shared/DESIGN.md §1A; profiles pick the two accounts (leave
``redshift_profile`` unset, or point both at one account, for the same-account set-up).
Account ids are never configured: they come from ``sts:GetCallerIdentity``.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AwsProvisionConfig", "RUN_ID_TAG", "ATTACHED_TAG", "SQL_TAG"]

# Every resource provision creates carries this tag; teardown deletes by it and only by it.
RUN_ID_TAG = "streamload:run-id"
# Recorded on RedshiftStreamRole so teardown undoes only what provision itself did there:
# the warehouse attachment and the SQL objects it created (not ones that already existed).
ATTACHED_TAG = "streamload:attached-to"
SQL_TAG = "streamload:sql-objects"


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
    # (Sid PreflightAssumeRole) for it; unset keeps the trust exactly as in DESIGN §1A.
    preflight_principal_arn: str | None = None
    iam_propagation_timeout_s: float = Field(90.0, ge=0)
    # Inputs of the cost estimate only.
    record_size_bytes: int = Field(1100, ge=1, le=1_048_576)
    redshift_node_type: str = "ra3.xlplus"
    redshift_nodes: int = Field(2, ge=1)
    serverless_base_rpu: int = Field(8, ge=4)
