"""The randomuser schema, checked the way a user would check a randomuser.me record:
every field there, values consistent with each other and with the nationality."""
from __future__ import annotations

import collections
import dataclasses
import hashlib
import re
import unicodedata
import uuid
from datetime import datetime, timezone

import orjson
import pytest

from producer.schemas import GeneratedRecord, RandomUserRecords
from producer.schemas import SchemaError
from producer.schemas.randomuser_nats import NATIONALITIES, TIMEZONES
from producer.schemas.randomuser_pools import ascii_fold

PRODUCED_AT = 1_700_000_000.25  # 2023-11-14T22:13:20Z
RANDOMUSER_NATS = {"AU", "BR", "CA", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "IE", "IN", "IR", "MX",
                   "NL", "NO", "NZ", "RS", "TR", "UA", "US"}
COUNTRIES = {"AU": "Australia", "BR": "Brazil", "CA": "Canada", "CH": "Switzerland", "DE": "Germany",
             "DK": "Denmark", "ES": "Spain", "FI": "Finland", "FR": "France", "GB": "United Kingdom",
             "IE": "Ireland", "IN": "India", "IR": "Iran", "MX": "Mexico", "NL": "Netherlands",
             "NO": "Norway", "NZ": "New Zealand", "RS": "Serbia", "TR": "Turkey", "UA": "Ukraine",
             "US": "United States"}


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    gen = RandomUserRecords("p0", seed=21, run_id="shape")
    return [orjson.loads(gen.generate(i, PRODUCED_AT + i * 0.001).data) for i in range(20_000)]


@pytest.fixture(scope="module")
def by_nat(docs) -> dict[str, list[dict]]:
    out = collections.defaultdict(list)
    for doc in docs:
        out[doc["nat"]].append(doc)
    return out


def _scripts(text: str) -> set[str]:
    # MODIFIER: the Ukrainian apostrophe (U+02BC) is a letter of no script.
    return {unicodedata.name(c).split()[0] for c in text if c.isalpha()} - {"MODIFIER"}


def test_randomuser_covers_the_21_nationalities_with_their_countries_when_20k_generated(by_nat):
    assert set(by_nat) == RANDOMUSER_NATS
    assert all(len(records) > 500 for records in by_nat.values())  # about 1/21 each
    for nat, records in by_nat.items():
        assert {r["location"]["country"] for r in records} == {COUNTRIES[nat]}


def test_randomuser_has_every_field_of_a_randomuser_result_when_decoded(docs):
    expected = {"event_id", "run_id", "producer_id", "seq", "produced_at", "gender", "name", "location", "email",
                "login", "dob", "registered", "phone", "cell", "id", "picture", "nat"}
    for doc in docs[:2000]:
        assert set(doc) == expected and doc["run_id"] == "shape"
        assert set(doc["name"]) == {"title", "first", "last"}
        assert set(doc["location"]) == {"street", "city", "state", "country", "postcode", "coordinates", "timezone"}
        assert set(doc["login"]) == {"uuid", "username", "password", "salt", "md5", "sha1", "sha256"}
        assert set(doc["picture"]) == {"large", "medium", "thumbnail"}
        assert all(doc["name"].values()) and doc["location"]["city"] and doc["location"]["state"]
        assert isinstance(doc["location"]["street"]["number"], int) and doc["location"]["street"]["name"]


def test_randomuser_names_are_in_the_nationality_script_when_locale_has_one(by_nat):
    assert all(_scripts(r["name"]["first"] + r["name"]["last"]) == {"CYRILLIC"} for r in by_nat["UA"])
    assert all(_scripts(r["name"]["first"] + r["name"]["last"]) == {"ARABIC"} for r in by_nat["IR"])
    for nat in RANDOMUSER_NATS - {"UA", "IR"}:
        assert all(_scripts(r["name"]["first"] + r["name"]["last"]) == {"LATIN"} for r in by_nat[nat]), nat
    # Diacritics of the language show up: the names really come from that locale.
    assert any("ø" in r["name"]["last"] or "å" in r["name"]["last"] for r in by_nat["NO"] + by_nat["DK"])
    assert any(set("ğışçöü") & set(r["name"]["first"] + r["name"]["last"]) for r in by_nat["TR"])


@pytest.mark.parametrize("nat, pattern", [
    ("US", r"^\d{5}$"), ("DE", r"^\d{5}$"), ("FR", r"^\d{5}$"), ("AU", r"^\d{4}$"), ("CH", r"^\d{4}$"),
    ("NL", r"^\d{4} ?[A-Z]{2}$"), ("CA", r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$"), ("BR", r"^\d{5}-?\d{3}$"),
    ("GB", r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"), ("IN", r"^\d{6}$"), ("MX", r"^\d{5}$"),
])
def test_randomuser_postcodes_have_the_country_format_when_nat_given(by_nat, nat, pattern):
    assert all(re.match(pattern, r["location"]["postcode"]) for r in by_nat[nat])


def test_randomuser_ids_have_the_national_format_when_nat_has_one(by_nat):
    assert all(r["id"]["name"] == "SSN" and re.match(r"^\d{3}-\d{2}-\d{4}$", r["id"]["value"]) for r in by_nat["US"])
    assert all(r["id"]["name"] == "NINO" and re.match(r"^[A-Z]{2} \d\d \d\d \d\d [A-Z]$", r["id"]["value"])
               for r in by_nat["GB"])
    assert all(r["id"] == {"name": "", "value": None} for r in by_nat["IR"] + by_nat["UA"])


def test_ascii_fold_spells_names_like_randomuser_emails_when_names_have_diacritics_or_other_scripts():
    assert ascii_fold("Đorđe Ćosić") == "dordecosic"
    assert ascii_fold("Jørgensen") == "jorgensen"
    assert ascii_fold("Müller-Lüdenscheidt") == "mullerludenscheidt"
    assert ascii_fold("Богуслав") == "boguslav"
    assert ascii_fold("O'Brien") == "obrien"


def test_randomuser_email_is_the_folded_name_when_any_nationality(docs):
    for doc in docs:
        name = doc["name"]
        assert doc["email"] == f"{ascii_fold(name['first'])}.{ascii_fold(name['last'])}@example.com"
        assert doc["email"].isascii() and doc["email"] == doc["email"].lower()


def test_randomuser_digests_are_real_hashes_of_password_plus_salt_when_checked(docs):
    for doc in docs[:5000]:
        login = doc["login"]
        salted = (login["password"] + login["salt"]).encode()
        assert login["md5"] == hashlib.md5(salted).hexdigest()
        assert login["sha1"] == hashlib.sha1(salted).hexdigest()
        assert login["sha256"] == hashlib.sha256(salted).hexdigest()
        assert re.match(r"^[A-Za-z0-9]{8}$", login["salt"])
    assert len({d["login"]["salt"] for d in docs}) > 1000


def _age_on(day: datetime, iso: str) -> int:
    born = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ")
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def test_randomuser_ages_match_dates_on_the_day_of_the_first_record(docs):
    day = datetime.fromtimestamp(PRODUCED_AT, tz=timezone.utc)
    for doc in docs:
        assert doc["dob"]["age"] == _age_on(day, doc["dob"]["date"])
        assert doc["registered"]["age"] == _age_on(day, doc["registered"]["date"])
        assert 18 <= doc["dob"]["age"] <= 80 and 0 <= doc["registered"]["age"] <= 20
        assert doc["registered"]["date"] > doc["dob"]["date"]  # ISO strings sort by time
        assert doc["dob"]["date"] < "2023-11-14"


def test_randomuser_ages_follow_the_anchor_when_records_are_produced_years_later():
    gen = RandomUserRecords("p0", seed=21, run_id="shape")
    later = PRODUCED_AT + 10 * 365.25 * 86400
    doc = orjson.loads(gen.generate(0, later).data)
    day = datetime.fromtimestamp(later, tz=timezone.utc)
    assert doc["dob"]["age"] == _age_on(day, doc["dob"]["date"])


def test_randomuser_coordinates_are_valid_and_inside_the_country_when_decoded(by_nat):
    boxes = {spec.nat: (spec.latitude, spec.longitude) for spec in NATIONALITIES}
    for nat, records in by_nat.items():
        (lat0, lat1), (lon0, lon1) = boxes[nat]
        for r in records:
            lat, lon = float(r["location"]["coordinates"]["latitude"]), float(r["location"]["coordinates"]["longitude"])
            assert -90 <= lat <= 90 and -180 <= lon <= 180
            assert lat0 <= lat <= lat1 and lon0 <= lon <= lon1, (nat, lat, lon)
    assert all(float(r["location"]["coordinates"]["latitude"]) < 0 for r in by_nat["AU"] + by_nat["NZ"])


def test_randomuser_timezone_is_randomusers_and_fits_the_country_when_decoded(by_nat):
    for records in by_nat.values():
        for r in records:
            assert TIMEZONES[r["location"]["timezone"]["offset"]] == r["location"]["timezone"]["description"]
    assert {r["location"]["timezone"]["offset"] for r in by_nat["IN"]} == {"+5:30"}
    assert {r["location"]["timezone"]["offset"] for r in by_nat["US"]} <= {"-5:00", "-6:00", "-7:00", "-8:00",
                                                                          "-9:00", "-10:00"}


def test_randomuser_gender_title_and_portrait_agree_when_decoded(docs):
    for doc in docs:
        male = doc["gender"] == "male"
        assert doc["name"]["title"] in (("Mr", "Monsieur") if male else ("Ms", "Mrs", "Miss", "Madame", "Mademoiselle"))
        folder = "men" if male else "women"
        number = re.match(rf"^https://randomuser\.me/api/portraits/{folder}/(\d+)\.jpg$", doc["picture"]["large"])
        assert number and 0 <= int(number.group(1)) <= 99
        assert doc["picture"]["thumbnail"].endswith(f"/thumb/{folder}/{number.group(1)}.jpg")
    assert 0.45 < sum(d["gender"] == "male" for d in docs) / len(docs) < 0.55


def test_randomuser_uuids_are_unique_version_4_when_50k_generated():
    gen = RandomUserRecords("p0", seed=5, run_id="u", key_field="login.uuid")
    keys = [gen.generate(i, PRODUCED_AT).key for i in range(50_000)]
    assert len(set(keys)) == 50_000
    parsed = uuid.UUID(keys[0])
    assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, keys[0])


@pytest.mark.parametrize("key_field", ["login.uuid", "login.username", "email", "nat", "seq", "event_id",
                                       "producer_id", "location.city", "location.street.number", "dob.age"])
def test_randomuser_key_is_the_value_at_the_key_field_when_built_with_one(key_field):
    gen = RandomUserRecords("p7", seed=9, run_id="k", key_field=key_field)
    for i in range(300):
        rec = gen.generate(i, PRODUCED_AT)
        value = orjson.loads(rec.data)
        for part in key_field.split("."):
            value = value[part]
        assert rec.key == (value if isinstance(value, str) else orjson.dumps(value).decode())


def test_randomuser_key_is_none_when_value_is_null_or_no_key_field():
    assert RandomUserRecords("p0", seed=1, run_id="k").generate(0, PRODUCED_AT).key is None
    gen = RandomUserRecords("p0", seed=1, run_id="k", key_field="id.value")
    keys = {orjson.loads(r.data)["nat"]: r.key for r in (gen.generate(i, PRODUCED_AT) for i in range(2000))}
    assert keys["IR"] is None and keys["US"]


def test_randomuser_refuses_key_field_naming_the_path_when_not_a_field():
    with pytest.raises(SchemaError, match=r"^login\.uid: key field is not a field of randomuser records"):
        RandomUserRecords("p0", seed=1, key_field="login.uid")


def test_record_dict_equals_decoded_bytes_when_generators_share_seed():
    a = RandomUserRecords("p0", seed=4, run_id="d")
    b = RandomUserRecords("p0", seed=4, run_id="d")
    assert [a.record(i, PRODUCED_AT) for i in range(50)] == \
           [orjson.loads(b.generate(i, PRODUCED_AT).data) for i in range(50)]


def test_generated_record_is_a_frozen_dataclass_equal_to_one_built_normally():
    rec = RandomUserRecords("p0", seed=4, run_id="d").generate(3, PRODUCED_AT)
    assert rec == GeneratedRecord(rec.event_id, 3, PRODUCED_AT, rec.data)
    assert dataclasses.asdict(rec)["key"] is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.seq = 4


def _paths(doc: dict, prefix: str = "") -> set[str]:
    out = set()
    for name, value in doc.items():
        out.add(prefix + name)
        if isinstance(value, dict):
            out |= _paths(value, f"{prefix}{name}.")
    return out


def test_known_key_fields_are_exactly_the_record_paths_when_schemas_are_built_in():
    # Key fields are checked against these lists before a run; they must not drift.
    from producer.schemas import randomuser, sales
    assert _paths(RandomUserRecords("p0", seed=1).record(0, PRODUCED_AT)) == randomuser.FIELD_PATHS
    assert _paths(sales.SalesRecords("p0", seed=1).record(0, PRODUCED_AT)) == sales.FIELD_PATHS
