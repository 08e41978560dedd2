"""PostgreSQL's errors about jsonb, in the words a Redshift user can act on.

Translation handles SUPER where it can see it (navigations, unnested elements, JSON_PARSE,
columns of CTEs and derived tables: :mod:`super_semantics`) and refuses what the local stack
cannot do with ``not supported by the local stack: …``. A column of a real table is not typed
at translation, so ``payload = 'x'`` or ``UPPER(payload)`` on a SUPER column reach PostgreSQL as
jsonb and fail there with ``operator does not exist: jsonb = …``, a message about a type no
Redshift user has. :func:`unsupported_super_error` turns such an error into the same
``not supported by the local stack`` error, naming the type SUPER (text that is not JSON
becomes a ``JSON parsing error``); the statement runner calls it for every PostgreSQL error and
keeps the error as it is when it answers None.
"""
from __future__ import annotations

import re

import psycopg

from .sql_errors import SqlTranslationError, UnsupportedSqlError

__all__ = ["unsupported_super_error"]

_JSON_TYPE = re.compile(r"\bjsonb?\b")
_JSONB = re.compile(r"\bjsonb\b")
_INVALID_TEXT = "22P02"  # invalid_text_representation: text that is not JSON


def unsupported_super_error(exc: psycopg.Error) -> SqlTranslationError | None:
    """``UnsupportedSqlError`` for a PostgreSQL error about a jsonb (SUPER) value, else None.

    Text that is not JSON (``JSON_PARSE('oops')``) is no limit of the local stack but bad input,
    as on Redshift: that one is a ``JSON parsing error``."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    if not primary:
        lines = str(exc).strip().splitlines()
        primary = lines[0] if lines else ""
    if not _JSON_TYPE.search(primary):
        return None
    if exc.sqlstate == _INVALID_TEXT:
        detail = getattr(diag, "message_detail", None) if diag is not None else None
        return SqlTranslationError(f"JSON parsing error: {primary}" + (f" ({detail})" if detail else ""))
    return UnsupportedSqlError(f"this use of a SUPER value ({_JSONB.sub('super', primary)}); navigate to the "
                               f"value (payload.x) or cast it (payload.x::varchar) so that its type is known")
