"""The Data API's state: statements, sessions, their state machine and quotas.

Nothing here knows about HTTP. A statement is accepted (SUBMITTED), picked up by an asyncio
task (PICKED), sent to PostgreSQL once a connection is free (STARTED) and ends FINISHED,
FAILED (with PostgreSQL's error text) or ABORTED (CancelStatement). A batch runs its
sub-statements ``<id>:1…`` in one transaction. Statements run as the caller's database
user (``callers``); results are kept ``result_retention_s`` (AWS: 24 hours), then gone.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

import psycopg

from .callers import DatabaseUser, resolve_database_user
from .exceptions import ActiveStatementsExceededException, ValidationException
from .execution import StatementExecutor
from .pools import ConnectionPools, reset_session
from .rbac import RbacCatalog
from .results import ResultTooLargeError
from .super_errors import unsupported_super_error
from .role_chain import CURRENT_WAREHOUSE, RoleChainChecker
from .sessions import Session, SessionStore
from .settings import RedshiftDataSettings
from .statements import ACTIVE_STATES, TERMINAL_STATES, Statement, StatementStore, require_result
from .streaming import StreamingIngestion
from .translate import SqlTranslationError
from .validation import decode_token, encode_token, validate_execute, validate_sqls

__all__ = ["Statement", "Session", "RedshiftDataBackend", "ACTIVE_STATES", "TERMINAL_STATES"]

_log = logging.getLogger(__name__)

# The Data API pages GetStatementResult by size; the page size is not documented, so we
# use 1 MiB (well under the 64 KB-per-row and 500 MB-per-result documented limits' product).
RESULT_PAGE_MAX_BYTES = 1024 * 1024
LIST_STATEMENTS_MAX = 100


class RedshiftDataBackend:
    """Statement store plus execution over PostgreSQL connection pools."""

    def __init__(self, settings: RedshiftDataSettings, clock: Callable[[], float] | None = None) -> None:
        self.settings = settings
        # Wall clock for CreatedAt/UpdatedAt, retention and session expiry (tests pass a fake one).
        self.clock = clock or time.time
        self.statements = StatementStore(self.clock, settings.result_retention_s,
                                         max_kept=settings.max_kept_statements,
                                         max_result_bytes=settings.max_kept_result_bytes)
        self.sessions = SessionStore(self.clock, settings.max_active_sessions)
        self.streaming = StreamingIngestion(settings.kinesis_endpoint_url, settings.region,
                                            settings.kinesis_access_key_id, settings.kinesis_secret_access_key)
        self.pools = ConnectionPools(settings.pg_dsn, settings.pool_size, settings.user_pool_size)
        self.streaming.before_read = RoleChainChecker(settings.identity_registry, settings.region)
        self.executor = StatementExecutor(self.streaming, RbacCatalog())
        # The cluster/workgroup that last ran a statement on each database: auto refresh checks
        # role chains against it (its role attachments).
        self._warehouse_of: dict[str, str | None] = {}
        self._auto_refresh_task: asyncio.Task | None = None
        self._warm_up_task: asyncio.Task | None = None
        self._last_refresh_errors: dict[tuple, str] = {}

    # -- lifecycle ------------------------------------------------------------------
    async def start(self) -> None:
        self._warm_up_task = asyncio.create_task(self.streaming.reader.warm_up())
        if self.settings.auto_refresh_interval_s > 0:
            self._auto_refresh_task = asyncio.create_task(self._auto_refresh_forever())

    async def close(self) -> None:
        if self._warm_up_task is not None:
            await asyncio.gather(self._warm_up_task, return_exceptions=True)
        if self._auto_refresh_task is not None:
            self._auto_refresh_task.cancel()
            await asyncio.gather(self._auto_refresh_task, return_exceptions=True)
        tasks = self.statements.running_tasks()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.sessions.close_all()
        await self.pools.close()
        await self.streaming.close()

    async def pool_for(self, database: str, user: DatabaseUser | None = None):
        return await self.pools.pool_for(database, user)

    # -- operations -----------------------------------------------------------------
    def execute_statement(self, *, sql_text: str | None, database: str | None, cluster_identifier: str | None = None,
                          workgroup_name: str | None = None, db_user: str | None = None,
                          secret_arn: str | None = None, statement_name: str | None = None,
                          with_event: bool = False, parameters: list[dict] | None = None,
                          result_format: str | None = None, caller_access_key: str | None = None,
                          session_id: str | None = None, session_keep_alive_s: int | None = None,
                          batch_sqls: list[str] | None = None) -> Statement:
        if batch_sqls is not None:
            validate_sqls(batch_sqls)
            sql_text = None
        elif sql_text is None:
            raise ValidationException("Sql is required and must be a non-empty string.")
        validate_execute(sql_text, database, cluster_identifier, workgroup_name, parameters, result_format,
                         session_id, session_keep_alive_s)
        self.statements.forget_expired()
        self.sessions.forget_expired()  # closes the connections of sessions past their keep-alive
        if self.statements.active_count >= self.settings.max_active_statements:
            raise ActiveStatementsExceededException(
                f"Active statements exceeded the allowed quota ({self.settings.max_active_statements}).")
        if session_id is not None:
            session = self.sessions.live(session_id)
            database, user = session.database, session.database_user
            cluster_identifier, workgroup_name = session.cluster_identifier, session.workgroup_name
        else:
            user = resolve_database_user(self.settings.identity_registry, caller_access_key, db_user,
                                         self.settings.superuser_db_users)
            session = self.sessions.open(database, user, session_keep_alive_s, cluster_identifier, workgroup_name)
        statement = Statement(
            id=str(uuid.uuid4()), sql=sql_text if batch_sqls is None else "; ".join(batch_sqls), database=database,
            clock=self.clock,
            cluster_identifier=cluster_identifier, workgroup_name=workgroup_name, db_user=db_user,
            secret_arn=secret_arn, statement_name=statement_name, with_event=bool(with_event),
            parameters=parameters, result_format=result_format or "JSON", database_user=user, session=session,
            is_batch=batch_sqls is not None)
        if session is not None:
            statement.settings = session.settings
        for index, text in enumerate(batch_sqls or [], start=1):
            statement.sub_statements.append(Statement(
                id=f"{statement.id}:{index}", sql=text, database=database, clock=self.clock,
                result_format=statement.result_format, parameters=parameters, settings=statement.settings))
        self.statements.add(statement)
        self._warehouse_of[database] = cluster_identifier or workgroup_name
        statement.task = asyncio.get_running_loop().create_task(self._run(statement))
        return statement

    def get_statement_result(self, statement_id: str, next_token: str | None, csv: bool = False):
        statement = self.statements.find(statement_id)
        require_result(statement)
        if statement.result.csv != csv:
            wanted = "GetStatementResultV2" if statement.result.csv else "GetStatementResult"
            raise ValidationException(f"The result format of query {statement_id} is "
                                      f"{statement.result_format}; use {wanted}.")
        offset = decode_token(next_token, statement.result.num_rows) if next_token else 0
        records, next_offset = statement.result.page(offset, RESULT_PAGE_MAX_BYTES)
        statement.result_read = True  # the store forgets read results first
        token = encode_token(next_offset) if next_offset is not None else None
        return statement, records, token

    async def cancel_statement(self, statement_id: str) -> bool:
        statement = self.statements.find(statement_id)
        if statement.status not in ACTIVE_STATES:
            raise ValidationException(f"Could not cancel a query that is already in {statement.status} state.")
        statement.cancel_requested = True
        if statement.connection is not None:
            await statement.connection.cancel_safe(timeout=5)
        elif statement.task is not None:
            statement.task.cancel()
            if statement.status == "SUBMITTED":  # a task cancelled before it ran never runs at all
                self._finish_failed(statement, "ABORTED", None)
                self.statements.settle(statement)
        return True

    def list_statements(self, *, status: str | None = None, statement_name: str | None = None,
                        database: str | None = None, cluster_identifier: str | None = None,
                        workgroup_name: str | None = None, max_results: int | None = None,
                        next_token: str | None = None) -> tuple[list[Statement], str | None]:
        if max_results is not None and not 0 <= max_results <= LIST_STATEMENTS_MAX:
            raise ValidationException(f"MaxResults must be between 0 and {LIST_STATEMENTS_MAX}")
        self.statements.forget_expired()
        limit = max_results or LIST_STATEMENTS_MAX
        chosen = [s for s in sorted(self.statements.values(), key=lambda s: s.created_at, reverse=True)
                  if (not status or status == "ALL" or s.status == status)
                  and (not statement_name or (s.statement_name or "").startswith(statement_name))
                  and (not database or s.database == database)
                  and (not cluster_identifier or s.cluster_identifier == cluster_identifier)
                  and (not workgroup_name or s.workgroup_name == workgroup_name)]
        offset = decode_token(next_token, len(chosen)) if next_token else 0
        page = chosen[offset:offset + limit]
        more = offset + limit < len(chosen)
        return page, (encode_token(offset + limit) if more else None)

    # -- execution ------------------------------------------------------------------
    async def _run(self, statement: Statement) -> None:
        if statement.cancel_requested:
            return
        statement.set_status("PICKED")
        CURRENT_WAREHOUSE.set(statement.cluster_identifier or statement.workgroup_name)  # this task's context
        try:
            session = statement.session
            if session is not None:
                async with session.lock:
                    if session.conn is None or session.conn.closed:
                        session.conn = await self.pools.connect(statement.database, session.database_user)
                    try:
                        await self._execute_on(session.conn, statement)
                    finally:
                        session.touch()
            else:
                pool = await self.pools.pool_for(statement.database, statement.database_user)
                async with pool.connection() as conn:
                    try:
                        await self._execute_on(conn, statement)
                    finally:
                        if not statement.leaves_session_alone:
                            await reset_session(conn)
        except (asyncio.CancelledError, psycopg.errors.QueryCanceled) as exc:
            self._finish_failed(statement, "ABORTED" if statement.cancel_requested else "FAILED", exc)
            if isinstance(exc, asyncio.CancelledError) and not statement.cancel_requested:
                raise  # the backend is shutting down
        except (SqlTranslationError, ResultTooLargeError) as exc:
            self._finish_failed(statement, "FAILED", str(exc))
        except psycopg.Error as exc:
            self._finish_failed(statement, "FAILED", _postgres_error_text(exc))
        except Exception as exc:  # never leave a statement STARTED forever
            _log.exception("statement %s failed unexpectedly", statement.id)
            self._finish_failed(statement, "FAILED", f"internal error in the local stack: {exc}")
        finally:
            self.statements.settle(statement)

    async def _execute_on(self, conn: psycopg.AsyncConnection, statement: Statement) -> None:
        statement.connection = conn
        statement.redshift_pid = conn.info.backend_pid
        statement.started_ns = time.monotonic_ns()
        statement.set_status("STARTED")
        parameters = {p["name"]: p["value"] for p in statement.parameters or []}
        if statement.is_batch:
            async with conn.transaction():
                for sub in statement.sub_statements:
                    await self._run_sub_statement(conn, statement, sub, parameters)
            statement.leaves_session_alone = all(sub.leaves_session_alone for sub in statement.sub_statements)
        else:
            await self.executor.execute(conn, statement, parameters)
        statement.connection = None
        statement.ended_ns = time.monotonic_ns()
        statement.set_status("FINISHED")

    async def _run_sub_statement(self, conn, statement: Statement, sub: Statement, parameters: dict) -> None:
        sub.redshift_pid = statement.redshift_pid
        sub.started_ns = time.monotonic_ns()
        sub.set_status("STARTED")
        try:
            await self.executor.execute(conn, sub, parameters)
        except BaseException as exc:
            error = str(exc) if isinstance(exc, (SqlTranslationError, ResultTooLargeError)) else exc
            self._finish_failed(sub, "ABORTED" if statement.cancel_requested else "FAILED", error)
            for later in statement.sub_statements[statement.sub_statements.index(sub) + 1:]:
                self._finish_failed(later, "ABORTED", None)
            raise
        sub.ended_ns = time.monotonic_ns()
        sub.set_status("FINISHED")

    @staticmethod
    def _finish_failed(statement: Statement, status: str, error: object) -> None:
        statement.connection = None
        statement.ended_ns = time.monotonic_ns()
        if status == "ABORTED":
            statement.error = "Query cancelled on user's request" if statement.cancel_requested or error is None \
                else statement.error
        else:
            statement.error = error if isinstance(error, str) else _postgres_error_text(error)
        statement.set_status(status)

    # -- auto refresh -----------------------------------------------------------------
    async def _auto_refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.auto_refresh_interval_s)
            for database, pool in self.pools.admin_databases():
                CURRENT_WAREHOUSE.set(self._warehouse_of.get(database))
                try:
                    async with pool.connection() as conn:
                        for view in await self.streaming.auto_refresh_views(conn):
                            await self._auto_refresh_one(conn, database, view)
                except Exception:  # a database gone or unreachable must not stop the loop
                    _log.exception("auto refresh of database %s failed", database)

    async def _auto_refresh_one(self, conn: psycopg.AsyncConnection, database: str, view: tuple) -> None:
        key = (database, *view)
        try:
            await self.streaming.refresh(conn, database, view, refresh_type="Auto")
            self._last_refresh_errors.pop(key, None)
        except (SqlTranslationError, psycopg.Error) as exc:
            message = str(exc)
            if self._last_refresh_errors.get(key) != message:  # log each new problem once
                _log.warning("auto refresh of %s failed: %s", ".".join(view), message)
            self._last_refresh_errors[key] = message


def _postgres_error_text(exc: BaseException) -> str:
    if isinstance(exc, psycopg.Error) and (unsupported := unsupported_super_error(exc)) is not None:
        return str(unsupported)  # a jsonb error a Redshift user would not recognise
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    return f"ERROR: {primary}" if primary else (str(exc).strip().splitlines() or [type(exc).__name__])[0]
