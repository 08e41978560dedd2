"""What every record generator shares: the envelope, the seed, the partition-key field.

The envelope (``event_id``, ``run_id``, ``producer_id``, ``seq``, ``produced_at``) leads every
record because the audit and the latency probe find records by it: the audit counts them in
SQL per ``run_id`` and ``producer_id`` (``seq`` is gap-free over what a producer generated); ``event_id`` is
``{producer_id}-{run_id}-{seq}`` so it stays unique when a run reuses a producer id and
seed. ``produced_at`` is the scheduler's *intended* send time (no coordinated omission).

A generator is a pure function of (schema, seed, run_id, producer_id, seq, produced_at):
one seeded ``random.Random`` drives it, nothing depends on hash order or the clock.
"""
from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass

import orjson

from streamload.core.errors import UsageError

__all__ = ["ENVELOPE_FIELDS", "GeneratedRecord", "RecordGenerator", "SchemaError", "iso_utc", "value_at"]

ENVELOPE_FIELDS = ("event_id", "run_id", "producer_id", "seq", "produced_at")


class SchemaError(UsageError, ValueError):
    """A schema, template or key field is unusable; the message names the field path.

    Also a ``ValueError``: the config checks turn any bad producer setting into a ConfigError.
    """


@dataclass(frozen=True)
class GeneratedRecord:
    """One encoded record plus the envelope fields the sender and ledger need.

    ``key`` is the string value at the generator's ``key_field`` (e.g. ``login.uuid``) when
    it was built with one, else None; the sender uses it as the partition key.
    """

    event_id: str
    seq: int
    produced_at: float
    data: bytes
    key: str | None = None


_new = object.__new__


def new_record(event_id: str, seq: int, produced_at: float, data: bytes,
               key: str | None = None) -> GeneratedRecord:
    """``GeneratedRecord(...)`` at 40 % of its cost: a frozen dataclass's ``__init__`` sets
    each field through ``object.__setattr__``, ~1 us per record at 100k records/s."""
    record = _new(GeneratedRecord)
    fields = record.__dict__
    fields["event_id"] = event_id
    fields["seq"] = seq
    fields["produced_at"] = produced_at
    fields["data"] = data
    fields["key"] = key
    return record


UUID_RANDOM_BITS = ((1 << 128) - 1) ^ (0xF << 76) ^ (0xC << 60)
UUID_V4_BITS = (0x4 << 76) | (0x8 << 60)  # version 4, RFC 4122 variant


def uuid4_text(bits: int) -> str:
    """A version-4 UUID from 128 random bits (122 of them used), as ``uuid.uuid4()`` prints it."""
    h = "%032x" % ((bits & UUID_RANDOM_BITS) | UUID_V4_BITS)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def iso_utc(epoch_s: float) -> str:
    """``2024-05-01T12:34:56.789Z``: randomuser.me's date format, to the millisecond."""
    millis = int(round(epoch_s * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000)) + f".{millis % 1000:03d}Z"


def key_text(value) -> str | None:
    """A field value as partition-key text: strings as they are, numbers and booleans as
    JSON; None for null, objects and lists, which make no partition key."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (dict, list)):
        return None
    return orjson.dumps(value).decode()


def value_at(doc: dict, path: str):
    """The value at dotted ``path`` in ``doc``; ``KeyError`` naming the path if absent."""
    node = doc
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(path)
        node = node[part]
    return node


class RecordGenerator:
    """Base for generators, built-in and plug-in.

    A plug-in subclasses this and implements ``body()``: the record's own fields as a dict,
    drawn from ``self.rng`` only (so ``--seed`` reproduces it). Generators that need more
    speed override ``generate`` and ``record`` and compose JSON text themselves (see
    ``randomuser``, ``template``); they have no ``body()``.
    """

    schema = "custom"

    def __init__(self, producer_id: str, *, seed: int | None = None, run_id: str | None = None,
                 key_field: str | None = None) -> None:
        self.producer_id = producer_id
        self.seed = seed if seed is not None else secrets.randbits(32)
        # Random unless given: tests pass it to compare runs byte for byte.
        self.run_id = run_id if run_id is not None else secrets.token_hex(4)
        self.key_field = key_field or None
        self.rng = random.Random(self.seed)
        self._event_prefix = f"{producer_id}-{self.run_id}-"

    def body(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must implement body()")

    def record(self, seq: int, produced_at: float) -> dict:
        """The record with sequence number ``seq`` as a dict, envelope first."""
        body = self.body()
        clash = next((name for name in ENVELOPE_FIELDS if name in body), None)
        if clash is not None:
            raise SchemaError(f"{clash}: schema {self.schema!r} sets an envelope field; "
                              f"{', '.join(ENVELOPE_FIELDS)} are reserved")
        return {"event_id": f"{self._event_prefix}{seq}", "run_id": self.run_id, "producer_id": self.producer_id,
                "seq": seq, "produced_at": produced_at, **body}

    def generate(self, seq: int, produced_at: float) -> GeneratedRecord:
        """The record for ``seq`` serialised to JSON bytes, with its envelope and key."""
        doc = self.record(seq, produced_at)
        key = self._key_from(doc) if self.key_field else None
        return new_record(doc["event_id"], seq, produced_at,
                          orjson.dumps(doc, default=str), key)

    def _key_from(self, doc: dict) -> str:
        try:
            return key_text(value_at(doc, self.key_field))
        except KeyError:
            raise SchemaError(f"{self.key_field}: key field is not a field of schema "
                              f"{self.schema!r} records") from None
