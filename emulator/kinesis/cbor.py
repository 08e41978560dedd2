"""The small part of CBOR (RFC 8949) that AWS's ``application/x-amz-cbor-1.1`` Kinesis
protocol uses, so SDKs that speak it (the AWS SDK for Java, the KPL and KCL, unless
``AWS_CBOR_DISABLE`` / ``com.amazonaws.sdk.disableCbor`` is set) work unchanged.
botocore never sends CBOR to Kinesis (its model says ``json``).

Types: maps, arrays, text and byte strings, integers, floats, booleans, null, and tag 1
timestamps. AWS writes timestamps as tag 1 over epoch *milliseconds* (not RFC seconds);
``loads`` reads tag 1 values above 10^11 as milliseconds, smaller ones as seconds, and
returns epoch seconds as a float either way. Indefinite-length items are accepted on
input. Malformed input raises ``CborError``, never anything else.
"""
from __future__ import annotations

import struct
from typing import Any

__all__ = ["CborError", "EpochTimestamp", "dumps", "loads"]

_MAX_DEPTH = 64
_MILLIS_THRESHOLD = 10**11  # ~1973 in milliseconds, ~5138 AD in seconds


class CborError(ValueError):
    """The bytes are not the CBOR this server reads."""


class EpochTimestamp(float):
    """Epoch seconds that ``dumps`` writes as AWS does: tag 1 over integer milliseconds."""


def _head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([major << 5 | value])
    for extra, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if value < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | extra]) + struct.pack(fmt, value)
    raise CborError("integer too large for CBOR")


def dumps(value: Any) -> bytes:
    out = bytearray()
    _encode(value, out)
    return bytes(out)


def _encode(value: Any, out: bytearray) -> None:
    if value is None:
        out.append(0xF6)
    elif value is True:
        out.append(0xF5)
    elif value is False:
        out.append(0xF4)
    elif isinstance(value, EpochTimestamp):
        out += _head(6, 1) + _int_bytes(round(value * 1000))
    elif isinstance(value, int):
        out += _int_bytes(value)
    elif isinstance(value, float):
        out += b"\xfb" + struct.pack(">d", value)
    elif isinstance(value, str):
        data = value.encode("utf-8", "backslashreplace")  # lone surrogates: escaped, still UTF-8
        out += _head(3, len(data)) + data
    elif isinstance(value, (bytes, bytearray)):
        out += _head(2, len(value)) + value
    elif isinstance(value, (list, tuple)):
        out += _head(4, len(value))
        for item in value:
            _encode(item, out)
    elif isinstance(value, dict):
        out += _head(5, len(value))
        for key, item in value.items():
            _encode(key, out)
            _encode(item, out)
    else:
        raise CborError(f"cannot encode {type(value).__name__}")


def _int_bytes(value: int) -> bytes:
    return _head(0, value) if value >= 0 else _head(1, -1 - value)


def loads(data: bytes) -> Any:
    decoder = _Decoder(data)
    value = decoder.item(0)
    if value is _BREAK:
        raise CborError("unexpected break")
    if decoder.pos != len(data):
        raise CborError("trailing bytes after the CBOR item")
    return value


_BREAK = object()


class _Decoder:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, count: int) -> bytes:
        end = self.pos + count
        if count < 0 or end > len(self.data):
            raise CborError("CBOR item ends early")
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def _argument(self, info: int) -> int | None:
        if info < 24:
            return info
        if info in (24, 25, 26, 27):
            return int.from_bytes(self._take(1 << (info - 24)), "big")
        if info == 31:
            return None  # indefinite length
        raise CborError(f"reserved additional information {info}")

    def item(self, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise CborError("CBOR nested too deeply")
        initial = self._take(1)[0]
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            return self._simple(info)
        argument = self._argument(info)
        if major == 0:
            return self._definite(argument)
        if major == 1:
            return -1 - self._definite(argument)
        if major in (2, 3):
            raw = self._string(major, argument, depth)
            if major == 2:
                return raw
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                raise CborError("text string is not UTF-8") from None
        if major == 4:
            return self._sequence(argument, depth)
        if major == 5:
            return self._map(argument, depth)
        return self._tagged(self._definite(argument), depth)  # major 6

    @staticmethod
    def _definite(argument: int | None) -> int:
        if argument is None:
            raise CborError("indefinite length where a number is required")
        return argument

    def _simple(self, info: int) -> Any:
        if info == 20:
            return False
        if info == 21:
            return True
        if info in (22, 23):
            return None
        if info == 25:
            return _half(self._take(2))
        if info == 26:
            return struct.unpack(">f", self._take(4))[0]
        if info == 27:
            return struct.unpack(">d", self._take(8))[0]
        if info == 31:
            return _BREAK
        raise CborError(f"unsupported simple value {info}")

    def _string(self, major: int, argument: int | None, depth: int) -> bytes:
        if argument is not None:
            return bytes(self._take(argument))
        chunks = []
        while (chunk := self.item(depth + 1)) is not _BREAK:
            if not isinstance(chunk, (bytes, str)) or (major == 2) != isinstance(chunk, bytes):
                raise CborError("indefinite string chunk of the wrong type")
            chunks.append(chunk if isinstance(chunk, bytes) else chunk.encode())
        return b"".join(chunks)

    def _sequence(self, argument: int | None, depth: int) -> list:
        items = []
        count = 0
        while argument is None or count < argument:
            item = self.item(depth + 1)
            if item is _BREAK:
                if argument is None:
                    return items
                raise CborError("unexpected break")
            items.append(item)
            count += 1
        return items

    def _map(self, argument: int | None, depth: int) -> dict:
        result: dict = {}
        count = 0
        while argument is None or count < argument:
            key = self.item(depth + 1)
            if key is _BREAK and argument is None:
                return result
            if not isinstance(key, str):
                raise CborError("map keys must be text strings")
            value = self.item(depth + 1)
            if value is _BREAK:
                raise CborError("map ends between a key and its value")
            result[key] = value
            count += 1
        return result

    def _tagged(self, tag: int, depth: int) -> Any:
        value = self.item(depth + 1)
        if tag != 1:
            return value  # other tags: the plain value is what the shape wants
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CborError("timestamp tag over a value that is not a number")
        return value / 1000 if abs(value) >= _MILLIS_THRESHOLD else float(value)


def _half(raw: bytes) -> float:
    bits = int.from_bytes(raw, "big")
    sign = -1.0 if bits & 0x8000 else 1.0
    exponent, fraction = (bits >> 10) & 0x1F, bits & 0x3FF
    if exponent == 0:
        return sign * fraction * 2.0**-24
    if exponent == 31:
        return sign * (float("inf") if fraction == 0 else float("nan"))
    return sign * (1 + fraction / 1024) * 2.0 ** (exponent - 15)
