"""Faults on demand: per-record InternalFailure, latency, dropped connections, pauses,
and the loopback admin endpoint that sets them."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError
from kinesis_helpers import make_client, start_server

from tests.support.clock import FakeClock

from emulator.kinesis import FAULTS_PATH, KINESIS_BACKEND, CallerIdentity, FaultPlan, KinesisBackend, KinesisSettings, PutRecordsEntry
from emulator.kinesis.exceptions import InternalFailureException

CALLER = CallerIdentity("000000000000", "us-east-1", "streamload-local")


def admin(url: str, method: str, plan: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(plan).encode() if plan is not None else None
    request = urllib.request.Request(url + FAULTS_PATH, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_put_records_fails_about_the_planned_share_with_internal_failure_when_fault_set():
    backend = KinesisBackend(KinesisSettings.unthrottled(faults=FaultPlan(internal_failure_fraction=0.2, seed=7)),
                             clock=FakeClock())
    backend.create_stream(CALLER, "s", 2)
    results = []
    for _ in range(4):
        results += backend.put_records(CALLER, [PutRecordsEntry(b"x", str(i)) for i in range(500)], stream_name="s")
    failed = [r for r in results if r.error_code]
    assert 300 <= len(failed) <= 500  # 20 % of 2,000
    assert {(r.error_code, r.error_message) for r in failed} == {("InternalFailure", "Internal service failure.")}
    with pytest.raises(InternalFailureException):
        for _ in range(100):
            backend.put_record(CALLER, b"x", "k", stream_name="s")


def test_admin_endpoint_sets_reports_and_clears_plan_when_called_over_http(server):
    status, body = admin(server.url, "POST", {"internal_failure_fraction": 1.0})
    assert status == 200 and body["internal_failure_fraction"] == 1.0 and body["active"] is True
    kinesis = make_client(server.url)
    kinesis.create_stream(StreamName="s", ShardCount=1)
    response = kinesis.put_records(StreamName="s", Records=[{"Data": b"x", "PartitionKey": "k"}] * 3)
    assert response["FailedRecordCount"] == 3
    assert {r["ErrorCode"] for r in response["Records"]} == {"InternalFailure"}
    with pytest.raises(ClientError) as caught:
        kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k")
    assert caught.value.response["Error"]["Code"] == "InternalFailure"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert admin(server.url, "GET")[1]["active"] is True
    status, body = admin(server.url, "DELETE")
    assert status == 200 and body["active"] is False
    assert kinesis.put_records(StreamName="s", Records=[{"Data": b"x", "PartitionKey": "k"}])["FailedRecordCount"] == 0


def test_admin_endpoint_rejects_plan_with_validation_exception_when_field_unknown_or_out_of_range(server):
    status, body = admin(server.url, "POST", {"internal_failure_fraction": 2})
    assert status == 400 and body["__type"] == "ValidationException" and "internal_failure_fraction" in body["message"]
    status, body = admin(server.url, "POST", {"explode": True})
    assert status == 400 and "explode" in body["message"]
    assert admin(server.url, "GET")[1]["active"] is False


def test_added_latency_delays_every_request_when_planned(server):
    kinesis = make_client(server.url)
    admin(server.url, "POST", {"added_latency_ms": 400})
    started = time.perf_counter()
    kinesis.list_streams()
    delayed = time.perf_counter() - started
    assert delayed >= 0.4
    admin(server.url, "DELETE")
    assert admin(server.url, "GET")[1]["active"] is False
    started = time.perf_counter()
    kinesis.list_streams()
    assert time.perf_counter() - started < delayed  # measured side by side, not against a fixed budget


def test_dropped_connection_surfaces_as_connection_error_when_fraction_is_one(server):
    kinesis = make_client(server.url)
    admin(server.url, "POST", {"drop_connection_fraction": 1.0})
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        kinesis.list_streams()
    admin(server.url, "DELETE")
    assert kinesis.list_streams()["StreamNames"] == []


def test_pause_holds_requests_until_it_ends_when_pause_set(server):
    kinesis = make_client(server.url)
    admin(server.url, "POST", {"pause_s": 0.5})
    started = time.perf_counter()
    kinesis.list_streams()
    assert 0.3 <= time.perf_counter() - started < 5
    assert admin(server.url, "GET")[1]["pause_remaining_s"] == 0


def test_clear_ends_pause_at_once_when_called_from_python(server):
    faults = server.app[KINESIS_BACKEND].faults
    faults.apply(FaultPlan(pause_s=30))
    assert faults.pause_remaining_s() > 25
    faults.clear()
    started = time.perf_counter()
    make_client(server.url).list_streams()
    assert time.perf_counter() - started < 1


def test_admin_endpoint_counts_injected_faults_and_throttles_since_start_when_faults_applied():
    backend = KinesisBackend(KinesisSettings(shard_write_records_per_s=5, control_plane_limits_enabled=False))
    srv = start_server(backend)
    try:
        kinesis = make_client(srv.url)
        kinesis.create_stream(StreamName="s", ShardCount=1)
        first = admin(srv.url, "GET")[1]
        assert first["injected"] == {} and first["throttled"] == {} and len(first["instance_id"]) == 12
        admin(srv.url, "POST", {"internal_failure_fraction": 1.0})
        kinesis.put_records(StreamName="s", Records=[{"Data": b"x", "PartitionKey": "k"}] * 4)
        admin(srv.url, "DELETE")  # clearing the plan keeps the counts
        response = kinesis.put_records(StreamName="s", Records=[{"Data": b"x", "PartitionKey": "k"}] * 20)
        body = admin(srv.url, "GET")[1]
        assert body["injected"] == {"internal_failure": 4}
        assert body["throttled"] == {"PutRecord": response["FailedRecordCount"]} and response["FailedRecordCount"] > 0
        assert body["instance_id"] == first["instance_id"]
    finally:
        srv.stop()
