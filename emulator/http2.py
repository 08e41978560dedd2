"""Cleartext HTTP/2 with prior knowledge next to HTTP/1.1, on the same port.

The AWS SDK for JavaScript v3's Kinesis client and the async Java SDK v2 (so the KCL 2.x)
speak HTTP/2 by default; on an ``http://`` endpoint that is "prior knowledge": the client
opens with the connection preface ``PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n`` instead of an
HTTP/1.1 request line. ``ProtocolSniffer`` reads a connection's first bytes once and hands
the connection over for good -- to aiohttp's own HTTP/1.1 handler, or to
``Http2Connection`` (the ``h2`` state machine) -- with ``transport.set_protocol``. After
that first read HTTP/1.1 traffic flows to aiohttp exactly as without the sniffer, so
boto3's speed is untouched.

An HTTP/2 request reaches the same handler coroutine the aiohttp route uses, as an
``Http2Request`` with the members those handlers read (``method``, ``path_qs``,
``headers`` -- ``:authority`` becomes ``Host``, which SigV4 signs -- ``content_type``,
``transport``, ``read()``); the ``web.Response`` it returns is framed back as HTTP/2,
honouring the peer's flow-control windows (a GetRecords answer can be 10 MiB).

An application opts in by storing an ``Http2Service`` under ``HTTP2_SERVICE``;
``emulator.runtime.serve_app`` then listens through the sniffer.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.exceptions
from aiohttp import web
from h2.settings import SettingCodes
from multidict import CIMultiDict, CIMultiDictProxy

__all__ = ["PREFACE", "HTTP2_SERVICE", "Http2Service", "Http2Request", "Http2Connection", "ProtocolSniffer"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# Windows large enough that a 5 MiB PutRecords body arrives without waiting on WINDOW_UPDATEs.
RECEIVE_WINDOW = 16 * 1024 * 1024 - 1
MAX_FRAME = 1024 * 1024
SILENT_CONNECTION_S = 75.0  # aiohttp's keep-alive timeout
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"})
_log = logging.getLogger(__name__)

Handler = Callable[["Http2Request"], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Http2Service:
    """What an application serves over HTTP/2: handlers by (method, path) and the body limit."""

    routes: dict[tuple[str, str], Handler]
    max_body_bytes: int = 1024 * 1024
    live: set = field(default_factory=set, compare=False)  # open Http2Connections, closed on shutdown


HTTP2_SERVICE = web.AppKey("http2_service", Http2Service)


class Http2Request:
    """One HTTP/2 request, as the members of ``aiohttp.web.Request`` the handlers use."""

    __slots__ = ("method", "path_qs", "path", "headers", "transport", "_body", "_body_size", "_max_body")

    def __init__(self, method: str, path_qs: str, headers: CIMultiDictProxy, body: bytes, body_size: int,
                 max_body: int, transport: asyncio.Transport) -> None:
        self.method, self.path_qs, self.headers, self.transport = method, path_qs, headers, transport
        self.path = path_qs.split("?", 1)[0]
        self._body, self._body_size, self._max_body = body, body_size, max_body

    @property
    def content_type(self) -> str:
        raw = self.headers.get("Content-Type", "")
        return raw.split(";", 1)[0].strip().lower() or "application/octet-stream"  # as aiohttp answers

    async def read(self) -> bytes:
        if self._body_size > self._max_body:
            raise web.HTTPRequestEntityTooLarge(max_size=self._max_body, actual_size=self._body_size)
        return self._body


class ProtocolSniffer(asyncio.Protocol):
    """Decide from the first bytes whether a connection speaks HTTP/2 (prior knowledge) or
    HTTP/1.1, then hand the transport to that protocol and step out of the way."""

    def __init__(self, http1: Callable[[], asyncio.Protocol], http2: Callable[[], asyncio.Protocol]) -> None:
        self._http1, self._http2 = http1, http2
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._silence: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        # A client that connects and says nothing is closed, as aiohttp's keep-alive would.
        self._silence = asyncio.get_running_loop().call_later(SILENT_CONNECTION_S, transport.close)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        seen = min(len(self._buffer), len(PREFACE))
        if self._buffer[:seen] != PREFACE[:seen]:
            chosen = self._http1()
        elif seen == len(PREFACE):
            chosen = self._http2()
        else:
            return  # a prefix of the preface so far: wait for more
        self._silence.cancel()
        transport, buffered = self._transport, self._buffer
        self._transport, self._buffer = None, b""
        transport.set_protocol(chosen)
        chosen.connection_made(transport)
        chosen.data_received(buffered)

    def eof_received(self) -> bool:
        return False  # closed before saying anything decidable

    def connection_lost(self, exc: Exception | None) -> None:
        if self._silence is not None:
            self._silence.cancel()
        self._transport = None


@dataclass
class _Stream:
    method: str
    path_qs: str
    headers: CIMultiDict
    body: bytearray = field(default_factory=bytearray)
    size: int = 0
    window_open: asyncio.Event = field(default_factory=asyncio.Event)


class Http2Connection(asyncio.Protocol):
    """The server side of one HTTP/2 connection: requests in, a task per stream, answers out."""

    def __init__(self, service: Http2Service) -> None:
        self._service = service
        self._h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        self._streams: dict[int, _Stream] = {}
        self._tasks: dict[int, asyncio.Task] = {}
        self._transport: asyncio.Transport | None = None
        self._writable = asyncio.Event()
        self._writable.set()

    # ---- transport events ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._service.live.add(self)
        self._h2.initiate_connection()
        # Announced, and in force once the client acknowledges them (h2 tracks that).
        self._h2.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: RECEIVE_WINDOW,
                                  SettingCodes.MAX_FRAME_SIZE: MAX_FRAME,
                                  SettingCodes.MAX_CONCURRENT_STREAMS: 1000})
        self._h2.increment_flow_control_window(RECEIVE_WINDOW - self._h2.inbound_flow_control_window)
        self._flush()

    def data_received(self, data: bytes) -> None:
        try:
            events = self._h2.receive_data(data)
        except h2.exceptions.ProtocolError:
            self._flush()  # h2 queued a GOAWAY naming the error
            self.close()
            return
        for event in events:
            self._on_event(event)
        self._flush()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self._service.live.discard(self)
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
        self._streams.clear()
        self._transport = None
        self._writable.set()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # ---- HTTP/2 events ---------------------------------------------------------------

    def _on_event(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RequestReceived):
            self._streams[event.stream_id] = self._new_stream(event.headers)
        elif isinstance(event, h2.events.DataReceived):
            stream = self._streams.get(event.stream_id)
            self._h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            if stream is not None:
                stream.size += len(event.data)
                if stream.size <= self._service.max_body_bytes:  # beyond: counted, not kept
                    stream.body += event.data
        elif isinstance(event, h2.events.StreamEnded):
            if event.stream_id in self._streams:
                task = asyncio.get_running_loop().create_task(self._answer(event.stream_id))
                self._tasks[event.stream_id] = task
        elif isinstance(event, h2.events.StreamReset):
            self._forget(event.stream_id, cancel=True)
        elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
            for stream in self._streams.values():
                stream.window_open.set()
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.close()

    @staticmethod
    def _new_stream(raw_headers: list[tuple[str, str]]) -> _Stream:
        pseudo: dict[str, str] = {}
        headers: CIMultiDict = CIMultiDict()
        for name, value in raw_headers:
            if name.startswith(":"):
                pseudo[name] = value
            else:
                headers.add(name, value)
        if ":authority" in pseudo:
            # HTTP/2's Host. SigV4 signers name it either way: botocore signs "host", the JS
            # SDK v3 signs ":authority" itself, so both are looked up by those names.
            headers[":authority"] = pseudo[":authority"]
            headers.setdefault("Host", pseudo[":authority"])
        return _Stream(pseudo.get(":method", "GET"), pseudo.get(":path", "/"), headers)

    def _forget(self, stream_id: int, cancel: bool = False) -> None:
        self._streams.pop(stream_id, None)
        task = self._tasks.pop(stream_id, None)
        if cancel and task is not None:
            task.cancel()

    # ---- answering -------------------------------------------------------------------

    async def _answer(self, stream_id: int) -> None:
        stream = self._streams[stream_id]
        request = Http2Request(stream.method, stream.path_qs, CIMultiDictProxy(stream.headers), bytes(stream.body),
                               stream.size, self._service.max_body_bytes, self._transport)
        handler = self._service.routes.get((stream.method, request.path))
        try:
            if handler is None:
                response = web.Response(status=404, text="Not Found")
            else:
                response = await handler(request)
        except Exception:  # a bug of ours: the stream gets a 500, the connection lives on
            _log.exception("HTTP/2 request failed unexpectedly")
            response = web.Response(status=500, text="Internal Server Error")
        try:
            await self._send(stream_id, stream, response)
        except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError, ConnectionError):
            pass  # the client went away or reset the stream: nothing left to answer
        finally:
            self._forget(stream_id)

    async def _send(self, stream_id: int, stream: _Stream, response: web.StreamResponse) -> None:
        if self._transport is None or self._transport.is_closing():
            return  # e.g. a fault plan dropped the connection
        body = getattr(response, "body", None)
        body = bytes(body) if isinstance(body, (bytes, bytearray, memoryview)) else b""
        headers = [(":status", str(response.status))]
        headers += [(name.lower(), value) for name, value in response.headers.items()
                    if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length"]
        headers.append(("content-length", str(len(body))))
        self._h2.send_headers(stream_id, headers, end_stream=not body)
        self._flush()
        await self._send_body(stream_id, stream, memoryview(body))

    async def _send_body(self, stream_id: int, stream: _Stream, body: memoryview) -> None:
        offset = 0
        while offset < len(body):
            await self._writable.wait()
            if self._transport is None:
                return
            window = self._h2.local_flow_control_window(stream_id)
            if window <= 0:
                stream.window_open.clear()
                await stream.window_open.wait()
                continue
            size = min(window, self._h2.max_outbound_frame_size, len(body) - offset)
            self._h2.send_data(stream_id, body[offset:offset + size].tobytes(),
                               end_stream=offset + size == len(body))
            offset += size
            self._flush()

    def _flush(self) -> None:
        data = self._h2.data_to_send()
        if data and self._transport is not None:
            self._transport.write(data)
