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


def super_table_of(warehouse: Warehouse, documents: dict[int, str]):
    """A ``streamload_contract_super_*`` table (id int, payload SUPER) holding ``documents``; dropped after."""
    name = f"streamload_contract_super_{uuid.uuid4().hex[:10]}"
    rows = ", ".join(f"({key}, JSON_PARSE('{doc}'))" for key, doc in documents.items())
    for sql in (f"CREATE TABLE {name} (id int, payload SUPER)", f"INSERT INTO {name} VALUES {rows}"):
        described = warehouse.run(sql)
        assert described["Status"] == "FINISHED", described.get("Error")
    yield name
    warehouse.run(f"DROP TABLE IF EXISTS {name}")


@pytest.fixture(scope="module")
def super_table(warehouse):
    yield from super_table_of(warehouse, DOCUMENTS)


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


def ids(rows: list[list]) -> list[int]:
    return [row[0] for row in rows]


# -- navigation (lax mode) -------------------------------------------------------------------
def test_navigation_is_labelled_by_its_last_key_and_typed_super_when_selected(warehouse, super_table):
    rows, columns = query(warehouse, f"SELECT payload.name.first, payload.gender, payload.seq, payload.ok "
                                     f"FROM {super_table} WHERE id = 1")
    assert rows == [['"Ann"', '"female"', "5", "true"]]
    assert columns == [Column("first", "super"), Column("gender", "super"), Column("seq", "super"),
                       Column("ok", "super")]


def test_navigation_gives_null_when_path_is_missing_or_walks_into_a_scalar(warehouse, super_table):
    rows, _ = query(warehouse, f"SELECT payload.nope.deeper, payload.name.first.x, payload.tags[5], "
                               f"payload.gender[0], payload.tags.x FROM {super_table} WHERE id = 1")
    assert rows == [[None, None, None, None, None]]


def test_bracket_and_dot_navigation_mix_when_array_holds_objects(warehouse):
    rows, columns = query(warehouse, "SELECT c.c_orders[0].o_orderkey, c.c_orders[1][1] FROM "
                                     "(SELECT JSON_PARSE('[{\"o_orderkey\": 3020007}, [1]]') AS c_orders) AS c")
    assert rows == [["3020007", None]]
    assert columns[0] == Column("o_orderkey", "super")


# -- comparisons (dynamic typing) ------------------------------------------------------------
def test_super_string_equals_varchar_literal_when_compared(warehouse, super_table):
    rows, _ = query(warehouse, f"SELECT COUNT(*) FROM {super_table} WHERE payload.gender = 'female'")
    assert rows == [[2]]


def test_super_number_equals_number_and_not_its_string_when_compared(warehouse, super_table):
    # id 3 holds seq "5" (a string): of another type, so not equal; false, not NULL (NOT keeps it)
    rows, _ = query(warehouse, f"SELECT id FROM {super_table} WHERE payload.seq = 5 ORDER BY id")
    assert ids(rows) == [1]
    rows, _ = query(warehouse, f"SELECT id FROM {super_table} WHERE NOT (payload.seq = 5) ORDER BY id")
    assert ids(rows) == [2, 3]


def test_super_equals_named_parameter_when_parameter_is_a_string(warehouse, super_table):
    rows, _ = query(warehouse, f"SELECT id FROM {super_table} WHERE payload.nat = :nat ORDER BY id",
                    Parameters=[{"name": "nat", "value": "NO"}])
    assert ids(rows) == [1, 3]


def test_super_range_comparison_is_null_when_types_differ(warehouse, super_table):
    rows, columns = query(warehouse, f"SELECT id, payload.seq < 6 AS small FROM {super_table} ORDER BY id")
    assert rows == [[1, True], [2, False], [3, None]]
    assert columns[1] == Column("small", "bool")


def test_super_in_list_matches_by_type_and_value_when_filtering(warehouse, super_table):
    rows, _ = query(warehouse, f"SELECT id FROM {super_table} WHERE payload.nat IN ('FR', 'US') ORDER BY id")
    assert ids(rows) == [2]
    rows, _ = query(warehouse, f"SELECT id FROM {super_table} WHERE payload.seq IN (5, 6) ORDER BY id")
    assert ids(rows) == [1]


def test_super_like_matches_strings_when_filtering(warehouse, super_table):
    rows, _ = query(warehouse, f"SELECT id FROM {super_table} WHERE payload.name.first LIKE 'A%' ORDER BY id")
    assert ids(rows) == [1]


def test_super_is_null_holds_for_a_missing_path_when_filtering(warehouse, super_table):
    rows, _ = query(warehouse, f"SELECT id FROM {super_table} WHERE payload.name.first IS NULL ORDER BY id")
    assert ids(rows) == [3]
    rows, _ = query(warehouse, f"SELECT COUNT(*) FROM {super_table} WHERE payload.tags[0] IS NOT NULL")
    assert rows == [[2]]


def test_super_boolean_is_a_predicate_when_used_in_where(warehouse, super_table):
    rows, _ = query(warehouse, f"SELECT id FROM {super_table} WHERE payload.ok ORDER BY id")
    assert ids(rows) == [1]


# -- GROUP BY and ORDER BY -------------------------------------------------------------------
def test_group_by_and_order_by_navigation_when_aggregating(warehouse, super_table):
    rows, columns = query(warehouse, f"SELECT payload.gender, COUNT(*) FROM {super_table} "
                                     f"GROUP BY payload.gender ORDER BY payload.gender")
    assert rows == [['"female"', 2], ['"male"', 1]]
    assert columns == [Column("gender", "super"), Column("count", "int8")]


def test_order_by_super_ranks_types_boolean_number_string_array_object_when_types_mix(warehouse):
    values = ["'\"aws\"'", "'1'", "'[1,\"abc\",null]'", "'-2.5'", "'\"amazon\"'", "'true'", "'{\"a\":1}'"]
    union = " UNION ALL ".join(f"SELECT JSON_PARSE({v}) AS r_nations" for v in values)
    rows, _ = query(warehouse, f"SELECT r_nations FROM ({union}) AS region_nations ORDER BY r_nations")
    assert [row[0] for row in rows] == ["true", "-2.5", "1", '"amazon"', '"aws"', '[1,"abc",null]', '{"a":1}']
