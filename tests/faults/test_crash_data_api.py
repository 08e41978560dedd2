"""Crash matrix, local Data API: ``python -m emulator.redshift_data`` killed with SIGKILL
while statements run. The statement store lives in the server's memory, so after a restart
every earlier id is unknown (``Query ... does not exist.``) -- never FINISHED with partial
results; PostgreSQL keeps what is its to keep: a batch (one transaction) is all there or
not at all, the streaming view's rows and checkpoints move together (no record twice after
the next REFRESH), views and external schemas survive, and a statement orphaned by the
kill stops instead of running on."""
from __future__ import annotations

import json
import random
import signal
import threading
import time
import uuid

import boto3
import psycopg
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.support.local_stack import LOCAL_CREDENTIALS as LOCAL
from tests.support.local_stack import run_sql
from crash_helpers import start_server, stop

BATCH_SQLS = 4
BATCH_ROWS = 50
SLOW_SQL = "SELECT pg_sleep(120) AS orphan_probe"


def data_api_client(url: str):
    return boto3.client("redshift-data", endpoint_url=url, **LOCAL,
                        config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=10))


class StatementLoad:
    """Batches of INSERTs and REFRESHes submitted and polled until the server dies."""

    def __init__(self, url: str, database: str, feed_stream) -> None:
        self.client, self.database, self.feed_stream = data_api_client(url), database, feed_stream
        self.submitted: list[str] = []
        self.finished_batches: set[int] = set()
        self.first_finished = threading.Event()
        self.threads = [threading.Thread(target=self._batches, daemon=True),
                        threading.Thread(target=self._refreshes, daemon=True)]

    def start(self) -> "StatementLoad":
        self.submitted.append(self.client.execute_statement(Sql=SLOW_SQL, Database=self.database,
                                                            WorkgroupName="local")["Id"])
        for thread in self.threads:
            thread.start()
        return self

    def _run(self, **request) -> str | None:
        """Submit and poll to a terminal state; the status, or None once the server is gone."""
        try:
            statement_id = self.client.batch_execute_statement(Database=self.database, WorkgroupName="local",
                                                               **request)["Id"]
            self.submitted.append(statement_id)
            while True:
                status = self.client.describe_statement(Id=statement_id)["Status"]
                if status in ("FINISHED", "FAILED", "ABORTED"):
                    return status
                time.sleep(0.01)
        except Exception:  # connection refused or reset: the server was killed
            return None

    def _batches(self) -> None:
        for batch in range(1_000_000):
            insert = f"INSERT INTO batches SELECT {batch}, g FROM generate_series(1, {BATCH_ROWS}) g"
            status = self._run(Sqls=[insert] * BATCH_SQLS)
            if status is None:
                return
            if status == "FINISHED":
                self.finished_batches.add(batch)
                self.first_finished.set()

    def _refreshes(self) -> None:
        while True:
            self.feed_stream(20)
            if self._run(Sqls=["REFRESH MATERIALIZED VIEW events"]) is None:
                return

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=30)


def described_after_restart(client, statement_id: str) -> str:
    try:
        return client.describe_statement(Id=statement_id)["Status"]
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ResourceNotFoundException", error
        return "unknown"


def orphans_running(dsn: str, timeout_s: float) -> list[str]:
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            running = [r[0] for r in conn.execute(
                "SELECT query FROM pg_stat_activity WHERE query LIKE %s AND pid <> pg_backend_pid()",
                ("%orphan_probe%",))]
            if not running or time.monotonic() > deadline:
                return running
            time.sleep(0.2)


@pytest.mark.slow
def test_in_flight_statements_never_read_finished_and_postgres_stays_whole_when_data_api_killed(
        postgres, kinesis, kinesis_url, tmp_path):
    seed = random.randrange(1_000_000)
    kill_after_s = random.Random(seed).uniform(0.0, 1.0)
    database, stream = f"crash_{uuid.uuid4().hex[:8]}", f"crash-{uuid.uuid4().hex[:8]}"
    postgres.create_database(database)
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    produced: list[int] = []

    def feed_stream(count: int) -> None:
        records = [{"Data": json.dumps({"n": len(produced) + i}).encode(), "PartitionKey": str(len(produced) + i)}
                   for i in range(count)]
        kinesis.put_records(StreamName=stream, Records=records)
        produced.extend(range(len(produced), len(produced) + count))

    args = ["--pg-dsn", postgres.dsn, "--kinesis-endpoint", kinesis_url, "--port", "0", "--auto-refresh-interval", "0"]
    log_path = tmp_path / "data-api.log"
    proc, url = start_server("emulator.redshift_data", args, "REDSHIFT_DATA_URL", log_path)
    try:
        setup = data_api_client(url)
        for sql in ("CREATE EXTERNAL SCHEMA ks FROM KINESIS IAM_ROLE default",
                    f'CREATE MATERIALIZED VIEW events AUTO REFRESH NO AS SELECT sequence_number, '
                    f'JSON_PARSE(kinesis_data) AS payload FROM ks."{stream}"',
                    "CREATE VIEW event_count AS SELECT count(*) AS n FROM events",
                    "CREATE TABLE batches (batch int, row_no int)"):
            assert run_sql(setup, sql, database)["Status"] == "FINISHED", sql
        load = StatementLoad(url, database, feed_stream).start()
        assert load.first_finished.wait(60), f"no batch finished: {log_path.read_text()[-500:]}"
        time.sleep(kill_after_s)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        load.join()
    finally:
        stop(proc)
    context = f"seed {seed}, killed {kill_after_s:.2f} s after the first batch finished"

    proc, url = start_server("emulator.redshift_data", args, "REDSHIFT_DATA_URL", log_path)
    try:
        client = data_api_client(url)
        after = {statement_id: described_after_restart(client, statement_id) for statement_id in load.submitted}
        assert set(after.values()) <= {"unknown", "FAILED", "ABORTED"}, f"{after} ({context})"
        assert orphans_running(postgres.dsn_for(database), 15) == [], f"an orphaned statement runs on ({context})"
        with psycopg.connect(postgres.dsn_for(database)) as conn:
            rows_per_batch = dict(conn.execute("SELECT batch, count(*) FROM batches GROUP BY batch").fetchall())
        whole = BATCH_SQLS * BATCH_ROWS
        assert all(n == whole for n in rows_per_batch.values()), f"a batch half-written: {rows_per_batch} ({context})"
        assert load.finished_batches <= set(rows_per_batch), context
        feed_stream(5)
        assert run_sql(client, "REFRESH MATERIALIZED VIEW events", database)["Status"] == "FINISHED", context
        counted = client.get_statement_result(Id=run_sql(client, "SELECT n FROM event_count", database)["Id"])
        schemas = run_sql(client, "SELECT schemaname FROM svv_external_schemas WHERE schemaname = 'ks'", database)
    finally:
        stop(proc)
    with psycopg.connect(postgres.dsn_for(database)) as conn:
        distinct = conn.execute("SELECT count(DISTINCT sequence_number) FROM events").fetchone()[0]
    assert counted["Records"][0][0]["longValue"] == len(produced) == distinct, context
    assert schemas["Status"] == "FINISHED" and schemas["ResultRows"] == 1, context
