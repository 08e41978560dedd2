"""Fixtures shared by every test folder."""
from __future__ import annotations

import pytest

from emulator.postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres():
    """One throwaway PostgreSQL server (127.0.0.1, database ``dev``) for the whole run.

    Tests that need isolation should create their own database with
    ``postgres.create_database(name)`` or their own schema.
    """
    with PostgresServer() as server:
        yield server
