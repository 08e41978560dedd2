"""``application/x-amz-cbor-1.1``, what the AWS SDK for Java, the KPL and the KCL send to
Kinesis unless CBOR is disabled: the codec against RFC 8949's examples, and a put/read
round trip over HTTP with blobs as byte strings and timestamps as tag 1 milliseconds."""
from __future__ import annotations

import http.client
import time
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kinesis_helpers import signed_headers

from emulator.kinesis import cbor

# (value, encoding) pairs from RFC 8949 appendix A.
RFC_EXAMPLES = [
    (0, "00"), (23, "17"), (24, "1818"), (1000, "1903e8"), (1000000, "1a000f4240"),
    (18446744073709551615, "1bffffffffffffffff"), (-1, "20"), (-1000, "3903e7"),
    (1.1, "fb3ff199999999999a"), (False, "f4"), (True, "f5"), (None, "f6"),
    (b"\x01\x02\x03\x04", "4401020304"), ("IETF", "6449455446"), ("\u00fc", "62c3bc"),
    ([1, [2, 3], [4, 5]], "8301820203820405"), ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
]


@pytest.mark.parametrize(("value", "encoded"), RFC_EXAMPLES)
def test_codec_matches_rfc_8949_examples_when_encoding_and_decoding(value, encoded):
    assert cbor.dumps(value).hex() == encoded
    assert cbor.loads(bytes.fromhex(encoded)) == value


@pytest.mark.parametrize(("encoded", "value"), [
    ("f93c00", 1.0), ("f90001", 5.960464477539063e-08), ("fa47c35000", 100000.0),  # half and single floats
    ("5f42010243030405ff", b"\x01\x02\x03\x04\x05"),  # indefinite byte string
    ("9f018202039f0405ffff", [1, [2, 3], [4, 5]]),  # indefinite arrays
    ("bf61610161629f0203ffff", {"a": 1, "b": [2, 3]}),  # indefinite map
    ("c11a514b67b0", 1363896240.0),  # tag 1, RFC seconds
    ("c11b0000013d8e8d0780", 1363896240.0),  # tag 1, AWS milliseconds
])
def test_codec_reads_what_other_encoders_write_when_given_rfc_forms(encoded, value):
    assert cbor.loads(bytes.fromhex(encoded)) == value


@pytest.mark.parametrize("encoded", ["", "18", "ff", "5f01ff", "a1016161", "7f6161", "1c", "0000", "62c3", "c16161",
                                     "81" * 100 + "00"])
def test_codec_raises_cbor_error_and_nothing_else_when_bytes_are_malformed(encoded):
    with pytest.raises(cbor.CborError):
        cbor.loads(bytes.fromhex(encoded))


values = st.recursive(st.none() | st.booleans() | st.integers(-(2**64) + 1, 2**64 - 1) | st.text() | st.binary()
                      | st.floats(allow_nan=False), lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(values)
def test_codec_round_trips_any_value_when_encoded_then_decoded(value):
    assert cbor.loads(cbor.dumps(value)) == value


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.binary(max_size=64))
def test_codec_never_raises_other_errors_when_fed_random_bytes(data):
    try:
        cbor.loads(data)
    except cbor.CborError:
        pass


def _post_cbor(url: str, operation: str, payload: dict) -> tuple[int, dict, dict]:
    body = cbor.dumps(payload)
    headers = signed_headers(url, body, {"Content-Type": "application/x-amz-cbor-1.1",
                                         "X-Amz-Target": f"Kinesis_20131202.{operation}"})
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), cbor.loads(response.read())
    finally:
        conn.close()


def test_cbor_client_puts_and_reads_records_with_bytes_and_millisecond_timestamps_when_talking_cbor(server):
    assert _post_cbor(server.url, "CreateStream", {"StreamName": "c", "ShardCount": 1})[0] == 200
    status, headers, put = _post_cbor(server.url, "PutRecord", {"StreamName": "c", "Data": b"\x00\xffraw",
                                                                 "PartitionKey": "k"})
    assert status == 200 and headers["Content-Type"] == "application/x-amz-cbor-1.1"
    assert put["ShardId"] == "shardId-000000000000"
    _, _, batch = _post_cbor(server.url, "PutRecords", {"StreamName": "c", "Records": [
        {"Data": b"second", "PartitionKey": "k"}, {"Data": b"third", "PartitionKey": "k"}]})
    assert batch["FailedRecordCount"] == 0
    _, _, iterator = _post_cbor(server.url, "GetShardIterator", {"StreamName": "c", "ShardId": "shardId-000000000000",
                                                                 "ShardIteratorType": "TRIM_HORIZON"})
    _, _, page = _post_cbor(server.url, "GetRecords", {"ShardIterator": iterator["ShardIterator"]})
    assert [r["Data"] for r in page["Records"]] == [b"\x00\xffraw", b"second", b"third"]
    arrival = page["Records"][0]["ApproximateArrivalTimestamp"]
    assert abs(arrival - time.time()) < 60  # tag 1 over milliseconds, read back as seconds

    status, headers, error = _post_cbor(server.url, "DescribeStreamSummary", {"StreamName": "missing"})
    assert status == 400 and error["__type"] == "ResourceNotFoundException" and error["message"]
    assert headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    status, _, error = _post_cbor(server.url, "PutRecord", {"StreamName": "c", "Data": 5, "PartitionKey": "k"})
    assert status == 400 and error["__type"] == "SerializationException"
