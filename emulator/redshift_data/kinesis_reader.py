"""Reading a Kinesis stream for REFRESH: every shard after its checkpoint, politely.

Kinesis allows 5 GetRecords calls/s and 2 MiB/s per shard and answers more with
``ProvisionedThroughputExceededException``; the reader backs off (exponentially, capped)
and retries, within an overall deadline, instead of failing the refresh. An iterator that
expires mid-read is renewed after the last record read.
"""
from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from .kinesis_records import FastGetRecordsClient
from .translate import SqlTranslationError

__all__ = ["KinesisReader", "GET_RECORDS_LIMIT", "THROTTLE_CODES"]

GET_RECORDS_LIMIT = 10_000
MAX_GET_RECORDS_CALLS_PER_SHARD = 1_000  # bounds one refresh on a stream that never stops
THROTTLE_CODES = ("ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException")
BACKOFF_FIRST_S = 0.1
BACKOFF_MAX_S = 1.0
READ_DEADLINE_S = 120.0  # one refresh gives up on a stream that stays throttled this long


class KinesisReader:
    def __init__(self, endpoint_url: str | None, region: str, access_key: str, secret_key: str) -> None:
        self._endpoint = endpoint_url
        self._region = region
        self._access_key = access_key
        self._secret_key = secret_key
        self._exit_stack = AsyncExitStack()
        self._client = None
        self._client_lock = asyncio.Lock()

    async def close(self) -> None:
        await self._exit_stack.aclose()
        self._client = None

    async def warm_up(self) -> None:
        """Create the client now (botocore loads its service models: a few hundred ms), so the
        first REFRESH does not pay for it. Best effort: a failure shows again at REFRESH."""
        if self._endpoint:
            try:
                await self.client()
            except Exception:  # noqa: BLE001 - reported by the REFRESH that needs the client
                pass

    async def client(self):
        async with self._client_lock:
            return await self._create_client()

    async def _create_client(self):
        if self._client is None:
            if not self._endpoint:
                raise SqlTranslationError("streaming ingestion needs a Kinesis endpoint (--kinesis-endpoint)")
            # Throttling is handled below with our own backoff; botocore retries the rest.
            config = AioConfig(retries={"mode": "standard", "max_attempts": 3},
                               connect_timeout=5, read_timeout=30, max_pool_connections=50)
            client = await self._exit_stack.enter_async_context(get_session().create_client(
                "kinesis", endpoint_url=self._endpoint, region_name=self._region, config=config,
                aws_access_key_id=self._access_key, aws_secret_access_key=self._secret_key))
            self._client = FastGetRecordsClient(client, self._endpoint, self._region, self._access_key,
                                                self._secret_key)
            self._exit_stack.push_async_callback(self._client.close)
        return self._client

    async def read_new_records(self, stream_name: str, checkpoints: dict[str, str]) -> dict[str, list]:
        """{shard id: records after its checkpoint (from TRIM_HORIZON without one)}."""
        try:
            client = await self.client()
            shard_ids = await list_shards(client, stream_name)
            deadline = time.monotonic() + READ_DEADLINE_S
            batches = await asyncio.gather(*(
                read_shard(client, stream_name, shard_id, checkpoints.get(shard_id), deadline)
                for shard_id in shard_ids))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise SqlTranslationError(f"streaming ingestion from Kinesis stream \"{stream_name}\" failed: "
                                      f"{error.get('Code')}: {error.get('Message')}") from None
        except BotoCoreError as exc:
            raise SqlTranslationError(f"streaming ingestion could not reach Kinesis: {exc}") from None
        return dict(zip(shard_ids, batches))


async def _call(deadline: float, method, **kwargs) -> dict:
    """``method(**kwargs)``, sleeping and retrying while Kinesis says we read too fast."""
    delay = BACKOFF_FIRST_S
    while True:
        try:
            return await method(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in THROTTLE_CODES or time.monotonic() + delay > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, BACKOFF_MAX_S)


async def list_shards(client, stream_name: str) -> list[str]:
    shard_ids, kwargs = [], {"StreamName": stream_name}
    deadline = time.monotonic() + READ_DEADLINE_S
    while True:
        page = await _call(deadline, client.list_shards, **kwargs)
        shard_ids += [shard["ShardId"] for shard in page.get("Shards", [])]
        if not page.get("NextToken"):
            return shard_ids
        kwargs = {"NextToken": page["NextToken"]}  # AWS rejects StreamName with NextToken


async def _iterator(client, stream_name: str, shard_id: str, after: str | None, deadline: float) -> str:
    if after:
        position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after}
    else:
        position = {"ShardIteratorType": "TRIM_HORIZON"}
    page = await _call(deadline, client.get_shard_iterator, StreamName=stream_name, ShardId=shard_id, **position)
    return page["ShardIterator"]


async def read_shard(client, stream_name: str, shard_id: str, after: str | None, deadline: float) -> list:
    iterator = await _iterator(client, stream_name, shard_id, after, deadline)
    records: list = []
    for _ in range(MAX_GET_RECORDS_CALLS_PER_SHARD):
        try:
            page = await _call(deadline, client.get_records, ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExpiredIteratorException":
                raise
            last = records[-1]["SequenceNumber"] if records else after
            iterator = await _iterator(client, stream_name, shard_id, last, deadline)
            continue
        records += page.get("Records", [])
        iterator = page.get("NextShardIterator")
        caught_up = page.get("MillisBehindLatest", 0) == 0
        if not iterator or not page.get("Records") or (caught_up and len(page["Records"]) < GET_RECORDS_LIMIT):
            break
    return records
