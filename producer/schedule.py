"""Open-loop scheduling: records are due at intended times fixed in advance, whatever the
target does.

Record ``i`` is due at ``start + i / rate``. ``OpenLoopSchedule`` wakes every ``slice_s``
and hands over every record whose time has come, so a batch holds one time slice.
``BatchDispatcher`` starts each batch's send as its own task under a bounded number of
slots: a slow PutRecords call occupies one slot and never delays the schedule. When all
slots are busy, batches wait; a record whose send starts later than its intended time plus
``late_tolerance_s`` is counted late (that is the target falling behind, made visible,
instead of silently sending "as fast as the last call returned").
"""
from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

from producer import metrics

__all__ = ["OpenLoopSchedule", "BatchDispatcher"]

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
    """Constant ``rate`` records/s, ending after ``total`` records or ``duration_s`` seconds,
    whichever comes first (neither: until stopped)."""

    def __init__(self, rate: float, *, total: int | None = None, duration_s: float | None = None,
                 slice_s: float = 0.025, clock: Callable[[], float] = time.time) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be > 0 records/s, got {rate!r}")
        if not slice_s > 0:
            raise ValueError(f"slice_s must be > 0, got {slice_s!r}")
        self.rate = float(rate)
        self.slice_s = slice_s
        self.clock = clock
        limits = []
        if total is not None:
            limits.append(int(total))
        if duration_s is not None:
            # Records whose intended time falls inside [start, start + duration).
            limits.append(max(0, math.ceil(duration_s * self.rate - 1e-9)))
        self.limit: int | float = min(limits) if limits else math.inf
        self.started_at: float | None = None
        self.emitted = 0

    def intended_time(self, index: int) -> float:
        assert self.started_at is not None, "schedule not started"
        return self.started_at + index / self.rate

    async def slices(self, stop: asyncio.Event | None = None) -> AsyncIterator[list[float]]:
        """Yield, once per time slice, the intended times of the records now due."""
        stop = stop or asyncio.Event()
        self.started_at = start = self.clock()
        next_wake = start
        while self.emitted < self.limit and not stop.is_set():
            now = self.clock()
            due = min(self.limit, math.floor((now - start) * self.rate) + 1)
            if due > self.emitted:
                first, self.emitted = self.emitted, int(due)
                yield [start + i / self.rate for i in range(first, self.emitted)]
                if self.emitted >= self.limit:
                    break
            # Wake on the slice grid, or later when the next record is further away
            # (low rates) -- never spin.
            next_wake = max(next_wake + self.slice_s, start + self.emitted / self.rate)
            await _wait_or_stop(stop, next_wake - self.clock())


class BatchDispatcher(Generic[T]):
    """Runs ``send(batch)`` for each submitted batch, at most ``max_in_flight`` at once.

    The first exception a send raises is kept, ``on_failure`` is told (so the caller can
    stop the schedule), and ``drain()`` re-raises it once every batch has finished.
    """

    def __init__(self, send: Callable[[list[T]], Awaitable[None]], *, max_in_flight: int,
                 intended_time: Callable[[T], float], late_tolerance_s: float = 0.1,
                 on_late: Callable[[int], None] | None = None,
                 on_failure: Callable[[BaseException], None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight!r}")
        self._send = send
        self._slots = asyncio.Semaphore(max_in_flight)
        self._intended_time = intended_time
        self._late_tolerance_s = late_tolerance_s
        self._on_late = on_late
        self._on_failure = on_failure
        self._clock = clock
        self._tasks: set[asyncio.Task] = set()
        self.failure: BaseException | None = None
        self.late = 0

    def submit(self, batch: list[T]) -> None:
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def _run(self, batch: list[T]) -> None:
        async with self._slots:
            started = self._clock()
            late = sum(1 for item in batch if started > self._intended_time(item) + self._late_tolerance_s)
            if late:
                self.late += late
                metrics.LATE_SENDS.inc(late)
                if self._on_late:
                    self._on_late(late)
            metrics.IN_FLIGHT_BATCHES.inc()
            try:
                await self._send(batch)
            except Exception as exc:  # noqa: BLE001 -- kept and re-raised by drain()
                if self.failure is None:
                    self.failure = exc
                    if self._on_failure:
                        self._on_failure(exc)
            finally:
                metrics.IN_FLIGHT_BATCHES.dec()

    async def drain(self) -> None:
        """Wait for every submitted batch; re-raise the first failure."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self.failure is not None:
            raise self.failure
