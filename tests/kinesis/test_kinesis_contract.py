"""Contract tests: what a boto3 user sees, written so the same tests run against real AWS.

By default they run against the local server with AWS's default limits (throttling on).
``STREAMLOAD_CONTRACT_AWS=1`` adds a run against the account in the default credential
chain (region from ``AWS_DEFAULT_REGION``, default us-east-1); it creates and deletes
one-shard streams named ``streamload-contract-*`` and costs a few cents. Never in CI.
"""
from __future__ import annotations

import os
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from kinesis_helpers import LOCAL_KEY, REGION, start_server

from emulator.kinesis import KinesisBackend, KinesisSettings

_NO_CLIENT_CHECKS = Config(parameter_validation=False, retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture(params=["local", "aws"])
def contract_kinesis(request):
    if request.param == "aws":
        if os.environ.get("STREAMLOAD_CONTRACT_AWS") != "1":
            pytest.skip("set STREAMLOAD_CONTRACT_AWS=1 to run the contract tests against real AWS")
        yield boto3.client("kinesis", region_name=os.environ.get("AWS_DEFAULT_REGION", REGION), config=_NO_CLIENT_CHECKS)
        return
    server = start_server(KinesisBackend(KinesisSettings()))  # AWS's defaults, limits on
    try:
        yield boto3.client("kinesis", endpoint_url=server.url, region_name=REGION, aws_access_key_id=LOCAL_KEY,
                           aws_secret_access_key=LOCAL_KEY, config=_NO_CLIENT_CHECKS)
    finally:
        server.stop()


@pytest.fixture
def one_shard_stream(contract_kinesis):
    name = f"streamload-contract-{uuid.uuid4().hex[:10]}"
    contract_kinesis.create_stream(StreamName=name, ShardCount=1)
    deadline = time.monotonic() + 120
    while contract_kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "stream never became ACTIVE"
        time.sleep(1)
    yield name
    contract_kinesis.delete_stream(StreamName=name)


def code_of(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def test_records_read_back_in_order_with_millis_behind_zero_when_caught_up(contract_kinesis, one_shard_stream):
    sent = [f"rec-{i}".encode() for i in range(20)]
    result = contract_kinesis.put_records(StreamName=one_shard_stream, Records=[{"Data": d, "PartitionKey": "k"} for d in sent])
    assert result["FailedRecordCount"] == 0
    iterator = contract_kinesis.get_shard_iterator(StreamName=one_shard_stream, ShardId="shardId-000000000000",
                                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    page = contract_kinesis.get_records(ShardIterator=iterator, Limit=10_000)
    assert [r["Data"] for r in page["Records"]] == sent
    assert page["MillisBehindLatest"] == 0 and page["NextShardIterator"]


def test_put_records_fails_some_records_with_throughput_exceeded_when_shard_overloaded(contract_kinesis, one_shard_stream):
    failed_codes: set[str] = set()
    failed = 0
    for _ in range(10):  # 5,000 records of 1 KiB at once: far above 1,000 records/s
        result = contract_kinesis.put_records(
            StreamName=one_shard_stream, Records=[{"Data": b"x" * 1024, "PartitionKey": str(i)} for i in range(500)]
        )
        failed += result["FailedRecordCount"]
        failed_codes |= {r["ErrorCode"] for r in result["Records"] if "ErrorCode" in r}
    assert failed > 0 and failed_codes == {"ProvisionedThroughputExceededException"}


def test_bad_input_gets_aws_error_codes_when_limits_broken(contract_kinesis, one_shard_stream):
    put = contract_kinesis.put_record
    assert code_of(lambda: put(StreamName=one_shard_stream, Data=b"x" * (1024 * 1024), PartitionKey="k")) == "ValidationException"
    assert code_of(lambda: put(StreamName=one_shard_stream, Data=b"x", PartitionKey="k" * 257)) == "ValidationException"
    assert code_of(lambda: put(StreamName=one_shard_stream, Data=b"x", PartitionKey="k",
                               ExplicitHashKey=str(2**128))) == "InvalidArgumentException"
    too_many = [{"Data": b"x", "PartitionKey": "k"}] * 501
    assert code_of(lambda: contract_kinesis.put_records(StreamName=one_shard_stream, Records=too_many)) == "ValidationException"
    assert code_of(lambda: contract_kinesis.get_records(ShardIterator="not-an-iterator")) in (
        "InvalidArgumentException", "ValidationException")


def test_unknown_stream_and_duplicate_name_get_resource_errors_when_used(contract_kinesis, one_shard_stream):
    assert code_of(lambda: contract_kinesis.describe_stream_summary(StreamName=one_shard_stream + "-none")) == "ResourceNotFoundException"
    assert code_of(lambda: contract_kinesis.create_stream(StreamName=one_shard_stream, ShardCount=1)) == "ResourceInUseException"


def message_of(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_iterator_requests_get_aws_messages_when_type_and_arguments_disagree(contract_kinesis, one_shard_stream):
    shard = "shardId-000000000000"
    sequence_number = contract_kinesis.put_record(StreamName=one_shard_stream, Data=b"x", PartitionKey="k")["SequenceNumber"]
    iterator = contract_kinesis.get_shard_iterator
    rule = ("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
            "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. ")
    assert message_of(lambda: iterator(StreamName=one_shard_stream, ShardId=shard, ShardIteratorType="LATEST",
                                       StartingSequenceNumber=sequence_number)) == (
        "InvalidArgumentException", rule + "Request specified LATEST and also a StartingSequenceNumber.")
    assert message_of(lambda: iterator(StreamName=one_shard_stream, ShardId=shard,
                                       ShardIteratorType="AT_SEQUENCE_NUMBER")) == (
        "InvalidArgumentException", rule + "Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.")
    code, message = message_of(lambda: iterator(StreamName=one_shard_stream, ShardId=shard,
                                                ShardIteratorType="AT_TIMESTAMP", Timestamp=time.time() + 3600))
    assert code == "InvalidArgumentException"
    assert message.startswith("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis.")
    assert message_of(lambda: contract_kinesis.list_shards()) == (
        "InvalidArgumentException", "Either NextToken or StreamName should be provided.")
    assert message_of(lambda: iterator(StreamName=one_shard_stream, ShardId=shard,
                                       ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber="12x")) == (
        "ValidationException", "1 validation error detected: Value '12x' at 'startingSequenceNumber' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})")
