"""Soak: a long, steady ``streamload run`` against the local stack, watching for leaks.

Every part runs in its own process so its memory is its own: PostgreSQL, the local
Kinesis (``--retention-override-s``, so stored records stay bounded by retention), the
local Data API, and ``streamload run`` with its producer and Locust. RSS is sampled
every few seconds; the run's own report gives the end-to-end latencies over time.

    .venv/bin/python -m bench.soak [--minutes 30] [--rate 100] [--shards 2]

Prints, per part, ``RATIO rss_growth_<part> <x>`` (RSS at the end / RSS once warmed up,
median of the last three samples over median of three samples after the warm-up: the larger
of 60 s and four retention periods plus 10 s, see ``warm_up_for``; a part with fewer than
three samples after it prints ``nan (not sampled)`` and makes ``rss_growth`` nan), then
``RATIO rss_growth <x>`` (the largest of producer, emulators and Locust; goal < 1.10) and
``RATIO e2e_p99_drift <x>`` (p99 of the end-to-end latency in the last quarter of the run
over the first quarter after the warm-up; 1.0 = no drift). PostgreSQL's RSS is printed but
not judged: its shared buffers fill by design. Bounded: the run gets ``--minutes`` of
producing plus a drain, and the bench gives up 10 minutes after that.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from emulator.postgres import PostgresServer
from streamload.core.errors import StreamloadError
from streamload.core.processes import start_with_banner, stop_process
from streamload.report import read_report

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
LOCAL_KEY = "streamload-local"
JUDGED = ("producer", "kinesis", "data_api", "locust")


def _start(argv: list[str], banner: str, log: Path) -> tuple[subprocess.Popen, str]:
    with log.open("ab") as stderr:
        try:
            return start_with_banner(argv, banner + "=", cwd=REPO, stderr=stderr)
        except RuntimeError:
            raise SystemExit(f"soak: {argv[2]} did not start: {log.read_text()[-400:]}") from None


def _config(path: Path, args: argparse.Namespace, kinesis_url: str, data_api_url: str) -> None:
    path.write_text(f"""
[target]
kinesis_endpoint_url = "{kinesis_url}"
redshift_data_endpoint_url = "{data_api_url}"
access_key_id = "{LOCAL_KEY}"
secret_access_key = "{LOCAL_KEY}"

[stream]
name = "soak-stream"
shards = {args.shards}

[redshift]
workgroup_name = "local"
iam_roles = ["arn:aws:iam::222222222222:role/RedshiftStreamRole", "arn:aws:iam::111111111111:role/KinesisStreamRole"]

[producer]
rate = {args.rate}
duration_s = {args.minutes * 60}
metrics_port = 0

[load]
metrics_port = 0
query_users = 2
drain_timeout_s = 120
# A steady query: the default one returns the whole view, which grows for the whole soak.
query_sql = "SELECT count(*) FROM {{mv}}"
""")
    path.chmod(0o600)


def _rss_by_part(parts: dict[str, int], run: psutil.Process | None) -> dict[str, float]:
    """MiB per part; the run's producer and Locust processes are found by command line."""
    out: dict[str, float] = {}
    for name, pid in parts.items():
        try:
            proc = psutil.Process(pid)
            out[name] = sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20
        except psutil.Error:
            continue
    if run is not None:
        try:
            children = run.children(recursive=True)
        except psutil.Error:
            children = []
        for child in children:
            try:
                cmdline = " ".join(child.cmdline())
                rss = child.memory_info().rss / 2**20
            except psutil.Error:
                continue
            part = "producer" if "-m producer" in cmdline else "locust" if "locust" in cmdline else None
            if part:
                out[part] = out.get(part, 0.0) + rss
    return out


def warm_up_for(retention_s: float) -> float:
    """Seconds after which RSS counts as warmed up: the larger of 60 s and four retention
    periods plus 10 s. Records live up to two retention periods (trimmed once per period),
    and a shard's record list is compacted only once half of it is trimmed, so the local
    Kinesis reaches its steady state after about four periods (measured: RSS flat from 120 s
    on at 30 s retention); the other parts (generator pools, Locust, the Data API's caches)
    settle within the first minute. Two periods, as this bench once said, would count the
    Kinesis server's first compaction as growth."""
    return max(60.0, 4 * retention_s + 10)


def _growth(samples: list[tuple[float, dict[str, float]]], part: str, warm_up_s: float) -> float | None:
    series = [(t, rss[part]) for t, rss in samples if part in rss]
    warm = [r for t, r in series if t >= warm_up_s][:3]
    last = [r for _, r in series[-3:]]
    if len(warm) < 3 or len(last) < 3:
        return None
    return statistics.median(last) / statistics.median(warm)


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _p99_drift(report_path: Path, warm_up_s: float) -> tuple[float | None, float | None, float | None]:
    try:
        samples = (read_report(report_path).probe or {})["latency_samples"]
    except (StreamloadError, KeyError, TypeError):
        return None, None, None
    samples = [(t, ms) for t, ms in samples if t >= warm_up_s]
    if len(samples) < 40:
        return None, None, None
    start, end = samples[0][0], samples[-1][0]
    quarter = (end - start) / 4
    first = [ms for t, ms in samples if t < start + quarter]
    last = [ms for t, ms in samples if t >= end - quarter]
    if not first or not last:
        return None, None, None
    return _p99(last) / _p99(first), _p99(first), _p99(last)


def _write_curve(path: Path, samples: list[tuple[float, dict[str, float]]]) -> None:
    """Every RSS sample, one row each: seconds since start and MiB per part."""
    parts = (*JUDGED, "postgres")
    lines = ["t_s," + ",".join(parts)]
    lines += [f"{t:.0f}," + ",".join(f"{rss.get(p, float('nan')):.1f}" for p in parts) for t, rss in samples]
    path.write_text("\n".join(lines) + "\n")


def _curve_table(samples: list[tuple[float, dict[str, float]]], minutes: float) -> str:
    """The memory curve as a table: RSS per part at about every tenth of the run."""
    parts = (*JUDGED, "postgres")
    if not samples:
        return "no RSS samples"
    step = max(minutes * 60 / 10, 1)
    rows, next_at = [], 0.0
    for t, rss in samples:
        if t >= next_at:
            rows.append(f"| {t / 60:5.1f} | " + " | ".join(f"{rss.get(p, float('nan')):.0f}" for p in parts) + " |")
            next_at = t + step
    header = "| min | " + " | ".join(parts) + " |\n|---|" + "---|" * len(parts)
    return "RSS MiB over time (rss.csv has every sample):\n" + header + "\n" + "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="minutes of producing (default 30)")
    parser.add_argument("--rate", type=float, default=100.0, help="records per second (default 100)")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--sample-s", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--retention-s", type=float, default=30.0, help="local Kinesis retention override")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="streamload-soak-"))
    out.mkdir(parents=True, exist_ok=True)
    warm_up_s = warm_up_for(args.retention_s)
    produce_s = args.minutes * 60
    if produce_s < warm_up_s + 4 * args.sample_s:
        parser.error(f"--minutes {args.minutes:g} leaves no samples after the {warm_up_s:.0f} s warm-up "
                     f"(retention {args.retention_s:g} s); use --minutes {(warm_up_s + 60) / 60:.1f} or more")
    print(f"soak: {args.rate:g} records/s for {args.minutes:g} min, warm-up {warm_up_s:.0f}s, output in {out}",
          flush=True)

    processes: list[subprocess.Popen] = []
    with PostgresServer() as pg:
        try:
            kinesis, kinesis_url = _start([PYTHON, "-m", "emulator.kinesis", "--port", "0", "--retention-override-s",
                                           str(args.retention_s)], "KINESIS_URL", out / "kinesis.log")
            processes.append(kinesis)
            data_api, data_api_url = _start([PYTHON, "-m", "emulator.redshift_data", "--pg-dsn", pg.dsn,
                                             "--kinesis-endpoint", kinesis_url, "--port", "0"],
                                            "REDSHIFT_DATA_URL", out / "data_api.log")
            processes.append(data_api)
            config = out / "soak.toml"
            _config(config, args, kinesis_url, data_api_url)
            run = subprocess.Popen([PYTHON, "-m", "streamload.cli", "run", "--config", str(config),
                                    "--out", str(out / "run")], cwd=REPO, stdout=(out / "run.log").open("wb"),
                                   stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)})
            processes.append(run)
            parts = {"kinesis": kinesis.pid, "data_api": data_api.pid, "postgres": pg._process.pid}
            samples: list[tuple[float, dict[str, float]]] = []
            started = time.monotonic()
            deadline = started + produce_s + 600
            run_ps = psutil.Process(run.pid)
            while run.poll() is None and time.monotonic() < deadline:
                elapsed = time.monotonic() - started
                if elapsed <= produce_s:  # the drain is not steady state
                    samples.append((elapsed, _rss_by_part(parts, run_ps)))
                time.sleep(args.sample_s)
            if run.poll() is None:
                print("soak: the run did not end in time; stopping it", flush=True)
        finally:
            for proc in reversed(processes):
                stop_process(proc, timeout_s=20)

    print((out / "run.log").read_text().strip().splitlines()[-1] if (out / "run.log").exists() else "no run log")
    _write_curve(out / "rss.csv", samples)
    print(_curve_table(samples, args.minutes))
    for part in (*JUDGED, "postgres"):
        series = [rss[part] for _, rss in samples if part in rss]
        if series:
            print(f"  {part:<9} RSS MiB: warm {series[min(len(series) - 1, int(warm_up_s / args.sample_s))]:.0f}"
                  f"  end {series[-1]:.0f}  max {max(series):.0f}  ({len(series)} samples)")
    growth = {part: _growth(samples, part, warm_up_s) for part in (*JUDGED, "postgres")}
    for part, value in growth.items():
        print(f"RATIO rss_growth_{part} {value:.3f}" if value is not None
              else f"RATIO rss_growth_{part} nan  (not sampled: fewer than three samples after the warm-up)")
    unsampled = [p for p in JUDGED if growth[p] is None]
    drift, first, last = _p99_drift(out / "run" / "report.json", warm_up_s)
    if first is not None:
        print(f"  e2e p99: first quarter {first:.0f} ms, last quarter {last:.0f} ms")
    # The largest growth is only known when every judged part was sampled: a part missing
    # from the maximum could be the one that leaks.
    print(f"RATIO rss_growth {max(growth[p] for p in JUDGED):.3f}" if not unsampled
          else f"RATIO rss_growth nan  (not sampled: {', '.join(unsampled)})")
    print(f"RATIO e2e_p99_drift {drift:.3f}" if drift is not None else "RATIO e2e_p99_drift nan")
    return 0 if not unsampled and drift is not None else 1


if __name__ == "__main__":
    sys.exit(main())
