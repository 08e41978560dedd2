"""The ``sales`` table the personas query: its roles and RLS policies, and its rows.

Used by ``streamload run``/``demo`` when ``[personas] enabled`` (through
``streamload.pipeline``) and by ``scripts/sales/seed.py``. The set-up is plain Redshift SQL
(``scripts/sales/setup_local.sql`` unless ``personas.setup_sql`` names another file), run
through the Data API as the set-up user, so the same statements reach the local stack and
Amazon Redshift. Statements an earlier run already did ("already exists") are skipped, and
rows are loaded only into an empty table, so a run can be repeated against one database.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from streamload.dataapi.client import DataApiClient, StatementError
from producer.schemas.sales import REGIONS
from producer.schemas.sales import sales_rows as schema_sales_rows

__all__ = ["SETUP_SQL", "COUNTRIES", "TABLE_COLUMNS", "sales_rows", "insert_sql", "setup_statements", "setup_sql_for",
           "apply_setup", "load_sales", "count_rows", "prepare_sales"]

SETUP_SQL = Path(__file__).resolve().parent.parent / "scripts" / "sales" / "setup_local.sql"
# Region -> its countries, and the seed rows: the producer's ``sales`` schema, so a stream of
# sales records and the seeded table agree.
COUNTRIES = REGIONS
TABLE_COLUMNS = ("region", "country", "product", "quantity", "unit_price", "amount", "sold_at")
# Seed rows end at a fixed moment, so one seed gives the same rows on every run and machine.
SEED_END = datetime(2024, 2, 1, tzinfo=timezone.utc).timestamp()
# Rows per INSERT: ~130 bytes each keeps a statement well below the Data API's 100 KB.
BATCH_ROWS = 500
# Statements whose failure only means an earlier run already did them.
_ALREADY_DONE = re.compile(r"already exists|already attached|duplicate", re.IGNORECASE)
# The table's name as a whole identifier: not inside "AWSIDC:amer-sales" nor "sales_amer".
_TABLE_NAME = re.compile(r"(?<![\w:-])sales(?![\w-])")


def sales_rows(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """``count`` sales from the producer's ``sales`` schema (deterministic per seed), with
    the table's columns; ``sold_at`` as ``YYYY-MM-DD HH:MM:SS.fff`` (Redshift TIMESTAMP input)."""
    for row in schema_sales_rows(count, seed=seed, end=SEED_END):
        row = {c: row[c] for c in TABLE_COLUMNS}
        row["sold_at"] = row["sold_at"].replace("T", " ").rstrip("Z")
        yield row


def _text(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def insert_sql(rows: list[dict[str, Any]], table: str = "sales") -> str:
    values = ",\n".join(
        f"({_text(r['region'])}, {_text(r['country'])}, {_text(r['product'])}, {int(r['quantity'])}, "
        f"{r['unit_price']:.2f}, {r['amount']:.2f}, {_text(r['sold_at'])})" for r in rows)
    return (f"INSERT INTO {table} (region, country, product, quantity, unit_price, amount, sold_at) VALUES\n"
            f"{values}")


def setup_statements(sql_text: str) -> list[str]:
    """The statements of a SQL file: comments dropped, split on ``;`` outside quotes."""
    text = "\n".join(line for line in sql_text.splitlines() if not line.lstrip().startswith("--"))
    statements, current, quote = [], [], None
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in ("'", '"'):
            quote = ch
        elif ch == ";":
            statements.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    statements.append("".join(current).strip())
    return [s for s in statements if s]


def setup_sql_for(table: str, sql_text: str | None = None) -> str:
    """The set-up SQL with the table called ``table`` (``personas.table``) instead of ``sales``."""
    text = sql_text if sql_text is not None else SETUP_SQL.read_text()
    if not re.fullmatch(r"[A-Za-z_][\w.]*", table):
        raise ValueError(f"personas.table {table!r} is not a plain table name")
    return text if table == "sales" else _TABLE_NAME.sub(table, text)


def apply_setup(client: DataApiClient, sql_text: str | None = None) -> int:
    """Run the set-up SQL; statements an earlier run already did are skipped. Returns how many ran."""
    ran = 0
    for statement in setup_statements(sql_text if sql_text is not None else SETUP_SQL.read_text()):
        try:
            client.execute(statement, "sales-setup", fetch=False)
            ran += 1
        except StatementError as exc:
            if not _ALREADY_DONE.search(str(exc)):
                raise StatementError(f"{exc} (in: {statement.splitlines()[0]})") from None
    return ran


def load_sales(client: DataApiClient, count: int, seed: int = 7, table: str = "sales") -> dict[str, int]:
    """Insert ``count`` rows; returns rows per region (what each persona should see)."""
    per_region: dict[str, int] = {}
    batch: list[dict[str, Any]] = []
    for row in sales_rows(count, seed):
        per_region[row["region"]] = per_region.get(row["region"], 0) + 1
        batch.append(row)
        if len(batch) == BATCH_ROWS:
            client.execute(insert_sql(batch, table), "sales-load", fetch=False)
            batch = []
    if batch:
        client.execute(insert_sql(batch, table), "sales-load", fetch=False)
    return per_region


def count_rows(client: DataApiClient, table: str = "sales") -> int:
    result = client.execute(f"SELECT COUNT(*) FROM {table}", "sales-count")
    return int(result.rows[0][0]) if result.rows else 0


def prepare_sales(client: DataApiClient, personas) -> dict[str, int]:
    """What a run with personas needs (``personas`` is a ``PersonasConfig``): the set-up
    SQL, then ``seed_rows`` rows if the table is empty. Returns the rows loaded per region."""
    if not personas.setup:
        return {}
    sql_text = Path(personas.setup_sql).read_text() if personas.setup_sql else None
    apply_setup(client, setup_sql_for(personas.table, sql_text))
    if personas.seed_rows and count_rows(client, personas.table) == 0:
        return load_sales(client, personas.seed_rows, personas.seed, personas.table)
    return {}
