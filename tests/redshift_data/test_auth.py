"""SigV4 on the Data API: only callers holding a key's secret (and a session's token) get in."""
from __future__ import annotations

import datetime
import json
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator.identity.registry import CallerIdentity, IdentityRegistry
from emulator.redshift_data import RedshiftDataSettings, create_app
from emulator.runtime import BackgroundServer

from .test_protocol import post, signed

DESCRIBE = "RedshiftData.DescribeStatement"


def error_code(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def data_api(url: str, key: str, secret: str, token: str | None = None):
    return boto3.client("redshift-data", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token)


def register_session(registry: IdentityRegistry, expires_in_s: float) -> str:
    """An STS session as the local STS registers it (secret "session-secret", token "session-token")."""
    key = f"ASIA{uuid.uuid4().hex[:16].upper()}"
    registry.register(CallerIdentity(access_key_id=key, account_id="123456789012",
                                     arn="arn:aws:sts::123456789012:assumed-role/app/s", role_name="app",
                                     expires_at=time.time() + expires_in_s), "session-secret", "session-token")
    return key


@pytest.fixture
def registry_server(postgres):
    registry = IdentityRegistry()
    settings = RedshiftDataSettings(pg_dsn=postgres.dsn, auto_refresh_interval_s=0, identity_registry=registry)
    with BackgroundServer(lambda: create_app(settings)) as server:
        yield server.url, registry


def test_unknown_access_key_gets_unrecognized_client_when_signed_with_it(data_api_url):
    client = data_api(data_api_url, "AKIDNOBODYKNOWS", "whatever")
    assert error_code(lambda: client.list_statements()) == "UnrecognizedClientException"


def test_wrong_secret_gets_invalid_signature_when_key_is_known(data_api_url):
    client = data_api(data_api_url, "streamload-local", "not-the-secret")
    with pytest.raises(ClientError) as caught:
        client.list_statements()
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert "signature we calculated does not match" in caught.value.response["Error"]["Message"]


def test_tampered_body_gets_invalid_signature_when_signed_for_another_body(data_api_url):
    headers = signed(data_api_url, json.dumps({"Id": "a"}).encode(),
                     {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": DESCRIBE})
    status, _, body = post(data_api_url, None, json.dumps({"Id": "b"}).encode(), sign=False, headers=headers)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")


def test_stale_signature_gets_invalid_signature_when_signed_long_ago(data_api_url, monkeypatch):
    import botocore.auth

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: datetime.datetime(2020, 1, 1))
    headers = signed(data_api_url, b"{}", {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": DESCRIBE})
    status, _, body = post(data_api_url, None, b"{}", sign=False, headers=headers)
    assert (status, body["__type"]) == (400, "InvalidSignatureException") and "expired" in body["message"]


def test_unsigned_request_gets_missing_authentication_token_unless_allowed(data_api_url, postgres):
    status, _, body = post(data_api_url, "RedshiftData.ListStatements", b"{}", sign=False)
    assert (status, body["__type"]) == (400, "MissingAuthenticationTokenException")
    settings = RedshiftDataSettings(pg_dsn=postgres.dsn, auto_refresh_interval_s=0, allow_unsigned_requests=True)
    with BackgroundServer(lambda: create_app(settings)) as server:
        assert post(server.url, "RedshiftData.ListStatements", b"{}", sign=False)[0] == 200
        assert post(server.url, "RedshiftData.ListStatements", b"{}", sign=False,
                    headers={"Authorization": "AWS4-HMAC-SHA256 nonsense"})[2]["__type"] == \
            "IncompleteSignatureException"


def test_sts_session_key_is_accepted_only_with_its_token_when_registry_knows_it(registry_server):
    url, registry = registry_server
    key = register_session(registry, expires_in_s=3600)
    assert data_api(url, key, "session-secret", "session-token").list_statements()["Statements"] == []
    assert error_code(lambda: data_api(url, key, "session-secret").list_statements()) == \
        "UnrecognizedClientException"
    assert error_code(lambda: data_api(url, key, "other-secret", "session-token").list_statements()) == \
        "InvalidSignatureException"


def test_expired_sts_session_key_gets_unrecognized_client_when_used(registry_server):
    url, registry = registry_server
    key = register_session(registry, expires_in_s=-1)
    assert error_code(lambda: data_api(url, key, "session-secret", "session-token").list_statements()) == \
        "UnrecognizedClientException"


def test_shared_verifier_accepts_botocore_signatures_and_names_each_failure():
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from emulator import sigv4

    request = AWSRequest(method="POST", url="http://127.0.0.1:1/?b=2&a=1", data=b'{"x": 1}',
                         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Svc.Op"})
    SigV4Auth(Credentials("key", "secret", "token"), "svc", "eu-west-1").add_auth(request)
    headers = dict(request.headers.items())
    headers["Host"] = "127.0.0.1:1"
    auth = sigv4.parse_authorization(headers["Authorization"])
    assert (auth.access_key_id, auth.region, auth.service) == ("key", "eu-west-1", "svc")
    verify = sigv4.SigV4Verifier({"key": "secret"}.get, session_token_for={"key": "token"}.get)
    verify("POST", "/?b=2&a=1", headers, b'{"x": 1}', auth)  # no exception: valid
    with pytest.raises(sigv4.SignatureMismatch):
        verify("POST", "/?b=2&a=1", {**headers, "X-Amz-Target": "Svc.Other"}, b'{"x": 1}', auth)
    with pytest.raises(sigv4.InvalidSecurityToken):
        verify("POST", "/?b=2&a=1", {k: v for k, v in headers.items() if k != "X-Amz-Security-Token"},
               b'{"x": 1}', auth)
    with pytest.raises(sigv4.UnknownAccessKey):
        sigv4.SigV4Verifier({}.get)("POST", "/", headers, b"", auth)
    with pytest.raises(sigv4.SignatureExpired):
        sigv4.SigV4Verifier({"key": "secret"}.get, wall_clock=lambda: time.time() + 3600)(
            "POST", "/?b=2&a=1", headers, b'{"x": 1}', auth)
    with pytest.raises(sigv4.MalformedAuthorization):
        sigv4.parse_authorization("AWS4-HMAC-SHA256 Credential=broken")
    assert sigv4.parse_authorization("AWS4-HMAC-SHA256 Credential=broken", strict=False) is None
