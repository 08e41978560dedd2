"""STS and SSO-OIDC check requests against botocore's models of them, in AWS's words.

Recorded STS answers (query protocol, ``<Code>ValidationError</Code>``, HTTP 400):
``1 validation error detected: Value null at 'roleArn' failed to satisfy constraint:
Member must not be null``; ``Value 'bedrock role' at 'roleSessionName' … pattern:
[\\w+=,.@-]*``; ``Value '20' at 'durationSeconds' … greater than or equal to 900``."""
from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.identity.settings import LOCAL_APPLICATION_ARN

from .conftest import IDC_PROVIDER, IDENTITY_ROLE_ARN, JWT_BEARER, WEB_ROLE_ARN

UNCHECKED = Config(parameter_validation=False)  # let boto3 send what AWS would refuse


def _error(call) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"], error["Error"].get("Message", "")


def _unchecked(identity, service: str, creds: dict | None = None):
    keys = {"aws_access_key_id": "streamload-local", "aws_secret_access_key": "streamload-local"}
    if creds is not None:
        keys = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"]}
    return boto3.client(service, endpoint_url=identity.url, region_name="us-east-1", config=UNCHECKED, **keys)


def test_assume_role_with_web_identity_names_missing_role_arn_in_aws_words_when_omitted(identity):
    body = urllib.parse.urlencode({"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                                   "RoleSessionName": "s1", "WebIdentityToken": identity.id_token("frank")}).encode()
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(urllib.request.Request(f"{identity.url}/", data=body), timeout=5)
    answer = raised.value.read().decode()
    assert raised.value.code == 400 and "<Code>ValidationError</Code>" in answer
    assert ("<Message>1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: "
            "Member must not be null</Message>") in answer


def test_assume_role_refuses_session_name_with_aws_pattern_when_it_has_a_space(identity):
    _, web = identity.web_identity("frank")
    status, code, message = _error(lambda: identity.client("sts", web).assume_role(
        RoleArn=IDENTITY_ROLE_ARN, RoleSessionName="bedrock role"))
    assert (status, code) == (400, "ValidationError")
    assert message == ("1 validation error detected: Value 'bedrock role' at 'roleSessionName' failed to satisfy "
                       "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")


def test_assume_role_with_web_identity_refuses_short_duration_when_under_fifteen_minutes(identity):
    token = identity.id_token("frank")
    status, code, message = _error(lambda: _unchecked(identity, "sts").assume_role_with_web_identity(
        RoleArn=WEB_ROLE_ARN, RoleSessionName="s1", WebIdentityToken=token, DurationSeconds=20))
    assert (status, code, message) == (400, "ValidationError", (
        "1 validation error detected: Value '20' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900"))


def test_assume_role_refuses_more_than_five_provided_contexts_when_given_six(identity):
    _, web = identity.web_identity("frank")
    contexts = [{"ProviderArn": IDC_PROVIDER, "ContextAssertion": "abcd"}] * 6
    status, code, message = _error(lambda: _unchecked(identity, "sts", web).assume_role(
        RoleArn=IDENTITY_ROLE_ARN, RoleSessionName="s1", ProvidedContexts=contexts))
    assert (status, code) == (400, "ValidationError")
    assert message.endswith("at 'providedContexts' failed to satisfy constraint: "
                            "Member must have length less than or equal to 5")


def test_create_token_with_iam_names_missing_grant_type_in_aws_words_when_omitted(identity):
    token, web = identity.web_identity("frank")
    with pytest.raises(ClientError) as raised:
        _unchecked(identity, "sso-oidc", web).create_token_with_iam(clientId=LOCAL_APPLICATION_ARN, assertion=token)
    assert raised.value.response["Error"]["Code"] == "InvalidRequestException"
    assert raised.value.response["error_description"] == (
        "1 validation error detected: Value null at 'grantType' failed to satisfy constraint: Member must not be null")


def test_create_token_with_iam_still_issues_tokens_when_request_is_well_formed(identity):
    token, web = identity.web_identity("frank")
    issued = identity.client("sso-oidc", web).create_token_with_iam(
        clientId=LOCAL_APPLICATION_ARN, grantType=JWT_BEARER, assertion=token)
    assert issued["idToken"]
