"""``run_producer``: generate -> schedule -> key -> (pace) -> PutRecords -> ledger, until done
or stopped.

One aiobotocore client per run, opened with ``async with`` (``producer.target``). First
SIGINT/SIGTERM: stop generating, let in-flight batches finish (bounded by the record TTL),
write the summary. Second: stop retrying too (what is left counts as expired).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, NoRegionError, ProfileNotFound
from prometheus_client import start_http_server

from producer import metrics
from producer.ledger_publish import LedgerPublisher, ledger_table_from_run_file, run_plan_from_env
from streamload.core.ledger import LedgerWriter
from producer.outcomes import OutcomeTally
from producer.partition_keys import PartitionKeys
from producer.profiles import RateProfile, constant, parse_profile
from producer.schemas import check_schema, make_generator
from producer.result import ProducerResult
from producer.schedule import BatchDispatcher, OpenLoopSchedule, SendSlots
from producer.sender import MIB, KinesisBatchSender, split_batches
from producer.shards import ShardDirectory, ShardPacer, ShardRateLimiter
from producer.sinks import LineSink, parse_sink
from producer.target import TargetError, check_stream, classify_target_error, kinesis_client
from streamload.core.runplan import RUN_FILE_ENV

__all__ = ["ProducerOptions", "ProducerResult", "run_producer", "RUN_FILE_ENV"]

log = logging.getLogger(__name__)

_STREAM_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")

Watcher = Callable[[OutcomeTally, Callable[[], float], asyncio.Event], Awaitable[None]]


@dataclass
class ProducerOptions:
    """Everything one producer run needs; invalid values raise ``ValueError`` (one line)."""

    stream_name: str
    region: str | None = None  # None: the standard chain (AWS_DEFAULT_REGION, profile)
    endpoint_url: str | None = None  # None: AWS itself
    rate: float = 200.0  # constant rate, unless ``profile`` is given
    duration_s: float | None = 30.0  # with total: whichever ends first
    total: int | None = None
    producer_id: str = "p0"
    seed: int | None = None
    schema: str = "randomuser"
    profile: str | None = None  # e.g. "ramp:100:2000:60s" (producer/profiles.py)
    partition_key: str = "random"  # random | field:PATH | hot[:KEY]
    explicit_hash_key: str | None = None  # None | "random" | a decimal 0..2^128-1
    shard_limit: bool = True  # pace each shard under its quota
    shard_records_per_s: float = 1000.0
    shard_bytes_per_s: float = float(MIB)
    shard_refresh_s: float = 30.0
    sink: str = "kinesis"  # kinesis | stdout | file:PATH
    share: tuple[int, int] = (0, 1)  # (k, n): this process sends records k, k+n, k+2n, ...
    run_id: str | None = None  # for streamload_run_info; default: the run file's, else our own
    batch_max_records: int = 500
    batch_max_bytes: int = 5 * MIB
    max_record_bytes: int = MIB
    record_ttl_s: float = 30.0
    max_in_flight: int = 8
    ledger_path: Path | None = None
    metrics_port: int | None = None  # None: no HTTP endpoint; 0: any free port
    aws_profile: str | None = None  # AWS credentials profile (--profile); None: the standard chain
    aws_access_key_id: str | None = None  # None: the standard AWS credential chain
    aws_secret_access_key: str | None = field(default=None, repr=False)
    aws_session_token: str | None = field(default=None, repr=False)
    slice_s: float = 0.025
    late_tolerance_s: float = 0.1
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        self.sink_spec = parse_sink(self.sink)
        if self.sink_spec.kind == "kinesis" and not _STREAM_NAME.match(self.stream_name or ""):
            raise ValueError(f"stream name must be 1-128 of [a-zA-Z0-9_.-], got {self.stream_name!r}")
        if self.profile is None and not self.rate > 0:
            raise ValueError(f"rate must be > 0 records/s, got {self.rate!r}")
        self.rate_profile()  # raises on a bad spec
        PartitionKeys(self.partition_key, self.explicit_hash_key)  # raises on a bad strategy
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
        if not (self.shard_records_per_s > 0 and self.shard_bytes_per_s > 0 and self.shard_refresh_s > 0):
            raise ValueError("shard limits and the shard refresh interval must be > 0")
        if not 0 <= self.share[0] < self.share[1]:
            raise ValueError(f"share must be k/n with 0 <= k < n, got {self.share!r}")
        # SchemaError (a ValueError) names the field: a bad template or key field stops here.
        check_schema(self.schema, PartitionKeys(self.partition_key, self.explicit_hash_key).key_field)
        if self.metrics_port is not None and not 0 <= self.metrics_port <= 65535:
            raise ValueError(f"metrics port must be 0..65535, got {self.metrics_port!r}")
        if self.endpoint_url is not None and not re.match(r"^https?://[^/\s]+", self.endpoint_url):
            raise ValueError(f"endpoint URL must start with http:// or https://, got {self.endpoint_url!r}")
        if (self.aws_access_key_id is None) != (self.aws_secret_access_key is None):
            raise ValueError("give both aws_access_key_id and aws_secret_access_key, or neither")
        if self.ledger_path is not None:
            self.ledger_path = Path(self.ledger_path)

    def rate_profile(self) -> RateProfile:
        return parse_profile(self.profile) if self.profile is not None else constant(self.rate)

    def credentials(self) -> dict[str, str] | None:
        if not self.aws_access_key_id:
            return None
        keys = {"aws_access_key_id": self.aws_access_key_id, "aws_secret_access_key": self.aws_secret_access_key}
        if self.aws_session_token:
            keys["aws_session_token"] = self.aws_session_token
        return keys


def run_id_from_run_file() -> str | None:
    """The orchestrator's run id, when this producer was started by `streamload run`."""
    plan = run_plan_from_env()
    return plan.run_id if plan is not None else None


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
        yield None
        return
    server, thread = start_http_server(port, addr="127.0.0.1", registry=metrics.SERVED_REGISTRY)
    log.info("producer metrics on http://127.0.0.1:%d/metrics", server.server_port)
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def _open_kinesis(stack: contextlib.AsyncExitStack, opts: ProducerOptions, client, tally: OutcomeTally,
                        slots: SendSlots, ledger, abort: asyncio.Event, background: list) -> KinesisBatchSender:
    if client is None:
        try:
            client = await stack.enter_async_context(kinesis_client(
                opts.region, opts.endpoint_url, max_pool_connections=opts.max_in_flight + 1,
                connect_timeout_s=opts.connect_timeout_s, read_timeout_s=opts.read_timeout_s,
                credentials=opts.credentials(), profile=opts.aws_profile))
        except NoRegionError as exc:
            raise ValueError("no AWS region: pass --region or set AWS_DEFAULT_REGION") from exc
        except ProfileNotFound as exc:
            raise ValueError(f"{exc}: check --profile (or AWS_PROFILE) against ~/.aws/config") from exc
        except BotoCoreError as exc:  # e.g. a region name botocore cannot use
            raise classify_target_error(exc, opts.stream_name, opts.endpoint_url, opts.region) or \
                TargetError(f"cannot create a Kinesis client for region {opts.region!r}: {exc}") from exc
    await check_stream(client, opts.stream_name, opts.endpoint_url, opts.region, log)
    pacer = None
    if opts.shard_limit:
        directory = ShardDirectory(client, opts.stream_name, refresh_s=opts.shard_refresh_s)
        if not await directory.refresh():
            log.warning("shards of %s unknown: sending unpaced until ListShards works", opts.stream_name)
        background.append(directory.run)
        pacer = ShardPacer(directory, ShardRateLimiter(opts.shard_records_per_s, opts.shard_bytes_per_s))
    return KinesisBatchSender(
        client, opts.stream_name, opts.producer_id, tally, slots=slots, pacer=pacer, ledger=ledger,
        record_ttl_s=opts.record_ttl_s, max_record_bytes=opts.max_record_bytes,
        endpoint_url=opts.endpoint_url, region=opts.region, abort=abort)


async def run_producer(opts: ProducerOptions, *, client=None, stop: asyncio.Event | None = None,
                       watch: Watcher | None = None,
                       start_gate: Callable[[], Awaitable[float | None]] | None = None) -> ProducerResult:
    """Run one producer to completion and return its summary (also written next to the
    ledger). Raises ``TargetError`` when the target cannot take records, ``ValueError``
    when no region can be found; the summary is written first, with ``error`` set.
    ``client`` replaces the aiobotocore client (tests); setting ``stop`` ends the run
    gracefully like SIGTERM; ``watch(tally, target_rate, stopped)`` runs alongside (the
    progress line); ``start_gate()``, awaited once everything is ready, returns the common
    start time of ``--processes`` children."""
    run = _ProducerRun(opts, stop or asyncio.Event())
    error: BaseException | None = None
    try:
        with _metrics_endpoint(opts.metrics_port), _signals_request_stop(run.stop, run.abort):
            async with contextlib.AsyncExitStack() as stack:
                background: list = []
                sink = await run.open_sink(stack, client, background)
                run.start_background(stack, background, watch)
                await run.send_schedule(sink, start_gate)
    except BaseException as exc:
        error = exc
        run.abort.set()
        raise
    finally:
        result = await run.finish(error)
    return result


class _ProducerRun:
    """One run's state, from the first generated record to the summary in the ledger."""

    def __init__(self, opts: ProducerOptions, stop: asyncio.Event) -> None:
        self.opts, self.stop, self.abort = opts, stop, asyncio.Event()
        self.tally = OutcomeTally()
        self.keys = PartitionKeys(opts.partition_key, opts.explicit_hash_key)
        # The run's id is stamped in every record (the audit counts per run in SQL): the run
        # file's when an orchestrator started us, else our own.
        self.generator = make_generator(opts.schema, producer_id=opts.producer_id, seed=opts.seed,
                                        run_id=opts.run_id or run_id_from_run_file(), key_field=self.keys.key_field)
        self.schedule = OpenLoopSchedule(opts.rate_profile(), total=opts.total, duration_s=opts.duration_s,
                                         slice_s=opts.slice_s, share=opts.share)
        metrics.TARGET_RATE.set(self.schedule.target_rate(0.0))
        self.run_id = self.generator.run_id
        metrics.export_run_info(self.run_id, opts.stream_name, opts.producer_id)
        self.ledger = LedgerWriter(opts.ledger_path, opts.producer_id, self.run_id) if opts.ledger_path else None
        self.tally.ledger = self.ledger
        self.table = ledger_table_from_run_file() if self.ledger is not None else None
        self.publisher = LedgerPublisher(self.ledger, self.table) if self.table is not None else None
        self.slots = SendSlots(opts.max_in_flight, late_tolerance_s=opts.late_tolerance_s, on_late=self.tally.add_late)
        self.started_at = time.time()
        self.stopped_at: float | None = None
        self.background_stop = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.pacer: ShardPacer | None = None

    async def open_sink(self, stack: contextlib.AsyncExitStack, client, background: list):
        opts = self.opts
        if opts.sink_spec.kind == "kinesis":
            return await _open_kinesis(stack, opts, client, self.tally, self.slots, self.ledger, self.abort, background)
        sink = LineSink.open(opts.sink_spec, opts.producer_id, self.tally, slots=self.slots, ledger=self.ledger,
                             max_record_bytes=opts.max_record_bytes)
        stack.callback(sink.close)
        return sink

    def start_background(self, stack: contextlib.AsyncExitStack, background: list, watch: Watcher | None) -> None:
        if self.publisher is not None:
            background.append(self.publisher.run)
        if watch is not None:
            background.append(lambda stopped: watch(self.tally, self._target_rate_now, stopped))
        self.tasks = [asyncio.create_task(job(self.background_stop)) for job in background]
        # Stopped before the client closes: a shard listing must not outlive it.
        stack.push_async_callback(_stop_background, self.background_stop, self.tasks)

    def _target_rate_now(self) -> float:
        return self.schedule.profile.rate_at(time.time() - self.started_at) / self.opts.share[1]

    def _stop_and_abort(self, exc: BaseException) -> None:
        self.stop.set()
        self.abort.set()

    async def send_schedule(self, sink, start_gate: Callable[[], Awaitable[float | None]] | None) -> None:
        """Send every scheduled record (until stopped), then wait for the batches in flight."""
        dispatcher = BatchDispatcher(sink.send, on_failure=self._stop_and_abort)
        self.pacer = getattr(sink, "pacer", None)
        start_at = await _unless_stopped(start_gate(), self.stop) if start_gate else None
        self.started_at = start_at or time.time()
        try:
            await self._generate_and_submit(dispatcher, start_at)
        except BaseException:
            self.abort.set()  # in-flight batches end now, their records counted expired
            with contextlib.suppress(BaseException):
                await dispatcher.drain()
            raise
        if self.stop.is_set():
            self.stopped_at = time.time()
        await dispatcher.drain()

    async def _generate_and_submit(self, dispatcher: BatchDispatcher, start_at: float | None) -> None:
        keys, seq = self.keys, 0
        async for intended_times in self.schedule.slices(self.stop, start_at):
            records = [self.generator.generate(seq + i, t) for i, t in enumerate(intended_times)]
            self.tally.add_generated(len(records))
            first_slice, seq = seq == 0, seq + len(records)
            if self.ledger is not None:
                # Before any of these records' outcomes is logged: a WAL line never
                # holds a seq at or past the ``generated`` it carries.
                self.ledger.generated(seq)
            keyed, rejected = keys.wrap_all(records)
            for reason, seqs in rejected.items():
                self.tally.add_rejected(seqs, reason)
            if first_slice and not keyed and keys.key_field:
                raise ValueError(f"partition key field {keys.key_field!r} is not in the "
                                 f"{self.opts.schema} records")
            for batch in split_batches(keyed, self.opts.batch_max_records, self.opts.batch_max_bytes):
                dispatcher.submit(batch)

    async def finish(self, error: BaseException | None) -> ProducerResult:
        """Stop the background jobs, then close the ledger and write (and publish) the summary."""
        await _stop_background(self.background_stop, self.tasks)  # if setting up failed halfway
        result = _result(self.opts, self.tally, self.schedule, self.run_id, self.started_at, self.stopped_at, error)
        result.shards = len(self.pacer.directory.map) if self.pacer is not None else 0
        if self.ledger is not None:
            self.ledger.close()
            self.ledger.write_summary(result)
            if self.publisher is not None and not await self.publisher.publish():
                log.warning("the ledger table %s lacks this producer's final ledger; audit from %s",
                            self.table.table, self.ledger.path)
        return result


async def _stop_background(stop: asyncio.Event, tasks: list[asyncio.Task]) -> None:
    stop.set()
    for task in tasks:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await task


async def _unless_stopped(waiting: Awaitable[float | None], stop: asyncio.Event) -> float | None:
    task, stopped = asyncio.ensure_future(waiting), asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
    return task.result() if task.done() and not task.cancelled() else None


def _result(opts: ProducerOptions, tally: OutcomeTally, schedule: OpenLoopSchedule, run_id: str,
            started_at: float, stopped_at: float | None, error: BaseException | None) -> ProducerResult:
    window_s = schedule.window_s(stopped_at)
    sending_s = max(window_s, (tally.last_sent_at or started_at) - started_at, 1e-9)
    return ProducerResult(
        **tally.outcome_counts(), producer_id=opts.producer_id,
        target_rate=schedule.target_rate(window_s), achieved_rate=tally.sent / sending_s,
        duration_s=max(time.time() - started_at, 1e-9), run_id=run_id, started_at=started_at,
        window_s=window_s, profile=schedule.profile.spec, sink=str(opts.sink_spec),
        error=_one_line(error) if error else None)


def _one_line(exc: BaseException) -> str:
    first_line = next(iter(str(exc).strip().splitlines()), "")
    if isinstance(exc, TargetError):  # already written for people
        return first_line
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
