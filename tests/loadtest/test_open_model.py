"""Open-model arrivals: schedule fixed in advance, late and dropped starts, latency from the
intended start, and merging across worker processes."""
import threading
import time

import pytest

from loadtest.open_model import (
    ArrivalSchedule,
    DroppedStart,
    OpenModelExecutor,
    OpenStats,
    merge_open_json,
    split_rates,
)


class SlowDataApi:
    """A query that holds its slot for ``service_s`` (a warehouse slower than the rate)."""

    def __init__(self, service_s: float) -> None:
        self.service_s = service_s
        self.lock = threading.Lock()
        self.starts: list[float] = []
        self.service: list[float] = []

    def __call__(self, slot) -> None:
        began = time.time()
        time.sleep(self.service_s)
        with self.lock:
            self.starts.append(began)
            self.service.append(time.time() - began)


def _run(executor: OpenModelExecutor, seconds: float) -> None:
    executor.schedule_until(time.time() + seconds)  # the scheduler loop, in this thread
    executor.stop(timeout_s=10)


def test_schedule_of_workers_interleaves_into_the_total_schedule_when_rate_is_split():
    total = ArrivalSchedule.for_process(30.0, anchor=100.0, workers=0, index=0)
    parts = [ArrivalSchedule.for_process(30.0, anchor=100.0, workers=3, index=i) for i in (1, 2, 3)]
    combined = sorted(round(p.intended(k), 9) for p in parts for k in range(10))
    assert combined == [round(total.intended(k), 9) for k in range(30)]
    assert all(p.rate_per_s == 10.0 for p in parts)


def test_schedule_starts_at_the_next_intended_time_when_a_process_joins_late():
    schedule = ArrivalSchedule(rate_per_s=4.0, anchor=100.0)
    k = schedule.first_index_at_or_after(101.1)
    assert schedule.intended(k) == 101.25 and schedule.intended(k - 1) < 101.1


def test_split_rates_divides_a_total_or_takes_a_table_and_rejects_unknown_classes():
    assert split_rates(6.0, ["query", "persona-frank"]) == {"query": 3.0, "persona-frank": 3.0}
    assert split_rates({"query": 2.0}, ["query", "persona-frank"]) == {"query": 2.0}
    with pytest.raises(ValueError, match="persona-nobody"):
        split_rates({"persona-nobody": 1.0}, ["query"])


def test_counts_dropped_starts_when_every_slot_stays_busy_beyond_the_bound():
    api = SlowDataApi(service_s=0.25)
    fired = []
    outcomes = []
    executor = OpenModelExecutor("query", ArrivalSchedule(50.0, anchor=time.time()), slots=["s1"], run=api,
                                 max_start_delay_s=0.05, late_tolerance_s=0.01,
                                 fire=lambda **kw: fired.append(kw), on_outcome=outcomes.append)
    _run(executor, 0.4)
    stats = executor.stats

    assert stats.dropped >= 1
    assert stats.started == len(api.starts) >= 1
    assert stats.intended == stats.started + stats.dropped  # every arrival is accounted for
    assert outcomes.count("dropped") == stats.dropped
    dropped_events = [e for e in fired if e["name"] == "dropped query"]
    assert len(dropped_events) == stats.dropped
    assert all(isinstance(e["exception"], DroppedStart) for e in dropped_events)


def test_latency_counts_from_intended_start_when_arrivals_queue_for_a_slot():
    # One slot, arrivals every 20 ms, each query 30 ms: they queue, nothing is dropped.
    api = SlowDataApi(service_s=0.03)
    fired = []
    executor = OpenModelExecutor("query", ArrivalSchedule(50.0, anchor=time.time()), slots=["s1"], run=api,
                                 max_start_delay_s=30.0, late_tolerance_s=0.005, fire=lambda **kw: fired.append(kw))
    _run(executor, 0.3)
    stats = executor.stats

    assert stats.dropped == 0
    assert stats.late >= 1
    assert stats.intended == stats.started == stats.latency.get_total_count()
    # A queued arrival's latency includes its wait: the slowest reported latency is longer
    # than the slowest query itself (a closed model would report only the latter).
    latencies_ms = [e["response_time"] for e in fired if e["name"] == "intended query"]
    assert max(latencies_ms) > max(api.service) * 1000
    assert stats.latency.get_max_value() >= stats.start_delay.get_max_value()


def test_runs_every_arrival_on_time_when_slots_are_plentiful():
    api = SlowDataApi(service_s=0.0)
    executor = OpenModelExecutor("query", ArrivalSchedule(40.0, anchor=time.time()), slots=list(range(8)), run=api,
                                 max_start_delay_s=5.0, late_tolerance_s=5.0)
    _run(executor, 0.25)
    assert executor.stats.dropped == 0 and executor.stats.late == 0
    assert executor.stats.on_time == executor.stats.intended >= 8


def test_counts_failed_arrivals_and_keeps_the_schedule_when_a_query_raises():
    def broken(slot):
        raise RuntimeError("connection refused")

    fired = []
    executor = OpenModelExecutor("query", ArrivalSchedule(40.0, anchor=time.time()), slots=[1, 2], run=broken,
                                 max_start_delay_s=5.0, fire=lambda **kw: fired.append(kw))
    _run(executor, 0.2)
    assert executor.stats.failed == executor.stats.started >= 4
    assert all(str(e["exception"]) == "connection refused" for e in fired if e["name"] == "intended query")


def test_merge_adds_counts_and_histograms_when_workers_report():
    a, b, whole = OpenStats(), OpenStats(), OpenStats()
    for i, stats in enumerate((a, b)):
        stats.intended, stats.on_time, stats.late, stats.dropped = 10 + i, 7, 2 + i, 1
        for us in range(1000 * (i + 1), 1000 * (i + 1) + 9):
            stats.latency.record_value(us)
            whole.latency.record_value(us)
    merged = merge_open_json([{"query": a.to_json()}, {"query": b.to_json()}])["query"]
    assert (merged["intended"], merged["on_time"], merged["late"], merged["dropped"]) == (21, 14, 5, 2)
    assert merged["started"] == 19
    assert merged["latency_p99_ms"] == whole.to_json()["latency_p99_ms"]
