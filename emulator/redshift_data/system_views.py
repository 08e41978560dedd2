"""Redshift's system views over streaming ingestion, as views in schema ``streamload_sys``
(on every connection's search path, so ``SELECT * FROM SYS_MV_REFRESH_HISTORY`` works).

Columns follow Redshift's documentation where the local stack has the data; durations are
microseconds as in Redshift. Unlike Redshift, every user sees every row.
"""
from __future__ import annotations

__all__ = ["SYSTEM_VIEWS_SQL", "SYSTEM_SCHEMA", "REFRESH_HISTORY_INSERT", "SCAN_ERROR_INSERT"]

SYSTEM_SCHEMA = "streamload_sys"
CATALOG = "streamload_catalog"
# Redshift's VARBYTE holds at most 1,024,000 bytes; a Kinesis record may hold 1 MiB.
MAX_KINESIS_DATA_BYTES = 1_024_000

SYSTEM_VIEWS_SQL = f"""
CREATE TABLE IF NOT EXISTS {CATALOG}.mv_refresh_history (
    user_name text, database_name text, schema_name text, mv_name text, refresh_type text,
    status text, start_time timestamp, end_time timestamp, records_ingested bigint, transaction_id bigint);
CREATE TABLE IF NOT EXISTS {CATALOG}.stream_scan_errors (
    record_time timestamp, query_id bigint, mv_name text, external_schema_name text, stream_name text,
    shard_id text, position text, length bigint, error_message text);
CREATE SCHEMA IF NOT EXISTS {SYSTEM_SCHEMA};
GRANT USAGE ON SCHEMA {SYSTEM_SCHEMA} TO PUBLIC;
CREATE OR REPLACE VIEW {SYSTEM_SCHEMA}.sys_mv_refresh_history AS
    SELECT (SELECT oid FROM pg_roles WHERE rolname = h.user_name)::int AS user_id, database_name,
           schema_name, mv_name, refresh_type, status, start_time, end_time,
           (extract(epoch FROM end_time - start_time) * 1000000)::bigint AS duration,
           transaction_id, records_ingested
    FROM {CATALOG}.mv_refresh_history h;
CREATE OR REPLACE VIEW {SYSTEM_SCHEMA}.sys_stream_scan_states AS
    SELECT 0 AS user_id, c.last_query_id AS query_id, c.view_name AS mv_name,
           v.external_schema AS external_schema_name, v.stream_name, c.shard_id,
           c.sequence_number AS shard_sequence_number, c.updated_at AS record_time
    FROM {CATALOG}.shard_checkpoints c
    JOIN {CATALOG}.streaming_views v USING (view_schema, view_name);
CREATE OR REPLACE VIEW {SYSTEM_SCHEMA}.sys_stream_scan_errors AS
    SELECT record_time, query_id, shard_id AS partition_id, shard_id, position, length, error_message,
           mv_name, external_schema_name, stream_name
    FROM {CATALOG}.stream_scan_errors;
CREATE OR REPLACE VIEW {SYSTEM_SCHEMA}.stv_mv_info AS
    SELECT current_database()::text AS db_name, v.view_schema AS schema, v.view_name AS name,
           0::bigint AS updated_upto_xid, 'f'::char AS is_stale, pg_get_userbyid(c.relowner)::text AS owner_user_name,
           1 AS state, CASE WHEN v.auto_refresh THEN 't' ELSE 'f' END::char AS autorefresh, 'f'::char AS autorewrite
    FROM {CATALOG}.streaming_views v
    LEFT JOIN pg_class c ON c.oid = to_regclass(quote_ident(v.view_schema) || '.' || quote_ident(v.view_name))
    UNION ALL
    SELECT current_database()::text, schemaname::text, matviewname::text, 0::bigint,
           CASE WHEN ispopulated THEN 'f' ELSE 't' END::char, matviewowner::text, 1, 'f'::char, 'f'::char
    FROM pg_matviews WHERE schemaname NOT IN ('{CATALOG}', '{SYSTEM_SCHEMA}');
GRANT SELECT ON ALL TABLES IN SCHEMA {SYSTEM_SCHEMA} TO PUBLIC;
"""

REFRESH_HISTORY_INSERT = (
    f"INSERT INTO {CATALOG}.mv_refresh_history (user_name, database_name, schema_name, mv_name, refresh_type, "
    "status, start_time, end_time, records_ingested, transaction_id) "
    "VALUES (current_user, current_database(), %s, %s, %s, %s, %s, %s, %s, txid_current())")

SCAN_ERROR_INSERT = (
    f"INSERT INTO {CATALOG}.stream_scan_errors (record_time, query_id, mv_name, external_schema_name, "
    "stream_name, shard_id, position, length, error_message) "
    "VALUES (%s, txid_current(), %s, %s, %s, %s, %s, %s, %s)")
