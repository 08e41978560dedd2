"""Fuzzing the Redshift -> PostgreSQL translator: any text, and token soups built from
the SQL it understands, either translate or fail with ``SqlTranslationError`` (which the
Data API reports as a FAILED statement); nothing else may escape."""
from __future__ import annotations

from fuzz_helpers import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from emulator.redshift_data.external_schemas import parse_drop_schema
from emulator.redshift_data.rbac import parse_rbac_statement
from emulator.redshift_data.translate import (CreateMaterializedView, SqlTranslationError, parse_redshift,
                                              parse_statement, split_statements, translate_expression)

TOKENS = [
    "SELECT", "FROM", "WHERE", "AS", "CREATE", "EXTERNAL", "SCHEMA", "KINESIS", "IAM_ROLE", "default",
    "MATERIALIZED", "VIEW", "AUTO", "REFRESH", "YES", "NO", "BACKUP", "DROP", "IF", "NOT", "EXISTS", "RLS",
    "POLICY", "ATTACH", "DETACH", "ON", "TO", "ROLE", "GRANT", "REVOKE", "USING", "WITH", "ALTER", "TABLE",
    "ROW", "LEVEL", "SECURITY", "OFF", "JSON_PARSE", "CAN_JSON_PARSE", "kinesis_data", "payload",
    "payload.name.first", "payload.dob.date", "payload[0].x", "approximate_arrival_timestamp", "(", ")", ",",
    ";", ".", "*", "=", "'AMER'", "'arn:aws:iam::1:role/a,arn:aws:iam::2:role/b'", '"my-data-stream"',
    "schema_stream", '"AWSIDC:amer-sales"', ":p", ":missing", "1", "0.5", "-", "--", "/*", "*/", "$$", "::",
    "SUPER", "VARBYTE", "GETDATE()", "LIMIT", "ORDER", "BY", "GROUP", "UNION", "JOIN", "'", '"', "[", "]",
    "CASE", "WHEN", "THEN", "ELSE", "END", "NULL", "sys_mv_refresh_history", "svv_external_schemas",
]
token_soup = st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join)
view_soup = token_soup.map(lambda rest: f"CREATE MATERIALIZED VIEW v AUTO REFRESH YES AS SELECT {rest}")
sql_text = token_soup | view_soup | st.text(max_size=200) | st.sampled_from(["", ";", ";;", "'", '"', "$$", "/*", "\x00"])
parameters = st.dictionaries(st.sampled_from(["p", "q", "x"]), st.text(max_size=20), max_size=3)


def _translate_all(sql: str, params: dict[str, str]) -> None:
    for piece in split_statements(sql):
        if parse_rbac_statement(piece) is not None or parse_drop_schema(piece) is not None:
            continue
        command = parse_statement(piece, params)
        if isinstance(command, CreateMaterializedView):  # as streaming.py translates its SELECT
            translate_expression(parse_redshift(command.select_sql), params)


@FUZZ
@given(sql=sql_text, params=parameters)
def test_translator_translates_or_raises_sql_translation_error_when_given_any_sql(sql, params):
    try:
        _translate_all(sql, params)
    except SqlTranslationError as exc:
        assert str(exc).strip(), "an error the Data API reports must say something"
