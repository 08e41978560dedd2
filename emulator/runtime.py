"""Run an aiohttp application on loopback, either in the caller's event loop or in a
background thread (for synchronous callers such as boto3 tests and the demo).

Every emulator server is an ``aiohttp.web.Application``; this module is the one place
that binds sockets, so the loopback default lives here and nowhere else.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field

from aiohttp import web

from streamload.core.errors import EXIT_OK, UsageError

from .http2 import HTTP2_SERVICE, Http2Connection, Http2Service, ProtocolSniffer

__all__ = ["LOOPBACK", "RunningServer", "serve_app", "serve_until_signalled", "serve_in_foreground",
           "BackgroundServer", "new_event_loop", "run"]

LOOPBACK = "127.0.0.1"


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop where it is installed (a dependency except on Windows), else asyncio's.
    It takes about a quarter off the Data API's own cost per request (bench/redshift_emulator.py)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(main: Awaitable) -> object:
    """``asyncio.run`` on ``new_event_loop()``: the emulators' ``python -m`` entry points."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)


@dataclass
class RunningServer:
    """An application bound to a socket; ``url`` is what clients use as endpoint_url."""

    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def close(self) -> None:
        await self.runner.cleanup()


class _SniffingSite(web.TCPSite):
    """A TCP site whose connections go to aiohttp (HTTP/1.1) or to HTTP/2 by their first
    bytes (emulator/http2.py), for applications that store an ``Http2Service``."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, service: Http2Service) -> None:
        super().__init__(runner, host, port, reuse_address=True)
        self._service = service

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        http1, service = self._runner.server, self._service
        self._server = await asyncio.get_running_loop().create_server(
            lambda: ProtocolSniffer(http1, lambda: Http2Connection(service)),
            self._host, self._port, backlog=self._backlog, reuse_address=True)

    async def stop(self) -> None:
        await super().stop()
        for connection in list(self._service.live):
            connection.close()


async def serve_app(app: web.Application, host: str = LOOPBACK, port: int = 0) -> RunningServer:
    """Bind ``app`` to ``host:port`` (port 0 picks a free port) and start serving; an app
    holding an ``Http2Service`` also takes cleartext HTTP/2 on the same port."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    service = app.get(HTTP2_SERVICE)
    if service is None:
        site = web.TCPSite(runner, host, port, reuse_address=True)
    else:
        site = _SniffingSite(runner, host, port, service)
    await site.start()
    bound = runner.addresses[0]  # (host, port[, flow, scope]) of this runner's one site; port 0 resolved
    return RunningServer(runner=runner, host=host, port=bound[1])


async def serve_until_signalled(
    app: web.Application,
    host: str,
    port: int,
    banner: str,
    on_started: Callable[[RunningServer], None] | None = None,
) -> None:
    """Serve ``app`` in the foreground, print ``<banner>=<url>``, stop on SIGINT/SIGTERM.

    The shared ``main()`` body of the emulators' ``python -m`` entry points.
    """
    import signal

    server = await serve_app(app, host, port)
    if on_started is not None:
        on_started(server)
    print(f"{banner}={server.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await server.close()


def serve_in_foreground(serve: Coroutine[None, None, None], service: str, host: str, port: int) -> int:
    """Run an emulator's ``python -m`` server (``serve`` ends in ``serve_until_signalled``)
    until it is signalled: exit 0. An address it cannot bind (a port in use) or a setting
    the flags make invalid is a one-line ``UsageError`` (exit 2) for ``reports_errors``."""
    try:
        run(serve)
    except OSError as error:
        raise UsageError(f"cannot serve {service} on {host}:{port}: {error}") from None
    except ValueError as error:  # pydantic's are several lines: one is asked for
        raise UsageError("invalid setting: " + "; ".join(line.strip() for line in str(error).splitlines())) from None
    return EXIT_OK


@dataclass
class BackgroundServer:
    """Serve an application from a daemon thread with its own event loop.

    ``make_app`` is awaited inside that loop, so it may open async resources (database
    pools, aiobotocore clients) that belong to the loop. Use as a context manager::

        with BackgroundServer(make_app) as srv:
            boto3.client("kinesis", endpoint_url=srv.url, ...)
    """

    make_app: Callable[[], Awaitable[web.Application]]
    host: str = LOOPBACK
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _server: RunningServer | None = field(default=None, init=False)
    app: web.Application | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        return self._server.url

    def start(self) -> "BackgroundServer":
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self.app = loop.run_until_complete(self.make_app())
                self._server = loop.run_until_complete(serve_app(self.app, self.host, self.port))
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._server.close())
            loop.close()

        self._thread = threading.Thread(target=run, name="emulator-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def call(self, coro: Awaitable) -> object:
        """Run a coroutine in the server's loop and return its result (for tests)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
