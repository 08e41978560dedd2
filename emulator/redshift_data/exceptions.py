"""Redshift Data API errors, one class per AWS error code.

    RedshiftDataError
    ├── ValidationException                 400  breaks the model or the service's rules, wrong state
    ├── ResourceNotFoundException           400  unknown statement Id; no result set to fetch
    ├── ActiveStatementsExceededException   400  too many SUBMITTED/PICKED/STARTED statements
    ├── ActiveSessionsExceededException     400  too many open sessions (SessionKeepAliveSeconds)
    ├── StatementSubmitError                     (base of the two below; carries StatementId)
    │   ├── BatchExecuteStatementException  500  the batch could not be submitted
    │   └── ExecuteStatementException       500  the statement could not be submitted
    ├── DatabaseConnectionException         500  PostgreSQL unreachable
    ├── InternalServerException             500  anything unexpected
    ├── UnknownOperationException           400  X-Amz-Target names no operation
    ├── SerializationException              400  body is not a JSON object
    ├── MissingAuthenticationTokenException 400  request not signed
    ├── IncompleteSignatureException        400  Authorization header unreadable
    ├── UnrecognizedClientException         400  access key unknown (or its session token missing)
    └── InvalidSignatureException           400  signature wrong or expired

Each knows its ``__type`` code and HTTP status; ``body()`` is the JSON 1.1 error document.
Those that are only a code and a status are made from the table ``_CODE_ONLY_ERRORS``
(``emulator.service_errors``); they import like the written-out ones.
"""
from __future__ import annotations

from emulator.service_errors import ServiceError, declare_errors


class RedshiftDataError(ServiceError):
    code = "InternalServerException"

    def __init__(self, message: str, **members: str) -> None:
        super().__init__(message)
        self.members = members  # extra modelled members, e.g. ResourceId

    def body(self) -> dict:
        # botocore reads "message" or "Message"; the service model names it "Message".
        return {"__type": self.code, "message": self.message, "Message": self.message, **self.members}


class ResourceNotFoundException(RedshiftDataError):
    code = "ResourceNotFoundException"
    status = 400

    def __init__(self, message: str, resource_id: str) -> None:
        super().__init__(message, ResourceId=resource_id)


class StatementSubmitError(RedshiftDataError):
    """A statement or batch that could not be submitted; the answer names its Id."""

    def __init__(self, message: str, statement_id: str) -> None:
        super().__init__(message, StatementId=statement_id)


# The errors that are only a code (also the class name) and an HTTP status.
_CODE_ONLY_ERRORS = {
    "ValidationException": 400,
    "ActiveStatementsExceededException": 400,
    "ActiveSessionsExceededException": 400,
    "DatabaseConnectionException": 500,
    "InternalServerException": 500,
    "UnknownOperationException": 400,
    "SerializationException": 400,
    "MissingAuthenticationTokenException": 400,
    "IncompleteSignatureException": 400,
    "UnrecognizedClientException": 400,
    "InvalidSignatureException": 400,
}
_SUBMIT_ERRORS = {"ExecuteStatementException": 500, "BatchExecuteStatementException": 500}
globals().update(declare_errors(RedshiftDataError, _CODE_ONLY_ERRORS, __name__))
globals().update(declare_errors(StatementSubmitError, _SUBMIT_ERRORS, __name__))

__all__ = ["RedshiftDataError", "ResourceNotFoundException", "StatementSubmitError", *_CODE_ONLY_ERRORS,
           *_SUBMIT_ERRORS]
