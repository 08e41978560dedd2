"""A local Redshift Data API (``RedshiftData.*`` over JSON 1.1) backed by PostgreSQL.

Layout (moto style): ``models`` holds statements and their execution
(``RedshiftDataBackend``), ``responses`` the protocol, ``exceptions`` one class per AWS
error code, ``translate`` Redshift SQL -> PostgreSQL, ``streaming`` Kinesis external
schemas and streaming materialized views, ``results`` the Field/ColumnMetadata mapping,
``server`` the aiohttp application and command line.
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
