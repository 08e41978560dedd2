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

from .exceptions import ExpiredNextTokenException, InvalidArgumentException

__all__ = ["ShardIteratorState", "encode_token", "decode_token", "encode_list_token", "decode_list_token"]

_ITERATOR_VERSION = "i1"
_LIST_TOKEN_TTL_S = 300.0
# Fields of a list-continuation token: kind, account, region, the position, the issue time.
_LIST_TOKEN_FIELDS = {"s1": 5, "l1": 7}  # s1: ListStreams (a name); l1: ListShards (stream, epoch, index)


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


def encode_list_token(kind: str, account_id: str, region: str, *position: object, now_s: float) -> str:
    """A ListStreams/ListShards NextToken: only its caller's account and region may use it."""
    return encode_token(kind, account_id, region, *position, int(now_s * 1000))


def decode_list_token(token: str, kind: str, account_id: str, region: str, now_s: float) -> list[str]:
    """The position a NextToken from ``encode_list_token`` carries; InvalidArgumentException
    if it is not one of ``kind`` for this caller, ExpiredNextTokenException after 300 s."""
    fields = decode_token(token, _LIST_TOKEN_FIELDS[kind])
    if fields is None or fields[0] != kind or fields[1:3] != [account_id, region]:
        raise InvalidArgumentException("Invalid NextToken.")
    if not fields[-1].isdecimal():
        raise InvalidArgumentException("Invalid NextToken.")
    if now_s * 1000 - int(fields[-1]) > _LIST_TOKEN_TTL_S * 1000:
        raise ExpiredNextTokenException("The NextToken has expired.")
    return fields[3:-1]


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
