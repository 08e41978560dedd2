"""PostgreSQL connections per (database, database user).

The admin (``DatabaseUser`` None) connects as the DSN's superuser. A mapped user connects
as its own non-superuser login role, created on demand with its roles granted, so that
nothing a statement runs — ``RESET ROLE``, ``set_config('role', …)`` — can reach the
superuser's RLS bypass. Every connection runs in UTC with our system views on its path.
"""
from __future__ import annotations

import asyncio

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from .callers import DatabaseUser
from .external_schemas import EXTERNAL_SCHEMAS_SQL
from .rbac import RBAC_CATALOG_SQL, ensure_role
from .results import register_text_json_loaders
from .streaming import CATALOG_SQL
from .system_views import SYSTEM_VIEWS_SQL
from .translate import HELPER_FUNCTIONS_SQL

__all__ = ["ConnectionPools", "SESSION_OPTIONS", "reset_session"]

# Redshift sessions run in UTC; SYS_*/STV_* views resolve without a schema, like Redshift's.
SESSION_OPTIONS = '-c TimeZone=UTC -c search_path="$user",public,streamload_sys'
# Runs before a pooled connection is returned, unless the statement only read (PlainSql.read_only):
# nothing a statement set may leak into the next. Skipping it for plain queries saves a round trip each.
RESET_SQL = "SET SESSION AUTHORIZATION DEFAULT; RESET ALL; DISCARD TEMP"


async def _configure(conn: psycopg.AsyncConnection) -> None:
    register_text_json_loaders(conn.adapters)


async def reset_session(conn: psycopg.AsyncConnection) -> None:
    """Undo what a statement may have set; a connection that cannot be reset is closed (the pool
    then replaces it) rather than handed to the next statement as it is."""
    try:
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            await conn.execute(RESET_SQL)
            return
    except psycopg.Error:
        pass
    await conn.close()


class ConnectionPools:
    def __init__(self, pg_dsn: str, admin_pool_size: int, user_pool_size: int) -> None:
        self._dsn = pg_dsn
        self._admin_size = admin_pool_size
        self._user_size = user_pool_size
        self._pools: dict[tuple[str, str | None], AsyncConnectionPool] = {}
        self._lock = asyncio.Lock()
        # Role DDL/GRANTs on the same role from two connections at once fail in PostgreSQL
        # with "tuple concurrently updated": provision one user at a time.
        self._provision_lock = asyncio.Lock()
        self._provisioned: set[DatabaseUser] = set()

    def conninfo(self, database: str, user: DatabaseUser | None = None) -> str:
        extra = {"user": user.name} if user is not None else {}
        return make_conninfo(self._dsn, dbname=database, options=SESSION_OPTIONS, **extra)

    def admin_databases(self) -> list[tuple[str, AsyncConnectionPool]]:
        return [(db, pool) for (db, user), pool in self._pools.items() if user is None]

    async def pool_for(self, database: str, user: DatabaseUser | None = None) -> AsyncConnectionPool:
        """The pool of ``user`` on ``database``, preparing database and user on first use."""
        key = (database, user.name if user is not None else None)
        if (pool := self._pools.get(key)) is not None and (user is None or user in self._provisioned):
            return pool
        admin = await self._admin_pool(database)
        if user is None:
            return admin
        async with self._provision_lock:
            if user not in self._provisioned:
                async with admin.connection() as conn:
                    async with conn.transaction():
                        await conn.execute("SELECT pg_advisory_xact_lock(872342)")  # other emulator processes
                        await provision_user(conn, user)
                self._provisioned.add(user)
        async with self._lock:
            if key not in self._pools:
                self._pools[key] = await self._open(database, user, self._user_size)
            return self._pools[key]

    async def connect(self, database: str, user: DatabaseUser | None) -> psycopg.AsyncConnection:
        """A dedicated connection (Data API sessions), prepared like the pooled ones."""
        await self.pool_for(database, user)
        conn = await psycopg.AsyncConnection.connect(self.conninfo(database, user), autocommit=True,
                                                     connect_timeout=10)
        await _configure(conn)
        return conn

    async def _admin_pool(self, database: str) -> AsyncConnectionPool:
        async with self._lock:
            if (pool := self._pools.get((database, None))) is not None:
                return pool
            # Connect once directly so a missing database fails with PostgreSQL's own words.
            async with await psycopg.AsyncConnection.connect(self.conninfo(database), autocommit=True,
                                                             connect_timeout=10) as conn:
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock(872341)")  # other emulator processes
                    await conn.execute(CATALOG_SQL)
                    await conn.execute(RBAC_CATALOG_SQL)
                    await conn.execute(HELPER_FUNCTIONS_SQL)
                    await conn.execute(SYSTEM_VIEWS_SQL)
                    await conn.execute(EXTERNAL_SCHEMAS_SQL)
            pool = await self._open(database, None, self._admin_size)
            self._pools[(database, None)] = pool
            return pool

    async def _open(self, database: str, user: DatabaseUser | None, size: int) -> AsyncConnectionPool:
        pool = AsyncConnectionPool(self.conninfo(database, user), min_size=1, max_size=size, open=False,
                                   kwargs={"autocommit": True}, configure=_configure)
        await pool.open(wait=True, timeout=10)
        return pool

    async def close(self) -> None:
        for pool in self._pools.values():
            await pool.close()
        self._pools.clear()


async def provision_user(conn: psycopg.AsyncConnection, user: DatabaseUser) -> None:
    """Create the login role of ``user`` and its roles; grant them (roles are cluster-wide)."""
    await ensure_role(conn, user.name, login=True)
    for role in user.roles:
        await ensure_role(conn, role)
        await conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(role), sql.Identifier(user.name)))
