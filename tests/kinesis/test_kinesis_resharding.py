"""UpdateShardCount to uneven counts (3 -> 5, 5 -> 3): AWS reaches them by SplitShard and
MergeShards on individual shards, leaving short-lived shards; every child names one parent
(split) or a parent and an adjacent parent (merge), so a consumer following the lineage
finds every record, in order per partition key."""
from __future__ import annotations

import pytest

from emulator.kinesis import CallerIdentity, KinesisBackend, KinesisSettings, PutRecordsEntry
from emulator.kinesis.exceptions import LimitExceededException
from emulator.kinesis.shards import hash_key_ranges

CALLER = CallerIdentity("000000000000", "us-east-1", "streamload-local")


def _put(backend: KinesisBackend, keys: list[str], tag: str) -> None:
    results = backend.put_records(CALLER, [PutRecordsEntry(f"{tag}:{k}".encode(), k) for k in keys], stream_name="s")
    assert all(r.error_code is None for r in results)


def _read_all(backend: KinesisBackend, shard_id: str) -> list[bytes]:
    iterator = backend.get_shard_iterator(CALLER, shard_id, "TRIM_HORIZON", "s")
    data = []
    for _ in range(100):
        page = backend.get_records(iterator, 10_000)
        data += [r.data for r in page.records]
        if page.next_shard_iterator is None:
            return data
        if not page.records:
            raise AssertionError(f"{shard_id} is open: a closed shard must end")
        iterator = page.next_shard_iterator
    raise AssertionError("never ended")


@pytest.mark.parametrize(("before", "after"), [(3, 5), (5, 3), (2, 3), (4, 2), (2, 4), (6, 7)])
def test_uneven_update_shard_count_ends_uniform_with_one_or_two_parents_per_child_when_scaling(before, after):
    backend = KinesisBackend(KinesisSettings.unthrottled())
    stream = backend.create_stream(CALLER, "s", before)
    stream_before = {s.shard_id for s in stream.shards}
    backend.update_shard_count(CALLER, after, stream_name="s")

    assert [(s.starting_hash_key, s.ending_hash_key) for s in stream.open_shards] == hash_key_ranges(after)
    by_id = {s.shard_id: s for s in stream.shards}
    for shard in stream.shards:
        if shard.shard_id in stream_before:
            continue
        parent = by_id[shard.parent_shard_id]
        assert parent.ending_sequence_number is not None  # parents are closed
        if shard.adjacent_parent_shard_id is None:  # a split: the child lies inside its parent
            assert parent.starting_hash_key <= shard.starting_hash_key <= shard.ending_hash_key <= parent.ending_hash_key
        else:  # a merge: two neighbours, the child is exactly both
            adjacent = by_id[shard.adjacent_parent_shard_id]
            assert adjacent.ending_sequence_number is not None
            assert parent.ending_hash_key + 1 == adjacent.starting_hash_key
            assert (shard.starting_hash_key, shard.ending_hash_key) == (parent.starting_hash_key, adjacent.ending_hash_key)
    # Every closed shard's range is taken over by its children: nothing falls between.
    for closed in (s for s in stream.shards if not s.is_open):
        children = sorted((s for s in stream.shards if closed.shard_id in (s.parent_shard_id, s.adjacent_parent_shard_id)),
                          key=lambda s: s.starting_hash_key)
        assert children and children[0].starting_hash_key <= closed.starting_hash_key
        assert children[-1].ending_hash_key >= closed.ending_hash_key


def test_three_to_five_leaves_short_lived_shards_and_keeps_per_key_order_when_read_by_lineage():
    backend = KinesisBackend(KinesisSettings.unthrottled())
    stream = backend.create_stream(CALLER, "s", 3)
    keys = [f"key-{i}" for i in range(200)]
    _put(backend, keys, "before")
    backend.update_shard_count(CALLER, 5, stream_name="s")
    _put(backend, keys, "after")

    short_lived = [s for s in stream.shards if not s.is_open and s.parent_shard_id is not None]
    assert short_lived, "3 -> 5 needs intermediate shards"
    assert all(_read_all(backend, s.shard_id) == [] for s in short_lived)
    # Read like a KCL consumer: a shard only after its parents are done.
    done: set[str] = set()
    seen: list[bytes] = []
    while len(done) < len(stream.shards):
        ready = [s for s in stream.shards if s.shard_id not in done
                 and all(p is None or p in done for p in (s.parent_shard_id, s.adjacent_parent_shard_id))]
        assert ready, "lineage has a cycle or a dangling parent"
        for shard in ready:
            seen += _read_all(backend, shard.shard_id) if not shard.is_open else \
                [r.data for r in backend.get_records(backend.get_shard_iterator(CALLER, shard.shard_id, "TRIM_HORIZON", "s"),
                                                     10_000).records]
            done.add(shard.shard_id)
    assert sorted(seen) == sorted(f"{tag}:{k}".encode() for tag in ("before", "after") for k in keys)
    for key in keys:
        mine = [d for d in seen if d.endswith(f":{key}".encode())]
        assert mine == [f"before:{key}".encode(), f"after:{key}".encode()]


def test_update_shard_count_refuses_when_short_lived_shards_would_pass_the_shard_quota():
    backend = KinesisBackend(KinesisSettings.unthrottled(max_shards_per_region=6))
    backend.create_stream(CALLER, "s", 3)
    # 3 -> 5 opens 7 shards at its peak (every old and new boundary), one over the quota.
    with pytest.raises(LimitExceededException, match="additional shards that would have resulted from this request: 4"):
        backend.update_shard_count(CALLER, 5, stream_name="s")
    roomy = KinesisBackend(KinesisSettings.unthrottled(max_shards_per_region=7))
    roomy.create_stream(CALLER, "s", 3)
    roomy.update_shard_count(CALLER, 5, stream_name="s")
