"""The aiohttp application for the local Redshift Data API, and its command line.

``python -m emulator.redshift_data --pg-dsn ... --kinesis-endpoint ... --port 0`` serves on
loopback and prints ``REDSHIFT_DATA_URL=http://127.0.0.1:<port>`` once listening. Without
``--pg-dsn`` it starts its own throwaway PostgreSQL.
"""
from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from contextlib import ExitStack

from aiohttp import web

from emulator.runtime import LOOPBACK, serve_in_foreground, serve_until_signalled
from streamload.core.errors import TargetUnreachable, reports_errors

from .models import RedshiftDataBackend
from .responses import RedshiftDataResponses
from .settings import RedshiftDataSettings

__all__ = ["REDSHIFT_DATA_BACKEND", "create_app", "main"]

REDSHIFT_DATA_BACKEND = web.AppKey("redshift_data_backend", RedshiftDataBackend)
MAX_BODY_BYTES = 2 * 1024 * 1024  # Sql is at most 100 KB; parameters add little


async def create_app(settings: RedshiftDataSettings, clock: Callable[[], float] | None = None) -> web.Application:
    """A Redshift-Data-API-compatible application over ``settings.pg_dsn`` (``clock``: wall clock
    for retention and session expiry, a fake one in tests)."""
    backend = RedshiftDataBackend(settings, clock)
    await backend.start()
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[REDSHIFT_DATA_BACKEND] = backend
    app.router.add_post("/", RedshiftDataResponses(backend).dispatch)

    async def close_backend(_: web.Application) -> None:
        await backend.close()

    app.on_cleanup.append(close_backend)
    return app


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator.redshift_data",
                                     description="Local Redshift Data API server on PostgreSQL.")
    parser.add_argument("--pg-dsn", default=None, help="PostgreSQL DSN (default: start a throwaway server)")
    parser.add_argument("--kinesis-endpoint", default=None, help="Kinesis endpoint URL for streaming ingestion")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--host", default=LOOPBACK, help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port, 0 = any free port (default: %(default)s)")
    parser.add_argument("--auto-refresh-interval", type=float, default=1.0,
                        help="seconds between refreshes of AUTO REFRESH YES views, 0 = off (default: %(default)s)")
    parser.add_argument("--pool-size", type=int, default=20, help="PostgreSQL connections per database")
    parser.add_argument("--allow-unsigned", action="store_true",
                        help="accept requests without a SigV4 signature (e.g. curl); signed ones are still checked")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace, pg_dsn: str) -> None:
    settings = RedshiftDataSettings(
        pg_dsn=pg_dsn, kinesis_endpoint_url=args.kinesis_endpoint, region=args.region,
        auto_refresh_interval_s=args.auto_refresh_interval, pool_size=args.pool_size,
        allow_unsigned_requests=args.allow_unsigned)
    app = await create_app(settings)
    await serve_until_signalled(app, args.host, args.port, "REDSHIFT_DATA_URL")


def _throwaway_postgres(stack: ExitStack) -> str:
    """Start a PostgreSQL that ``stack`` stops; its DSN, also printed as ``POSTGRES_DSN=``."""
    from emulator.postgres import PostgresServer, PostgresStartError

    try:
        dsn = stack.enter_context(PostgresServer()).dsn
    except (PostgresStartError, OSError) as error:
        raise TargetUnreachable(f"cannot start PostgreSQL: {error}") from None
    print(f"POSTGRES_DSN={dsn}", flush=True)
    return dsn


@reports_errors("python -m emulator.redshift_data")
def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" is expected
    with ExitStack() as stack:
        pg_dsn = args.pg_dsn if args.pg_dsn is not None else _throwaway_postgres(stack)
        return serve_in_foreground(_serve(args, pg_dsn), "the Data API", args.host, args.port)
