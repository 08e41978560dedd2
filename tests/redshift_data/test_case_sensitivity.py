"""``SET enable_case_sensitive_identifier`` per session, with Redshift's folding rules, through boto3."""
from __future__ import annotations

import uuid

import pytest

from emulator.redshift_data.session_settings import SettingCommand, parse_setting_command
from emulator.redshift_data.translate import SqlTranslationError

from .conftest import run_sql, wait_for
from .test_streaming import make_stream

ON = "SET enable_case_sensitive_identifier TO true"


def values(client, described: dict) -> list[list]:
    assert described["Status"] == "FINISHED", described.get("Error")
    records = client.get_statement_result(Id=described["Id"])["Records"]
    return [[None if "isNull" in f else next(iter(f.values())) for f in row] for row in records]


def column_names(client, described: dict) -> list[str]:
    return [c["name"] for c in client.get_statement_result(Id=described["Id"])["ColumnMetadata"]]


def test_quoted_names_fold_to_lower_case_when_setting_is_off(client, fresh_database):
    assert run_sql(client, 'CREATE TABLE "MixedCase" ("ColA" int)', database=fresh_database)["Status"] == "FINISHED"
    tables = client.list_tables(Database=fresh_database, WorkgroupName="local", SchemaPattern="public")["Tables"]
    assert [t["name"] for t in tables] == ["mixedcase"]
    selected = run_sql(client, 'SELECT "COLA" AS "Alias" FROM MIXEDCASE', database=fresh_database)
    assert column_names(client, selected) == ["alias"]


def test_quoted_names_keep_their_case_when_setting_is_on_in_the_same_sql(client, fresh_database):
    created = run_sql(client, f'{ON}; CREATE TABLE "CaseKept" ("ColA" int, cola int)', database=fresh_database)
    assert created["Status"] == "FINISHED", created.get("Error")
    tables = client.list_tables(Database=fresh_database, WorkgroupName="local", TablePattern="C%")["Tables"]
    assert [t["name"] for t in tables] == ["CaseKept"]
    selected = run_sql(client, f'{ON}; SELECT "ColA", cola, 1 AS "Alias" FROM "CaseKept"', database=fresh_database)
    assert column_names(client, selected) == ["ColA", "cola", "Alias"]
    # the next statement is a new session: the setting is off again and "CaseKept" folds to casekept
    missing = run_sql(client, 'SELECT * FROM "CaseKept"', database=fresh_database)
    assert missing["Status"] == "FAILED" and 'relation "casekept" does not exist' in missing["Error"]


def test_setting_lasts_for_the_session_when_session_id_is_reused(client, fresh_database):
    started = client.execute_statement(Sql=ON, Database=fresh_database, WorkgroupName="local",
                                       SessionKeepAliveSeconds=60)
    assert wait_for(client, started["Id"])["Status"] == "FINISHED"
    session = started["SessionId"]
    shown = client.execute_statement(Sql="SHOW enable_case_sensitive_identifier", SessionId=session)
    assert values(client, wait_for(client, shown["Id"])) == [["on"]]
    created = client.execute_statement(Sql='CREATE TABLE "InSession" (x int)', SessionId=session)
    assert wait_for(client, created["Id"])["Status"] == "FINISHED"
    reset = client.execute_statement(Sql="RESET enable_case_sensitive_identifier; "
                                         "SHOW enable_case_sensitive_identifier", SessionId=session)
    assert values(client, wait_for(client, reset["Id"])) == [["off"]]
    tables = client.list_tables(Database=fresh_database, WorkgroupName="local", TablePattern="%ession")["Tables"]
    assert [t["name"] for t in tables] == ["InSession"]


def test_super_keys_follow_the_case_settings_when_navigating_mixed_case_json(client, fresh_database):
    run_sql(client, "CREATE TABLE docs AS SELECT JSON_PARSE('{\"Name\": \"upper\", \"name\": \"lower\"}') AS p",
            database=fresh_database)
    navigate = 'SELECT p."Name", p.Name, p.name FROM docs'
    assert values(client, run_sql(client, navigate, database=fresh_database)) == [['"lower"'] * 3]
    assert values(client, run_sql(client, f"{ON}; {navigate}", database=fresh_database)) == \
        [['"upper"', '"lower"', '"lower"']]
    unquoted = "SET enable_case_sensitive_super_attribute TO on; SELECT p.Name, p.name FROM docs"
    assert values(client, run_sql(client, unquoted, database=fresh_database)) == [['"upper"', '"lower"']]


def test_batch_sub_statements_share_the_setting_when_set_in_the_batch(client, fresh_database):
    batch = client.batch_execute_statement(Sqls=[ON, 'CREATE TABLE "BatchKept" (x int)'], Database=fresh_database,
                                           WorkgroupName="local")
    assert wait_for(client, batch["Id"])["Status"] == "FINISHED"
    tables = client.list_tables(Database=fresh_database, WorkgroupName="local", TablePattern="B%")["Tables"]
    assert [t["name"] for t in tables] == ["BatchKept"]


def test_mixed_case_stream_is_read_when_view_created_with_setting_on(client, kinesis, fresh_database):
    stream = f"Mixed-{uuid.uuid4().hex[:6]}"
    make_stream(kinesis, stream, shards=1)
    kinesis.put_record(StreamName=stream, Data=b'{"Id": 1}', PartitionKey="k")
    run_sql(client, "CREATE EXTERNAL SCHEMA ks FROM KINESIS IAM_ROLE default", database=fresh_database)
    view = f'CREATE MATERIALIZED VIEW {{}} AS SELECT JSON_PARSE(kinesis_data) AS p FROM ks."{stream}"'
    run_sql(client, view.format("folded"), database=fresh_database)
    folded = run_sql(client, "REFRESH MATERIALIZED VIEW folded", database=fresh_database)
    assert folded["Status"] == "FAILED" and stream.lower() in folded["Error"]
    assert run_sql(client, f"{ON}; {view.format('kept')}", database=fresh_database)["Status"] == "FINISHED"
    assert run_sql(client, "REFRESH MATERIALIZED VIEW kept", database=fresh_database)["Status"] == "FINISHED"
    assert values(client, run_sql(client, f'{ON}; SELECT p."Id", p.id FROM kept', database=fresh_database)) == \
        [["1", None]]


def test_setting_rejects_value_when_not_boolean(client):
    failed = run_sql(client, "SET enable_case_sensitive_identifier TO maybe")
    assert failed["Status"] == "FAILED"
    assert 'invalid value for parameter "enable_case_sensitive_identifier": "maybe"' in failed["Error"]


def test_setting_commands_parse_redshift_forms():
    assert parse_setting_command("set session enable_case_sensitive_identifier = 'ON'") == \
        SettingCommand("SET", "enable_case_sensitive_identifier", "on")
    assert parse_setting_command("SET enable_case_sensitive_identifier TO DEFAULT") == \
        SettingCommand("SET", "enable_case_sensitive_identifier", None)
    assert parse_setting_command("RESET ALL") == SettingCommand("RESET", "all")
    assert parse_setting_command("SET search_path TO public") is None  # PostgreSQL's own
    with pytest.raises(SqlTranslationError, match="syntax error"):
        parse_setting_command("SET enable_case_sensitive_identifier true")
