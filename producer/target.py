"""The Kinesis target: its client, the up-front check, and which errors mean "give up".

Exception tree::

    TargetError      the target cannot take records at all (unknown stream, wrong region,
                     bad or missing credentials, access denied, unreachable); the run
                     stops -- exit code 3. Its message is one line naming the cause.

One aiobotocore client per run; botocore's own retries are off (``total_max_attempts=1``)
because the sender retries per record and must see every failure to count it.
"""
from __future__ import annotations

import asyncio
import time

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError as BotoConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from streamload.core.errors import TargetUnreachable

__all__ = [
    "TargetError",
    "classify_target_error",
    "kinesis_client",
    "check_stream",
    "RETRYABLE_RECORD_ERRORS",
    "THROTTLING_ERRORS",
    "RETRYABLE_CALL_ERRORS",
    "TRANSIENT_EXCEPTIONS",
]

RETRYABLE_RECORD_ERRORS = frozenset({"ProvisionedThroughputExceededException", "InternalFailure"})
THROTTLING_ERRORS = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "LimitExceededException",
    "KMSThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
})
RETRYABLE_CALL_ERRORS = THROTTLING_ERRORS | {
    "InternalFailure", "InternalServerError", "ServiceUnavailable", "InternalError",
}
FATAL_CALL_ERRORS = frozenset({
    "ResourceNotFoundException", "UnrecognizedClientException", "InvalidSignatureException",
    "ExpiredTokenException", "ExpiredToken", "AccessDeniedException", "AccessDenied",
    "IncompleteSignature", "MissingAuthenticationToken", "InvalidClientTokenId",
    "SignatureDoesNotMatch", "KMSAccessDeniedException", "KMSDisabledException",
    "KMSNotFoundException", "KMSInvalidStateException", "KMSOptInRequired",
})
TRANSIENT_EXCEPTIONS = (HTTPClientError, BotoConnectionError, aiohttp.ClientError,
                        asyncio.TimeoutError, OSError)


class TargetError(TargetUnreachable):
    """The target cannot take records at all; the message is one line naming the cause."""


def _where(endpoint: str | None, region: str | None) -> str:
    place = endpoint or "AWS"
    return f"{place} (region {region})" if region else place


def classify_target_error(exc: BaseException, stream_name: str, endpoint: str | None,
                          region: str | None = None) -> TargetError | None:
    """A ``TargetError`` if ``exc`` means no record can ever be put, else ``None``."""
    where = _where(endpoint, region)
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "") or code
        if code == "ResourceNotFoundException":
            return TargetError(f"stream {stream_name!r} not found at {where}: {message}")
        if code in FATAL_CALL_ERRORS:
            return TargetError(f"{code} from {where}: {message}")
        return None
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return TargetError(f"no usable AWS credentials: {exc}")
    if isinstance(exc, NoRegionError):
        return TargetError("no AWS region: pass --region or set AWS_DEFAULT_REGION")
    return None


def kinesis_client(region: str | None, endpoint_url: str | None, *, max_pool_connections: int,
                   connect_timeout_s: float = 5.0, read_timeout_s: float = 30.0,
                   credentials: dict[str, str] | None = None, profile: str | None = None):
    """An aiobotocore client context (``async with``). ``credentials``: explicit keys, else
    the standard AWS chain, from the named credentials ``profile`` if given."""
    config = AioConfig(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=connect_timeout_s,
        read_timeout=read_timeout_s,
        max_pool_connections=max_pool_connections,
    )
    kwargs = {"region_name": region, "endpoint_url": endpoint_url, "config": config, **(credentials or {})}
    return AioSession(profile=profile).create_client("kinesis", **kwargs)


async def check_stream(client, stream_name: str, endpoint_url: str | None, region: str | None,
                       log) -> None:
    """Fail fast, with the cause, when the stream is missing or the endpoint unreachable."""
    where = _where(endpoint_url, region)
    deadline = time.monotonic() + 30.0
    while True:
        try:
            summary = await client.describe_stream_summary(StreamName=stream_name)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("AccessDeniedException", "AccessDenied"):
                # A producer role may be allowed PutRecords only; the first put will tell.
                log.warning("cannot describe stream %s (%s); going on", stream_name, code)
                return
            raise classify_target_error(exc, stream_name, endpoint_url, region) or TargetError(
                f"DescribeStreamSummary failed at {where}: {code}") from exc
        except TRANSIENT_EXCEPTIONS as exc:
            raise TargetError(f"cannot reach Kinesis at {where}: {exc}") from exc
        except BotoCoreError as exc:
            raise classify_target_error(exc, stream_name, endpoint_url, region) or TargetError(
                f"cannot call Kinesis at {where}: {exc}") from exc
        status = summary.get("StreamDescriptionSummary", {}).get("StreamStatus", "ACTIVE")
        if status in ("ACTIVE", "UPDATING"):
            return
        if status == "DELETING" or time.monotonic() > deadline:
            raise TargetError(f"stream {stream_name!r} at {where} is {status}")
        await asyncio.sleep(0.25)
