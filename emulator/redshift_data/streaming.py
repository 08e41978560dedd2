"""Redshift streaming ingestion on PostgreSQL: external Kinesis schemas, streaming
materialized views and their incremental REFRESH.

A streaming MV is a plain PostgreSQL table. Its columns come from translating the MV's
SELECT against a table shaped like the stream. REFRESH reads each shard from Kinesis after
its checkpoint, COPYs the records into a temporary table of that shape, runs
``INSERT INTO mv <translated select>`` and moves the checkpoints — rows and checkpoints in
one transaction, so a failed or interrupted refresh loses and duplicates nothing.
Non-JSON data makes JSON_PARSE fail and with it the whole refresh, as in Redshift
(``scan_errors.py`` words the error as Redshift does).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging

import psycopg
from psycopg import sql
from sqlglot import exp

from .kinesis_reader import KinesisReader
from .scan_errors import poison_record_error
from .system_views import MAX_KINESIS_DATA_BYTES, REFRESH_HISTORY_INSERT, SCAN_ERROR_INSERT
from .translate import (CreateKinesisSchema, CreateMaterializedView, DropMaterializedView, SqlTranslationError,
                        UnsupportedSqlError, parse_redshift, schema_and_name, translate_expression)

__all__ = ["StreamingIngestion", "CATALOG_SQL", "STREAM_COLUMNS"]

_log = logging.getLogger(__name__)

CATALOG_SCHEMA = "streamload_catalog"
STAGE_TABLE = "streamload_stage"
# (name, PostgreSQL type, binary COPY type) of the columns every Kinesis stream exposes.
STREAM_COLUMNS = [
    ("approximate_arrival_timestamp", "timestamp", "timestamp"),
    ("partition_key", "varchar(256)", "varchar"),
    ("shard_id", "char(20)", "text"),  # bpchar has no binary dumper; same wire format
    ("sequence_number", "varchar(128)", "varchar"),
    ("refresh_time", "timestamp", "timestamp"),
    ("kinesis_data", "bytea", "bytea"),
]
# Older AWS tutorials' spellings, still accepted by Redshift.
LEGACY_COLUMN_NAMES = {
    "approximatearrivaltimestamp": "approximate_arrival_timestamp",
    "partitionkey": "partition_key",
    "shardid": "shard_id",
    "sequencenumber": "sequence_number",
    "refreshtime": "refresh_time",
    "data": "kinesis_data",
}

CATALOG_SQL = f"""
CREATE SCHEMA IF NOT EXISTS {CATALOG_SCHEMA};
CREATE TABLE IF NOT EXISTS {CATALOG_SCHEMA}.external_schemas (
    schema_name text PRIMARY KEY, source text NOT NULL, iam_role text,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS {CATALOG_SCHEMA}.streaming_views (
    view_schema text NOT NULL, view_name text NOT NULL, external_schema text NOT NULL,
    stream_name text NOT NULL, select_sql text NOT NULL, insert_sql text NOT NULL,
    auto_refresh boolean NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (view_schema, view_name));
CREATE TABLE IF NOT EXISTS {CATALOG_SCHEMA}.shard_checkpoints (
    view_schema text NOT NULL, view_name text NOT NULL, shard_id text NOT NULL,
    sequence_number text NOT NULL, last_query_id bigint, updated_at timestamp,
    PRIMARY KEY (view_schema, view_name, shard_id));
CREATE TABLE IF NOT EXISTS {CATALOG_SCHEMA}.kinesis_stream_template (
    {", ".join(f"{name} {pg_type}" for name, pg_type, _ in STREAM_COLUMNS)});
"""


async def _zone_maps(conn: psycopg.AsyncConnection, view_schema: str, view_name: str) -> None:
    """Redshift keeps zone maps (min/max per block) on every column, so a filter on a view's
    arrival or refresh time reads only the blocks that can match; a BRIN index on each timestamp
    column is PostgreSQL's equivalent, so a query that asks for the newest rows (the probe's, a
    dashboard's) costs the new rows, not the whole view, here too."""
    rows = await (await conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "AND data_type LIKE 'timestamp%%'", (view_schema, view_name))).fetchall()
    for (column,) in rows:
        await conn.execute(sql.SQL("CREATE INDEX ON {} USING brin ({})").format(
            sql.Identifier(view_schema, view_name), sql.Identifier(column)))


def _stage_source(alias: str) -> exp.Subquery:
    """``(SELECT *, <legacy aliases> FROM pg_temp.streamload_stage) AS alias``."""
    legacy = ", ".join(f"{new} AS {old}" for old, new in LEGACY_COLUMN_NAMES.items())
    select = exp.maybe_parse(f"SELECT *, {legacy} FROM pg_temp.{STAGE_TABLE}", dialect="postgres")
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))


class StreamingIngestion:
    """Catalog operations and REFRESH for streaming MVs; owns the Kinesis client."""

    def __init__(self, kinesis_endpoint_url: str | None, region: str, access_key: str, secret_key: str) -> None:
        self.reader = KinesisReader(kinesis_endpoint_url, region, access_key, secret_key)
        self._refresh_locks: dict[tuple[str, str, str], asyncio.Lock] = {}
        # async (conn, external schema, stream) -> None, raising to refuse the read (role_chain)
        self.before_read = None

    async def close(self) -> None:
        await self.reader.close()

    # -- DDL ----------------------------------------------------------------------
    async def create_external_schema(self, conn: psycopg.AsyncConnection, command: CreateKinesisSchema) -> None:
        inserted = await conn.execute(
            f"INSERT INTO {CATALOG_SCHEMA}.external_schemas (schema_name, source, iam_role) "
            "VALUES (%s, 'kinesis', %s) ON CONFLICT DO NOTHING", (command.schema, command.iam_role))
        if inserted.rowcount == 0 and not command.if_not_exists:
            raise SqlTranslationError(f'Schema "{command.schema}" already exists')

    async def create_materialized_view(self, conn: psycopg.AsyncConnection,
                                       command: CreateMaterializedView) -> bool:
        """Create a streaming MV; False when the SELECT reads no Kinesis schema."""
        tree = parse_redshift(command.select_sql)
        rows = await (await conn.execute(f"SELECT schema_name FROM {CATALOG_SCHEMA}.external_schemas")).fetchall()
        external = {r[0].lower() for r in rows}
        streams = [t for t in tree.find_all(exp.Table) if t.db and t.db.lower() in external]
        if not streams:
            return False
        if len(streams) > 1 or len(list(tree.find_all(exp.Table))) > 1:
            raise UnsupportedSqlError("a streaming materialized view must read exactly one stream and nothing else")
        stream_table = streams[0]
        stream_table.replace(_stage_source(stream_table.alias or stream_table.name))
        select_sql = translate_expression(tree)
        view_schema, view_name = schema_and_name(command.name)
        view = sql.Identifier(view_schema, view_name)
        insert_sql = sql.SQL("INSERT INTO {} {}").format(view, sql.SQL(select_sql)).as_string(conn)
        async with conn.transaction():
            await self._create_stage(conn)
            await conn.execute(sql.SQL("CREATE TABLE {} AS {} WITH NO DATA").format(view, sql.SQL(select_sql)))
            await _zone_maps(conn, view_schema, view_name)
            await conn.execute(
                f"INSERT INTO {CATALOG_SCHEMA}.streaming_views (view_schema, view_name, external_schema, "
                "stream_name, select_sql, insert_sql, auto_refresh) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (view_schema, view_name, stream_table.db, stream_table.name, command.select_sql, insert_sql,
                 command.auto_refresh))
        return True

    async def drop_materialized_view(self, conn: psycopg.AsyncConnection, command: DropMaterializedView) -> bool:
        """Drop a streaming MV and its checkpoints; False when it is not a streaming MV."""
        view_schema, view_name = schema_and_name(command.name)
        async with conn.transaction():
            deleted = await conn.execute(
                f"DELETE FROM {CATALOG_SCHEMA}.streaming_views WHERE view_schema = %s AND view_name = %s",
                (view_schema, view_name))
            if deleted.rowcount == 0:
                return False
            await conn.execute(
                f"DELETE FROM {CATALOG_SCHEMA}.shard_checkpoints WHERE view_schema = %s AND view_name = %s",
                (view_schema, view_name))
            await conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(view_schema, view_name)))
        return True

    async def auto_refresh_views(self, conn: psycopg.AsyncConnection) -> list[tuple[str, str]]:
        cursor = await conn.execute(
            f"SELECT view_schema, view_name FROM {CATALOG_SCHEMA}.streaming_views WHERE auto_refresh")
        return [tuple(r) for r in await cursor.fetchall()]

    # -- REFRESH --------------------------------------------------------------------
    async def refresh(self, conn: psycopg.AsyncConnection, database: str, name: tuple[str, ...],
                      refresh_type: str = "Manual") -> int | None:
        """Ingest new records into a streaming MV; rows added, or None if not a streaming MV.

        Rows, checkpoints and scan errors commit together; the outcome is written to
        SYS_MV_REFRESH_HISTORY either way (a failure after the rollback).
        """
        view_schema, view_name = schema_and_name(name)
        lock = self._refresh_locks.setdefault((database, view_schema, view_name), asyncio.Lock())
        async with lock:
            started = _utc_now()
            try:
                added = await self._refresh_in_transaction(conn, view_schema, view_name, refresh_type, started)
            except (SqlTranslationError, psycopg.Error) as exc:
                poison = poison_record_error(exc) if isinstance(exc, psycopg.Error) else None
                failure = poison or exc
                if not conn.closed and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                    text = str(failure).strip()
                    status = f"Refresh failed: {text.splitlines()[0] if text else type(failure).__name__}"
                    await conn.execute(REFRESH_HISTORY_INSERT, (view_schema, view_name, refresh_type, status[:512],
                                                                started, _utc_now(), 0))
                if poison is not None:
                    raise poison from None
                raise
            return added

    async def _refresh_in_transaction(self, conn, view_schema: str, view_name: str, refresh_type: str,
                                      started: dt.datetime) -> int | None:
        async with conn.transaction():
            row = await (await conn.execute(
                f"SELECT stream_name, insert_sql, external_schema FROM {CATALOG_SCHEMA}.streaming_views "
                "WHERE view_schema = %s AND view_name = %s FOR UPDATE", (view_schema, view_name))).fetchone()
            if row is None:
                return None
            stream_name, insert_sql, external_schema = row
            if self.before_read is not None:
                await self.before_read(conn, external_schema, stream_name)
            cursor = await conn.execute(
                f"SELECT shard_id, sequence_number FROM {CATALOG_SCHEMA}.shard_checkpoints "
                "WHERE view_schema = %s AND view_name = %s", (view_schema, view_name))
            checkpoints = dict(await cursor.fetchall())
            records_by_shard = await self.reader.read_new_records(stream_name, checkpoints)
            total = 0
            if any(records_by_shard.values()):
                await self._create_stage(conn)
                total = await self._copy_into_stage(conn, records_by_shard, (view_name, external_schema, stream_name))
                if total:
                    await conn.execute(insert_sql)
                async with conn.cursor() as cur:
                    await cur.executemany(
                        f"INSERT INTO {CATALOG_SCHEMA}.shard_checkpoints AS c (view_schema, view_name, shard_id, "
                        "sequence_number, last_query_id, updated_at) VALUES (%s, %s, %s, %s, txid_current(), %s) "
                        "ON CONFLICT (view_schema, view_name, shard_id) DO UPDATE SET "
                        "sequence_number = excluded.sequence_number, last_query_id = excluded.last_query_id, "
                        "updated_at = excluded.updated_at",
                        [(view_schema, view_name, shard, records[-1]["SequenceNumber"], _utc_now())
                         for shard, records in records_by_shard.items() if records])
            status = ("Refresh successfully updated MV incrementally" if total
                      else "Refresh skipped: no new records in the stream")
            await conn.execute(REFRESH_HISTORY_INSERT, (view_schema, view_name, refresh_type, status, started,
                                                        _utc_now(), total))
            return total

    async def _create_stage(self, conn: psycopg.AsyncConnection) -> None:
        await conn.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGE_TABLE}")
        await conn.execute(f"CREATE TEMP TABLE {STAGE_TABLE} "
                           f"(LIKE {CATALOG_SCHEMA}.kinesis_stream_template) ON COMMIT DROP")

    async def _copy_into_stage(self, conn: psycopg.AsyncConnection, records_by_shard: dict[str, list],
                               source: tuple[str, str, str]) -> int:
        """Binary COPY of every record that fits VARBYTE; the others go to SYS_STREAM_SCAN_ERRORS."""
        refresh_time = _utc_now()
        names = ", ".join(name for name, _, _ in STREAM_COLUMNS)
        oversize, copied = [], 0
        async with conn.cursor() as cur:
            async with cur.copy(f"COPY pg_temp.{STAGE_TABLE} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([copy_type for _, _, copy_type in STREAM_COLUMNS])
                for shard_id, records in records_by_shard.items():
                    for record in records:
                        data = record["Data"]
                        if len(data) > MAX_KINESIS_DATA_BYTES:
                            oversize.append((refresh_time, *source, shard_id, record["SequenceNumber"], len(data),
                                             f"Record size {len(data)} exceeds the maximum VARBYTE size "
                                             f"{MAX_KINESIS_DATA_BYTES}"))
                            continue
                        arrival = record["ApproximateArrivalTimestamp"]
                        if arrival.tzinfo is not None:
                            arrival = arrival.astimezone(dt.timezone.utc).replace(tzinfo=None)
                        await copy.write_row((arrival, record["PartitionKey"], shard_id,
                                              record["SequenceNumber"], refresh_time, data))
                        copied += 1
            if oversize:
                await cur.executemany(SCAN_ERROR_INSERT, oversize)
        return copied


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
