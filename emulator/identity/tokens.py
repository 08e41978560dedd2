"""RS256 JSON Web Tokens and their JWKS, with ``cryptography`` only.

The local OIDC issuer signs persona tokens with a key generated at start; the local
Identity Center signs its identity-context assertions with another. Verification is
strict on what STS checks (algorithm, key id, signature, issuer, audience, expiry) and
says which check failed, because that is what turns into the AWS error code.
"""
from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = ["TokenError", "TokenExpired", "TokenInvalid", "SigningKey", "decode_unverified", "b64url", "unb64url"]

# Seconds of clock skew tolerated on exp/nbf/iat, as most JWT validators allow.
CLOCK_SKEW_S = 30.0


class TokenError(Exception):
    """A token that must be rejected; the message says why."""


class TokenExpired(TokenError):
    """Well-formed and correctly signed, but past its ``exp``."""


class TokenInvalid(TokenError):
    """Malformed, wrongly signed, or for another issuer or audience."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, claims, signing input and signature; raises ``TokenInvalid`` if malformed."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise TokenInvalid("the token is not a JWT (expected three dot-separated parts)")
    head, body, sig = token.split(".")
    try:
        header = json.loads(unb64url(head))
        claims = json.loads(unb64url(body))
        signature = unb64url(sig)
    except (ValueError, UnicodeDecodeError):
        raise TokenInvalid("the token's parts are not base64url-encoded JSON") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenInvalid("the token's header and claims must be JSON objects")
    return header, claims, f"{head}.{body}".encode("ascii"), signature


@dataclass
class SigningKey:
    """An RSA key pair with a key id: signs RS256 JWTs and verifies its own."""

    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    _private: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), repr=False)

    def jwk(self) -> dict[str, str]:
        numbers = self._private.public_key().public_numbers()
        return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        head = b64url(json.dumps(header, separators=(",", ":")).encode())
        body = b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = self._private.sign(f"{head}.{body}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{head}.{body}.{b64url(signature)}"

    def verify(self, token: str, issuer: str, audience: str | None, now: float | None = None) -> dict[str, Any]:
        """The token's claims if signed by this key for ``issuer``/``audience`` and unexpired.

        The signature is checked before any claim, so a forged token is reported as
        forged even if it is also expired.
        """
        header, claims, signing_input, signature = decode_unverified(token)
        if header.get("alg") != "RS256":
            raise TokenInvalid(f"unsupported signing algorithm {header.get('alg')!r} (expected RS256)")
        if header.get("kid") != self.kid:
            raise TokenInvalid("no verification key matches the token's key id (kid)")
        try:
            self._private.public_key().verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise TokenInvalid("the token's signature is not valid") from None
        if claims.get("iss") != issuer:
            raise TokenInvalid(f"the token's issuer {claims.get('iss')!r} is not {issuer!r}")
        if audience is not None:
            aud = claims.get("aud")
            audiences = aud if isinstance(aud, list) else [aud]
            if audience not in audiences:
                raise TokenInvalid("Incorrect token audience")
        now = time.time() if now is None else now
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)):
            raise TokenInvalid("the token has no numeric exp claim")
        if exp + CLOCK_SKEW_S <= now:
            raise TokenExpired("Token expired: current date/time must be before the expiration date/time")
        nbf = claims.get("nbf")
        if isinstance(nbf, (int, float)) and nbf - CLOCK_SKEW_S > now:
            raise TokenInvalid("the token is not valid yet (nbf)")
        return claims
