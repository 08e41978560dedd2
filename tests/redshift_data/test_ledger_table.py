"""Compact ledgers published to a warehouse table through the Data API: what a run spread over
machines audits from, without a shared volume."""
from __future__ import annotations

import pytest

from streamload.audit import read_ledgers
from streamload.core.config import RedshiftConfig, TargetConfig
from streamload.core.ledger import LedgerWriter, read_ledger
from streamload.dataapi import ledger_table
from streamload.dataapi.client import DataApiClient, make_boto3_client
from streamload.dataapi.ledger_table import LedgerTable

LOCAL_CREDENTIALS = {"aws_access_key_id": "streamload-local", "aws_secret_access_key": "streamload-local"}


@pytest.fixture
def table(data_api_url, fresh_database):
    target = TargetConfig(redshift_data_endpoint_url=data_api_url, **{
        "access_key_id": LOCAL_CREDENTIALS["aws_access_key_id"],
        "secret_access_key": LOCAL_CREDENTIALS["aws_secret_access_key"]})
    client = DataApiClient(make_boto3_client(target), RedshiftConfig(database=fresh_database, workgroup_name="local"))
    return LedgerTable(client, "streamload_ledgers")


def _ledger(path, producer: str, acked: list[int], generated: int, expired=(), close=True):
    writer = LedgerWriter(path, producer, "r1")
    writer.generated(generated)
    writer.append([("", producer, s, "shardId-000000000001", str(100 + s), 1.0, 1.01) for s in acked])
    writer.expired(list(expired))
    if close:
        writer.close()
    return writer


def test_published_ledger_reads_back_identical_when_read_by_run_id(table, tmp_path):
    writer = _ledger(tmp_path / "ledger-pod-0.json", "pod-0", [0, 1, 2, 5, 6], 8, expired=[3, 4])
    assert table.publish(writer.state) == 1

    read = table.read("r1")["pod-0"]

    assert read.to_json() == read_ledger(tmp_path / "ledger-pod-0.json").to_json()
    assert (read.acked.to_json(), read.expired.to_json(), read.unknown.to_json(), read.done) == \
        ([[0, 2], [5, 6]], [[3, 4]], [[7, 7]], True)
    assert table.read("another-run") == {}


def test_reader_takes_the_newest_complete_version_when_a_publish_died_halfway(table, tmp_path, monkeypatch):
    early = _ledger(tmp_path / "a.json", "pod-0", [0, 1], 2, close=False)
    table.publish(early.state)
    monkeypatch.setattr(ledger_table, "PART_CHARS", 40)  # a ledger of many parts
    late = _ledger(tmp_path / "b.json", "pod-0", list(range(0, 400, 2)), 400)
    parts = table.publish(late.state)
    assert parts > 3
    assert table.read("r1")["pod-0"].acked.count == 200  # every part there: the newest version
    # A newer publish that died after its first part (before it could delete older versions).
    table.client.execute("INSERT INTO streamload_ledgers VALUES ('r1', 'pod-0', 99999999999999, 0, 5, "
                         "GETDATE(), 'eJzLSM3JyQcABiwCFQ==')", "t")
    assert table.read("r1")["pod-0"].acked.count == 200


def test_audit_reads_a_ledger_from_the_table_when_this_machine_lacks_its_file(table, tmp_path):
    here = _ledger(tmp_path / "ledger-pod-0.json", "pod-0", [0, 1, 2], 3)
    elsewhere = _ledger(tmp_path / "remote" / "ledger-pod-1.json", "pod-1", [0, 1], 2)
    table.publish(here.state)
    table.publish(elsewhere.state)
    planned = [tmp_path / "ledger-pod-0.json", tmp_path / "ledger-pod-1.json", tmp_path / "ledger-pod-2.json"]

    found = read_ledgers(planned, table.read("r1"))

    assert sorted(found.ledgers) == ["pod-0", "pod-1"]
    assert found.ledgers["pod-1"].acked.count == 2
    assert found.missing == [str(tmp_path / "ledger-pod-2.json")]
