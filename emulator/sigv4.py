"""AWS Signature Version 4 verification for the local stack's servers (Kinesis, STS/SSO-OIDC,
Redshift Data API): a caller must hold the secret of the access key it names, so a leaked or
guessed access key id alone buys nothing.

The canonical request is rebuilt as botocore builds it (the headers named in ``SignedHeaders``
with whitespace-collapsed values, the sorted query, the SHA-256 of the body or the
``X-Amz-Content-SHA256`` the client sent) and the HMAC compared in constant time. The derived
signing key is cached per secret/date/region/service, so a check costs two SHA-256 passes
plus hashing the body: a few microseconds.

Errors are service-neutral; each server maps them onto its own error classes::

    SigV4Error
    ├── MalformedAuthorization   an Authorization header we cannot read (IncompleteSignature)
    ├── UnknownAccessKey         no secret for this key (UnrecognizedClient / InvalidClientTokenId)
    ├── InvalidSecurityToken     temporary key without its session token
    └── SignatureMismatch        wrong signature (InvalidSignature / SignatureDoesNotMatch)
        └── SignatureExpired     signed more than ``max_skew_s`` from now
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time
from calendar import timegm
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, quote

from multidict import CIMultiDict

__all__ = [
    "SigV4Authorization", "parse_authorization", "signature_matches", "SigV4Verifier",
    "SigV4Error", "MalformedAuthorization", "UnknownAccessKey", "InvalidSecurityToken", "SignatureMismatch",
    "SignatureExpired", "SIGNATURE_MISMATCH_MESSAGE", "as_service_error",
]

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/(?P<service>[^/,\s]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<headers>[a-z0-9;_.:-]+),\s*Signature=(?P<signature>[0-9a-f]+)\s*$"
)
SIGNATURE_MISMATCH_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)


class SigV4Error(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedAuthorization(SigV4Error):
    pass


class UnknownAccessKey(SigV4Error):
    pass


class InvalidSecurityToken(SigV4Error):
    pass


class SignatureMismatch(SigV4Error):
    pass


class SignatureExpired(SignatureMismatch):
    pass


@dataclass(frozen=True, slots=True)
class SigV4Authorization:
    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(header: str | None, strict: bool = True) -> SigV4Authorization | None:
    """The parts of a SigV4 ``Authorization`` header; None without one. A header we cannot
    read raises MalformedAuthorization (``strict``) or gives None."""
    if not header:
        return None
    match = _AUTHORIZATION.match(header.strip())
    if match is None:
        if not strict:
            return None
        raise MalformedAuthorization(
            f"Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters "
            f"in AWS4-HMAC-SHA256 form. Authorization={header[:200]}")
    return SigV4Authorization(match["key"], match["date"], match["region"], match["service"],
                              tuple(match["headers"].split(";")), match["signature"])


@lru_cache(maxsize=256)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(("AWS4" + secret).encode("utf-8"), date.encode("utf-8"), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def _canonical_query(query: str) -> str:
    if not query:  # JSON-protocol calls (POST /) have none
        return ""
    pairs = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{k}={v}" for k, v in pairs)


def _case_insensitive(headers: Mapping[str, str]) -> Mapping[str, str]:
    """aiohttp's headers as they are (a header may repeat); any other mapping made case-insensitive."""
    return headers if hasattr(headers, "getall") else CIMultiDict(headers)


def signature_matches(method: str, path_qs: str, headers: Mapping[str, str], body: bytes,
                      auth: SigV4Authorization, secret_access_key: str) -> bool:
    """True if ``auth.signature`` is what ``secret_access_key`` gives for this request."""
    headers = _case_insensitive(headers)
    amz_date = headers.get("X-Amz-Date", "")
    if not amz_date.startswith(auth.date):
        return False
    path, _, query = path_qs.partition("?")
    canonical_headers = "".join(
        f"{name}:{','.join(' '.join(v.split()) for v in headers.getall(name, []))}\n"
        for name in auth.signed_headers)
    payload_hash = headers.get("X-Amz-Content-SHA256") or hashlib.sha256(body).hexdigest()
    canonical_request = "\n".join((method, quote(path or "/", safe="/~"), _canonical_query(query), canonical_headers,
                                   ";".join(auth.signed_headers), payload_hash))
    scope = f"{auth.date}/{auth.region}/{auth.service}/aws4_request"
    string_to_sign = "\n".join(("AWS4-HMAC-SHA256", amz_date, scope,
                                hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()))
    key = _signing_key(secret_access_key, auth.date, auth.region, auth.service)
    expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, auth.signature)


def _amz_epoch(amz_date: str) -> float | None:
    """``YYYYMMDDTHHMMSSZ`` as epoch seconds (by hand: strptime costs more than the HMAC)."""
    if len(amz_date) != 16 or amz_date[8] != "T" or amz_date[15] != "Z":
        return None
    try:
        parts = (int(amz_date[0:4]), int(amz_date[4:6]), int(amz_date[6:8]), int(amz_date[9:11]),
                 int(amz_date[11:13]), int(amz_date[13:15]))
        if not (1 <= parts[1] <= 12 and 1 <= parts[2] <= 31 and parts[3] < 24 and parts[4] < 60 and parts[5] < 61):
            return None
        return float(timegm(parts))
    except ValueError:
        return None


class SigV4Verifier:
    """``verifier(method, path_qs, headers, body, auth)`` returns None for a good signature and
    raises a SigV4Error otherwise.

    ``secret_for_access_key`` gives the secret of a key (None: unknown key);
    ``session_token_for`` (optional) the session token a temporary key must be sent with."""

    def __init__(self, secret_for_access_key: Callable[[str], str | None], max_skew_s: float = 900.0,
                 wall_clock: Callable[[], float] | None = None,
                 session_token_for: Callable[[str], str | None] | None = None) -> None:
        self.secret_for_access_key = secret_for_access_key
        self.max_skew_s = max_skew_s
        self.wall_clock = wall_clock or time.time
        self.session_token_for = session_token_for

    def __call__(self, method: str, path_qs: str, headers: Mapping[str, str], body: bytes,
                 auth: SigV4Authorization) -> None:
        headers = _case_insensitive(headers)
        secret = self.secret_for_access_key(auth.access_key_id)
        if secret is None:
            raise UnknownAccessKey("The security token included in the request is invalid.")
        if self.session_token_for is not None:
            expected_token = self.session_token_for(auth.access_key_id)
            if expected_token is not None and headers.get("X-Amz-Security-Token") != expected_token:
                raise InvalidSecurityToken("The security token included in the request is invalid.")
        amz_date = headers.get("X-Amz-Date", "")
        signed_at = _amz_epoch(amz_date)
        if signed_at is None or not amz_date.startswith(auth.date):
            raise MalformedAuthorization("Date must be in ISO-8601 'basic format'. Got X-Amz-Date=" + amz_date[:40])
        now = self.wall_clock()
        if abs(now - signed_at) > self.max_skew_s:
            raise SignatureExpired(
                f"Signature expired: {amz_date} is now earlier than "
                f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now - self.max_skew_s))} "
                f"({time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now))} - {int(self.max_skew_s // 60)} min.)")
        if not signature_matches(method, path_qs, headers, body, auth, secret):
            raise SignatureMismatch(SIGNATURE_MISMATCH_MESSAGE)


def as_service_error(error: SigV4Error, incomplete: type, unrecognized: type, invalid: type) -> Exception:
    """``error`` as a server's own classes: IncompleteSignature for an unreadable header,
    UnrecognizedClient for an unknown key or missing token, InvalidSignature for the rest."""
    if isinstance(error, MalformedAuthorization):
        return incomplete(error.message)
    if isinstance(error, (UnknownAccessKey, InvalidSecurityToken)):
        return unrecognized(error.message)
    return invalid(error.message)
