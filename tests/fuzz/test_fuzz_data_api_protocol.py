"""Fuzzing the local Redshift Data API's request parsing: malformed JSON, wrong types,
huge values and unknown fields get an AWS-style 4xx error, never a 500 or a traceback,
and the server keeps serving."""
from __future__ import annotations

import json
import time

import pytest
from fuzz_helpers import JsonProtocolFuzz, SignedClient, assert_aws_style, operation_members

from tests.support.local_stack import data_api_server

OPERATIONS = operation_members("redshift-data")
SERVED = ["ExecuteStatement", "BatchExecuteStatement", "DescribeStatement", "GetStatementResult",
          "GetStatementResultV2", "CancelStatement", "ListStatements", "ListDatabases", "ListSchemas",
          "ListTables", "DescribeTable"]
TARGET = "RedshiftData."


@pytest.fixture(scope="module")
def client(postgres):
    with data_api_server(postgres.dsn) as url:
        http = SignedClient(url, "redshift-data")
        yield http
        http.close()


class TestDataApiJsonProtocol(JsonProtocolFuzz):
    target, served, operations = TARGET, SERVED, OPERATIONS


def test_oversize_body_gets_aws_4xx_when_larger_than_the_server_accepts(client):
    body = json.dumps({"Sql": "SELECT '" + "x" * 3_000_000 + "'", "Database": "dev", "WorkgroupName": "local"})
    assert_aws_style(*client.post(TARGET + "ExecuteStatement", body.encode()))


def test_server_still_runs_statements_after_fuzzing_when_a_valid_one_comes(client):
    status, _, payload = client.post(TARGET + "ExecuteStatement",
                                     b'{"Sql": "SELECT 1", "Database": "dev", "WorkgroupName": "local"}')
    assert status == 200, payload
    statement_id = json.loads(payload)["Id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        described = json.loads(client.post(TARGET + "DescribeStatement", json.dumps({"Id": statement_id}).encode())[2])
        if described["Status"] in ("FINISHED", "FAILED", "ABORTED"):
            break
        time.sleep(0.02)
    assert described["Status"] == "FINISHED", described
