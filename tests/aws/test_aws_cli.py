"""``streamload aws`` argument handling, config loading and exit codes."""
from __future__ import annotations

import argparse

import pytest

from streamload.aws.cli import load_settings, register, run


def _parse(argv):
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cost_prints_estimate_and_exits_0_without_touching_aws_when_config_has_aws_section(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text('[producer]\nrate = 100\nduration_s = 3600\n[load]\ndrain_timeout_s = 0\n'
                      '[redshift]\ncluster_identifier = "c1"\n[stream]\nshards = 2\n'
                      '[aws]\nredshift_node_type = "ra3.xlplus"\nredshift_nodes = 2\n')
    assert run(_parse(["aws", "cost", "--config", str(config)])) == 0
    out = capsys.readouterr().out
    # 2 shard-hours $0.03 + 360,000 units $0.00504 + 2 node-hours $2.172
    assert out.splitlines()[0] == "estimated cost of this run (us-east-1 list prices (2025), estimate only): $2.2070"


def test_aws_command_exits_2_with_one_line_when_aws_field_invalid(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text('[aws]\nstream_mode = "SOMETIMES"\n')
    assert run(_parse(["aws", "cost", "--config", str(config)])) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("streamload: error: invalid config: aws.stream_mode") and len(err.splitlines()) == 1


def test_aws_command_exits_2_when_node_type_has_no_price(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text('[redshift]\ncluster_identifier = "c1"\n[aws]\nredshift_node_type = "x9.huge"\n')
    assert run(_parse(["aws", "cost", "--config", str(config)])) == 2
    assert "aws.redshift_node_type" in capsys.readouterr().err


def test_flags_and_env_override_file_when_all_set(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("aws:\n  run_id: from-file\n  stream_profile: file-profile\nstream:\n  shards: 3\n")
    cfg, settings = load_settings(config, {"run_id": "from-flag"},
                                  environ={"STREAMLOAD_AWS__STREAM_PROFILE": "env-profile", "STREAMLOAD_STREAM__SHARDS": "4"})
    assert (settings.run_id, settings.stream_profile, cfg.stream.shards) == ("from-flag", "env-profile", 4)


def test_provision_exits_2_naming_profile_when_profile_unknown(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    code = run(_parse(["aws", "provision", "--stream-profile", "streamload-no-such-profile"]), out=lambda _l: None)
    assert code == 2
    assert "streamload-no-such-profile" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["aws"], ["aws", "frobnicate"], ["aws", "cost", "--dry-run"]])
def test_parser_rejects_when_subcommand_missing_or_flag_foreign(argv):
    with pytest.raises(SystemExit):
        _parse(argv)
