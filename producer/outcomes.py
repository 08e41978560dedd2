"""``OutcomeTally``: what became of every generated record, as it happens.

Every generated record ends in exactly one of ``sent``, ``expired`` or ``rejected`` (with
a reason), so once every batch is done ``generated == sent + expired + rejected``. The
other counts (late, retried, throttled, shard-limited) describe how records got there.
Outcomes, bytes, retries and throttles are mirrored into ``producer.metrics``.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from producer import metrics
from streamload.core.ledger import LedgerWriter

__all__ = ["OutcomeTally"]


@dataclass
class OutcomeTally:
    """Running totals; ``generated == sent + expired + rejected`` once every batch is done."""

    generated: int = 0
    sent: int = 0
    expired: int = 0
    rejected: int = 0
    late: int = 0
    retried: int = 0
    throttled: int = 0
    shard_limited: int = 0
    sent_bytes: int = 0
    last_sent_at: float | None = None  # wall-clock time of the latest acknowledgement
    rejected_reasons: Counter = field(default_factory=Counter)
    # Where expired and rejected seqs are recorded as ranges (acknowledged ones are written by
    # the sender, with their shard and sequence number).
    ledger: LedgerWriter | None = field(default=None, repr=False)

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
            self.rejected_reasons[reason] += len(seqs)
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
