"""Helpers shared by the Kinesis tests (a module of its own so tests can import it;
fixtures live in conftest.py)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.support.local_stack import start_kinesis as start_server  # noqa: F401  (tests import it from here)

REGION = "us-east-1"
LOCAL_KEY = "streamload-local"


def make_client(url: str, access_key: str = LOCAL_KEY):
    return boto3.client(
        "kinesis",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=LOCAL_KEY,
        # Errors must surface at once, not after botocore's retries and backoff.
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=10),
    )


def signed_headers(url: str, body: bytes, headers: dict[str, str], access_key: str = LOCAL_KEY,
                   secret_key: str = LOCAL_KEY, region: str = REGION) -> dict[str, str]:
    """``headers`` plus botocore's SigV4 ``Authorization`` and ``X-Amz-Date`` for a POST."""
    request = AWSRequest(method="POST", url=url + "/", data=body, headers=dict(headers))
    SigV4Auth(Credentials(access_key, secret_key), "kinesis", region).add_auth(request)
    return dict(request.headers.items())


def post_raw(url: str, body: bytes, target: str | None, headers: dict[str, str] | None = None, sign: bool = True):
    """POST a hand-made request (SigV4-signed with the local key unless ``sign`` is
    False or ``headers`` bring their own Authorization); returns (status, headers, JSON)."""
    all_headers = {"Content-Type": "application/x-amz-json-1.1"}
    if target is not None:
        all_headers["X-Amz-Target"] = target
    all_headers.update(headers or {})
    if sign and "Authorization" not in all_headers:
        all_headers = signed_headers(url, body, all_headers)
    request = urllib.request.Request(url + "/", data=body, headers=all_headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def post_operation(url: str, operation: str, payload: dict, headers: dict[str, str] | None = None, sign: bool = True):
    return post_raw(url, json.dumps(payload).encode(), f"Kinesis_20131202.{operation}", headers, sign)
