"""``ProducerResult``: the producer's side of its summary (``streamload.core.producer_summary``):
the one-line summary it prints, and what ``--processes`` adds up."""
from __future__ import annotations

from streamload.core.producer_summary import OutcomeCounts, ProducerSummary

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
        errors = sorted({r.error for r in results if r.error})
        first = results[0] if results else ProducerSummary()
        return cls(
            **OutcomeCounts.summed(results), producer_id=producer_id,
            target_rate=sum(r.target_rate for r in results), achieved_rate=sum(r.achieved_rate for r in results),
            duration_s=max((r.duration_s for r in results), default=0.0),
            done=all(r.done for r in results), shards=max((r.shards for r in results), default=0),
            run_id=first.run_id, started_at=min((r.started_at for r in results), default=0.0),
            window_s=max((r.window_s for r in results), default=0.0),
            profile=first.profile, sink=first.sink, processes=len(results), error="; ".join(errors) or None,
        )
