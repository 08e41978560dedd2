"""Open-loop scheduling: rate accuracy, stop conditions, overlap, late counting.

Real clock, but each run is at most about a second."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from producer.profiles import parse_profile
from producer.schedule import BatchDispatcher, OpenLoopSchedule, SendSlots


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


def test_schedule_keeps_dispatching_when_sends_are_slower_than_the_interval():
    # Each send takes 200 ms, far longer than the 20 ms slice: an open loop still
    # dispatches on schedule because calls overlap instead of queueing behind each other.
    async def scenario():
        running, most_running = 0, 0
        slots = SendSlots(64)

        async def slow_send(batch):
            nonlocal running, most_running
            async with slots.call([i.produced_at for i in batch]):
                running += 1
                most_running = max(most_running, running)
                await asyncio.sleep(0.2)
                running -= 1

        dispatcher = BatchDispatcher(slow_send)
        dispatched = 0
        async for times in OpenLoopSchedule(1000, total=500, slice_s=0.02).slices():
            dispatcher.submit([Item(t) for t in times])
            dispatched += len(times)
        unfinished_when_schedule_ended = running + dispatcher.pending
        await dispatcher.drain()
        return dispatched, most_running, unfinished_when_schedule_ended

    dispatched, most_running, unfinished = asyncio.run(scenario())
    assert dispatched == 500
    assert most_running >= 2  # sends overlapped
    assert unfinished >= 2  # the schedule did not wait for sends to finish


def test_slots_count_late_records_when_all_slots_are_busy():
    now = [0.0]  # a clock the sends advance: 100 ms each, no real waiting

    async def scenario():
        slots = SendSlots(1, late_tolerance_s=0.05, clock=lambda: now[0])

        async def slow_send(batch):
            async with slots.call([i.produced_at for i in batch]):
                await asyncio.sleep(0)  # the others queue for the slot meanwhile
                now[0] += 0.1

        dispatcher = BatchDispatcher(slow_send)
        for k in range(5):  # five one-record batches all due at 0; one slot
            dispatcher.submit([Item(0.0)])
        await dispatcher.drain()
        return slots.late

    assert asyncio.run(scenario()) == 4


def test_slots_free_while_a_batch_backs_off_when_another_batch_is_due():
    # Batch A fails, then sleeps 0.5 s before retrying -- outside the only slot, so batch
    # B (due now) goes on time instead of waiting behind A's backoff.
    async def scenario():
        slots = SendSlots(1, late_tolerance_s=0.2)
        order = []

        async def send_a(batch):
            async with slots.call([i.produced_at for i in batch]):
                order.append("a-1")
            await asyncio.sleep(0.5)  # backoff: no slot held
            async with slots.call():
                order.append("a-2")

        async def send_b(batch):
            async with slots.call([i.produced_at for i in batch]):
                order.append("b")

        now = time.time()
        a = asyncio.create_task(send_a([Item(now)]))
        await asyncio.sleep(0.05)
        await send_b([Item(time.time())])
        await a
        return order, slots.late

    order, late = asyncio.run(scenario())
    assert order == ["a-1", "b", "a-2"]  # b did not wait out a's 0.5 s backoff


def test_schedule_follows_profile_times_when_given_a_ramp():
    profile = parse_profile("ramp:0:2000:0.5s")
    schedule = OpenLoopSchedule(profile, duration_s=0.6, slice_s=0.02)
    got = asyncio.run(_collect(schedule))
    intended = [t for _, times in got for t in times]
    # 0.5 s ramp to 2000/s holds 500 records, then 0.1 s at 2000/s holds 200 more.
    assert len(intended) == 700
    assert intended == pytest.approx([schedule.started_at + profile.time_of(i) for i in range(700)])


def test_shares_of_a_schedule_partition_the_profile_when_split_over_processes():
    profile = parse_profile("sine:1000:500:2s")
    whole = [profile.time_of(i) for i in range(3001)]
    parts = [OpenLoopSchedule(profile, total=3001, share=(k, 3)) for k in range(3)]
    offsets = sorted(p.offset_of(j) for p in parts for j in range(1001) if j < p.limit)
    assert [p.limit for p in parts] == [1001, 1000, 1000]
    assert offsets == pytest.approx(whole, abs=1e-9)


def test_dispatcher_reraises_first_failure_after_all_batches_finish():
    finished = []

    async def scenario():
        async def send(batch):
            await asyncio.sleep(0.01 * batch[0].produced_at)
            if batch[0].produced_at == 1:
                raise RuntimeError("boom")
            finished.append(batch[0].produced_at)

        failures = []
        dispatcher = BatchDispatcher(send, on_failure=failures.append)
        for k in range(4):
            dispatcher.submit([Item(k)])
        with pytest.raises(RuntimeError, match="boom"):
            await dispatcher.drain()
        return failures

    failures = asyncio.run(scenario())
    assert [str(f) for f in failures] == ["boom"]
    assert sorted(finished) == [0, 2, 3]
