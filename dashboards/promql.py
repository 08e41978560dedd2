"""The PromQL every dashboard and rule uses, in one place.

The run selector. The run id is exported only on ``streamload_run_info`` (one series per
process, value 1), so a query narrows to a run by joining on the scrape target:
``<expr> * on(job, instance) group_left(run_id) streamload_run_info{run_id=~"$run_id"}``.
Every process that exports metrics must therefore also export ``streamload_run_info``.

Recording rules do that join once and aggregate *by run*: their series carry a ``run_id``
label (one series per run, not per record), histograms merge across processes by summing
bucket rates before ``histogram_quantile`` (never by averaging percentiles), and the
dashboards' percentile panels read those recorded series filtered by ``run_id``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from streamload.core.run_info import RUN_INFO_NAME

__all__ = [
    "RUN_INFO",
    "RUN_VAR",
    "RATE_WINDOW",
    "QUANTILES",
    "E2E_P99_SLO_SECONDS",
    "THROTTLED_FRACTION_LIMIT",
    "RecordingRule",
    "AlertRule",
    "for_run",
    "by_run",
    "bucket_rate",
    "quantile",
    "recording_rules",
    "alert_rules",
]

RUN_INFO = RUN_INFO_NAME
RUN_VAR = "$run_id"
# Grafana picks a rate window that always spans several scrapes.
RATE_WINDOW = "$__rate_interval"
# Rules use a fixed window: long enough for 15 s production scrapes, short enough that a
# one-minute demo shows something.
RULE_WINDOW = "1m"
QUANTILES = ("0.5", "0.9", "0.99")
E2E_P99_SLO_SECONDS = 30.0
THROTTLED_FRACTION_LIMIT = 0.05

_JOIN = "on(job, instance) group_left(run_id)"

# Histograms with percentiles: name -> labels kept apart (besides run_id and le).
HISTOGRAMS: dict[str, tuple[str, ...]] = {
    "streamload_e2e_latency_seconds": (),
    "streamload_producer_put_seconds": (),
    "streamload_refresh_seconds": (),
    "streamload_query_seconds": ("persona",),
    "streamload_dataapi_phase_seconds": ("phase",),
    "streamload_e2e_stage_seconds": ("stage",),
}


def for_run(expr: str, run: str = RUN_VAR) -> str:
    """``expr`` restricted to the processes of the selected run(s), with a run_id label."""
    return f'({expr}) * {_JOIN} {RUN_INFO}{{run_id=~"{run}"}}'


def by_run(expr: str) -> str:
    """``expr`` with a run_id label from its process's run info (all runs)."""
    return f"({expr}) * {_JOIN} {RUN_INFO}"


def bucket_rate(histogram: str) -> str:
    """Name of the recorded per-run bucket rate of ``histogram``."""
    return f"run:{histogram}_bucket:rate{RULE_WINDOW}"


def quantile(histogram: str) -> str:
    """Name of the recorded per-run quantiles (label ``quantile``) of ``histogram``."""
    return f"run:{histogram}:quantile{RULE_WINDOW}"


THROTTLED_FRACTION = f"run:streamload_producer_throttled:ratio_rate{RULE_WINDOW}"


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str
    labels: dict[str, str] = field(default_factory=dict)

    def to_yaml(self) -> dict:
        out: dict = {"record": self.record, "expr": self.expr}
        if self.labels:
            out["labels"] = dict(self.labels)
        return out


@dataclass(frozen=True)
class AlertRule:
    """An alert as ``<signal> <comparison>``: the signal alone must always return data.

    Keeping the signal apart lets a test check that the alert watches live series (an
    alert over a misspelt metric is silently never firing).
    """

    name: str
    signal: str
    comparison: str
    for_: str
    severity: str
    summary: str
    description: str

    @property
    def expr(self) -> str:
        return f"{self.signal} {self.comparison}"

    def to_yaml(self) -> dict:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity},
            "annotations": {"summary": self.summary, "description": self.description},
        }


def recording_rules() -> list[RecordingRule]:
    rules: list[RecordingRule] = []
    for histogram, kept in HISTOGRAMS.items():
        group = ", ".join(("run_id", *kept, "le"))
        rules.append(RecordingRule(
            bucket_rate(histogram),
            f"sum by ({group}) ({by_run(f'rate({histogram}_bucket[{RULE_WINDOW}])')})",
        ))
        for q in QUANTILES:
            rules.append(RecordingRule(
                quantile(histogram),
                f"histogram_quantile({q}, {bucket_rate(histogram)})",
                {"quantile": q},
            ))
    # Attempts = every record's first try (it ends in exactly one outcome) + every retry.
    throttled = by_run(f"rate(streamload_producer_throttled_total[{RULE_WINDOW}])")
    outcomes = by_run(f"rate(streamload_producer_records_total[{RULE_WINDOW}])")
    retries = by_run(f"rate(streamload_producer_retries_total[{RULE_WINDOW}])")
    rules.append(RecordingRule(
        THROTTLED_FRACTION,
        f"sum by (run_id) ({throttled}) / (sum by (run_id) ({outcomes}) + sum by (run_id) ({retries}))",
    ))
    return rules


def alert_rules(
    e2e_p99_slo_s: float = E2E_P99_SLO_SECONDS,
    throttled_fraction: float = THROTTLED_FRACTION_LIMIT,
) -> list[AlertRule]:
    return [
        AlertRule(
            "StreamloadE2ELatencyP99OverSLO",
            f'max by (run_id) ({quantile("streamload_e2e_latency_seconds")}{{quantile="0.99"}})',
            f"> {e2e_p99_slo_s:g}",
            "2m", "page",
            "End-to-end p99 latency over the SLO",
            f"Run {{{{ $labels.run_id }}}}: p99 from produced_at to queryable is {{{{ $value | humanizeDuration }}}} "
            f"(SLO {e2e_p99_slo_s:g}s) over the last {RULE_WINDOW}.",
        ),
        AlertRule(
            "StreamloadRecordsLost",
            f"sum by (run_id) ({by_run('streamload_records_lost_total')})",
            "> 0",
            "0m", "page",
            "Produced records never reached the materialized view",
            "Run {{ $labels.run_id }}: {{ $value }} acknowledged records were not found when the probe stopped.",
        ),
        AlertRule(
            "StreamloadRLSViolation",
            f"sum by (run_id, persona) ({by_run('streamload_rls_violations_total')})",
            "> 0",
            "0m", "page",
            "A persona saw rows its row-level security should hide",
            "Run {{ $labels.run_id }}: persona {{ $labels.persona }} received {{ $value }} rows or columns outside its policy.",
        ),
        AlertRule(
            "StreamloadThrottlingHigh",
            THROTTLED_FRACTION,
            f"> {throttled_fraction:g}",
            "1m", "warn",
            "Kinesis throttles a large fraction of put attempts",
            f"Run {{{{ $labels.run_id }}}}: {{{{ $value | humanizePercentage }}}} of record attempts were throttled "
            f"(limit {throttled_fraction:.0%}); add shards or lower the rate.",
        ),
    ]
