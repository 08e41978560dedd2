"""The statement state machine, driven directly on the backend (no HTTP)."""
from __future__ import annotations

import asyncio

import pytest

from emulator.redshift_data.exceptions import (ActiveStatementsExceededException, ResourceNotFoundException,
                                               ValidationException)
from emulator.redshift_data.models import RedshiftDataBackend
from emulator.redshift_data.settings import RedshiftDataSettings


def run_backend(postgres, scenario, **overrides):
    async def main():
        backend = RedshiftDataBackend(RedshiftDataSettings(pg_dsn=postgres.dsn, auto_refresh_interval_s=0,
                                                           **overrides))
        await backend.start()
        try:
            return await asyncio.wait_for(scenario(backend), timeout=20)
        finally:
            await backend.close()
    return asyncio.run(main())


async def settle(statement):
    while statement.status not in ("FINISHED", "FAILED", "ABORTED"):
        await asyncio.sleep(0.01)
    return statement


def execute(backend, sql):
    return backend.execute_statement(sql_text=sql, database="dev", workgroup_name="w")


def test_statement_is_submitted_then_finished_when_sql_succeeds(postgres):
    async def scenario(backend):
        statement = execute(backend, "SELECT 1")
        assert statement.status == "SUBMITTED"
        with pytest.raises(ResourceNotFoundException, match="Query does not have result"):
            backend.get_statement_result(statement.id, None)
        await settle(statement)
        return statement

    statement = run_backend(postgres, scenario)
    assert statement.status == "FINISHED" and statement.error is None
    assert statement.duration_ns > 0 and statement.updated_at >= statement.created_at


def test_statement_fails_with_error_text_when_sql_is_invalid(postgres):
    statement = run_backend(postgres, lambda b: settle(execute(b, "SELEC 1")))
    assert statement.status == "FAILED" and "syntax error" in statement.error


def test_cancel_is_validation_error_when_statement_already_finished(postgres):
    async def scenario(backend):
        statement = await settle(execute(backend, "SELECT 1"))
        with pytest.raises(ValidationException, match="FINISHED"):
            await backend.cancel_statement(statement.id)

    run_backend(postgres, scenario)


def test_execute_is_refused_when_active_statement_quota_reached(postgres):
    async def scenario(backend):
        slow = execute(backend, "SELECT pg_sleep(5)")
        with pytest.raises(ActiveStatementsExceededException):
            execute(backend, "SELECT 1")
        await backend.cancel_statement(slow.id)
        return await settle(slow)

    assert run_backend(postgres, scenario, max_active_statements=1).status == "ABORTED"


def test_missing_database_fails_statement_when_database_does_not_exist(postgres):
    async def scenario(backend):
        statement = backend.execute_statement(sql_text="SELECT 1", database="nope_db", workgroup_name="w")
        return await settle(statement)

    statement = run_backend(postgres, scenario)
    assert statement.status == "FAILED" and "nope_db" in statement.error


def test_pooled_connection_forgets_settings_and_temp_tables_when_next_statement_runs(postgres):
    async def scenario(backend):
        await settle(execute(backend, "SET statement_timeout TO 1; CREATE TEMP TABLE leftover (x int)"))
        slow = await settle(execute(backend, "SELECT pg_sleep(0.05)"))
        missing = await settle(execute(backend, "SELECT * FROM leftover"))
        return slow, missing

    slow, missing = run_backend(postgres, scenario, pool_size=1)  # one connection: the same one each time
    assert slow.status == "FINISHED", slow.error
    assert missing.status == "FAILED" and "does not exist" in missing.error
