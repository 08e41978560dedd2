"""SigV4: signatures verified against the configured local credentials."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from kinesis_helpers import LOCAL_KEY, REGION, make_client, post_operation, post_raw, signed_headers, start_server

from emulator.kinesis import KinesisBackend, KinesisSettings


def error_code(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def test_local_stack_key_pair_is_accepted_when_server_uses_default_settings(server):
    assert make_client(server.url).list_streams()["StreamNames"] == []


def test_unknown_access_key_gets_unrecognized_client_when_signed_correctly_with_it(server):
    kinesis = make_client(server.url, access_key="AKIDNOBODYKNOWS")
    assert error_code(kinesis.list_streams) == "UnrecognizedClientException"


def test_wrong_secret_gets_invalid_signature_when_key_is_known(server):
    import boto3

    kinesis = boto3.client("kinesis", endpoint_url=server.url, region_name=REGION,
                           aws_access_key_id=LOCAL_KEY, aws_secret_access_key="not-the-secret")
    with pytest.raises(ClientError) as caught:
        kinesis.list_streams()
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert "signature we calculated does not match" in caught.value.response["Error"]["Message"]


def test_tampered_body_gets_invalid_signature_when_signed_for_another_body(server):
    headers = {"X-Amz-Target": "Kinesis_20131202.ListStreams", "Content-Type": "application/x-amz-json-1.1"}
    signed = signed_headers(server.url, b"{}", headers)
    status, _, body = post_raw(server.url, b'{"Limit": 1}', None, signed)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")


def test_unsigned_request_gets_missing_authentication_token_unless_allowed(server):
    status, _, body = post_operation(server.url, "ListStreams", {}, sign=False)
    assert (status, body["__type"]) == (400, "MissingAuthenticationTokenException")
    srv = start_server(KinesisBackend(KinesisSettings.unthrottled(allow_unsigned_requests=True)))
    try:
        assert post_operation(srv.url, "ListStreams", {}, sign=False)[0] == 200
    finally:
        srv.stop()


def test_stale_signature_gets_invalid_signature_when_signed_over_15_minutes_ago(server):
    headers = {"X-Amz-Target": "Kinesis_20131202.ListStreams", "Content-Type": "application/x-amz-json-1.1"}
    signed = signed_headers(server.url, b"{}", headers)
    stale = signed_headers(server.url, b"{}", headers)
    stale["X-Amz-Date"] = "20200101T000000Z"
    stale["Authorization"] = signed["Authorization"].replace(signed["X-Amz-Date"][:8], "20200101")
    status, _, body = post_raw(server.url, b"{}", None, stale)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert body["message"].startswith("Signature expired: 20200101T000000Z")


def test_malformed_authorization_gets_incomplete_signature_when_parts_missing(server):
    status, _, body = post_operation(server.url, "ListStreams", {}, {"Authorization": "AWS4-HMAC-SHA256 Credential=x"})
    assert (status, body["__type"]) == (400, "IncompleteSignatureException")


def test_arns_carry_account_of_access_key_when_keys_map_to_accounts():
    settings = KinesisSettings.unthrottled(
        credentials={LOCAL_KEY: LOCAL_KEY, "AKIDACCOUNTTWO": "secret-two"},
        access_key_accounts={"AKIDACCOUNTTWO": "222222222222"},
    )
    srv = start_server(KinesisBackend(settings))
    try:
        import boto3

        two = boto3.client("kinesis", endpoint_url=srv.url, region_name="eu-west-1",
                           aws_access_key_id="AKIDACCOUNTTWO", aws_secret_access_key="secret-two")
        two.create_stream(StreamName="s", ShardCount=1)
        arn = two.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamARN"]
        assert arn == "arn:aws:kinesis:eu-west-1:222222222222:stream/s"
        local = make_client(srv.url)
        assert local.list_streams()["StreamNames"] == []  # another account's streams are invisible
        assert error_code(lambda: local.describe_stream_summary(StreamARN=arn)) == "AccessDeniedException"
    finally:
        srv.stop()


def test_settings_refuse_account_mapping_when_key_has_no_secret():
    with pytest.raises(ValueError, match="without a secret"):
        KinesisSettings(access_key_accounts={"AKIDX": "111111111111"})
    assert json.loads(KinesisSettings().model_dump_json())["credentials"] == {LOCAL_KEY: LOCAL_KEY}
