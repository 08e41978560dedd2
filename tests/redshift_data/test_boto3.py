"""boto3 round trips against the local Data API on port 0 (PostgreSQL behind it)."""
from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from .conftest import run_sql, wait_for


def test_select_returns_redshift_field_types_when_finished(client):
    described = run_sql(client, "SELECT 42::int8 AS n, 1.5::float8 AS d, 12.50::numeric(10,2) AS price, "
                                "true AS ok, NULL::int AS nothing, 'hi'::varchar AS s, "
                                "'2024-01-02 03:04:05.5'::timestamp AS ts, JSON_PARSE('{\"a\": \"x\"}') AS sup")
    assert described["Status"] == "FINISHED" and described["HasResultSet"] is True
    assert described["ResultRows"] == 1 and described["Duration"] > 0 and described["RedshiftPid"] > 0
    result = client.get_statement_result(Id=described["Id"])
    assert result["TotalNumRows"] == 1
    assert result["Records"] == [[
        {"longValue": 42}, {"doubleValue": 1.5}, {"stringValue": "12.50"}, {"booleanValue": True},
        {"isNull": True}, {"stringValue": "hi"}, {"stringValue": "2024-01-02 03:04:05.500000"},
        {"stringValue": '{"a":"x"}'},
    ]]
    columns = {c["name"]: c["typeName"] for c in result["ColumnMetadata"]}
    assert columns == {"n": "int8", "d": "float8", "price": "numeric", "ok": "bool", "nothing": "int4",
                       "s": "varchar", "ts": "timestamp", "sup": "super"}


def test_failing_sql_ends_failed_with_postgres_error_when_table_missing(client):
    described = run_sql(client, "SELECT * FROM no_such_table_here")
    assert described["Status"] == "FAILED"
    assert 'relation "no_such_table_here" does not exist' in described["Error"]


def test_get_result_is_resource_not_found_when_statement_has_no_result_set(client):
    table = f"t_{uuid.uuid4().hex[:8]}"
    described = run_sql(client, f"CREATE TABLE {table} (id int)")
    assert described["Status"] == "FINISHED" and described["HasResultSet"] is False
    with pytest.raises(ClientError) as info:
        client.get_statement_result(Id=described["Id"])
    # AWS's recorded answer: HTTP 400 ResourceNotFoundException.
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.response["Error"]["Message"] == \
        "Query does not have result. Please check query status with DescribeStatement."


def test_unknown_id_is_resource_not_found_when_described(client):
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_statement(Id=str(uuid.uuid4()))


def test_execute_is_validation_error_when_no_cluster_or_workgroup(client):
    with pytest.raises(client.exceptions.ValidationException):
        client.execute_statement(Sql="SELECT 1", Database="dev")


def test_parameters_are_bound_when_given(client):
    table = f"t_{uuid.uuid4().hex[:8]}"
    run_sql(client, f"CREATE TABLE {table} (id int, name varchar(20))")
    inserted = run_sql(client, f"INSERT INTO {table} VALUES (:id, :name)",
                       Parameters=[{"name": "id", "value": "7"}, {"name": "name", "value": "Ann"}])
    assert inserted["Status"] == "FINISHED" and inserted["ResultRows"] == 1
    described = run_sql(client, f"SELECT name FROM {table} WHERE id = :id", Parameters=[{"name": "id", "value": "7"}])
    assert client.get_statement_result(Id=described["Id"])["Records"] == [[{"stringValue": "Ann"}]]


def test_cancel_aborts_statement_when_running(client):
    started = client.execute_statement(Sql="SELECT pg_sleep(30)", Database="dev", WorkgroupName="local")
    for _ in range(200):
        if client.describe_statement(Id=started["Id"])["Status"] == "STARTED":
            break
    assert client.cancel_statement(Id=started["Id"])["Status"] is True
    assert wait_for(client, started["Id"], timeout_s=5)["Status"] == "ABORTED"


def test_list_statements_finds_statement_when_filtered_by_name(client):
    name = f"probe-{uuid.uuid4().hex[:8]}"
    run_sql(client, "SELECT 1", StatementName=name)
    listed = client.list_statements(StatementName=name, Status="FINISHED")["Statements"]
    assert [s["StatementName"] for s in listed] == [name]


def test_paginator_returns_every_row_when_result_spans_pages(client, monkeypatch):
    import emulator.redshift_data.models as models

    monkeypatch.setattr(models, "RESULT_PAGE_MAX_BYTES", 200)
    described = run_sql(client, "SELECT g AS n FROM generate_series(1, 50) AS g")
    pages = list(client.get_paginator("get_statement_result").paginate(Id=described["Id"]))
    assert len(pages) > 1
    assert [r[0]["longValue"] for p in pages for r in p["Records"]] == list(range(1, 51))
