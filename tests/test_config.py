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


def test_persona_users_alone_are_enough_when_closed_but_not_when_open():
    no_other_users = {"probe": False, "refresh_mode": "auto", "query_users": 0}
    personas = {"enabled": True, "users_per_persona": 1}
    assert load_config(None, {"load": no_other_users, "personas": personas}, environ={}).personas.enabled
    with pytest.raises(ConfigError, match="nothing for Locust to run"):
        load_config(None, {"load": {**no_other_users, "query_model": "open"}, "personas": personas}, environ={})


def test_load_config_names_the_open_classes_when_a_rate_names_an_unknown_one():
    with pytest.raises(ConfigError, match=r"query_rate_per_s names \['QueryUser'\].*known: \['query'\]"):
        load_config(None, {"load": {"query_model": "open", "query_rate_per_s": {"QueryUser": 3}}}, environ={})
    personas = {"enabled": True, "personas": [], "extra": [{"name": "olga", "email": "olga@example.com",
                                                           "groups": ["emea-sales"], "allowed_regions": ["EMEA"]}]}
    cfg = load_config(None, {"load": {"query_model": "open", "query_rate_per_s": {"query": 3, "persona-olga": 1}},
                             "personas": personas}, environ={})
    assert cfg.load.query_rate_per_s == {"query": 3.0, "persona-olga": 1.0}


def test_env_sets_lists_and_dicts_with_their_types_when_given_as_json():
    cfg = load_config(None, environ={
        "STREAMLOAD_VERDICT__THRESHOLDS": '["lost == 0", "e2e_p99 < 5s"]',
        "STREAMLOAD_REDSHIFT__IAM_ROLES": '["arn:aws:iam::2:role/R", "arn:aws:iam::1:role/K"]',
        "STREAMLOAD_LOAD__QUERY_RATE_PER_S": '{"query": 3}',
        "STREAMLOAD_PRODUCER__RATE": "500",
        "STREAMLOAD_RUN_FILE": "/not/a/setting.json",
    })
    assert cfg.verdict.thresholds == ["lost == 0", "e2e_p99 < 5s"]
    assert cfg.redshift.iam_roles == ["arn:aws:iam::2:role/R", "arn:aws:iam::1:role/K"]
    assert cfg.load.query_rate_per_s == {"query": 3.0} and cfg.producer.rate == 500.0


def test_flags_override_env_and_env_overrides_file_when_a_list_is_set_in_all(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[verdict]\nthresholds = ["lost == 0"]\n[load]\nquery_rate_per_s = 1.0\n')
    env = {"STREAMLOAD_VERDICT__THRESHOLDS": '["duplicated == 0"]', "STREAMLOAD_LOAD__QUERY_RATE_PER_S": "2.5"}
    cfg = load_config(path, environ=env)
    assert cfg.verdict.thresholds == ["duplicated == 0"] and cfg.load.query_rate_per_s == 2.5
    flagged = load_config(path, {"verdict": {"thresholds": ["lost <= 1"]}}, environ=env)
    assert flagged.verdict.thresholds == ["lost <= 1"]


def test_env_names_the_section_and_says_json_when_a_list_is_not_json():
    with pytest.raises(ConfigError) as err:
        load_config(None, environ={"STREAMLOAD_REDSHIFT__IAM_ROLES": "arn:aws:iam::2:role/R"})
    assert "redshift" in str(err.value) and "JSON" in str(err.value) and "\n" not in str(err.value)


def test_aws_section_loads_from_file_and_env_when_run_config_has_one(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[aws]\nrun_id = "from-file"\nstream_profile = "s"\n')
    cfg = load_run_config(path, environ={"STREAMLOAD_AWS__STREAM_PROFILE": "from-env"})
    assert (cfg.aws.run_id, cfg.aws.stream_profile) == ("from-file", "from-env")
