"""Starting Locust for a run (one process, or a master with N workers on this machine)
and merging what its processes measured.

Histograms from workers are merged (HdrHistogram addition), never averaged.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

from loadtest.output import PROCESS_INDEX_ENV, ProbeFindings, read_outputs
from streamload.core.config import StreamloadConfig
from streamload.core.histograms import merge_encoded
from streamload.core.processes import free_port  # Locust's master needs a number, not 0
from streamload.core.user_mix import planned_users
from streamload.processes import Child, ChildGroup

__all__ = ["load_processes", "LOCUSTFILE", "start_locust", "merge_loadtest_outputs", "read_locust_stats", "probe_complete"]

LOCUSTFILE = Path(__file__).resolve().parent.parent / "loadtest" / "locustfile.py"


def _locust_argv() -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]


def start_locust(children: ChildGroup, cfg: StreamloadConfig, csv_prefix: Path, env: dict[str, str], workers: int = 0) -> Child:
    """Start Locust headless; with ``workers`` > 0 a master plus that many workers.

    Returns the process whose exit ends the load test (the master, or the single process).
    ``-u``/``-r`` are the run's closed-model users (open-model arrivals are not Locust users).
    """
    users = planned_users(cfg).total
    run_time = int(cfg.producer.duration_s + cfg.load.drain_timeout_s + 5)
    host = cfg.target.redshift_data_endpoint_url or f"https://redshift-data.{cfg.target.region}.amazonaws.com"
    headless = [
        "--headless", "-u", str(users), "-r", str(users), "--run-time", f"{run_time}s",
        "--stop-timeout", "10", "--exit-code-on-error", "0", "--only-summary",
        "--csv", str(csv_prefix), "--csv-full-history", "--host", host,
    ]
    if workers <= 0:
        return children.start("locust", _locust_argv() + headless, {**env, PROCESS_INDEX_ENV: "0"})
    port = free_port()
    master = children.start(
        "locust-master",
        _locust_argv() + headless + ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                                        "--expect-workers", str(workers), "--expect-workers-max-wait", "60"],
        {**env, PROCESS_INDEX_ENV: "0"},
    )
    for index in range(1, workers + 1):
        children.start(
            f"locust-worker-{index}",
            _locust_argv() + ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
            {**env, PROCESS_INDEX_ENV: str(index)},
        )
    return master


def read_locust_stats(csv_prefix: Path) -> dict:
    path = Path(f"{csv_prefix}_stats.csv")
    if not path.exists():
        return {}
    out = {}
    with path.open() as fh:
        for row in csv.DictReader(fh):
            if row.get("Name") in (None, "Aggregated"):
                continue
            out[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"] or 0),
                "p99_ms": float(row["99%"] or 0),
            }
    return out


def load_processes(out_dir: Path, workers: int) -> dict:
    """Which Locust processes reported (``loadtest-<i>.json``): the master or single process is 0,
    workers 1..N. A process that left no report died before Locust quit (e.g. SIGKILL, OOM):
    its statements, open-model arrivals and, if it ran the probe, the canary sample are missing."""
    expected = list(range(workers + 1))
    reported = sorted(o.process_index for o in read_outputs(out_dir))
    lost = [i for i in expected if i not in reported]
    return {"expected": expected, "reported": [i for i in reported if i in expected], "lost": lost,
            "not_measured": [f"Locust {'worker ' + str(i) if i else 'process 0'}: its Data API statements, "
                             "open-model arrivals and (if it ran the probe) canary latency" for i in lost]}


def probe_complete(out_dir: Path) -> bool:
    return any(o.probe is not None and o.probe.complete for o in read_outputs(out_dir))


def merge_loadtest_outputs(out_dir: Path) -> tuple[dict, dict[str, str], dict[str, dict]]:
    """(probe findings, merged encoded statement histograms, their percentiles in ms)."""
    probe: ProbeFindings | None = None  # the process that ran the probe (the one that found the most, if several did)
    per_statement: dict[str, list[str]] = {}
    for output in read_outputs(out_dir):
        if output.probe is not None and (probe is None or output.probe.found > probe.found):
            probe = output.probe
        for key, encoded in output.statement_histograms.items():
            per_statement.setdefault(key, []).append(encoded)
    merged = {key: merge_encoded(texts) for key, texts in per_statement.items()}
    encoded = {k: h.encode().decode() for k, h in merged.items()}
    percentiles = {
        k: {f"p{q:g}_ms": h.get_value_at_percentile(q) / 1000.0 for q in (50, 90, 95, 99, 99.9)} | {"count": h.get_total_count()}
        for k, h in merged.items()
    }
    return (probe.to_report() if probe is not None else {}), encoded, percentiles
