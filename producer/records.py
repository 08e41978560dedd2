"""randomuser.me-shaped records, fast enough for 100k records/s per core.

Faker is slow (~770 records/s when called per field per record), so it runs only once, to
fill value pools; each record is then composed from the pools with one seeded
``random.Random``. The same seed and ``run_id`` give byte-identical records.

Every record carries the envelope the audit and the latency probe rely on:
``event_id`` (unique across runs: producer id + run id + seq), ``producer_id``, ``seq``
(per producer, from 0) and ``produced_at`` (the scheduler's *intended* send time, so
measured latency has no coordinated omission).
"""
from __future__ import annotations

import functools
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import orjson
from faker import Faker

__all__ = ["RandomUserRecords", "GeneratedRecord", "SCHEMAS"]

SCHEMAS = ("randomuser",)

# (nat, country, Faker locale used for names and places): randomuser.me's nationalities.
_NATIONALITIES = (
    ("US", "United States", "en_US"),
    ("GB", "United Kingdom", "en_GB"),
    ("AU", "Australia", "en_AU"),
    ("CA", "Canada", "en_CA"),
    ("DE", "Germany", "de_DE"),
    ("FR", "France", "fr_FR"),
    ("ES", "Spain", "es_ES"),
    ("NL", "Netherlands", "nl_NL"),
    ("IE", "Ireland", "en_IE"),
    ("NZ", "New Zealand", "en_NZ"),
)
_TIMEZONES = (
    ("-12:00", "Eniwetok, Kwajalein"), ("-10:00", "Hawaii"), ("-8:00", "Pacific Time (US & Canada)"),
    ("-7:00", "Mountain Time (US & Canada)"), ("-6:00", "Central Time (US & Canada), Mexico City"),
    ("-5:00", "Eastern Time (US & Canada), Bogota, Lima"), ("-3:00", "Brazil, Buenos Aires, Georgetown"),
    ("0:00", "Western Europe Time, London, Lisbon, Casablanca"), ("+1:00", "Brussels, Copenhagen, Madrid, Paris"),
    ("+2:00", "Kaliningrad, South Africa"), ("+3:00", "Baghdad, Riyadh, Moscow, St. Petersburg"),
    ("+5:30", "Bombay, Calcutta, Madras, New Delhi"), ("+8:00", "Beijing, Perth, Singapore, Hong Kong"),
    ("+9:00", "Tokyo, Seoul, Osaka, Sapporo, Yakutsk"), ("+10:00", "Eastern Australia, Guam, Vladivostok"),
)
_PASSWORDS = (
    "password", "letmein", "dragon", "sunshine", "monkey", "shadow", "master", "qwerty",
    "trustno1", "football", "baseball", "superman", "batman", "hunter", "starwars", "iloveyou",
)
_TITLES = {"male": ("Mr",), "female": ("Ms", "Mrs", "Miss")}
_ID_NAMES = {"US": "SSN", "GB": "NINO", "AU": "TFN", "CA": "SIN", "DE": "SVNR", "FR": "INSEE",
             "ES": "DNI", "NL": "BSN", "IE": "PPS", "NZ": ""}
_YEAR_S = 365.2425 * 86400


@dataclass(frozen=True)
class _NationalityPool:
    nat: str
    country: str
    first_names: dict[str, tuple[str, ...]]  # by gender
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[str, ...]
    states: tuple[str, ...]
    postcodes: tuple[str, ...]
    phones: tuple[str, ...]


@dataclass(frozen=True)
class GeneratedRecord:
    """One encoded record plus the envelope fields the sender and ledger need."""

    event_id: str
    seq: int
    produced_at: float
    data: bytes


def _pool(n: int, make) -> tuple[str, ...]:
    return tuple(dict.fromkeys(make() for _ in range(n))) or ("unknown",)


def _build_nationality(nat: str, country: str, locale: str, seed: int, size: int) -> _NationalityPool:
    fake = Faker(locale)
    fake.seed_instance(seed)
    state = getattr(fake, "state", None) or getattr(fake, "county", None) or fake.city
    return _NationalityPool(
        nat=nat,
        country=country,
        first_names={"male": _pool(size, fake.first_name_male),
                     "female": _pool(size, fake.first_name_female)},
        last_names=_pool(size, fake.last_name),
        streets=_pool(size, fake.street_name),
        cities=_pool(size, fake.city),
        states=_pool(size // 4 or 1, state),
        postcodes=_pool(size, fake.postcode),
        phones=_pool(size, fake.phone_number),
    )


@functools.lru_cache(maxsize=8)
def _nationality_pools(seed: int, size: int) -> tuple[_NationalityPool, ...]:
    # Cached: building the pools costs ~1 s of Faker calls, and tests build many generators.
    return tuple(_build_nationality(nat, country, locale, seed + i, size)
                 for i, (nat, country, locale) in enumerate(_NATIONALITIES))


def _iso_millis(epoch_s: float) -> str:
    dt = datetime.fromtimestamp(epoch_s, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class RandomUserRecords:
    """Deterministic randomuser.me-shaped records for one producer.

    ``run_id`` makes ``event_id`` unique across runs that reuse a producer id and seed;
    it is random unless given (tests pass it to compare runs byte for byte).
    """

    schema = "randomuser"

    def __init__(self, producer_id: str, seed: int | None = None, run_id: str | None = None,
                 pool_size: int = 300, now: float | None = None) -> None:
        self.producer_id = producer_id
        self.seed = seed if seed is not None else secrets.randbits(32)
        self.run_id = run_id if run_id is not None else secrets.token_hex(4)
        self._rng = random.Random(self.seed)
        self._nats = _nationality_pools(self.seed, pool_size)
        # Dates are pre-rendered: strftime per record would cost more than the rest. They
        # are relative to midnight UTC so the same seed gives the same records all day.
        now = (time.time() // 86400) * 86400 if now is None else now
        date_rng = random.Random(self.seed ^ 0x5EED)
        self._dobs = self._date_pool(date_rng, now, 18, 80, pool_size * 4)
        self._registered = self._date_pool(date_rng, now, 0, 20, pool_size * 4)
        self._event_prefix = f"{producer_id}-{self.run_id}-"

    @staticmethod
    def _date_pool(rng: random.Random, now: float, min_years: int, max_years: int,
                   size: int) -> tuple[tuple[str, int], ...]:
        out = []
        for _ in range(size):
            age_s = rng.uniform(min_years * _YEAR_S, (max_years + 1) * _YEAR_S)
            out.append((_iso_millis(now - age_s), int(age_s // _YEAR_S)))
        return tuple(out)

    def record(self, seq: int, produced_at: float) -> dict:
        """The record with sequence number ``seq``, stamped with its intended send time."""
        rng = self._rng
        uniform = rng.random  # random() + index is ~3x cheaper than Random.choice

        def choice(pool):
            return pool[int(uniform() * len(pool))]

        nat = choice(self._nats)
        gender = "male" if rng.random() < 0.5 else "female"
        first = choice(nat.first_names[gender])
        last = choice(nat.last_names)
        # One draw feeds the uuid, the three digests and the salt: 32 + 136 + 8 hex digits.
        digits = f"{rng.getrandbits(704):0176x}"
        uuid = f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-a{digits[17:20]}-{digits[20:32]}"
        username = f"{first.lower()}{last.lower()}{100 + int(uniform() * 900)}".replace(" ", "")
        tz_offset, tz_description = choice(_TIMEZONES)
        dob, dob_age = choice(self._dobs)
        registered, registered_age = choice(self._registered)
        portrait = f"{'men' if gender == 'male' else 'women'}/{int(uniform() * 100)}.jpg"
        return {
            "event_id": f"{self._event_prefix}{seq}",
            "producer_id": self.producer_id,
            "seq": seq,
            "produced_at": produced_at,
            "gender": gender,
            "name": {"title": choice(_TITLES[gender]), "first": first, "last": last},
            "location": {
                "street": {"number": 1 + int(uniform() * 9999), "name": choice(nat.streets)},
                "city": choice(nat.cities),
                "state": choice(nat.states),
                "country": nat.country,
                "postcode": choice(nat.postcodes),
                "coordinates": {"latitude": f"{rng.uniform(-90, 90):.4f}",
                                "longitude": f"{rng.uniform(-180, 180):.4f}"},
                "timezone": {"offset": tz_offset, "description": tz_description},
            },
            "email": f"{first}.{last}@example.com".lower().replace(" ", ""),
            "login": {
                "uuid": uuid,
                "username": username,
                "password": choice(_PASSWORDS),
                "salt": digits[168:176],
                # Look-alike digests: real hashing would be wasted work for a load test.
                "md5": digits[32:64],
                "sha1": digits[64:104],
                "sha256": digits[104:168],
            },
            "dob": {"date": dob, "age": dob_age},
            "registered": {"date": registered, "age": registered_age},
            "phone": choice(nat.phones),
            "cell": choice(nat.phones),
            "id": {"name": _ID_NAMES[nat.nat],
                   "value": f"{100_000_000 + int(uniform() * 900_000_000)}" if _ID_NAMES[nat.nat] else None},
            "picture": {
                "large": f"https://randomuser.me/api/portraits/{portrait}",
                "medium": f"https://randomuser.me/api/portraits/med/{portrait}",
                "thumbnail": f"https://randomuser.me/api/portraits/thumb/{portrait}",
            },
            "nat": nat.nat,
        }

    def generate(self, seq: int, produced_at: float) -> GeneratedRecord:
        """The record for ``seq`` serialised to JSON bytes, with its envelope."""
        return GeneratedRecord(
            event_id=f"{self._event_prefix}{seq}",
            seq=seq,
            produced_at=produced_at,
            data=orjson.dumps(self.record(seq, produced_at)),
        )
