"""The JSON 1.1 protocol layer: parse a request, call the backend, serialise the answer.

``KinesisResponses.dispatch`` is the aiohttp handler. Every failure leaves as an AWS-style
error body (``{"__type", "message"}`` plus ``x-amzn-ErrorType``); an unexpected exception
becomes a 500 ``InternalFailure`` whose details go to the log, never to the client.
"""
from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from .auth import RequestAuthenticator
from .cbor_protocol import CBOR_CONTENT_TYPE, decode_request, encode_response, wants_cbor
from .exceptions import (
    InternalFailureException,
    InvalidArgumentException,
    KinesisError,
    SerializationException,
    UnknownOperationException,
    ValidationException,
)
from .models import KinesisBackend, PutRecordsEntry
from .streams import CallerIdentity, Shard, Stream
from .validation import operation_model, parse_input

__all__ = ["TARGET_PREFIX", "JSON_CONTENT_TYPE", "KinesisResponses"]

TARGET_PREFIX = "Kinesis_20131202."
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
_log = logging.getLogger(__name__)

Handler = Callable[[CallerIdentity, dict[str, Any]], dict[str, Any]]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _shard_body(shard: Shard) -> dict[str, Any]:
    sequence_range = {"StartingSequenceNumber": str(shard.starting_sequence_number)}
    if shard.ending_sequence_number is not None:
        sequence_range["EndingSequenceNumber"] = str(shard.ending_sequence_number)
    body: dict[str, Any] = {"ShardId": shard.shard_id}
    if shard.parent_shard_id is not None:
        body["ParentShardId"] = shard.parent_shard_id
    if shard.adjacent_parent_shard_id is not None:
        body["AdjacentParentShardId"] = shard.adjacent_parent_shard_id
    body["HashKeyRange"] = {
        "StartingHashKey": str(shard.starting_hash_key),
        "EndingHashKey": str(shard.ending_hash_key),
    }
    body["SequenceNumberRange"] = sequence_range
    return body


def _dropped_connection(request: web.Request) -> web.StreamResponse:
    """Close the TCP connection without answering, as a failing load balancer would.
    The returned response is never written: the transport is already gone."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)


class KinesisResponses:
    def __init__(self, backend: KinesisBackend, authenticator: RequestAuthenticator | None = None) -> None:
        self.backend = backend
        self.authenticator = authenticator or RequestAuthenticator(backend.settings)
        self.handlers: dict[str, Handler] = {
            "CreateStream": self.create_stream,
            "DeleteStream": self.delete_stream,
            "ListStreams": self.list_streams,
            "DescribeStream": self.describe_stream,
            "DescribeStreamSummary": self.describe_stream_summary,
            "ListShards": self.list_shards,
            "PutRecord": self.put_record,
            "PutRecords": self.put_records,
            "GetShardIterator": self.get_shard_iterator,
            "GetRecords": self.get_records,
            "UpdateShardCount": self.update_shard_count,
            "IncreaseStreamRetentionPeriod": self.increase_retention,
            "DecreaseStreamRetentionPeriod": self.decrease_retention,
            "UpdateStreamMode": self.update_stream_mode,
            "UpdateMaxRecordSize": self.update_max_record_size,
            "DescribeLimits": self.describe_limits,
        }

    # ---- protocol ------------------------------------------------------------------

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        faults = self.backend.faults
        if faults.active:
            await faults.delay_request()
            if faults.connection_drops():
                return _dropped_connection(request)
        use_cbor = wants_cbor(request.content_type)  # answer in the language asked
        try:
            operation = self._operation(request.headers.get("X-Amz-Target", ""))
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                raise ValidationException("Request body is larger than this server accepts.") from None
            caller = self.authenticator.identify(request.method, request.path_qs, request.headers, body)
            model = operation_model(operation)
            params = parse_input(model, decode_request(body) if use_cbor else self._json(body))
            self.backend.admit(caller, operation, params)
            answer = self.handlers[operation](caller, params)
            if faults.active and operation in ("PutRecords", "PutRecord") and faults.response_drops(
                    sum(1 for r in answer.get("Records", [answer]) if "SequenceNumber" in r)):
                return _dropped_connection(request)
            if use_cbor:
                return self._respond_cbor(200, encode_response(model.output_shape, answer))
            return self._respond(200, answer)
        except KinesisError as error:
            return self._error(error, use_cbor)
        except Exception:  # a bug of ours: log it, tell the client only that it happened
            _log.exception("Kinesis request failed unexpectedly")
            return self._error(InternalFailureException("Internal service failure."), use_cbor)

    def _operation(self, target: str) -> str:
        if not target:
            raise UnknownOperationException("Missing X-Amz-Target header.")
        operation = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else None
        if operation not in self.handlers:
            raise UnknownOperationException(f"Operation {target} is not supported by this server.")
        return operation

    @staticmethod
    def _json(body: bytes) -> Any:
        if not body.strip():
            return {}
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise SerializationException("Request body is not valid JSON.") from None

    @staticmethod
    def _respond(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
        all_headers = {"x-amzn-RequestId": str(uuid.uuid4())}
        all_headers.update(headers or {})
        try:
            body = orjson.dumps(payload)
        except TypeError:
            # A client's own bytes echoed back (a stream name, a target header) can hold lone
            # surrogates that orjson refuses; the stdlib escapes them instead.
            body = json.dumps(payload, ensure_ascii=True, default=str).encode()
        return web.Response(status=status, body=body, content_type=JSON_CONTENT_TYPE, headers=all_headers)

    @staticmethod
    def _respond_cbor(status: int, body: bytes, headers: dict[str, str] | None = None) -> web.Response:
        all_headers = {"x-amzn-RequestId": str(uuid.uuid4()), **(headers or {})}
        return web.Response(status=status, body=body, content_type=CBOR_CONTENT_TYPE, headers=all_headers)

    def _error(self, error: KinesisError, use_cbor: bool = False) -> web.Response:
        headers = {"x-amzn-ErrorType": error.code}
        if use_cbor:
            return self._respond_cbor(error.status, encode_response(None, error.to_body()), headers)
        return self._respond(error.status, error.to_body(), headers)

    # ---- operations ----------------------------------------------------------------

    def create_stream(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        mode = p.get("StreamModeDetails", {}).get("StreamMode")
        self.backend.create_stream(caller, p["StreamName"], p.get("ShardCount"), mode, p.get("MaxRecordSizeInKiB"))
        return {}

    def update_shard_count(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        stream, before = self.backend.update_shard_count(
            caller, p["TargetShardCount"], p["ScalingType"], p.get("StreamName"), p.get("StreamARN")
        )
        return {
            "StreamName": stream.name,
            "StreamARN": stream.arn,
            "CurrentShardCount": before,
            "TargetShardCount": len(stream.open_shards),
        }

    def increase_retention(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        self.backend.change_retention(caller, p["RetentionPeriodHours"], True, p.get("StreamName"), p.get("StreamARN"))
        return {}

    def decrease_retention(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        self.backend.change_retention(caller, p["RetentionPeriodHours"], False, p.get("StreamName"), p.get("StreamARN"))
        return {}

    def update_stream_mode(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        self.backend.update_stream_mode(caller, p["StreamARN"], p["StreamModeDetails"]["StreamMode"])
        return {}

    def update_max_record_size(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        self.backend.update_max_record_size(caller, p["StreamARN"], p["MaxRecordSizeInKiB"])
        return {}

    def describe_limits(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        streams = self.backend.streams_in(caller.account_id, caller.region).values()
        return {
            "ShardLimit": self.backend.settings.max_shards_per_region,
            "OpenShardCount": sum(len(s.open_shards) for s in streams),
            "OnDemandStreamCount": sum(1 for s in streams if s.mode == "ON_DEMAND"),
            "OnDemandStreamCountLimit": 50,
        }

    def delete_stream(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        self.backend.delete_stream(caller, p.get("StreamName"), p.get("StreamARN"))
        return {}

    def list_streams(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        streams, has_more, token = self.backend.list_streams(
            caller, p.get("Limit", 100), p.get("ExclusiveStartStreamName"), p.get("NextToken")
        )
        now = self.backend.clock()
        body: dict[str, Any] = {
            "StreamNames": [s.name for s in streams],
            "HasMoreStreams": has_more,
            "StreamSummaries": [
                {
                    "StreamName": s.name,
                    "StreamARN": s.arn,
                    "StreamStatus": s.status(now),
                    "StreamModeDetails": {"StreamMode": s.mode},
                    "StreamCreationTimestamp": s.created_at,
                }
                for s in streams
            ],
        }
        if token is not None:
            body["NextToken"] = token
        return body

    def _stream_fields(self, stream: Stream) -> dict[str, Any]:
        return {
            "StreamName": stream.name,
            "StreamARN": stream.arn,
            "StreamStatus": stream.status(self.backend.clock()),
            "StreamModeDetails": {"StreamMode": stream.mode},
            "RetentionPeriodHours": stream.retention_hours,
            "StreamCreationTimestamp": stream.created_at,
            "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
            "EncryptionType": "NONE",
            "MaxRecordSizeInKiB": stream.max_record_bytes // 1024,
        }

    def describe_stream(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        stream = self.backend.resolve_stream(caller, "DescribeStream", p.get("StreamName"), p.get("StreamARN"))
        start = 0
        if "ExclusiveStartShardId" in p:
            after = [s.index for s in stream.shards if s.shard_id == p["ExclusiveStartShardId"]]
            start = after[0] + 1 if after else len(stream.shards)
        limit = p.get("Limit", 100)
        visible = [s for s in stream.visible_shards() if s.index >= start]
        description = self._stream_fields(stream)
        description["Shards"] = [_shard_body(s) for s in visible[:limit]]
        description["HasMoreShards"] = len(visible) > limit
        return {"StreamDescription": description}

    def describe_stream_summary(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        stream = self.backend.resolve_stream(caller, "DescribeStreamSummary", p.get("StreamName"), p.get("StreamARN"))
        summary = self._stream_fields(stream)
        summary["OpenShardCount"] = len(stream.open_shards)
        summary["ConsumerCount"] = 0
        return {"StreamDescriptionSummary": summary}

    def list_shards(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("StreamName") is None and p.get("StreamARN") is None and p.get("NextToken") is None:
            raise InvalidArgumentException("Either NextToken or StreamName should be provided.")
        exclusive_start = p.get("ExclusiveStartShardId")
        shard_filter = p.get("ShardFilter") or {}
        if shard_filter.get("Type") == "AFTER_SHARD_ID" and shard_filter.get("ShardId"):
            exclusive_start = shard_filter["ShardId"]
        shards, token = self.backend.list_shards(
            caller, p.get("StreamName"), p.get("StreamARN"), p.get("NextToken"), exclusive_start, p.get("MaxResults", 1000)
        )
        body: dict[str, Any] = {"Shards": [_shard_body(s) for s in shards]}
        if token is not None:
            body["NextToken"] = token
        return body

    def put_record(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        result = self.backend.put_record(
            caller,
            p["Data"],
            p["PartitionKey"],
            p.get("StreamName"),
            stream_arn=p.get("StreamARN"),
            explicit_hash_key=p.get("ExplicitHashKey"),
        )
        return {"ShardId": result.shard_id, "SequenceNumber": result.sequence_number, "EncryptionType": "NONE"}

    def put_records(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        entries = [PutRecordsEntry(r["Data"], r["PartitionKey"], r.get("ExplicitHashKey")) for r in p["Records"]]
        results = self.backend.put_records(caller, entries, p.get("StreamName"), stream_arn=p.get("StreamARN"))
        records = []
        failed = 0
        for result in results:
            if result.error_code is None:
                records.append({"SequenceNumber": result.sequence_number, "ShardId": result.shard_id})
            else:
                failed += 1
                records.append({"ErrorCode": result.error_code, "ErrorMessage": result.error_message})
        return {"FailedRecordCount": failed, "Records": records, "EncryptionType": "NONE"}

    def get_shard_iterator(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        iterator = self.backend.get_shard_iterator(
            caller,
            p["ShardId"],
            p["ShardIteratorType"],
            p.get("StreamName"),
            stream_arn=p.get("StreamARN"),
            starting_sequence_number=p.get("StartingSequenceNumber"),
            timestamp=p.get("Timestamp"),
        )
        return {"ShardIterator": iterator}

    def get_records(self, caller: CallerIdentity, p: dict[str, Any]) -> dict[str, Any]:
        result = self.backend.get_records(p["ShardIterator"], p.get("Limit", 10_000))
        body = {
            "Records": [
                {
                    "SequenceNumber": str(r.sequence_number),
                    "ApproximateArrivalTimestamp": r.arrival_ms / 1000,
                    "Data": _b64(r.data),
                    "PartitionKey": r.partition_key,
                }
                for r in result.records
            ],
            "MillisBehindLatest": result.millis_behind_latest,
        }
        if result.next_shard_iterator is not None:  # absent once a closed shard is read to its end
            body["NextShardIterator"] = result.next_shard_iterator
        return body
