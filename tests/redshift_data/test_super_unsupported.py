"""What the local stack does not do with SUPER fails with ``not supported by the local stack: …``
(the statement FAILED, that text its Error), never with a PostgreSQL error. Local only: on
Redshift these statements run."""
from __future__ import annotations

import uuid

import pytest

from .conftest import run_sql

UNSUPPORTED = [
    ("SELECT IS_FLOAT(JSON_PARSE('2.5'))", "IS_FLOAT"),
    ("SELECT DECIMAL_PRECISION(JSON_PARSE('2.5'))", "DECIMAL_PRECISION"),
    ("SELECT DECIMAL_SCALE(JSON_PARSE('2.5'))", "DECIMAL_SCALE"),
    ("SELECT MAX(p.seq) FROM (SELECT JSON_PARSE('{\"seq\": 1}') AS p) AS t", "MAX of a SUPER value"),
    ("SELECT SUM(p.seq) FROM (SELECT JSON_PARSE('{\"seq\": 1}') AS p) AS t", "SUM of a SUPER value"),
    ("SELECT attr FROM (SELECT JSON_PARSE('{\"a\": 1}') AS p) AS c, UNPIVOT c.p AS val AT attr", "UNPIVOT"),
    ("SELECT ARRAY_CONCAT(JSON_PARSE('[1]'), JSON_PARSE('[2]'))", "ARRAY_CONCAT"),
    ("SELECT SUBARRAY(ARRAY('a', 'b', 'c'), 1, 1)", "SUBARRAY"),
    ("SELECT ARRAY_FLATTEN(ARRAY(1, ARRAY(2)))", "ARRAY_FLATTEN"),
    ("SELECT SPLIT_TO_ARRAY('12|345', '|')", "SPLIT_TO_ARRAY"),
    ("SELECT OBJECT('a', 1)", "OBJECT"),
    ("SELECT p.a::varbyte FROM (SELECT JSON_PARSE('{\"a\": \"x\"}') AS p) AS t", "casting a SUPER value to"),
]


@pytest.mark.parametrize("sql, what", UNSUPPORTED, ids=[what for _, what in UNSUPPORTED])
def test_super_statement_fails_as_unsupported_when_local_stack_cannot_run_it(client, sql, what):
    described = run_sql(client, sql)
    assert described["Status"] == "FAILED"
    assert described["Error"].startswith(f"not supported by the local stack: {what}")


@pytest.mark.parametrize("setting", ["navigate_super_null_on_error", "cast_super_null_on_error"])
def test_strict_super_mode_fails_as_unsupported_when_a_session_turns_lax_mode_off(client, setting):
    described = run_sql(client, f"SET {setting} TO off")
    assert described["Status"] == "FAILED"
    assert described["Error"] == f"not supported by the local stack: strict SUPER mode ({setting} off)"
    assert run_sql(client, f"SET {setting} TO on")["Status"] == "FINISHED"


def test_bare_super_column_fails_as_unsupported_not_as_a_postgres_error_when_used_as_text(client):
    table = f"bare_{uuid.uuid4().hex[:8]}"
    assert run_sql(client, f"CREATE TABLE {table} (payload SUPER)")["Status"] == "FINISHED"
    described = run_sql(client, f"SELECT UPPER(payload) FROM {table}")
    assert described["Status"] == "FAILED"
    assert described["Error"].startswith("not supported by the local stack: this use of a SUPER value"), \
        described["Error"]
    assert "jsonb" not in described["Error"]
