"""The pipeline's heart: the seed SQL, verbatim, over the local Kinesis and Data API."""
from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest

from emulator.redshift_data import RedshiftDataSettings, create_app
from emulator.runtime import BackgroundServer

from .conftest import LOCAL_CREDENTIALS, run_sql

SEED_SQL = """CREATE EXTERNAL SCHEMA schema_stream FROM KINESIS
IAM_ROLE 'arn:aws:iam::222222222222:role/RedshiftStreamRole,arn:aws:iam::111111111111:role/KinesisStreamRole';
CREATE MATERIALIZED VIEW my_stream_vw AUTO REFRESH YES AS
  SELECT approximate_arrival_timestamp, JSON_PARSE(kinesis_data) AS payload
  FROM schema_stream."my-data-stream";
REFRESH MATERIALIZED VIEW my_stream_vw;
SELECT payload.name.first, payload.name.last, payload.dob.date AS dob, payload.cell FROM my_stream_vw;"""
SEED_STATEMENTS = [s.strip() for s in SEED_SQL.split(";") if s.strip()]


def random_user(first: str, last: str) -> bytes:
    return json.dumps({
        "gender": "female", "name": {"title": "Ms", "first": first, "last": last},
        "location": {"city": "Oslo", "country": "Norway"}, "email": f"{first}.{last}@example.com",
        "dob": {"date": "1990-04-01T10:00:00.000Z", "age": 34}, "cell": "555-0100",
        "id": {"name": "", "value": None}, "nat": "NO",
    }).encode()


def make_stream(kinesis, name: str, shards: int = 2) -> None:
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    deadline = time.monotonic() + 10
    while kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "stream never became ACTIVE"
        time.sleep(0.05)


def put_users(kinesis, stream: str, names: list[tuple[str, str]]) -> None:
    response = kinesis.put_records(StreamName=stream, Records=[
        {"Data": random_user(first, last), "PartitionKey": f"{first}-{last}"} for first, last in names])
    assert response["FailedRecordCount"] == 0


def names_in(client, statement: dict) -> list[tuple]:
    records = client.get_statement_result(Id=statement["Id"])["Records"]
    return sorted(tuple(next(iter(field.values())) for field in row) for row in records)


def test_seed_sql_returns_names_and_second_refresh_adds_only_new_records(client, kinesis, fresh_database):
    stream = "my-data-stream"
    make_stream(kinesis, stream)
    first_batch = [(f"First{i}", f"Last{i}") for i in range(20)]
    put_users(kinesis, stream, first_batch)
    shards_used = {r["ShardId"] for r in kinesis.list_shards(StreamName=stream)["Shards"]}
    assert len(shards_used) == 2

    results = [run_sql(client, statement, database=fresh_database) for statement in SEED_STATEMENTS]
    assert [r["Status"] for r in results] == ["FINISHED"] * 4, [r.get("Error") for r in results]
    rows = names_in(client, results[-1])
    # SUPER values come back as JSON text, so strings keep their quotes (as in Redshift)
    assert rows == sorted((f'"{f}"', f'"{l}"', '"1990-04-01T10:00:00.000Z"', '"555-0100"') for f, l in first_batch)

    second_batch = [("Zoe", "New"), ("Yan", "Newer")]
    put_users(kinesis, stream, second_batch)
    assert run_sql(client, SEED_STATEMENTS[2], database=fresh_database)["Status"] == "FINISHED"
    again = run_sql(client, "SELECT payload.name.first FROM my_stream_vw", database=fresh_database)
    firsts = [row[0] for row in names_in(client, again)]
    assert len(firsts) == 22 and len(set(firsts)) == 22  # all records, none twice
    assert {'"Zoe"', '"Yan"'} <= set(firsts)

    idle = run_sql(client, SEED_STATEMENTS[2], database=fresh_database)
    count = run_sql(client, "SELECT count(*) FROM my_stream_vw", database=fresh_database)
    assert idle["Status"] == "FINISHED"
    assert client.get_statement_result(Id=count["Id"])["Records"] == [[{"longValue": 22}]]


def _stream_with_bad_record(client, kinesis, database: str, bad_data: bytes) -> str:
    """A new one-shard stream holding one good user record, then ``bad_data``; and the
    external schema ``ks`` over Kinesis in ``database``."""
    stream = f"mixed-{uuid.uuid4().hex[:8]}"
    make_stream(kinesis, stream, shards=1)
    put_users(kinesis, stream, [("Good", "One")])
    kinesis.put_record(StreamName=stream, Data=bad_data, PartitionKey="x")
    run_sql(client, "CREATE EXTERNAL SCHEMA ks FROM KINESIS IAM_ROLE default", database=database)
    return stream


def test_refresh_fails_and_keeps_nothing_when_record_is_not_json(client, kinesis, fresh_database):
    stream = _stream_with_bad_record(client, kinesis, fresh_database, b"not json at all")
    created = run_sql(client, f'CREATE MATERIALIZED VIEW v AS SELECT JSON_PARSE(data) AS p, '
                              f'approximatearrivaltimestamp FROM ks."{stream}"', database=fresh_database)
    assert created["Status"] == "FINISHED", created.get("Error")
    refreshed = run_sql(client, "REFRESH MATERIALIZED VIEW v", database=fresh_database)
    assert refreshed["Status"] == "FAILED" and "json" in refreshed["Error"].lower()
    count = run_sql(client, "SELECT count(*) FROM v", database=fresh_database)
    assert client.get_statement_result(Id=count["Id"])["Records"] == [[{"longValue": 0}]]


def test_refresh_fails_with_kinesis_error_when_stream_missing(client, fresh_database):
    run_sql(client, "CREATE EXTERNAL SCHEMA ks FROM KINESIS IAM_ROLE default", database=fresh_database)
    run_sql(client, 'CREATE MATERIALIZED VIEW gone AS SELECT kinesis_data FROM ks."no-such-stream"',
            database=fresh_database)
    refreshed = run_sql(client, "REFRESH MATERIALIZED VIEW gone", database=fresh_database)
    assert refreshed["Status"] == "FAILED" and "ResourceNotFoundException" in refreshed["Error"]


def test_auto_refresh_ingests_records_when_view_has_auto_refresh_yes(postgres, kinesis, kinesis_url, fresh_database):
    stream = f"auto-{uuid.uuid4().hex[:8]}"
    make_stream(kinesis, stream, shards=1)
    settings = RedshiftDataSettings(pg_dsn=postgres.dsn, kinesis_endpoint_url=kinesis_url,
                                    auto_refresh_interval_s=0.1)
    with BackgroundServer(lambda: create_app(settings)) as server:
        client = boto3.client("redshift-data", endpoint_url=server.url, **LOCAL_CREDENTIALS)
        run_sql(client, "CREATE EXTERNAL SCHEMA ks FROM KINESIS IAM_ROLE default", database=fresh_database)
        run_sql(client, f'CREATE MATERIALIZED VIEW av AUTO REFRESH YES AS SELECT JSON_PARSE(kinesis_data) AS p '
                        f'FROM ks."{stream}"', database=fresh_database)
        put_users(kinesis, stream, [("Auto", "Matic")])
        deadline = time.monotonic() + 5
        while True:
            found = run_sql(client, "SELECT p.name.first FROM av", database=fresh_database)
            if client.get_statement_result(Id=found["Id"])["Records"]:
                break
            assert time.monotonic() < deadline, "auto refresh never ingested the record"
            time.sleep(0.1)
        assert client.get_statement_result(Id=found["Id"])["Records"] == [[{"stringValue": '"Auto"'}]]


def _count(client, sql: str, database: str) -> int:
    described = run_sql(client, sql, database=database)
    assert described["Status"] == "FINISHED", described.get("Error")
    return client.get_statement_result(Id=described["Id"])["Records"][0][0]["longValue"]


def test_can_json_parse_filter_skips_bad_records_when_refreshing(client, kinesis, fresh_database):
    stream = _stream_with_bad_record(client, kinesis, fresh_database, b"{broken")
    run_sql(client, f'CREATE MATERIALIZED VIEW v AS SELECT refresh_time, JSON_PARSE(kinesis_data) AS p '
                    f'FROM ks."{stream}" WHERE CAN_JSON_PARSE(kinesis_data)', database=fresh_database)
    refreshed = run_sql(client, "REFRESH MATERIALIZED VIEW v", database=fresh_database)
    assert refreshed["Status"] == "FINISHED", refreshed.get("Error")
    assert _count(client, "SELECT count(*) FROM v WHERE refresh_time IS NOT NULL", fresh_database) == 1


def test_system_views_report_refreshes_and_checkpoints_when_refreshed(client, kinesis, fresh_database):
    stream = f"sys-{uuid.uuid4().hex[:8]}"
    make_stream(kinesis, stream, shards=2)
    put_users(kinesis, stream, [(f"F{i}", "L") for i in range(6)])
    kinesis.put_record(StreamName=stream, Data=b"x" * 1_030_000, PartitionKey="big")
    run_sql(client, "CREATE EXTERNAL SCHEMA ks FROM KINESIS IAM_ROLE default", database=fresh_database)
    run_sql(client, f'CREATE MATERIALIZED VIEW sv AUTO REFRESH YES AS SELECT kinesis_data FROM ks."{stream}"',
            database=fresh_database)
    assert run_sql(client, "REFRESH MATERIALIZED VIEW sv", database=fresh_database)["Status"] == "FINISHED"
    assert _count(client, "SELECT count(*) FROM sv", fresh_database) == 6
    assert _count(client, "SELECT count(*) FROM SYS_MV_REFRESH_HISTORY WHERE mv_name = 'sv' AND status LIKE "
                          "'Refresh successfully%' AND refresh_type = 'Manual'", fresh_database) == 1
    assert _count(client, f"SELECT count(DISTINCT shard_id) FROM SYS_STREAM_SCAN_STATES "
                          f"WHERE stream_name = '{stream}'", fresh_database) == 2
    assert _count(client, "SELECT count(*) FROM SYS_STREAM_SCAN_ERRORS WHERE length = 1030000", fresh_database) == 1
    assert _count(client, "SELECT count(*) FROM STV_MV_INFO WHERE name = 'sv' AND autorefresh = 't'",
                  fresh_database) == 1


def test_failed_refresh_is_recorded_in_history_when_data_is_not_json(client, kinesis, fresh_database):
    stream = f"hist-{uuid.uuid4().hex[:8]}"
    make_stream(kinesis, stream, shards=1)
    kinesis.put_record(StreamName=stream, Data=b"nope", PartitionKey="x")
    run_sql(client, "CREATE EXTERNAL SCHEMA ks FROM KINESIS IAM_ROLE default", database=fresh_database)
    run_sql(client, f'CREATE MATERIALIZED VIEW hv AS SELECT JSON_PARSE(data) AS p FROM ks."{stream}"',
            database=fresh_database)
    assert run_sql(client, "REFRESH MATERIALIZED VIEW hv", database=fresh_database)["Status"] == "FAILED"
    assert _count(client, "SELECT count(*) FROM SYS_MV_REFRESH_HISTORY WHERE mv_name = 'hv' "
                          "AND status LIKE 'Refresh failed%'", fresh_database) == 1


def test_refresh_loses_and_duplicates_nothing_when_connection_killed_mid_refresh(
        client, kinesis, fresh_database, monkeypatch):
    from emulator.redshift_data import streaming

    stream = f"crash-{uuid.uuid4().hex[:8]}"
    make_stream(kinesis, stream, shards=2)
    put_users(kinesis, stream, [(f"A{i}", "B") for i in range(10)])
    run_sql(client, "CREATE EXTERNAL SCHEMA ks FROM KINESIS IAM_ROLE default", database=fresh_database)
    run_sql(client, f'CREATE MATERIALIZED VIEW cv AS SELECT sequence_number, kinesis_data FROM ks."{stream}"',
            database=fresh_database)
    original = streaming.StreamingIngestion._copy_into_stage

    async def copy_then_die(self, conn, records_by_shard, source):
        copied = await original(self, conn, records_by_shard, source)
        await conn.execute(streaming.sql.SQL("INSERT INTO {} SELECT sequence_number, kinesis_data FROM "
                                             "pg_temp.streamload_stage").format(streaming.sql.Identifier("cv")))
        # the server process serving this refresh dies after writing rows, before the commit
        import psycopg
        with psycopg.connect(conn.info.dsn.replace(f"dbname={conn.info.dbname}", "dbname=postgres"),
                             autocommit=True) as killer:
            killer.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
        return copied

    monkeypatch.setattr(streaming.StreamingIngestion, "_copy_into_stage", copy_then_die)
    crashed = run_sql(client, "REFRESH MATERIALIZED VIEW cv", database=fresh_database)
    monkeypatch.setattr(streaming.StreamingIngestion, "_copy_into_stage", original)
    assert crashed["Status"] == "FAILED"
    assert _count(client, "SELECT count(*) FROM cv", fresh_database) == 0
    put_users(kinesis, stream, [("Late", "Comer")])
    assert run_sql(client, "REFRESH MATERIALIZED VIEW cv", database=fresh_database)["Status"] == "FINISHED"
    assert _count(client, "SELECT count(*) FROM cv", fresh_database) == 11
    assert _count(client, "SELECT count(DISTINCT sequence_number) FROM cv", fresh_database) == 11
