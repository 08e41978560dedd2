"""Faults on demand: make the local Kinesis misbehave the way the real one sometimes
does, so a producer's and a load test's recovery can be tested.

``FaultPlan`` says what to inject; ``FaultInjector`` (one per backend, ``backend.faults``)
applies it. Set a plan in ``KinesisSettings.faults``, from Python with
``backend.faults.apply(FaultPlan(...))`` / ``backend.faults.clear()``, or over HTTP on the
server's own loopback port (see ``admin.py``)::

    curl -X POST localhost:4567/_streamload/faults -d '{"internal_failure_fraction": 0.1}'

What each field does:

- ``internal_failure_fraction``: that share of PutRecords *records* fail with
  ``InternalFailure`` (others succeed, ``FailedRecordCount`` counts them); PutRecord and
  GetRecords calls fail whole with HTTP 500 ``InternalFailure`` at the same rate.
- ``added_latency_ms`` (+ uniform ``latency_jitter_ms``): every data-plane and
  control-plane request waits this long before it is handled.
- ``drop_connection_fraction``: that share of requests get their TCP connection closed
  with no response (clients see a connection reset / protocol error).
- ``throttle_capacity_fraction``: per-shard read and write limits shrink to this share of
  nominal (0.25 = a shard takes 250 records/s); switches limits on even if
  ``throughput_limits_enabled`` is off.
- ``pause_s``: for this long from when the plan is applied, every request is held (the
  server looks hung), then handled normally. ``clear()`` ends a pause at once.
- ``lose_record_fraction``: that share of put records are acknowledged (with a sequence
  number) but never stored -- a loss AWS does not cause, there to check that a run's audit
  finds and explains it (counted as ``lost_record``).
- ``drop_response_fraction``: that share of put calls are handled (their records stored) and
  then their connection closed with no answer, so the client retries records that already
  arrived -- how retries duplicate (``dropped_response``; ``unanswered_records`` counts the
  records stored without an answer).

The injector also counts, per server, what it did (``injected``: internal_failure,
dropped_connection, delayed_request, paused_request) and the data-plane calls and records
refused for exceeding a shard's rate (``throttled``: PutRecord, GetRecords). The counts are
cumulative since the server started (a plan change does not reset them) and come with
``instance_id``, which changes when the server restarts: a run that polls the admin
endpoint can therefore add counts up across restarts (see ``streamload/faults.py``).
"""
from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from . import metrics

__all__ = ["FaultPlan", "FaultInjector"]

_PAUSE_POLL_S = 0.05


class FaultPlan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    internal_failure_fraction: float = Field(0.0, ge=0, le=1)
    added_latency_ms: float = Field(0.0, ge=0, le=60_000)
    latency_jitter_ms: float = Field(0.0, ge=0, le=60_000)
    drop_connection_fraction: float = Field(0.0, ge=0, le=1)
    throttle_capacity_fraction: float = Field(1.0, gt=0, le=1)
    pause_s: float = Field(0.0, ge=0, le=3600)
    lose_record_fraction: float = Field(0.0, ge=0, le=1)
    drop_response_fraction: float = Field(0.0, ge=0, le=1)
    # Makes the random choices repeatable (tests); None = seeded from the OS.
    seed: int | None = None


class FaultInjector:
    """The plan in force, and the random draws it needs. Owned by one event loop, but
    ``apply``/``clear`` only swap attributes, so calling them from another thread is safe."""

    def __init__(self, plan: FaultPlan | None = None, monotonic=time.monotonic) -> None:
        self._monotonic = monotonic
        self.instance_id = uuid.uuid4().hex[:12]
        self.started_at = time.time()
        self.injected: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        # Read on every request: a plain bool keeps the no-fault path to one check.
        self.active = False
        # Bumped on every change so throughput limiters rescale their buckets lazily.
        self.version = 0
        self.apply(plan or FaultPlan())

    def apply(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._random = random.Random(plan.seed)
        self._paused_until = self._monotonic() + plan.pause_s if plan.pause_s > 0 else 0.0
        self.active = plan != FaultPlan(seed=plan.seed)
        self.version += 1

    def clear(self) -> None:
        self.apply(FaultPlan())

    @property
    def capacity_fraction(self) -> float:
        return self.plan.throttle_capacity_fraction

    def count_injected(self, kind: str) -> None:
        self.injected[kind] += 1
        metrics.injected_faults_total.labels(kind=kind).inc()

    def count_throttled(self, operation: str) -> None:
        self.throttled[operation] += 1
        metrics.throttled_requests_total.labels(operation=operation).inc()

    def _injects(self, fraction: float, kind: str) -> bool:
        """Draw whether a fault of ``kind``, planned for ``fraction`` of the draws, happens
        now; counted when it does. A fraction of 0 draws nothing, so the random sequence of
        a seeded plan does not depend on the faults it leaves off."""
        if fraction > 0 and self._random.random() < fraction:
            self.count_injected(kind)
            return True
        return False

    def record_fails(self) -> bool:
        """Draw whether this record (or call) fails; counted when it does."""
        return self._injects(self.plan.internal_failure_fraction, "internal_failure")

    def record_lost(self) -> bool:
        """Draw whether this put record is acknowledged but not stored; counted when it is."""
        return self._injects(self.plan.lose_record_fraction, "lost_record")

    def response_drops(self, stored_records: int) -> bool:
        """Draw whether a handled put call goes unanswered; counted (with its stored records) when it does."""
        if not self._injects(self.plan.drop_response_fraction, "dropped_response"):
            return False
        self.injected["unanswered_records"] += stored_records
        return True

    def connection_drops(self) -> bool:
        return self._injects(self.plan.drop_connection_fraction, "dropped_connection")

    def pause_remaining_s(self) -> float:
        return max(0.0, self._paused_until - self._monotonic())

    async def delay_request(self) -> None:
        """Hold a request while paused, then add the planned latency. Every wait is
        bounded: the pause by its own length, the latency by the plan's maximum."""
        if self.pause_remaining_s() > 0:
            self.count_injected("paused_request")
        while (remaining := self.pause_remaining_s()) > 0:
            await asyncio.sleep(min(remaining, _PAUSE_POLL_S))
        plan = self.plan
        delay_ms = plan.added_latency_ms
        if plan.latency_jitter_ms > 0:
            delay_ms += self._random.uniform(0, plan.latency_jitter_ms)
        if delay_ms > 0:
            self.count_injected("delayed_request")
            await asyncio.sleep(delay_ms / 1000)

    def describe(self) -> dict[str, Any]:
        body = self.plan.model_dump()
        body["active"] = self.active
        body["pause_remaining_s"] = round(self.pause_remaining_s(), 3)
        body["instance_id"] = self.instance_id
        body["started_at"] = self.started_at
        body["injected"] = dict(self.injected)
        body["throttled"] = dict(self.throttled)
        return body
