"""Synthetic report.json dicts for the report-page tests: shaped like what `streamload run`,
`capacity` and `baseline` write, built in milliseconds (no stack, no run)."""
from __future__ import annotations

import random

from hdrh.histogram import HdrHistogram

MIN_US, MAX_US, DIGITS = 1, 3_600_000_000, 3


def histogram(values_ms: list[float]) -> str:
    hist = HdrHistogram(MIN_US, MAX_US, DIGITS)
    for v in values_ms:
        hist.record_value(max(1, int(v * 1000)))
    return hist.encode().decode()


def stage(values_ms: list[float]) -> dict:
    ordered = sorted(values_ms)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]  # noqa: E731
    return {"count": len(values_ms), "negative": 0, "p50_ms": pick(50), "p95_ms": pick(95), "p99_ms": pick(99),
            "max_ms": ordered[-1], "histogram": histogram(values_ms)}


def run_report(records: int = 1200, personas: bool = True, population: bool = True, lost: int = 3) -> dict:
    rng = random.Random(7)
    started = 1_796_375_708.0
    put = [rng.lognormvariate(2.6, 0.5) for _ in range(records)]
    arrival = [p * 0.95 for p in put]
    refresh_lag = [rng.uniform(50, 1000) + (2500 if i % 211 == 0 else 0) for i in range(records)]
    visibility = [rng.uniform(20, 600) for _ in range(records)]
    total = [a + r + v for a, r, v in zip(arrival, refresh_lag, visibility)]
    samples = [[round(i * 20.0 / records, 3), round(t, 1)] for i, t in enumerate(total)]
    statements = {
        "refresh": [rng.lognormvariate(3.6, 0.6) for _ in range(40)],
        "query": [rng.lognormvariate(3.4, 0.7) for _ in range(80)],
        "probe": [rng.lognormvariate(3.3, 0.5) for _ in range(60)],
        "query:ethan": [rng.lognormvariate(3.0, 1.0) for _ in range(20)],
        "query:frank": [rng.lognormvariate(2.5, 0.8) for _ in range(20)],
    }
    report = {
        "run_id": "20261204T091508-synthetic", "started_at": started, "finished_at": started + 41.0,
        "produced": records, "found": records - lost, "lost": lost, "duplicates": 0,
        "e2e_p50_ms": stage(total)["p50_ms"], "e2e_p99_ms": stage(total)["p99_ms"],
        "audit": {"produced": records, "sent": records, "found": records - lost, "lost": lost, "duplicates": 0,
                  "lost_first_20": [f"p0-abc-{i}" for i in range(lost)],
                  "producer": {"generated": records, "sent": records, "expired": 0, "rejected": 0, "late": 14},
                  "lost_reasons": {"lost_by_reason": {"expired before send (record_ttl_s)": 2,
                                                      "not in the stream (never acknowledged)": 1} if lost else {},
                                   "lost_examples": {}, "poison_records": [], "scan_errors": 0}},
        "probe": {"found": records, "expected": records, "e2e_histogram": histogram(total), "sampled": records,
                  "sample_per_tick": 50, "arrival_histogram": histogram(arrival), "latency_samples": samples,
                  "complete": True},
        "producer_acks_per_second": [[s, 0 if s < 2 else 60] for s in range(22)],
        "config": {"target": {"region": "us-east-1", "kinesis_endpoint_url": "http://127.0.0.1:46049",
                              "redshift_data_endpoint_url": "http://127.0.0.1:42677"},
                   "stream": {"name": "my-data-stream", "shards": 2},
                   "redshift": {"workgroup_name": "local", "iam_roles": [
                       "arn:aws:iam::222222222222:role/RedshiftStreamRole",
                       "arn:aws:iam::111111111111:role/KinesisStreamRole"]},
                   "producer": {"rate": 60.0, "duration_s": 20.0, "profile": None, "processes": 1},
                   "load": {"refresh_mode": "interval", "refresh_users": 1, "query_users": 2, "probe": True,
                            "refresh_interval_s": 1.0, "query_model": "closed", "workers": 0},
                   "personas": {"enabled": personas, "users_per_persona": 1,
                                "personas": [{"name": n} for n in ("ethan", "frank")]},
                   "verdict": {"thresholds": ["e2e_p99 < 2s", "lost == 0", "query_p95{persona=ethan} < 500ms"]}},
        "latency_histograms": {k: histogram(v) for k, v in statements.items()},
        "statements": {"statement refresh": {"requests": 40, "failures": 1, "p50_ms": 36.0, "p99_ms": 160.0}},
        "e2e_stages": {"put": stage(put), "arrival": stage(arrival), "refresh_lag": stage(refresh_lag),
                       "visibility": stage(visibility), "total": stage(total)},
        "e2e_stage_rule": "per record: arrival + refresh_lag + visibility = total (first seen by a query - produced_at); "
                          "put (acked_at - produced_at) overlaps arrival",
        "faults": {"observed": {"throttles": {"producer_records": 230, "kinesis_server": {"PutRecords": 12}},
                                "retries": {"producer_records": 230},
                                "errors": {"statements": {"refresh: ValidationException": 1},
                                           "refresh": {"refreshes": 40, "failed": 0}},
                                "reconnects": {"statement_connection_errors": 0}}},
        "open_model": {},
        "thresholds": [
            {"threshold": "e2e_p99 < 2s", "value": stage(total)["p99_ms"] / 1000, "limit": 2.0, "op": "<",
             "ok": stage(total)["p99_ms"] < 2000},
            {"threshold": "lost == 0", "value": lost, "limit": 0.0, "op": "==", "ok": lost == 0},
            {"threshold": "query_p95{persona=ethan} < 500ms", "value": 0.21, "limit": 0.5, "op": "<", "ok": True},
        ],
        "locust_history": [{"t_s": float(t), "users": 0 if t in (0, 21) else 5, "requests_per_s": 0 if t < 3 else 9.5,
                            "failures_per_s": 0.5 if t == 12 else 0.0, "p50_ms": None if t < 1 else 30 + t,
                            "p95_ms": None if t < 1 else 120 + 5 * t} for t in range(22)],
    }
    if personas:
        report["personas"] = {n: {"queries": 20, "failed_queries": 0, "rows_checked": rows, "violations": v,
                                  "foreign_rows": v, "foreign_regions": {"EMEA": v} if v else {}, "foreign_columns": [],
                                  "column_probes": 2, "column_denials": 2, "auth_errors": [],
                                  "query_latency_ms": {"p50_ms": 18.0, "p95_ms": 210.0, "count": 20}}
                              for n, rows, v in (("ethan", 6000, 0), ("frank", 1999, 0))}
        report["rls_violations"] = 0
    if population:
        report["e2e_population"] = {
            "stages": {"arrival": stage(arrival), "refresh_lag": stage(refresh_lag),
                       "ingest": stage([a + r for a, r in zip(arrival, refresh_lag)])},
            "view_has_refresh_time": True, "bucket_error_bound": 0.00499,
            "rule": "every record of the run, bucketed in SQL (log-linear, base 1.01): each value within 0.50% of the truth"}
    return report


# A capacity search like the one in issue 18: 500 -> 8,000 records/s, one step far slower.
CAPACITY_STEPS = [  # step, rate, achieved, p50 s, p99 s, throttled, late, lost, refresh lag p99 s
    (1, 500, 500.0, 0.9, 1.5, 0, 0, 0, 0.9), (2, 1000, 1000.0, 1.1, 2.1, 0, 0, 0, 1.3),
    (3, 2000, 1998.0, 1.6, 3.0, 12, 0, 0, 2.0), (4, 4000, 3990.0, 3.1, 6.4, 340, 25, 0, 4.9),
    (5, 8000, 5210.0, 41.0, 79.0, 41_500, 9_120, 37, 71.0), (6, 6000, 5530.0, 12.0, 30.0, 8_800, 1_450, 0, 26.0),
    (7, 5000, 4960.0, 4.2, 8.1, 1_100, 80, 0, 6.6),
]


def capacity_report(out_dir) -> dict:
    """The search's report.json content, with each step's report.json written under ``out_dir``."""
    steps = []
    for step, rate, achieved, p50, p99, throttled, late, lost, lag in CAPACITY_STEPS:
        held = achieved >= 0.95 * rate and p99 < 10 and not lost
        step_dir = out_dir / f"step-{step:02d}"
        step_dir.mkdir(parents=True, exist_ok=True)
        rng = random.Random(step)
        total = [rng.uniform(p50 * 500, p50 * 1500) for _ in range(300)] + [p99 * 1000] * 4
        put = [rng.uniform(10, 40) * (1 + throttled / 2000) for _ in range(300)]
        report = {"run_id": f"step{step}", "e2e_p50_ms": p50 * 1000, "e2e_p99_ms": p99 * 1000,
                  "config": {"target": {"region": "eu-west-1"}, "stream": {"name": "my-data-stream", "shards": 6},
                             "redshift": {"workgroup_name": "streamload", "iam_roles": [
                                 "arn:aws:iam::222222222222:role/RedshiftStreamRole",
                                 "arn:aws:iam::111111111111:role/KinesisStreamRole"]}},
                  "probe": {"e2e_histogram": histogram(total)},
                  "e2e_stages": {"put": stage(put), "arrival": stage([p * 0.9 for p in put]),
                                 "refresh_lag": stage([rng.uniform(lag * 300, lag * 1000) for _ in range(300)]),
                                 "visibility": stage([rng.uniform(100, 400) for _ in range(300)])}}
        (step_dir / "report.json").write_text(__import__("json").dumps(report))
        why = [] if held else [f"achieved {achieved:.1f}/s < 95% of {rate}/s"] * (achieved < 0.95 * rate) + \
            ["threshold e2e_p99 < 10s (value %g)" % p99] * (p99 >= 10) + ["threshold lost == 0 (value %d)" % lost] * bool(lost)
        steps.append({"step": step, "rate": float(rate), "achieved": achieved, "e2e_p50_ms": p50 * 1000,
                      "e2e_p99_ms": p99 * 1000, "lost": lost, "throttled": throttled, "late": late, "held": held,
                      "why": why, "report": str(step_dir / "report.json"), "wall_s": 75.0})
    return {"kind": "capacity", "plan": {"start_rate": 500.0, "max_rate": 8000.0, "step_duration_s": 60.0,
                                         "max_steps": 7, "max_total_s": 1800.0, "resolution": 0.1,
                                         "min_achieved": 0.95, "headroom": 1.25, "record_bytes": 1100},
            "thresholds": ["e2e_p99 < 10s", "lost == 0"], "steps": steps, "held_rate": 5000.0, "failed_rate": 6000.0,
            "knee": "between 5000 and 6000 records/s", "recommended_shards": 7, "query_users": 4,
            "stopped_because": "step limit (7) reached"}


def baseline_file() -> dict:
    """What `streamload baseline --repeat 5` writes: medians on top, spread in ``noise``."""
    medians = {"e2e_p50_ms": 820.0, "e2e_p90_ms": 1300.0, "e2e_p99_ms": 1650.0, "refresh_p99_ms": 160.0,
               "query_p99_ms": 140.0, "lost": 0.0, "duplicates": 0.0}
    noise = {"e2e_p50_ms": 40.0, "e2e_p90_ms": 70.0, "e2e_p99_ms": 150.0, "refresh_p99_ms": 12.0,
             "query_p99_ms": 30.0, "lost": 0.0, "duplicates": 0.0}
    return {"kind": "streamload-baseline", "version": 1, "repeat": 5, "noise": noise, "runs": [], **medians}


def current_for_compare() -> dict:
    """A run whose p99 and refresh regressed beyond the noise, the rest within it."""
    return {"run_id": "20261204T120000-current", "e2e_p50_ms": 850.0, "e2e_p90_ms": 1350.0, "e2e_p99_ms": 2900.0,
            "refresh_p99_ms": 420.0, "query_p99_ms": 150.0, "lost": 0, "duplicates": 2}
