"""Kinesis requests checked against botocore's Kinesis service model (emulator/service_model.py)
and converted to Python values (blobs -> bytes, timestamps -> epoch seconds). JSON bodies
carry blobs as base64 text, CBOR bodies (cbor_protocol.py) as bytes already.

- the body is not the JSON the shape asks for -> ``SerializationException``;
- values break constraints -> one ``ValidationException`` listing them in AWS's words.
"""
from __future__ import annotations

from typing import Any

from botocore.model import OperationModel

from emulator import service_model as model

from .exceptions import SerializationException, ValidationException

__all__ = ["SERVICE", "operation_model", "parse_input"]

SERVICE = "kinesis"


def operation_model(name: str) -> OperationModel | None:
    return model.operation_model(SERVICE, name)


def parse_input(operation: OperationModel, body: Any) -> dict[str, Any]:
    """The request's members, converted; raises SerializationException/ValidationException."""
    try:
        return model.validate_input(operation, body)
    except model.ShapeMismatch as error:
        raise SerializationException(error.message) from None
    except model.ConstraintViolations as error:
        raise ValidationException(error.message) from None
