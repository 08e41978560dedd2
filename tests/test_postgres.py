from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest

from emulator.postgres import PostgresServer, PostgresStartError, find_postgres_bindir


def test_postgres_dsn_answers_queries_when_started(postgres):
    with psycopg.connect(postgres.dsn) as conn:
        row = conn.execute("SELECT current_database(), inet_server_addr()::text, 6 * 7").fetchone()
    assert row[0] == "dev"
    assert row[1].startswith("127.0.0.1")
    assert row[2] == 42


def test_postgres_allows_many_connections_when_started(postgres):
    with psycopg.connect(postgres.dsn) as conn:
        assert int(conn.execute("SHOW max_connections").fetchone()[0]) >= 200
        assert conn.execute("SHOW fsync").fetchone()[0] == "off"


def test_create_database_returns_usable_dsn_when_called_twice(postgres):
    name = f"t_{uuid.uuid4().hex[:8]}"
    dsn = postgres.create_database(name)
    assert postgres.create_database(name) == dsn  # idempotent
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == name


def test_stop_frees_port_and_data_when_server_stopped():
    server = PostgresServer().start()
    dsn, temp_root = server.dsn, server.data_dir.parent
    server.stop()
    server.stop()  # idempotent
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=2)
    assert not temp_root.exists()


def test_start_raises_one_line_error_when_port_is_taken(postgres):
    with pytest.raises(PostgresStartError) as info:
        PostgresServer(port=postgres.port).start()
    assert "\n" not in str(info.value)
    assert "could not bind" in str(info.value) or "already in use" in str(info.value)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:XDG_RUNTIME_DIR")
def test_pgserver_wheel_binaries_start_when_no_system_postgres(monkeypatch):
    import pgserver

    bindir = Path(pgserver.__file__).parent / "pginstall" / "bin"
    monkeypatch.setenv("STREAMLOAD_PG_BINDIR", str(bindir))
    assert find_postgres_bindir() == bindir
    with PostgresServer() as server, psycopg.connect(server.dsn) as conn:
        assert conn.execute("SELECT 1").fetchone()[0] == 1
