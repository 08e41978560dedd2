"""Custom schemas: JSON/YAML templates whose leaves name Faker providers."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest

from producer.schemas import SchemaError, check_schema, make_generator

REPO = Path(__file__).resolve().parents[2]
PRODUCED_AT = 1_700_000_000.5  # 2023-11-14T22:13:20.500Z
YAML_TEMPLATE = """\
customer: "{{name}}"
greeting: "Hello {{first_name}}!"
age: {$faker: pyint, min_value: 18, max_value: 99}
status: {$choice: [new, paid, shipped], weights: [0, 1, 1]}
quantity: {$int: [1, 10]}
price: {$float: [0.5, 99.99], digits: 2}
order_id: {$uuid: 4}
ordered_at: {$now: iso}
ordered_ms: {$now: epoch_ms}
lines: [{sku: "{{ean13}}", qty: 1}, {sku: "{{ean13}}"}]
shop: {country: DE, open: true, note: null}
"""


def _docs(schema, n=2000, template=None, **kw) -> list[dict]:
    gen = make_generator(schema, producer_id="p0", seed=2, run_id="t", template=template, **kw)
    return [orjson.loads(gen.generate(i, PRODUCED_AT).data) for i in range(n)]


@pytest.fixture
def yaml_path(tmp_path) -> Path:
    path = tmp_path / "orders.yaml"
    path.write_text(YAML_TEMPLATE)
    return path


def test_template_fills_every_leaf_kind_when_loaded_from_yaml(yaml_path):
    docs = _docs(str(yaml_path))
    first = docs[0]
    assert list(first)[:5] == ["event_id", "run_id", "producer_id", "seq", "produced_at"]  # the envelope leads
    assert (first["event_id"], first["run_id"]) == ("p0-t-0", "t")
    assert isinstance(first["customer"], str) and " " in first["customer"]
    assert all(d["greeting"].startswith("Hello ") and d["greeting"].endswith("!") for d in docs)
    assert all(isinstance(d["age"], int) and 18 <= d["age"] <= 99 for d in docs)
    assert {d["status"] for d in docs} == {"paid", "shipped"}  # weight 0 never drawn
    assert {d["quantity"] for d in docs} == set(range(1, 11))
    assert all(0.5 <= d["price"] <= 99.99 and round(d["price"], 2) == d["price"] for d in docs)
    assert len({d["order_id"] for d in docs}) == len(docs) and uuid.UUID(first["order_id"]).version == 4
    assert first["ordered_at"] == "2023-11-14T22:13:20.500Z" and first["ordered_ms"] == 1_700_000_000_500
    assert len(first["lines"]) == 2 and len(first["lines"][0]["sku"]) == 13 and first["lines"][0]["qty"] == 1
    assert first["shop"] == {"country": "DE", "open": True, "note": None}


def test_template_json_file_and_dict_give_the_same_records_when_equal(tmp_path):
    template = {"who": "{{name}}", "n": {"$int": [1, 5]}}
    path = tmp_path / "t.json"
    path.write_bytes(orjson.dumps(template))
    assert _docs(str(path), 50) == _docs("inline", 50, template=template)


def test_template_values_vary_but_pool_bounds_distinct_values_when_pool_set():
    docs = _docs("t", 3000, template={"a": {"$faker": "city", "$pool": 3}, "b": "{{city}}"})
    assert len({d["a"] for d in docs}) <= 3
    assert len({d["b"] for d in docs}) > 300  # default pool: 1024 values


def test_template_uses_the_locale_when_top_level_locale_given():
    docs = _docs("t", 200, template={"$locale": "uk_UA", "name": "{{last_name}}"})
    assert all(any("\u0400" <= c <= "\u04ff" for c in d["name"]) for d in docs)  # Cyrillic


@pytest.mark.parametrize("template, message", [
    ({"order": {"customer": "{{nmae}}"}}, r"^order\.customer: unknown Faker provider 'nmae'"),
    ({"a": "x {{seed_instance}}"}, r"^a: unknown Faker provider 'seed_instance'"),
    ({"a": {"$faker": "pyint", "min_value": 9, "max_value": 1}}, r"^a: Faker pyint\(min_value=9, max_value=1\) failed"),
    ({"a": {"$faker": "name", "bogus": 1}}, r"^a: Faker name\(bogus=1\) failed: TypeError"),
    ({"seq": 1}, r"^seq: is an envelope field"),
    ({"a": [1, {"b": {"$fakr": "name"}}]}, r"^a\.1\.b: \$fakr: use exactly one of"),
    ({"a": {"$choice": []}}, r"^a: \$choice needs a non-empty list"),
    ({"a": {"$choice": [1, 2], "weights": [1]}}, r"^a: weights must be 2 non-negative numbers"),
    ({"a": {"$int": [5, 1]}}, r"^a: \$int needs \[min, max\] integers"),
    ({"a": {"$float": [0, 1], "digits": 99}}, r"^a: digits must be an integer 0\.\.12"),
    ({"a": {"$now": "rfc"}}, r"^a: \$now format must be one of iso, epoch, epoch_ms"),
    ({"a": {"$faker": "city", "$pool": 0}}, r"^a\.\$pool: pool size must be an integer"),
    ({"a": "{{ }}"}, r"^a: '\{\{' without a provider name"),
    ({"$locale": "xx_XX", "a": 1}, r"^\$locale: "),
    ({"$colour": "red", "a": 1}, r"^\$colour: unknown top-level option"),
    ({}, r"^template: has no fields"),
    ([1, 2], r"^template: must be an object of fields"),
])
def test_template_error_names_the_field_when_template_is_wrong(template, message):
    with pytest.raises(SchemaError, match=message):
        make_generator("t", producer_id="p0", template=template)


def test_template_file_errors_name_the_file_and_line_when_unreadable(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: 1\nb: [1, 2\n")
    with pytest.raises(SchemaError, match=r"^template .*broken\.yaml: invalid YAML at line 3"):
        check_schema(str(broken))
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"a": 1,,}')
    with pytest.raises(SchemaError, match=r"^template .*bad\.json: invalid JSON at line 1"):
        check_schema(str(bad_json))
    with pytest.raises(SchemaError, match=r"^template .*missing\.yaml: No such file"):
        check_schema(str(tmp_path / "missing.yaml"))
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("user:\n  name: '{{nmae}}'\n")
    with pytest.raises(SchemaError, match=r"^template .*wrong\.yaml: user\.name: unknown Faker provider"):
        check_schema(str(wrong))


@pytest.mark.parametrize("key_field, expect", [
    ("who", lambda d: d["who"]), ("n", lambda d: str(d["n"])), ("fixed", lambda d: "EU"),
    ("nested.city", lambda d: d["nested"]["city"]), ("id", lambda d: d["id"]),
])
def test_template_key_is_the_value_at_the_key_field_when_built_with_one(key_field, expect):
    template = {"who": "{{name}}", "n": {"$int": [1, 5]}, "fixed": "EU", "nested": {"city": "{{city}}"},
                "id": {"$uuid": 4}}
    gen = make_generator("t", producer_id="p0", seed=1, template=template, key_field=key_field)
    for i in range(100):
        rec = gen.generate(i, PRODUCED_AT)
        assert rec.key == expect(orjson.loads(rec.data))


def test_template_refuses_a_key_field_naming_it_when_not_in_the_template():
    with pytest.raises(SchemaError, match=r"^user\.mail: key field is not a field of the template"):
        make_generator("t", producer_id="p0", template={"user": {"name": "{{name}}"}}, key_field="user.mail")


def _produce(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "producer", "--sink", "stdout", "--rate", "1000",
                           "--total", "5", "--no-progress", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_cli_exits_2_with_one_line_naming_the_field_when_template_is_wrong(tmp_path):
    (tmp_path / "bad.yaml").write_text("order:\n  price: {$faker: pydecimal, left_digits: -3}\n")
    done = _produce("--schema", "bad.yaml", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "bad.yaml: order.price: Faker pydecimal(left_digits=-3) failed" in done.stderr
    assert done.stdout == ""


def test_cli_produces_template_records_when_schema_is_a_yaml_path(yaml_path):
    done = _produce("--schema", yaml_path.name, "--seed", "3", cwd=yaml_path.parent)
    assert done.returncode == 0, done.stderr
    docs = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert len(docs) == 5 and all(18 <= d["age"] <= 99 and len(d["lines"]) == 2 for d in docs)
    stamped = datetime.strptime(docs[0]["ordered_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert abs(stamped.timestamp() - docs[0]["produced_at"]) < 0.001
