"""The issue's everyday queries on a streaming view (Kinesis -> REFRESH -> SUPER ``payload``),
through the local stack end to end: filters on SUPER paths with literals and a Data API
parameter, casts without JSON quotes, and labels by the last key. Local only (it feeds the
local Kinesis)."""
from __future__ import annotations

import uuid

from .conftest import run_sql
from .test_streaming import make_stream, put_users


def _result(client, sql: str, database: str, **kwargs) -> tuple[list[list], list[str]]:
    described = run_sql(client, sql, database=database, **kwargs)
    assert described["Status"] == "FINISHED", described.get("Error")
    result = client.get_statement_result(Id=described["Id"])
    rows = [[None if "isNull" in f else next(iter(f.values())) for f in row] for row in result["Records"]]
    return rows, [c["label"] for c in result["ColumnMetadata"]]


def test_everyday_super_queries_answer_as_redshift_when_run_on_a_streaming_view(client, kinesis, fresh_database):
    stream = f"super-{uuid.uuid4().hex[:8]}"
    make_stream(kinesis, stream, shards=1)
    put_users(kinesis, stream, [("Ann", "Lee"), ("Bea", "Moe")])  # randomuser-shaped, gender female, nat NO
    for sql in ("CREATE EXTERNAL SCHEMA schema_stream FROM KINESIS IAM_ROLE default",
                f'CREATE MATERIALIZED VIEW my_stream_vw AS SELECT approximate_arrival_timestamp, '
                f'JSON_PARSE(kinesis_data) AS payload FROM schema_stream."{stream}"',
                "REFRESH MATERIALIZED VIEW my_stream_vw"):
        assert run_sql(client, sql, database=fresh_database)["Status"] == "FINISHED"

    assert _result(client, "SELECT COUNT(*) FROM my_stream_vw WHERE payload.gender = 'female'",
                   fresh_database)[0] == [[2]]
    assert _result(client, "SELECT COUNT(*) FROM my_stream_vw WHERE payload.dob.age = 34", fresh_database)[0] == [[2]]
    assert _result(client, "SELECT COUNT(*) FROM my_stream_vw WHERE payload.nat = :nat", fresh_database,
                   Parameters=[{"name": "nat", "value": "NO"}])[0] == [[2]]
    rows, labels = _result(client, "SELECT payload.name.first, payload.name.last::varchar, payload.dob.age::int "
                                   "FROM my_stream_vw ORDER BY payload.name.first", fresh_database)
    assert rows == [['"Ann"', "Lee", 34], ['"Bea"', "Moe", 34]]
    assert labels == ["first", "last", "age"]
