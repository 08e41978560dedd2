"""Casting a SUPER value (jsonb here) to a Redshift type, the way Redshift does.

Redshift casts a SUPER scalar by its dynamic type: a string cast to VARCHAR is the string
itself (no JSON quotes), a number cast to BIGINT or FLOAT8 is that number, and in the
default lax mode (``cast_super_null_on_error``) a cast that cannot succeed yields NULL
instead of an error (``'Good'`` to INTEGER, an object or array to VARCHAR, ``5.0`` to
BOOLEAN). PostgreSQL's own jsonb casts differ on each point (``jsonb::varchar`` keeps the
quotes, ``jsonb::int`` fails on a string), so a cast of a SUPER value becomes a call of a
``public.super_to_*`` helper (``sql_functions.SUPER_FUNCTIONS_SQL``) wrapped in the cast to the
exact target type, which keeps lengths, precision and the type Redshift reports.
"""
from __future__ import annotations

from sqlglot import exp

from .sql_errors import UnsupportedSqlError

__all__ = ["cast_from_super", "helper_call", "is_super_type"]

_T = exp.DataType.Type
_STRING_TYPES = {_T.VARCHAR, _T.NVARCHAR, _T.CHAR, _T.NCHAR, _T.BPCHAR, _T.TEXT}
_INTEGRAL_TYPES = {_T.SMALLINT, _T.INT, _T.BIGINT}
_FLOAT_TYPES = {_T.FLOAT, _T.DOUBLE}
# Target type -> the helper that reads a SUPER value as that kind of value (NULL when it cannot).
_HELPERS = {
    **{t: "super_to_varchar" for t in _STRING_TYPES},
    **{t: "super_to_integral" for t in _INTEGRAL_TYPES},
    **{t: "super_to_float8" for t in _FLOAT_TYPES},
    _T.DECIMAL: "super_to_numeric",
    _T.BOOLEAN: "super_to_boolean",
    _T.DATE: "super_to_date",
    _T.TIMESTAMP: "super_to_timestamp",
    _T.TIMESTAMPTZ: "super_to_timestamptz",
    _T.TIME: "super_to_time",
    _T.TIMETZ: "super_to_timetz",
}


def helper_call(name: str, *args: exp.Expression) -> exp.Expression:
    """``public.<name>(args…)``: qualified, so a user's search_path cannot hide it."""
    return exp.Dot(this=exp.to_identifier("public"), expression=exp.Anonymous(this=name, expressions=list(args)))


def is_super_type(data_type: exp.DataType) -> bool:
    """SUPER as written, or jsonb once translated."""
    return data_type.this in (_T.SUPER, _T.JSONB)


def cast_from_super(value: exp.Expression, to: exp.DataType) -> exp.Expression:
    """``value`` (a jsonb expression) cast to ``to`` with Redshift's lax SUPER semantics.

    Raises ``UnsupportedSqlError`` for a target type the local stack cannot cast SUPER to."""
    if is_super_type(to):
        return value
    helper = _HELPERS.get(to.this)
    if helper is None:
        raise UnsupportedSqlError(f"casting a SUPER value to {to.sql(dialect='redshift')}")
    return exp.Cast(this=helper_call(helper, value), to=to.copy())
