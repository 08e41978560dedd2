"""PutRecords with per-record retries: every record ends ``sent``, ``expired`` or ``rejected``.

Exception tree::

    TargetError      the target cannot take records at all (unknown stream, bad or missing
                     credentials, access denied); the run stops -- exit code 3.

Everything else is handled per record:

* a record larger than ``max_record_bytes`` (data + partition key, as Kinesis counts it)
  is ``rejected`` (reason ``oversize``) and never sent;
* a partial failure (``FailedRecordCount > 0``) resends *only* the failed records whose
  error is retryable (``ProvisionedThroughputExceededException``, ``InternalFailure``),
  with exponential backoff and full jitter; other per-record errors are ``rejected``;
* a whole-call error that may pass (throttling, 5xx, connection reset, timeout) resends
  the whole batch;
* nothing is retried past the record's deadline (``produced_at + record_ttl_s``): such
  records are ``expired``; so are records still unsent when the run is aborted.

A resend after a timeout may duplicate a record that Kinesis did store; the audit reports
duplicates rather than this module hiding them.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import aiohttp
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError as BotoConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from producer import metrics
from producer.ledger import LedgerEntry, LedgerWriter
from producer.records import GeneratedRecord

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
RETRYABLE_RECORD_ERRORS = frozenset({"ProvisionedThroughputExceededException", "InternalFailure"})
THROTTLING_ERRORS = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "LimitExceededException",
    "KMSThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
})
RETRYABLE_CALL_ERRORS = THROTTLING_ERRORS | {
    "InternalFailure", "InternalServerError", "ServiceUnavailable", "InternalError",
}
FATAL_CALL_ERRORS = frozenset({
    "ResourceNotFoundException", "UnrecognizedClientException", "InvalidSignatureException",
    "ExpiredTokenException", "ExpiredToken", "AccessDeniedException", "AccessDenied",
    "IncompleteSignature", "MissingAuthenticationToken", "InvalidClientTokenId",
    "SignatureDoesNotMatch", "KMSAccessDeniedException", "KMSDisabledException",
    "KMSNotFoundException", "KMSInvalidStateException", "KMSOptInRequired",
})
TRANSIENT_EXCEPTIONS = (HTTPClientError, BotoConnectionError, aiohttp.ClientError,
                        asyncio.TimeoutError, OSError)


class TargetError(Exception):
    """The target cannot take records at all; the message is one line naming the cause."""


def classify_target_error(exc: BaseException, stream_name: str, endpoint: str | None) -> TargetError | None:
    """A ``TargetError`` if ``exc`` means no record can ever be put, else ``None``."""
    where = endpoint or "AWS"
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "") or code
        if code == "ResourceNotFoundException":
            return TargetError(f"stream {stream_name!r} not found at {where}: {message}")
        if code in FATAL_CALL_ERRORS:
            return TargetError(f"{code} from {where}: {message}")
        return None
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return TargetError(f"no usable AWS credentials: {exc}")
    if isinstance(exc, NoRegionError):
        return TargetError("no AWS region: pass --region or set AWS_DEFAULT_REGION")
    return None


def split_batches(records: Iterable[GeneratedRecord], max_records: int = 500,
                  max_bytes: int = 5 * MIB,
                  partition_key: Callable[[GeneratedRecord], str] = lambda r: r.event_id,
                  ) -> Iterator[list[GeneratedRecord]]:
    """Consecutive batches of at most ``max_records`` records and ``max_bytes`` bytes
    (data + partition keys: what Kinesis counts toward the 5 MiB request limit)."""
    batch: list[GeneratedRecord] = []
    size = 0
    for record in records:
        record_size = len(record.data) + len(partition_key(record).encode())
        if batch and (len(batch) >= max_records or size + record_size > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += record_size
    if batch:
        yield batch


@dataclass
class OutcomeTally:
    """Running totals; ``generated == sent + expired + rejected`` once every batch is done."""

    generated: int = 0
    sent: int = 0
    expired: int = 0
    rejected: int = 0
    late: int = 0
    retried: int = 0
    throttled: int = 0
    sent_bytes: int = 0
    rejected_reasons: Counter = field(default_factory=Counter)

    def add_sent(self, count: int, data_bytes: int) -> None:
        self.sent += count
        self.sent_bytes += data_bytes
        metrics.RECORDS.labels("sent").inc(count)
        metrics.BYTES.inc(data_bytes)

    def add_expired(self, count: int) -> None:
        if count:
            self.expired += count
            metrics.RECORDS.labels("expired").inc(count)

    def add_rejected(self, count: int, reason: str) -> None:
        if count:
            self.rejected += count
            self.rejected_reasons[reason] += count
            metrics.RECORDS.labels("rejected").inc(count)

    def add_late(self, count: int) -> None:
        self.late += count

    def add_retried(self, count: int) -> None:
        self.retried += count
        metrics.RETRIES.inc(count)

    def add_throttled(self, count: int) -> None:
        self.throttled += count
        metrics.THROTTLED.inc(count)

    @property
    def finished(self) -> int:
        return self.sent + self.expired + self.rejected


class KinesisBatchSender:
    """Sends one batch to completion; many run at once under ``BatchDispatcher``.

    ``client`` is an aiobotocore Kinesis client (or anything with an async
    ``put_records(StreamName=..., Records=[...])``). ``abort`` set means: stop retrying,
    count whatever is left as expired.
    """

    def __init__(self, client, stream_name: str, producer_id: str, tally: OutcomeTally, *,
                 ledger: LedgerWriter | None = None, record_ttl_s: float = 30.0,
                 max_record_bytes: int = MIB, backoff_base_s: float = 0.05,
                 backoff_max_s: float = 2.0, endpoint_url: str | None = None,
                 abort: asyncio.Event | None = None, rng: random.Random | None = None,
                 clock: Callable[[], float] = time.time,
                 partition_key: Callable[[GeneratedRecord], str] = lambda r: r.event_id) -> None:
        self.client = client
        self.stream_name = stream_name
        self.producer_id = producer_id
        self.tally = tally
        self.ledger = ledger
        self.record_ttl_s = record_ttl_s
        self.max_record_bytes = max_record_bytes
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.endpoint_url = endpoint_url
        self.abort = abort or asyncio.Event()
        self.rng = rng or random.Random()
        self.clock = clock
        self.partition_key = partition_key

    async def send(self, batch: list[GeneratedRecord]) -> None:
        pending = []
        for record in batch:
            if len(record.data) + len(self.partition_key(record).encode()) > self.max_record_bytes:
                self.tally.add_rejected(1, "oversize")
            else:
                pending.append(record)
        attempt = 0
        while pending:
            if self.abort.is_set():
                self.tally.add_expired(len(pending))
                return
            now = self.clock()
            alive = [r for r in pending if now < r.produced_at + self.record_ttl_s]
            self.tally.add_expired(len(pending) - len(alive))
            if not alive:
                return
            if attempt:
                self.tally.add_retried(len(alive))
            pending = await self._attempt(alive)
            if pending:
                attempt += 1
                await self._backoff(attempt, pending)

    async def _attempt(self, records: list[GeneratedRecord]) -> list[GeneratedRecord]:
        """One PutRecords call; returns the records to try again."""
        entries = [{"Data": r.data, "PartitionKey": self.partition_key(r)} for r in records]
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
        retry: list[GeneratedRecord] = []
        acked: list[LedgerEntry] = []
        acked_bytes = 0
        for record, result in zip(records, results):
            code = result.get("ErrorCode")
            if not code:
                acked.append((record.event_id, self.producer_id, record.seq, result.get("ShardId", ""),
                              result.get("SequenceNumber", ""), record.produced_at, acked_at))
                acked_bytes += len(record.data)
            elif code in RETRYABLE_RECORD_ERRORS:
                retry.append(record)
                if code in THROTTLING_ERRORS:
                    self.tally.add_throttled(1)
            else:
                self.tally.add_rejected(1, code)
        if acked:
            if self.ledger is not None:
                self.ledger.append(acked)
            self.tally.add_sent(len(acked), acked_bytes)
        return retry

    def _after_call_error(self, exc: BaseException, records: list[GeneratedRecord]) -> list[GeneratedRecord]:
        fatal = classify_target_error(exc, self.stream_name, self.endpoint_url)
        if fatal is not None:
            self.tally.add_expired(len(records))
            raise fatal from exc
        if isinstance(exc, ClientError):
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in THROTTLING_ERRORS:
                self.tally.add_throttled(len(records))
            elif code not in RETRYABLE_CALL_ERRORS and status < 500:
                # The request itself is wrong (e.g. ValidationException): resending cannot help.
                self.tally.add_rejected(len(records), code or f"HTTP {status}")
                return []
        elif not isinstance(exc, TRANSIENT_EXCEPTIONS):
            self.tally.add_rejected(len(records), type(exc).__name__)
            return []
        log.debug("PutRecords failed, retrying %d records: %s", len(records), exc)
        return records

    async def _backoff(self, attempt: int, pending: list[GeneratedRecord]) -> None:
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        # No point sleeping past the last deadline in the batch.
        last_deadline = max(r.produced_at for r in pending) + self.record_ttl_s
        delay = min(self.rng.uniform(0, ceiling), max(0.0, last_deadline - self.clock()))
        try:
            await asyncio.wait_for(self.abort.wait(), timeout=delay)
        except asyncio.TimeoutError:
            pass
