"""Running one Data API statement's SQL on a PostgreSQL connection.

The SQL may hold several statements; each is classified (``translate.parse_statement``,
``rbac.parse_rbac_statement``) and run: plain SQL verbatim after translation, streaming and
RLS commands through their own modules. The last statement's rows are the result.
"""
from __future__ import annotations

import psycopg
from psycopg import sql

from .rbac import RbacCatalog, parse_rbac_statement
from .results import build_result_set
from .streaming import StreamingIngestion
from .translate import (CreateKinesisSchema, CreateMaterializedView, DropMaterializedView, PlainSql,
                        RefreshMaterializedView, SqlTranslationError, parse_statement, split_statements,
                        translate_sql)

__all__ = ["StatementExecutor"]


class StatementExecutor:
    def __init__(self, streaming: StreamingIngestion, rbac: RbacCatalog) -> None:
        self.streaming = streaming
        self.rbac = rbac

    async def execute(self, conn: psycopg.AsyncConnection, statement, parameters: dict[str, str]) -> None:
        pieces = split_statements(statement.sql)
        if not pieces:
            raise SqlTranslationError("syntax error: empty statement")
        for piece in pieces:
            statement.result, statement.result_rows = None, -1
            await self._execute_one(conn, statement, piece, parameters)

    async def _execute_one(self, conn, statement, piece: str, parameters: dict[str, str]) -> None:
        rbac_command = parse_rbac_statement(piece)
        if rbac_command is not None:
            await self.rbac.run(conn, rbac_command)
            return
        command = parse_statement(piece, parameters)
        if isinstance(command, PlainSql):
            await run_plain(conn, statement, command.sql)
        elif isinstance(command, CreateKinesisSchema):
            await self.streaming.create_external_schema(conn, command)
        elif isinstance(command, CreateMaterializedView):
            if not await self.streaming.create_materialized_view(conn, command):
                body = translate_sql(command.select_sql, parameters)
                await run_plain(conn, statement, f"CREATE MATERIALIZED VIEW {_quote(command.name)} AS {body}")
        elif isinstance(command, RefreshMaterializedView):
            added = await self.streaming.refresh(conn, statement.database, command.name)
            if added is None:
                await run_plain(conn, statement, f"REFRESH MATERIALIZED VIEW {_quote(command.name)}")
        elif isinstance(command, DropMaterializedView):
            if not await self.streaming.drop_materialized_view(conn, command):
                exists = "IF EXISTS " if command.if_exists else ""
                await run_plain(conn, statement, f"DROP MATERIALIZED VIEW {exists}{_quote(command.name)}")


async def run_plain(conn: psycopg.AsyncConnection, statement, postgres_sql: str) -> None:
    async with conn.cursor() as cur:
        await cur.execute(postgres_sql)
        if cur.description is None:
            statement.result_rows = cur.rowcount if cur.rowcount >= 0 else -1
            return
        rows = await cur.fetchall()
        type_names = [_type_name(conn, column.type_code) for column in cur.description]
        statement.result = build_result_set(cur.description, type_names, rows,
                                            csv=statement.result_format == "CSV")
        statement.result_rows = len(rows)


def _type_name(conn: psycopg.AsyncConnection, oid: int) -> str:
    info = conn.adapters.types.get(oid)
    return info.name if info is not None else "unknown"


def _quote(name: tuple[str, ...]) -> str:
    return sql.Identifier(*name).as_string(None)
