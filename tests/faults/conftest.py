"""Fixtures for the poison-record tests: an in-process Kinesis and Data API on the shared
PostgreSQL (the fault runs build their own breakable stack, see fault_stack.py)."""
from __future__ import annotations

import time
import uuid

import boto3
import pytest

from emulator.kinesis import KinesisBackend, KinesisSettings
from emulator.kinesis import create_app as create_kinesis_app
from emulator.redshift_data import RedshiftDataSettings, create_app
from emulator.runtime import BackgroundServer

LOCAL = {"aws_access_key_id": "streamload-local", "aws_secret_access_key": "streamload-local",
         "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def kinesis_url():
    backend = KinesisBackend(KinesisSettings.unthrottled())

    async def make_app():
        return await create_kinesis_app(backend)

    with BackgroundServer(make_app) as server:
        yield server.url


@pytest.fixture(scope="module")
def data_api_url(postgres, kinesis_url):
    settings = RedshiftDataSettings(pg_dsn=postgres.dsn, kinesis_endpoint_url=kinesis_url, auto_refresh_interval_s=0)
    with BackgroundServer(lambda: create_app(settings)) as server:
        yield server.url


@pytest.fixture
def kinesis(kinesis_url):
    return boto3.client("kinesis", endpoint_url=kinesis_url, **LOCAL)


@pytest.fixture
def redshift(data_api_url):
    return boto3.client("redshift-data", endpoint_url=data_api_url, **LOCAL)


@pytest.fixture
def database(postgres):
    return postgres.create_database(f"p_{uuid.uuid4().hex[:10]}").rsplit("/", 1)[1]


@pytest.fixture
def stream(kinesis):
    name = f"poison-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    return name


def run_sql(client, sql: str, database: str) -> dict:
    """Execute and wait (bounded) for a terminal state; returns DescribeStatement."""
    statement_id = client.execute_statement(Sql=sql, Database=database, WorkgroupName="local")["Id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        described = client.describe_statement(Id=statement_id)
        if described["Status"] in ("FINISHED", "FAILED", "ABORTED"):
            return described
        time.sleep(0.02)
    raise AssertionError(f"statement still {described['Status']} after 30 s: {sql}")


def rows(client, sql: str, database: str) -> list[list]:
    described = run_sql(client, sql, database)
    assert described["Status"] == "FINISHED", described.get("Error")
    records = client.get_statement_result(Id=described["Id"])["Records"]
    return [[next(iter(cell.values())) if not cell.get("isNull") else None for cell in rec] for rec in records]
