"""Statements and the store that keeps them: the retention period (AWS: 24 hours) and the
count of active statements the quota is checked against, both without scanning every
statement ever run (a long load test submits hundreds of thousands)."""
from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from .callers import DatabaseUser
from .exceptions import ResourceNotFoundException
from .results import ResultSet
from .session_settings import SessionSettings

__all__ = ["Statement", "StatementStore", "require_result", "ACTIVE_STATES", "TERMINAL_STATES",
           "QUERY_NOT_FOUND_MESSAGE", "NO_RESULT_MESSAGE"]

ACTIVE_STATES = ("SUBMITTED", "PICKED", "STARTED")
TERMINAL_STATES = ("FINISHED", "FAILED", "ABORTED")
# AWS's answers, both ResourceNotFoundException (HTTP 400): an Id it does not know (or no
# longer keeps), and GetStatementResult of a statement without a result set (DDL, not yet
# finished, failed).
QUERY_NOT_FOUND_MESSAGE = "Query does not exist."
NO_RESULT_MESSAGE = "Query does not have result. Please check query status with DescribeStatement."


@dataclass
class Statement:
    id: str
    sql: str
    database: str
    clock: Callable[[], float] = field(repr=False)
    cluster_identifier: str | None = None
    workgroup_name: str | None = None
    db_user: str | None = None
    secret_arn: str | None = None
    statement_name: str | None = None
    with_event: bool = False
    parameters: list[dict] | None = None
    result_format: str = "JSON"
    database_user: DatabaseUser | None = None
    session: object | None = field(default=None, repr=False)  # sessions.Session
    # Redshift-only SET values in force: the session's, or this statement's own (shared by a batch).
    settings: SessionSettings = field(default_factory=SessionSettings, repr=False)
    sub_statements: list["Statement"] = field(default_factory=list)
    is_batch: bool = False
    status: str = "SUBMITTED"
    created_at: float = 0.0
    updated_at: float = 0.0
    started_ns: int | None = None
    ended_ns: int | None = None
    error: str | None = None
    redshift_pid: int = 0
    result: ResultSet | None = None
    result_rows: int = -1
    result_read: bool = False  # GetStatementResult served a page of it
    cancel_requested: bool = False
    # Set by the executor: every piece only read, so its pooled connection needs no reset.
    leaves_session_alone: bool = False
    task: asyncio.Task | None = field(default=None, repr=False)
    connection: psycopg.AsyncConnection | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.created_at:
            self.created_at = self.updated_at = self.clock()

    def set_status(self, status: str) -> None:
        self.status = status
        self.updated_at = self.clock()

    @property
    def duration_ns(self) -> int:
        if self.started_ns is None or self.ended_ns is None:
            return -1
        return self.ended_ns - self.started_ns

    @property
    def has_result_set(self) -> bool:
        if self.is_batch:
            return any(sub.has_result_set for sub in self.sub_statements)
        return self.result is not None


class StatementStore:
    """Statements by id, in submission order; a finished one is gone ``retention_s`` after it ended.

    Unlike AWS, the store is also bounded: beyond ``max_kept`` finished statements or
    ``max_result_bytes`` of their results, the oldest finished ones are forgotten (as if
    expired), so a long soak's memory stays flat instead of growing for 24 hours. A result
    nobody has read yet is spared for ``unread_grace_s`` after it finished, so a slow client
    between DescribeStatement and GetStatementResult does not lose it.
    """

    def __init__(self, clock: Callable[[], float], retention_s: float, *,
                 max_kept: int = 20_000, max_result_bytes: int = 64 * 1024 * 1024,
                 unread_grace_s: float = 30.0) -> None:
        self.clock = clock
        self.retention_s = retention_s
        self.max_kept = max_kept
        self.max_result_bytes = max_result_bytes
        self.unread_grace_s = unread_grace_s
        self._by_id: dict[str, Statement] = {}
        self._active: set[str] = set()
        self._finished: OrderedDict[str, int] = OrderedDict()  # id -> result bytes, oldest first
        self._result_bytes = 0

    def __len__(self) -> int:
        return len(self._by_id)

    @property
    def active_count(self) -> int:
        return len(self._active)

    @property
    def result_bytes(self) -> int:
        """Bytes of results held by finished statements."""
        return self._result_bytes

    def add(self, statement: Statement) -> None:
        self._by_id[statement.id] = statement
        self._active.add(statement.id)

    def settle(self, statement: Statement) -> None:
        """The statement reached a terminal state: it no longer counts against the quota,
        and the oldest finished statements go if the store is over its bounds."""
        self._active.discard(statement.id)
        statement.task = None  # done: nothing left to cancel, and a finished task holds memory
        if statement.id in self._finished or statement.id not in self._by_id:
            return
        size = sum(_result_size(s) for s in (statement.sub_statements or [statement]))
        self._finished[statement.id] = size
        self._result_bytes += size
        if len(self._finished) > self.max_kept or self._result_bytes > self.max_result_bytes:
            self._shrink(keep=statement.id)

    def _shrink(self, keep: str) -> None:
        """Forget the oldest finished statements until within bounds, sparing ``keep`` and
        unread results younger than the grace period."""
        spare_after = self.clock() - self.unread_grace_s
        for statement_id in list(self._finished):
            if len(self._finished) <= self.max_kept and self._result_bytes <= self.max_result_bytes:
                return
            statement = self._by_id.get(statement_id)
            if statement_id == keep or (statement is not None and self._finished[statement_id]
                                        and not statement.result_read and statement.updated_at > spare_after):
                continue
            self._forget(statement_id)

    def _forget(self, statement_id: str) -> None:
        self._by_id.pop(statement_id, None)
        self._result_bytes -= self._finished.pop(statement_id, 0)

    def get(self, statement_id: str) -> Statement | None:
        statement = self._by_id.get(statement_id)
        if statement is not None and self._expired(statement, self.clock() - self.retention_s):
            self._forget(statement_id)
            return None
        return statement

    def find(self, statement_id: str) -> Statement:
        """The statement, or a batch's sub-statement (``<id>:<n>``), by Id; raises
        ResourceNotFoundException when it is unknown or has expired."""
        parent_id, _, index = statement_id.partition(":")
        statement = self.get(parent_id)
        if statement is not None and index:
            subs = statement.sub_statements
            statement = subs[int(index) - 1] if index.isdecimal() and 0 < int(index) <= len(subs) else None
        if statement is None:
            raise ResourceNotFoundException(QUERY_NOT_FOUND_MESSAGE, statement_id)
        return statement

    def values(self) -> list[Statement]:
        return list(self._by_id.values())

    def running_tasks(self) -> list[asyncio.Task]:
        return [s.task for s in self._by_id.values() if s.task is not None and not s.task.done()]

    def forget_expired(self) -> None:
        """Drop expired statements. Only statements submitted before the horizon can have
        expired, and they come first in submission order, so the scan stops at the first younger one."""
        horizon = self.clock() - self.retention_s
        expired = []
        for statement_id, statement in self._by_id.items():
            if statement.created_at >= horizon:
                break
            if self._expired(statement, horizon):
                expired.append(statement_id)
        for statement_id in expired:
            self._forget(statement_id)

    @staticmethod
    def _expired(statement: Statement, horizon: float) -> bool:
        return statement.status in TERMINAL_STATES and statement.updated_at < horizon


def require_result(statement: Statement) -> None:
    """GetStatementResult's precondition: a finished statement with a result set."""
    if statement.status != "FINISHED" or statement.result is None:
        raise ResourceNotFoundException(NO_RESULT_MESSAGE, statement.id)


def _result_size(statement: Statement) -> int:
    return statement.result.size if statement.result is not None else 0
