"""ListDatabases, ListSchemas, ListTables and DescribeTable, answered from PostgreSQL's catalog.

Like the service, these run synchronously and page with NextToken/MaxResults; patterns
are SQL LIKE patterns. Our own schemas (``streamload_*``) stay hidden.
"""
from __future__ import annotations

from typing import Any

import psycopg

from .exceptions import DatabaseConnectionException, ValidationException
from .validation import decode_token, encode_token, validate_execute

__all__ = ["MetadataOperations"]

HIDDEN_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast", "streamload_catalog", "streamload_sys")
MAX_RESULTS = 1000
# pg_namespace rows ListSchemas and ListTables show: matching the SchemaPattern (first
# parameter), not hidden (HIDDEN_SCHEMAS, second), not a session's temporary or TOAST schema.
_VISIBLE_SCHEMA = ("nspname LIKE %s AND nspname <> ALL(%s) AND nspname NOT LIKE 'pg_temp%%' "
                   "AND nspname NOT LIKE 'pg_toast%%'")
_TABLE_TYPES = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "f": "EXTERNAL TABLE"}


def _paged(key: str, items: list, body: dict, **also: Any) -> dict:
    """``{key: the page of items that MaxResults and NextToken ask for, **also}``, with a
    NextToken when more follow."""
    limit = body.get("MaxResults") or MAX_RESULTS
    if not isinstance(limit, int) or not 0 <= limit <= MAX_RESULTS:
        raise ValidationException(f"MaxResults must be between 0 and {MAX_RESULTS}")
    token = body.get("NextToken")
    offset = decode_token(token, len(items)) if token else 0
    out = {key: items[offset:offset + limit], **also}
    if offset + limit < len(items):
        out["NextToken"] = encode_token(offset + limit)
    return out


class MetadataOperations:
    def __init__(self, backend) -> None:
        self.backend = backend

    async def _rows(self, body: dict, query: str, params: tuple) -> list[tuple]:
        for key in ("ConnectedDatabase", "Database", "ClusterIdentifier", "WorkgroupName", "DbUser", "SecretArn",
                    "SchemaPattern", "TablePattern", "Schema", "Table", "NextToken"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise ValidationException(f"{key} must be of type str.")
        database = body.get("ConnectedDatabase") or body.get("Database")
        validate_execute(None, body.get("Database"), body.get("ClusterIdentifier"), body.get("WorkgroupName"),
                         None, None)
        try:
            pool = await self.backend.pool_for(database)
        except psycopg.OperationalError as exc:
            raise DatabaseConnectionException(f"Database connection failed: {str(exc).strip().splitlines()[-1]}")
        async with pool.connection() as conn:
            return await (await conn.execute(query, params)).fetchall()

    async def ListDatabases(self, body: dict) -> dict:
        rows = await self._rows(body, "SELECT datname FROM pg_database WHERE NOT datistemplate "
                                      "AND datname <> 'postgres' ORDER BY 1", ())
        return _paged("Databases", [r[0] for r in rows], body)

    async def ListSchemas(self, body: dict) -> dict:
        # Kinesis external schemas live in our catalog only; Redshift lists them with the others.
        pattern = body.get("SchemaPattern") or "%"
        rows = await self._rows(body, f"SELECT nspname::text FROM pg_namespace WHERE {_VISIBLE_SCHEMA} "
                                      "UNION SELECT schema_name FROM streamload_catalog.external_schemas "
                                      "WHERE schema_name LIKE %s ORDER BY 1",
                                (pattern, list(HIDDEN_SCHEMAS), pattern))
        return _paged("Schemas", [r[0] for r in rows], body)

    async def ListTables(self, body: dict) -> dict:
        rows = await self._rows(body, "SELECT c.relname, nspname, c.relkind FROM pg_class c "
                                      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN "
                                      f"('r','p','v','m','f') AND c.relname LIKE %s AND {_VISIBLE_SCHEMA} "
                                      "ORDER BY 2, 1",
                                (body.get("TablePattern") or "%", body.get("SchemaPattern") or "%",
                                 list(HIDDEN_SCHEMAS)))
        tables = [{"name": name, "schema": schema, "type": _TABLE_TYPES[kind]} for name, schema, kind in rows]
        return _paged("Tables", tables, body)

    async def DescribeTable(self, body: dict) -> dict:
        schema, table = body.get("Schema") or "public", body.get("Table")
        query = ("SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname, NOT a.attnotnull, "
                 "information_schema._pg_char_max_length(a.atttypid, a.atttypmod), "
                 "information_schema._pg_numeric_precision(a.atttypid, a.atttypmod), "
                 "information_schema._pg_numeric_scale(a.atttypid, a.atttypmod), c.relname, n.nspname, "
                 "pg_get_expr(d.adbin, d.adrelid) "
                 "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                 "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid "
                 "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                 "WHERE a.attnum > 0 AND NOT a.attisdropped AND n.nspname LIKE %s AND c.relname LIKE %s "
                 "ORDER BY n.nspname, c.relname, a.attnum")
        rows = await self._rows(body, query, (schema, table or "%"))
        from .results import _REDSHIFT_TYPE_NAMES, _SIGNED, _CASE_SENSITIVE
        columns = [{
            "name": name, "label": name, "typeName": _REDSHIFT_TYPE_NAMES.get(typname, typname),
            "nullable": 1 if nullable else 0, "isSigned": typname in _SIGNED, "isCurrency": False,
            "isCaseSensitive": typname in _CASE_SENSITIVE, "length": length or 0, "precision": precision or 0,
            "scale": scale or 0, "schemaName": nsp, "tableName": rel,
            **({"columnDefault": default} if default is not None else {}),
        } for name, _fmt, typname, nullable, length, precision, scale, rel, nsp, default in rows]
        return _paged("ColumnList", columns, body, **({"TableName": table} if table else {}))
