"""The JSON 1.1 wire protocol, spoken by hand over a real loopback socket."""
from __future__ import annotations

import base64
import json

import pytest
from kinesis_helpers import post_operation, post_raw, signed_headers, start_server

from emulator.kinesis import KinesisBackend, KinesisSettings, UnlimitedShardHooks


def assert_error(response, status: int, code: str, message_part: str = "") -> None:
    got_status, headers, body = response
    assert (got_status, body["__type"]) == (status, code), body
    assert headers["x-amzn-ErrorType"] == code
    assert headers["Content-Type"].startswith("application/x-amz-json-1.1")
    assert message_part in body["message"]
    assert "Traceback" not in body["message"]


def test_malformed_json_gets_400_serialization_exception_when_body_is_not_json(server):
    assert_error(post_raw(server.url, b"{not json", "Kinesis_20131202.ListStreams"), 400, "SerializationException")
    assert_error(post_raw(server.url, b"[1, 2]", "Kinesis_20131202.ListStreams"), 400, "SerializationException")


def test_unknown_operation_gets_400_unknown_operation_exception_when_target_unknown_or_missing(server):
    assert_error(post_raw(server.url, b"{}", "Kinesis_20131202.Frobnicate"), 400, "UnknownOperationException")
    assert_error(post_raw(server.url, b"{}", "DynamoDB_20120810.ListTables"), 400, "UnknownOperationException")
    assert_error(post_raw(server.url, b"{}", None), 400, "UnknownOperationException", "X-Amz-Target")


def test_missing_required_member_gets_validation_exception_naming_it_when_omitted(server):
    response = post_operation(server.url, "CreateStream", {"ShardCount": 1})
    assert_error(
        response,
        400,
        "ValidationException",
        "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null",
    )


def test_wrong_member_type_gets_serialization_exception_when_string_given_for_integer(server):
    response = post_operation(server.url, "CreateStream", {"StreamName": "s", "ShardCount": "two"})
    assert_error(response, 400, "SerializationException")


def test_constraint_violations_are_all_listed_when_several_members_break_them(server):
    response = post_operation(server.url, "CreateStream", {"StreamName": "bad name!", "ShardCount": 0})
    assert_error(response, 400, "ValidationException", "2 validation errors detected")
    message = response[2]["message"]
    assert "Value 'bad name!' at 'streamName'" in message
    assert "Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1" in message


def test_unknown_stream_gets_resource_not_found_with_aws_message_when_described(server):
    response = post_operation(server.url, "DescribeStream", {"StreamName": "my-data-stream"})
    assert_error(response, 400, "ResourceNotFoundException", "Stream my-data-stream under account 000000000000 not found.")


def test_put_records_limits_are_enforced_when_request_breaks_them(server):
    assert post_operation(server.url, "CreateStream", {"StreamName": "s", "ShardCount": 1})[0] == 200
    data = base64.b64encode(b"x").decode()
    too_many = [{"Data": data, "PartitionKey": "k"}] * 501
    assert_error(
        post_operation(server.url, "PutRecords", {"StreamName": "s", "Records": too_many}),
        400,
        "ValidationException",
        "PutRecordsRequestEntry]' at 'records' failed to satisfy constraint: Member must have length less than or "
        "equal to 500",
    )
    assert_error(
        post_operation(server.url, "PutRecords", {"StreamName": "s", "Records": []}),
        400,
        "ValidationException",
        "greater than or equal to 1",
    )
    long_key = [{"Data": data, "PartitionKey": "k" * 257}]
    assert_error(
        post_operation(server.url, "PutRecords", {"StreamName": "s", "Records": long_key}),
        400,
        "ValidationException",
        "at 'records.1.member.partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256",
    )
    empty_key = {"StreamName": "s", "Data": data, "PartitionKey": ""}
    assert_error(post_operation(server.url, "PutRecord", empty_key), 400, "ValidationException", "partitionKey")
    bad_base64 = {"StreamName": "s", "Data": "***", "PartitionKey": "k"}
    assert_error(post_operation(server.url, "PutRecord", bad_base64), 400, "SerializationException", "base64")


def test_get_records_limit_out_of_range_gets_validation_exception_when_above_10000(server):
    post_operation(server.url, "CreateStream", {"StreamName": "s", "ShardCount": 1})
    _, _, body = post_operation(
        server.url,
        "GetShardIterator",
        {"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"},
    )
    request = {"ShardIterator": body["ShardIterator"], "Limit": 10_001}
    assert_error(
        post_operation(server.url, "GetRecords", request),
        400,
        "ValidationException",
        "Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000",
    )
    bad_type = {"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "OLDEST"}
    assert_error(post_operation(server.url, "GetShardIterator", bad_type), 400, "ValidationException", "enum value set")


def test_record_over_size_limit_gets_validation_exception_when_data_too_large():
    srv = start_server(KinesisBackend(KinesisSettings(max_record_bytes=1024)))
    try:
        post_operation(srv.url, "CreateStream", {"StreamName": "s", "ShardCount": 1})
        request = {"StreamName": "s", "Data": base64.b64encode(b"x" * 1024).decode(), "PartitionKey": "k"}
        assert_error(post_operation(srv.url, "PutRecord", request), 400, "ValidationException", "1024")
    finally:
        srv.stop()


def test_account_and_region_come_from_access_key_and_credential_scope_when_request_signed():
    settings = KinesisSettings.unthrottled(
        credentials={"streamload-local": "streamload-local", "AKIDACCOUNTONE": "secret-one"},
        access_key_accounts={"AKIDACCOUNTONE": "111111111111"},
    )
    srv = start_server(KinesisBackend(settings))
    try:
        body = json.dumps({"StreamName": "s", "ShardCount": 1}).encode()
        target = {"X-Amz-Target": "Kinesis_20131202.CreateStream", "Content-Type": "application/x-amz-json-1.1"}
        account_one = signed_headers(srv.url, body, target, "AKIDACCOUNTONE", "secret-one", "eu-west-1")
        assert post_raw(srv.url, body, None, account_one)[0] == 200
        assert post_operation(srv.url, "CreateStream", {"StreamName": "s", "ShardCount": 1})[0] == 200
        describe = json.dumps({"StreamName": "s"}).encode()
        target["X-Amz-Target"] = "Kinesis_20131202.DescribeStreamSummary"
        headers = signed_headers(srv.url, describe, target, "AKIDACCOUNTONE", "secret-one", "eu-west-1")
        _, _, answer = post_raw(srv.url, describe, None, headers)
        assert answer["StreamDescriptionSummary"]["StreamARN"] == "arn:aws:kinesis:eu-west-1:111111111111:stream/s"
        _, _, answer = post_operation(srv.url, "DescribeStreamSummary", {"StreamName": "s"})  # the local key
        assert answer["StreamDescriptionSummary"]["StreamARN"] == "arn:aws:kinesis:us-east-1:000000000000:stream/s"
    finally:
        srv.stop()


def test_unexpected_failure_gets_500_internal_failure_without_details_when_backend_breaks():
    class BrokenReads(UnlimitedShardHooks):
        def before_get(self, shard, now):
            raise RuntimeError("secret internal detail")

    srv = start_server(KinesisBackend(shard_hooks=lambda stream, shard: BrokenReads()))
    try:
        post_operation(srv.url, "CreateStream", {"StreamName": "s", "ShardCount": 1})
        _, _, body = post_operation(
            srv.url,
            "GetShardIterator",
            {"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "LATEST"},
        )
        response = post_operation(srv.url, "GetRecords", {"ShardIterator": body["ShardIterator"]})
        assert_error(response, 500, "InternalFailure")
        assert "secret" not in response[2]["message"]
    finally:
        srv.stop()


@pytest.mark.parametrize("body", [b"", b"{}"])
def test_list_streams_answers_empty_list_when_body_empty_or_empty_object(server, body):
    status, headers, payload = post_raw(server.url, body, "Kinesis_20131202.ListStreams")
    assert status == 200 and headers["x-amzn-RequestId"]
    assert payload == {"StreamNames": [], "HasMoreStreams": False, "StreamSummaries": []}


def test_module_command_prints_url_and_serves_when_started_on_port_zero():
    import select
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "emulator.kinesis", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 20)
        assert ready, "server did not print its URL within 20 s"
        line = process.stdout.readline().strip()
        assert line.startswith("KINESIS_URL=http://127.0.0.1:")
        status, _, body = post_operation(line.split("=", 1)[1], "ListStreams", {})
        assert status == 200 and body["StreamNames"] == []
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
