"""The local stack checks the external schema's IAM role chain at every REFRESH, as Redshift
does: the tutorial's chain works, a chain with a wrong hop fails naming that hop."""
from __future__ import annotations

import pytest

from emulator.stack import LOCAL_REDSHIFT_ACCOUNT, LOCAL_STREAM_ACCOUNT, LocalStack
from streamload.dataapi.client import StatementError
from streamload.core.config import load_config
from streamload.pipeline import setup_pipeline


@pytest.fixture(scope="module")
def stack():
    with LocalStack() as s:
        yield s


def _config(stack, **redshift):
    cfg = load_config(None, {"stream": {"name": "chain-stream", "shards": 1}, "redshift": redshift}, environ={})
    stack.point_config_at_stack(cfg)
    return cfg


def test_refresh_succeeds_when_the_tutorial_role_chain_is_used(stack):
    cfg = _config(stack)
    assert cfg.redshift.iam_roles == [f"arn:aws:iam::{LOCAL_REDSHIFT_ACCOUNT}:role/RedshiftStreamRole",
                                      f"arn:aws:iam::{LOCAL_STREAM_ACCOUNT}:role/KinesisStreamRole"]
    client = setup_pipeline(cfg)
    client.execute(f"REFRESH MATERIALIZED VIEW {cfg.redshift.materialized_view}", "refresh")


def test_refresh_fails_naming_the_hop_when_the_chain_is_broken(stack):
    # The second role is not one the first may assume (an unknown role in the stream account).
    broken = f"arn:aws:iam::{LOCAL_STREAM_ACCOUNT}:role/SomeoneElsesRole"
    cfg = _config(stack, external_schema="broken_stream", materialized_view="broken_vw",
                  iam_roles=[f"arn:aws:iam::{LOCAL_REDSHIFT_ACCOUNT}:role/RedshiftStreamRole", broken])
    with pytest.raises(StatementError) as failure:
        client = setup_pipeline(cfg)
        client.execute("REFRESH MATERIALIZED VIEW broken_vw", "refresh")
    message = str(failure.value)
    assert "SomeoneElsesRole" in message and "hop 2" in message
