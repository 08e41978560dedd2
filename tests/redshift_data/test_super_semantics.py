"""Redshift's SUPER semantics, each expectation taken from Redshift's documentation of SUPER and
PartiQL ("Querying semistructured data", "Operators and functions", "SUPER type information
functions", "Limitations"), checked through the Data API with what a user sees: values,
column labels and typeNames.

Every ``test_super_*`` module runs against the local stack, and against a real warehouse too
when ``STREAMLOAD_CONTRACT_AWS=1`` (the same variables as ``test_contract``; never in CI). The
data is one table, ``streamload_contract_super_*``, created per module and dropped after.
"""
from __future__ import annotations

import uuid
from typing import NamedTuple

import boto3
import pytest

from .conftest import LOCAL_CREDENTIALS
from .test_contract import Warehouse, _aws_warehouse

# One row per document; id 1 is the randomuser-like record a streaming view holds.
DOCUMENTS = {
    1: '{"run_id": "abc", "seq": 5, "produced_at": 1733300000.25, "ok": true, "gender": "female", "nat": "NO", '
       '"name": {"first": "Ann", "last": "Lee"}, "tags": ["a", "b"], "price": 1.50, "status": "Good", '
       '"five_point_oh": 5.0, "day": "2001-09-08", "nothing": null}',
    2: '{"run_id": "def", "seq": 7, "gender": "male", "nat": "FR", "name": {"first": "Bob"}, "tags": [], '
       '"ok": false}',
    3: '{"run_id": "ghi", "seq": "5", "gender": "female", "nat": "NO", "name": "Cy", "tags": ["c"]}',
}


class Column(NamedTuple):
    label: str
    type_name: str


@pytest.fixture(scope="module", params=["local", "aws"])
def warehouse(request):
    if request.param == "aws":
        return _aws_warehouse()
    client = boto3.client("redshift-data", endpoint_url=request.getfixturevalue("data_api_url"), **LOCAL_CREDENTIALS)
    return Warehouse(client, {"Database": "dev", "WorkgroupName": "local"})


@pytest.fixture(scope="module")
def super_table(warehouse):
    name = f"streamload_contract_super_{uuid.uuid4().hex[:10]}"
    rows = ", ".join(f"({key}, JSON_PARSE('{doc}'))" for key, doc in DOCUMENTS.items())
    for sql in (f"CREATE TABLE {name} (id int, payload SUPER)", f"INSERT INTO {name} VALUES {rows}"):
        described = warehouse.run(sql)
        assert described["Status"] == "FINISHED", described.get("Error")
    yield name
    warehouse.run(f"DROP TABLE IF EXISTS {name}")


def query(warehouse: Warehouse, sql: str, **kwargs) -> tuple[list[list], list[Column]]:
    """Rows as plain values (None for NULL) and the columns' label and typeName."""
    described = warehouse.run(sql, **kwargs)
    assert described["Status"] == "FINISHED", described.get("Error")
    result = warehouse.client.get_statement_result(Id=described["Id"])
    rows = [[None if "isNull" in f else next(iter(f.values())) for f in row] for row in result["Records"]]
    columns = [Column(c["label"], c["typeName"]) for c in result["ColumnMetadata"]]
    assert [c["name"] for c in result["ColumnMetadata"]] == [c.label for c in columns]
    return rows, columns


def failure(warehouse: Warehouse, sql: str, **kwargs) -> str:
    described = warehouse.run(sql, **kwargs)
    assert described["Status"] == "FAILED", f"expected a failure, got {described['Status']}"
    return described["Error"]
