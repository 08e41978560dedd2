"""Value pools for the randomuser schema, built once per process from Faker.

Faker costs ~1 ms per randomuser record, so it only fills pools; every pool entry is a
pre-serialised JSON fragment, and a record is one ``getrandbits`` call that picks 9
fragments plus a fresh UUID. Pools hold a power-of-two number of entries so a pick is a
mask, and the fragments that must agree (gender, title and portrait; first name and its
email spelling; password, salt and their digests; dates and ages) sit in one entry.

The pools come from a fixed seed, not the record seed: every seed draws from the same
vocabulary (so they are built once and cached) while the seed decides the combinations.
Only the date pool depends on time: it is rendered for one anchor day so ages match dates.
"""
from __future__ import annotations

import functools
import hashlib
import random
import re
import string
from datetime import datetime, timezone

import orjson
from faker import Faker
from text_unidecode import unidecode

from producer.schemas.randomuser_nats import NATIONALITIES, TIMEZONES, NationalitySpec, titles_for

__all__ = ["NatPools", "SharedPools", "nationality_pools", "shared_pools", "date_pool", "ascii_fold"]

HEADS, LASTS, ADDRESSES, GEOS, CONTACTS = 2048, 1024, 4096, 1024, 4096
USERNAMES, LOGINS, DATES = 65536, 4096, 8192
_POOL_SEED = 0x5EED_0001
_YEAR_S = 365.2425 * 86400

# randomuser.me usernames are adjective + animal + 3 digits ("bigbird123").
_ADJECTIVES = (
    "big", "small", "tiny", "happy", "sad", "angry", "lazy", "crazy", "silver", "golden",
    "red", "blue", "green", "purple", "orange", "black", "white", "brown", "yellow", "beautiful",
    "heavy", "organic", "ticklish", "fierce", "brave", "quiet", "loud", "swift", "sleepy", "wild",
    "lucky", "shy",
)
_ANIMALS = (
    "bird", "cat", "dog", "duck", "elephant", "fish", "frog", "goose", "gorilla", "koala",
    "ladybug", "leopard", "lion", "meercat", "monkey", "mouse", "ostrich", "panda", "peacock",
    "rabbit", "snake", "swan", "tiger", "tortoise", "wolf", "zebra", "bear", "butterfly",
    "buffalo", "dolphin", "owl", "penguin", "fox", "otter", "beaver", "crab", "lynx", "moose",
    "rhino", "seal", "shark", "sparrow", "falcon", "horse", "kangaroo", "lizard", "camel", "yak",
)
_PASSWORDS = (
    "password", "letmein", "dragon", "sunshine", "monkey", "shadow", "master", "qwerty",
    "trustno1", "football", "baseball", "superman", "batman", "hunter", "starwars", "iloveyou",
    "tigers", "dave", "beer", "lauren", "789456", "pepper", "cookie", "summer", "freedom",
    "whatever", "ranger", "jordan", "harley", "thomas", "robert", "soccer", "hockey", "killer",
    "george", "charlie", "andrew", "michelle", "love", "jessica", "pokemon", "2000", "banana",
    "ginger", "silver", "golfer", "diamond", "cowboy", "eagles", "compaq", "merlin", "yankees",
    "rainbow", "scooter", "bigdog", "matrix", "corvette", "mustang", "access", "flower", "hello",
    "secret", "1234", "abcdef",
)
_SALT_CHARS = string.ascii_letters + string.digits
_PROVIDERS = ["faker.providers.person", "faker.providers.address", "faker.providers.phone_number"]


def _dumps(value) -> str:
    return orjson.dumps(value).decode()


def ascii_fold(text: str) -> str:
    """``Đorđe Ćosić`` -> ``dordecosic``, ``Богуслав`` -> ``boguslav``: e-mail spelling."""
    return re.sub(r"[^a-z0-9]", "", unidecode(text).lower()) or "user"


_MEMO: dict[str, bytes] = {}  # text -> its one bytes object, while pools are being built


def _encode(values: tuple) -> tuple:
    """Fragments as UTF-8 bytes: joining bytes skips a per-record encode of ~1.2 KB text.
    Equal fragments become one object (200 portraits, not 43,000 copies), so the pools a
    record touches stay in the CPU cache: that alone is ~10 % of the time per record."""
    def encode(text: str) -> bytes:
        return _MEMO.setdefault(text, text.encode())
    return tuple(tuple(map(encode, value)) if isinstance(value, tuple) else encode(value) for value in values)


class NatPools:
    """One nationality's pre-serialised fragments, as bytes (slots: cheap attribute access)."""

    __slots__ = ("nat", "heads", "lasts", "addresses", "geos", "contacts", "tail")

    def __init__(self, nat: str, heads, lasts, addresses, geos, contacts) -> None:
        self.nat = nat
        self.heads = _encode(heads)  # (gender + name.title/first, first name folded, picture)
        self.lasts = _encode(lasts)  # (name.last closing the name, last name folded)
        self.addresses = _encode(addresses)  # location up to postcode
        self.geos = _encode(geos)  # coordinates + timezone, closing the location
        self.contacts = _encode(contacts)  # phone, cell and id
        self.tail = f'"nat":"{nat}"}}'.encode()


class SharedPools:
    __slots__ = ("usernames", "logins")

    def __init__(self, usernames, logins) -> None:
        self.usernames = _encode(usernames)
        self.logins = _encode(logins)  # login.password .. sha256, closing the login object


def _unique(make, n: int) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(make()) for _ in range(n))) or ("unknown",)


def _fill(pattern: str, rng: random.Random) -> str:
    """Faker's ``bothify`` (``#`` a digit, ``?`` an upper-case letter) at a tenth of its cost."""
    return "".join(str(int(rng.random() * 10)) if c == "#"
                   else string.ascii_uppercase[int(rng.random() * 26)] if c == "?" else c
                   for c in pattern)


def _phone(fake: Faker, spec: NationalitySpec, rng: random.Random) -> str:
    if spec.phone_format:
        return _fill(spec.phone_format, rng)
    return re.split(r"\s*x", fake.phone_number())[0]  # drop US-style extensions


def _pick(rng: random.Random, values):
    return values[int(rng.random() * len(values))]


def _draws(rng: random.Random, values: tuple, n: int) -> tuple:
    return tuple(values[int(rng.random() * len(values))] for _ in range(n))


def _heads(fake: Faker, spec: NationalitySpec, rng: random.Random) -> tuple:
    titles = {gender: tuple(map(_dumps, names)) for gender, names in titles_for(spec).items()}
    firsts = {gender: tuple((_dumps(name), ascii_fold(name)) for name in _unique(make, 250))
              for gender, make in (("male", fake.first_name_male), ("female", fake.first_name_female))}
    heads = []
    for _ in range(HEADS):
        gender = "male" if rng.random() < 0.5 else "female"
        first, first_ascii = _pick(rng, firsts[gender])
        portrait = f"{'men' if gender == 'male' else 'women'}/{int(rng.random() * 100)}.jpg"
        picture = (f'"picture":{{"large":"https://randomuser.me/api/portraits/{portrait}",'
                   f'"medium":"https://randomuser.me/api/portraits/med/{portrait}",'
                   f'"thumbnail":"https://randomuser.me/api/portraits/thumb/{portrait}"}},')
        fragment = f'"gender":"{gender}","name":{{"title":{_pick(rng, titles[gender])},"first":{first},'
        heads.append((fragment, first_ascii, picture))
    return tuple(heads)


def _addresses(fake: Faker, spec: NationalitySpec, rng: random.Random) -> tuple[str, ...]:
    if spec.street_suffixes:
        streets = tuple(f"{fake.last_name()} {_pick(rng, spec.street_suffixes)}" for _ in range(200))
    else:
        streets = _unique(fake.street_name, 200)
    streets = tuple(map(_dumps, streets))
    cities = tuple(map(_dumps, spec.cities or _unique(fake.city, 150)))
    states = tuple(map(_dumps, spec.states or _unique(getattr(fake, spec.state_provider), 60)))
    make_postcode = (lambda: _fill(spec.postcode_format, rng)) if spec.postcode_format else fake.postcode
    postcodes = tuple(map(_dumps, _unique(make_postcode, 250)))
    country = _dumps(spec.country)
    return tuple(
        f'"location":{{"street":{{"number":{1 + int(rng.random() * 9999)},"name":{_pick(rng, streets)}}},'
        f'"city":{_pick(rng, cities)},"state":{_pick(rng, states)},"country":{country},'
        f'"postcode":{_pick(rng, postcodes)},'
        for _ in range(ADDRESSES))


def _geos(spec: NationalitySpec, rng: random.Random) -> tuple[str, ...]:
    (lat0, lat1), (lon0, lon1) = spec.latitude, spec.longitude
    out = []
    for _ in range(GEOS):
        offset = _pick(rng, spec.tz_offsets)
        out.append(f'"coordinates":{{"latitude":"{rng.uniform(lat0, lat1):.4f}",'
                   f'"longitude":"{rng.uniform(lon0, lon1):.4f}"}},'
                   f'"timezone":{{"offset":"{offset}","description":{_dumps(TIMEZONES[offset])}}}}},')
    return tuple(out)


def _contacts(spec: NationalitySpec, phones: tuple[str, ...], rng: random.Random) -> tuple[str, ...]:
    def id_member() -> str:
        if not spec.id_name:
            return '"id":{"name":"","value":null},'
        return f'"id":{{"name":"{spec.id_name}","value":"{_fill(spec.id_format, rng)}"}},'
    return tuple(f'"phone":{_pick(rng, phones)},"cell":{_pick(rng, phones)},{id_member()}'
                 for _ in range(CONTACTS))


def _build_nationality(spec: NationalitySpec, index: int) -> NatPools:
    fake = Faker(spec.locale, providers=_PROVIDERS)  # 15x quicker than loading every provider
    fake.seed_instance(_POOL_SEED + index)
    rng = random.Random(f"randomuser-{spec.nat}")  # str seeds hash with SHA-512: stable everywhere
    lasts = _unique(fake.last_name, 500)
    phones = _unique(lambda: _phone(fake, spec, rng), 300)
    return NatPools(
        nat=spec.nat,
        heads=_heads(fake, spec, rng),
        lasts=_draws(rng, tuple((f'"last":{_dumps(last)}}},', ascii_fold(last)) for last in lasts), LASTS),
        addresses=_addresses(fake, spec, rng),
        geos=_geos(spec, rng),
        contacts=_contacts(spec, tuple(map(_dumps, phones)), rng),
    )


@functools.lru_cache(maxsize=1)
def nationality_pools() -> tuple[NatPools, ...]:
    """All 21 nationalities' pools (~1 s of Faker calls, so cached for the process)."""
    try:
        return tuple(_build_nationality(spec, i) for i, spec in enumerate(NATIONALITIES))
    finally:
        _MEMO.clear()


def _login(rng: random.Random) -> str:
    password = _PASSWORDS[int(rng.random() * len(_PASSWORDS))]
    salt = "".join(_SALT_CHARS[int(rng.random() * len(_SALT_CHARS))] for _ in range(8))
    # Real digests of password + salt, as randomuser.me computes them: precomputed per pool
    # entry, so they cost nothing per record.
    salted = (password + salt).encode()
    return (f'"password":"{password}","salt":"{salt}","md5":"{hashlib.md5(salted).hexdigest()}",'
            f'"sha1":"{hashlib.sha1(salted).hexdigest()}","sha256":"{hashlib.sha256(salted).hexdigest()}"}},')


@functools.lru_cache(maxsize=1)
def shared_pools() -> SharedPools:
    rng = random.Random("randomuser-shared")
    usernames = tuple(f"{_ADJECTIVES[int(rng.random() * len(_ADJECTIVES))]}"
                      f"{_ANIMALS[int(rng.random() * len(_ANIMALS))]}{100 + int(rng.random() * 900)}"
                      for _ in range(USERNAMES))
    try:
        return SharedPools(usernames=usernames, logins=tuple(_login(rng) for _ in range(LOGINS)))
    finally:
        _MEMO.clear()


def _iso_and_age(anchor: datetime, age_s: float) -> tuple[str, int]:
    when = datetime.fromtimestamp(anchor.timestamp() - age_s, tz=timezone.utc)
    # Whole years from the date to the anchor day, as people count birthdays.
    age = anchor.year - when.year - ((anchor.month, anchor.day) < (when.month, when.day))
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z", age


@functools.lru_cache(maxsize=4)
def date_pool(anchor_day: int) -> tuple[bytes, ...]:
    """``dob`` + ``registered`` fragments whose ages are right on UTC day ``anchor_day``
    (days since the epoch). Accounts are registered after the person's 13th birthday."""
    anchor = datetime.fromtimestamp(anchor_day * 86400, tz=timezone.utc)
    rng = random.Random("randomuser-dates")
    out = []
    for _ in range(DATES):
        dob_s = rng.uniform(18 * _YEAR_S + 2 * 86400, 81 * _YEAR_S - 2 * 86400)  # ages 18..80
        registered_s = rng.uniform(86400, min(20 * _YEAR_S, dob_s - 13 * _YEAR_S))
        (dob, dob_age), (reg, reg_age) = _iso_and_age(anchor, dob_s), _iso_and_age(anchor, registered_s)
        out.append(f'"dob":{{"date":"{dob}","age":{dob_age}}},"registered":{{"date":"{reg}","age":{reg_age}}},')
    try:
        return _encode(tuple(out))
    finally:
        _MEMO.clear()
