"""ListStatements (filters, paging), ListDatabases, ListSchemas, ListTables, DescribeTable (paging)."""
from __future__ import annotations

import uuid

import pytest

from .conftest import run_sql, wait_for


def every_page(method, key: str, **kwargs) -> tuple[list, int]:
    """All items across NextToken pages, and how many pages it took (bounded)."""
    items, pages, token = [], 0, None
    for _ in range(100):
        page = method(**kwargs, **({"NextToken": token} if token else {}))
        items += page[key]
        pages += 1
        token = page.get("NextToken")
        if not token:
            return items, pages
    raise AssertionError("NextToken never ran out")


def test_list_statements_filters_by_name_status_and_database_when_given(client, fresh_database):
    prefix = f"ls-{uuid.uuid4().hex[:6]}"
    ok = [run_sql(client, "SELECT 1", database=fresh_database, StatementName=f"{prefix}-ok-{i}") for i in range(3)]
    bad = run_sql(client, "SELECT * FROM nowhere", StatementName=f"{prefix}-bad")
    finished, _ = every_page(client.list_statements, "Statements", StatementName=prefix, Status="FINISHED")
    assert sorted(s["Id"] for s in finished) == sorted(d["Id"] for d in ok)
    failed, _ = every_page(client.list_statements, "Statements", StatementName=prefix, Status="FAILED")
    assert [s["Id"] for s in failed] == [bad["Id"]]
    in_db, _ = every_page(client.list_statements, "Statements", StatementName=prefix, Database=fresh_database)
    assert len(in_db) == 3
    everything, _ = every_page(client.list_statements, "Statements", StatementName=prefix, Status="ALL")
    assert [s["StatementName"] for s in everything][0] == f"{prefix}-bad"  # newest first
    assert {s["QueryString"] for s in everything} == {"SELECT 1", "SELECT * FROM nowhere"}


def test_list_statements_pages_every_statement_once_when_max_results_small(client):
    prefix = f"page-{uuid.uuid4().hex[:6]}"
    ids = [client.execute_statement(Sql="SELECT 1", Database="dev", WorkgroupName="local",
                                    StatementName=f"{prefix}-{i}")["Id"] for i in range(5)]
    for statement_id in ids:
        wait_for(client, statement_id)
    listed, pages = every_page(client.list_statements, "Statements", StatementName=prefix, MaxResults=2)
    assert pages == 3 and sorted(s["Id"] for s in listed) == sorted(ids)


def test_list_statements_is_validation_error_when_max_results_out_of_range(client):
    with pytest.raises(client.exceptions.ValidationException):
        client.list_statements(MaxResults=101)
    with pytest.raises(client.exceptions.ValidationException, match="NextToken"):
        client.list_statements(NextToken="not-a-token")


def test_list_databases_includes_new_database_when_paged(client, fresh_database):
    names, pages = every_page(client.list_databases, "Databases", Database="dev", WorkgroupName="local",
                              MaxResults=1)
    assert fresh_database in names and "dev" in names and pages == len(names)
    assert "postgres" not in names and not any(n.startswith("template") for n in names)


def test_list_schemas_and_tables_follow_patterns_when_given(client, fresh_database):
    for sql in ("CREATE SCHEMA sales_eu", "CREATE SCHEMA sales_us", "CREATE SCHEMA hr",
                "CREATE TABLE sales_eu.orders (id int)", "CREATE TABLE sales_eu.refunds (id int)",
                "CREATE VIEW sales_eu.order_ids AS SELECT id FROM sales_eu.orders"):
        assert run_sql(client, sql, database=fresh_database)["Status"] == "FINISHED"
    common = {"Database": fresh_database, "WorkgroupName": "local"}
    schemas, _ = every_page(client.list_schemas, "Schemas", SchemaPattern="sales%", **common)
    assert schemas == ["sales_eu", "sales_us"]
    all_schemas, _ = every_page(client.list_schemas, "Schemas", **common)
    assert not any(s.startswith(("pg_", "streamload_")) or s == "information_schema" for s in all_schemas)
    tables, _ = every_page(client.list_tables, "Tables", SchemaPattern="sales_eu", TablePattern="order%", **common)
    assert tables == [{"name": "order_ids", "schema": "sales_eu", "type": "VIEW"},
                      {"name": "orders", "schema": "sales_eu", "type": "TABLE"}]
    paged, pages = every_page(client.list_tables, "Tables", SchemaPattern="sales_eu", MaxResults=1, **common)
    assert pages == 3 and [t["name"] for t in paged] == ["order_ids", "orders", "refunds"]


def test_describe_table_pages_columns_with_redshift_types_when_max_results_small(client, fresh_database):
    run_sql(client, "CREATE TABLE wide (id bigint NOT NULL, name varchar(40), price numeric(10,2), "
                    "doc SUPER, raw VARBYTE(16), at timestamp DEFAULT now())", database=fresh_database)
    columns, pages = every_page(client.describe_table, "ColumnList", Database=fresh_database, WorkgroupName="local",
                                Table="wide", MaxResults=2)
    assert pages == 3
    by_name = {c["name"]: c for c in columns}
    assert list(by_name) == ["id", "name", "price", "doc", "raw", "at"]
    assert [by_name[n]["typeName"] for n in by_name] == ["int8", "varchar", "numeric", "super", "varbyte",
                                                          "timestamp"]
    assert by_name["id"]["nullable"] == 0 and by_name["name"]["nullable"] == 1
    assert by_name["name"]["length"] == 40 and (by_name["price"]["precision"], by_name["price"]["scale"]) == (10, 2)
    assert "columnDefault" in by_name["at"] and by_name["id"]["tableName"] == "wide"
