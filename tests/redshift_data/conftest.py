"""Fixtures for the local Data API: a Kinesis endpoint, the server on port 0, boto3 clients."""
from __future__ import annotations

import uuid

import boto3
import pytest

from emulator.kinesis import KinesisBackend
from tests.support.local_stack import (LOCAL_CREDENTIALS, TERMINAL, data_api_server, run_sql,  # noqa: F401
                                       start_kinesis, wait_for)


@pytest.fixture(scope="session")
def kinesis_url():
    server = start_kinesis(KinesisBackend())  # AWS's rate limits on, as the Data API meets them
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def data_api_url(postgres, kinesis_url):
    with data_api_server(postgres.dsn, kinesis_url) as url:
        yield url


@pytest.fixture
def client(data_api_url):
    return boto3.client("redshift-data", endpoint_url=data_api_url, **LOCAL_CREDENTIALS)


@pytest.fixture
def kinesis(kinesis_url):
    return boto3.client("kinesis", endpoint_url=kinesis_url, **LOCAL_CREDENTIALS)


@pytest.fixture
def fresh_database(postgres):
    return postgres.create_database(f"t_{uuid.uuid4().hex[:10]}").rsplit("/", 1)[1]
