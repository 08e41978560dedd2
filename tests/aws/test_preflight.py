"""preflight under moto: every hop passes after provision; a broken hop fails with its fix."""
from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from streamload.dataapi.client import make_boto3_client
from streamload.aws.accounts import connect
from streamload.aws.config import AwsProvisionConfig
from streamload.aws.errors import AwsConfigError
from streamload.aws.preflight import run_preflight
from streamload.aws.provision import provision

from .fakes import REDSHIFT_ACCOUNT, data_api_client

ALL_STEPS = [
    "credentials", "stream ACTIVE", "KinesisStreamRole trust and policy", "RedshiftStreamRole trust and policy",
    "role attached to the warehouse", "role chain assumable", "Kinesis read through the chained role",
    "Data API reachable", "external schema present", "materialized view present", "Redshift reads the stream",
]


def _statuses(report):
    return {step.name: step.status for step in report.steps}


@pytest.fixture
def provisioned(ctx, data_api, backoff):
    provision(ctx, data_api, backoff, out=lambda _line: None)
    return ctx


def test_preflight_passes_every_hop_when_provisioned(provisioned, data_api):
    report = run_preflight(lambda: provisioned, lambda _ctx: data_api)
    assert [s.name for s in report.steps] == ALL_STEPS
    assert set(_statuses(report).values()) == {"pass"}, report.render()
    assert report.exit_code == 0
    chain = next(s for s in report.steps if s.name == "role chain assumable")
    assert chain.detail == (f"arn:aws:iam::{REDSHIFT_ACCOUNT}:role/RedshiftStreamRole -> "
                            "arn:aws:iam::123456789012:role/KinesisStreamRole")
    assert report.render().splitlines()[-1] == "preflight: 11 passed, 0 failed, 0 skipped"


def test_preflight_fails_trust_step_with_fix_when_kinesis_role_trusts_another_principal(provisioned, sessions, data_api):
    sessions["stream"].client("iam").update_assume_role_policy(RoleName="KinesisStreamRole", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{REDSHIFT_ACCOUNT}:role/SomeOtherRole"},
                       "Action": "sts:AssumeRole"}]}))
    report = run_preflight(lambda: provisioned, lambda _ctx: data_api)
    step = next(s for s in report.steps if s.name == "KinesisStreamRole trust and policy")
    assert step.status == "fail"
    assert f"does not trust arn:aws:iam::{REDSHIFT_ACCOUNT}:role/RedshiftStreamRole" in step.detail
    assert "streamload aws provision" in step.fix
    assert report.exit_code == 1
    assert "fix:" in report.render()


def test_preflight_fails_policy_step_when_read_statement_missing(provisioned, sessions, data_api):
    iam = sessions["stream"].client("iam")
    iam.detach_role_policy(RoleName="KinesisStreamRole", PolicyArn="arn:aws:iam::123456789012:policy/KinesisStreamPolicy")
    report = run_preflight(lambda: provisioned, lambda _ctx: data_api)
    step = next(s for s in report.steps if s.name == "KinesisStreamRole trust and policy")
    assert step.status == "fail"
    assert "kinesis:GetRecords" in step.detail and "KinesisStreamPolicy" in step.fix


def test_preflight_fails_stream_and_skips_dependents_when_stream_missing(provisioned, sessions, data_api):
    sessions["stream"].client("kinesis").delete_stream(StreamName="my-data-stream")
    statuses = _statuses(run_preflight(lambda: provisioned, lambda _ctx: data_api))
    assert statuses["stream ACTIVE"] == "fail"
    assert statuses["Kinesis read through the chained role"] == "skip"
    assert statuses["Redshift reads the stream"] == "skip"
    assert statuses["role chain assumable"] == "pass"


def test_preflight_fails_attachment_when_role_not_on_cluster(ctx, data_api, backoff, sessions):
    provision(ctx, data_api, backoff, out=lambda _line: None)
    sessions["redshift"].client("redshift").modify_cluster_iam_roles(
        ClusterIdentifier="load-test-cluster", RemoveIamRoles=[ctx.names.redshift_role_arn])
    report = run_preflight(lambda: ctx, lambda _ctx: data_api)
    assert _statuses(report)["role attached to the warehouse"] == "fail"


def test_preflight_skips_live_chain_with_fix_when_first_hop_denied(provisioned, data_api):
    sts = provisioned.client_for(provisioned.redshift_session, "sts")
    stubber = Stubber(sts)
    stubber.add_client_error("assume_role", "AccessDenied", "not authorized to perform: sts:AssumeRole", 403)
    stubber.activate()
    provisioned._clients[("redshift", "sts")] = sts
    report = run_preflight(lambda: provisioned, lambda _ctx: data_api)
    chain = next(s for s in report.steps if s.name == "role chain assumable")
    assert chain.status == "skip"
    assert "aws.preflight_principal_arn" in chain.fix
    assert _statuses(report)["Kinesis read through the chained role"] == "skip"
    assert report.exit_code == 0  # the REFRESH step still proves the chain from Redshift's side


def test_preflight_fails_only_credentials_step_when_profile_unknown(cfg):
    settings = AwsProvisionConfig(stream_profile="no-such-profile-streamload-test")
    report = run_preflight(lambda: connect(cfg, settings), lambda _ctx: None)
    assert [(s.name, s.status) for s in report.steps] == [("credentials", "fail")]
    assert "no-such-profile-streamload-test" in report.steps[0].detail
    assert report.exit_code == 1


def test_preflight_exits_3_when_data_api_unreachable(provisioned):
    import socket

    with socket.socket() as sock:  # a loopback port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = provisioned.cfg.target.model_copy(update={"redshift_data_endpoint_url": f"http://127.0.0.1:{port}"})
    boto_client = make_boto3_client(target)
    report = run_preflight(lambda: provisioned, lambda ctx: data_api_client(boto_client, ctx.cfg))
    step = next(s for s in report.steps if s.name == "Data API reachable")
    assert step.status == "fail" and "cannot reach" in step.detail
    assert report.exit_code == 3


def test_config_error_raised_when_no_warehouse_configured(cfg, settings, session_factory, data_api, backoff):
    cfg = cfg.model_copy(deep=True)
    cfg.redshift.cluster_identifier = None
    ctx = connect(cfg, settings, session_factory)
    with pytest.raises(AwsConfigError, match="cluster_identifier or redshift.workgroup_name"):
        provision(ctx, data_api, backoff, out=lambda _line: None)
