"""Contract tests: what a boto3 ``redshift-data`` user sees, written so the same assertions run
against a real Redshift.

By default they run against the local server only. ``STREAMLOAD_CONTRACT_AWS=1`` adds a run
against the account in the default credential chain (region from ``AWS_DEFAULT_REGION``,
default us-east-1) and the warehouse named by ``STREAMLOAD_CONTRACT_WORKGROUP`` (Serverless) or
``STREAMLOAD_CONTRACT_CLUSTER`` (+ ``STREAMLOAD_CONTRACT_DB_USER``), database
``STREAMLOAD_CONTRACT_DATABASE`` (default ``dev``). They create only temporary tables and
``streamload_contract_*`` tables they drop again; a run costs seconds of warehouse time.
Never in CI.
"""
from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass

import boto3
import pytest
from botocore.exceptions import ClientError

from .conftest import LOCAL_CREDENTIALS

TERMINAL = ("FINISHED", "FAILED", "ABORTED")


@dataclass
class Warehouse:
    client: object
    target: dict  # WorkgroupName | ClusterIdentifier (+ DbUser), Database

    def start(self, sql: str, **kwargs) -> str:
        return self.client.execute_statement(Sql=sql, **self.target, **kwargs)["Id"]

    def wait(self, statement_id: str, timeout_s: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while True:
            described = self.client.describe_statement(Id=statement_id)
            if described["Status"] in TERMINAL or time.monotonic() > deadline:
                return described
            time.sleep(0.05)

    def run(self, sql: str, **kwargs) -> dict:
        return self.wait(self.start(sql, **kwargs))

    def values(self, sql: str, **kwargs) -> list[list]:
        described = self.run(sql, **kwargs)
        assert described["Status"] == "FINISHED", described.get("Error")
        records = self.client.get_statement_result(Id=described["Id"])["Records"]
        return [[None if "isNull" in f else next(iter(f.values())) for f in row] for row in records]


def _aws_warehouse() -> Warehouse:
    if os.environ.get("STREAMLOAD_CONTRACT_AWS") != "1":
        pytest.skip("set STREAMLOAD_CONTRACT_AWS=1 (and STREAMLOAD_CONTRACT_WORKGROUP) to run against real AWS")
    target = {"Database": os.environ.get("STREAMLOAD_CONTRACT_DATABASE", "dev")}
    if os.environ.get("STREAMLOAD_CONTRACT_WORKGROUP"):
        target["WorkgroupName"] = os.environ["STREAMLOAD_CONTRACT_WORKGROUP"]
    elif os.environ.get("STREAMLOAD_CONTRACT_CLUSTER"):
        target["ClusterIdentifier"] = os.environ["STREAMLOAD_CONTRACT_CLUSTER"]
        if os.environ.get("STREAMLOAD_CONTRACT_DB_USER"):
            target["DbUser"] = os.environ["STREAMLOAD_CONTRACT_DB_USER"]
    else:
        pytest.fail("STREAMLOAD_CONTRACT_AWS=1 needs STREAMLOAD_CONTRACT_WORKGROUP or STREAMLOAD_CONTRACT_CLUSTER")
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    return Warehouse(boto3.client("redshift-data", region_name=region), target)


@pytest.fixture(params=["local", "aws"])
def warehouse(request):
    if request.param == "aws":
        return _aws_warehouse()
    data_api_url = request.getfixturevalue("data_api_url")
    client = boto3.client("redshift-data", endpoint_url=data_api_url, **LOCAL_CREDENTIALS)
    return Warehouse(client, {"Database": "dev", "WorkgroupName": "local"})


@pytest.fixture
def contract_table(warehouse):
    name = f"streamload_contract_{uuid.uuid4().hex[:10]}"
    yield name
    warehouse.run(f"DROP TABLE IF EXISTS {name}")


def error_code(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def test_contract_select_returns_typed_fields_and_metadata(warehouse):
    described = warehouse.run("SELECT 42::int8 AS n, 1.5::float8 AS d, 12.50::numeric(10,2) AS price, true AS ok, "
                              "NULL::int AS nothing, 'hi'::varchar AS s")
    assert described["Status"] == "FINISHED" and described["HasResultSet"] and described["ResultRows"] == 1
    assert described["Duration"] > 0 and described["RedshiftPid"] > 0
    result = warehouse.client.get_statement_result(Id=described["Id"])
    assert result["Records"] == [[{"longValue": 42}, {"doubleValue": 1.5}, {"stringValue": "12.50"},
                                  {"booleanValue": True}, {"isNull": True}, {"stringValue": "hi"}]]
    assert [c["name"] for c in result["ColumnMetadata"]] == ["n", "d", "price", "ok", "nothing", "s"]
    assert result["TotalNumRows"] == 1


def test_contract_errors_have_aws_codes(warehouse):
    failed = warehouse.run("SELECT * FROM streamload_contract_no_such_table")
    assert failed["Status"] == "FAILED"
    assert 'relation "streamload_contract_no_such_table" does not exist' in failed["Error"]
    assert error_code(lambda: warehouse.client.describe_statement(Id=str(uuid.uuid4()))) == \
        "ResourceNotFoundException"
    ddl = warehouse.run("CREATE TEMP TABLE contract_t (x int)")
    assert ddl["HasResultSet"] is False
    assert error_code(lambda: warehouse.client.get_statement_result(Id=ddl["Id"])) == "ResourceNotFoundException"


def test_contract_super_navigation_and_case_rules(warehouse):
    doc = "JSON_PARSE('{\"Name\": {\"first\": \"Ann\"}, \"name\": {\"first\": \"low\"}, \"tags\": [\"a\", \"b\"]}')"
    rows = warehouse.values(f"SELECT p.name.first, p.\"Name\".first, p.tags[1], p.nope.deeper "
                            f"FROM (SELECT {doc} AS p) AS t")
    assert rows == [['"low"', '"low"', '"b"', None]]
    opened = warehouse.client.execute_statement(Sql="SET enable_case_sensitive_identifier TO true",
                                                SessionKeepAliveSeconds=60, **warehouse.target)
    assert warehouse.wait(opened["Id"])["Status"] == "FINISHED"
    kept = warehouse.client.execute_statement(Sql=f"SELECT p.\"Name\".first FROM (SELECT {doc} AS p) AS t",
                                              SessionId=opened["SessionId"])
    assert warehouse.wait(kept["Id"])["Status"] == "FINISHED"
    assert warehouse.client.get_statement_result(Id=kept["Id"])["Records"] == [[{"stringValue": '"Ann"'}]]


def test_contract_batch_is_one_transaction_with_numbered_sub_statements(warehouse, contract_table):
    assert warehouse.run(f"CREATE TABLE {contract_table} (id int)")["Status"] == "FINISHED"
    ok = warehouse.client.batch_execute_statement(
        Sqls=[f"INSERT INTO {contract_table} VALUES (1)", f"SELECT count(*) FROM {contract_table}"], **warehouse.target)
    described = warehouse.wait(ok["Id"])
    assert [s["Id"] for s in described["SubStatements"]] == [f"{ok['Id']}:1", f"{ok['Id']}:2"]
    assert warehouse.client.get_statement_result(Id=f"{ok['Id']}:2")["Records"] == [[{"longValue": 1}]]
    failing = warehouse.client.batch_execute_statement(
        Sqls=[f"INSERT INTO {contract_table} VALUES (2)", "SELECT * FROM streamload_contract_no_such_table"],
        **warehouse.target)
    assert warehouse.wait(failing["Id"])["Status"] == "FAILED"
    assert warehouse.values(f"SELECT count(*) FROM {contract_table}") == [[1]]


def test_contract_csv_result_through_v2(warehouse):
    statement_id = warehouse.start("SELECT 1 AS a, 'x,y' AS b", ResultFormat="CSV")
    assert warehouse.wait(statement_id)["Status"] == "FINISHED"
    result = warehouse.client.get_statement_result_v2(Id=statement_id)
    assert result["ResultFormat"] == "CSV" and "".join(r["CSVRecords"] for r in result["Records"]).strip() == \
        '1,"x,y"'


def test_contract_session_keeps_temp_tables(warehouse):
    opened = warehouse.client.execute_statement(Sql="CREATE TEMP TABLE contract_s AS SELECT 5 AS n",
                                                SessionKeepAliveSeconds=60, **warehouse.target)
    assert opened["SessionId"] and warehouse.wait(opened["Id"])["Status"] == "FINISHED"
    again = warehouse.client.execute_statement(Sql="SELECT n FROM contract_s", SessionId=opened["SessionId"])
    assert warehouse.wait(again["Id"])["Status"] == "FINISHED"
    assert warehouse.client.get_statement_result(Id=again["Id"])["Records"] == [[{"longValue": 5}]]


def test_contract_list_statements_finds_named_statement(warehouse):
    name = f"streamload-contract-{uuid.uuid4().hex[:8]}"
    warehouse.run("SELECT 1", StatementName=name)
    listed = warehouse.client.list_statements(StatementName=name, Status="FINISHED")["Statements"]
    assert [s["StatementName"] for s in listed] == [name]


def test_contract_svv_external_schemas_is_queryable(warehouse):
    described = warehouse.run("SELECT schemaname, eskind, esoptions FROM svv_external_schemas LIMIT 1")
    assert described["Status"] == "FINISHED", described.get("Error")
