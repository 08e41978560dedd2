"""Shard iterators and list-continuation tokens: opaque strings that carry their own state.

Nothing is stored per iterator, so abandoned iterators cost no memory (consumers make one
per GetRecords call). Each iterator carries the stream incarnation it was issued for, the
sequence number to read from, and when it was issued, so expiry (5 min) and "stream was
deleted and re-created" are decided from the token alone.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from .exceptions import InvalidArgumentException

__all__ = ["ShardIteratorState", "encode_token", "decode_token"]

_ITERATOR_VERSION = "i1"


def encode_token(*fields: object) -> str:
    raw = "|".join(str(f) for f in fields).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_token(token: str, field_count: int) -> list[str] | None:
    """The fields of a token from ``encode_token``, or None if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    fields = raw.split("|")
    return fields if len(fields) == field_count else None


@dataclass(frozen=True, slots=True)
class ShardIteratorState:
    account_id: str
    region: str
    stream_name: str
    stream_epoch_us: int
    shard_index: int
    # Read records whose sequence number is >= this (AFTER_SEQUENCE_NUMBER adds one).
    start_sequence_number: int
    issued_ms: int

    def encode(self) -> str:
        return encode_token(
            _ITERATOR_VERSION,
            self.account_id,
            self.region,
            self.stream_name,
            self.stream_epoch_us,
            self.shard_index,
            self.start_sequence_number,
            self.issued_ms,
        )

    @classmethod
    def decode(cls, token: str) -> "ShardIteratorState":
        fields = decode_token(token, 8)
        if fields is None or fields[0] != _ITERATOR_VERSION:
            raise InvalidArgumentException("Invalid ShardIterator.")
        try:
            return cls(
                account_id=fields[1],
                region=fields[2],
                stream_name=fields[3],
                stream_epoch_us=int(fields[4]),
                shard_index=int(fields[5]),
                start_sequence_number=int(fields[6]),
                issued_ms=int(fields[7]),
            )
        except ValueError:
            raise InvalidArgumentException("Invalid ShardIterator.") from None

    def advanced_to(self, start_sequence_number: int, issued_ms: int) -> "ShardIteratorState":
        return ShardIteratorState(
            self.account_id,
            self.region,
            self.stream_name,
            self.stream_epoch_us,
            self.shard_index,
            start_sequence_number,
            issued_ms,
        )
