"""The query protocol's form fields (STS) as the nested request ``service_model`` checks.

``ProvidedContexts.member.1.ProviderArn=…`` becomes ``{"ProvidedContexts": [{"ProviderArn": …}]}``,
numbers and booleans converted by the shape, so one validator serves every protocol.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.model import OperationModel, Shape

from .service_model import ShapeMismatch, wire_name

__all__ = ["query_input"]


def query_input(operation: OperationModel, params: Mapping[str, str]) -> dict:
    """Form fields of a query-protocol request (``ProvidedContexts.member.1.ProviderArn``)
    nested as the JSON body the same shape would have, numbers and booleans converted,
    ready for ``validate_input``. Fields the shape does not name are left out."""
    shape = operation.input_shape
    if shape is None:
        return {}
    return _query_structure(shape, params, "")


def _query_structure(shape: Shape, params: Mapping[str, str], key: str) -> dict:
    out = {}
    for name, member in shape.members.items():
        field = member.serialization.get("name", name)
        value = _query_value(member, params, f"{key}.{field}" if key else field)
        if value is not None:
            out[name] = value
    return out


def _query_value(shape: Shape, params: Mapping[str, str], key: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        prefix = key + "."
        return _query_structure(shape, params, key) if any(k.startswith(prefix) for k in params) else None
    if kind == "list":
        base = key if shape.serialization.get("flattened") else f"{key}.member"
        indexes = sorted({int(part) for part in (k[len(base) + 1:].split(".", 1)[0] for k in params
                                                  if k.startswith(base + ".")) if part.isdecimal()})
        if not indexes:
            return [] if params.get(key) == "" else None  # "Name=" is the query form of []
        return [_query_value(shape.member, params, f"{base}.{index}") for index in indexes]
    raw = params.get(key)
    if raw is None:
        return None
    if kind in ("integer", "long"):
        try:
            return int(raw)
        except ValueError:
            raise ShapeMismatch(f"Value '{raw}' at '{wire_name(key)}' is not a valid integer.") from None
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ShapeMismatch(f"Value '{raw}' at '{wire_name(key)}' is not a valid boolean.")
        return raw == "true"
    return raw  # strings; blobs stay base64 text, as in JSON
