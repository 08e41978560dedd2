"""Check a request body against botocore's own Kinesis service model and convert it to
Python values (blobs -> bytes, timestamps -> epoch seconds). JSON bodies carry blobs as
base64 text, CBOR bodies (cbor_protocol.py) as bytes already.

Using the model the SDKs are generated from keeps every operation's required members,
types, lengths, ranges, patterns and enums exactly as AWS documents them, without a
hand-written schema per operation. Errors follow the service's two kinds:

- the body is not the JSON the shape asks for (wrong type, bad base64) ->
  ``SerializationException``, raised at the first problem;
- a value breaks a constraint -> one ``ValidationException`` listing every violation,
  worded like AWS: ``Value '0' at 'shardCount' failed to satisfy constraint: ...``.
"""
from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

from .exceptions import SerializationException, ValidationException

__all__ = ["service_model", "operation_model", "parse_input"]


@lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("kinesis")


@lru_cache(maxsize=None)
def operation_model(name: str) -> OperationModel | None:
    model = service_model()
    return model.operation_model(name) if name in model.operation_names else None


@lru_cache(maxsize=None)
def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def _wire_name(member: str) -> str:
    # AWS names members in validation messages in lower camel case: ShardCount -> shardCount.
    return member[:1].lower() + member[1:]


def parse_input(operation: OperationModel, body: Any) -> dict[str, Any]:
    """The request's members, converted; raises SerializationException/ValidationException."""
    if not isinstance(body, dict):
        raise SerializationException("Start of structure or map found where not expected.")
    violations: list[str] = []
    shape = operation.input_shape
    result = _structure(shape, body, "", violations) if shape is not None else {}
    if violations:
        raise ValidationException.from_violations(violations)
    return result


def _structure(shape: Shape, value: Any, path: str, violations: list[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SerializationException(f"Unexpected value type for structure at '{path or shape.name}'.")
    members = shape.members
    converted: dict[str, Any] = {}
    for name in shape.required_members:
        if value.get(name) is None:
            violations.append(f"Value null at '{path}{_wire_name(name)}' failed to satisfy constraint: Member must not be null")
    for name, item in value.items():
        member = members.get(name)
        if member is None or item is None:
            continue  # the service ignores members it does not know
        converted[name] = _value(member, item, f"{path}{_wire_name(name)}", violations)
    return converted


def _value(shape: Shape, value: Any, path: str, violations: list[str]) -> Any:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "string":
        if not isinstance(value, str):
            raise SerializationException(f"Unexpected value type for string at '{path}'.")
        _check_length(meta, len(value), f"Value '{value}' at '{path}'", violations)
        if shape.enum:
            if value not in shape.enum:
                violations.append(
                    f"Value '{value}' at '{path}' failed to satisfy constraint: "
                    f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"
                )
        elif "pattern" in meta and not _pattern(meta["pattern"]).fullmatch(value):
            violations.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {meta['pattern']}"
            )
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise SerializationException(f"Unexpected value type for integer at '{path}'.")
        _check_range(meta, value, f"Value '{value}' at '{path}'", violations)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise SerializationException(f"Unexpected value type for boolean at '{path}'.")
        return value
    if kind == "blob":
        if isinstance(value, bytes):  # CBOR carries blobs as byte strings (cbor_protocol.py)
            data = value
        elif not isinstance(value, str):
            raise SerializationException(f"Unexpected value type for blob at '{path}'.")
        else:
            try:
                data = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise SerializationException(f"Value at '{path}' is not valid base64.") from None
        _check_length(meta, len(data), f"Value at '{path}'", violations)
        return data
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SerializationException(f"Unexpected value type for timestamp at '{path}': expected epoch seconds.")
        return float(value)
    if kind == "list":
        if not isinstance(value, list):
            raise SerializationException(f"Unexpected value type for list at '{path}'.")
        _check_length(meta, len(value), f"Value at '{path}'", violations)
        member = shape.member
        out = []
        for index, item in enumerate(value, start=1):
            if item is None:
                violations.append(f"Value null at '{path}.{index}.member' failed to satisfy constraint: Member must not be null")
                continue
            out.append(_value(member, item, f"{path}.{index}.member", violations))
        return out
    if kind == "structure":
        return _structure(shape, value, f"{path}.", violations)
    if kind == "map":
        if not isinstance(value, dict):
            raise SerializationException(f"Unexpected value type for map at '{path}'.")
        _check_length(meta, len(value), f"Value at '{path}'", violations)
        return {
            _value(shape.key, k, f"{path}.key", violations): _value(shape.value, v, f"{path}.value", violations)
            for k, v in value.items()
        }
    return value  # types Kinesis inputs do not use (double, float) pass through unchecked


def _check_length(meta: dict, length: int, subject: str, violations: list[str]) -> None:
    if "min" in meta and length < meta["min"]:
        violations.append(
            f"{subject} failed to satisfy constraint: Member must have length greater than or equal to {meta['min']}"
        )
    elif "max" in meta and length > meta["max"]:
        violations.append(
            f"{subject} failed to satisfy constraint: Member must have length less than or equal to {meta['max']}"
        )


def _check_range(meta: dict, number: int, subject: str, violations: list[str]) -> None:
    if "min" in meta and number < meta["min"]:
        violations.append(
            f"{subject} failed to satisfy constraint: Member must have value greater than or equal to {meta['min']}"
        )
    elif "max" in meta and number > meta["max"]:
        violations.append(
            f"{subject} failed to satisfy constraint: Member must have value less than or equal to {meta['max']}"
        )
