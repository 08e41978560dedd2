"""Fixtures for the producer: a fake Kinesis client for unit tests, a real Kinesis server
(ours from ``emulator.kinesis`` and moto's, loopback, port 0) for round trips."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path


def _import_real_producer_package() -> None:
    # pytest puts tests/ on sys.path, where this folder (no __init__.py, on purpose) makes
    # "producer" a namespace package that shadows the real one: its __init__ never runs and
    # `from producer import run_producer` fails. Load the real package before any test does.
    # (A project-wide fix: `pythonpath = ["."]` under [tool.pytest.ini_options].)
    module = sys.modules.get("producer")
    if module is not None and getattr(module, "__file__", None):
        return
    sys.modules.pop("producer", None)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    try:
        importlib.import_module("producer")
    finally:
        sys.path.pop(0)


_import_real_producer_package()

import boto3
import pytest

from emulator.runtime import BackgroundServer

from producer_test_support import LOCAL_CREDENTIALS, REGION, create_stream


def _start_emulator():
    from emulator.kinesis import create_app

    server = BackgroundServer(create_app).start()
    return server.url, server.stop


def _start_moto():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}", server.stop


def _emulator_importable() -> bool:
    try:
        import emulator.kinesis  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="session")
def kinesis_servers():
    """Started lazily, at most one of each kind per session: kind -> URL."""
    started: dict[str, tuple[str, object]] = {}

    def url_for(kind: str) -> str:
        if kind not in started:
            started[kind] = (_start_emulator if kind == "emulator" else _start_moto)()
        return started[kind][0]

    yield url_for
    for _, stop in started.values():
        stop()


@pytest.fixture(scope="session", params=["emulator", "moto"])
def kinesis_endpoint(request, kinesis_servers):
    """A Kinesis-compatible server on loopback; tests using it run against both kinds."""
    if request.param == "emulator" and not _emulator_importable():
        pytest.skip("emulator.kinesis is not importable")
    return kinesis_servers(request.param)


@pytest.fixture(scope="session")
def local_kinesis_endpoint(kinesis_servers):
    """One Kinesis server: ours when importable, else moto's (for tests that need only one)."""
    return kinesis_servers("emulator" if _emulator_importable() else "moto")


@pytest.fixture
def kinesis_client(kinesis_endpoint):
    return boto3.client("kinesis", endpoint_url=kinesis_endpoint, region_name=REGION, **LOCAL_CREDENTIALS)


@pytest.fixture
def stream(kinesis_endpoint):
    """A fresh two-shard stream on ``kinesis_endpoint``."""
    return create_stream(kinesis_endpoint)


@pytest.fixture
def local_stream(local_kinesis_endpoint):
    """A fresh two-shard stream on ``local_kinesis_endpoint``."""
    return create_stream(local_kinesis_endpoint)


@pytest.fixture
def local_kinesis_client_factory(local_kinesis_endpoint):
    """(boto3 client, new_stream(shards) -> name) on ``local_kinesis_endpoint``."""
    client = boto3.client("kinesis", endpoint_url=local_kinesis_endpoint, region_name=REGION, **LOCAL_CREDENTIALS)
    return client, lambda shards=2: create_stream(local_kinesis_endpoint, shards)
