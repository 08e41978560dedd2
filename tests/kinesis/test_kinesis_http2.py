"""Cleartext HTTP/2 with prior knowledge and HTTP/1.1 on the same port.

The AWS SDK for JavaScript v3's Kinesis client and async Java SDK v2 clients (the KCL 2.x)
speak HTTP/2 by default, which on an ``http://`` endpoint means prior knowledge. These tests
drive the server with independent HTTP/2 clients: the ``h2`` library over a socket, Node's
built-in ``http2`` module (the transport the JS SDK v3 uses) when ``node`` is on PATH, and
the JS SDK v3 itself when ``STREAMLOAD_JS_SDK_DIR`` names a directory where
``npm install @aws-sdk/client-kinesis`` was run. Requests are SigV4-signed."""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from h2_client import Http2Client
from kinesis_helpers import signed_headers

from emulator.kinesis import cbor

JSON_TYPE = "application/x-amz-json-1.1"
CBOR_TYPE = "application/x-amz-cbor-1.1"
SHARD0 = "shardId-000000000000"


def _headers(url: str, operation: str, body: bytes, content_type: str = JSON_TYPE) -> dict[str, str]:
    return signed_headers(url, body, {"Content-Type": content_type, "X-Amz-Target": f"Kinesis_20131202.{operation}"})


def _call(client: Http2Client, url: str, operation: str, payload: dict) -> tuple[int, dict, dict]:
    body = json.dumps(payload).encode()
    status, headers, answer = client.post(_headers(url, operation, body), body)
    return status, headers, json.loads(answer)


@pytest.fixture
def h2(server):
    client = Http2Client(server.url)
    yield client
    client.close()


def test_put_and_read_round_trip_over_http2_when_client_uses_prior_knowledge(server, h2):
    assert _call(h2, server.url, "CreateStream", {"StreamName": "h2", "ShardCount": 1})[0] == 200
    status, headers, put = _call(h2, server.url, "PutRecord", {
        "StreamName": "h2", "PartitionKey": "k", "Data": base64.b64encode(b"over h2").decode()})
    assert status == 200 and headers["content-type"] == JSON_TYPE and put["ShardId"] == SHARD0
    _, _, iterator = _call(h2, server.url, "GetShardIterator", {
        "StreamName": "h2", "ShardId": SHARD0, "ShardIteratorType": "TRIM_HORIZON"})
    _, _, records = _call(h2, server.url, "GetRecords", {"ShardIterator": iterator["ShardIterator"]})
    assert [base64.b64decode(r["Data"]) for r in records["Records"]] == [b"over h2"]
    assert records["Records"][0]["SequenceNumber"] == put["SequenceNumber"]


def test_http1_and_http2_share_the_port_and_the_streams_when_both_clients_connect(server, h2, kinesis):
    kinesis.create_stream(StreamName="both", ShardCount=1)  # boto3: HTTP/1.1
    _call(h2, server.url, "PutRecord", {"StreamName": "both", "PartitionKey": "k",
                                        "Data": base64.b64encode(b"from h2").decode()})
    kinesis.put_record(StreamName="both", PartitionKey="k", Data=b"from h1")
    iterator = kinesis.get_shard_iterator(StreamName="both", ShardId=SHARD0,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]] == [b"from h2", b"from h1"]


def test_large_get_records_answer_arrives_whole_when_it_exceeds_the_client_window(server, h2, kinesis):
    kinesis.create_stream(StreamName="big", ShardCount=1)
    records = [{"Data": b"r" * 1024, "PartitionKey": "k"} for _ in range(500)]
    kinesis.put_records(StreamName="big", Records=records)  # ~680 KB of JSON back: 10x HTTP/2's default window
    _, _, iterator = _call(h2, server.url, "GetShardIterator", {
        "StreamName": "big", "ShardId": SHARD0, "ShardIteratorType": "TRIM_HORIZON"})
    status, _, answer = _call(h2, server.url, "GetRecords", {"ShardIterator": iterator["ShardIterator"]})
    assert status == 200 and len(answer["Records"]) == 500


def test_large_put_records_body_is_taken_in_big_frames_when_client_uses_announced_settings(server, h2):
    _call(h2, server.url, "CreateStream", {"StreamName": "wide", "ShardCount": 1})  # settings exchanged by now
    records = [{"Data": base64.b64encode(b"w" * 8192).decode(), "PartitionKey": str(i)} for i in range(500)]
    status, _, answer = _call(h2, server.url, "PutRecords", {"StreamName": "wide", "Records": records})
    assert h2.largest_frame_sent > 65_535  # the server announced 1 MiB frames and a 16 MiB window
    assert status == 200 and answer["FailedRecordCount"] == 0


def test_errors_keep_aws_envelope_over_http2_when_request_is_unsigned_or_invalid(server, h2):
    status, headers, body = h2.post({"Content-Type": JSON_TYPE, "X-Amz-Target": "Kinesis_20131202.ListStreams"}, b"{}")
    assert (status, headers["x-amzn-errortype"]) == (400, "MissingAuthenticationTokenException")
    status, headers, answer = _call(h2, server.url, "ListShards", {})
    assert (status, answer["__type"]) == (400, "InvalidArgumentException")


def test_cbor_bodies_work_over_http2_when_client_asks_for_cbor(server, h2):
    _call(h2, server.url, "CreateStream", {"StreamName": "cb", "ShardCount": 1})
    body = cbor.dumps({"StreamName": "cb", "PartitionKey": "k", "Data": b"\x00cbor"})
    status, headers, answer = h2.post(_headers(server.url, "PutRecord", body, CBOR_TYPE), body)
    assert status == 200 and headers["content-type"] == CBOR_TYPE
    assert cbor.loads(answer)["ShardId"] == SHARD0
    body = cbor.dumps({"StreamName": "cb", "ShardId": SHARD0, "ShardIteratorType": "TRIM_HORIZON"})
    iterator = cbor.loads(h2.post(_headers(server.url, "GetShardIterator", body, CBOR_TYPE), body)[2])["ShardIterator"]
    body = cbor.dumps({"ShardIterator": iterator})
    records = cbor.loads(h2.post(_headers(server.url, "GetRecords", body, CBOR_TYPE), body)[2])["Records"]
    assert [r["Data"] for r in records] == [b"\x00cbor"]


# ---- Node.js ---------------------------------------------------------------------------

NODE_HTTP2_POST = """
const http2 = require('http2');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const session = http2.connect(input.url);
session.on('error', (e) => { console.error(e.message); process.exit(1); });
const req = session.request({':method': 'POST', ':path': '/', ...input.headers});
const chunks = [];
let status;
req.on('response', (h) => { status = h[':status']; });
req.on('data', (c) => chunks.push(c));
req.on('end', () => {
  console.log(JSON.stringify({status, body: Buffer.concat(chunks).toString('utf8')}));
  session.close();
});
req.on('error', (e) => { console.error(e.message); process.exit(1); });
req.end(Buffer.from(input.body, 'base64'));
"""


def _node_post(url: str, operation: str, payload: dict) -> tuple[int, dict]:
    body = json.dumps(payload).encode()
    headers = {k.lower(): v for k, v in _headers(url, operation, body).items() if k.lower() != "host"}
    request = json.dumps({"url": url, "headers": headers, "body": base64.b64encode(body).decode()})
    done = subprocess.run(["node", "-e", NODE_HTTP2_POST], input=request, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    return answer["status"], json.loads(answer["body"])


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
def test_node_http2_client_round_trips_records_when_it_connects_with_prior_knowledge(server):
    assert _node_post(server.url, "CreateStream", {"StreamName": "node", "ShardCount": 1})[0] == 200
    _node_post(server.url, "PutRecord", {"StreamName": "node", "PartitionKey": "k",
                                         "Data": base64.b64encode(b"from node").decode()})
    _, iterator = _node_post(server.url, "GetShardIterator", {
        "StreamName": "node", "ShardId": SHARD0, "ShardIteratorType": "TRIM_HORIZON"})
    status, records = _node_post(server.url, "GetRecords", {"ShardIterator": iterator["ShardIterator"]})
    assert status == 200 and [base64.b64decode(r["Data"]) for r in records["Records"]] == [b"from node"]


JS_SDK_ROUND_TRIP = """
import { KinesisClient, CreateStreamCommand, PutRecordCommand, GetShardIteratorCommand, GetRecordsCommand }
  from "@aws-sdk/client-kinesis";
const client = new KinesisClient({ endpoint: process.argv[2], region: "us-east-1",
  credentials: { accessKeyId: "streamload-local", secretAccessKey: "streamload-local" } });
await client.send(new CreateStreamCommand({ StreamName: "js-sdk", ShardCount: 1 }));
const put = await client.send(new PutRecordCommand({ StreamName: "js-sdk", PartitionKey: "k",
  Data: new TextEncoder().encode("from the JS SDK") }));
const it = await client.send(new GetShardIteratorCommand({ StreamName: "js-sdk", ShardId: put.ShardId,
  ShardIteratorType: "TRIM_HORIZON" }));
const got = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
console.log(new TextDecoder().decode(got.Records[0].Data));
client.destroy();
"""


@pytest.mark.skipif(not os.environ.get("STREAMLOAD_JS_SDK_DIR"),
                    reason="set STREAMLOAD_JS_SDK_DIR to a directory holding npm's @aws-sdk/client-kinesis")
def test_js_sdk_v3_default_client_round_trips_records_when_pointed_at_http_endpoint(server):
    sdk_dir = Path(os.environ["STREAMLOAD_JS_SDK_DIR"])
    script = sdk_dir / f"streamload-roundtrip-{os.getpid()}-{time.monotonic_ns()}.mjs"
    script.write_text(JS_SDK_ROUND_TRIP)
    try:
        done = subprocess.run(["node", str(script), server.url], capture_output=True, text=True, timeout=60,
                              cwd=sdk_dir)
    finally:
        script.unlink()
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "from the JS SDK"
