"""PostgreSQL rows -> the Data API's ``Field`` unions and ``ColumnMetadata``, the way
Redshift reports them: integers as longValue, floats as doubleValue, DECIMAL as stringValue,
SUPER as stringValue holding compact JSON text (so a SUPER string keeps its quotes),
VARBYTE as stringValue hex, timestamps as ``YYYY-MM-DD HH:MM:SS[.ffffff]``.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from array import array
from itertools import accumulate
from collections.abc import Callable, Sequence
from typing import Any
from decimal import Decimal

import orjson
from psycopg.adapt import AdaptersMap
from psycopg.types.string import TextLoader

__all__ = ["ResultSet", "register_text_json_loaders", "build_result_set", "ResultTooLargeError",
           "ROW_MAX_BYTES", "RESULT_MAX_BYTES"]

# Documented Data API limits ("Troubleshooting issues for Amazon Redshift Data API").
ROW_MAX_BYTES = 64 * 1024
RESULT_MAX_BYTES = 500 * 1024 * 1024

# Redshift's names for the PostgreSQL types we map onto it.
_REDSHIFT_TYPE_NAMES = {"jsonb": "super", "json": "super", "bytea": "varbyte", "text": "varchar"}
_SIGNED = {"int2", "int4", "int8", "float4", "float8", "numeric"}
_CASE_SENSITIVE = {"varchar", "text", "bpchar", "char", "name"}


class ResultTooLargeError(Exception):
    pass


def register_text_json_loaders(adapters: AdaptersMap) -> None:
    """Load json/jsonb as their text so SUPER values are returned as JSON text."""
    adapters.register_loader("jsonb", TextLoader)
    adapters.register_loader("json", TextLoader)


def _compact_json(text: str) -> dict:
    try:
        return {"stringValue": orjson.dumps(orjson.loads(text)).decode()}
    except orjson.JSONDecodeError:  # e.g. numbers beyond float range: keep PostgreSQL's text
        return {"stringValue": text}


def _timestamp(value: dt.datetime) -> dict:
    if value.tzinfo is not None:
        return {"stringValue": str(value.astimezone(dt.timezone.utc).replace(tzinfo=None)) + "+00"}
    return {"stringValue": str(value)}


def _double(value: float) -> dict:
    if value != value or value in (float("inf"), float("-inf")):  # JSON has no NaN/Infinity
        return {"stringValue": str(value)}
    return {"doubleValue": value}


def _field_maker(type_name: str) -> Callable[[object], dict]:
    if type_name in ("int2", "int4", "int8", "oid"):
        return lambda v: {"longValue": v}
    if type_name in ("float4", "float8"):
        return _double
    if type_name == "numeric":
        return lambda v: {"stringValue": format(v, "f") if isinstance(v, Decimal) else str(v)}
    if type_name == "bool":
        return lambda v: {"booleanValue": v}
    if type_name in ("jsonb", "json"):
        return _compact_json
    if type_name == "bytea":
        return lambda v: {"stringValue": bytes(v).hex()}
    if type_name in ("timestamp", "timestamptz"):
        return _timestamp
    return _generic_field


def _generic_field(value: object) -> dict:
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return _double(value)
    if isinstance(value, dt.datetime):
        return _timestamp(value)
    if isinstance(value, (dt.date, dt.time)):
        return {"stringValue": value.isoformat()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"stringValue": bytes(value).hex()}
    return {"stringValue": str(value)}


class ResultSet:
    """A finished statement's rows, plus their column metadata.

    JSON rows (Field lists) are kept serialised, back to back in one ``bytes`` with each
    row's end offset: a kept result costs about its JSON size (a dict per cell would cost
    ~10x, one small ``bytes`` per row ~4 KiB each from orjson's buffer), and a page is
    spliced into GetStatementResult's answer (``orjson.Fragment``) without re-encoding.
    CSV rows stay lines of text.
    """

    def __init__(self, columns: list[dict], rows: list[bytes] | list[str], csv: bool = False) -> None:
        self.columns = columns
        self.csv = csv
        self._lines: list[str] = list(rows) if csv else []  # type: ignore[arg-type]
        if csv:
            self._blob = b""
        else:  # join() hands back a lone row itself, with orjson's oversized buffer: copy it
            self._blob = b",".join(rows) if len(rows) != 1 else bytes(bytearray(rows[0]))  # type: ignore[arg-type]
        # Offset just past row i (JSON: its comma), or the running byte total (CSV).
        self._ends = array("q", accumulate(len(row.encode()) if csv else len(row) + 1 for row in rows))
        self.size = self._ends[-1] if self._ends else 0

    @property
    def num_rows(self) -> int:
        return len(self._ends)

    def _row_size(self, index: int) -> int:
        return self._ends[index] - (self._ends[index - 1] if index else 0)

    def page(self, offset: int, max_bytes: int) -> tuple[Any, int | None]:
        """Rows from ``offset`` up to ``max_bytes`` (at least one); next offset or None.
        JSON: one ``orjson.Fragment`` holding the array of Field lists; CSV: the lines."""
        end, used = offset, 0
        while end < self.num_rows and (end == offset or used + self._row_size(end) <= max_bytes):
            used += self._row_size(end)
            end += 1
        following = end if end < self.num_rows else None
        if self.csv:
            return self._lines[offset:end], following
        start_at = self._ends[offset - 1] if offset else 0
        end_at = self._ends[end - 1] - 1 if end > offset else start_at  # drop the trailing comma
        return orjson.Fragment(b"[" + self._blob[start_at:end_at] + b"]"), following


def column_metadata(description: Sequence, type_names: list[str]) -> list[dict]:
    columns = []
    for column, pg_type in zip(description, type_names):
        length = column.internal_size if column.internal_size and column.internal_size > 0 else 0
        columns.append({
            "name": column.name,
            "label": column.name,
            "typeName": _REDSHIFT_TYPE_NAMES.get(pg_type, pg_type),
            "nullable": 1,
            "isSigned": pg_type in _SIGNED,
            "isCaseSensitive": pg_type in _CASE_SENSITIVE,
            "isCurrency": False,
            "length": length,
            "precision": column.precision or length,
            "scale": column.scale or 0,
            "schemaName": "",
            "tableName": "",
        })
    return columns


def _csv_line(record: list[dict]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(
        ["" if "isNull" in field else next(iter(field.values())) for field in record])
    return buffer.getvalue()


def build_result_set(description: Sequence, type_names: list[str], rows: Sequence[Sequence],
                     csv: bool = False) -> ResultSet:
    """Rows as Field lists (ResultFormat JSON) or as CSV lines (ResultFormat CSV)."""
    makers = [_field_maker(name) for name in type_names]
    records, total = [], 0
    null = {"isNull": True}
    for row in rows:
        fields = [null if value is None else make(value) for make, value in zip(makers, row)]
        record = _csv_line(fields) if csv else orjson.dumps(fields)
        size = len(record.encode()) if csv else len(record)
        if size > ROW_MAX_BYTES:
            raise ResultTooLargeError("Packet for query is too large: a result row exceeds 64 KB")
        total += size
        if total > RESULT_MAX_BYTES:
            raise ResultTooLargeError("Database response exceeded size limit of 500 MB")
        records.append(record)
    return ResultSet(column_metadata(description, type_names), records, csv)
