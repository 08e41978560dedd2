"""Speed of the local Redshift Data API (issue 6).

    .venv/bin/python -m bench.redshift_emulator [--records 100000] [--shards 10] [--queries 300]

Prints, besides details:
  RATIO refresh_records_per_s_vs_50k <x>   REFRESH of --records stream records into a streaming
                                           MV (JSON_PARSE of every record), records/s ÷ 50,000
                                           (goal ≥ 1.0)
  RATIO dataapi_overhead_p50_ms <x>        p50 of a Data API round trip (ExecuteStatement,
                                           DescribeStatement until FINISHED, GetStatementResult)
                                           with a lean SigV4 client (``lean_data_api``), minus
                                           p50 of the same query on PostgreSQL directly (goal ≤ 2 ms)
  RATIO dataapi_server_overhead_p50_ms <x> the same, minus the lean client's floor (the three
                                           calls against a do-nothing server in its own
                                           process): what the local Data API itself adds
  RATIO dataapi_overhead_boto3_p50_ms <x>  the round trip with boto3, minus PostgreSQL direct;
                                           boto3's own floor (against the do-nothing server) is
                                           printed beside it: most of this figure is boto3's

Kinesis keeps its real read limits (5 GetRecords/s, 2 MiB/s per shard); only its write
limits are lifted so loading the stream does not dominate the run.

The Data API runs in its own process (``python -m emulator.redshift_data``), as it does for
every real client: in the bench's process, boto3 and the server would take turns on one GIL
and the overhead figure would mostly measure the interpreter's 5 ms thread switch interval.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import boto3
import psycopg

from emulator.kinesis.server import create_app as create_kinesis_app
from emulator.kinesis.settings import KinesisSettings
from emulator.postgres import PostgresServer
from emulator.redshift_data import RedshiftDataSettings, create_app
from emulator.runtime import BackgroundServer
from bench.lean_data_api import LeanDataApiClient, canned_server
from bench.processes import served

LOCAL = {"aws_access_key_id": "streamload-local", "aws_secret_access_key": "streamload-local",
         "region_name": "us-east-1"}
STREAM = "bench-stream"


def run(client, sql: str, database: str = "dev", poll_s: float = 0.0) -> dict:
    statement_id = client.execute_statement(Sql=sql, Database=database, WorkgroupName="bench")["Id"]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        described = client.describe_statement(Id=statement_id)
        if described["Status"] in ("FINISHED", "FAILED", "ABORTED"):
            if described["Status"] != "FINISHED":
                raise SystemExit(f"statement failed: {described.get('Error')}")
            return described
        time.sleep(poll_s)
    raise SystemExit("statement did not finish within 600 s")


def data_api_process(pg_dsn: str, kinesis_url: str):
    """``python -m emulator.redshift_data`` on a free port; yields its URL."""
    return served([sys.executable, "-m", "emulator.redshift_data", "--pg-dsn", pg_dsn, "--kinesis-endpoint",
                   kinesis_url, "--auto-refresh-interval", "0", "--port", "0"],
                  cwd=Path(__file__).resolve().parents[1], banner="REDSHIFT_DATA_URL=")


def load_stream(kinesis, records: int, shards: int) -> None:
    kinesis.create_stream(StreamName=STREAM, ShardCount=shards)
    while kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        time.sleep(0.05)
    batch = []
    for i in range(records):
        data = json.dumps({"event_id": i, "name": {"first": f"F{i}", "last": "L"}, "amount": i % 997}).encode()
        batch.append({"Data": data, "PartitionKey": f"pk-{i}"})
        if len(batch) == 500 or i == records - 1:
            while batch:
                response = kinesis.put_records(StreamName=STREAM, Records=batch)
                batch = [r for r, out in zip(batch, response["Records"]) if "ErrorCode" in out]


def bench_refresh(client, records: int, shards: int, database: str = "dev", label: str = "refresh") -> float:
    """REFRESH of a new streaming MV over the loaded stream (it starts from TRIM_HORIZON)."""
    run(client, "CREATE EXTERNAL SCHEMA ks FROM KINESIS IAM_ROLE default", database)
    run(client, f'CREATE MATERIALIZED VIEW bench_mv AS SELECT approximate_arrival_timestamp, '
                f'JSON_PARSE(kinesis_data) AS payload FROM ks."{STREAM}"', database)
    started = time.perf_counter()
    # polls every 2 ms like a patient client: a busy poll would take CPU from the refresh it waits for
    run(client, "REFRESH MATERIALIZED VIEW bench_mv", database, poll_s=0.002)
    elapsed = time.perf_counter() - started
    counted = run(client, "SELECT count(*) FROM bench_mv", database)
    total = client.get_statement_result(Id=counted["Id"])["Records"][0][0]["longValue"]
    if total != records:
        raise SystemExit(f"REFRESH ingested {total} of {records} records")
    print(f"{label}: {records} records from {shards} shards in {elapsed:.3f} s = {records / elapsed:,.0f} records/s")
    return records / elapsed


def bench_floor(round_trip, queries: int) -> float:
    """p50 of ``round_trip`` against a server that answers at once: the client's own cost."""
    times = []
    for _ in range(queries + 20):
        started = time.perf_counter()
        round_trip("SELECT 1 AS one")
        times.append(time.perf_counter() - started)
    return statistics.median(times[20:]) * 1000


def _overhead_ms(label: str, round_trip, dsn: str, queries: int, sql: str = "SELECT 1 AS one") -> float:
    """p50 of ``round_trip(sql)`` minus p50 of the same query on PostgreSQL directly."""
    api, direct = [], []
    for _ in range(20):  # warm pools and connections
        round_trip(sql)
    for _ in range(queries):
        started = time.perf_counter()
        round_trip(sql)
        api.append(time.perf_counter() - started)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(queries):
            started = time.perf_counter()
            conn.execute(sql).fetchall()
            direct.append(time.perf_counter() - started)
    api_ms, direct_ms = statistics.median(api) * 1000, statistics.median(direct) * 1000
    print(f"data api round trip ({label}) p50 {api_ms:.2f} ms, postgres direct p50 {direct_ms:.3f} ms")
    return api_ms - direct_ms


def bench_boto3_calls(client, sql: str) -> None:
    client.execute_statement(Sql=sql, Database="dev", WorkgroupName="bench")
    client.describe_statement(Id="c")
    client.get_statement_result(Id="c")


def bench_overhead(client, dsn: str, queries: int) -> float:
    return _overhead_ms("boto3", lambda sql: client.get_statement_result(Id=run(client, sql)["Id"]), dsn, queries)


def bench_overhead_lean(url: str, dsn: str, queries: int) -> float:
    return _overhead_ms("lean SigV4 client", _lean(url).round_trip, dsn, queries)


def _lean(url: str) -> LeanDataApiClient:
    return LeanDataApiClient(url, LOCAL["aws_access_key_id"], LOCAL["aws_secret_access_key"], LOCAL["region_name"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--shards", type=int, default=10)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    kinesis_settings = KinesisSettings(shard_write_records_per_s=1e9, shard_write_bytes_per_s=1e12)
    with PostgresServer() as pg, \
            BackgroundServer(lambda: create_kinesis_app(settings=kinesis_settings)) as kinesis_server:
        load_stream(boto3.client("kinesis", endpoint_url=kinesis_server.url, **LOCAL), args.records, args.shards)
        with data_api_process(pg.dsn, kinesis_server.url) as data_api_url:
            client = boto3.client("redshift-data", endpoint_url=data_api_url, **LOCAL)
            per_s = bench_refresh(client, args.records, args.shards)
            overhead_ms = bench_overhead(client, pg.dsn, args.queries)
            lean_overhead_ms = bench_overhead_lean(data_api_url, pg.dsn, args.queries)
        # For comparison only: the Data API as a thread next to Kinesis and this client, as
        # LocalStack runs it (one GIL for all three).
        settings = RedshiftDataSettings(pg_dsn=pg.dsn, kinesis_endpoint_url=kinesis_server.url,
                                        auto_refresh_interval_s=0)
        pg.create_database("bench_in_process")
        with BackgroundServer(lambda: create_app(settings)) as in_process:
            client = boto3.client("redshift-data", endpoint_url=in_process.url, **LOCAL)
            bench_refresh(client, args.records, args.shards, "bench_in_process", "refresh (server in this process)")
    with canned_server() as canned_url:
        lean_floor_ms = bench_floor(_lean(canned_url).round_trip, args.queries)
        boto3_canned = boto3.client("redshift-data", endpoint_url=canned_url, **LOCAL)
        boto3_floor_ms = bench_floor(lambda sql: bench_boto3_calls(boto3_canned, sql), args.queries)
    print(f"floor (the same three calls against a do-nothing server in its own process): "
          f"lean client p50 {lean_floor_ms:.2f} ms, boto3 p50 {boto3_floor_ms:.2f} ms")
    print(f"RATIO refresh_records_per_s_vs_50k {per_s / 50_000:.3f}")
    print(f"RATIO dataapi_overhead_p50_ms {lean_overhead_ms:.3f}")
    print(f"RATIO dataapi_server_overhead_p50_ms {lean_overhead_ms - lean_floor_ms:.3f}")
    print(f"RATIO dataapi_overhead_boto3_p50_ms {overhead_ms:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
