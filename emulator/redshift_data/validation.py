"""Request checks and paging tokens of the Data API, with AWS's limits and wording."""
from __future__ import annotations

import base64
import re

from .exceptions import ValidationException

__all__ = ["validate_execute", "validate_sqls", "encode_token", "decode_token", "SQL_MAX_BYTES",
           "BATCH_MAX_STATEMENTS", "SESSION_KEEP_ALIVE_MAX_S"]

SQL_MAX_BYTES = 100 * 1024  # documented maximum query statement size
BATCH_MAX_STATEMENTS = 40  # BatchExecuteStatement: Sqls has 1..40 members
SESSION_KEEP_ALIVE_MAX_S = 24 * 3600
_PARAMETER_NAME = re.compile(r"^[0-9a-zA-Z_]+$")


def validate_sqls(sqls) -> None:
    if not isinstance(sqls, list) or not 1 <= len(sqls) <= BATCH_MAX_STATEMENTS:
        raise ValidationException(f"Sqls must hold between 1 and {BATCH_MAX_STATEMENTS} SQL statements.")
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
    if result_format not in (None, "JSON", "CSV"):
        raise ValidationException(f"ResultFormat must be JSON or CSV, not {result_format}.")
    if keep_alive_s is not None and not 0 <= keep_alive_s <= SESSION_KEEP_ALIVE_MAX_S:
        raise ValidationException(f"SessionKeepAliveSeconds must be between 0 and {SESSION_KEEP_ALIVE_MAX_S}.")
    seen: set[str] = set()
    for parameter in parameters or []:
        name = parameter.get("name") if isinstance(parameter, dict) else None
        if not isinstance(name, str) or not _PARAMETER_NAME.match(name) or not isinstance(parameter.get("value"), str):
            raise ValidationException("Each parameter needs a name matching [0-9a-zA-Z_]+ and a string value.")
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
