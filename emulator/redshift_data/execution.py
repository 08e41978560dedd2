"""Running one Data API statement's SQL on a PostgreSQL connection.

The SQL may hold several statements; each is classified (``translate.parse_statement``,
``rbac.parse_rbac_statement``) and run: plain SQL verbatim after translation, streaming and
RLS commands through their own modules. The last statement's rows are the result.
"""
from __future__ import annotations

import psycopg
from psycopg import sql

from functools import lru_cache

from .external_schemas import DropSchema, drop_schemas, parse_drop_schema
from .rbac import (AttachRlsPolicy, CreateRlsPolicy, DropRlsPolicy, GrantRole, RbacCatalog, TableRowLevelSecurity,
                   parse_rbac_statement)
from .results import build_result_set
from .session_settings import SettingCommand, parse_setting_command
from .streaming import StreamingIngestion
from .translate import (CASE_RULES, CaseRules, CreateKinesisSchema, CreateMaterializedView, DropMaterializedView,
                        PlainSql, RefreshMaterializedView, SqlTranslationError, parse_statement, split_statements,
                        translate_sql)

__all__ = ["StatementExecutor", "classify"]

RBAC_COMMANDS = (CreateRlsPolicy, DropRlsPolicy, AttachRlsPolicy, TableRowLevelSecurity, GrantRole)
# Load tests send the same few statements thousands of times: tokenizing, parsing and
# translating each again took a third of a short query's time in the server.
CLASSIFY_CACHE_SIZE = 2048


@lru_cache(maxsize=CLASSIFY_CACHE_SIZE)
def _split(sql_text: str) -> tuple[str, ...]:
    return tuple(split_statements(sql_text))


@lru_cache(maxsize=CLASSIFY_CACHE_SIZE)
def classify(piece: str, parameters: tuple[tuple[str, str], ...], case: CaseRules):
    """The command one statement is: a Redshift-only SET/SHOW, an RBAC/RLS command, DROP SCHEMA, or
    what ``translate.parse_statement`` makes of it. Commands are immutable, so the answer is cached."""
    command = parse_setting_command(piece) or parse_rbac_statement(piece)
    if command is None:
        command = parse_drop_schema(piece, fold_quoted=not case.identifier)
    return command if command is not None else parse_statement(piece, dict(parameters), case)


class StatementExecutor:
    def __init__(self, streaming: StreamingIngestion, rbac: RbacCatalog) -> None:
        self.streaming = streaming
        self.rbac = rbac

    async def execute(self, conn: psycopg.AsyncConnection, statement, parameters: dict[str, str]) -> None:
        pieces = _split(statement.sql)
        if not pieces:
            raise SqlTranslationError("syntax error: empty statement")
        statement.leaves_session_alone = False
        clean = True
        for piece in pieces:
            statement.result, statement.result_rows = None, -1
            clean = await self._execute_one(conn, statement, piece, parameters) and clean
        statement.leaves_session_alone = clean

    async def _execute_one(self, conn, statement, piece: str, parameters: dict[str, str]) -> bool:
        """Run one statement; True if it left the session as it found it."""
        command = await self._run_command(conn, statement, piece, parameters)
        return isinstance(command, PlainSql) and command.read_only

    async def _run_command(self, conn, statement, piece: str, parameters: dict[str, str]):
        settings = statement.settings
        case = settings.case_rules()
        CASE_RULES.set(case)  # this statement's task only
        command = classify(piece, tuple(sorted(parameters.items())), case)
        if isinstance(command, SettingCommand):
            shown = settings.apply(command)
            if shown is not None:
                await run_plain(conn, statement, sql.SQL("SELECT {} AS {}").format(
                    sql.Literal(shown), sql.Identifier(command.name)).as_string(conn))
            elif command.name == "all":
                await conn.execute("RESET ALL")
            return command
        if isinstance(command, RBAC_COMMANDS):
            await self.rbac.run(conn, command)
            return command
        if isinstance(command, DropSchema):
            await drop_schemas(conn, command, self.streaming)
            return command
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
        return command


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
