"""`streamload run` starts the producer with flags built from `[producer]` by the producer's own
`config_argv`: parsed back by the producer's parser, they give the settings the config holds."""
from __future__ import annotations

from pathlib import Path

import pytest

from producer.cli import CONFIG_FLAG_DESTS, _options, build_parser, config_argv
from streamload.core.config import ProducerConfig


def _parsed(settings: ProducerConfig):
    argv = config_argv(settings, "orders", "eu-west-1", "http://127.0.0.1:4567", Path("out/ledger-p0.json"))
    args = build_parser().parse_args(argv)
    return args, _options(args)


def test_every_producer_setting_has_a_flag_when_the_config_model_is_read():
    assert set(CONFIG_FLAG_DESTS) == set(ProducerConfig.model_fields)
    dests = {action.dest for action in build_parser()._actions}
    assert set(CONFIG_FLAG_DESTS.values()) <= dests


@pytest.mark.parametrize("settings", [
    {},
    {"rate": 75.5, "duration_s": 12, "total": 900, "schema": "sales", "seed": 4, "producer_id": "east7",
     "record_ttl_s": 9, "metrics_port": 0, "partition_key": "hot:k", "shard_limit": False, "processes": 3},
    {"profile": "ramp:100:2000:60s", "rate": 999},
])
def test_parsed_flags_equal_the_config_when_built_from_producer_settings(settings):
    config = ProducerConfig.model_validate(settings)
    args, opts = _parsed(config)
    for field, dest in CONFIG_FLAG_DESTS.items():
        expected = None if field == "rate" and config.profile is not None else getattr(config, field)
        assert getattr(args, dest) == expected, field
    assert (opts.stream_name, opts.region, opts.endpoint_url) == ("orders", "eu-west-1", "http://127.0.0.1:4567")
    assert opts.ledger_path == Path("out/ledger-p0.json") and opts.profile == config.profile
