"""``run_producer``: generate -> schedule -> PutRecords -> ledger, until done or stopped.

One aiobotocore client per run, opened with ``async with``; botocore's own retries are
off (``total_max_attempts=1``) because ``KinesisBatchSender`` retries per record and
must see every failure to count it. First SIGINT/SIGTERM: stop generating, let in-flight
batches finish (bounded by the record TTL), write the summary. Second: stop retrying too.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError
from prometheus_client import start_http_server

from producer import metrics
from producer.ledger import LedgerWriter
from producer.records import SCHEMAS, RandomUserRecords
from producer.schedule import BatchDispatcher, OpenLoopSchedule
from producer.sender import (
    MIB,
    TRANSIENT_EXCEPTIONS,
    KinesisBatchSender,
    OutcomeTally,
    TargetError,
    classify_target_error,
    split_batches,
)

__all__ = ["ProducerOptions", "ProducerResult", "run_producer"]

log = logging.getLogger(__name__)

_STREAM_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")


@dataclass
class ProducerOptions:
    """Everything one producer run needs; invalid values raise ``ValueError`` (one line)."""

    stream_name: str
    region: str | None = None  # None: the standard chain (AWS_DEFAULT_REGION, profile)
    endpoint_url: str | None = None  # None: AWS itself
    rate: float = 200.0
    duration_s: float | None = 30.0  # with total: whichever ends first
    total: int | None = None
    producer_id: str = "p0"
    seed: int | None = None
    schema: str = "randomuser"
    batch_max_records: int = 500
    batch_max_bytes: int = 5 * MIB
    max_record_bytes: int = MIB
    record_ttl_s: float = 30.0
    max_in_flight: int = 8
    ledger_path: Path | None = None
    metrics_port: int | None = None  # None: no HTTP endpoint; 0: any free port
    aws_access_key_id: str | None = None  # None: the standard AWS credential chain
    aws_secret_access_key: str | None = field(default=None, repr=False)
    aws_session_token: str | None = field(default=None, repr=False)
    slice_s: float = 0.025
    late_tolerance_s: float = 0.1
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not _STREAM_NAME.match(self.stream_name or ""):
            raise ValueError(f"stream name must be 1-128 of [a-zA-Z0-9_.-], got {self.stream_name!r}")
        if not self.rate > 0:
            raise ValueError(f"rate must be > 0 records/s, got {self.rate!r}")
        if self.duration_s is not None and not self.duration_s > 0:
            raise ValueError(f"duration must be > 0 s, got {self.duration_s!r}")
        if self.total is not None and self.total < 1:
            raise ValueError(f"total must be >= 1, got {self.total!r}")
        if not 1 <= self.batch_max_records <= 500:
            raise ValueError(f"batch_max_records must be 1..500 (the PutRecords limit), got {self.batch_max_records!r}")
        if not 1 <= self.batch_max_bytes <= 5 * MIB:
            raise ValueError(f"batch_max_bytes must be 1..5 MiB, got {self.batch_max_bytes!r}")
        if not self.record_ttl_s > 0:
            raise ValueError(f"record TTL must be > 0 s, got {self.record_ttl_s!r}")
        if self.max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {self.max_in_flight!r}")
        if self.schema not in SCHEMAS:
            raise ValueError(f"unknown schema {self.schema!r}; known: {', '.join(SCHEMAS)}")
        if self.metrics_port is not None and not 0 <= self.metrics_port <= 65535:
            raise ValueError(f"metrics port must be 0..65535, got {self.metrics_port!r}")
        if self.endpoint_url is not None and not re.match(r"^https?://[^/\s]+", self.endpoint_url):
            raise ValueError(f"endpoint URL must start with http:// or https://, got {self.endpoint_url!r}")
        if (self.aws_access_key_id is None) != (self.aws_secret_access_key is None):
            raise ValueError("give both aws_access_key_id and aws_secret_access_key, or neither")
        if self.ledger_path is not None:
            self.ledger_path = Path(self.ledger_path)


@dataclass
class ProducerResult:
    """What the summary file holds; ``sent + expired + rejected == generated``."""

    producer_id: str
    generated: int
    sent: int
    expired: int
    rejected: int
    late: int
    target_rate: float
    achieved_rate: float
    duration_s: float
    done: bool = True
    retried: int = 0
    throttled: int = 0
    rejected_reasons: dict[str, int] = field(default_factory=dict)
    run_id: str = ""
    started_at: float = 0.0
    error: str | None = None

    def to_json(self) -> dict:
        return asdict(self)

    def one_line(self) -> str:
        text = (f"producer {self.producer_id}: generated={self.generated} sent={self.sent} "
                f"expired={self.expired} rejected={self.rejected} late={self.late} "
                f"rate={self.achieved_rate:.1f}/{self.target_rate:g} records/s in {self.duration_s:.1f}s")
        return text + (f" error: {self.error}" if self.error else "")


def _client_context(opts: ProducerOptions):
    config = AioConfig(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=opts.connect_timeout_s,
        read_timeout=opts.read_timeout_s,
        max_pool_connections=opts.max_in_flight + 1,
    )
    kwargs = {"region_name": opts.region, "endpoint_url": opts.endpoint_url, "config": config}
    if opts.aws_access_key_id:
        kwargs.update(aws_access_key_id=opts.aws_access_key_id,
                      aws_secret_access_key=opts.aws_secret_access_key,
                      aws_session_token=opts.aws_session_token)
    return get_session().create_client("kinesis", **kwargs)


async def _check_stream(client, opts: ProducerOptions) -> None:
    """Fail fast, with the cause, when the stream is missing or the endpoint unreachable."""
    where = opts.endpoint_url or "AWS"
    deadline = time.monotonic() + 30.0
    while True:
        try:
            summary = await client.describe_stream_summary(StreamName=opts.stream_name)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("AccessDeniedException", "AccessDenied"):
                # A producer role may be allowed PutRecords only; the first put will tell.
                log.warning("cannot describe stream %s (%s); going on", opts.stream_name, code)
                return
            raise classify_target_error(exc, opts.stream_name, opts.endpoint_url) or TargetError(
                f"DescribeStreamSummary failed at {where}: {code}") from exc
        except TRANSIENT_EXCEPTIONS as exc:
            raise TargetError(f"cannot reach Kinesis at {where}: {exc}") from exc
        except BotoCoreError as exc:
            raise classify_target_error(exc, opts.stream_name, opts.endpoint_url) or TargetError(
                f"cannot call Kinesis at {where}: {exc}") from exc
        status = summary.get("StreamDescriptionSummary", {}).get("StreamStatus", "ACTIVE")
        if status in ("ACTIVE", "UPDATING"):
            return
        if status == "DELETING" or time.monotonic() > deadline:
            raise TargetError(f"stream {opts.stream_name!r} at {where} is {status}")
        await asyncio.sleep(0.25)


@contextlib.contextmanager
def _signals_request_stop(stop: asyncio.Event, abort: asyncio.Event):
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            abort.set()
        stop.set()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
        except (RuntimeError, ValueError, NotImplementedError):
            pass  # not the main thread (e.g. a demo running us in a thread): caller stops us
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


@contextlib.contextmanager
def _metrics_endpoint(port: int | None):
    if port is None:
        yield
        return
    server, thread = start_http_server(port, addr="127.0.0.1")
    log.info("producer metrics on http://127.0.0.1:%d/metrics", server.server_port)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def run_producer(opts: ProducerOptions, *, client=None,
                       stop: asyncio.Event | None = None) -> ProducerResult:
    """Run one producer to completion and return its summary (also written next to the
    ledger). Raises ``TargetError`` when the target cannot take records, ``ValueError``
    when no region can be found; the summary is written first, with ``error`` set. ``client`` replaces the aiobotocore client (tests);
    setting ``stop`` ends the run gracefully like SIGTERM."""
    stop = stop or asyncio.Event()
    abort = asyncio.Event()
    tally = OutcomeTally()
    generator = RandomUserRecords(opts.producer_id, opts.seed)
    schedule = OpenLoopSchedule(opts.rate, total=opts.total, duration_s=opts.duration_s,
                                slice_s=opts.slice_s)
    metrics.TARGET_RATE.set(opts.rate)
    ledger = LedgerWriter(opts.ledger_path) if opts.ledger_path else None
    started_at = time.time()
    error: BaseException | None = None
    try:
        with _metrics_endpoint(opts.metrics_port), _signals_request_stop(stop, abort):
            async with contextlib.AsyncExitStack() as stack:
                if client is None:
                    try:
                        client = await stack.enter_async_context(_client_context(opts))
                    except NoRegionError as exc:
                        raise ValueError("no AWS region: pass --region or set AWS_DEFAULT_REGION") from exc
                    except BotoCoreError as exc:
                        raise classify_target_error(exc, opts.stream_name, opts.endpoint_url) or \
                            TargetError(f"cannot create a Kinesis client: {exc}") from exc
                await _check_stream(client, opts)
                sender = KinesisBatchSender(
                    client, opts.stream_name, opts.producer_id, tally, ledger=ledger,
                    record_ttl_s=opts.record_ttl_s, max_record_bytes=opts.max_record_bytes,
                    endpoint_url=opts.endpoint_url, abort=abort)

                def on_failure(exc: BaseException) -> None:
                    stop.set()
                    abort.set()

                dispatcher = BatchDispatcher(
                    sender.send, max_in_flight=opts.max_in_flight,
                    intended_time=lambda r: r.produced_at, late_tolerance_s=opts.late_tolerance_s,
                    on_late=tally.add_late, on_failure=on_failure)
                started_at = time.time()
                seq = 0
                async for intended_times in schedule.slices(stop):
                    records = [generator.generate(seq + i, t) for i, t in enumerate(intended_times)]
                    seq += len(records)
                    tally.generated += len(records)
                    for batch in split_batches(records, opts.batch_max_records, opts.batch_max_bytes):
                        dispatcher.submit(batch)
                await dispatcher.drain()
    except BaseException as exc:
        error = exc
        raise
    finally:
        duration_s = max(time.time() - started_at, 1e-9)
        result = ProducerResult(
            producer_id=opts.producer_id, generated=tally.generated, sent=tally.sent,
            expired=tally.expired, rejected=tally.rejected, late=tally.late,
            target_rate=opts.rate, achieved_rate=tally.sent / duration_s, duration_s=duration_s,
            retried=tally.retried, throttled=tally.throttled,
            rejected_reasons=dict(tally.rejected_reasons), run_id=generator.run_id,
            started_at=started_at, error=_one_line(error) if error else None)
        if ledger is not None:
            ledger.close()
            ledger.write_summary(result.to_json())
    return result


def _one_line(exc: BaseException) -> str:
    first_line = next(iter(str(exc).strip().splitlines()), "")
    if isinstance(exc, TargetError):  # already written for people
        return first_line
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
