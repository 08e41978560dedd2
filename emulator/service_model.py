"""Request validation for every local AWS service, from botocore's own service models.

The SDKs are generated from these models, and AWS's front ends check requests against
them before a service sees them. Checking from the same model keeps every operation's
required members, types, lengths, ranges, patterns and enums as AWS has them, without a
hand-written schema per operation. Kinesis and the Data API (JSON 1.1), STS (query
protocol, whose flat form fields ``query_protocol.query_input`` nests first) and SSO-OIDC
(rest-json) all use this module; each service turns the two failures into its own error
class:

- ``ShapeMismatch``: the body is not what the shape asks for (a string where a number
  goes, bad base64) -- raised at the first problem (JSON services: SerializationException);
- ``ConstraintViolations``: values break constraints, all listed (up to AWS's 10) in AWS's
  words, e.g. ``1 validation error detected: Value '0' at 'shardCount' failed to satisfy
  constraint: Member must have value greater than or equal to 1``.

AWS's wording, from responses recorded against the real services: members are named in
lower camel case and nested as ``records.1.member.partitionKey``; a blob shows as
``java.nio.HeapByteBuffer[pos=0 lim=<n> cap=<n>]``; a pattern shows without the ``^(…)$``
anchoring later models added (``0|([1-9]\\d{0,128})``); a string's pattern and length are
both reported when both fail; lengths count UTF-16 code units, as Java does.

Each operation's checks are compiled once into closures, so a 500-record PutRecords costs
one dictionary walk and no model look-ups.
"""
from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

__all__ = [
    "ShapeMismatch",
    "ConstraintViolations",
    "MAX_REPORTED_VIOLATIONS",
    "service_model",
    "operation_model",
    "validate_input",
    "violations_message",
    "wire_name",
    "shown_pattern",
]

MAX_REPORTED_VIOLATIONS = 10  # AWS lists at most ten and counts only those

# check(value, parent_path, member_name, violations) -> converted value
Check = Callable[[Any, str, str, list], Any]


class ShapeMismatch(Exception):
    """The request is not shaped as the model says (wrong JSON type, bad base64)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConstraintViolations(Exception):
    """Values break the model's constraints; ``message`` is AWS's sentence listing them."""

    def __init__(self, violations: list[str]) -> None:
        self.violations = violations[:MAX_REPORTED_VIOLATIONS]
        self.message = violations_message(self.violations)
        super().__init__(self.message)


def violations_message(violations: list[str]) -> str:
    shown = violations[:MAX_REPORTED_VIOLATIONS]
    noun = "error" if len(shown) == 1 else "errors"
    return f"{len(shown)} validation {noun} detected: " + "; ".join(shown)


@lru_cache(maxsize=1)
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@lru_cache(maxsize=None)
def service_model(service: str) -> ServiceModel:
    return _session().get_service_model(service)


@lru_cache(maxsize=None)
def operation_model(service: str, name: str) -> OperationModel | None:
    model = service_model(service)
    return model.operation_model(name) if name in model.operation_names else None


def validate_input(operation: OperationModel, body: Any, unchecked_patterns: frozenset[str] = frozenset()) -> dict:
    """The request's members, converted (blobs -> bytes, timestamps -> epoch seconds).

    ``unchecked_patterns`` names top-level members whose pattern the service checks
    itself, with its own message (the Data API's statement ``Id``). Raises
    ``ShapeMismatch`` or ``ConstraintViolations``."""
    if not isinstance(body, dict):
        raise ShapeMismatch("Start of structure or map found where not expected.")
    check = _operation_check(operation, unchecked_patterns)
    if check is None:
        return {}
    violations: list[str] = []
    converted = check(body, "", "", violations)
    if violations:
        raise ConstraintViolations(violations)
    return converted


@lru_cache(maxsize=None)
def _operation_check(operation: OperationModel, unchecked_patterns: frozenset[str]) -> Check | None:
    shape = operation.input_shape
    return None if shape is None else _structure_check(shape, {}, unchecked_patterns)


# ---- messages ---------------------------------------------------------------------------


def wire_name(member: str) -> str:
    # AWS names members in lower camel case: ShardCount -> shardCount.
    return member[:1].lower() + member[1:]


def _violation(value: Any, path: str, constraint: str) -> str:
    shown = "null" if value is None else f"'{_shown(value)}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: Member must {constraint}"


def _shown(value: Any) -> str:
    """A value as the service's Java front end prints it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray)):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    if isinstance(value, list):
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={_shown(item)}" for key, item in value.items()) + "}"
    return str(value)


def shown_pattern(pattern: str) -> str:
    """The pattern as AWS prints it: botocore's models anchor some as ``^(…)$``, the
    service's messages show the bare expression (``0|([1-9]\\d{0,128})``)."""
    bare = pattern[1:] if pattern.startswith("^") else pattern
    bare = bare[:-1] if bare.endswith("$") and not bare.endswith("\\$") else bare
    if bare != pattern and bare.startswith("(") and _closing_paren(bare) == len(bare) - 1:
        bare = bare[1:-1]
    return bare


def _closing_paren(text: str) -> int:
    depth, escaped, in_class = 0, False, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    return -1


@lru_cache(maxsize=None)
def _compiled_pattern(pattern: str) -> re.Pattern[str] | None:
    """The model's (Java) regular expression in Python's dialect, or None when Python's
    ``re`` cannot express it (then the pattern goes unchecked rather than refusing
    everything). Java's Unicode classes become their closest ``re`` classes."""
    translated = pattern.replace(r"\p{L}", r"\w").replace(r"\p{N}", r"\w").replace(r"\p{Z}", r"\s")
    try:
        return re.compile(translated)
    except re.error:
        return None


def _utf16_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


# ---- compiled checks ------------------------------------------------------------------


def _compile(shape: Shape, memo: dict[str, Check], check_pattern: bool = True) -> Check:
    kind = shape.type_name
    if kind == "structure":
        if shape.name not in memo:  # recursive shapes reuse the check being built
            memo[shape.name] = lambda value, parent, name, violations: built(value, parent, name, violations)
            built = _structure_check(shape, memo, frozenset())
            memo[shape.name] = built
        return memo[shape.name]
    if kind == "string":
        return _string_check(shape, check_pattern)
    if kind in ("integer", "long"):
        return _integer_check(shape)
    if kind == "boolean":
        return _boolean_check
    if kind == "blob":
        return _blob_check(shape)
    if kind == "timestamp":
        return _timestamp_check
    if kind == "list":
        return _list_check(shape, memo)
    if kind == "map":
        return _map_check(shape, memo)
    return _passthrough  # double/float/document: no constraints these inputs use


def _structure_check(shape: Shape, memo: dict[str, Check], unchecked_patterns: frozenset[str]) -> Check:
    members = {
        name: (wire_name(name), _compile(member, memo, name not in unchecked_patterns))
        for name, member in shape.members.items()
    }
    required = [(name, wire_name(name)) for name in shape.required_members]

    def check(value: Any, parent: str, name: str, violations: list) -> dict:
        if not isinstance(value, dict):
            raise ShapeMismatch(f"Unexpected value type for structure at '{parent + name or shape.name}'.")
        prefix = f"{parent}{name}." if name else parent
        for member_name, wire in required:
            if value.get(member_name) is None:
                violations.append(_violation(None, prefix + wire, "not be null"))
        converted = {}
        for member_name, item in value.items():
            entry = members.get(member_name)
            if entry is None or item is None:
                continue  # the services ignore members they do not know
            converted[member_name] = entry[1](item, prefix, entry[0], violations)
        return converted

    return check


def _check_length(violations: list, shown: Any, path: str, length: int, low: int | None, high: int | None) -> None:
    """AWS's "have length ..." violation for ``path`` when ``length`` is outside [low, high]."""
    if low is not None and length < low:
        violations.append(_violation(shown, path, f"have length greater than or equal to {low}"))
    elif high is not None and length > high:
        violations.append(_violation(shown, path, f"have length less than or equal to {high}"))


def _string_check(shape: Shape, check_pattern: bool) -> Check:
    meta = shape.metadata
    low, high = meta.get("min"), meta.get("max")
    enum = tuple(shape.enum) or None
    pattern = meta.get("pattern") if check_pattern and enum is None else None
    regex = _compiled_pattern(pattern) if pattern is not None else None
    enum_text = f"satisfy enum value set: [{', '.join(enum)}]" if enum else ""
    pattern_text = f"satisfy regular expression pattern: {shown_pattern(pattern)}" if regex is not None else ""

    def check(value: Any, parent: str, name: str, violations: list) -> str:
        if not isinstance(value, str):
            raise ShapeMismatch(f"Unexpected value type for string at '{parent}{name}'.")
        if enum is not None and value not in enum:
            violations.append(_violation(value, parent + name, enum_text))
        if regex is not None and regex.fullmatch(value) is None:
            violations.append(_violation(value, parent + name, pattern_text))
        if low is not None or high is not None:  # spares counting UTF-16 units
            _check_length(violations, value, parent + name, _utf16_length(value), low, high)
        return value

    return check


def _integer_check(shape: Shape) -> Check:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")

    def check(value: Any, parent: str, name: str, violations: list) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if not (isinstance(value, float) and value.is_integer()):
                raise ShapeMismatch(f"Unexpected value type for integer at '{parent}{name}'.")
            value = int(value)
        if low is not None and value < low:
            violations.append(_violation(value, parent + name, f"have value greater than or equal to {low}"))
        elif high is not None and value > high:
            violations.append(_violation(value, parent + name, f"have value less than or equal to {high}"))
        return value

    return check


def _boolean_check(value: Any, parent: str, name: str, violations: list) -> bool:
    if not isinstance(value, bool):
        raise ShapeMismatch(f"Unexpected value type for boolean at '{parent}{name}'.")
    return value


def _timestamp_check(value: Any, parent: str, name: str, violations: list) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ShapeMismatch(f"Unexpected value type for timestamp at '{parent}{name}': expected epoch seconds.")
    return float(value)


def _passthrough(value: Any, parent: str, name: str, violations: list) -> Any:
    return value


def _blob_check(shape: Shape) -> Check:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")

    def check(value: Any, parent: str, name: str, violations: list) -> bytes:
        if isinstance(value, bytes):  # CBOR carries blobs as byte strings
            data = value
        elif isinstance(value, str):  # JSON as base64 text
            try:
                data = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise ShapeMismatch(f"Value at '{parent}{name}' is not valid base64.") from None
        else:
            raise ShapeMismatch(f"Unexpected value type for blob at '{parent}{name}'.")
        _check_length(violations, data, parent + name, len(data), low, high)
        return data

    return check


def _list_check(shape: Shape, memo: dict[str, Check]) -> Check:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    item_check = _compile(shape.member, memo)
    # A list of structures prints its items by type name, as Java's default toString
    # begins, rather than every record's data.
    item_label = shape.member.name if shape.member.type_name == "structure" else None

    def check(value: Any, parent: str, name: str, violations: list) -> list:
        if not isinstance(value, list):
            raise ShapeMismatch(f"Unexpected value type for list at '{parent}{name}'.")
        shown = [item_label] * len(value) if item_label else value
        _check_length(violations, shown, parent + name, len(value), low, high)
        out = []
        for index, item in enumerate(value, start=1):
            item_parent = f"{parent}{name}.{index}."
            if item is None:
                violations.append(_violation(None, item_parent + "member", "not be null"))
                continue
            out.append(item_check(item, item_parent, "member", violations))
        return out

    return check


def _map_check(shape: Shape, memo: dict[str, Check]) -> Check:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    key_check, value_check = _compile(shape.key, memo), _compile(shape.value, memo)

    def check(value: Any, parent: str, name: str, violations: list) -> dict:
        if not isinstance(value, dict):
            raise ShapeMismatch(f"Unexpected value type for map at '{parent}{name}'.")
        _check_length(violations, value, parent + name, len(value), low, high)
        here = f"{parent}{name}."
        return {key_check(k, here, "key", violations): value_check(v, here, "value", violations)
                for k, v in value.items()}

    return check
