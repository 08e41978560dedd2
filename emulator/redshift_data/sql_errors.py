"""The errors translation raises; the message becomes the failed statement's ``Error``.

They live apart from ``translate`` so that the modules translate uses (SUPER semantics) can
raise them without importing it."""
from __future__ import annotations

__all__ = ["SqlTranslationError", "UnsupportedSqlError"]


class SqlTranslationError(Exception):
    """The statement cannot run; the message becomes the statement's ``Error``."""


class UnsupportedSqlError(SqlTranslationError):
    def __init__(self, what: str) -> None:
        super().__init__(f"not supported by the local stack: {what}")
