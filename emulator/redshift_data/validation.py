"""Request checks and paging tokens of the Data API, with AWS's limits and wording.

Every request is first checked against botocore's ``redshift-data`` service model
(emulator/service_model.py): required members, types, lengths, patterns, ranges and enums
as AWS has them. What the model cannot say is checked here, in the service's own words:
a statement ``Id`` (AWS answers ``id must satisfy regex pattern: …`` rather than the
model's generic pattern message), the 100 KB statement size, and the combinations of
ClusterIdentifier / WorkgroupName / Database / SessionId.
"""
from __future__ import annotations

import base64
import re
from typing import Any

from emulator import service_model as model

from .exceptions import SerializationException, ValidationException

__all__ = ["parse_request", "check_statement_id", "validate_execute", "validate_sqls", "encode_token",
           "decode_token", "SQL_MAX_BYTES", "STATEMENT_ID_PATTERN"]

SERVICE = "redshift-data"
SQL_MAX_BYTES = 100 * 1024  # documented maximum query statement size
# The statement Id as the service checks it (the model's pattern is looser: ``(:\d{0,2})?``).
STATEMENT_ID_PATTERN = r"^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\d+)?$"
_STATEMENT_ID = re.compile(r"[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:[0-9]+)?")


def parse_request(operation: str, body: Any) -> dict[str, Any]:
    """``body`` checked against the operation's input shape, plus the service's own Id check.
    Raises SerializationException (not the JSON the shape asks for) or ValidationException."""
    operation_model = model.operation_model(SERVICE, operation)
    if operation_model is None:
        raise ValueError(f"{operation} is not a {SERVICE} operation")
    try:
        params = model.validate_input(operation_model, body, unchecked_patterns=frozenset({"Id"}))
    except model.ShapeMismatch as error:
        raise SerializationException(error.message) from None
    except model.ConstraintViolations as error:
        raise ValidationException(error.message) from None
    if "Id" in params:
        check_statement_id(params["Id"])
    return params


def check_statement_id(statement_id: str) -> None:
    if _STATEMENT_ID.fullmatch(statement_id) is None:
        raise ValidationException(f"id must satisfy regex pattern: {STATEMENT_ID_PATTERN}")


def validate_sqls(sqls) -> None:
    """The batch's statements; their count (1..40) is the model's to check."""
    for sql_text in sqls:
        _validate_sql(sql_text)


def _validate_sql(sql_text) -> None:
    if not isinstance(sql_text, str) or not sql_text.strip():
        raise ValidationException("Sql is required and must be a non-empty string.")
    if len(sql_text.encode()) > SQL_MAX_BYTES:
        raise ValidationException("Sql exceeds the maximum query statement size of 100 KB.")


def validate_execute(sql_text, database, cluster_identifier, workgroup_name, parameters, result_format,
                     session_id=None, keep_alive_s=None) -> None:
    if sql_text is not None:
        _validate_sql(sql_text)
    if cluster_identifier and workgroup_name:
        raise ValidationException("Either ClusterIdentifier or WorkgroupName must be specified, not both.")
    if session_id is None:
        if not cluster_identifier and not workgroup_name:
            raise ValidationException("Either ClusterIdentifier or WorkgroupName must be specified.")
        if not database:
            raise ValidationException("Database is required.")
    elif cluster_identifier or workgroup_name or database or keep_alive_s is not None:
        raise ValidationException("SessionId cannot be specified together with ClusterIdentifier, "
                                  "WorkgroupName, Database or SessionKeepAliveSeconds.")
    # ResultFormat, SessionKeepAliveSeconds and each parameter's name and value are the
    # model's to check; a name given twice is the service's.
    seen: set[str] = set()
    for parameter in parameters or []:
        name = parameter["name"]
        if name in seen:
            raise ValidationException(f"Parameter {name} is specified more than once.")
        seen.add(name)


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{offset}".encode()).decode()


def decode_token(token: str, limit: int) -> int:
    try:
        kind, _, offset = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        value = int(offset)
    except (ValueError, UnicodeDecodeError):
        raise ValidationException("The NextToken is invalid.") from None
    if kind != "v1" or not 0 <= value <= limit:
        raise ValidationException("The NextToken is invalid.")
    return value
