"""Fixtures for the local Kinesis server tests: a backend with a clock the test moves,
a server on a free loopback port, and a boto3 client with the local credentials.

``backend`` and ``server`` have rate limits off (``KinesisSettings.unthrottled()``): the
functional tests read in tight loops. Throttling tests build their own with low limits."""
from __future__ import annotations

import pytest
from kinesis_helpers import make_client, start_server

from tests.support.clock import FakeClock

from emulator.kinesis import KinesisBackend, KinesisSettings


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def backend(clock: FakeClock) -> KinesisBackend:
    return KinesisBackend(KinesisSettings.unthrottled(), clock=clock)


@pytest.fixture
def server():
    srv = start_server()
    yield srv
    srv.stop()


@pytest.fixture
def kinesis(server):
    return make_client(server.url)
