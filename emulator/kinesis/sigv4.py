"""Kinesis's face of the local stack's SigV4 verifier (``emulator.sigv4``): the same checks,
raised as Kinesis's own error codes (IncompleteSignature, UnrecognizedClient, InvalidSignature)."""
from __future__ import annotations

from emulator import sigv4
from emulator.sigv4 import SigV4Authorization

from .exceptions import (IncompleteSignatureException, InvalidSignatureException, KinesisError,
                         UnrecognizedClientException)

__all__ = ["SigV4Authorization", "parse_authorization", "SigV4Verifier"]


def _as_kinesis_error(error: sigv4.SigV4Error) -> KinesisError:
    return sigv4.as_service_error(error, IncompleteSignatureException, UnrecognizedClientException,
                                  InvalidSignatureException)


def parse_authorization(header: str) -> SigV4Authorization | None:
    """The parts of a SigV4 ``Authorization`` header; None if there is no header,
    IncompleteSignatureException if there is one we cannot read."""
    try:
        return sigv4.parse_authorization(header)
    except sigv4.SigV4Error as error:
        raise _as_kinesis_error(error) from None


class SigV4Verifier(sigv4.SigV4Verifier):
    """Raises UnrecognizedClientException for a key it has no secret for,
    InvalidSignatureException for a wrong or expired signature."""

    def __call__(self, method, path_qs, headers, body, auth) -> None:
        try:
            super().__call__(method, path_qs, headers, body, auth)
        except sigv4.SigV4Error as error:
            raise _as_kinesis_error(error) from None
