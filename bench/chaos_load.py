"""The load ``chaos.py`` runs while it kills things, and the checks against ground truth.

Ground truth is what the servers acknowledged to this load: the Kinesis answers to its
PutRecords (shard, sequence number, data) and the Data API's FINISHED batches.
"""
from __future__ import annotations

import json
import threading
import time
import uuid

import boto3
import psycopg
from botocore.config import Config
from botocore.exceptions import ClientError

DATABASE = "chaos"
PUT_THREADS = 2
PUT_BATCH = 50
BATCH_SQLS = 4
BATCH_ROWS = 25
TERMINAL = ("FINISHED", "FAILED", "ABORTED")
LOCAL = {"aws_access_key_id": "streamload-local", "aws_secret_access_key": "streamload-local",
         "region_name": "us-east-1"}
_ONE_TRY = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=10)


class ChaosLoad:
    def __init__(self, number: int, kinesis_url: str, data_api_url: str, pg) -> None:
        self.number, self.pg = number, pg
        self.stream = f"chaos-{number}-{uuid.uuid4().hex[:6]}"
        self.view, self.count_view, self.table = f"events_{number}", f"event_count_{number}", f"batches_{number}"
        self.kinesis_url, self.data_api_url = kinesis_url, data_api_url
        self.acked: list[tuple[str, int, bytes]] = []
        self.finished_batches: set[int] = set()
        self.submitted: list[str] = []
        self.stream_records = 0  # set by check_kinesis
        self.first_ack = threading.Event()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._put, args=(w,), daemon=True) for w in range(PUT_THREADS)]
        self._threads += [threading.Thread(target=self._batches, daemon=True),
                          threading.Thread(target=self._refreshes, daemon=True)]

    def kinesis(self):
        return boto3.client("kinesis", endpoint_url=self.kinesis_url, **LOCAL, config=_ONE_TRY)

    def data_api(self):
        return boto3.client("redshift-data", endpoint_url=self.data_api_url, **LOCAL, config=_ONE_TRY)

    def prepare(self) -> "ChaosLoad":
        self.kinesis().create_stream(StreamName=self.stream, ShardCount=2)
        self.pg.create_database(DATABASE)
        client = self.data_api()
        for sql in ("CREATE EXTERNAL SCHEMA IF NOT EXISTS ks FROM KINESIS IAM_ROLE default",
                    f"CREATE MATERIALIZED VIEW {self.view} AUTO REFRESH NO AS SELECT sequence_number, "
                    f'JSON_PARSE(kinesis_data) AS payload FROM ks."{self.stream}"',
                    f"CREATE VIEW {self.count_view} AS SELECT count(*) AS n FROM {self.view}",
                    f"CREATE TABLE {self.table} (batch int, row_no int)"):
            status, error = run_statement(client, Sql=sql)
            if status != "FINISHED":
                raise RuntimeError(f"setting up run {self.number}: {sql[:60]}: {status} {error}")
        return self

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def submitted_so_far(self) -> list[str]:
        """The statements submitted so far: the ones a restarted Data API must not call FINISHED."""
        return list(self.submitted)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _put(self, worker: int) -> None:
        kinesis = self.kinesis()
        batch = 0
        while not self._stop.is_set():
            batch += 1
            entries = [{"Data": json.dumps({"r": self.number, "w": worker, "b": batch, "i": i}).encode(),
                        "PartitionKey": f"{worker}-{batch}-{i}"} for i in range(PUT_BATCH)]
            try:
                answer = kinesis.put_records(StreamName=self.stream, Records=entries)
            except Exception:  # killed or restarting: not acknowledged, so not ground truth
                time.sleep(0.05)
                continue
            for entry, result in zip(entries, answer["Records"]):
                if "SequenceNumber" in result:
                    self.acked.append((result["ShardId"], int(result["SequenceNumber"]), entry["Data"]))
            self.first_ack.set()

    def _statement(self, client, sqls: list[str]) -> str | None:
        """Submit a batch and poll it to the end; its status, or None if the server went away."""
        try:
            statement_id = client.batch_execute_statement(Database=DATABASE, WorkgroupName="local", Sqls=sqls)["Id"]
            self.submitted.append(statement_id)
            while not self._stop.is_set():
                status = client.describe_statement(Id=statement_id)["Status"]
                if status in TERMINAL:
                    return status
                time.sleep(0.01)
        except Exception:
            time.sleep(0.05)
        return None

    def _batches(self) -> None:
        client, batch = self.data_api(), 0
        while not self._stop.is_set():
            batch += 1
            insert = f"INSERT INTO {self.table} SELECT {batch}, g FROM generate_series(1, {BATCH_ROWS}) g"
            if self._statement(client, [insert] * BATCH_SQLS) == "FINISHED":
                self.finished_batches.add(batch)

    def _refreshes(self) -> None:
        client = self.data_api()
        while not self._stop.is_set():
            self._statement(client, [f"REFRESH MATERIALIZED VIEW {self.view}"])


def run_statement(client, **request) -> tuple[str, str | None]:
    statement_id = client.execute_statement(Database=DATABASE, WorkgroupName="local", **request)["Id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        described = client.describe_statement(Id=statement_id)
        if described["Status"] in TERMINAL:
            return described["Status"], described.get("Error")
        time.sleep(0.02)
    return "TIMEOUT", None


def check_kinesis(load: ChaosLoad) -> tuple[int, list[str]]:
    """(acknowledged records not read back, disagreements): order and uniqueness per shard."""
    kinesis, problems, readable = load.kinesis(), [], set()
    for shard in kinesis.list_shards(StreamName=load.stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=load.stream, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        numbers, payloads = [], []
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            numbers += [int(r["SequenceNumber"]) for r in page["Records"]]
            payloads += [r["Data"] for r in page["Records"]]
            iterator = page.get("NextShardIterator")
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
        if numbers != sorted(set(numbers)):
            problems.append(f"{shard['ShardId']} reads sequence numbers out of order or twice")
        if len(set(payloads)) != len(payloads):
            problems.append(f"{shard['ShardId']} holds a record twice")
        readable |= {(shard["ShardId"], n, p) for n, p in zip(numbers, payloads)}
        load.stream_records += len(payloads)
    lost = sum(1 for record in load.acked if record not in readable)
    return lost, problems


def check_data_api(load: ChaosLoad, before_restart: list[str]) -> tuple[int, list[str]]:
    """(rows of acknowledged batches missing, disagreements) after the Data API came back."""
    client, problems = load.data_api(), []
    for statement_id in before_restart:
        try:
            status = client.describe_statement(Id=statement_id)["Status"]
        except ClientError as error:
            status = "unknown" if error.response["Error"]["Code"] == "ResourceNotFoundException" else str(error)
        if status not in ("unknown", "FAILED", "ABORTED"):
            problems.append(f"statement {statement_id} from before the restart reads {status}")
    with psycopg.connect(load.pg.dsn_for(DATABASE)) as conn:
        present = dict(conn.execute(f"SELECT batch, count(*) FROM {load.table} GROUP BY batch").fetchall())
    whole = BATCH_SQLS * BATCH_ROWS
    problems += [f"batch {b} half-written ({n} of {whole} rows)" for b, n in present.items() if n != whole]
    lost = whole * len(load.finished_batches - set(present))
    status, error = run_statement(client, Sql=f"REFRESH MATERIALIZED VIEW {load.view}")
    if status != "FINISHED":
        return lost, problems + [f"REFRESH after the restart: {status} {error}"]
    with psycopg.connect(load.pg.dsn_for(DATABASE)) as conn:
        rows, distinct = conn.execute(f"SELECT count(*), count(DISTINCT sequence_number) FROM {load.view}").fetchone()
    if not rows == distinct == load.stream_records:
        problems.append(f"view holds {rows} rows ({distinct} distinct) for {load.stream_records} records in the stream")
    status, _ = run_statement(client, Sql=f"SELECT n FROM {load.count_view}")
    schemas, _ = run_statement(client, Sql="SELECT schemaname FROM svv_external_schemas WHERE schemaname = 'ks'")
    if status != "FINISHED" or schemas != "FINISHED":
        problems.append(f"the view or the external schema is gone after the restart ({status}, {schemas})")
    return lost, problems
