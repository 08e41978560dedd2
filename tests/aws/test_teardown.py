"""teardown under moto: deletes by tag, leaves foreign resources, asks first."""
from __future__ import annotations

import argparse

import pytest

from streamload.aws.cli import register, run
from streamload.aws.errors import AwsSetupError
from streamload.aws.provision import provision
from streamload.aws.teardown import teardown

from .fakes import CLUSTER


def _roles(session):
    return sorted(r["RoleName"] for r in session.client("iam").list_roles()["Roles"])


def test_teardown_removes_exactly_the_tagged_resources_when_foreign_ones_exist(ctx, sessions, data_api, fake_data_api, backoff):
    iam_b = sessions["redshift"].client("iam")
    iam_b.create_role(RoleName="TeamRole", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')
    sessions["stream"].client("kinesis").create_stream(StreamName="someone-elses-stream", ShardCount=1)
    provision(ctx, data_api, backoff, out=lambda _line: None)

    lines: list[str] = []
    deleted = teardown(ctx, data_api, confirm=lambda _prompt: True, out=lines.append)

    assert sorted(d.kind for d in deleted) == sorted(["sql objects", "role attachment", "iam role", "iam role",
                                                      "iam policy", "iam policy", "kinesis stream"])
    assert _roles(sessions["redshift"]) == ["TeamRole"]
    assert _roles(sessions["stream"]) == []
    assert sessions["stream"].client("kinesis").list_streams()["StreamNames"] == ["someone-elses-stream"]
    assert sessions["redshift"].client("iam").list_policies(Scope="Local")["Policies"] == []
    cluster = sessions["redshift"].client("redshift").describe_clusters(ClusterIdentifier=CLUSTER)["Clusters"][0]
    assert cluster["IamRoles"] == []
    assert fake_data_api.schemas == {} and fake_data_api.views == set()
    assert lines[-1].startswith("teardown done: 7 removed")


def test_teardown_keeps_sql_objects_when_they_existed_before_provision(ctx, data_api, fake_data_api, backoff):
    fake_data_api.schemas["schema_stream"] = "arn:aws:iam::222222222222:role/Whatever"
    fake_data_api.views.add("my_stream_vw")
    plan = provision(ctx, data_api, backoff, out=lambda _line: None)
    assert [c.action for c in plan.changes if c.kind in ("external schema", "materialized view")] == ["foreign"] * 2
    teardown(ctx, data_api, confirm=lambda _prompt: True, out=lambda _line: None)
    assert "schema_stream" in fake_data_api.schemas and "my_stream_vw" in fake_data_api.views


def test_teardown_deletes_nothing_when_user_declines(ctx, sessions, data_api, backoff):
    provision(ctx, data_api, backoff, out=lambda _line: None)
    prompts: list[str] = []
    with pytest.raises(AwsSetupError, match="cancelled"):
        teardown(ctx, data_api, confirm=lambda prompt: prompts.append(prompt) or False, out=lambda _line: None)
    assert prompts == ["delete these 7? [y/N] "]
    assert _roles(sessions["stream"]) == ["KinesisStreamRole"]
    assert sessions["stream"].client("kinesis").list_streams()["StreamNames"] == ["my-data-stream"]


def test_teardown_says_nothing_to_do_when_run_id_unknown(ctx, data_api, backoff):
    provision(ctx, data_api, backoff, out=lambda _line: None)
    ctx.settings = ctx.settings.model_copy(update={"run_id": "another-run"})
    lines: list[str] = []
    assert teardown(ctx, data_api, confirm=lambda _p: pytest.fail("must not ask"), out=lines.append) == []
    assert lines == ["nothing to tear down: no resource carries run id another-run"]


def _parse(argv):
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_provision_preflight_teardown_round_trip_exits_0_when_driven_by_cli(tmp_path, session_factory, fake_data_api, backoff, capsys):
    config = tmp_path / "streamload.toml"
    config.write_text(f"""
[target]
region = "us-east-1"
[stream]
name = "my-data-stream"
shards = 1
[redshift]
cluster_identifier = "{CLUSTER}"
db_user = "awsuser"
[aws]
run_id = "ci-round-trip"
stream_profile = "stream"
redshift_profile = "redshift"
""")
    from .fakes import data_api_client

    kwargs = dict(session_factory=session_factory, data_api_factory=lambda ctx: data_api_client(fake_data_api, ctx.cfg),
                  backoff=backoff)
    assert run(_parse(["aws", "provision", "--config", str(config)]), **kwargs) == 0
    out = capsys.readouterr().out
    assert out.startswith("estimated cost of this run")
    assert run(_parse(["aws", "provision", "--config", str(config)]), **kwargs) == 0
    assert "nothing to change" in capsys.readouterr().out
    assert run(_parse(["aws", "preflight", "--config", str(config)]), **kwargs) == 0
    assert "preflight: 11 passed, 0 failed, 0 skipped" in capsys.readouterr().out
    assert run(_parse(["aws", "teardown", "--config", str(config)]), confirm=lambda _p: False, **kwargs) == 1
    assert run(_parse(["aws", "teardown", "--config", str(config), "--yes"]), **kwargs) == 0
    assert "teardown done: 7 removed" in capsys.readouterr().out
    assert run(_parse(["aws", "preflight", "--config", str(config)]), **kwargs) == 1
    assert "FAIL stream ACTIVE" in capsys.readouterr().out
