"""Kinesis errors, one class per AWS error code.

Each class knows the ``__type`` code botocore matches on and the HTTP status the real
service answers with, so the protocol layer never decides either. Those that are only a
code and a status are made from the table ``_CODE_ONLY_ERRORS`` (``emulator.service_errors``);
they import like the written-out ones. The tree::

    KinesisError                               (base; never raised itself)
    ├── ResourceNotFoundException         400
    ├── ResourceInUseException            400
    ├── InvalidArgumentException          400
    ├── ValidationException               400  (a member breaks a shape constraint)
    ├── SerializationException            400  (body is not the JSON the shape asks for)
    ├── UnknownOperationException         400
    ├── MissingAuthenticationTokenException 400  (request not signed)
    ├── UnrecognizedClientException       400  (access key unknown)
    ├── InvalidSignatureException         400  (signature wrong or expired)
    ├── IncompleteSignatureException      400  (Authorization header malformed)
    ├── AccessDeniedException             400
    ├── ExpiredIteratorException          400
    ├── ExpiredNextTokenException         400
    ├── ProvisionedThroughputExceededException 400
    ├── LimitExceededException            400
    └── InternalFailureException          500  (``__type`` InternalFailure)
"""
from __future__ import annotations

from emulator.service_errors import ServiceError, declare_errors
from emulator.service_model import violations_message


class KinesisError(ServiceError):
    """An error the service reports to the caller as ``{"__type": code, "message": ...}``."""

    status = 400

    def to_body(self) -> dict[str, str]:
        return {"__type": self.code, "message": self.message}


class ResourceNotFoundException(KinesisError):
    code = "ResourceNotFoundException"

    @classmethod
    def for_stream(cls, stream_name: str, account_id: str) -> "ResourceNotFoundException":
        return cls(f"Stream {stream_name} under account {account_id} not found.")

    @classmethod
    def for_shard(cls, shard_id: str, stream_name: str, account_id: str) -> "ResourceNotFoundException":
        return cls(f"Shard {shard_id} in stream {stream_name} under account {account_id} does not exist")


class ValidationException(KinesisError):
    code = "ValidationException"

    @classmethod
    def from_violations(cls, violations: list[str]) -> "ValidationException":
        return cls(violations_message(violations))


class InternalFailureException(KinesisError):
    # botocore's service model names the shape InternalFailureException, but the wire
    # code the service sends (and SDK retry logic looks for) is InternalFailure.
    code = "InternalFailure"
    status = 500


class UnrecognizedClientException(KinesisError):
    code = "UnrecognizedClientException"

    def __init__(self, message: str = "The security token included in the request is invalid.") -> None:
        super().__init__(message)


# The errors that are only a code (also the class name) and an HTTP status.
_CODE_ONLY_ERRORS = {
    "ResourceInUseException": 400,
    "InvalidArgumentException": 400,
    "SerializationException": 400,
    "UnknownOperationException": 400,
    "MissingAuthenticationTokenException": 400,
    "AccessDeniedException": 400,
    "ExpiredIteratorException": 400,
    "ExpiredNextTokenException": 400,
    "ProvisionedThroughputExceededException": 400,
    "LimitExceededException": 400,
    "InvalidSignatureException": 400,
    "IncompleteSignatureException": 400,
}
globals().update(declare_errors(KinesisError, _CODE_ONLY_ERRORS, __name__))

__all__ = ["KinesisError", "ResourceNotFoundException", "ValidationException", "InternalFailureException",
           "UnrecognizedClientException", *_CODE_ONLY_ERRORS]
