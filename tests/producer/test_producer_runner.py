"""run_producer end to end on a fake client: totals, summary, graceful stop, target errors."""
from __future__ import annotations

import asyncio
import json
import urllib.request

import orjson
import pytest

from producer import ProducerOptions, TargetError, run_producer
from producer.schemas import make_generator
from producer_test_support import FakeKinesis, assert_ledger_adds_up, client_error, seqs_of
from streamload.core.ledger import read_ledger
from streamload.core.processes import free_port
from streamload.core.seqranges import SeqRanges

SUMMARY_KEYS = {"producer_id", "generated", "sent", "expired", "rejected", "late", "target_rate",
                "achieved_rate", "duration_s", "done"}


def _opts(tmp_path, **kw) -> ProducerOptions:
    kw.setdefault("stream_name", "my-data-stream")
    kw.setdefault("rate", 400)
    kw.setdefault("duration_s", 0.5)
    return ProducerOptions(ledger_path=tmp_path / "ledger.json", seed=1, **kw)


def test_run_writes_ledger_and_summary_that_add_up_when_some_puts_throttled(tmp_path):
    def script(index, keys):  # every third call: first record throttled once
        return ["ProvisionedThroughputExceededException" if index % 3 == 0 and i == 0 else None
                for i in range(len(keys))]

    client = FakeKinesis(script)
    result = asyncio.run(run_producer(_opts(tmp_path, producer_id="p7"), client=client))
    assert result.generated == 200
    assert (result.sent, result.expired, result.rejected) == (200, 0, 0)
    assert result.retried > 0
    # Never above the target: acknowledgements are counted over at least the 0.5 s schedule.
    assert result.target_rate == 400 and 0 < result.achieved_rate <= 400
    summary = json.loads((tmp_path / "ledger.json.summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary["done"] is True and summary["producer_id"] == "p7" and summary["generated"] == 200
    assert summary["sent"] + summary["expired"] + summary["rejected"] == summary["generated"]
    ledger = read_ledger(tmp_path / "ledger.json")
    assert_ledger_adds_up(ledger, result)
    assert ledger.producer_id == "p7" and ledger.acked == SeqRanges([(0, 199)])
    assert ledger.shards["shardId-000000000000"]["acked"] == 200
    # The first batch groups one slice, not one record per call.
    assert len(client.calls) < 100


def test_run_stops_gracefully_and_flushes_in_flight_when_stop_requested(tmp_path):
    async def scenario():
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.3, stop.set)
        client = FakeKinesis(delay_s=0.2)  # batches still in flight when stop arrives
        return await run_producer(_opts(tmp_path, duration_s=30), client=client, stop=stop)

    result = asyncio.run(asyncio.wait_for(scenario(), timeout=5))
    assert 80 <= result.generated <= 160
    assert result.sent == result.generated
    assert json.loads((tmp_path / "ledger.json.summary.json").read_text())["done"] is True


def test_run_raises_target_error_and_writes_summary_when_stream_missing(tmp_path):
    with pytest.raises(TargetError, match="'nope' not found"):
        asyncio.run(run_producer(_opts(tmp_path, stream_name="nope"), client=FakeKinesis(stream_status="MISSING")))
    summary = json.loads((tmp_path / "ledger.json.summary.json").read_text())
    assert summary["generated"] == 0 and summary["done"] is True and "not found" in summary["error"]


def test_run_stops_and_accounts_every_record_when_credentials_fail_mid_run(tmp_path):
    def script(index, keys):
        if index >= 3:
            raise client_error("ExpiredTokenException", message="The security token included in the request is expired")
        return [None] * len(keys)

    with pytest.raises(TargetError, match="ExpiredTokenException"):
        asyncio.run(asyncio.wait_for(
            run_producer(_opts(tmp_path, duration_s=10), client=FakeKinesis(script)), timeout=5))
    summary = json.loads((tmp_path / "ledger.json.summary.json").read_text())
    assert summary["generated"] < 4000  # stopped long before the 10 s schedule ended
    assert summary["sent"] + summary["expired"] + summary["rejected"] == summary["generated"]
    assert summary["sent"] > 0 and summary["expired"] > 0
    ledger = read_ledger(tmp_path / "ledger.json")  # the records that never made it are there by seq
    assert (ledger.acked.count, ledger.expired.count, ledger.unknown.count) == (summary["sent"], summary["expired"], 0)


def test_ledger_records_rejected_seqs_with_their_reason_when_records_lack_the_key_field(tmp_path):
    seen_mid_run = []

    def script(index, keys):  # what a reader of the ledger finds while the run goes on
        seen_mid_run.append(read_ledger(tmp_path / "ledger.json"))
        return [None] * len(keys)

    opts = _opts(tmp_path, producer_id="p0", run_id="r", total=300, duration_s=10, partition_key="field:id.value")
    result = asyncio.run(run_producer(opts, client=FakeKinesis(script)))
    generator = make_generator("randomuser", producer_id="p0", seed=1, run_id="r")
    without_key = {seq for seq in range(300) if not orjson.loads(generator.generate(seq, 0.0).data)["id"]["value"]}
    assert 0 < len(without_key) < 300 and result.rejected == len(without_key)
    ledger = read_ledger(tmp_path / "ledger.json")
    assert_ledger_adds_up(ledger, result)
    assert list(ledger.rejected) == ["partition_key_missing"]
    assert seqs_of(ledger.rejected["partition_key_missing"]) == without_key
    # Mid-run too, every seq with an outcome is below the ledger's ``generated``.
    assert seen_mid_run and all(
        last < seen.generated for seen in seen_mid_run for ranges in seen.rejected.values() for _, last in ranges)


def test_run_removes_stale_summary_when_ledger_path_reused(tmp_path):
    stale = tmp_path / "ledger.json.summary.json"
    stale.write_text('{"done": true, "generated": 999}')

    async def scenario():
        stop = asyncio.Event()
        task = asyncio.create_task(run_producer(_opts(tmp_path, duration_s=30), client=FakeKinesis(), stop=stop))
        await asyncio.sleep(0.1)
        exists_while_running = stale.exists()
        stop.set()
        await task
        return exists_while_running

    assert asyncio.run(scenario()) is False
    assert json.loads(stale.read_text())["generated"] != 999


@pytest.mark.parametrize("bad, match", [
    ({"rate": 0}, "rate"),
    ({"stream_name": "has space"}, "stream name"),
    ({"batch_max_records": 501}, "500"),
    ({"record_ttl_s": -1}, "TTL"),
    ({"endpoint_url": "localhost:4567"}, "http"),
    ({"schema": "tweets"}, "schema"),
])
def test_options_raise_value_error_when_invalid(tmp_path, bad, match):
    with pytest.raises(ValueError, match=match):
        _opts(tmp_path, **bad)


def test_run_serves_prometheus_metrics_on_loopback_when_metrics_port_given(tmp_path):
    port = free_port()

    async def scenario():
        stop = asyncio.Event()
        task = asyncio.create_task(run_producer(
            _opts(tmp_path, duration_s=30, metrics_port=port), client=FakeKinesis(), stop=stop))
        await asyncio.sleep(0.3)
        url = f"http://127.0.0.1:{port}/metrics"
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read().decode())
        stop.set()
        await task
        return body

    body = asyncio.run(asyncio.wait_for(scenario(), timeout=10))
    assert "streamload_producer_target_rate 400.0" in body
    assert 'streamload_producer_records_total{outcome="sent"}' in body
    assert "streamload_producer_put_seconds_bucket" in body
    assert "# HELP streamload_producer_late_sends_total" in body
