"""A minimal HTTP/2 client with prior knowledge (what the JS SDK v3 and async Java SDK v2
send to an ``http://`` endpoint), built on the ``h2`` state machine over a plain socket,
so the tests drive the server with a second, independent HTTP/2 implementation."""
from __future__ import annotations

import socket
from urllib.parse import urlsplit

import h2.config
import h2.connection
import h2.events

__all__ = ["Http2Client"]


class Http2Client:
    """One connection; ``post`` sends a request on a new stream and waits for its answer."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        parts = urlsplit(url)
        self.authority = parts.netloc
        self._socket = socket.create_connection((parts.hostname, parts.port), timeout=timeout_s)
        self._h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self._h2.initiate_connection()
        self._socket.sendall(self._h2.data_to_send())
        self.largest_frame_sent = 0

    def post(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        stream_id = self._h2.get_next_available_stream_id()
        request_headers = [(":method", "POST"), (":path", "/"), (":scheme", "http"), (":authority", self.authority)]
        request_headers += [(name.lower(), value) for name, value in headers.items() if name.lower() != "host"]
        self._h2.send_headers(stream_id, request_headers, end_stream=not body)
        sent = 0
        while sent < len(body):  # the server's window is large; still, respect it
            size = min(self._h2.local_flow_control_window(stream_id), self._h2.max_outbound_frame_size,
                       len(body) - sent)
            if size <= 0:
                self._pump(stream_id, {})
                continue
            self._h2.send_data(stream_id, body[sent:sent + size], end_stream=sent + size == len(body))
            self.largest_frame_sent = max(self.largest_frame_sent, size)
            sent += size
        self._socket.sendall(self._h2.data_to_send())
        answer: dict = {}
        while "ended" not in answer:
            self._pump(stream_id, answer)
        return int(answer["headers"][":status"]), answer["headers"], bytes(answer["body"])

    def _pump(self, stream_id: int, answer: dict) -> None:
        data = self._socket.recv(1 << 16)
        if not data:
            raise ConnectionError("server closed the HTTP/2 connection")
        for event in self._h2.receive_data(data):
            if getattr(event, "stream_id", None) != stream_id:
                continue
            if isinstance(event, h2.events.ResponseReceived):
                answer["headers"], answer["body"] = dict(event.headers), bytearray()
            elif isinstance(event, h2.events.DataReceived):
                answer["body"] += event.data
                self._h2.acknowledge_received_data(event.flow_controlled_length, stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                answer["ended"] = True
            elif isinstance(event, h2.events.StreamReset):
                raise ConnectionError(f"server reset stream {stream_id}")
        self._socket.sendall(self._h2.data_to_send())

    def close(self) -> None:
        self._h2.close_connection()
        self._socket.sendall(self._h2.data_to_send())
        self._socket.close()
