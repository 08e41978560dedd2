"""Fuzzing the local Kinesis server's request parsing (JSON 1.1 over HTTP): whatever a
client sends, the answer is a success or an AWS-style 4xx error, never a 500 with a
traceback, and the server keeps serving."""
from __future__ import annotations

import json

import pytest
from fuzz_helpers import (FUZZ, JsonProtocolFuzz, SignedClient, assert_aws_style, bodies_for,
                          operation_members)
from hypothesis import given
from hypothesis import strategies as st

from emulator.kinesis import cbor
from tests.support.local_stack import start_kinesis

OPERATIONS = operation_members("kinesis")
SERVED = ["CreateStream", "DeleteStream", "ListStreams", "DescribeStream", "DescribeStreamSummary", "ListShards",
          "PutRecord", "PutRecords", "GetShardIterator", "GetRecords", "UpdateShardCount",
          "IncreaseStreamRetentionPeriod", "DecreaseStreamRetentionPeriod", "UpdateStreamMode",
          "UpdateMaxRecordSize", "DescribeLimits"]


@pytest.fixture(scope="module")
def client():
    server = start_kinesis()
    http = SignedClient(server.url, "kinesis")
    # A stream for the data-plane operations to find, so fuzzing reaches past lookups.
    status, _, _ = http.post("Kinesis_20131202.CreateStream", b'{"StreamName": "s", "ShardCount": 2}')
    assert status == 200
    yield http
    http.close()
    server.stop()


class TestKinesisJsonProtocol(JsonProtocolFuzz):
    target, served, operations = "Kinesis_20131202.", SERVED, OPERATIONS


@FUZZ
@given(data=st.data())
def test_every_operation_answers_success_or_aws_4xx_when_cbor_body_fields_have_any_type(client, data):
    operation = data.draw(st.sampled_from(SERVED))
    body = json.loads(data.draw(bodies_for(OPERATIONS[operation])))
    try:
        encoded = cbor.dumps(body)
    except cbor.CborError:  # integers past 64 bits: CBOR would need a bignum tag
        encoded = b"\xc2\x41\x01"
    raw = data.draw(st.sampled_from([encoded, encoded[:-1], b"\xff", b"\x9f", b""]))
    assert_aws_style(*client.post(f"Kinesis_20131202.{operation}", raw,
                                  {"Content-Type": "application/x-amz-cbor-1.1"}))


# What an HTTP client can put in a header value: no control characters (those break the
# request line and get aiohttp's own 400 before any handler runs), but any latin-1 byte.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"), max_size=60)


@FUZZ
@given(target=header_text, content_type=st.sampled_from(
    ["application/x-amz-json-1.1", "application/x-amz-cbor-1.1", "text/plain", "", "application/json"]),
    authorization=st.none() | header_text | st.just("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, "
                                                               "SignedHeaders=host, Signature=00"))
def test_odd_headers_get_aws_4xx_when_target_content_type_or_signature_are_wrong(client, target, content_type,
                                                                               authorization):
    headers = {"Content-Type": content_type}
    if authorization is not None:
        headers["Authorization"] = authorization
    body = b'{"StreamName": "s"}'
    assert_aws_style(*client.post(target, body, headers, sign=authorization is None))


def test_server_still_serves_after_fuzzing_when_a_valid_request_comes(client):
    status, _, payload = client.post("Kinesis_20131202.DescribeStreamSummary", b'{"StreamName": "s"}')
    assert status == 200 and b'"StreamName":"s"' in payload
