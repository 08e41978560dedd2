"""``application/x-amz-cbor-1.1``: the JSON 1.1 protocol with CBOR bodies, which the AWS SDK
for Java, the KPL and the KCL use for Kinesis by default. Same ``X-Amz-Target`` routing
and the same members; blobs travel as CBOR byte strings instead of base64 text, and
timestamps as tag 1 over epoch milliseconds. Errors keep ``__type``/``message`` in a CBOR
map. The handlers stay protocol-blind: ``encode_response`` turns their JSON-shaped answer
(base64 blobs, float timestamps) into CBOR shapes using the operation's output shape.
"""
from __future__ import annotations

import base64
from typing import Any

from botocore.model import Shape

from . import cbor
from .exceptions import SerializationException

__all__ = ["CBOR_CONTENT_TYPE", "decode_request", "encode_response", "wants_cbor"]

CBOR_CONTENT_TYPE = "application/x-amz-cbor-1.1"


def wants_cbor(content_type: str) -> bool:
    return "cbor" in content_type


def decode_request(body: bytes) -> Any:
    if not body:
        return {}
    try:
        return cbor.loads(body)
    except cbor.CborError as error:
        raise SerializationException(f"Request body is not valid CBOR: {error}") from None


def _to_wire(shape: Shape | None, value: Any) -> Any:
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        return {k: _to_wire(members.get(k), v) for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_to_wire(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _to_wire(shape.value, v) for k, v in value.items()}
    if kind == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    if kind == "timestamp" and isinstance(value, (int, float)):
        return cbor.EpochTimestamp(value)
    return value


def encode_response(output_shape: Shape | None, payload: dict[str, Any]) -> bytes:
    """CBOR for an answer (``output_shape``) or an error body (``None``: sent as is)."""
    return cbor.dumps(_to_wire(output_shape, payload))
