"""Sessions, the service quotas and result retention, through boto3 against servers with
low limits and a fake wall clock (so "24 hours later" takes no time)."""
from __future__ import annotations

import time

import boto3
import pytest

from emulator.redshift_data import RedshiftDataSettings, create_app
from emulator.runtime import BackgroundServer
from tests.support.clock import FakeClock

from .conftest import LOCAL_CREDENTIALS, wait_for


@pytest.fixture
def server_with(postgres):
    """``server_with(**settings) -> (client, clock)``; each server stops after the test."""
    servers = []

    def start(**overrides):
        clock = FakeClock(start=time.time())
        settings = RedshiftDataSettings(pg_dsn=postgres.dsn, auto_refresh_interval_s=0, **overrides)
        server = BackgroundServer(lambda: create_app(settings, clock=clock)).start()
        servers.append(server)
        return boto3.client("redshift-data", endpoint_url=server.url, **LOCAL_CREDENTIALS), clock

    yield start
    for server in servers:
        server.stop()


def execute(client, sql: str, **kwargs) -> dict:
    if "SessionId" not in kwargs:
        kwargs.update(Database="dev", WorkgroupName="local")
    return client.execute_statement(Sql=sql, **kwargs)


def test_session_keeps_temp_table_between_statements_when_session_id_reused(server_with):
    client, _ = server_with()
    opened = execute(client, "CREATE TEMP TABLE scratch AS SELECT 7 AS n", SessionKeepAliveSeconds=300)
    assert opened["SessionId"] and wait_for(client, opened["Id"])["Status"] == "FINISHED"
    again = execute(client, "SELECT n FROM scratch", SessionId=opened["SessionId"])
    described = wait_for(client, again["Id"])
    assert described["Status"] == "FINISHED" and described["SessionId"] == opened["SessionId"]
    assert described["RedshiftPid"] == client.describe_statement(Id=opened["Id"])["RedshiftPid"]
    assert client.get_statement_result(Id=again["Id"])["Records"] == [[{"longValue": 7}]]
    outside = wait_for(client, execute(client, "SELECT n FROM scratch")["Id"])
    assert outside["Status"] == "FAILED" and "does not exist" in outside["Error"]


def test_session_is_gone_when_keep_alive_has_passed(server_with):
    client, clock = server_with()
    opened = execute(client, "SELECT 1", SessionKeepAliveSeconds=60)
    wait_for(client, opened["Id"])
    clock.advance(59)
    wait_for(client, execute(client, "SELECT 2", SessionId=opened["SessionId"])["Id"])  # renews the keep-alive
    clock.advance(61)
    with pytest.raises(client.exceptions.ValidationException, match="does not exist or has expired"):
        execute(client, "SELECT 3", SessionId=opened["SessionId"])


def test_session_id_with_database_is_validation_error_when_both_given(server_with):
    client, _ = server_with()
    opened = execute(client, "SELECT 1", SessionKeepAliveSeconds=60)
    with pytest.raises(client.exceptions.ValidationException, match="SessionId cannot be specified together"):
        client.execute_statement(Sql="SELECT 1", SessionId=opened["SessionId"], Database="dev")


def test_new_session_is_refused_when_session_quota_reached_until_one_expires(server_with):
    client, clock = server_with(max_active_sessions=1)
    first = execute(client, "SELECT 1", SessionKeepAliveSeconds=60)
    wait_for(client, first["Id"])
    with pytest.raises(client.exceptions.ActiveSessionsExceededException):
        execute(client, "SELECT 1", SessionKeepAliveSeconds=60)
    assert wait_for(client, execute(client, "SELECT 1")["Id"])["Status"] == "FINISHED"  # no session: fine
    clock.advance(61)
    assert execute(client, "SELECT 1", SessionKeepAliveSeconds=60)["SessionId"] != first["SessionId"]


def test_statement_is_refused_when_active_statement_quota_reached_until_one_ends(server_with):
    client, _ = server_with(max_active_statements=1)
    sleeper = execute(client, "SELECT pg_sleep(30)")
    with pytest.raises(client.exceptions.ActiveStatementsExceededException, match=r"quota \(1\)"):
        execute(client, "SELECT 1")
    client.cancel_statement(Id=sleeper["Id"])
    assert wait_for(client, sleeper["Id"])["Status"] == "ABORTED"
    assert wait_for(client, execute(client, "SELECT 1")["Id"])["Status"] == "FINISHED"


def test_result_is_gone_when_retention_has_passed(server_with):
    client, clock = server_with(result_retention_s=3600)
    old = execute(client, "SELECT 1", StatementName="retention-old")
    wait_for(client, old["Id"])
    clock.advance(3000)
    young = execute(client, "SELECT 2", StatementName="retention-young")
    wait_for(client, young["Id"])
    clock.advance(700)  # old ended 3700 s ago, young 700 s ago
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_statement_result(Id=old["Id"])
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_statement(Id=old["Id"])
    assert client.get_statement_result(Id=young["Id"])["Records"] == [[{"longValue": 2}]]
    names = [s["StatementName"] for s in client.list_statements(StatementName="retention-")["Statements"]]
    assert names == ["retention-young"]
