"""Redshift Data API errors, one class per AWS error code.

    RedshiftDataError
    ├── ValidationException                 400  breaks the model or the service's rules, wrong state
    ├── ResourceNotFoundException           400  unknown statement Id; no result set to fetch
    ├── ActiveStatementsExceededException   400  too many SUBMITTED/PICKED/STARTED statements
    ├── ActiveSessionsExceededException     400  too many open sessions (SessionKeepAliveSeconds)
    ├── BatchExecuteStatementException      500  the batch could not be submitted
    ├── ExecuteStatementException           500  the statement could not be submitted
    ├── DatabaseConnectionException         500  PostgreSQL unreachable
    ├── InternalServerException             500  anything unexpected
    ├── UnknownOperationException           400  X-Amz-Target names no operation
    ├── SerializationException              400  body is not a JSON object
    ├── MissingAuthenticationTokenException 400  request not signed
    ├── IncompleteSignatureException        400  Authorization header unreadable
    ├── UnrecognizedClientException         400  access key unknown (or its session token missing)
    └── InvalidSignatureException           400  signature wrong or expired

Each knows its ``__type`` code and HTTP status; ``body()`` is the JSON 1.1 error document.
"""
from __future__ import annotations

__all__ = [
    "RedshiftDataError",
    "ValidationException",
    "ResourceNotFoundException",
    "ActiveStatementsExceededException",
    "ExecuteStatementException",
    "ActiveSessionsExceededException",
    "BatchExecuteStatementException",
    "DatabaseConnectionException",
    "InternalServerException",
    "UnknownOperationException",
    "SerializationException",
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
]


class RedshiftDataError(Exception):
    code = "InternalServerException"
    status = 500

    def __init__(self, message: str, **members: str) -> None:
        super().__init__(message)
        self.message = message
        self.members = members  # extra modelled members, e.g. ResourceId

    def body(self) -> dict:
        # botocore reads "message" or "Message"; the service model names it "Message".
        return {"__type": self.code, "message": self.message, "Message": self.message, **self.members}


class ValidationException(RedshiftDataError):
    code = "ValidationException"
    status = 400


class ResourceNotFoundException(RedshiftDataError):
    code = "ResourceNotFoundException"
    status = 400

    def __init__(self, message: str, resource_id: str) -> None:
        super().__init__(message, ResourceId=resource_id)


class ActiveStatementsExceededException(RedshiftDataError):
    code = "ActiveStatementsExceededException"
    status = 400


class ActiveSessionsExceededException(RedshiftDataError):
    code = "ActiveSessionsExceededException"
    status = 400


class BatchExecuteStatementException(RedshiftDataError):
    code = "BatchExecuteStatementException"
    status = 500

    def __init__(self, message: str, statement_id: str) -> None:
        super().__init__(message, StatementId=statement_id)


class ExecuteStatementException(RedshiftDataError):
    code = "ExecuteStatementException"
    status = 500

    def __init__(self, message: str, statement_id: str) -> None:
        super().__init__(message, StatementId=statement_id)


class DatabaseConnectionException(RedshiftDataError):
    code = "DatabaseConnectionException"
    status = 500


class InternalServerException(RedshiftDataError):
    code = "InternalServerException"
    status = 500


class UnknownOperationException(RedshiftDataError):
    code = "UnknownOperationException"
    status = 400


class SerializationException(RedshiftDataError):
    code = "SerializationException"
    status = 400


class MissingAuthenticationTokenException(RedshiftDataError):
    code = "MissingAuthenticationTokenException"
    status = 400


class IncompleteSignatureException(RedshiftDataError):
    code = "IncompleteSignatureException"
    status = 400


class UnrecognizedClientException(RedshiftDataError):
    code = "UnrecognizedClientException"
    status = 400


class InvalidSignatureException(RedshiftDataError):
    code = "InvalidSignatureException"
    status = 400
