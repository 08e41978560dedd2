"""Fixtures for the poison-record tests: an in-process Kinesis and Data API on the shared
PostgreSQL (the fault runs build their own breakable stack, see fault_stack.py)."""
from __future__ import annotations

import uuid

import pytest

from tests.support.local_stack_fixtures import (client, data_api_url, fresh_database, kinesis,  # noqa: F401
                                                kinesis_url)


@pytest.fixture
def redshift(client):  # the poison-record tests' name for it
    return client


@pytest.fixture
def database(fresh_database):
    return fresh_database


@pytest.fixture
def stream(kinesis):
    name = f"poison-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    return name
