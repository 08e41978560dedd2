"""The local STS's and SSO-OIDC's face of the local stack's SigV4 verifier (``emulator.sigv4``).

``responses`` decides the error codes (MissingAuthenticationToken, InvalidClientTokenId,
SignatureDoesNotMatch); here a header that is not SigV4 simply reads as no header.
"""
from __future__ import annotations

from collections.abc import Mapping

from emulator import sigv4
from emulator.sigv4 import SigV4Authorization

__all__ = ["SigV4Header", "parse_authorization", "signature_is_valid"]

SigV4Header = SigV4Authorization


def parse_authorization(value: str | None) -> SigV4Header | None:
    """The parts of a SigV4 ``Authorization`` header, or None if it is not one."""
    return sigv4.parse_authorization(value, strict=False)


def signature_is_valid(method: str, path_qs: str, headers: Mapping[str, str], body: bytes,
                       auth: SigV4Header, secret_access_key: str) -> bool:
    """True if ``auth.signature`` is what ``secret_access_key`` gives for this request."""
    return sigv4.signature_matches(method, path_qs, headers, body, auth, secret_access_key)
