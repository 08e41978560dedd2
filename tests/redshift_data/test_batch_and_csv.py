"""BatchExecuteStatement (one transaction, sub-statement ids) and ResultFormat CSV / GetStatementResultV2."""
from __future__ import annotations

import csv
import io

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from .conftest import LOCAL_CREDENTIALS, run_sql, wait_for


def count_rows(client, table: str, database: str) -> int:
    described = run_sql(client, f"SELECT count(*) FROM {table}", database=database)
    assert described["Status"] == "FINISHED", described.get("Error")
    return client.get_statement_result(Id=described["Id"])["Records"][0][0]["longValue"]


def test_batch_runs_sub_statements_with_numbered_ids_when_all_succeed(client, fresh_database):
    started = client.batch_execute_statement(
        Sqls=["CREATE TABLE b (id int)", "INSERT INTO b VALUES (1), (2)", "SELECT id FROM b ORDER BY id"],
        Database=fresh_database, WorkgroupName="local", StatementName="batch-ok")
    described = wait_for(client, started["Id"])
    assert described["Status"] == "FINISHED" and described["HasResultSet"] is True
    subs = described["SubStatements"]
    assert [s["Id"] for s in subs] == [f"{started['Id']}:{i}" for i in (1, 2, 3)]
    assert [s["Status"] for s in subs] == ["FINISHED"] * 3
    assert [s["HasResultSet"] for s in subs] == [False, False, True]
    assert subs[1]["ResultRows"] == 2 and subs[1]["QueryString"] == "INSERT INTO b VALUES (1), (2)"
    assert client.describe_statement(Id=subs[2]["Id"])["Status"] == "FINISHED"
    rows = client.get_statement_result(Id=subs[2]["Id"])["Records"]
    assert rows == [[{"longValue": 1}], [{"longValue": 2}]]
    listed = client.list_statements(StatementName="batch-ok")["Statements"]
    assert listed[0]["IsBatchStatement"] is True and len(listed[0]["QueryStrings"]) == 3


def test_batch_rolls_back_every_sub_statement_when_one_fails(client, fresh_database):
    run_sql(client, "CREATE TABLE kept (id int)", database=fresh_database)
    started = client.batch_execute_statement(
        Sqls=["INSERT INTO kept VALUES (1)", "CREATE TABLE made_in_batch (x int)", "SELECT * FROM no_such_table",
              "INSERT INTO kept VALUES (2)"],
        Database=fresh_database, WorkgroupName="local")
    described = wait_for(client, started["Id"])
    assert described["Status"] == "FAILED" and "no_such_table" in described["Error"]
    assert [s["Status"] for s in described["SubStatements"]] == ["FINISHED", "FINISHED", "FAILED", "ABORTED"]
    assert count_rows(client, "kept", fresh_database) == 0
    missing = run_sql(client, "SELECT * FROM made_in_batch", database=fresh_database)
    assert missing["Status"] == "FAILED" and "does not exist" in missing["Error"]


def test_batch_is_validation_error_when_sqls_empty_or_too_many(data_api_url):
    unchecked = boto3.client("redshift-data", endpoint_url=data_api_url, config=Config(parameter_validation=False),
                             **LOCAL_CREDENTIALS)
    for sqls in ([], ["SELECT 1"] * 41):
        with pytest.raises(unchecked.exceptions.ValidationException, match=r"Member must have length (greater|less) than or equal to (1|40)"):
            unchecked.batch_execute_statement(Sqls=sqls, Database="dev", WorkgroupName="local")


def test_csv_result_is_returned_by_v2_when_result_format_is_csv(client):
    started = client.execute_statement(
        Sql="SELECT g AS n, CASE WHEN g = 2 THEN NULL ELSE 'a,\"b\"' END AS s FROM generate_series(1, 3) AS g",
        Database="dev", WorkgroupName="local", ResultFormat="CSV")
    described = wait_for(client, started["Id"])
    assert described["Status"] == "FINISHED" and described["ResultFormat"] == "CSV"
    result = client.get_statement_result_v2(Id=started["Id"])
    assert result["ResultFormat"] == "CSV" and result["TotalNumRows"] == 3
    assert [c["name"] for c in result["ColumnMetadata"]] == ["n", "s"]
    text = "".join(r["CSVRecords"] for r in result["Records"])
    assert list(csv.reader(io.StringIO(text))) == [["1", 'a,"b"'], ["2", ""], ["3", 'a,"b"']]


def test_result_format_mismatch_is_validation_error_when_fetched_with_wrong_operation(client):
    as_csv = client.execute_statement(Sql="SELECT 1", Database="dev", WorkgroupName="local", ResultFormat="CSV")
    as_json = client.execute_statement(Sql="SELECT 1", Database="dev", WorkgroupName="local")
    wait_for(client, as_csv["Id"]), wait_for(client, as_json["Id"])
    with pytest.raises(ClientError, match="GetStatementResultV2"):
        client.get_statement_result(Id=as_csv["Id"])
    with pytest.raises(ClientError, match="use GetStatementResult"):
        client.get_statement_result_v2(Id=as_json["Id"])


def test_csv_pages_cover_every_row_when_result_spans_pages(client, monkeypatch):
    import emulator.redshift_data.models as models

    monkeypatch.setattr(models, "RESULT_PAGE_MAX_BYTES", 100)
    started = client.execute_statement(Sql="SELECT g FROM generate_series(1, 60) AS g", Database="dev",
                                       WorkgroupName="local", ResultFormat="CSV")
    wait_for(client, started["Id"])
    pages = list(client.get_paginator("get_statement_result_v2").paginate(Id=started["Id"]))
    assert len(pages) > 1
    text = "".join(r["CSVRecords"] for page in pages for r in page["Records"])
    assert [int(line) for line in text.split()] == list(range(1, 61))
