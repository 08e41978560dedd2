"""Errors of the ``streamload aws`` commands, each knowing its exit code; part of the one
tree under ``streamload.core.errors.StreamloadError``.

    AwsSetupError            exit 1: an AWS call was refused or a check failed
    ├── AwsConfigError       exit 2: the config or a profile is wrong; the message says which
    └── AwsUnreachable       exit 3: an endpoint could not be reached
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError as BotoConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)

from streamload.core.errors import (
    EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE, ConfigError, StreamloadError, TargetUnreachable,
)

__all__ = ["AwsSetupError", "AwsConfigError", "AwsUnreachable", "error_code", "none_if_missing",
           "translate_boto_error"]

_Found = TypeVar("_Found")


class AwsSetupError(StreamloadError):
    exit_code = EXIT_FAILED


class AwsConfigError(AwsSetupError, ConfigError):
    exit_code = EXIT_USAGE


class AwsUnreachable(AwsSetupError, TargetUnreachable):
    exit_code = EXIT_UNREACHABLE


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def none_if_missing(missing_code: str, read: Callable[[], _Found]) -> _Found | None:
    """``read()``, or None when AWS answers ``missing_code`` (its not-found error for what
    is read: IAM's ``NoSuchEntity``, Kinesis' ``ResourceNotFoundException``)."""
    try:
        return read()
    except ClientError as exc:
        if error_code(exc) == missing_code:
            return None
        raise


def translate_boto_error(exc: BaseException, doing: str) -> AwsSetupError:
    """One line a user can act on; never echoes credentials (botocore messages don't)."""
    if isinstance(exc, ProfileNotFound):
        return AwsConfigError(f"{doing}: {exc} (check aws.stream_profile / aws.redshift_profile)")
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError, TokenRetrievalError, UnauthorizedSSOTokenError)):
        return AwsConfigError(f"{doing}: no usable credentials ({exc}); run `aws sso login --profile <p>` or `aws configure`")
    if isinstance(exc, NoRegionError):
        return AwsConfigError(f"{doing}: no region; set target.region")
    if isinstance(exc, BotoConnectionError):
        return AwsUnreachable(f"{doing}: cannot reach AWS: {exc}")
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return AwsSetupError(f"{doing}: {err.get('Code', 'Error')}: {err.get('Message', '')}".rstrip(": "))
    if isinstance(exc, BotoCoreError):
        return AwsSetupError(f"{doing}: {exc}")
    return AwsSetupError(f"{doing}: {type(exc).__name__}: {exc}")
