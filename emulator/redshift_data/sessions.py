"""Data API sessions (``SessionKeepAliveSeconds`` / ``SessionId``): one dedicated PostgreSQL
connection each, so temporary tables and settings survive between statements; one statement
at a time; gone ``keep_alive_s`` after the last statement ended; at most ``max_active``."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from .callers import DatabaseUser
from .exceptions import ActiveSessionsExceededException, ValidationException
from .session_settings import SessionSettings

__all__ = ["Session", "SessionStore"]


@dataclass
class Session:
    id: str
    database: str
    database_user: DatabaseUser | None
    keep_alive_s: int
    clock: Callable[[], float] = field(repr=False)
    cluster_identifier: str | None = None
    workgroup_name: str | None = None
    conn: psycopg.AsyncConnection | None = field(default=None, repr=False)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    expires_at: float = 0.0
    settings: SessionSettings = field(default_factory=SessionSettings)  # SET enable_case_sensitive_identifier…

    def touch(self) -> None:
        self.expires_at = self.clock() + self.keep_alive_s

    @property
    def busy(self) -> bool:
        return self.lock.locked()


class SessionStore:
    def __init__(self, clock: Callable[[], float], max_active: int) -> None:
        self.clock = clock
        self.max_active = max_active
        self._by_id: dict[str, Session] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def open(self, database: str, user: DatabaseUser | None, keep_alive_s: int | None,
             cluster_identifier: str | None, workgroup_name: str | None) -> Session | None:
        """A new session when ``keep_alive_s`` asks for one (None or 0: no session)."""
        if not keep_alive_s:
            return None
        self.forget_expired()
        if len(self._by_id) >= self.max_active:
            raise ActiveSessionsExceededException(f"Active sessions exceeded the allowed quota ({self.max_active}).")
        session = Session(str(uuid.uuid4()), database, user, keep_alive_s, self.clock, cluster_identifier,
                          workgroup_name)
        session.touch()
        self._by_id[session.id] = session
        return session

    def live(self, session_id: str) -> Session:
        session = self._by_id.get(session_id)
        if session is None or (session.expires_at <= self.clock() and not session.busy):
            raise ValidationException(f"Session {session_id} does not exist or has expired.")
        if session.busy:
            raise ValidationException(f"Session {session_id} is busy running another statement.")
        return session

    def forget_expired(self) -> None:
        now = self.clock()
        for session in [s for s in self._by_id.values() if s.expires_at <= now and not s.busy]:
            self._by_id.pop(session.id, None)
            if session.conn is not None:
                asyncio.get_running_loop().create_task(session.conn.close())
                session.conn = None

    async def close_all(self) -> None:
        for session in list(self._by_id.values()):
            self._by_id.pop(session.id, None)
            if session.conn is not None:
                await session.conn.close()
                session.conn = None
