"""Partition keys (and optional explicit hash keys): where in the stream each record lands.

Strategies (``--partition-key``):

* ``random`` (default) -- the record's ``event_id``. It is unique per record, so MD5
  spreads records evenly over the shards, and it is reproducible with ``--seed``.
* ``field:PATH`` -- the value at a dotted path in the record, e.g. ``field:login.uuid``:
  records of one entity stay in order on one shard. The generator is asked for that
  value (``GeneratedRecord.key``, built with ``key_field=PATH``); a generator that does
  not provide it costs a JSON parse per record instead.
* ``hot`` or ``hot:KEY`` -- one key for every record: all traffic on one shard, for skew
  and throttling tests.

``--explicit-hash-key random`` gives each record a uniformly random 128-bit hash key
(derived from its ``event_id``, so reproducible); ``--explicit-hash-key N`` routes every
record to the shard owning hash key N. Kinesis routes by the explicit hash key when
present, else by MD5 of the partition key.

A record whose key cannot be formed (field missing or empty, longer than Kinesis's 256
characters) is not sent: the caller counts it ``rejected`` with the reason returned.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from producer.schemas import GeneratedRecord

__all__ = ["PartitionKeys", "KeyedRecord", "hash_key_of", "MAX_HASH_KEY", "MAX_PARTITION_KEY_CHARS"]

MAX_HASH_KEY = 2**128 - 1
MAX_PARTITION_KEY_CHARS = 256


def hash_key_of(partition_key: str) -> int:
    """The 128-bit hash key Kinesis routes a partition key by: MD5 of its UTF-8 bytes."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


@dataclass(slots=True)
class KeyedRecord:
    """A generated record with where it goes; ``size`` is what Kinesis counts toward its
    record and request limits (data + partition key)."""

    record: GeneratedRecord
    partition_key: str
    explicit_hash_key: str | None
    size: int
    shard: str | None = None  # where the shard map expects it (set when paced)

    @property
    def hash_key(self) -> int:
        if self.explicit_hash_key is not None:
            return int(self.explicit_hash_key)
        return hash_key_of(self.partition_key)

    def entry(self) -> dict:
        """The PutRecords entry."""
        out = {"Data": self.record.data, "PartitionKey": self.partition_key}
        if self.explicit_hash_key is not None:
            out["ExplicitHashKey"] = self.explicit_hash_key
        return out


def _lookup(doc: object, path: tuple[str, ...]) -> object:
    for part in path:
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


class PartitionKeys:
    """Turns generated records into ``KeyedRecord``s for one strategy."""

    def __init__(self, strategy: str = "random", explicit_hash_key: str | None = None) -> None:
        self.strategy = strategy
        self.key_field: str | None = None
        self._hot: str | None = None
        kind, _, arg = strategy.partition(":")
        if kind == "random" and not arg:
            pass
        elif kind == "field" and arg and all(arg.split(".")):
            self.key_field = arg
            self._path = tuple(arg.split("."))
        elif kind == "hot":
            self._hot = arg or "hot"
            if len(self._hot) > MAX_PARTITION_KEY_CHARS:
                raise ValueError(f"hot partition key is {len(self._hot)} characters; Kinesis allows 1-256")
        else:
            raise ValueError(f"bad partition key strategy {strategy!r}: use random, field:PATH "
                             f"(e.g. field:login.uuid) or hot[:KEY]")
        self._fixed_hash_key: str | None = None
        self._random_hash_key = False
        if explicit_hash_key == "random":
            self._random_hash_key = True
        elif explicit_hash_key is not None:
            text = explicit_hash_key.strip()
            if not text.isdecimal() or not 0 <= int(text) <= MAX_HASH_KEY:
                raise ValueError(f"bad explicit hash key {explicit_hash_key!r}: use 'random' or an integer "
                                 f"in [0, 2^128-1]")
            self._fixed_hash_key = str(int(text))

    def _key(self, record: GeneratedRecord) -> str | None:
        if self._hot is not None:
            return self._hot
        if self.key_field is None:
            return record.event_id
        value = getattr(record, "key", None)
        if value is None:  # a generator without key_field support: read the payload
            try:
                value = _lookup(orjson.loads(record.data), self._path)
            except orjson.JSONDecodeError:
                value = None
        if value is None or isinstance(value, (dict, list)):
            return None
        return value if isinstance(value, str) else orjson.dumps(value).decode()

    def wrap(self, record: GeneratedRecord) -> KeyedRecord | str:
        """The keyed record, or the reason it cannot be sent."""
        key = self._key(record)
        if not key:
            return "partition_key_missing"
        if len(key) > MAX_PARTITION_KEY_CHARS:
            return "partition_key_too_long"
        if self._random_hash_key:
            digest = hashlib.blake2b(record.event_id.encode(), digest_size=16).digest()
            hash_key: str | None = str(int.from_bytes(digest, "big"))
        else:
            hash_key = self._fixed_hash_key
        return KeyedRecord(record, key, hash_key, len(record.data) + len(key.encode()))

    def wrap_all(self, records: list[GeneratedRecord]) -> tuple[list[KeyedRecord], dict[str, list[int]]]:
        """(keyed records, rejection reason -> the seqs rejected for it)."""
        keyed: list[KeyedRecord] = []
        rejected: dict[str, list[int]] = {}
        for record in records:
            out = self.wrap(record)
            if isinstance(out, str):
                rejected.setdefault(out, []).append(record.seq)
            else:
                keyed.append(out)
        return keyed, rejected
