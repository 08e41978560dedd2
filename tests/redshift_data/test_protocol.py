"""Raw JSON 1.1 protocol: error bodies and headers as botocore expects them."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LOCAL_KEY = "streamload-local"


def signed(url: str, body: bytes, headers: dict, key: str = LOCAL_KEY, secret: str = LOCAL_KEY,
           token: str | None = None) -> dict:
    """``headers`` plus botocore's SigV4 ``Authorization`` and ``X-Amz-Date`` for a POST to ``url``."""
    request = AWSRequest(method="POST", url=url + "/", data=body, headers=headers)
    SigV4Auth(Credentials(key, secret, token), "redshift-data", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def post(url: str, target: str | None, body: bytes, sign: bool = True, headers: dict | None = None):
    headers = headers or {"Content-Type": "application/x-amz-json-1.1"}
    if target:
        headers["X-Amz-Target"] = target
    if sign:
        headers = signed(url, body, headers)
    request = urllib.request.Request(url + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_unknown_id_returns_resource_not_found_body_when_described(data_api_url):
    missing = str(uuid.uuid4())
    status, headers, body = post(data_api_url, "RedshiftData.DescribeStatement", json.dumps({"Id": missing}).encode())
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert body["__type"] == "ResourceNotFoundException" and body["ResourceId"] == missing and body["message"]


def test_missing_cluster_and_workgroup_returns_validation_body_when_executing(data_api_url):
    status, headers, body = post(data_api_url, "RedshiftData.ExecuteStatement",
                                 json.dumps({"Sql": "SELECT 1", "Database": "dev"}).encode())
    assert (status, body["__type"]) == (400, "ValidationException")
    assert "ClusterIdentifier or WorkgroupName" in body["message"]


def test_malformed_json_returns_serialization_error_when_posted(data_api_url):
    status, headers, body = post(data_api_url, "RedshiftData.ListStatements", b"{not json")
    assert (status, body["__type"]) == (400, "SerializationException")


def test_unknown_target_returns_unknown_operation_when_posted(data_api_url):
    status, headers, body = post(data_api_url, "RedshiftData.DropEverything", b"{}")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "UnknownOperationException")


def test_wrong_parameter_type_returns_serialization_error_when_executing(data_api_url):
    # AWS's JSON front end answers a value of the wrong JSON type before any constraint check.
    status, _, body = post(data_api_url, "RedshiftData.ExecuteStatement",
                           json.dumps({"Sql": "SELECT 1", "Database": 5, "WorkgroupName": "w"}).encode())
    assert (status, body["__type"]) == (400, "SerializationException")
