"""A lean Redshift Data API client and a do-nothing Data API server, for measuring overhead.

``LeanDataApiClient`` makes the three calls of a query (ExecuteStatement, DescribeStatement
until FINISHED, GetStatementResult) over one keep-alive HTTP connection, SigV4-signed the way
every SDK must sign, with the signing key derived once per day (as the Go and Java SDKs cache
it). It is written here from the SigV4 specification, independently of ``emulator.sigv4``:
the server verifying its signatures is the check that both are right.

``python -m bench.lean_data_api --canned`` serves the three calls at once with fixed bodies on
a raw asyncio protocol (no web framework) and prints ``CANNED_URL=<url>``: the round trip against it is
the client's and the loopback's share (the floor), so that subtracting it leaves what the Data
API itself adds.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import http.client
import sys
import time
from pathlib import Path

import orjson

from bench.processes import served
from emulator.runtime import run as run_on_server_loop

REPO = Path(__file__).resolve().parents[1]

CONTENT_TYPE = "application/x-amz-json-1.1"
SIGNED_HEADERS = "content-type;host;x-amz-date;x-amz-target"
CANNED_BODIES = {
    b"ExecuteStatement": b'{"Id":"c","CreatedAt":1,"Database":"dev"}',
    b"DescribeStatement": b'{"Id":"c","Status":"FINISHED","HasResultSet":true}',
    b"GetStatementResult": b'{"Records":[[{"longValue":1}]],"ColumnMetadata":[],"TotalNumRows":1}',
}


class LeanDataApiClient:
    def __init__(self, url: str, access_key: str, secret_key: str, region: str,
                 service: str = "redshift-data") -> None:
        host, port = url.split("//", 1)[1].rstrip("/").rsplit(":", 1)
        self._host_header = f"{host}:{port}"
        self._conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self._access_key, self._secret_key, self._region, self._service = access_key, secret_key, region, service
        self._key_date, self._signing_key = "", b""

    def _key_for(self, date: str) -> bytes:
        if date != self._key_date:
            key = hmac.new(("AWS4" + self._secret_key).encode(), date.encode(), hashlib.sha256).digest()
            for part in (self._region, self._service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._key_date, self._signing_key = date, key
        return self._signing_key

    def call(self, operation: str, body: dict) -> dict:
        payload = orjson.dumps(body)
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        target = f"RedshiftData.{operation}"
        canonical_request = "\n".join((
            "POST", "/", "", f"content-type:{CONTENT_TYPE}", f"host:{self._host_header}", f"x-amz-date:{amz_date}",
            f"x-amz-target:{target}", "", SIGNED_HEADERS, hashlib.sha256(payload).hexdigest()))
        scope = f"{amz_date[:8]}/{self._region}/{self._service}/aws4_request"
        string_to_sign = "\n".join(("AWS4-HMAC-SHA256", amz_date, scope,
                                    hashlib.sha256(canonical_request.encode()).hexdigest()))
        signature = hmac.new(self._key_for(amz_date[:8]), string_to_sign.encode(), hashlib.sha256).hexdigest()
        self._conn.request("POST", "/", body=payload, headers={
            "Content-Type": CONTENT_TYPE, "X-Amz-Date": amz_date, "X-Amz-Target": target,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={self._access_key}/{scope}, "
                             f"SignedHeaders={SIGNED_HEADERS}, Signature={signature}"})
        response = self._conn.getresponse()
        answer = orjson.loads(response.read())
        if response.status != 200:
            raise SystemExit(f"{operation} failed: {answer}")
        return answer

    def round_trip(self, sql: str) -> None:
        statement_id = self.call("ExecuteStatement", {"Sql": sql, "Database": "dev", "WorkgroupName": "bench"})["Id"]
        for _ in range(100_000):
            status = self.call("DescribeStatement", {"Id": statement_id})["Status"]
            if status == "FINISHED":
                break
            if status in ("FAILED", "ABORTED"):
                raise SystemExit(f"statement {statement_id} ended {status}")
        self.call("GetStatementResult", {"Id": statement_id})


class _CannedProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive, just enough of it: headers, Content-Length body, fixed answer."""

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport, self.buffer = transport, b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head, separator, rest = self.buffer.partition(b"\r\n\r\n")
            if not separator:
                return
            length, operation = 0, b""
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"x-amz-target":
                    operation = value.strip().rpartition(b".")[2]
            if len(rest) < length:
                return
            self.buffer = rest[length:]
            body = CANNED_BODIES.get(operation, b"{}")
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
                                 % (CONTENT_TYPE.encode(), len(body), body))


async def _serve_canned() -> None:
    server = await asyncio.get_running_loop().create_server(_CannedProtocol, "127.0.0.1", 0)
    print(f"CANNED_URL=http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.sleep(3600)  # the bench terminates it long before


def canned_server():
    """The do-nothing server in its own process (as the real one runs); yields its URL."""
    return served([sys.executable, "-m", "bench.lean_data_api", "--canned"], cwd=REPO, banner="CANNED_URL=")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--canned", action="store_true", help="serve the do-nothing Data API and print CANNED_URL=")
    if parser.parse_args().canned:
        run_on_server_loop(_serve_canned())  # the Data API's loop (uvloop), so the floor is like for like
