"""Fixtures for the local Data API: a Kinesis endpoint, the server on port 0, boto3 clients."""
from __future__ import annotations

import uuid

import boto3
import pytest

from tests.support.local_stack import LOCAL_CREDENTIALS, run_sql, wait_for  # noqa: F401  (tests import them)
from tests.support.local_stack_fixtures import data_api_url, kinesis, kinesis_url  # noqa: F401  (fixtures)


@pytest.fixture
def client(data_api_url):
    return boto3.client("redshift-data", endpoint_url=data_api_url, **LOCAL_CREDENTIALS)


@pytest.fixture
def fresh_database(postgres):
    return postgres.create_database(f"t_{uuid.uuid4().hex[:10]}").rsplit("/", 1)[1]
