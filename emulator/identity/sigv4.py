"""Verify AWS Signature Version 4 on a request a server received.

The local STS, SSO-OIDC (and the Data API, through ``IdentityRegistry.secret_for``) use
this to make sure a caller holds the secret of the access key it names, so a leaked or
guessed access key id alone does not buy another persona's session.
"""
from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

__all__ = ["SigV4Header", "parse_authorization", "signature_is_valid"]

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[a-z0-9;_.-]+),\s*Signature=(?P<sig>[0-9a-f]{64})\s*$")


@dataclass(frozen=True)
class SigV4Header:
    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str | None) -> SigV4Header | None:
    """The parts of a SigV4 ``Authorization`` header, or None if it is not one."""
    match = _AUTH.match(value or "")
    if match is None:
        return None
    return SigV4Header(match["key"], match["date"], match["region"], match["service"],
                       tuple(match["signed"].split(";")), match["sig"])


class _ReceivedRequestSigner(SigV4Auth):
    """botocore's signer, restricted to the headers the client said it signed."""

    def __init__(self, credentials: Credentials, service: str, region: str, signed: tuple[str, ...]) -> None:
        super().__init__(credentials, service, region)
        self._signed = signed

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        header_map = HTTPHeaders()
        for name, value in request.headers.items():
            if name.lower() in self._signed:
                header_map[name.lower()] = value
        return header_map


def signature_is_valid(method: str, path_qs: str, headers: Mapping[str, str], body: bytes,
                       auth: SigV4Header, secret_access_key: str) -> bool:
    """True if ``auth.signature`` is what ``secret_access_key`` gives for this request."""
    timestamp = headers.get("X-Amz-Date", "")
    if not timestamp.startswith(auth.date):
        return False
    host = headers.get("Host", "localhost")
    request = AWSRequest(method=method, url=f"http://{host}{path_qs}",
                         headers={k: v for k, v in headers.items()}, data=body)
    request.context["timestamp"] = timestamp
    signer = _ReceivedRequestSigner(Credentials(auth.access_key_id, secret_access_key), auth.service,
                                    auth.region, auth.signed_headers)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    return hmac.compare_digest(expected, auth.signature)
