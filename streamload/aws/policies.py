"""The policy and trust documents of the cross-account set-up (docs/aws.md), as pure functions.

Nothing here calls AWS: given the two accounts, every ARN and document is known before
anything is created, which is what lets ``--dry-run`` print an exact plan.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from streamload.aws.config import AwsProvisionConfig

__all__ = ["AccountPair", "ResourceNames", "canonical_policy", "policy_from_api"]

VERSION = "2012-10-17"
REDSHIFT_SERVICE = "redshift.amazonaws.com"
KINESIS_READ_ACTIONS = [
    "kinesis:DescribeStreamSummary",
    "kinesis:GetShardIterator",
    "kinesis:GetRecords",
    "kinesis:DescribeStream",
]
KINESIS_LIST_ACTIONS = ["kinesis:ListStreams", "kinesis:ListShards"]


@dataclass(frozen=True)
class AccountPair:
    """Account 1 owns the stream, account 2 owns Redshift; equal ids = same-account mode."""

    stream_account: str
    redshift_account: str
    partition: str = "aws"

    @property
    def same_account(self) -> bool:
        return self.stream_account == self.redshift_account


@dataclass(frozen=True)
class ResourceNames:
    accounts: AccountPair
    settings: AwsProvisionConfig

    def _iam_arn(self, account: str, kind: str, name: str) -> str:
        return f"arn:{self.accounts.partition}:iam::{account}:{kind}/{name}"

    @property
    def kinesis_policy_arn(self) -> str:
        return self._iam_arn(self.accounts.stream_account, "policy", self.settings.kinesis_policy_name)

    @property
    def kinesis_role_arn(self) -> str:
        return self._iam_arn(self.accounts.stream_account, "role", self.settings.kinesis_role_name)

    @property
    def redshift_policy_arn(self) -> str:
        return self._iam_arn(self.accounts.redshift_account, "policy", self.settings.redshift_policy_name)

    @property
    def redshift_role_arn(self) -> str:
        return self._iam_arn(self.accounts.redshift_account, "role", self.settings.redshift_role_name)

    def iam_role_chain(self) -> list[str]:
        """The roles of ``CREATE EXTERNAL SCHEMA ... IAM_ROLE``: Redshift's first."""
        if self.accounts.same_account:
            return [self.redshift_role_arn]
        return [self.redshift_role_arn, self.kinesis_role_arn]

    def stream_read_statements(self) -> list[dict[str, Any]]:
        stream_arns = f"arn:{self.accounts.partition}:kinesis:*:{self.accounts.stream_account}:stream/*"
        return [
            {"Sid": "ReadStream", "Effect": "Allow", "Action": list(KINESIS_READ_ACTIONS), "Resource": stream_arns},
            {"Sid": "ListStream", "Effect": "Allow", "Action": list(KINESIS_LIST_ACTIONS), "Resource": "*"},
        ]

    def kinesis_stream_policy(self) -> dict[str, Any]:
        return {"Version": VERSION, "Statement": self.stream_read_statements()}

    def kinesis_role_trust(self) -> dict[str, Any]:
        return {
            "Version": VERSION,
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": self.redshift_role_arn}, "Action": "sts:AssumeRole"}
            ],
        }

    def redshift_stream_policy(self) -> dict[str, Any]:
        # Same account: no chain, so Redshift's own role carries the stream read rights
        # (the AWS same-account tutorial). Cross account: it may only assume the next hop.
        if self.accounts.same_account:
            return self.kinesis_stream_policy()
        return {
            "Version": VERSION,
            "Statement": [
                {
                    "Sid": "AssumeKinesisStreamRole",
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": self.kinesis_role_arn,
                }
            ],
        }

    def redshift_role_trust(self) -> dict[str, Any]:
        statements: list[dict[str, Any]] = [
            {"Effect": "Allow", "Principal": {"Service": REDSHIFT_SERVICE}, "Action": "sts:AssumeRole"}
        ]
        if self.settings.preflight_principal_arn:
            statements.append(
                {
                    "Sid": "PreflightAssumeRole",
                    "Effect": "Allow",
                    "Principal": {"AWS": self.settings.preflight_principal_arn},
                    "Action": "sts:AssumeRole",
                }
            )
        return {"Version": VERSION, "Statement": statements}


def policy_from_api(document: str | dict[str, Any]) -> dict[str, Any]:
    """IAM returns documents URL-encoded; boto3 usually decodes them, moto sometimes not."""
    if isinstance(document, dict):
        return document
    text = document if document.lstrip().startswith("{") else unquote(document)
    return json.loads(text)


def _as_sorted_list(value: Any) -> list[Any]:
    items = value if isinstance(value, list) else [value]
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))


def _canonical_statement(statement: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in statement.items():
        if key in ("Action", "NotAction", "Resource", "NotResource"):
            out[key] = _as_sorted_list(value)
        elif key == "Principal" and isinstance(value, dict):
            out[key] = {kind: _as_sorted_list(v) for kind, v in value.items()}
        else:
            out[key] = value
    return out


def canonical_policy(document: str | dict[str, Any]) -> str:
    """One string per meaning: IAM may return ``"a"`` where we sent ``["a"]``, or reorder."""
    doc = policy_from_api(document)
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    canonical = sorted(
        (_canonical_statement(s) for s in statements), key=lambda s: json.dumps(s, sort_keys=True)
    )
    return json.dumps({"Version": doc.get("Version"), "Statement": canonical}, sort_keys=True)
