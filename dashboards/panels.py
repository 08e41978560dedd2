"""What each dashboard shows: titles, queries, units; no Grafana JSON here.

One dashboard per concern. Every query narrows to the selected run (see ``promql``);
percentile panels read the recording rules so Grafana and the alerts see the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from dashboards.promql import (
    E2E_P99_SLO_SECONDS,
    RATE_WINDOW,
    RUN_VAR,
    THROTTLED_FRACTION,
    THROTTLED_FRACTION_LIMIT,
    bucket_rate,
    for_run,
    quantile,
)

__all__ = ["Query", "PanelSpec", "DashboardSpec", "DASHBOARDS", "MAIN_DASHBOARD_UID"]


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class PanelSpec:
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: str = "timeseries"  # timeseries | stat | heatmap
    description: str = ""
    threshold: float | None = None  # drawn as a red line / turns a stat red


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    title: str
    description: str
    panels: tuple[PanelSpec, ...]
    tags: tuple[str, ...] = field(default=("streamload",))


def _rate(metric: str, by: str = "", selector: str = "") -> str:
    inner = for_run(f"rate({metric}{selector}[{RATE_WINDOW}])")
    return f"sum by ({by}) ({inner})" if by else f"sum({inner})"


def _total(metric: str, by: str = "", selector: str = "") -> str:
    inner = for_run(f"{metric}{selector}")
    return f"sum by ({by}) ({inner})" if by else f"sum({inner})"


def _quantiles(histogram: str, legend_prefix: str = "", extra: str = "") -> tuple[Query, ...]:
    selector = f'{{run_id=~"{RUN_VAR}"{extra}}}'
    return (Query(f"{quantile(histogram)}{selector}", f"{legend_prefix}p{{{{quantile}}}}"),)


def _stage(histogram: str, q: str, legend: str) -> Query:
    return Query(f'max({quantile(histogram)}{{run_id=~"{RUN_VAR}", quantile="{q}"}})', legend)


def _stages(q: str) -> tuple[Query, ...]:
    per_stage = f'max by (stage) ({quantile("streamload_e2e_stage_seconds")}{{run_id=~"{RUN_VAR}", quantile="{q}"}})'
    return (Query(per_stage, "{{stage}}"), _stage("streamload_e2e_latency_seconds", q, "end-to-end"))


PRODUCER = DashboardSpec(
    "streamload-producer",
    "streamload / producer & stream",
    "What the producer asked Kinesis for and what it got: rate, outcomes, put latency, throttling.",
    (
        PanelSpec("Records/s by outcome vs target", (
            Query(_rate("streamload_producer_records_total", "outcome"), "{{outcome}}"),
            Query(_total("streamload_producer_target_rate"), "target"),
        ), "reqps", description="sent + expired + rejected = generated; a gap to target means the producer fell behind."),
        PanelSpec("Bytes/s acknowledged", (Query(_rate("streamload_producer_bytes_total"), "bytes/s"),), "Bps"),
        PanelSpec("PutRecords latency", _quantiles("streamload_producer_put_seconds"), "s"),
        PanelSpec("Throttled fraction of attempts", (
            Query(f'{THROTTLED_FRACTION}{{run_id=~"{RUN_VAR}"}}', "throttled / attempts"),
        ), "percentunit", threshold=THROTTLED_FRACTION_LIMIT,
            description="ProvisionedThroughputExceeded per attempt; the alert fires above the line."),
        PanelSpec("Retries, throttles, late sends per second", (
            Query(_rate("streamload_producer_retries_total"), "retries"),
            Query(_rate("streamload_producer_throttled_total"), "throttled"),
            Query(_rate("streamload_producer_late_sends_total"), "late sends"),
        ), "reqps", description="Late sends started after their intended time: latency counts from the intended time."),
        PanelSpec("In-flight batches", (Query(_total("streamload_producer_in_flight_batches"), "batches"),)),
    ),
)

INGESTION = DashboardSpec(
    "streamload-ingestion",
    "streamload / refresh & ingestion",
    "REFRESH MATERIALIZED VIEW through the Data API, and how fast produced records become visible.",
    (
        PanelSpec("Sent vs found records/s", (
            Query(_rate("streamload_producer_records_total", selector='{outcome="sent"}'), "sent"),
            Query(_rate("streamload_records_found_total"), "found in view"),
        ), "reqps", description="Found trails sent by the end-to-end latency; a lasting gap is loss or lag."),
        PanelSpec("Records pending (acknowledged, not yet seen)", (
            Query(_total("streamload_records_pending"), "pending"),
        )),
        PanelSpec("Refresh duration", _quantiles("streamload_refresh_seconds"), "s"),
        PanelSpec("Refreshes/s by outcome", (
            Query(_rate("streamload_refresh_seconds_count", "outcome"), "{{outcome}}"),
        ), "reqps"),
        PanelSpec("Data API statements/s by kind and outcome", (
            Query(_rate("streamload_statements_total", "kind, outcome"), "{{kind}} {{outcome}}"),
        ), "reqps"),
        PanelSpec("Data API phase p99 (submit, queue, execution, fetch)", (
            Query(f'{quantile("streamload_dataapi_phase_seconds")}{{run_id=~"{RUN_VAR}", quantile="0.99"}}',
                  "{{phase}}"),
        ), "s"),
    ),
)

_QUERY_FAILED = _rate("streamload_query_seconds_count", "persona", '{outcome="failed"}')
_QUERY_ALL = _rate("streamload_query_seconds_count", "persona")

QUERIES = DashboardSpec(
    "streamload-queries",
    "streamload / queries by persona",
    "The dashboard users' SELECTs through the Data API, one series per persona (RLS role).",
    (
        PanelSpec("Queries/s by persona", (Query(_QUERY_ALL, "{{persona}}"),), "reqps"),
        PanelSpec("Query latency by persona", _quantiles("streamload_query_seconds", "{{persona}} "), "s",
                  description="Submit to last result page."),
        PanelSpec("Open-model query starts/s by outcome", (
            Query(_rate("streamload_open_model_starts_total", "outcome"), "{{outcome}}"),
        ), "reqps", description="Open model only: arrivals on their schedule (on_time), started late, or "
                                "dropped because every concurrency slot stayed busy. Zero in closed-model runs."),
        PanelSpec("Failed fraction by persona", (
            # A persona with no failure has no failed series: count it as 0, not as no data.
            Query(f"({_QUERY_FAILED} or 0 * {_QUERY_ALL}) / {_QUERY_ALL}", "{{persona}}"),
        ), "percentunit"),
        PanelSpec("RLS violations by persona", (
            Query(_total("streamload_rls_violations_total", "persona"), "{{persona}}"),
        ), threshold=0.5, description="Rows or columns a persona received that its policy hides; must stay 0."),
    ),
)

E2E = DashboardSpec(
    "streamload-e2e",
    "streamload / end-to-end latency",
    "From produced_at (intended send time) until a query first returns the record, and its stages.",
    (
        PanelSpec("e2e p50", (_stage("streamload_e2e_latency_seconds", "0.5", "p50"),), "s", "stat"),
        PanelSpec("e2e p99", (_stage("streamload_e2e_latency_seconds", "0.99", "p99"),), "s", "stat",
                  threshold=E2E_P99_SLO_SECONDS),
        PanelSpec("Records found", (Query(_total("streamload_records_found_total"), "found"),), kind="stat"),
        PanelSpec("Records pending", (Query(_total("streamload_records_pending"), "pending"),), kind="stat"),
        PanelSpec("End-to-end latency percentiles", _quantiles("streamload_e2e_latency_seconds"), "s",
                  threshold=E2E_P99_SLO_SECONDS, description="The red line is the p99 SLO the alert uses."),
        PanelSpec("End-to-end latency heatmap", (
            Query(f'sum by (le) ({bucket_rate("streamload_e2e_latency_seconds")}{{run_id=~"{RUN_VAR}"}})',
                  "{{le}}"),
        ), "s", "heatmap"),
        PanelSpec("Stage decomposition (p50)", _stages("0.5"), "s",
                  description="Per record: arrival + refresh_lag + visibility = end-to-end; put (produced "
                              "to acknowledged) runs alongside arrival. Percentiles of stages do not add up."),
        PanelSpec("Stage decomposition (p99)", _stages("0.99"), "s"),
    ),
)

INTEGRITY = DashboardSpec(
    "streamload-integrity",
    "streamload / loss, duplicates & RLS",
    "Every acknowledged record must be found exactly once, and no persona may see hidden rows.",
    (
        PanelSpec("Lost", (Query(_total("streamload_records_lost_total"), "lost"),), kind="stat", threshold=0.5),
        PanelSpec("Duplicated", (Query(_total("streamload_records_duplicated_total"), "duplicates"),),
                  kind="stat", threshold=0.5),
        PanelSpec("RLS violations", (Query(_total("streamload_rls_violations_total"), "violations"),),
                  kind="stat", threshold=0.5),
        PanelSpec("Pending", (Query(_total("streamload_records_pending"), "pending"),), kind="stat"),
        PanelSpec("Sent vs found (cumulative)", (
            Query(_total("streamload_producer_records_total", selector='{outcome="sent"}'), "sent"),
            Query(_total("streamload_records_found_total"), "found"),
        ), description="Lost and duplicated are settled when the probe stops; pending is the live view."),
        PanelSpec("Records by final outcome", (
            Query(_total("streamload_producer_records_total", "outcome"), "{{outcome}}"),
        ), description="expired and rejected records were never acknowledged, so they are not loss."),
        PanelSpec("Lost and duplicated over time", (
            Query(_total("streamload_records_lost_total"), "lost"),
            Query(_total("streamload_records_duplicated_total"), "duplicated"),
        )),
        PanelSpec("RLS violations by persona", (
            Query(_total("streamload_rls_violations_total", "persona"), "{{persona}}"),
        ), threshold=0.5),
    ),
)

MAIN_DASHBOARD_UID = E2E.uid
DASHBOARDS: tuple[DashboardSpec, ...] = (PRODUCER, INGESTION, QUERIES, E2E, INTEGRITY)
