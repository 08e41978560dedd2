"""Open-loop scheduling: rate accuracy, stop conditions, overlap, late counting.

Real clock, but each run is at most about a second."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from producer.schedule import BatchDispatcher, OpenLoopSchedule


@dataclass
class Item:
    produced_at: float


async def _collect(schedule: OpenLoopSchedule, stop: asyncio.Event | None = None):
    got = []  # (yielded at, intended times)
    async for times in schedule.slices(stop):
        got.append((time.time(), times))
    return got


def test_schedule_emits_exact_count_on_time_when_stopped_by_total():
    schedule = OpenLoopSchedule(2000, total=2000, slice_s=0.02)
    started = time.monotonic()
    got = asyncio.run(_collect(schedule))
    elapsed = time.monotonic() - started
    intended = [t for _, times in got for t in times]
    assert len(intended) == 2000
    # Never early (the last record is due at 0.9995 s); the upper bound only catches a
    # schedule that waits far past its end, with room for a loaded machine.
    assert 0.95 <= elapsed <= 5.0
    assert intended == pytest.approx([schedule.started_at + i / 2000 for i in range(2000)])
    # Nothing is handed over before its time.
    for yielded_at, times in got:
        assert times[-1] <= yielded_at + 1e-6
    assert len(got) <= 60  # grouped by 20 ms slices (fewer when the loop stalls), not one call per record


def test_schedule_stops_at_duration_when_total_larger():
    schedule = OpenLoopSchedule(100, total=10_000, duration_s=0.5, slice_s=0.02)
    got = asyncio.run(_collect(schedule))
    assert sum(len(t) for _, t in got) == 50


def test_schedule_ends_early_when_stop_event_set():
    async def scenario():
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.3, stop.set)
        started = time.monotonic()
        got = await _collect(OpenLoopSchedule(100, duration_s=10, slice_s=0.02), stop)
        return time.monotonic() - started, sum(len(t) for _, t in got)

    elapsed, count = asyncio.run(scenario())
    assert elapsed < 5.0  # not the 10 s the duration asked for
    assert 25 <= count < 500  # stopped near 0.3 s, far short of the 1000 records 10 s would hold


def test_schedule_keeps_rate_when_sends_are_slower_than_the_interval():
    # Each send takes 200 ms, far longer than the 20 ms slice: an open loop still
    # dispatches on time because calls overlap.
    async def scenario():
        dispatch_starts = []

        async def slow_send(batch):
            dispatch_starts.append(time.time())
            await asyncio.sleep(0.2)

        dispatcher = BatchDispatcher(slow_send, max_in_flight=64, late_tolerance_s=1.0,
                                     intended_time=lambda i: i.produced_at)
        schedule = OpenLoopSchedule(1000, total=500, slice_s=0.02)
        started = time.monotonic()
        async for times in schedule.slices():
            dispatcher.submit([Item(t) for t in times])
        scheduled_in = time.monotonic() - started
        await dispatcher.drain()
        return scheduled_in, dispatcher.late, dispatch_starts

    scheduled_in, late, starts = asyncio.run(scenario())
    # 25 sends of 200 ms each, run one after the other, would take 5 s.
    assert 0.45 <= scheduled_in < 3.0
    assert late == 0
    assert max(starts) - min(starts) < 3.0


def test_dispatcher_counts_late_records_when_all_slots_are_busy():
    async def scenario():
        async def slow_send(batch):
            await asyncio.sleep(0.1)

        dispatcher = BatchDispatcher(slow_send, max_in_flight=1, late_tolerance_s=0.05,
                                     intended_time=lambda i: i.produced_at)
        now = time.time()
        for k in range(5):  # five one-record batches all due now; one slot, 100 ms each
            dispatcher.submit([Item(now)])
        await dispatcher.drain()
        return dispatcher.late

    assert asyncio.run(scenario()) == 4


def test_dispatcher_reraises_first_failure_after_all_batches_finish():
    finished = []

    async def scenario():
        async def send(batch):
            await asyncio.sleep(0.01 * batch[0].produced_at)
            if batch[0].produced_at == 1:
                raise RuntimeError("boom")
            finished.append(batch[0].produced_at)

        failures = []
        dispatcher = BatchDispatcher(send, max_in_flight=4, intended_time=lambda i: 0.0,
                                     late_tolerance_s=1e9, on_failure=failures.append)
        for k in range(4):
            dispatcher.submit([Item(k)])
        with pytest.raises(RuntimeError, match="boom"):
            await dispatcher.drain()
        return failures

    failures = asyncio.run(scenario())
    assert [str(f) for f in failures] == ["boom"]
    assert sorted(finished) == [0, 2, 3]
