"""Set up the pipeline under test: the stream, the external schema and the streaming MV.

The SQL is the AWS tutorial's, with one column more in the view: ``refresh_time`` (a column
every Kinesis streaming source has), so the audit can count every record's refresh lag in
SQL and the probe can tell which rows became visible since its last look.
"""
from __future__ import annotations

import time

import boto3
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from streamload.dataapi.client import DataApiClient, StatementError, make_boto3_client
from streamload.core.config import StreamloadConfig
from streamload.core.errors import TargetUnreachable

__all__ = ["TargetUnreachable", "ensure_stream", "external_schema_sql", "materialized_view_sql", "setup_pipeline"]


def kinesis_client(cfg: StreamloadConfig):
    session = boto3.session.Session(profile_name=cfg.target.profile) if cfg.target.profile else boto3.session.Session()
    return session.client("kinesis", **cfg.target.client_kwargs("kinesis"))


def ensure_stream(cfg: StreamloadConfig, timeout_s: float = 60.0) -> None:
    """Create the stream if it is missing and wait until it is ACTIVE."""
    client = kinesis_client(cfg)
    name = cfg.stream.name
    try:
        try:
            client.describe_stream_summary(StreamName=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            client.create_stream(StreamName=name, ShardCount=cfg.stream.shards)
        deadline = time.monotonic() + timeout_s
        while True:
            status = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"]
            if status == "ACTIVE":
                return
            if time.monotonic() > deadline:
                raise TargetUnreachable(f"stream {name} still {status} after {timeout_s:.0f}s")
            time.sleep(0.2)
    except EndpointConnectionError as exc:
        raise TargetUnreachable(f"cannot reach Kinesis at {exc.kwargs.get('endpoint_url')}") from None
    except (ClientError, BotoCoreError) as exc:
        raise TargetUnreachable(f"Kinesis: {exc}") from None


def external_schema_sql(cfg: StreamloadConfig) -> str:
    roles = ",".join(cfg.redshift.iam_roles) if cfg.redshift.iam_roles else None
    iam = f"IAM_ROLE '{roles}'" if roles else "IAM_ROLE default"
    return f"CREATE EXTERNAL SCHEMA {cfg.redshift.external_schema} FROM KINESIS\n{iam};"


def materialized_view_sql(cfg: StreamloadConfig) -> str:
    r = cfg.redshift
    return (
        f"CREATE MATERIALIZED VIEW {r.materialized_view} AUTO REFRESH YES AS\n"
        f"  SELECT approximate_arrival_timestamp, refresh_time, JSON_PARSE(kinesis_data) AS payload\n"
        f'  FROM {r.external_schema}."{cfg.stream.name}";'
    )


def setup_pipeline(cfg: StreamloadConfig) -> DataApiClient:
    """Stream, external schema and MV; returns the Data API client used for set-up."""
    ensure_stream(cfg)
    client = DataApiClient(make_boto3_client(cfg.target), cfg.redshift, timeout_s=cfg.load.statement_timeout_s)
    try:
        for sql in (external_schema_sql(cfg), materialized_view_sql(cfg)):
            try:
                client.execute(sql, "setup")
            except StatementError as exc:
                if "already exists" not in str(exc):
                    raise
        if cfg.personas.enabled:  # the sales table, roles and RLS policies the personas query
            from streamload.sales_setup import prepare_sales

            prepare_sales(client, cfg.personas)
    except EndpointConnectionError as exc:
        raise TargetUnreachable(f"cannot reach the Redshift Data API at {exc.kwargs.get('endpoint_url')}") from None
    except ClientError as exc:
        raise TargetUnreachable(f"Redshift Data API: {exc}") from None
    return client
