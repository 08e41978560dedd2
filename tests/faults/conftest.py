"""Fixtures for the poison-record tests: an in-process Kinesis and Data API on the shared
PostgreSQL (the fault runs build their own breakable stack, see fault_stack.py)."""
from __future__ import annotations

import uuid

import boto3
import pytest

from tests.support.local_stack import LOCAL_CREDENTIALS as LOCAL
from tests.support.local_stack import result_rows as rows
from tests.support.local_stack import run_sql
from tests.support.local_stack_fixtures import data_api_url, kinesis, kinesis_url  # noqa: F401  (fixtures)

__all__ = ["LOCAL", "run_sql", "rows"]  # what the tests here import


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
