"""Fixtures for tests that talk to the local Kinesis and Data API over HTTP. A conftest.py
imports the ones it needs; each directory that does gets its own servers, started once."""
from __future__ import annotations

import uuid

import boto3
import pytest

from tests.support.local_stack import LOCAL_CREDENTIALS, data_api_server, start_kinesis

__all__ = ["kinesis_url", "data_api_url", "kinesis", "client", "fresh_database"]


@pytest.fixture(scope="session")
def kinesis_url():
    """The local Kinesis, rate limits off (its own tests check them, in tests/kinesis)."""
    server = start_kinesis()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def data_api_url(postgres, kinesis_url):
    with data_api_server(postgres.dsn, kinesis_url) as url:
        yield url


@pytest.fixture
def kinesis(kinesis_url):
    return boto3.client("kinesis", endpoint_url=kinesis_url, **LOCAL_CREDENTIALS)


@pytest.fixture
def client(data_api_url):
    """A boto3 Data API client of the local stack."""
    return boto3.client("redshift-data", endpoint_url=data_api_url, **LOCAL_CREDENTIALS)


@pytest.fixture
def fresh_database(postgres):
    """A new, empty database's name."""
    return postgres.create_database(f"t_{uuid.uuid4().hex[:10]}").rsplit("/", 1)[1]
