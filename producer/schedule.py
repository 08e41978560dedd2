"""Open-loop scheduling: records are due at intended times fixed in advance, whatever the
target does.

Record ``i`` is due at ``start + profile.time_of(i)`` (``producer.profiles``; a constant
rate gives ``start + i / rate``). ``OpenLoopSchedule`` wakes every ``slice_s`` and hands
over every record whose time has come, so a batch holds one time slice. With
``share=(k, n)`` a schedule takes every n-th record of the profile starting at k: n
processes with shares 0..n-1 together send exactly the profile.

``BatchDispatcher`` runs each batch's send as its own task, so a slow PutRecords call
never delays the schedule. ``SendSlots`` bounds how many calls are *on the wire* at once:
a batch holds a slot only while it calls the target, never while it backs off before a
retry or waits for a shard's quota -- otherwise a throttled target would also starve
healthy batches of slots and show up as late sends. A record whose first call starts
later than its intended time plus ``late_tolerance_s`` is counted late (the target or the
limiter falling behind, made visible).
"""
from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from producer import metrics
from producer.profiles import RateProfile, constant

__all__ = ["OpenLoopSchedule", "BatchDispatcher", "SendSlots"]

T = TypeVar("T")


async def _wait_or_stop(stop: asyncio.Event, delay: float) -> None:
    if delay <= 0:
        await asyncio.sleep(0)
        return
    try:
        await asyncio.wait_for(stop.wait(), timeout=delay)
    except asyncio.TimeoutError:
        pass


class OpenLoopSchedule:
    """Records at the times a rate profile (or a constant rate) sets, ending after
    ``total`` records or ``duration_s`` seconds, whichever comes first (neither: until
    stopped or until the profile sends no more)."""

    def __init__(self, rate: float | RateProfile, *, total: int | None = None,
                 duration_s: float | None = None, slice_s: float = 0.025,
                 clock: Callable[[], float] = time.time, share: tuple[int, int] = (0, 1)) -> None:
        self.profile = rate if isinstance(rate, RateProfile) else constant(rate)
        if not slice_s > 0:
            raise ValueError(f"slice_s must be > 0, got {slice_s!r}")
        index, count = share
        if not 0 <= index < count:
            raise ValueError(f"share must be (k, n) with 0 <= k < n, got {share!r}")
        self.slice_s = slice_s
        self.clock = clock
        self.share = share
        self.duration_s = duration_s
        # Records of the whole profile (all shares) below ``total``; this share's are those
        # with global index = k + n * local index.
        self.limit: int | float = math.inf if total is None else max(0, math.ceil((int(total) - index) / count))
        self.started_at: float | None = None
        self.emitted = 0

    def offset_of(self, local_index: int) -> float:
        """Seconds after the start when this schedule's record ``local_index`` is due
        (``inf`` past the end)."""
        if local_index >= self.limit:
            return math.inf
        index, count = self.share
        offset = self.profile.time_of(index + count * local_index)
        if self.duration_s is not None and offset >= self.duration_s:
            return math.inf
        return offset

    def intended_time(self, local_index: int) -> float:
        assert self.started_at is not None, "schedule not started"
        return self.started_at + self.offset_of(local_index)

    def window_s(self, stopped_at: float | None = None) -> float:
        """The span the schedule covered: up to the duration, the time the record after the
        last would have been due (stopped by ``total``), or ``stopped_at``; for rates."""
        if self.started_at is None:
            return 0.0
        candidates = [] if self.duration_s is None else [self.duration_s]
        if self.emitted >= self.limit and self.limit > 0:
            index, count = self.share
            candidates.append(self.profile.time_of(index + count * int(self.limit)))
        if stopped_at is not None:
            candidates.append(stopped_at - self.started_at)
        finite = [c for c in candidates if math.isfinite(c)]
        return max(min(finite), 0.0) if finite else max(0.0, self.clock() - self.started_at)

    def target_rate(self, window_s: float) -> float:
        """Mean records/s this schedule aimed at over its first ``window_s`` seconds."""
        if window_s <= 0:
            return self.profile.rate_at(0.0) / self.share[1]
        return self.profile.count_by(window_s) / window_s / self.share[1]

    async def slices(self, stop: asyncio.Event | None = None,
                     start_at: float | None = None) -> AsyncIterator[list[float]]:
        """Yield, once per time slice, the intended times of the records now due.
        ``start_at``: the schedule's time zero (default now; processes share one)."""
        stop = stop or asyncio.Event()
        self.started_at = start = self.clock() if start_at is None else start_at
        next_offset = self.offset_of(0)
        next_wake = start
        while math.isfinite(next_offset) and not stop.is_set():
            elapsed = self.clock() - start
            due: list[float] = []
            while next_offset <= elapsed:
                due.append(start + next_offset)
                self.emitted += 1
                next_offset = self.offset_of(self.emitted)
            if due:
                yield due
                if not math.isfinite(next_offset):
                    break
            metrics.TARGET_RATE.set(self.profile.rate_at(elapsed) / self.share[1])
            # Wake on the slice grid, or later when the next record is further away
            # (low rates) -- never spin.
            next_wake = max(next_wake + self.slice_s, start + next_offset)
            await _wait_or_stop(stop, next_wake - self.clock())


class SendSlots:
    """At most ``max_in_flight`` calls on the wire; counts late first attempts."""

    def __init__(self, max_in_flight: int, *, late_tolerance_s: float = 0.1,
                 on_late: Callable[[int], None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight!r}")
        self._slots = asyncio.Semaphore(max_in_flight)
        self._late_tolerance_s = late_tolerance_s
        self._on_late = on_late
        self._clock = clock
        self.late = 0
        self.in_flight = 0

    @contextlib.asynccontextmanager
    async def call(self, first_attempt_times: Sequence[float] = ()):
        """Hold a slot for one call. ``first_attempt_times``: intended times of the records
        this call sends for the first time (they are checked for lateness)."""
        async with self._slots:
            started = self._clock()
            late = sum(1 for t in first_attempt_times if started > t + self._late_tolerance_s)
            if late:
                self.late += late
                metrics.LATE_SENDS.inc(late)
                if self._on_late:
                    self._on_late(late)
            self.in_flight += 1
            metrics.IN_FLIGHT_BATCHES.inc()
            try:
                yield
            finally:
                self.in_flight -= 1
                metrics.IN_FLIGHT_BATCHES.dec()


class BatchDispatcher(Generic[T]):
    """Runs ``send(batch)`` for each submitted batch as its own task.

    The first exception a send raises is kept, ``on_failure`` is told (so the caller can
    stop the schedule), and ``drain()`` re-raises it once every batch has finished.
    """

    def __init__(self, send: Callable[[list[T]], Awaitable[None]], *,
                 on_failure: Callable[[BaseException], None] | None = None) -> None:
        self._send = send
        self._on_failure = on_failure
        self._tasks: set[asyncio.Task] = set()
        self.failure: BaseException | None = None

    def submit(self, batch: list[T]) -> None:
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def _run(self, batch: list[T]) -> None:
        try:
            await self._send(batch)
        except Exception as exc:  # noqa: BLE001 -- kept and re-raised by drain()
            if self.failure is None:
                self.failure = exc
                if self._on_failure:
                    self._on_failure(exc)

    async def drain(self) -> None:
        """Wait for every submitted batch; re-raise the first failure."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self.failure is not None:
            raise self.failure
