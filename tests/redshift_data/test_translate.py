from __future__ import annotations

import psycopg
import pytest

from emulator.redshift_data.streaming import CATALOG_SQL
from emulator.redshift_data.translate import (HELPER_FUNCTIONS_SQL, CreateKinesisSchema, CreateMaterializedView,
                                              PlainSql, RefreshMaterializedView, SqlTranslationError,
                                              UnsupportedSqlError, parse_statement, split_statements)

SEED_SCHEMA = """CREATE EXTERNAL SCHEMA schema_stream FROM KINESIS
IAM_ROLE 'arn:aws:iam::222222222222:role/RedshiftStreamRole,arn:aws:iam::111111111111:role/KinesisStreamRole'"""


def pg(sql: str, parameters: dict | None = None) -> str:
    command = parse_statement(sql, parameters)
    assert isinstance(command, PlainSql)
    return command.sql


def test_super_path_becomes_jsonb_navigation_when_head_is_a_column():
    out = pg("SELECT payload.name.first, payload.dob.date AS dob, payload.cell FROM my_stream_vw")
    assert out == ("SELECT payload -> 'name' -> 'first' AS \"first\", payload -> 'dob' -> 'date' AS dob, "
                   "payload -> 'cell' AS \"cell\" FROM my_stream_vw")


def test_super_path_keeps_qualifier_when_head_is_a_table_alias():
    out = pg("SELECT v.payload.name.last, v.id FROM my_stream_vw v")
    assert "v.payload -> 'name' -> 'last'" in out and "v.id" in out


def test_super_array_index_stays_zero_based_when_navigating():
    assert "payload -> 'items' #> '{0}' -> 'sku'" in pg("SELECT payload.items[0].sku FROM t")


def test_json_parse_calls_helper_when_translated():
    # the helper accepts VARBYTE (bytea) as well as text; a CAST would reject bytea
    assert pg("SELECT JSON_PARSE(kinesis_data) AS payload FROM s") == \
        "SELECT JSON_PARSE(kinesis_data) AS payload FROM s"


def test_json_parse_reads_bytea_when_run_on_postgres(postgres):
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute(HELPER_FUNCTIONS_SQL)
        query = pg("SELECT p.cell FROM (SELECT JSON_PARSE(convert_to('{\"cell\": \"555\"}', 'UTF8')) AS p) AS t")
        assert conn.execute(query).fetchone()[0] == "555"


def test_super_and_varbyte_types_map_to_jsonb_and_bytea_when_creating_tables():
    assert pg("CREATE TABLE x (a SUPER, b VARBYTE(100))") == "CREATE TABLE x (a JSONB, b BYTEA)"


def test_parameters_become_quoted_literals_when_given():
    assert pg("SELECT * FROM t WHERE name = :name", {"name": "O'Brien"}) == \
        "SELECT * FROM t WHERE name = 'O''Brien'"


def test_missing_parameter_fails_translation_when_not_given():
    with pytest.raises(SqlTranslationError, match=":who"):
        pg("SELECT :who")


def test_split_statements_ignores_semicolons_when_inside_strings():
    assert split_statements("SELECT ';' ; SELECT 2;\n") == ["SELECT ';'", "SELECT 2"]


def test_external_schema_keeps_iam_role_chain_when_from_kinesis():
    command = parse_statement(SEED_SCHEMA)
    assert command == CreateKinesisSchema(
        "schema_stream",
        "arn:aws:iam::222222222222:role/RedshiftStreamRole,arn:aws:iam::111111111111:role/KinesisStreamRole",
        False)


def test_external_schema_is_unsupported_when_not_kinesis():
    with pytest.raises(UnsupportedSqlError, match="not supported by the local stack"):
        parse_statement("CREATE EXTERNAL SCHEMA s FROM DATA CATALOG DATABASE 'x'")


def test_streaming_view_header_parsed_when_auto_refresh_yes():
    command = parse_statement('CREATE MATERIALIZED VIEW my_stream_vw AUTO REFRESH YES AS\n  SELECT 1 FROM s."x"')
    assert command == CreateMaterializedView(("my_stream_vw",), True, 'SELECT 1 FROM s."x"')
    assert parse_statement("REFRESH MATERIALIZED VIEW my_stream_vw") == RefreshMaterializedView(("my_stream_vw",))


def test_missing_super_path_yields_null_when_run_on_postgres(postgres):
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute(CATALOG_SQL)
        conn.execute(HELPER_FUNCTIONS_SQL)
        query = pg("SELECT p.name.first, p.nope.deeper, p.tags[1] FROM "
                   "(SELECT JSON_PARSE('{\"name\": {\"first\": \"Ann\"}, \"tags\": [\"a\", \"b\"]}') AS p) AS t")
        first, missing, tag = conn.execute(query).fetchone()
    assert (first, missing, tag) == ("Ann", None, "b")
