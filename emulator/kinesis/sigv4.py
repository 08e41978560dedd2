"""SigV4 signature verification against the server's configured local credentials.

The canonical request is rebuilt exactly as botocore builds it (headers named in
``SignedHeaders``, whitespace-collapsed values, sorted query, SHA-256 of the body or the
``X-Amz-Content-SHA256`` the client sent) and the HMAC compared in constant time. The
derived signing key is cached per secret/date/region/service, so verifying costs two
SHA-256 passes over the request, a few microseconds plus hashing the body.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from calendar import timegm
from collections.abc import Callable, Mapping
from functools import lru_cache
from time import gmtime, strftime, strptime
from urllib.parse import parse_qsl, quote

from .exceptions import IncompleteSignatureException, InvalidSignatureException, UnrecognizedClientException

__all__ = ["SigV4Authorization", "parse_authorization", "SigV4Verifier"]

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/(?P<service>[^/,\s]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<headers>[a-z0-9;_.-]+),\s*Signature=(?P<signature>[0-9a-f]+)\s*$"
)
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)


class SigV4Authorization:
    __slots__ = ("access_key_id", "date", "region", "service", "signed_headers", "signature")

    def __init__(self, access_key_id: str, date: str, region: str, service: str, signed_headers: list[str], signature: str):
        self.access_key_id = access_key_id
        self.date = date
        self.region = region
        self.service = service
        self.signed_headers = signed_headers
        self.signature = signature


def parse_authorization(header: str) -> SigV4Authorization | None:
    """The parts of a SigV4 ``Authorization`` header; None if there is no header,
    IncompleteSignatureException if there is one we cannot read."""
    if not header:
        return None
    match = _AUTHORIZATION.match(header.strip())
    if match is None:
        raise IncompleteSignatureException(
            f"Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters "
            f"in AWS4-HMAC-SHA256 form. Authorization={header[:200]}"
        )
    return SigV4Authorization(
        match["key"], match["date"], match["region"], match["service"], match["headers"].split(";"), match["signature"]
    )


@lru_cache(maxsize=256)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(("AWS4" + secret).encode("utf-8"), date.encode("utf-8"), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def _canonical_query(query: str) -> str:
    pairs = sorted(
        (quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in parse_qsl(query, keep_blank_values=True)
    )
    return "&".join(f"{k}={v}" for k, v in pairs)


def _amz_epoch(amz_date: str) -> float | None:
    try:
        return float(timegm(strptime(amz_date, "%Y%m%dT%H%M%SZ")))
    except ValueError:
        return None


class SigV4Verifier:
    """Callable ``SignatureVerifier``: raises UnrecognizedClientException for a key it
    has no secret for, InvalidSignatureException for a wrong or expired signature."""

    def __init__(
        self,
        secret_for_access_key: Callable[[str], str | None],
        max_skew_s: float = 900.0,
        wall_clock: Callable[[], float] | None = None,
    ) -> None:
        import time

        self.secret_for_access_key = secret_for_access_key
        self.max_skew_s = max_skew_s
        self.wall_clock = wall_clock or time.time

    def __call__(
        self, method: str, path_qs: str, headers: Mapping[str, str], body: bytes, auth: SigV4Authorization
    ) -> None:
        secret = self.secret_for_access_key(auth.access_key_id)
        if secret is None:
            raise UnrecognizedClientException()
        amz_date = headers.get("X-Amz-Date", "")
        signed_at = _amz_epoch(amz_date)
        if signed_at is None or not amz_date.startswith(auth.date):
            raise IncompleteSignatureException("Date must be in ISO-8601 'basic format'. Got X-Amz-Date=" + amz_date[:40])
        now = self.wall_clock()
        if abs(now - signed_at) > self.max_skew_s:
            minutes = int(self.max_skew_s // 60)
            raise InvalidSignatureException(
                f"Signature expired: {amz_date} is now earlier than "
                f"{strftime('%Y%m%dT%H%M%SZ', gmtime(now - self.max_skew_s))} "
                f"({strftime('%Y%m%dT%H%M%SZ', gmtime(now))} - {minutes} min.)"
            )
        path, _, query = path_qs.partition("?")
        canonical_headers = []
        for name in auth.signed_headers:
            values = headers.getall(name, []) if hasattr(headers, "getall") else [headers.get(name, "")]
            canonical_headers.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}\n")
        payload_hash = headers.get("X-Amz-Content-SHA256") or hashlib.sha256(body).hexdigest()
        canonical_request = "\n".join(
            (
                method,
                quote(path or "/", safe="/~"),
                _canonical_query(query),
                "".join(canonical_headers),
                ";".join(auth.signed_headers),
                payload_hash,
            )
        )
        scope = f"{auth.date}/{auth.region}/{auth.service}/aws4_request"
        string_to_sign = "\n".join(
            ("AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest())
        )
        key = _signing_key(secret, auth.date, auth.region, auth.service)
        expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, auth.signature):
            raise InvalidSignatureException(_SIGNATURE_MISMATCH)
