"""The harness's cost against the number of records: the end-of-run audit and one probe tick at
1 M and 10 M records (``--records`` for other sizes), on the local stack.

A table shaped like streamload's view (approximate_arrival_timestamp, refresh_time, payload) is
filled straight in SQL with ``generate_series`` (no Kinesis needed), two producers' compact
ledgers are written to match (with a few injected losses and duplicates, so the audit has
something to find), then the real audit (``streamload.audit.audit_view`` and
``population_latency``) and one probe tick run through the local Data API, which runs in its
own process so the memory measured here is the client's alone (peak RSS growth during the audit).

Prints, last:
  RATIO audit_time_10m_vs_1m <x>            goal <= 12 (the warehouse's scan is linear)
  RATIO audit_client_rss_mb_10m <x>          client memory growth during the largest audit, goal <= 100
  RATIO audit_result_bytes_10m <x>           bytes of every Data API result the audit fetched, goal <= 1,000,000
  RATIO probe_rows_per_tick_10k_vs_100 <x>   rows one probe tick fetches at 10,000 vs 100 records/s, goal <= 1.5

    python -m bench.scale                    # 1 M and 10 M (minutes: filling 10 M rows dominates)
    python -m bench.scale --records 100000 1000000
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.processes import served
from emulator.postgres import PostgresServer
from loadtest.probe import ProbeState
from streamload.audit import audit_view
from streamload.core.config import RedshiftConfig, TargetConfig
from streamload.core.ledger import LedgerWriter
from streamload.dataapi.client import DataApiClient, make_boto3_client
from streamload.population_latency import population_latency

ROOT = Path(__file__).resolve().parent.parent

T0 = 1_800_000_000.0
LOST_EVERY = 100_003  # one record in ~100k is missing from the view
DUPLICATE_EVERY = 250_007  # and one in ~250k is there twice


def _fill(dsn: str, run_id: str, producers: int, records: int, rate: float) -> None:
    """``records`` rows split over ``producers``, produced at ``rate``/s from T0, in SQL."""
    import psycopg

    per = records // producers
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS vw")
        conn.execute("CREATE TABLE vw (approximate_arrival_timestamp timestamp, refresh_time timestamp, payload jsonb)")
        for p in range(producers):
            conn.execute(
                "INSERT INTO vw SELECT to_timestamp(%(t0)s + s / %(rate)s + 0.02) AT TIME ZONE 'UTC', "
                "to_timestamp(%(t0)s + ceil(s / %(rate)s) + 0.5) AT TIME ZONE 'UTC', "
                "jsonb_build_object('event_id', %(pid)s || '-' || %(run)s || '-' || s, 'run_id', %(run)s, "
                "'producer_id', %(pid)s, 'seq', s, 'produced_at', %(t0)s + s / %(rate)s, 'name', 'x') "
                "FROM generate_series(0, %(last)s) AS s WHERE s %% %(lost)s <> 7",
                {"t0": T0, "rate": rate / producers, "pid": f"p{p}", "run": run_id, "last": per - 1, "lost": LOST_EVERY})
            conn.execute(
                "INSERT INTO vw SELECT approximate_arrival_timestamp, refresh_time, payload FROM vw "
                "WHERE payload->>'producer_id' = %(pid)s AND (payload->>'seq')::bigint %% %(dup)s = 11",
                {"pid": f"p{p}", "dup": DUPLICATE_EVERY})
        conn.execute("ANALYZE vw")


def _ledgers(folder: Path, run_id: str, producers: int, records: int) -> list[Path]:
    paths = []
    per = records // producers
    for p in range(producers):
        path = folder / f"ledger-p{p}.json"
        writer = LedgerWriter(path, f"p{p}", run_id)
        writer.generated(per)
        for start in range(0, per, 50_000):  # acknowledged in batches, as a producer would
            batch = range(start, min(start + 50_000, per))
            writer.append([("", f"p{p}", s, "shardId-000000000000", "1", T0, T0 + 0.01) for s in batch])
        writer.close()
        paths.append(path)
    return paths


def _rss_mb() -> float:
    """This process's resident memory now (Linux), in MiB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


class _PeakRss:
    """The highest RSS seen while the block runs (sampled every 20 ms), minus RSS before it."""

    def __enter__(self) -> "_PeakRss":
        self.before = self.peak = _rss_mb()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())

    @property
    def growth_mb(self) -> float:
        return self.peak - self.before


def _audit(client: DataApiClient, paths: list[Path], run_id: str) -> dict:
    started = time.perf_counter()
    with _PeakRss() as rss:
        audit = audit_view(client, "vw", run_id, paths, T0)
        latency = population_latency(client, "vw", run_id)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rss_growth_mb": rss.growth_mb,
            "result_bytes": audit.result_bytes + latency.get("result_bytes", 0), "audit": audit}


def _probe_rows(client: DataApiClient, run_id: str) -> int:
    probe = ProbeState(run_id=run_id, run_started_at=T0)
    probe.watermark = T0 + 5  # one tick's worth of newly refreshed rows, and more
    return len(client.execute(probe.probe_sql("vw"), "probe").rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--producers", type=int, default=2)
    args = parser.parse_args(argv)
    results: dict[int, dict] = {}
    with tempfile.TemporaryDirectory() as tmp, PostgresServer() as pg:
        # The Data API in its own process, so this process's memory is the client's alone.
        with served([sys.executable, "-m", "emulator.redshift_data", "--pg-dsn", pg.dsn, "--kinesis-endpoint",
                     "http://127.0.0.1:9", "--auto-refresh-interval", "0", "--port", "0"], cwd=ROOT,
                    banner="REDSHIFT_DATA_URL=") as url:
            target = TargetConfig(redshift_data_endpoint_url=url, access_key_id="streamload-local",
                                  secret_access_key="streamload-local")
            database = pg.dsn.rsplit("/", 1)[1].split("?")[0]
            client = DataApiClient(make_boto3_client(target), RedshiftConfig(database=database, workgroup_name="local"),
                                   timeout_s=3600)
            probe_rows = {}
            for rate in (100, 10_000):
                _fill(pg.dsn, "probe", 1, int(rate * 20), rate)
                probe_rows[rate] = _probe_rows(client, "probe")
            for n in sorted(args.records):
                t = time.perf_counter()
                _fill(pg.dsn, "scale", args.producers, n, 10_000)
                paths = _ledgers(Path(tmp), "scale", args.producers, n)
                print(f"filled {n:,} rows in {time.perf_counter() - t:.1f} s", flush=True)
                results[n] = _audit(client, paths, "scale")
                a = results[n]["audit"]
                print(f"{n:>12,} records: audit {results[n]['seconds']:.2f} s, client RSS +{results[n]['rss_growth_mb']:.1f} MB, "
                      f"results {results[n]['result_bytes']:,} B; produced={a.produced:,} found={a.found:,} "
                      f"lost={a.lost:,} duplicates={a.duplicates:,}", flush=True)
    small, large = min(results), max(results)
    label = "10m" if large == 10_000_000 else f"{large}"
    print(f"RATIO audit_time_{label}_vs_{'1m' if small == 1_000_000 else small} "
          f"{results[large]['seconds'] / results[small]['seconds']:.3f}")
    print(f"RATIO audit_client_rss_mb_{label} {results[large]['rss_growth_mb']:.1f}")
    print(f"RATIO audit_result_bytes_{label} {results[large]['result_bytes']}")
    print(f"RATIO probe_rows_per_tick_10k_vs_100 {probe_rows[10_000] / max(probe_rows[100], 1):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
