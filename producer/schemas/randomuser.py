"""The ``randomuser`` schema: every field of a randomuser.me 1.4 result, 21 nationalities.

A record is composed, not built: one ``getrandbits(256)`` call yields the nationality, the
9 pool picks (see ``randomuser_pools``) and a fresh version-4 UUID, and one ``bytes.join``
glues pre-serialised fragments. That is ~100x cheaper than calling Faker per field
(``bench/generator.py`` measures both). Values that must agree come from one pool entry or
one draw: gender/title/portrait, name/e-mail, password/salt/digests, dates/ages.

Dates are rendered for the UTC day of the first ``produced_at`` (or ``anchor``), so ages
are right on that day and the stream stays a pure function of its inputs.
"""
from __future__ import annotations

import orjson
from orjson import dumps as _dumps  # a float in 1/4 of repr()'s time

from producer.schemas.base import UUID_RANDOM_BITS, UUID_V4_BITS, GeneratedRecord, RecordGenerator, SchemaError, \
    key_text, new_record, value_at
from producer.schemas.randomuser_pools import date_pool, nationality_pools, shared_pools

__all__ = ["RandomUserRecords"]

# Key fields served without decoding the record (string fields found by their unique
# prefix in the text); any other field path decodes the record, which is slower.
_FAST_KEYS = {"login.uuid": b'"login":{"uuid":"', "login.username": b'"username":"', "email": b'"email":"',
              "nat": None, "event_id": None, "producer_id": None, "seq": None}
FIELD_PATHS = frozenset((
    "event_id", "run_id", "producer_id", "seq", "produced_at", "gender", "name", "name.title", "name.first",
    "name.last", "location", "location.street", "location.street.number", "location.street.name",
    "location.city", "location.state", "location.country", "location.postcode", "location.coordinates",
    "location.coordinates.latitude", "location.coordinates.longitude", "location.timezone",
    "location.timezone.offset", "location.timezone.description", "email", "login", "login.uuid",
    "login.username", "login.password", "login.salt", "login.md5", "login.sha1", "login.sha256",
    "dob", "dob.date", "dob.age", "registered", "registered.date", "registered.age", "phone", "cell",
    "id", "id.name", "id.value", "picture", "picture.large", "picture.medium", "picture.thumbnail", "nat",
))


class RandomUserRecords(RecordGenerator):
    """Deterministic randomuser.me-shaped records for one producer."""

    schema = "randomuser"

    def __init__(self, producer_id: str, seed: int | None = None, run_id: str | None = None, *,
                 key_field: str | None = None, anchor: float | None = None) -> None:
        super().__init__(producer_id, seed=seed, run_id=run_id, key_field=key_field)
        self._nats = nationality_pools()
        shared = shared_pools()
        self._usernames, self._logins = shared.usernames, shared.logins
        self._dates = date_pool(int(anchor // 86400)) if anchor is not None else ()
        self._getrandbits = self.rng.getrandbits
        # JSON-escaped, open-ended: the sequence number and closing quote follow per record.
        self._envelope_start = b'{"event_id":' + orjson.dumps(self._event_prefix)[:-1]
        self._envelope_middle = (f'","run_id":{orjson.dumps(self.run_id).decode()},'
                                 f'"producer_id":{orjson.dumps(producer_id).decode()},"seq":').encode()
        self._fast_key = self.key_field if self.key_field in _FAST_KEYS else None
        if self.key_field and self.key_field not in FIELD_PATHS:
            raise SchemaError(f"{self.key_field}: key field is not a field of randomuser records; "
                              f"e.g. login.uuid, email, nat, location.city")

    def record(self, seq: int, produced_at: float) -> dict:
        """The record for ``seq`` as a dict (decoded from ``generate``, so always identical)."""
        return orjson.loads(self.generate(seq, produced_at).data)

    def generate(self, seq: int, produced_at: float) -> GeneratedRecord:
        """The record for ``seq`` serialised to JSON bytes, with its envelope and key."""
        r = self._getrandbits(256)
        # base.uuid4_text inlined, in bytes: 122 random bits + the version and variant bits.
        h = b"%032x" % ((r & UUID_RANDOM_BITS) | UUID_V4_BITS)
        r >>= 128
        nat = self._nats[(r & 0xFFFF) * 21 >> 16]
        head, first_ascii, picture = nat.heads[(r >> 16) & 0x7FF]
        last, last_ascii = nat.lasts[(r >> 27) & 0x3FF]
        seq_text = b"%d" % seq
        data = b"".join((
            self._envelope_start, seq_text, self._envelope_middle, seq_text, b',"produced_at":',
            _dumps(produced_at), b",", head, last, nat.addresses[(r >> 37) & 0xFFF],
            nat.geos[(r >> 49) & 0x3FF], b'"email":"', first_ascii, b".", last_ascii,
            b'@example.com","login":{"uuid":"', h[:8], b"-", h[8:12], b"-", h[12:16], b"-", h[16:20],
            b"-", h[20:], b'","username":"', self._usernames[(r >> 59) & 0xFFFF], b'",',
            self._logins[(r >> 75) & 0xFFF], (self._dates or self._anchor_dates(produced_at))[(r >> 87) & 0x1FFF],
            nat.contacts[(r >> 100) & 0xFFF], picture, nat.tail,
        ))
        event_id = f"{self._event_prefix}{seq}"
        if self.key_field is None:
            return new_record(event_id, seq, produced_at, data, None)
        return new_record(event_id, seq, produced_at, data, self._key(data, event_id, seq, nat.nat))

    def _anchor_dates(self, produced_at: float) -> tuple[bytes, ...]:
        self._dates = date_pool(int(produced_at // 86400))
        return self._dates

    def _key(self, data: bytes, event_id: str, seq: int, nat: str) -> str | None:
        fast = self._fast_key
        if fast == "event_id":
            return event_id
        if fast == "producer_id":
            return self.producer_id
        if fast == "seq":
            return str(seq)
        if fast == "nat":
            return nat
        if fast is not None:  # the other fast keys are fixed-position strings in the text
            start = data.index(_FAST_KEYS[fast]) + len(_FAST_KEYS[fast])
            return data[start:data.index(b'"', start)].decode()
        return key_text(value_at(orjson.loads(data), self.key_field))
