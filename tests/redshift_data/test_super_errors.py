"""PostgreSQL's jsonb errors become ``not supported by the local stack`` errors about SUPER."""
from __future__ import annotations

import psycopg
import pytest

from emulator.redshift_data.super_errors import unsupported_super_error


def _postgres_error(postgres, sql: str) -> psycopg.Error:
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.Error) as caught:
            conn.execute(sql)
    return caught.value


@pytest.mark.parametrize("sql, said", [
    ("SELECT '{\"a\": 1}'::jsonb = 5", "operator does not exist: super = integer"),
    ("SELECT upper('\"a\"'::jsonb)", "function upper(super) does not exist"),
    ("SELECT 1 WHERE '{\"a\": 1}'::jsonb", "argument of WHERE must be type boolean, not type super"),
])
def test_jsonb_error_is_unsupported_super_use_when_postgres_rejects_a_super_value(postgres, sql, said):
    error = unsupported_super_error(_postgres_error(postgres, sql))
    assert error is not None
    assert str(error).startswith("not supported by the local stack: this use of a SUPER value (" + said + ")")
    assert "jsonb" not in str(error)


def test_text_that_is_not_json_is_a_json_parsing_error_when_parsed(postgres):
    error = unsupported_super_error(_postgres_error(postgres, "SELECT 'oops'::jsonb"))
    assert error is not None and str(error).startswith("JSON parsing error: invalid input syntax for type json")
    assert "not supported" not in str(error)


def test_other_postgres_errors_are_left_alone_when_not_about_jsonb(postgres):
    assert unsupported_super_error(_postgres_error(postgres, "SELECT 1 / 0")) is None
