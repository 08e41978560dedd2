"""Plug-in schemas from the ``streamload.schemas`` entry point group. The entry points are
faked by patching ``importlib.metadata.entry_points``; the plug-in itself is a real module
on ``sys.path``, loaded the way an installed package's would be."""
from __future__ import annotations

import importlib.metadata
import textwrap

import orjson
import pytest

from producer.cli import main as produce_main
from producer.schemas import SchemaError, check_schema, describe_schemas, make_generator

PLUGIN_MODULE = textwrap.dedent("""
    from producer.schemas import RecordGenerator

    class OrderRecords(RecordGenerator):
        schema = "orders"

        def body(self):
            return {"order": {"id": self.rng.randrange(10**9), "total": round(self.rng.uniform(1, 500), 2)},
                    "channel": self.rng.choice(["web", "shop", "phone"])}

    class LeakyRecords(RecordGenerator):
        def body(self):
            return {"seq": -1}

    def not_a_generator(producer_id, **kw):
        return object()
""")


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    (tmp_path / "fake_orders_plugin.py").write_text(PLUGIN_MODULE)
    (tmp_path / "broken_plugin.py").write_text("raise ImportError('needs libfoo')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registered = [
        importlib.metadata.EntryPoint("orders", "fake_orders_plugin:OrderRecords", "streamload.schemas"),
        importlib.metadata.EntryPoint("leaky", "fake_orders_plugin:LeakyRecords", "streamload.schemas"),
        importlib.metadata.EntryPoint("hollow", "fake_orders_plugin:not_a_generator", "streamload.schemas"),
        importlib.metadata.EntryPoint("broken", "broken_plugin:Records", "streamload.schemas"),
        importlib.metadata.EntryPoint("orders-elsewhere", "x:y", "other.group"),
    ]

    def entry_points(**selection):
        return [ep for ep in registered if all(getattr(ep, k) == v for k, v in selection.items())]

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    return tmp_path


def test_plugin_generates_enveloped_records_when_registered(plugins):
    gen = make_generator("orders", producer_id="p1", seed=4, run_id="r", key_field="channel")
    rec = gen.generate(3, 1_700_000_000.0)
    doc = orjson.loads(rec.data)
    assert (doc["event_id"], doc["producer_id"], doc["seq"], doc["produced_at"]) == ("p1-r-3", "p1", 3, 1_700_000_000.0)
    assert doc["channel"] in ("web", "shop", "phone") and rec.key == doc["channel"]
    assert 1 <= doc["order"]["total"] <= 500


def test_plugin_stream_repeats_when_seed_repeats(plugins):
    def stream(seed):
        gen = make_generator("orders", producer_id="p1", seed=seed, run_id="r")
        return [gen.generate(i, 1.0).data for i in range(100)]
    assert stream(1) == stream(1) and stream(1) != stream(2)


def test_plugins_are_listed_when_schema_is_unknown(plugins):
    assert "orders" in describe_schemas() and "orders-elsewhere" not in describe_schemas()
    check_schema("orders")
    with pytest.raises(SchemaError, match=r"^unknown schema 'order'; use randomuser, sales, .*plug-in: .*orders"):
        check_schema("order")


@pytest.mark.parametrize("name, message", [
    ("broken", r"^plug-in schema 'broken' \(broken_plugin:Records\) failed to load: ImportError: needs libfoo"),
    ("hollow", r"^plug-in schema 'hollow' returned object, which lacks generate, run_id"),
])
def test_plugin_error_names_the_plugin_when_it_cannot_start(plugins, name, message):
    with pytest.raises(SchemaError, match=message):
        make_generator(name, producer_id="p0")


def test_plugin_refused_when_it_sets_an_envelope_field(plugins):
    gen = make_generator("leaky", producer_id="p0")
    with pytest.raises(SchemaError, match=r"^seq: schema 'leaky' sets an envelope field"):
        gen.generate(0, 1.0)


def test_cli_runs_a_plugin_schema_when_named(plugins, tmp_path):
    out = tmp_path / "out.jsonl"
    rc = produce_main(["--schema", "orders", "--sink", f"file:{out}", "--total", "20", "--rate", "2000",
                       "--no-progress", "--seed", "1"])
    assert rc == 0
    docs = [orjson.loads(line) for line in out.read_text().splitlines()]
    assert len(docs) == 20 and all("order" in d and d["producer_id"] == "p0" for d in docs)


def test_cli_exits_2_with_one_line_when_plugin_fails_to_load(plugins, capsys):
    rc = produce_main(["--schema", "broken", "--sink", "stdout", "--total", "1", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "needs libfoo" in err and "Traceback" not in err
