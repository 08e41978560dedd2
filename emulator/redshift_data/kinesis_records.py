"""GetRecords for REFRESH without botocore's response parser.

botocore turns every record of a GetRecords page into a structure walk plus a dateutil
timestamp in the local zone: about 20 µs a record, more than everything else a REFRESH does
with it (COPY, JSON_PARSE, INSERT) together. This client signs the same JSON 1.1 request with
botocore's SigV4 signer, sends it with aiohttp and reads the answer with orjson: ``Data`` as
bytes, ``ApproximateArrivalTimestamp`` as a naive UTC datetime (what the stage table holds).
Every other call goes to the wrapped aiobotocore client. Errors are raised as botocore's
``ClientError`` with the service's code, so callers handle both paths alike; transient
failures are retried like botocore's standard mode (3 attempts).
"""
from __future__ import annotations

import asyncio
import binascii
import datetime as dt

import aiohttp
import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, EndpointConnectionError

__all__ = ["FastGetRecordsClient"]

_EPOCH = dt.datetime(1970, 1, 1)
_TARGET = "Kinesis_20131202.GetRecords"
_RETRIED_CODES = ("InternalFailure", "InternalFailureException", "ServiceUnavailable", "ServiceUnavailableException")
ATTEMPTS = 3
RETRY_DELAY_S = 0.05


class FastGetRecordsClient:
    def __init__(self, client, endpoint_url: str, region: str, access_key: str, secret_key: str) -> None:
        self._client = client
        self._url = endpoint_url.rstrip("/") + "/"
        self._signer = SigV4Auth(Credentials(access_key, secret_key), "kinesis", region)
        self._http: aiohttp.ClientSession | None = None

    def __getattr__(self, name: str):
        return getattr(self._client, name)  # ListShards, GetShardIterator…: botocore as usual

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def get_records(self, *, ShardIterator: str, Limit: int | None = None) -> dict:  # noqa: N803 (boto names)
        body = orjson.dumps({"ShardIterator": ShardIterator, **({"Limit": Limit} if Limit else {})})
        for attempt in range(1, ATTEMPTS + 1):
            try:
                status, payload = await self._post(body)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                if attempt == ATTEMPTS:
                    raise EndpointConnectionError(endpoint_url=self._url) from None
            else:
                document = _json(payload)
                if status == 200:
                    return _decoded(document)
                code = str(document.get("__type", "")).rpartition("#")[2] or f"HTTP{status}"
                if attempt == ATTEMPTS or not (status >= 500 or code in _RETRIED_CODES):
                    raise ClientError({"Error": {"Code": code,
                                                 "Message": document.get("message") or document.get("Message", "")},
                                       "ResponseMetadata": {"HTTPStatusCode": status}}, "GetRecords")
            await asyncio.sleep(RETRY_DELAY_S * attempt)
        raise AssertionError("unreachable")

    async def _post(self, body: bytes) -> tuple[int, bytes]:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30, connect=5))
        request = AWSRequest(method="POST", url=self._url, data=body,
                             headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": _TARGET})
        self._signer.add_auth(request)
        async with self._http.post(self._url, data=body, headers=dict(request.headers.items())) as response:
            return response.status, await response.read()


def _json(payload: bytes) -> dict:
    try:
        document = orjson.loads(payload) if payload else {}
    except orjson.JSONDecodeError:
        return {}
    return document if isinstance(document, dict) else {}


def _decoded(page: dict) -> dict:
    for record in page.get("Records", ()):
        record["Data"] = binascii.a2b_base64(record["Data"])
        arrival = record.get("ApproximateArrivalTimestamp")
        if isinstance(arrival, (int, float)):
            record["ApproximateArrivalTimestamp"] = _EPOCH + dt.timedelta(seconds=arrival)
    return page
