"""The aiohttp application for the local Kinesis server, and its command line.

``python -m emulator.kinesis --port 0`` serves on loopback (HTTP/1.1 and cleartext HTTP/2
with prior knowledge, on the same port) and prints
``KINESIS_URL=http://127.0.0.1:<port>`` once listening, for scripts to pick up.
``--data-dir DIR`` keeps streams and records across restarts; ``--no-throughput-limits``
turns AWS's per-shard limits off; ``--faults '{"added_latency_ms": 50}'`` starts with a
fault plan (change it later at ``/_streamload/faults``, see admin.py).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from emulator.http2 import HTTP2_SERVICE, Http2Service
from emulator.runtime import LOOPBACK, serve_in_foreground, serve_until_signalled
from streamload.core.errors import reports_errors

from .admin import add_admin_routes
from .auth import RequestAuthenticator
from .faults import FaultPlan
from .models import KinesisBackend
from .persistence import open_backend
from .responses import KinesisResponses
from .settings import MIB, KinesisSettings

__all__ = ["KINESIS_BACKEND", "create_app", "main"]

KINESIS_BACKEND = web.AppKey("kinesis_backend", KinesisBackend)
DEFAULT_PORT = 4567  # kinesalite's port, so tools already pointed at it keep working
_log = logging.getLogger(__name__)


def _max_body_bytes(settings: KinesisSettings) -> int:
    # Blobs travel base64-encoded (4/3 larger); allow JSON framing on top.
    largest_payload = max(settings.max_put_records_request_bytes, settings.max_record_bytes)
    return largest_payload * 4 // 3 + MIB


async def create_app(
    backend: KinesisBackend | None = None,
    settings: KinesisSettings | None = None,
    authenticator: RequestAuthenticator | None = None,
) -> web.Application:
    """A Kinesis-compatible application. Pass ``backend`` to share or inspect state
    (it then brings its own settings; ``settings`` is for a fresh backend)."""
    if backend is None:
        backend = open_backend(settings)
    elif settings is not None and settings != backend.settings:
        raise ValueError("pass settings either to the backend or to create_app, not different ones to both")
    responses = KinesisResponses(backend, authenticator)
    app = web.Application(client_max_size=_max_body_bytes(backend.settings))
    app[KINESIS_BACKEND] = backend
    app.router.add_post("/", responses.dispatch)
    # The JS SDK v3 and async Java SDK v2 (KCL 2.x) clients speak HTTP/2 by default.
    app[HTTP2_SERVICE] = Http2Service({("POST", "/"): responses.dispatch}, _max_body_bytes(backend.settings))
    add_admin_routes(app, backend.faults)
    app.cleanup_ctx.append(_housekeeping(backend))
    return app


def _every(interval_s: float, job, what: str):
    async def loop() -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                job()
            except Exception:  # keep serving; a failed trim or flush is retried next time
                _log.exception("%s failed", what)

    return loop


def _housekeeping(backend: KinesisBackend):
    """Retention trimming, on-demand scaling, and flushing record segments with --data-dir."""
    settings = backend.settings
    jobs = [_every(settings.retention_check_interval_s, backend.trim_expired_records, "retention trim"),
            _every(settings.on_demand_check_interval_s, backend.scale_on_demand_streams, "on-demand scaling")]
    if backend.journal is not None:
        jobs.append(_every(settings.flush_interval_s, backend.journal.flush, "segment flush"))

    async def context(app: web.Application) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(job()) for job in jobs]
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if backend.journal is not None:
            backend.journal.close()

    return context


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator.kinesis", description="Local Kinesis Data Streams server.")
    parser.add_argument("--host", default=LOOPBACK, help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port, 0 = any free port (default: %(default)s)")
    parser.add_argument("--account-id", default=None, help="account id for callers with unknown access keys")
    parser.add_argument("--stream-creating-s", type=float, default=None, help="seconds a new stream stays CREATING")
    parser.add_argument("--data-dir", default=None, help="keep streams and records here across restarts")
    parser.add_argument("--fsync", action="store_true", help="with --data-dir: sync every put to disk before answering")
    parser.add_argument("--no-throughput-limits", action="store_true", help="turn per-shard and control-plane limits off")
    parser.add_argument("--allow-unsigned", action="store_true", help="accept requests without a SigV4 signature")
    parser.add_argument("--faults", default=None, help="initial fault plan as JSON (see emulator/kinesis/faults.py)")
    parser.add_argument("--retention-override-s", type=float, default=None, help="local only: trim records after N s")
    parser.add_argument("--on-demand-split-delay-s", type=float, default=None,
                        help="seconds an on-demand shard stays above 500 KB/s before it splits (AWS: within 900)")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    overrides = {}
    if args.account_id is not None:
        overrides["default_account_id"] = args.account_id
    if args.stream_creating_s is not None:
        overrides["stream_creating_s"] = args.stream_creating_s
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    if args.fsync:
        overrides["fsync"] = True
    if args.no_throughput_limits:
        overrides["throughput_limits_enabled"] = False
        overrides["control_plane_limits_enabled"] = False
    if args.allow_unsigned:
        overrides["allow_unsigned_requests"] = True
    if args.faults is not None:
        overrides["faults"] = FaultPlan.model_validate_json(args.faults)
    if args.retention_override_s is not None:
        overrides["retention_override_s"] = args.retention_override_s
        overrides["retention_check_interval_s"] = min(60.0, args.retention_override_s)
    if args.on_demand_split_delay_s is not None:
        overrides["on_demand_split_delay_s"] = args.on_demand_split_delay_s
        overrides["on_demand_check_interval_s"] = min(10.0, max(0.5, args.on_demand_split_delay_s / 2))
    app = await create_app(settings=KinesisSettings(**overrides))
    await serve_until_signalled(app, args.host, args.port, "KINESIS_URL")


@reports_errors("python -m emulator.kinesis")
def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    return serve_in_foreground(_serve(args), "Kinesis", args.host, args.port)
