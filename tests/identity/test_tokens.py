"""RS256 tokens and trust policies: the checks STS relies on, without HTTP."""
import time

import pytest

from emulator.identity.policy import Principal, role_arn_of_session, trust_allows
from emulator.identity.tokens import SigningKey, TokenExpired, TokenInvalid

KEY = SigningKey()
ISS, AUD = "http://127.0.0.1:1", "dashboard"


def _claims(**over):
    now = int(time.time())
    return {"iss": ISS, "aud": AUD, "sub": "u1", "iat": now, "exp": now + 60, **over}


def test_token_verifies_to_its_claims_when_signed_by_the_key():
    assert KEY.verify(KEY.sign(_claims()), ISS, AUD)["sub"] == "u1"


def test_token_is_invalid_when_signed_by_another_key_with_the_same_kid():
    forged = SigningKey(kid=KEY.kid).sign(_claims())
    with pytest.raises(TokenInvalid, match="signature"):
        KEY.verify(forged, ISS, AUD)


def test_token_is_invalid_when_claims_are_altered_after_signing():
    head, _, sig = KEY.sign(_claims()).split(".")
    other_body = KEY.sign(_claims(sub="admin")).split(".")[1]
    with pytest.raises(TokenInvalid):
        KEY.verify(f"{head}.{other_body}.{sig}", ISS, AUD)


def test_token_is_expired_when_exp_is_past_the_skew():
    with pytest.raises(TokenExpired):
        KEY.verify(KEY.sign(_claims(exp=int(time.time()) - 120)), ISS, AUD)


@pytest.mark.parametrize("bad, match", [({"aud": "other"}, "audience"), ({"iss": "http://evil"}, "issuer")])
def test_token_is_invalid_when_issuer_or_audience_differ(bad, match):
    with pytest.raises(TokenInvalid, match=match):
        KEY.verify(KEY.sign(_claims(**bad)), ISS, AUD)


@pytest.mark.parametrize("junk", ["", "abc", "a.b.c", "e30.e30"])
def test_token_is_invalid_when_malformed(junk):
    with pytest.raises(TokenInvalid):
        KEY.verify(junk, ISS, AUD)


def test_jwk_publishes_only_the_public_key():
    jwk = KEY.jwk()
    assert {jwk["kty"], jwk["alg"], jwk["kid"]} == {"RSA", "RS256", KEY.kid} and "d" not in jwk


TRUST = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:role/Web"},
                        "Action": ["sts:AssumeRole", "sts:SetContext"]}]}


def test_trust_allows_assumed_role_session_of_the_trusted_role():
    role = role_arn_of_session("arn:aws:sts::000000000000:assumed-role/Web/s1")
    assert trust_allows(TRUST, Principal("AWS", (role,)), "sts:SetContext")


def test_trust_denies_when_principal_is_another_role_or_action_is_missing():
    assert not trust_allows(TRUST, Principal("AWS", ("arn:aws:iam::000000000000:role/Other",)), "sts:AssumeRole")
    assert not trust_allows(TRUST, Principal("AWS", ("arn:aws:iam::000000000000:role/Web",)), "sts:TagSession")


def test_trust_denies_when_explicit_deny_matches():
    policy = {"Statement": TRUST["Statement"] + [{"Effect": "Deny", "Principal": "*", "Action": "sts:*"}]}
    assert not trust_allows(policy, Principal("AWS", ("arn:aws:iam::000000000000:role/Web",)), "sts:AssumeRole")


def test_trust_condition_must_hold_when_statement_has_one():
    policy = {"Statement": [{"Effect": "Allow", "Principal": {"Federated": "p"}, "Action": "sts:AssumeRoleWithWebIdentity",
                             "Condition": {"StringEquals": {"h:aud": "dashboard"}}}]}
    assert trust_allows(policy, Principal("Federated", ("p",), {"h:aud": "dashboard"}), "sts:AssumeRoleWithWebIdentity")
    assert not trust_allows(policy, Principal("Federated", ("p",), {"h:aud": "x"}), "sts:AssumeRoleWithWebIdentity")
