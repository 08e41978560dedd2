"""PutRecords with per-record retries: every record ends ``sent``, ``expired`` or ``rejected``.

Errors that mean the target cannot take records at all raise ``TargetError``
(``producer.target``; exit code 3). Everything else is handled per record:

* a record larger than ``max_record_bytes`` (data + partition key, as Kinesis counts it)
  is ``rejected`` (reason ``oversize``) and never sent;
* with a ``ShardPacer``, each record waits (holding no send slot) until its shard has
  quota; one that could not go before its deadline is ``expired`` without being sent;
* a partial failure (``FailedRecordCount > 0``) resends *only* the failed records whose
  error is retryable (``ProvisionedThroughputExceededException``, ``InternalFailure``),
  with exponential backoff and full jitter -- the backoff holds no send slot either;
  other per-record errors are ``rejected``;
* a whole-call error that may pass (throttling, 5xx, connection reset, timeout) resends
  the whole batch;
* nothing is retried past the record's deadline (``produced_at + record_ttl_s``): such
  records are ``expired``; so are records still unsent when the run is aborted.

A put that lands on another shard than the pacer predicted means the stream was
resharded: the shard directory is told to list the shards again.

A resend after a timeout may duplicate a record that Kinesis did store; the audit reports
duplicates rather than this module hiding them.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator

from botocore.exceptions import BotoCoreError, ClientError

from producer import metrics
from streamload.core.ledger import LedgerEntry, LedgerWriter
from producer.outcomes import OutcomeTally
from producer.partition_keys import KeyedRecord
from producer.schedule import SendSlots
from producer.shards import ShardPacer
from producer.sinks import RecordSink
from producer.target import (
    RETRYABLE_CALL_ERRORS,
    RETRYABLE_RECORD_ERRORS,
    THROTTLING_ERRORS,
    TRANSIENT_EXCEPTIONS,
    TargetError,
    classify_target_error,
)

__all__ = [
    "TargetError",
    "OutcomeTally",
    "KinesisBatchSender",
    "split_batches",
    "classify_target_error",
    "MIB",
]

log = logging.getLogger(__name__)

MIB = 1024 * 1024


def split_batches(records: Iterable[KeyedRecord], max_records: int = 500,
                  max_bytes: int = 5 * MIB) -> Iterator[list[KeyedRecord]]:
    """Consecutive batches of at most ``max_records`` records and ``max_bytes`` bytes
    (data + partition keys: what Kinesis counts toward the 5 MiB request limit)."""
    batch: list[KeyedRecord] = []
    size = 0
    for record in records:
        if batch and (len(batch) >= max_records or size + record.size > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += record.size
    if batch:
        yield batch


class KinesisBatchSender(RecordSink):
    """Sends one batch to completion; many run at once under ``BatchDispatcher``.

    ``client`` is an aiobotocore Kinesis client (or anything with an async
    ``put_records(StreamName=..., Records=[...])``). ``slots`` bounds the calls on the
    wire; ``pacer`` (optional) keeps each shard under its quota. ``abort`` set means: stop
    retrying, count whatever is left as expired.
    """

    def __init__(self, client, stream_name: str, producer_id: str, tally: OutcomeTally, *,
                 slots: SendSlots | None = None, pacer: ShardPacer | None = None,
                 ledger: LedgerWriter | None = None, record_ttl_s: float = 30.0,
                 max_record_bytes: int = MIB, backoff_base_s: float = 0.05,
                 backoff_max_s: float = 2.0, endpoint_url: str | None = None,
                 region: str | None = None, abort: asyncio.Event | None = None,
                 rng: random.Random | None = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__(producer_id, tally, slots or SendSlots(64), ledger, max_record_bytes)
        self.client = client
        self.stream_name = stream_name
        self.pacer = pacer
        self.record_ttl_s = record_ttl_s
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.endpoint_url = endpoint_url
        self.region = region
        self.abort = abort or asyncio.Event()
        self.rng = rng or random.Random()
        self.clock = clock

    async def send(self, batch: list[KeyedRecord]) -> None:
        await self._deliver(self.fitting(batch), attempt=0)

    def _deadline(self, record: KeyedRecord) -> float:
        return record.record.produced_at + self.record_ttl_s

    def _alive(self, records: list[KeyedRecord]) -> list[KeyedRecord]:
        """Drops (as expired) what is past its deadline, or everything once aborted."""
        if self.abort.is_set():
            self.tally.add_expired(_seqs(records))
            return []
        now = self.clock()
        alive = [r for r in records if now < self._deadline(r)]
        if len(alive) < len(records):
            self.tally.add_expired([r.record.seq for r in records if not now < self._deadline(r)])
        return alive

    def _plan(self, records: list[KeyedRecord]) -> list[tuple[float, list[KeyedRecord]]]:
        if self.pacer is None:
            return [(0.0, records)]
        now = self.clock()
        groups, too_late = self.pacer.plan(records, self._deadline, now)
        self.tally.add_expired(_seqs(too_late))
        self.tally.add_shard_limited(sum(len(members) for at, members in groups if at > now))
        return groups

    async def _deliver(self, records: list[KeyedRecord], attempt: int) -> None:
        """Attempt ``records`` until each is sent, expired or rejected."""
        while records:
            records = self._alive(records)
            groups = self._plan(records) if records else []
            if len(groups) > 1:  # shards ready at different times go separately
                await asyncio.gather(*(self._deliver_group(at, members, attempt) for at, members in groups))
                return
            if not groups:
                return
            records = await self._try_once(*groups[0], attempt)
            attempt += 1

    async def _deliver_group(self, ready_at: float, records: list[KeyedRecord], attempt: int) -> None:
        failed = await self._try_once(ready_at, records, attempt)
        if failed:
            await self._deliver(failed, attempt + 1)

    async def _try_once(self, ready_at: float, records: list[KeyedRecord], attempt: int) -> list[KeyedRecord]:
        """Wait until ``ready_at``, make one call, back off if anything failed; returns
        the records to try again."""
        await self._sleep(ready_at - self.clock())
        records = self._alive(records)
        if not records:
            return []
        if attempt:
            self.tally.add_retried(len(records))
        first_times = [r.record.produced_at for r in records] if attempt == 0 else ()
        async with self.slots.call(first_times):
            failed = await self._attempt(records)
        if failed:
            await self._backoff(attempt + 1, failed)
        return failed

    async def _attempt(self, records: list[KeyedRecord]) -> list[KeyedRecord]:
        """One PutRecords call; returns the records to try again."""
        entries = [r.entry() for r in records]
        started = time.perf_counter()
        try:
            response = await self.client.put_records(StreamName=self.stream_name, Records=entries)
        except (ClientError, BotoCoreError, *TRANSIENT_EXCEPTIONS) as exc:
            metrics.PUT_SECONDS.observe(time.perf_counter() - started)
            return self._after_call_error(exc, records)
        metrics.PUT_SECONDS.observe(time.perf_counter() - started)
        acked_at = self.clock()
        results = response.get("Records", [])
        if len(results) != len(records):
            # A malformed answer proves nothing about any record: try them all again.
            log.warning("PutRecords answered %d results for %d records", len(results), len(records))
            return records
        retry: list[KeyedRecord] = []
        acked: list[LedgerEntry] = []
        acked_bytes = 0
        map_is_stale = False
        throttled = 0
        for keyed, result in zip(records, results):
            code = result.get("ErrorCode")
            if not code:
                record = keyed.record
                shard_id = result.get("ShardId", "")
                acked.append((record.event_id, self.producer_id, record.seq, shard_id,
                              result.get("SequenceNumber", ""), record.produced_at, acked_at))
                acked_bytes += len(record.data)
                map_is_stale |= keyed.shard is not None and shard_id != keyed.shard
            elif code in RETRYABLE_RECORD_ERRORS:
                retry.append(keyed)
                throttled += code in THROTTLING_ERRORS
            else:
                self.tally.add_rejected([keyed.record.seq], code)
        if throttled:  # once per response: the tally mirrors each call into metrics and the ledger
            self.tally.add_throttled(throttled)
        if map_is_stale and self.pacer is not None:
            self.pacer.directory.mark_stale()
        if acked:
            if self.ledger is not None:
                self.ledger.append(acked)
            self.tally.add_sent(len(acked), acked_bytes)
        return retry

    def _after_call_error(self, exc: BaseException, records: list[KeyedRecord]) -> list[KeyedRecord]:
        fatal = classify_target_error(exc, self.stream_name, self.endpoint_url, self.region)
        if fatal is not None:
            self.tally.add_expired(_seqs(records))
            raise fatal from exc
        if isinstance(exc, ClientError):
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in THROTTLING_ERRORS:
                self.tally.add_throttled(len(records))
            elif code not in RETRYABLE_CALL_ERRORS and status < 500:
                # The request itself is wrong (e.g. ValidationException): resending cannot help.
                self.tally.add_rejected(_seqs(records), code or f"HTTP {status}")
                return []
        elif not isinstance(exc, TRANSIENT_EXCEPTIONS):
            self.tally.add_rejected(_seqs(records), type(exc).__name__)
            return []
        log.debug("PutRecords failed, retrying %d records: %s", len(records), exc)
        return records

    async def _sleep(self, delay: float) -> None:
        """Sleep (holding nothing) unless aborted first."""
        if delay <= 0 or self.abort.is_set():
            return
        try:
            await asyncio.wait_for(self.abort.wait(), timeout=delay)
        except asyncio.TimeoutError:
            pass

    async def _backoff(self, attempt: int, pending: list[KeyedRecord]) -> None:
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        # No point sleeping past the last deadline in the batch.
        last_deadline = max(self._deadline(r) for r in pending)
        await self._sleep(min(self.rng.uniform(0, ceiling), max(0.0, last_deadline - self.clock())))


def _seqs(records: list[KeyedRecord]) -> list[int]:
    return [r.record.seq for r in records]
