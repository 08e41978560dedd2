"""``ProducerResult``: the producer's side of its summary (``streamload.core.producer_summary``):
the one-line summary it prints, and what ``--processes`` adds up."""
from __future__ import annotations

from collections import Counter

from streamload.core.producer_summary import ProducerSummary

__all__ = ["ProducerResult"]


class ProducerResult(ProducerSummary):
    """What one producer (or N merged) did: the summary file's model, ``sent + expired +
    rejected == generated``."""

    def one_line(self) -> str:
        who = f"producer {self.producer_id}" + (f" ({self.processes} processes)" if self.processes > 1 else "")
        ratio = self.achieved_rate / self.target_rate if self.target_rate else 0.0
        text = (f"{who}: generated={self.generated} sent={self.sent} expired={self.expired} "
                f"rejected={self.rejected} late={self.late} throttled={self.throttled} "
                f"rate={self.achieved_rate:.1f}/{self.target_rate:.1f} records/s ({ratio:.1%} of target) "
                f"in {self.duration_s:.1f}s")
        if self.rejected_reasons:
            text += " rejected_by=" + ",".join(f"{k}:{v}" for k, v in sorted(self.rejected_reasons.items()))
        return text + (f" error: {self.error}" if self.error else "")

    @classmethod
    def merge(cls, producer_id: str, results: list[ProducerSummary]) -> "ProducerResult":
        """The totals of processes that ran side by side: counts and rates add up."""
        reasons: Counter = Counter()
        for r in results:
            reasons.update(r.rejected_reasons)
        errors = sorted({r.error for r in results if r.error})

        def total(name: str):
            return sum(getattr(r, name) for r in results)

        return cls(
            producer_id=producer_id, generated=total("generated"), sent=total("sent"),
            expired=total("expired"), rejected=total("rejected"), late=total("late"),
            target_rate=total("target_rate"), achieved_rate=total("achieved_rate"),
            duration_s=max((r.duration_s for r in results), default=0.0),
            done=all(r.done for r in results), retried=total("retried"), throttled=total("throttled"),
            shard_limited=total("shard_limited"), shards=max((r.shards for r in results), default=0),
            rejected_reasons=dict(reasons),
            run_id=results[0].run_id if results else "",
            started_at=min((r.started_at for r in results), default=0.0),
            window_s=max((r.window_s for r in results), default=0.0),
            profile=results[0].profile if results else "", sink=results[0].sink if results else "",
            processes=len(results), error="; ".join(errors) or None,
        )
