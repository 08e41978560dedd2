"""Poison records: what the streaming MV does with data it cannot take, and how streamload
explains the records that go missing because of it.

Redshift's behaviour, which the local stack copies: ``kinesis_data`` is VARBYTE, so any
bytes arrive; ``JSON_PARSE`` on a record that is not JSON (or not UTF-8, or nested too
deep) fails the whole REFRESH, the view keeps its rows and checkpoints and fails again on
the same record next time; ``WHERE CAN_JSON_PARSE(kinesis_data)`` skips such records. A
record longer than VARBYTE's 1,024,000 bytes is skipped with a row in
SYS_STREAM_SCAN_ERRORS and the refresh succeeds.
"""
from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest
from tests.support.local_stack import LOCAL_CREDENTIALS as LOCAL
from tests.support.local_stack import result_rows as rows
from tests.support.local_stack import run_sql

from streamload.dataapi.client import DataApiClient, make_boto3_client
from streamload.core.ledger import LedgerWriter
from streamload.core.config import RedshiftConfig, TargetConfig
from streamload.audit import audit_view
from streamload.loss_reasons import explain_losses, why_not_json

POISON = {
    "not JSON": (b"this is not json", "invalid JSON"),
    "invalid UTF-8": (b'{"name": "\xff\xfe"}', "invalid UTF-8"),
    "deeply nested": (b"[" * 20_000 + b"]" * 20_000, "nested too deeply"),
}


def _setup(redshift, database: str, stream: str, view: str = "events", where: str = "") -> None:
    for sql in (f"CREATE EXTERNAL SCHEMA IF NOT EXISTS ks FROM KINESIS IAM_ROLE default",
                f"CREATE MATERIALIZED VIEW {view} AUTO REFRESH NO AS SELECT sequence_number, "
                f'JSON_PARSE(kinesis_data) AS payload FROM ks."{stream}" {where}'):
        described = run_sql(redshift, sql, database)
        assert described["Status"] == "FINISHED", described.get("Error")


def _put(kinesis, stream: str, data: bytes) -> str:
    return kinesis.put_record(StreamName=stream, Data=data, PartitionKey="k")["SequenceNumber"]


def _good(n: int) -> bytes:
    return json.dumps({"event_id": f"e{n}", "n": n}).encode()


@pytest.mark.parametrize("kind", list(POISON))
def test_refresh_fails_and_stays_stuck_on_record_json_parse_cannot_read_when_view_parses_json(
        kind, redshift, kinesis, database, stream):
    data, why = POISON[kind]
    _setup(redshift, database, stream)
    _put(kinesis, stream, _good(1))
    assert run_sql(redshift, "REFRESH MATERIALIZED VIEW events", database)["Status"] == "FINISHED"
    _put(kinesis, stream, data)
    _put(kinesis, stream, _good(2))
    for _ in range(2):  # the next refresh meets the same record again
        failed = run_sql(redshift, "REFRESH MATERIALIZED VIEW events", database)
        assert failed["Status"] == "FAILED"
        assert failed["Error"].startswith("JSON parsing error") and why in failed["Error"], failed["Error"]
    assert rows(redshift, "SELECT count(*) FROM events", database) == [[1]]
    history = rows(redshift, "SELECT status FROM sys_mv_refresh_history WHERE mv_name = 'events' "
                             "ORDER BY start_time DESC LIMIT 1", database)
    assert history[0][0].startswith("Refresh failed: JSON parsing error")

    # The documented cure: a view that only parses what can be parsed takes the rest.
    _setup(redshift, database, stream, "clean", "WHERE CAN_JSON_PARSE(kinesis_data)")
    assert run_sql(redshift, "REFRESH MATERIALIZED VIEW clean", database)["Status"] == "FINISHED"
    assert rows(redshift, "SELECT payload.event_id FROM clean ORDER BY sequence_number", database) == \
        [['"e1"'], ['"e2"']]


def test_oversize_record_is_skipped_with_a_scan_error_row_when_longer_than_varbyte(
        redshift, kinesis, database, stream):
    _setup(redshift, database, stream)
    _put(kinesis, stream, _good(1))
    big = json.dumps({"pad": "x" * 1_030_000}).encode()  # fits Kinesis's 1 MiB, not VARBYTE
    big_seq = _put(kinesis, stream, big)
    _put(kinesis, stream, _good(2))
    assert run_sql(redshift, "REFRESH MATERIALIZED VIEW events", database)["Status"] == "FINISHED"
    assert rows(redshift, "SELECT count(*) FROM events", database) == [[2]]
    errors = rows(redshift, "SELECT position, length, error_message FROM sys_stream_scan_errors "
                            f"WHERE stream_name = '{stream}'", database)
    assert len(errors) == 1 and errors[0][0] == big_seq and int(errors[0][1]) == len(big)
    assert "1024000" in errors[0][2]


def test_loss_reasons_name_the_poison_record_and_the_scan_error_when_records_are_missing(
        redshift, kinesis, database, stream, data_api_url, kinesis_url, tmp_path):
    started = time.time()
    _setup(redshift, database, stream)
    ledger_path = tmp_path / "ledger-p0.json"
    ledger = LedgerWriter(ledger_path, "p0", "r1")

    def produce(seq: int, data: dict) -> None:
        body = json.dumps({"event_id": f"p0-r1-{seq}", "run_id": "r1", "producer_id": "p0", "seq": seq,
                           "produced_at": time.time(), **data}).encode()
        result = kinesis.put_record(StreamName=stream, Data=body, PartitionKey=str(seq))
        ledger.generated(seq + 1)
        ledger.append([(f"p0-r1-{seq}", "p0", seq, result["ShardId"], result["SequenceNumber"], time.time(),
                        time.time())])

    produce(0, {"n": 0})
    produce(1, {"pad": "x" * 1_030_000})  # fits Kinesis's 1 MiB, not VARBYTE: a scan error
    assert run_sql(redshift, "REFRESH MATERIALIZED VIEW events", database)["Status"] == "FINISHED"
    poison_seq = _put(kinesis, stream, b"<html>not json</html>")  # someone else's writer
    produce(2, {"n": 2})
    produce(3, {"n": 3})
    assert run_sql(redshift, "REFRESH MATERIALIZED VIEW events", database)["Status"] == "FAILED"
    ledger.close()

    target = TargetConfig(redshift_data_endpoint_url=data_api_url, kinesis_endpoint_url=kinesis_url,
                          access_key_id=LOCAL["aws_access_key_id"], secret_access_key=LOCAL["aws_secret_access_key"])
    client = DataApiClient(make_boto3_client(target), RedshiftConfig(database=database, workgroup_name="local"))
    kinesis_client = boto3.client("kinesis", endpoint_url=kinesis_url, **LOCAL)
    audit = audit_view(client, "events", "r1", [ledger_path], started)
    assert (audit.produced, audit.found, audit.lost) == (4, 1, 3)
    explained = explain_losses(client, kinesis_client, stream, "events", audit, started)

    assert "error" not in explained, explained["error"]
    assert explained["scan_errors"] == 1
    reasons = explained["lost_by_reason"]
    scan = [r for r in reasons if r.startswith("scan error:")]
    assert len(scan) == 1 and reasons[scan[0]] == 1 and "1024000" in scan[0]
    blocked = f"blocked behind poison record shardId-000000000000/{poison_seq} (not JSON: Expecting value at offset 0): every refresh fails on it"
    assert reasons[blocked] == 2 and explained["lost_examples"][blocked] == ["p0 seq 1-3"]
    assert explained["poison_records"] == [{"shard_id": "shardId-000000000000", "sequence_number": poison_seq,
                                            "bytes": 21, "reason": "not JSON: Expecting value at offset 0"}]


@pytest.mark.parametrize(("data", "reason"), [
    (b'{"a": [1, 2]}', None),
    (b"not json", "not JSON: Expecting value at offset 0"),
    (b'{"a": 1', "not JSON: Expecting ',' delimiter at offset 7"),
    (b'"\xc3\x28"', "not UTF-8: byte 0xc3 at offset 1"),
    (b"[" * 5000 + b"]" * 5000, "JSON nested 5000 levels deep"),
    (b'["[[[[", "]"]', None),  # brackets inside strings are not nesting
])
def test_why_not_json_names_what_json_parse_would_trip_on_when_given_record_bytes(data, reason):
    assert why_not_json(data) == reason
