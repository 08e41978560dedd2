"""The documents of the cross-account set-up (docs/aws.md), the policy comparison, the evaluator preflight relies on,
and the bounded backoff."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from streamload.aws.config import AwsProvisionConfig
from streamload.aws.evaluate import allows, trusts
from streamload.aws.policies import AccountPair, ResourceNames, canonical_policy
from streamload.aws.waits import Backoff

from tests.support.clock import FakeClock

CROSS = ResourceNames(AccountPair("111111111111", "222222222222"), AwsProvisionConfig())
SOLO = ResourceNames(AccountPair("111111111111", "111111111111"), AwsProvisionConfig())


def test_role_chain_lists_redshift_role_first_when_cross_account():
    assert CROSS.iam_role_chain() == ["arn:aws:iam::222222222222:role/RedshiftStreamRole",
                                      "arn:aws:iam::111111111111:role/KinesisStreamRole"]
    assert SOLO.iam_role_chain() == ["arn:aws:iam::111111111111:role/RedshiftStreamRole"]


def test_redshift_trust_adds_preflight_statement_only_when_principal_configured():
    assert len(CROSS.redshift_role_trust()["Statement"]) == 1
    names = ResourceNames(CROSS.accounts, AwsProvisionConfig(preflight_principal_arn="arn:aws:iam::222222222222:role/Ops"))
    extra = names.redshift_role_trust()["Statement"][1]
    assert (extra["Sid"], extra["Principal"]) == ("PreflightAssumeRole", {"AWS": "arn:aws:iam::222222222222:role/Ops"})


def test_canonical_policy_equal_when_iam_returns_scalars_reordered_and_url_encoded():
    sent = CROSS.kinesis_stream_policy()
    returned = json.loads(json.dumps(sent))
    returned["Statement"].reverse()
    returned["Statement"][0]["Action"] = list(reversed(returned["Statement"][0]["Action"]))
    assert canonical_policy(quote(json.dumps(returned))) == canonical_policy(sent)
    returned["Statement"][0]["Resource"] = "arn:aws:kinesis:*:999999999999:stream/*"
    assert canonical_policy(returned) != canonical_policy(sent)


def test_allows_reads_on_stream_but_not_writes_when_kinesis_policy():
    docs = [CROSS.kinesis_stream_policy()]
    stream = "arn:aws:kinesis:us-east-1:111111111111:stream/my-data-stream"
    assert allows(docs, "kinesis:GetRecords", stream)
    assert not allows(docs, "kinesis:PutRecords", stream)
    assert not allows(docs, "kinesis:GetRecords", "arn:aws:kinesis:us-east-1:999999999999:stream/my-data-stream")
    deny = {"Statement": [{"Effect": "Deny", "Action": "kinesis:*", "Resource": "*"}]}
    assert not allows(docs + [deny], "kinesis:GetRecords", stream)


def test_trusts_only_named_principal_when_kinesis_role_trust():
    trust = CROSS.kinesis_role_trust()
    assert trusts(trust, "AWS", "arn:aws:iam::222222222222:role/RedshiftStreamRole")
    assert not trusts(trust, "AWS", "arn:aws:iam::222222222222:role/Other")
    assert not trusts(trust, "Service", "redshift.amazonaws.com")


def test_backoff_retries_transient_errors_with_doubling_delays_then_gives_up_when_deadline_near():
    clock = FakeClock(start=0.0)
    backoff = Backoff(timeout_s=10, first_delay_s=1, max_delay_s=4, sleep=clock.sleep, clock=clock)
    calls = []

    def always_failing():
        calls.append(clock())
        raise TimeoutError("not yet")

    with pytest.raises(TimeoutError):
        backoff.retry(always_failing, lambda exc: isinstance(exc, TimeoutError), "thing")
    assert clock.sleeps == [1, 2, 4]  # a next wait of 4 s would pass the 10 s deadline
    assert len(calls) == 4


def test_backoff_raises_at_once_when_error_not_transient():
    clock = FakeClock(start=0.0)
    with pytest.raises(KeyError):
        Backoff(sleep=clock.sleep, clock=clock).retry(lambda: {}["x"], lambda exc: False, "thing")
    assert clock.sleeps == []
