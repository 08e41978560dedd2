"""AWS errors of the local STS and SSO-OIDC, one class per error code.

    IdentityError
    ├── StsError                      (query protocol: XML <ErrorResponse>)
    │   ├── InvalidIdentityToken            400  token forged, malformed, wrong issuer/audience
    │   ├── ExpiredTokenException           400  token (or identity context) expired
    │   ├── AccessDenied                    403  trust policy does not allow the caller
    │   ├── InvalidParameterValue           400  bad ProvidedContexts, duration, ...
    │   ├── MissingParameter                400
    │   ├── ValidationError                 400  a member breaks the STS model's constraints, in AWS's
    │   │                                         words; DurationSeconds above the role's maximum
    │   ├── InvalidClientTokenId            403  unknown access key or session token
    │   ├── MissingAuthenticationToken      403  unsigned request to a signed action
    │   ├── SignatureDoesNotMatch           403
    │   └── InvalidAction                   400
    └── SsoOidcError                  (rest-json: {"error": ..., "error_description": ...})
        ├── InvalidClientException          401  clientId is not the application
        ├── InvalidGrantException           400  assertion rejected, user unknown
        ├── UnsupportedGrantTypeException   400
        ├── AccessDeniedException           400  user not assigned to the application
        └── InvalidRequestException         400  includes a request that breaks the SSO-OIDC model

All are only a code and a status, declared in the two tables below and made by
``emulator.service_errors.declare_errors``; they import like written-out classes.
"""
from __future__ import annotations

import re
from xml.sax.saxutils import escape

from emulator.service_errors import ServiceError, declare_errors

STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"


class IdentityError(ServiceError):
    pass


class StsError(IdentityError):
    sender_fault = True

    def xml(self, request_id: str) -> str:
        kind = "Sender" if self.sender_fault else "Receiver"
        return (f'<ErrorResponse xmlns="{STS_XMLNS}"><Error><Type>{kind}</Type><Code>{self.code}</Code>'
                f"<Message>{escape(self.message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")


class SsoOidcError(IdentityError):
    @property
    def oauth_error(self) -> str:
        # SSO-OIDC's codes are the OAuth 2.0 error names (RFC 6749) in CamelCase plus
        # "Exception": InvalidGrantException <-> invalid_grant.
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.code.removesuffix("Exception")).lower()

    def body(self) -> dict[str, str]:
        return {"error": self.oauth_error, "error_description": self.message}


_STS_ERRORS = {
    "InvalidIdentityToken": 400,
    "ExpiredTokenException": 400,
    "AccessDenied": 403,
    "InvalidParameterValue": 400,
    "MissingParameter": 400,
    "ValidationError": 400,
    "InvalidClientTokenId": 403,
    "MissingAuthenticationToken": 403,
    "SignatureDoesNotMatch": 403,
    "InvalidAction": 400,
}
_SSO_OIDC_ERRORS = {
    "InvalidClientException": 401,
    "InvalidGrantException": 400,
    "UnsupportedGrantTypeException": 400,
    "AccessDeniedException": 400,
    "InvalidRequestException": 400,
}
globals().update(declare_errors(StsError, _STS_ERRORS, __name__))
globals().update(declare_errors(SsoOidcError, _SSO_OIDC_ERRORS, __name__))

__all__ = ["IdentityError", "StsError", "SsoOidcError", *_STS_ERRORS, *_SSO_OIDC_ERRORS, "STS_XMLNS"]
