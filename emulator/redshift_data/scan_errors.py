"""What a streaming REFRESH says when a record in the stream is poison.

Redshift stores ``kinesis_data`` as VARBYTE and only parses it where the view's SELECT
says so. A record that ``JSON_PARSE`` cannot read (not JSON, not UTF-8) fails the whole
REFRESH with a JSON parsing error; the view keeps its rows and its checkpoints, so every
later refresh fails on the same record until it leaves the stream (retention) or the view
is recreated with ``WHERE CAN_JSON_PARSE(kinesis_data)``. A record longer than VARBYTE's
1,024,000 bytes is not a refresh error: it is skipped and logged in SYS_STREAM_SCAN_ERRORS
(``streaming.py`` does that while staging).

PostgreSQL raises these failures in its own words (``invalid input syntax for type json``);
this module turns them into the Redshift-style text a user of the Data API would see, with
PostgreSQL's detail kept after it, and leaves every other error alone.
"""
from __future__ import annotations

import psycopg

from .translate import SqlTranslationError

__all__ = ["poison_record_error"]

# SQLSTATEs PostgreSQL uses when json_parse() meets a record it cannot read.
_NOT_JSON = "22P02"  # invalid_text_representation (only when the message is about json)
_NOT_UTF8 = "22021"  # character_not_in_repertoire: invalid byte sequence for UTF8
_TOO_DEEP = "54001"  # statement_too_complex: stack depth limit exceeded (nesting)


def _first_lines(exc: psycopg.Error) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    detail = [line for line in lines[1:] if line.startswith("DETAIL:")]
    return "; ".join(lines[:1] + detail[:1])


def poison_record_error(exc: psycopg.Error) -> SqlTranslationError | None:
    """Redshift's words for a REFRESH that failed on a record's data, else None."""
    state = exc.sqlstate
    text = str(exc)
    if state == _NOT_JSON and "json" in text.lower():
        why = "invalid JSON"
    elif state == _NOT_UTF8:
        why = "invalid UTF-8 byte sequence"
    elif state == _TOO_DEEP:
        why = "JSON nested too deeply"
    else:
        return None
    return SqlTranslationError(f"JSON parsing error: {why} in kinesis_data ({_first_lines(exc)})")
