"""The identity flow through real boto3 clients against the local server on port 0."""
import base64
import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from emulator.identity.tokens import SigningKey

from emulator.identity.settings import LOCAL_APPLICATION_ARN

from .conftest import IDC_PROVIDER, IDENTITY_ROLE_ARN, JWT_BEARER, WEB_ROLE_ARN


def _code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_discovery_names_the_server_as_issuer_and_jwks_holds_the_signing_key(identity):
    with urllib.request.urlopen(f"{identity.url}/.well-known/openid-configuration", timeout=5) as resp:
        config = json.loads(resp.read())
    with urllib.request.urlopen(config["jwks_uri"], timeout=5) as resp:
        keys = json.loads(resp.read())["keys"]
    assert config["issuer"] == identity.url
    assert [k["kid"] for k in keys] == [identity.backend.issuer_key.kid]


def test_identity_enhanced_session_is_registered_with_email_and_groups_when_flow_completes(identity):
    token, web = identity.web_identity("frank")
    context = identity.identity_context(token, web)
    enhanced = identity.client("sts", web).assume_role(
        RoleArn=IDENTITY_ROLE_ARN, RoleSessionName="frank-dash",
        ProvidedContexts=[{"ProviderArn": IDC_PROVIDER, "ContextAssertion": context}])
    caller = identity.registry.lookup(enhanced["Credentials"]["AccessKeyId"])
    assert (caller.user_email, caller.groups, caller.identity_enhanced) == ("frank@example.com", ("amer-sales",), True)
    who = identity.client("sts", enhanced["Credentials"]).get_caller_identity()
    assert who["Arn"].endswith(":assumed-role/SalesDashboardIdentityEnhancedRole/frank-dash")


def test_web_identity_session_is_registered_with_role_name_and_no_user(identity):
    _, web = identity.web_identity("alex")
    caller = identity.registry.lookup(web["AccessKeyId"])
    assert caller.role_name == "SalesDashboardWebIdentityRole" and not caller.identity_enhanced


def test_assume_role_with_web_identity_fails_with_expired_token_when_token_is_past_exp(identity):
    expired = identity.backend.issue_id_token("frank", ttl_s=-300)
    with pytest.raises(ClientError) as excinfo:
        identity.client("sts").assume_role_with_web_identity(RoleArn=WEB_ROLE_ARN, RoleSessionName="s1",
                                                             WebIdentityToken=expired)
    assert _code(excinfo) == "ExpiredTokenException"


def test_assume_role_with_web_identity_fails_with_invalid_identity_token_when_signature_is_forged(identity):
    genuine = identity.id_token("frank")
    _, claims_part, _ = genuine.split(".")
    forged = SigningKey(kid=identity.backend.issuer_key.kid).sign(
        json.loads(base64.urlsafe_b64decode(claims_part + "==")))
    with pytest.raises(ClientError) as excinfo:
        identity.client("sts").assume_role_with_web_identity(RoleArn=WEB_ROLE_ARN, RoleSessionName="s1",
                                                             WebIdentityToken=forged)
    assert _code(excinfo) == "InvalidIdentityToken"
    assert excinfo.value.__class__.__name__ == "InvalidIdentityTokenException"


def test_assume_role_with_web_identity_fails_with_invalid_identity_token_when_token_is_garbage(identity):
    with pytest.raises(ClientError) as excinfo:
        identity.client("sts").assume_role_with_web_identity(RoleArn=WEB_ROLE_ARN, RoleSessionName="s1",
                                                             WebIdentityToken="not-a-jwt-at-all")
    assert _code(excinfo) == "InvalidIdentityToken"


def test_assume_role_with_web_identity_is_denied_when_trust_policy_names_another_principal(identity):
    token = identity.id_token("frank")
    with pytest.raises(ClientError) as excinfo:  # this role trusts the web-identity role, not the IdP
        identity.client("sts").assume_role_with_web_identity(RoleArn=IDENTITY_ROLE_ARN, RoleSessionName="s1",
                                                             WebIdentityToken=token)
    assert _code(excinfo) == "AccessDenied"


def test_assume_role_is_denied_when_caller_is_not_the_trusted_role(identity):
    with pytest.raises(ClientError) as excinfo:  # the local admin key is not SalesDashboardWebIdentityRole
        identity.client("sts").assume_role(RoleArn=IDENTITY_ROLE_ARN, RoleSessionName="admin")
    assert _code(excinfo) == "AccessDenied"
    assert "is not authorized to perform: sts:AssumeRole" in excinfo.value.response["Error"]["Message"]


def test_assume_role_is_rejected_when_context_assertion_is_tampered(identity):
    token, web = identity.web_identity("frank")
    context = identity.identity_context(token, web)
    with pytest.raises(ClientError) as excinfo:
        identity.client("sts", web).assume_role(
            RoleArn=IDENTITY_ROLE_ARN, RoleSessionName="s1",
            ProvidedContexts=[{"ProviderArn": IDC_PROVIDER, "ContextAssertion": context[:-4] + "AAAA"}])
    assert _code(excinfo) == "InvalidParameterValue"


def test_create_token_with_iam_is_denied_with_clear_message_when_persona_matches_no_group(identity):
    token, web = identity.web_identity("lou")
    with pytest.raises(ClientError) as excinfo:
        identity.client("sso-oidc", web).create_token_with_iam(clientId=LOCAL_APPLICATION_ARN,
                                                               grantType=JWT_BEARER, assertion=token)
    assert _code(excinfo) == "AccessDeniedException"
    assert "lou@example.com is not a member of any group assigned" in excinfo.value.response["error_description"]


def test_create_token_with_iam_rejects_unknown_client_and_grant_type(identity):
    token, web = identity.web_identity("frank")
    oidc = identity.client("sso-oidc", web)
    with pytest.raises(ClientError) as client_exc:
        oidc.create_token_with_iam(clientId="arn:aws:sso::000000000000:application/x/y", grantType=JWT_BEARER,
                                   assertion=token)
    with pytest.raises(ClientError) as grant_exc:
        oidc.create_token_with_iam(clientId=LOCAL_APPLICATION_ARN, grantType="authorization_code", code="c")
    assert (_code(client_exc), _code(grant_exc)) == ("InvalidClientException", "UnsupportedGrantTypeException")


def test_signed_calls_fail_when_secret_is_wrong(identity):
    sts = identity.client("sts", aws_access_key_id="streamload-local", aws_secret_access_key="not-the-secret")
    with pytest.raises(ClientError) as excinfo:
        sts.get_caller_identity()
    assert _code(excinfo) == "SignatureDoesNotMatch"


def test_signed_calls_fail_when_session_token_is_missing(identity):
    _, web = identity.web_identity("frank")
    sts = identity.client("sts", aws_access_key_id=web["AccessKeyId"], aws_secret_access_key=web["SecretAccessKey"])
    with pytest.raises(ClientError) as excinfo:
        sts.get_caller_identity()
    assert _code(excinfo) == "InvalidClientTokenId"


def test_issuer_token_endpoint_answers_400_when_persona_is_unknown(identity):
    request = urllib.request.Request(f"{identity.url}/oidc/token", data=b"username=mallory")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=5)
    assert excinfo.value.code == 400 and b"mallory" in excinfo.value.read()


def test_sts_answers_aws_error_when_action_is_unknown(identity):
    request = urllib.request.Request(f"{identity.url}/", data=b"Action=Nope&Version=2011-06-15")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=5)
    assert excinfo.value.code == 400 and b"<Code>InvalidAction</Code>" in excinfo.value.read()
