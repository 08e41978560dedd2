"""``OutcomeTally``: what became of every generated record, as it happens.

Every generated record ends in exactly one of ``sent``, ``expired`` or ``rejected`` (with
a reason), so once every batch is done ``generated == sent + expired + rejected``. The
other counts (late, retried, throttled, shard-limited) describe how records got there.
Outcomes, bytes, retries and throttles are mirrored into ``producer.metrics``.
"""
from __future__ import annotations

import time

from pydantic import ConfigDict, Field

from producer import metrics
from streamload.core.ledger import LedgerWriter
from streamload.core.producer_summary import OutcomeCounts

__all__ = ["OutcomeTally"]


class OutcomeTally(OutcomeCounts):
    """Running totals (the counts are ``OutcomeCounts``'), mirrored into the metrics and the
    ledger as they change."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    sent_bytes: int = 0
    last_sent_at: float | None = None  # wall-clock time of the latest acknowledgement
    # Where expired and rejected seqs are recorded as ranges (acknowledged ones are written by
    # the sender, with their shard and sequence number).
    ledger: LedgerWriter | None = Field(default=None, repr=False, exclude=True)

    def add_generated(self, count: int) -> None:
        self.generated += count

    def add_sent(self, count: int, data_bytes: int) -> None:
        self.sent += count
        self.sent_bytes += data_bytes
        self.last_sent_at = time.time()
        metrics.RECORDS.labels("sent").inc(count)
        metrics.BYTES.inc(data_bytes)

    def add_expired(self, seqs: list[int]) -> None:
        """Records (by ``seq``) that ran out of time before Kinesis acknowledged them."""
        if seqs:
            self.expired += len(seqs)
            metrics.RECORDS.labels("expired").inc(len(seqs))
            if self.ledger is not None:
                self.ledger.expired(seqs)

    def add_rejected(self, seqs: list[int], reason: str) -> None:
        """Records (by ``seq``) that will never be sent, and why."""
        if seqs:
            self.rejected += len(seqs)
            self.rejected_reasons[reason] = self.rejected_reasons.get(reason, 0) + len(seqs)
            metrics.RECORDS.labels("rejected").inc(len(seqs))
            if self.ledger is not None:
                self.ledger.rejected(seqs, reason)

    def add_late(self, count: int) -> None:
        self.late += count
        self._over_time("late", count)

    def add_retried(self, count: int) -> None:
        self.retried += count
        metrics.RETRIES.inc(count)
        self._over_time("retried", count)

    def add_throttled(self, count: int) -> None:
        self.throttled += count
        metrics.THROTTLED.inc(count)
        self._over_time("throttled", count)

    def _over_time(self, kind: str, count: int) -> None:
        if self.ledger is not None:
            self.ledger.count(kind, count)

    def add_shard_limited(self, count: int) -> None:
        if count:
            self.shard_limited += count

    @property
    def finished(self) -> int:
        return self.sent + self.expired + self.rejected

    @property
    def pending(self) -> int:
        return self.generated - self.finished
