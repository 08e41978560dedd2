"""Fixtures for the local Data API: a Kinesis endpoint, the server on port 0, boto3 clients."""
from __future__ import annotations

import time
import uuid

import boto3
import pytest

from emulator.redshift_data import RedshiftDataSettings, create_app
from emulator.runtime import BackgroundServer

LOCAL_CREDENTIALS = {"aws_access_key_id": "streamload-local", "aws_secret_access_key": "streamload-local",
                     "region_name": "us-east-1"}
TERMINAL = ("FINISHED", "FAILED", "ABORTED")


def _start_kinesis() -> tuple[str, object]:
    """Our Kinesis server when it is importable, else moto's (swap here, nowhere else)."""
    try:
        from emulator.kinesis import create_app as create_kinesis_app
    except ImportError:
        from moto.server import ThreadedMotoServer

        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
        moto.start()
        host, port = moto.get_host_and_port()
        return f"http://{host}:{port}", moto
    server = BackgroundServer(create_kinesis_app).start()
    return server.url, server


@pytest.fixture(scope="session")
def kinesis_url():
    url, server = _start_kinesis()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def data_api_url(postgres, kinesis_url):
    settings = RedshiftDataSettings(pg_dsn=postgres.dsn, kinesis_endpoint_url=kinesis_url,
                                    auto_refresh_interval_s=0)
    with BackgroundServer(lambda: create_app(settings)) as server:
        yield server.url


@pytest.fixture
def client(data_api_url):
    return boto3.client("redshift-data", endpoint_url=data_api_url, **LOCAL_CREDENTIALS)


@pytest.fixture
def kinesis(kinesis_url):
    return boto3.client("kinesis", endpoint_url=kinesis_url, **LOCAL_CREDENTIALS)


@pytest.fixture
def fresh_database(postgres):
    return postgres.create_database(f"t_{uuid.uuid4().hex[:10]}").rsplit("/", 1)[1]


def wait_for(client, statement_id: str, timeout_s: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        described = client.describe_statement(Id=statement_id)
        if described["Status"] in TERMINAL:
            return described
        time.sleep(0.02)
    raise AssertionError(f"statement {statement_id} still {described['Status']} after {timeout_s}s")


def run_sql(client, sql: str, database: str = "dev", **kwargs) -> dict:
    started = client.execute_statement(Sql=sql, Database=database, WorkgroupName="local", **kwargs)
    return wait_for(client, started["Id"])
