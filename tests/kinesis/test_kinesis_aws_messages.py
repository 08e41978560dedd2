"""Edge cases where the local Kinesis must answer with AWS's own error and wording.

The expected messages are AWS's recorded answers (kinesalite's test suite, which runs
against the real service, and moto's): docs/kinesis.md lists them."""
from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError
from kinesis_helpers import post_operation

from emulator.service_model import shown_pattern

ORDER_MESSAGE = (
    "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
    "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified {kind} and {what} "
    "StartingSequenceNumber."
)


def _error(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


@pytest.fixture
def stream(kinesis):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    sequence_number = kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k")["SequenceNumber"]
    return kinesis, sequence_number


@pytest.mark.parametrize("kind", ["LATEST", "TRIM_HORIZON"])
def test_get_shard_iterator_refuses_sequence_number_when_type_is_latest_or_trim_horizon(stream, kind):
    kinesis, sequence_number = stream
    code, message = _error(lambda: kinesis.get_shard_iterator(
        StreamName="s", ShardId="shardId-000000000000", ShardIteratorType=kind, StartingSequenceNumber=sequence_number))
    assert (code, message) == ("InvalidArgumentException", ORDER_MESSAGE.format(kind=kind, what="also a"))


@pytest.mark.parametrize("kind", ["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"])
def test_get_shard_iterator_asks_for_sequence_number_in_aws_words_when_type_needs_one(stream, kind):
    kinesis, _ = stream
    code, message = _error(lambda: kinesis.get_shard_iterator(
        StreamName="s", ShardId="shardId-000000000000", ShardIteratorType=kind))
    assert (code, message) == ("InvalidArgumentException", ORDER_MESSAGE.format(kind=kind, what="no"))


def test_get_shard_iterator_refuses_at_timestamp_when_timestamp_is_in_the_future(stream):
    kinesis, _ = stream
    code, message = _error(lambda: kinesis.get_shard_iterator(
        StreamName="s", ShardId="shardId-000000000000", ShardIteratorType="AT_TIMESTAMP", Timestamp=time.time() + 3600))
    assert code == "InvalidArgumentException"
    assert message.startswith("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
                              "timestampInMillis: ")
    assert ", currentTimestampInMillis: " in message


def test_get_shard_iterator_at_timestamp_now_reads_nothing_yet_when_timestamp_is_the_present(stream):
    kinesis, _ = stream
    iterator = kinesis.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000",
                                          ShardIteratorType="AT_TIMESTAMP", Timestamp=time.time())["ShardIterator"]
    assert kinesis.get_records(ShardIterator=iterator)["Records"] == []


def test_list_shards_names_next_token_or_stream_name_when_neither_given(server):
    status, _, body = post_operation(server.url, "ListShards", {})
    assert (status, body["__type"], body["message"]) == (
        400, "InvalidArgumentException", "Either NextToken or StreamName should be provided.")


def test_pattern_message_shows_aws_bare_expression_when_sequence_number_is_malformed(server):
    post_operation(server.url, "CreateStream", {"StreamName": "s", "ShardCount": 1})
    status, _, body = post_operation(server.url, "GetShardIterator", {
        "StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_SEQUENCE_NUMBER",
        "StartingSequenceNumber": "12x"})
    assert (status, body["__type"]) == (400, "ValidationException")
    assert body["message"] == (
        "1 validation error detected: Value '12x' at 'startingSequenceNumber' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})")


def test_empty_names_report_pattern_and_length_when_both_fail(server):
    status, _, body = post_operation(server.url, "PutRecord", {"StreamName": "", "PartitionKey": "", "Data": ""})
    assert (status, body["__type"]) == (400, "ValidationException")
    message = body["message"]
    assert message.startswith("3 validation errors detected: ")
    assert ("Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression "
            "pattern: [a-zA-Z0-9_.-]+") in message
    assert "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1" in message
    assert "Value '' at 'partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1" in message


def test_oversized_blob_is_shown_as_aws_byte_buffer_when_data_too_long(server):
    import base64

    post_operation(server.url, "CreateStream", {"StreamName": "s", "ShardCount": 1})
    data = base64.b64encode(b"x" * (1024 * 1024 + 1)).decode()
    status, _, body = post_operation(server.url, "PutRecord", {"StreamName": "s", "PartitionKey": "k", "Data": data})
    assert (status, body["__type"]) == (400, "ValidationException")
    assert "Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' at 'data'" in body["message"]


def test_at_most_ten_violations_are_listed_when_a_request_breaks_more(server):
    records = [{"PartitionKey": "", "Data": ""}] * 12
    status, _, body = post_operation(server.url, "PutRecords", {"StreamName": "s", "Records": records})
    assert (status, body["__type"]) == (400, "ValidationException")
    assert body["message"].startswith("10 validation errors detected: ")
    assert body["message"].count("failed to satisfy constraint") == 10


@pytest.mark.parametrize("pattern, shown", [
    ("^(0|([1-9]\\d{0,128}))$", "0|([1-9]\\d{0,128})"),
    ("[a-zA-Z0-9_.-]+", "[a-zA-Z0-9_.-]+"),
    ("^(arn):aws.*:kinesis:.*", "(arn):aws.*:kinesis:.*"),
    ("^(a)|(b)$", "(a)|(b)"),
])
def test_shown_pattern_drops_only_whole_anchoring_when_model_anchors_it(pattern, shown):
    assert shown_pattern(pattern) == shown
