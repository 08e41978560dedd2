"""JSON 1.1 protocol for the Data API: ``POST /`` with ``X-Amz-Target: RedshiftData.<Op>``.

Thin: parse the body, check it against botocore's model of the operation (validation.py),
call the backend, serialise; errors become ``{"__type": code, "message": ...}`` with
``x-amzn-ErrorType``.
"""
from __future__ import annotations

import asyncio
import logging
import uuid

import orjson
from aiohttp import web

from emulator.service_errors import json_object_body

from .exceptions import (InternalServerException, RedshiftDataError, SerializationException,
                         UnknownOperationException, ValidationException)
from .auth import RequestAuthenticator
from .metadata import MetadataOperations
from .models import RedshiftDataBackend, Statement
from .validation import parse_request

__all__ = ["RedshiftDataResponses", "TARGET_PREFIX"]

TARGET_PREFIX = "RedshiftData."
CONTENT_TYPE = "application/x-amz-json-1.1"
_log = logging.getLogger(__name__)


def _describe(statement: Statement, sub: bool = False) -> dict:
    out = {
        "Id": statement.id,
        "Status": statement.status,
        "CreatedAt": statement.created_at,
        "UpdatedAt": statement.updated_at,
        "Duration": statement.duration_ns,
        "HasResultSet": statement.has_result_set,
        "QueryString": statement.sql,
        "RedshiftQueryId": 0,
        "ResultRows": statement.result_rows,
        "ResultSize": statement.result.size if statement.result is not None else -1,
    }
    if sub:
        return {k: v for k, v in {**out, "Error": statement.error}.items() if v is not None}
    out.update({"Database": statement.database, "RedshiftPid": statement.redshift_pid,
                "ResultFormat": statement.result_format})
    optional = {"ClusterIdentifier": statement.cluster_identifier, "WorkgroupName": statement.workgroup_name,
                "DbUser": statement.db_user, "SecretArn": statement.secret_arn, "Error": statement.error,
                "QueryParameters": statement.parameters,
                "SessionId": statement.session.id if statement.session is not None else None}
    out.update({k: v for k, v in optional.items() if v is not None})
    if statement.is_batch:
        out["SubStatements"] = [_describe(s, sub=True) for s in statement.sub_statements]
        out.pop("QueryString")
    return out


class RedshiftDataResponses:
    def __init__(self, backend: RedshiftDataBackend) -> None:
        self.backend = backend
        self.authenticator = RequestAuthenticator(backend.settings)
        self.operations = {
            "ExecuteStatement": self.execute_statement,
            "DescribeStatement": self.describe_statement,
            "GetStatementResult": self.get_statement_result,
            "CancelStatement": self.cancel_statement,
            "ListStatements": self.list_statements,
            "BatchExecuteStatement": self.batch_execute_statement,
            "GetStatementResultV2": self.get_statement_result_v2,
        }
        self.metadata = MetadataOperations(backend)
        for name in ("ListDatabases", "ListSchemas", "ListTables", "DescribeTable"):
            self.operations[name] = getattr(self.metadata, name)

    async def dispatch(self, request: web.Request) -> web.Response:
        try:
            try:
                raw = await request.read()
            except web.HTTPRequestEntityTooLarge:
                raise ValidationException("The request body is larger than this server accepts.") from None
            caller = self.authenticator.access_key(request.method, request.path_qs, request.headers, raw)
            target = request.headers.get("X-Amz-Target", "")
            name = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else ""
            operation = self.operations.get(name)
            if operation is None:
                raise UnknownOperationException(f"Unknown operation: {target or '(no X-Amz-Target header)'}")
            params = parse_request(name, json_object_body(raw, SerializationException))
            params["__caller_access_key"] = caller
            return self._json(200, await operation(params))
        except RedshiftDataError as exc:
            return self._json(exc.status, exc.body(), exc.code)
        except Exception as exc:  # a bug must still answer like AWS, not with a traceback
            _log.exception("unexpected error")
            error = InternalServerException(f"Internal error in the local stack: {type(exc).__name__}")
            return self._json(error.status, error.body(), error.code)

    @staticmethod
    def _json(status: int, payload: dict, error_type: str | None = None) -> web.Response:
        headers = {"x-amzn-RequestId": str(uuid.uuid4())}
        if error_type:
            headers["x-amzn-ErrorType"] = error_type
        return web.Response(status=status, body=orjson.dumps(payload), content_type=CONTENT_TYPE, headers=headers)

    async def execute_statement(self, body: dict, batch: bool = False) -> dict:
        parameters = body.get("Parameters")
        statement = self.backend.execute_statement(
            sql_text=None if batch else body.get("Sql"), database=body.get("Database"),
            cluster_identifier=body.get("ClusterIdentifier"),
            workgroup_name=body.get("WorkgroupName"), db_user=body.get("DbUser"),
            secret_arn=body.get("SecretArn"), statement_name=body.get("StatementName"),
            with_event=body.get("WithEvent") or False, parameters=parameters,
            result_format=body.get("ResultFormat"), caller_access_key=body.get("__caller_access_key"),
            session_id=body.get("SessionId"),
            session_keep_alive_s=body.get("SessionKeepAliveSeconds"),
            batch_sqls=body.get("Sqls") if batch else None)
        # One turn of the loop lets the statement's task send its query to PostgreSQL before we
        # answer: a client that polls right away then mostly finds it FINISHED on the first try.
        await asyncio.sleep(0)
        out = {"Id": statement.id, "CreatedAt": statement.created_at, "Database": statement.database}
        optional = {"ClusterIdentifier": statement.cluster_identifier, "WorkgroupName": statement.workgroup_name,
                    "DbUser": statement.db_user, "SecretArn": statement.secret_arn,
                    "SessionId": statement.session.id if statement.session is not None else None}
        out.update({k: v for k, v in optional.items() if v is not None})
        return out

    async def batch_execute_statement(self, body: dict) -> dict:
        return await self.execute_statement(body, batch=True)

    async def describe_statement(self, body: dict) -> dict:
        return _describe(self.backend.statements.find(body["Id"]))

    async def get_statement_result(self, body: dict, csv: bool = False) -> dict:
        statement, records, token = self.backend.get_statement_result(body["Id"], body.get("NextToken"), csv=csv)
        out = {"Records": [{"CSVRecords": "".join(records)}] if csv else records,
               "ColumnMetadata": statement.result.columns, "TotalNumRows": statement.result.num_rows}
        if csv:
            out["ResultFormat"] = "CSV"
        if token:
            out["NextToken"] = token
        return out

    async def get_statement_result_v2(self, body: dict) -> dict:
        return await self.get_statement_result(body, csv=True)

    async def cancel_statement(self, body: dict) -> dict:
        return {"Status": await self.backend.cancel_statement(body["Id"])}

    async def list_statements(self, body: dict) -> dict:
        statements, token = self.backend.list_statements(
            status=body.get("Status"), statement_name=body.get("StatementName"),
            database=body.get("Database"), cluster_identifier=body.get("ClusterIdentifier"),
            workgroup_name=body.get("WorkgroupName"), max_results=body.get("MaxResults"),
            next_token=body.get("NextToken"))
        out = {"Statements": [{
            k: v for k, v in {
                "Id": s.id, "QueryString": s.sql, "Status": s.status, "StatementName": s.statement_name,
                "CreatedAt": s.created_at, "UpdatedAt": s.updated_at, "IsBatchStatement": s.is_batch,
                "QueryParameters": s.parameters, "ResultFormat": s.result_format,
                "QueryStrings": [sub.sql for sub in s.sub_statements] if s.is_batch else None,
                "SessionId": s.session.id if s.session is not None else None,
            }.items() if v is not None} for s in statements]}
        if token:
            out["NextToken"] = token
        return out
