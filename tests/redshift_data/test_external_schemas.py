"""SVV_EXTERNAL_SCHEMAS and DROP SCHEMA of a Kinesis external schema, through boto3."""
from __future__ import annotations

import json

import pytest

from emulator.redshift_data.external_schemas import DropSchema, parse_drop_schema
from emulator.redshift_data.translate import SqlTranslationError

from .conftest import run_sql

CHAIN = "arn:aws:iam::222222222222:role/RedshiftStreamRole,arn:aws:iam::111111111111:role/KinesisStreamRole"


def rows(client, sql: str, database: str) -> list[list]:
    described = run_sql(client, sql, database=database)
    assert described["Status"] == "FINISHED", described.get("Error")
    records = client.get_statement_result(Id=described["Id"])["Records"]
    return [[None if "isNull" in f else next(iter(f.values())) for f in row] for row in records]


def make_schema_and_view(client, database: str, schema: str = "schema_stream", view: str = "my_stream_vw") -> None:
    for sql in (f"CREATE EXTERNAL SCHEMA {schema} FROM KINESIS IAM_ROLE '{CHAIN}'",
                f'CREATE MATERIALIZED VIEW {view} AS SELECT kinesis_data FROM {schema}."some-stream"'):
        described = run_sql(client, sql, database=database)
        assert described["Status"] == "FINISHED", described.get("Error")


def test_svv_external_schemas_lists_kinesis_schema_with_its_role_when_created(client, fresh_database):
    run_sql(client, f"CREATE EXTERNAL SCHEMA schema_stream FROM KINESIS IAM_ROLE '{CHAIN}'", database=fresh_database)
    run_sql(client, "CREATE EXTERNAL SCHEMA other FROM KINESIS IAM_ROLE default", database=fresh_database)
    found = rows(client, "SELECT schemaname, eskind, esoptions, esowner > 0 FROM svv_external_schemas "
                         "ORDER BY schemaname", fresh_database)
    assert [(r[0], r[1], json.loads(r[2]), r[3]) for r in found] == [
        ("other", 9, {"IAM_ROLE": "default"}, True), ("schema_stream", 9, {"IAM_ROLE": CHAIN}, True)]


def test_list_schemas_includes_external_schema_when_created(client, fresh_database):
    run_sql(client, "CREATE EXTERNAL SCHEMA ks_listed FROM KINESIS IAM_ROLE default", database=fresh_database)
    listed = client.list_schemas(Database=fresh_database, WorkgroupName="local", SchemaPattern="ks_%")["Schemas"]
    assert listed == ["ks_listed"]


def test_drop_schema_fails_and_keeps_view_when_materialized_view_depends(client, fresh_database):
    make_schema_and_view(client, fresh_database)
    dropped = run_sql(client, "DROP SCHEMA schema_stream", database=fresh_database)
    assert dropped["Status"] == "FAILED"
    assert "cannot drop schema schema_stream because other objects depend on it" in dropped["Error"]
    assert "my_stream_vw" in dropped["Error"]
    assert rows(client, "SELECT count(*) FROM svv_external_schemas", fresh_database) == [[1]]
    assert run_sql(client, "SELECT * FROM my_stream_vw", database=fresh_database)["Status"] == "FINISHED"


def test_drop_schema_cascade_drops_dependent_views_when_given(client, fresh_database):
    make_schema_and_view(client, fresh_database)
    dropped = run_sql(client, "DROP SCHEMA IF EXISTS schema_stream CASCADE", database=fresh_database)
    assert dropped["Status"] == "FINISHED", dropped.get("Error")
    assert rows(client, "SELECT count(*) FROM svv_external_schemas", fresh_database) == [[0]]
    assert rows(client, "SELECT count(*) FROM stv_mv_info WHERE name = 'my_stream_vw'", fresh_database) == [[0]]
    gone = run_sql(client, "SELECT * FROM my_stream_vw", database=fresh_database)
    assert gone["Status"] == "FAILED" and "does not exist" in gone["Error"]
    # the name is free again
    make_schema_and_view(client, fresh_database)


def test_drop_schema_succeeds_when_view_was_dropped_first(client, fresh_database):
    make_schema_and_view(client, fresh_database)
    assert run_sql(client, "DROP MATERIALIZED VIEW my_stream_vw", database=fresh_database)["Status"] == "FINISHED"
    assert run_sql(client, "DROP SCHEMA schema_stream", database=fresh_database)["Status"] == "FINISHED"
    assert rows(client, "SELECT count(*) FROM svv_external_schemas", fresh_database) == [[0]]


def test_drop_schema_reports_missing_schema_unless_if_exists(client, fresh_database):
    missing = run_sql(client, "DROP SCHEMA no_such_schema", database=fresh_database)
    assert missing["Status"] == "FAILED" and 'schema "no_such_schema" does not exist' in missing["Error"]
    assert run_sql(client, "DROP SCHEMA IF EXISTS no_such_schema", database=fresh_database)["Status"] == "FINISHED"


def test_drop_schema_drops_external_and_ordinary_schemas_together_when_listed(client, fresh_database):
    run_sql(client, "CREATE SCHEMA plain_one", database=fresh_database)
    run_sql(client, "CREATE EXTERNAL SCHEMA ks FROM KINESIS IAM_ROLE default", database=fresh_database)
    assert run_sql(client, "DROP SCHEMA plain_one, ks", database=fresh_database)["Status"] == "FINISHED"
    listed = client.list_schemas(Database=fresh_database, WorkgroupName="local")["Schemas"]
    assert "plain_one" not in listed and "ks" not in listed


def test_drop_schema_parses_redshift_options_when_given():
    assert parse_drop_schema("DROP SCHEMA IF EXISTS a, B DROP EXTERNAL DATABASE CASCADE") == \
        DropSchema(("a", "b"), True, True)
    assert parse_drop_schema('drop schema "Mixed" restrict', fold_quoted=True) == DropSchema(("mixed",), False, False)
    assert parse_drop_schema('drop schema "Mixed"') == DropSchema(("Mixed",), False, False)
    assert parse_drop_schema("DROP TABLE t") is None
    with pytest.raises(SqlTranslationError, match="syntax error"):
        parse_drop_schema("DROP SCHEMA a PURGE")
