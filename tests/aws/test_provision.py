"""provision under moto: two accounts, a cluster, the fake Data API."""
from __future__ import annotations

import json

import boto3

from streamload.aws.accounts import connect
from streamload.aws.config import ATTACHED_TAG, RUN_ID_TAG, SQL_TAG, AwsProvisionConfig
from streamload.aws.provision import provision

from .fakes import CLUSTER, REDSHIFT_ACCOUNT, STREAM_ACCOUNT

KINESIS_ROLE = f"arn:aws:iam::{STREAM_ACCOUNT}:role/KinesisStreamRole"
REDSHIFT_ROLE = f"arn:aws:iam::{REDSHIFT_ACCOUNT}:role/RedshiftStreamRole"


def _doc(document):
    return document if isinstance(document, dict) else json.loads(document)


def _default_policy(iam, arn):
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return _doc(iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])


def test_provision_creates_design_resources_in_both_accounts_when_accounts_empty(ctx, sessions, data_api, fake_data_api, backoff):
    lines: list[str] = []
    provision(ctx, data_api, backoff, out=lines.append)

    iam_a, iam_b = sessions["stream"].client("iam"), sessions["redshift"].client("iam")
    kinesis = sessions["stream"].client("kinesis")
    summary = kinesis.describe_stream_summary(StreamName="my-data-stream")["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "ACTIVE" and summary["OpenShardCount"] == 2
    assert {"Key": RUN_ID_TAG, "Value": "test-run-1"} in kinesis.list_tags_for_stream(StreamName="my-data-stream")["Tags"]

    kinesis_policy = _default_policy(iam_a, f"arn:aws:iam::{STREAM_ACCOUNT}:policy/KinesisStreamPolicy")
    read, listing = kinesis_policy["Statement"]
    assert (read["Sid"], read["Resource"]) == ("ReadStream", f"arn:aws:kinesis:*:{STREAM_ACCOUNT}:stream/*")
    assert sorted(read["Action"]) == sorted(["kinesis:DescribeStreamSummary", "kinesis:GetShardIterator",
                                             "kinesis:GetRecords", "kinesis:DescribeStream"])
    assert (listing["Sid"], sorted(listing["Action"]), listing["Resource"]) == (
        "ListStream", ["kinesis:ListShards", "kinesis:ListStreams"], "*")

    kinesis_role = iam_a.get_role(RoleName="KinesisStreamRole")["Role"]
    assert _doc(kinesis_role["AssumeRolePolicyDocument"])["Statement"][0]["Principal"] == {"AWS": REDSHIFT_ROLE}
    assert {"Key": RUN_ID_TAG, "Value": "test-run-1"} in iam_a.list_role_tags(RoleName="KinesisStreamRole")["Tags"]

    redshift_policy = _default_policy(iam_b, f"arn:aws:iam::{REDSHIFT_ACCOUNT}:policy/RedshiftStreamPolicy")
    assert redshift_policy["Statement"][0]["Action"] == "sts:AssumeRole"
    assert redshift_policy["Statement"][0]["Resource"] == KINESIS_ROLE
    redshift_role = iam_b.get_role(RoleName="RedshiftStreamRole")["Role"]
    assert _doc(redshift_role["AssumeRolePolicyDocument"])["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "redshift.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    attached = iam_b.list_attached_role_policies(RoleName="RedshiftStreamRole")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["RedshiftStreamPolicy"]
    # Nothing leaked into the wrong account.
    assert "RedshiftStreamRole" not in [r["RoleName"] for r in iam_a.list_roles()["Roles"]]

    cluster = sessions["redshift"].client("redshift").describe_clusters(ClusterIdentifier=CLUSTER)["Clusters"][0]
    assert [r["IamRoleArn"] for r in cluster["IamRoles"]] == [REDSHIFT_ROLE]
    assert f"IAM_ROLE '{REDSHIFT_ROLE},{KINESIS_ROLE}'" in fake_data_api.executed[-2]
    assert fake_data_api.schemas["schema_stream"] == f"{REDSHIFT_ROLE},{KINESIS_ROLE}"
    assert "my_stream_vw" in fake_data_api.views
    tags = {t["Key"]: t["Value"] for t in iam_b.list_role_tags(RoleName="RedshiftStreamRole")["Tags"]}
    assert tags[ATTACHED_TAG] == f"cluster:{CLUSTER}"
    assert tags[SQL_TAG] == "mv:my_stream_vw schema:schema_stream"
    assert lines[-1].startswith("provisioned: 8 changes applied")


def test_provision_changes_nothing_and_says_so_when_run_twice(ctx, data_api, fake_data_api, backoff):
    provision(ctx, data_api, backoff, out=lambda _line: None)
    creates = [sql for sql in fake_data_api.executed if sql.startswith("CREATE")]
    lines: list[str] = []
    plan = provision(ctx, data_api, backoff, out=lines.append)
    assert plan.pending == []
    assert {c.action for c in plan.changes} == {"unchanged"}
    assert lines[-1] == "nothing to change: every resource is already as configured"
    assert [sql for sql in fake_data_api.executed if sql.startswith("CREATE")] == creates


def test_dry_run_prints_plan_and_creates_nothing_when_accounts_empty(ctx, sessions, data_api, fake_data_api, backoff):
    lines: list[str] = []
    plan = provision(ctx, data_api, backoff, dry_run=True, out=lines.append)
    text = "\n".join(lines)
    assert "create    [stream] kinesis stream my-data-stream: PROVISIONED, 2 shards" in text
    assert "create    [redshift] iam role RedshiftStreamRole" in text
    assert "CREATE EXTERNAL SCHEMA schema_stream FROM KINESIS" in text
    assert lines[-1] == "dry run: nothing was changed"
    assert len(plan.pending) == 8
    assert sessions["stream"].client("kinesis").list_streams()["StreamNames"] == []
    assert sessions["redshift"].client("iam").list_roles()["Roles"] == []
    assert not [sql for sql in fake_data_api.executed if not sql.startswith("SELECT")]


def test_provision_restores_trust_when_someone_edited_it(ctx, sessions, data_api, backoff):
    provision(ctx, data_api, backoff, out=lambda _line: None)
    iam_a = sessions["stream"].client("iam")
    iam_a.update_assume_role_policy(RoleName="KinesisStreamRole", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]}))
    plan = provision(ctx, data_api, backoff, out=lambda _line: None)
    assert [(c.kind, c.name, c.action) for c in plan.pending] == [("iam role", "KinesisStreamRole", "update")]
    trust = _doc(iam_a.get_role(RoleName="KinesisStreamRole")["Role"]["AssumeRolePolicyDocument"])
    assert trust["Statement"][0]["Principal"] == {"AWS": REDSHIFT_ROLE}


def test_provision_leaves_stream_untagged_when_it_existed_before(ctx, sessions, data_api, backoff):
    kinesis = sessions["stream"].client("kinesis")
    kinesis.create_stream(StreamName="my-data-stream", ShardCount=1)
    plan = provision(ctx, data_api, backoff, out=lambda _line: None)
    stream_change = plan.changes[0]
    assert (stream_change.kind, stream_change.action) == ("kinesis stream", "foreign")
    assert kinesis.list_tags_for_stream(StreamName="my-data-stream")["Tags"] == []
    assert kinesis.describe_stream_summary(StreamName="my-data-stream")["StreamDescriptionSummary"]["OpenShardCount"] == 1


def test_provision_retries_schema_with_backoff_when_role_not_yet_propagated(ctx, data_api, fake_data_api, backoff, clock):
    provision(ctx, data_api, backoff, dry_run=True, out=lambda _line: None)  # the existence reads
    fake_data_api.fail_next = []
    original_run = fake_data_api._run
    denials = ["ERROR: Not authorized to get credentials of role arn:aws:iam::222222222222:role/RedshiftStreamRole"] * 3

    def run(sql):
        if sql.startswith("CREATE EXTERNAL SCHEMA") and denials:
            return "FAILED", denials.pop(), []
        return original_run(sql)
    fake_data_api._run = run
    provision(ctx, data_api, backoff, out=lambda _line: None)
    assert "schema_stream" in fake_data_api.schemas
    assert clock.sleeps == [1, 2, 4]  # bounded exponential backoff, no real waiting


def test_provision_gives_up_after_timeout_when_role_never_usable(ctx, data_api, fake_data_api, backoff, clock, capsys):
    from streamload.aws.errors import AwsSetupError

    original_run = fake_data_api._run
    fake_data_api._run = lambda sql: (("FAILED", "ERROR: Not authorized to get credentials of role", [])
                                      if sql.startswith("CREATE EXTERNAL") else original_run(sql))
    try:
        provision(ctx, data_api, backoff, out=lambda _line: None)
    except AwsSetupError as exc:
        assert "create external schema schema_stream" in str(exc) and "Not authorized" in str(exc)
        assert exc.exit_code == 1
    else:
        raise AssertionError("provision should have failed")
    assert clock.now <= 30


def test_provision_creates_single_role_with_stream_reads_when_same_account(cfg, session_factory, sessions, data_api, fake_data_api, backoff):
    settings = AwsProvisionConfig(run_id="solo-run", stream_profile="solo")
    ctx = connect(cfg, settings, session_factory)
    assert ctx.accounts.same_account
    provision(ctx, data_api, backoff, out=lambda _line: None)
    iam = sessions["solo"].client("iam")
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert roles == ["RedshiftStreamRole"]
    policy = _default_policy(iam, f"arn:aws:iam::{STREAM_ACCOUNT}:policy/RedshiftStreamPolicy")
    assert [s["Sid"] for s in policy["Statement"]] == ["ReadStream", "ListStream"]
    solo_role = f"arn:aws:iam::{STREAM_ACCOUNT}:role/RedshiftStreamRole"
    assert fake_data_api.schemas["schema_stream"] == solo_role


def test_provision_tags_every_created_resource_with_run_id_when_created(ctx, sessions, data_api, backoff):
    provision(ctx, data_api, backoff, out=lambda _line: None)
    for side, policy in (("stream", "KinesisStreamPolicy"), ("redshift", "RedshiftStreamPolicy")):
        iam = sessions[side].client("iam")
        account = STREAM_ACCOUNT if side == "stream" else REDSHIFT_ACCOUNT
        tags = iam.list_policy_tags(PolicyArn=f"arn:aws:iam::{account}:policy/{policy}")["Tags"]
        assert {"Key": RUN_ID_TAG, "Value": "test-run-1"} in tags
        for role in iam.list_roles()["Roles"]:
            assert {"Key": RUN_ID_TAG, "Value": "test-run-1"} in iam.list_role_tags(RoleName=role["RoleName"])["Tags"]


def test_stream_session_never_sees_redshift_account_when_profiles_differ(ctx):
    assert (ctx.accounts.stream_account, ctx.accounts.redshift_account) == (STREAM_ACCOUNT, REDSHIFT_ACCOUNT)
    assert not ctx.accounts.same_account
    assert boto3.client("sts").get_caller_identity()["Account"] == STREAM_ACCOUNT
