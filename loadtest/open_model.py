"""Open-model query load: arrivals at a target rate, on a schedule fixed in advance.

Locust's users are a closed model: a user waits for its query before sending the next, so
a slow warehouse lowers the load it receives and hides its own slowness (coordinated
omission). Here the k-th arrival of a class is due at ``anchor + offset + k / rate`` no
matter how earlier ones fared, and its latency counts from that intended start:

- an arrival that starts more than ``late_tolerance_s`` after its intended start is *late*
  (its wait is part of its latency);
- an arrival that finds every concurrency slot busy for longer than ``max_start_delay_s``
  is *dropped*: not run, counted, and reported (k6's ``dropped_iterations``).

Scale-out: with N Locust workers each worker takes ``rate / N`` and is shifted by
``(i - 1) / rate``, so the workers' arrivals interleave into the one schedule the rate
describes. The anchor (the run's start time, from the run plan) is shared, so every process
computes the same intended times. Results merge by adding counts and HdrHistograms.

Everything here is plain ``threading``; under Locust (gevent monkey-patching) the threads
are greenlets.
"""
from __future__ import annotations

import math
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from hdrh.histogram import HdrHistogram

from streamload.core.histograms import (
    HIGHEST_US,
    LOWEST_US,
    decode_histogram,
    encode_histogram,
    new_latency_histogram,
)

__all__ = ["DroppedStart", "ArrivalSchedule", "OpenStats", "OpenModelExecutor", "split_rates", "merge_open_json"]

PERCENTILES = (50, 95, 99)


class DroppedStart(Exception):
    """An arrival found no free concurrency slot within the bound; it was not run."""


@dataclass(frozen=True)
class ArrivalSchedule:
    """Intended start times ``anchor + offset_s + k / rate_per_s`` (epoch seconds)."""

    rate_per_s: float
    anchor: float
    offset_s: float = 0.0

    @classmethod
    def for_process(cls, total_rate: float, anchor: float, workers: int, index: int) -> "ArrivalSchedule":
        """This process's share: all of it standalone, ``1/workers`` on worker ``index`` (1..N)."""
        if workers <= 0:
            return cls(total_rate, anchor)
        return cls(total_rate / workers, anchor, (index - 1) / total_rate)

    def intended(self, k: int) -> float:
        return self.anchor + self.offset_s + k / self.rate_per_s

    def first_index_at_or_after(self, t: float) -> int:
        return max(0, math.ceil((t - self.anchor - self.offset_s) * self.rate_per_s - 1e-9))


@dataclass
class OpenStats:
    """One class's arrivals in one process; merged across processes by addition."""

    intended: int = 0
    on_time: int = 0
    late: int = 0
    dropped: int = 0
    failed: int = 0
    latency: HdrHistogram = field(default_factory=new_latency_histogram)  # intended start -> done, us
    start_delay: HdrHistogram = field(default_factory=new_latency_histogram)  # intended -> actual start, us

    @property
    def started(self) -> int:
        return self.on_time + self.late

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"intended": self.intended, "started": self.started, "on_time": self.on_time,
                               "late": self.late, "dropped": self.dropped, "failed": self.failed}
        for label, hist in (("latency", self.latency), ("start_delay", self.start_delay)):
            count = hist.get_total_count()
            for q in PERCENTILES:
                out[f"{label}_p{q}_ms"] = hist.get_value_at_percentile(q) / 1000.0 if count else None
            out[f"{label}_histogram"] = encode_histogram(hist)
        return out

    def add_json(self, data: dict[str, Any]) -> None:
        for key in ("intended", "on_time", "late", "dropped", "failed"):
            setattr(self, key, getattr(self, key) + int(data.get(key, 0)))
        for label, hist in (("latency", self.latency), ("start_delay", self.start_delay)):
            decoded = decode_histogram(data.get(f"{label}_histogram"))
            if decoded is not None:
                hist.add(decoded)


def merge_open_json(parts: Iterable[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per-class stats from several processes: counts summed, histograms added."""
    merged: dict[str, OpenStats] = {}
    for part in parts:
        for name, data in (part or {}).items():
            merged.setdefault(name, OpenStats()).add_json(data)
    return {name: stats.to_json() for name, stats in merged.items()}


def split_rates(rate: float | dict[str, float], names: list[str]) -> dict[str, float]:
    """Per-class rates from a total (split evenly) or a per-class table (others get none)."""
    if isinstance(rate, dict):
        unknown = sorted(set(rate) - set(names))
        if unknown:
            raise ValueError(f"query_rate_per_s names unknown classes {unknown}; known: {sorted(names)}")
        return {name: float(rate[name]) for name in names if rate.get(name)}
    return {name: float(rate) / len(names) for name in names} if names else {}


class OpenModelExecutor:
    """Runs ``run(slot)`` for each arrival of ``schedule`` on one of ``slots``.

    ``start(end_at)`` begins scheduling in the background; ``stop()`` ends it and waits
    (bounded) for arrivals already started. ``fire`` gets Locust-style request events;
    ``on_outcome("on_time" | "late" | "dropped")`` feeds Prometheus.
    """

    def __init__(
        self,
        name: str,
        schedule: ArrivalSchedule,
        slots: list[Any],
        run: Callable[[Any], None],
        max_start_delay_s: float = 1.0,
        late_tolerance_s: float = 0.01,
        fire: Callable[..., None] | None = None,
        on_outcome: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not slots:
            raise ValueError("an open-model executor needs at least one concurrency slot")
        self.name, self.schedule, self._run = name, schedule, run
        self.max_start_delay_s, self.late_tolerance_s = max_start_delay_s, late_tolerance_s
        self._fire = fire or (lambda **_: None)
        self._on_outcome = on_outcome or (lambda _outcome: None)
        self._clock = clock
        self._idle: queue.Queue = queue.Queue()
        for slot in slots:
            self._idle.put(slot)
        self.stats = OpenStats()
        self._lock = threading.Lock()
        self._active = 0
        self._idle_cond = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._scheduler: threading.Thread | None = None

    def start(self, end_at: float = math.inf) -> None:
        self._scheduler = threading.Thread(target=self.schedule_until, args=(end_at,),
                                           name=f"open-{self.name}", daemon=True)
        self._scheduler.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop scheduling; wait up to ``timeout_s`` for started arrivals to finish."""
        self._stop.set()
        if self._scheduler is not None:
            self._scheduler.join(timeout_s)
        deadline = time.monotonic() + timeout_s
        with self._idle_cond:
            while self._active and time.monotonic() < deadline:
                self._idle_cond.wait(max(0.0, min(0.5, deadline - time.monotonic())))

    def schedule_until(self, end_at: float) -> None:
        """The scheduler loop: one arrival per intended start until ``end_at`` or ``stop()``."""
        k = self.schedule.first_index_at_or_after(self._clock())
        while not self._stop.is_set():
            due = self.schedule.intended(k)
            if due >= end_at:
                return
            delay = due - self._clock()
            if delay > 0 and self._stop.wait(delay):
                return
            with self._lock:
                self.stats.intended += 1
                self._active += 1
            threading.Thread(target=self._arrival, args=(due,), daemon=True).start()
            k += 1

    def _arrival(self, due: float) -> None:
        try:
            wait = max(0.0, due + self.max_start_delay_s - self._clock())
            try:
                slot = self._idle.get(timeout=wait)
            except queue.Empty:
                self._dropped(due)
                return
            try:
                self._started_and_run(due, slot)
            finally:
                self._idle.put(slot)
        finally:
            with self._idle_cond:
                self._active -= 1
                self._idle_cond.notify_all()

    def _dropped(self, due: float) -> None:
        with self._lock:
            self.stats.dropped += 1
        self._on_outcome("dropped")
        self._fire(request_type="Open", name=f"dropped {self.name}", response_time=0, response_length=0,
                   exception=DroppedStart(f"{self.name}: no free slot within {self.max_start_delay_s:g}s "
                                          f"of the intended start"), context={})

    def _started_and_run(self, due: float, slot: Any) -> None:
        started = self._clock()
        late = started - due > self.late_tolerance_s
        with self._lock:
            if late:
                self.stats.late += 1
            else:
                self.stats.on_time += 1
            self.stats.start_delay.record_value(min(max(round((started - due) * 1e6), LOWEST_US), HIGHEST_US))
        self._on_outcome("late" if late else "on_time")
        error: Exception | None = None
        try:
            self._run(slot)
        except Exception as exc:  # reported as this arrival's failure; the schedule goes on
            error = exc
        latency_us = min(max(round((self._clock() - due) * 1e6), LOWEST_US), HIGHEST_US)
        with self._lock:
            self.stats.failed += error is not None
            self.stats.latency.record_value(latency_us)
        self._fire(request_type="Open", name=f"intended {self.name}", response_time=latency_us / 1000.0,
                   response_length=0, exception=error, context={})
