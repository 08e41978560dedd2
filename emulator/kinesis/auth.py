"""Who a request comes from: account and region from its SigV4 ``Authorization`` header,
and whether its signature holds.

The access key id picks the account (``KinesisSettings.access_key_accounts``, default
``default_account_id``) and the credential scope picks the region, so ARNs carry the
caller's account. With ``verify_signatures`` on (the default) the signature is checked
against ``KinesisSettings.credentials`` (default: the local stack's
``streamload-local``/``streamload-local``): unknown keys get ``UnrecognizedClientException``,
wrong or stale signatures ``InvalidSignatureException``, unsigned requests
``MissingAuthenticationTokenException`` (unless ``allow_unsigned_requests``, for curl).
``RequestAuthenticator`` takes hooks so a local STS can later resolve temporary keys.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from .exceptions import MissingAuthenticationTokenException
from .settings import KinesisSettings
from .sigv4 import SigV4Authorization, SigV4Verifier, parse_authorization
from .streams import CallerIdentity

__all__ = ["SignatureVerifier", "RequestAuthenticator"]


class SignatureVerifier(Protocol):
    """Raises a ``KinesisError`` if the request's signature is not valid; returns None if it is."""

    def __call__(
        self, method: str, path_qs: str, headers: Mapping[str, str], body: bytes, auth: SigV4Authorization
    ) -> None: ...


class RequestAuthenticator:
    def __init__(
        self,
        settings: KinesisSettings,
        verify_signature: SignatureVerifier | None = None,
        account_for_access_key: Callable[[str], str | None] | None = None,
        secret_for_access_key: Callable[[str], str | None] | None = None,
    ) -> None:
        self.settings = settings
        if verify_signature is None and settings.verify_signatures:
            verify_signature = SigV4Verifier(
                secret_for_access_key or settings.credentials.get, settings.max_signature_skew_s
            )
        self.verify_signature = verify_signature
        self.account_for_access_key = account_for_access_key or settings.access_key_accounts.get
        self._default = CallerIdentity(settings.default_account_id, settings.default_region)

    def identify(self, method: str, path_qs: str, headers: Mapping[str, str], body: bytes) -> CallerIdentity:
        auth = parse_authorization(headers.get("Authorization", ""))
        if auth is None:
            if self.verify_signature is not None and not self.settings.allow_unsigned_requests:
                raise MissingAuthenticationTokenException("Missing Authentication Token")
            return self._default
        if self.verify_signature is not None:
            self.verify_signature(method, path_qs, headers, body, auth)
        account_id = self.account_for_access_key(auth.access_key_id) or self.settings.default_account_id
        return CallerIdentity(account_id, auth.region, auth.access_key_id)
