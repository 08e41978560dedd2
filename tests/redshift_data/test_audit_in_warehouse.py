"""The end-of-run audit counts in the warehouse: exact counts and loss outcomes against ground
truth, with every result bounded — injected loss, duplicates, a producer killed mid-run, two
runs on one view, rows without the run's stamp, and the population latency buckets."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from streamload.audit import audit_view
from streamload.core.config import RedshiftConfig, TargetConfig
from streamload.core.ledger import LedgerWriter
from streamload.dataapi.client import DataApiClient, make_boto3_client
from streamload.population_latency import population_latency

LOCAL_CREDENTIALS = {"aws_access_key_id": "streamload-local", "aws_secret_access_key": "streamload-local"}
T0 = 1_800_000_000.0  # run start, epoch s


def _ts(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


@pytest.fixture
def dataapi(data_api_url, fresh_database):
    target = TargetConfig(redshift_data_endpoint_url=data_api_url, access_key_id=LOCAL_CREDENTIALS["aws_access_key_id"],
                          secret_access_key=LOCAL_CREDENTIALS["aws_secret_access_key"])
    client = DataApiClient(make_boto3_client(target), RedshiftConfig(database=fresh_database, workgroup_name="local"))
    client.execute("CREATE TABLE vw (approximate_arrival_timestamp TIMESTAMP, refresh_time TIMESTAMP, payload SUPER)",
                   "setup")
    return client


def _insert(client, rows: list[dict], arrival_s: float = 0.1, refresh_s: float = 0.5) -> None:
    values = []
    for row in rows:
        produced = row.get("produced_at", T0 + 1)
        values.append(f"(TIMESTAMP '{_ts(produced + arrival_s)}', TIMESTAMP '{_ts(produced + arrival_s + refresh_s)}', "
                      f"JSON_PARSE('{json.dumps(row)}'))")
    client.execute("INSERT INTO vw VALUES " + ", ".join(values), "setup")


def _record(run: str, producer: str, seq: int) -> dict:
    return {"event_id": f"{producer}-{run}-{seq}", "run_id": run, "producer_id": producer, "seq": seq,
            "produced_at": T0 + 1 + seq / 100}


def _ledger(path, producer: str, run: str, generated: int, acked: range, expired=(), rejected=(), close=True):
    writer = LedgerWriter(path, producer, run)
    writer.generated(generated)
    writer.append([(f"{producer}-{run}-{s}", producer, s, "shardId-000000000000", str(1000 + s), T0 + 1, T0 + 1.02)
                   for s in acked])
    writer.expired(list(expired))
    if rejected:
        writer.rejected(list(rejected), "ValidationException")
    if close:
        writer.close()
    return path


def test_audit_counts_loss_ranges_and_duplicates_exactly_when_records_are_dropped_and_retried(dataapi, tmp_path):
    rows = [_record("r1", "p0", s) for s in range(10) if s not in (3, 4, 7)] + [_record("r1", "p0", 5)]
    _insert(dataapi, rows)
    ledger = _ledger(tmp_path / "ledger-p0.json", "p0", "r1", 10, range(10))

    audit = audit_view(dataapi, "vw", "r1", [ledger], T0)

    assert (audit.produced, audit.found, audit.lost, audit.duplicates, audit.unexpected) == (10, 7, 3, 1, 0)
    assert [(r["first"], r["last"]) for r in audit.lost_ranges] == [(3, 4), (7, 7)]
    assert audit.lost_by_outcome == {"acknowledged by Kinesis but not in the view": 3}
    assert audit.duplicate_examples == [{"producer_id": "p0", "seq": 5, "copies": 2}]
    assert audit.to_json()["lost_first_20"] == ["p0 seqs 3-4", "p0 seq 7"]


def test_audit_separates_expired_rejected_and_unknown_outcomes_when_the_producer_was_killed(dataapi, tmp_path):
    # Generated 0..11: 0-5 acknowledged, 6 expired, 7 rejected, 8-11 in flight when killed.
    # Seq 9 reached the stream although its acknowledgement never made the ledger.
    _insert(dataapi, [_record("r1", "p0", s) for s in (0, 1, 2, 3, 4, 5, 9)])
    ledger = _ledger(tmp_path / "ledger-p0.json", "p0", "r1", 12, range(6), expired=[6], rejected=[7], close=False)

    audit = audit_view(dataapi, "vw", "r1", [ledger], T0)

    assert (audit.produced, audit.found, audit.lost) == (12, 7, 5)
    assert audit.lost_by_outcome == {"unknown outcome: in flight when the producer stopped": 3,
                                     "expired in the producer before Kinesis acknowledged it": 1,
                                     "rejected by Kinesis: ValidationException": 1}
    assert audit.per_producer["p0"]["ledger_done"] is False


def test_audit_counts_only_its_own_run_and_flags_foreign_rows_when_two_runs_share_the_view(dataapi, tmp_path):
    _insert(dataapi, [_record("r0", "p0", s) for s in range(5)])  # an earlier run
    _insert(dataapi, [_record("r1", "p0", s) for s in range(4)])
    _insert(dataapi, [_record("r1", "intruder", 0)])  # stamped with the run, unknown producer
    _insert(dataapi, [{"event_id": "legacy", "produced_at": T0 + 2}])  # no run id, during the run
    _insert(dataapi, [{"event_id": "old", "produced_at": T0 - 3600}])  # no run id, long before
    ledger = _ledger(tmp_path / "ledger-p0.json", "p0", "r1", 4, range(4))

    audit = audit_view(dataapi, "vw", "r1", [ledger], T0)

    assert (audit.produced, audit.found, audit.lost, audit.duplicates, audit.unexpected) == (4, 4, 0, 0, 2)


def test_population_latency_matches_the_stamped_stages_within_the_bucket_bound_when_counted_in_sql(dataapi):
    _insert(dataapi, [_record("r1", "p0", s) for s in range(200)], arrival_s=0.25, refresh_s=1.5)

    latency = population_latency(dataapi, "vw", "r1")

    stages = latency["stages"]
    assert {name: stages[name]["count"] for name in ("arrival", "refresh_lag", "ingest")} == \
        {"arrival": 200, "refresh_lag": 200, "ingest": 200}
    for name, truth_ms in (("arrival", 250.0), ("refresh_lag", 1500.0), ("ingest", 1750.0)):
        assert abs(stages[name]["p50_ms"] - truth_ms) <= truth_ms * (latency["bucket_error_bound"] + 0.002), name
    assert latency["view_has_refresh_time"] is True and latency["result_bytes"] < 2000
