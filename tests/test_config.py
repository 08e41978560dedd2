"""Config: file, environment and flags, with one-line errors naming the field."""
import pytest

from streamload.run_config import load_run_config

from streamload.core.config import ConfigError, load_config


def test_load_config_layers_file_env_and_flags_when_all_given(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[producer]\nrate = 50\nduration_s = 5\n[stream]\nname = "s1"\n')
    cfg = load_config(path, {"producer": {"duration_s": 7}}, environ={"STREAMLOAD_STREAM__SHARDS": "4"})
    assert (cfg.producer.rate, cfg.producer.duration_s) == (50, 7)
    assert (cfg.stream.name, cfg.stream.shards) == ("s1", 4)


def test_load_config_names_the_field_when_value_invalid(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("producer:\n  rate: -3\n")
    with pytest.raises(ConfigError, match=r"producer\.rate"):
        load_config(path, environ={})


def test_load_config_names_the_file_when_toml_malformed(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[producer\nrate = 1\n")
    with pytest.raises(ConfigError, match="bad.toml is not valid"):
        load_config(path, environ={})


def test_load_config_rejects_unknown_keys_when_misspelled(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("[producer]\nrat = 5\n")
    with pytest.raises(ConfigError, match=r"producer\.rat"):
        load_config(path, environ={})


def test_secret_key_is_masked_when_config_is_dumped():
    cfg = load_config(None, {"target": {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "s3cr3t-value"}}, environ={})
    assert "s3cr3t-value" not in cfg.model_dump_json()
    assert cfg.target.client_kwargs("kinesis")["aws_secret_access_key"] == "s3cr3t-value"


def test_load_run_config_names_the_schema_when_unknown_or_key_field_missing(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[producer]\nschema = "no-such-schema"\n')
    with pytest.raises(ConfigError, match="no-such-schema"):
        load_run_config(path)
    path.write_text('[producer]\nschema = "sales"\npartition_key = "field:login.uuid"\n')
    with pytest.raises(ConfigError, match="login.uuid"):
        load_run_config(path)
    path.write_text('[producer]\nschema = "sales"\npartition_key = "field:region"\n')
    assert load_run_config(path).producer.schema_name == "sales"


def test_load_config_says_so_when_locust_would_have_no_users():
    with pytest.raises(ConfigError, match="nothing for Locust to run"):
        load_config(None, {"load": {"probe": False, "refresh_mode": "auto", "query_model": "open",
                                    "query_rate_per_s": 5}}, environ={})
    # Closed-model query users (or the probe) are enough on their own.
    assert load_config(None, {"load": {"probe": False, "refresh_mode": "auto"}}, environ={}).load.query_users == 2
