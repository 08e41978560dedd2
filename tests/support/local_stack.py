"""The local Kinesis and Data API as the tests start them (in-process, loopback, port 0),
and the Data API round trip they all use: execute, wait for a terminal state, read rows."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from emulator.kinesis import KinesisBackend, KinesisSettings
from emulator.kinesis import create_app as create_kinesis_app
from emulator.redshift_data import RedshiftDataSettings
from emulator.redshift_data import create_app as create_data_api_app
from emulator.runtime import BackgroundServer

__all__ = ["LOCAL_CREDENTIALS", "TERMINAL", "start_kinesis", "data_api_server", "wait_for", "run_sql",
           "result_rows"]

# The local stack's own keys, as boto3 client arguments.
LOCAL_CREDENTIALS = {"aws_access_key_id": "streamload-local", "aws_secret_access_key": "streamload-local",
                     "region_name": "us-east-1"}
TERMINAL = ("FINISHED", "FAILED", "ABORTED")


def start_kinesis(backend: KinesisBackend | None = None) -> BackgroundServer:
    """A Kinesis server on a free loopback port; without ``backend``, one with rate limits off."""
    chosen = backend if backend is not None else KinesisBackend(KinesisSettings.unthrottled())

    async def make_app():
        return await create_kinesis_app(chosen)

    return BackgroundServer(make_app).start()


@contextmanager
def data_api_server(pg_dsn: str, kinesis_url: str | None = None) -> Iterator[str]:
    """The Data API's URL over ``pg_dsn``, views refreshed only when asked, stopped on exit."""
    settings = RedshiftDataSettings(pg_dsn=pg_dsn, kinesis_endpoint_url=kinesis_url, auto_refresh_interval_s=0)
    with BackgroundServer(lambda: create_data_api_app(settings)) as server:
        yield server.url


# A bound only a broken statement reaches: refreshes over poison records take seconds.
STATEMENT_TIMEOUT_S = 30.0


def wait_for(client, statement_id: str, timeout_s: float = STATEMENT_TIMEOUT_S) -> dict:
    """DescribeStatement once the statement is FINISHED, FAILED or ABORTED (bounded wait)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        described = client.describe_statement(Id=statement_id)
        if described["Status"] in TERMINAL:
            return described
        time.sleep(0.02)
    raise AssertionError(f"statement {statement_id} still {described['Status']} after {timeout_s}s")


def run_sql(client, sql: str, database: str = "dev", timeout_s: float = STATEMENT_TIMEOUT_S, **kwargs) -> dict:
    """Execute ``sql`` on the local workgroup and wait for it; returns DescribeStatement."""
    started = client.execute_statement(Sql=sql, Database=database, WorkgroupName="local", **kwargs)
    return wait_for(client, started["Id"], timeout_s)


def result_rows(client, sql: str, database: str = "dev") -> list[list]:
    """The rows ``sql`` returns, each cell's value (None for NULL); the statement must finish."""
    described = run_sql(client, sql, database)
    assert described["Status"] == "FINISHED", described.get("Error")
    records = client.get_statement_result(Id=described["Id"])["Records"]
    return [[None if cell.get("isNull") else next(iter(cell.values())) for cell in record] for record in records]
