"""A local Redshift Data API (``RedshiftData.*`` over JSON 1.1) backed by PostgreSQL.

Layout (moto style): ``models`` holds statements and their execution
(``RedshiftDataBackend``; ``statements`` and ``sessions`` their stores and quotas),
``responses`` the protocol (``auth`` its SigV4 check), ``exceptions`` one class per AWS
error code, ``translate`` Redshift SQL -> PostgreSQL (``session_settings`` the SETs it
depends on), ``execution`` runs one statement's SQL, ``streaming`` Kinesis external schemas
and streaming materialized views (``kinesis_reader``/``kinesis_records`` read the stream,
``role_chain`` checks IAM_ROLE, ``external_schemas`` SVV_EXTERNAL_SCHEMAS and DROP SCHEMA),
``results`` the Field/ColumnMetadata mapping, ``server`` the aiohttp application and command line.
"""
from .exceptions import RedshiftDataError
from .models import RedshiftDataBackend, Statement
from .server import REDSHIFT_DATA_BACKEND, create_app, main
from .settings import RedshiftDataSettings

__all__ = [
    "REDSHIFT_DATA_BACKEND",
    "RedshiftDataBackend",
    "RedshiftDataError",
    "RedshiftDataSettings",
    "Statement",
    "create_app",
    "main",
]
