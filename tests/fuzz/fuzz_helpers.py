"""Shared strategies and a signed raw-HTTP client for the fuzz tests.

Bodies are generated from botocore's own service models: every operation's real member
names with values of any JSON type (mostly the wrong one), huge values, unknown fields,
and bodies that are not JSON objects at all.
"""
from __future__ import annotations

import http.client
import json
import os
from urllib.parse import urlsplit

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.kinesis import cbor

LOCAL_KEY = "streamload-local"
REGION = "us-east-1"
# Bounded: each example is one loopback request; these tests must take seconds. A longer
# hunt: FUZZ_EXAMPLES=2000 FUZZ_RANDOM=1 (new random inputs each time; CI stays repeatable).
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")), deadline=None,
                derandomize=not os.environ.get("FUZZ_RANDOM"),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

HUGE_TEXT = "x" * 300_000
scalars = (st.none() | st.booleans() | st.integers(min_value=-(2 ** 70), max_value=2 ** 70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
           | st.sampled_from(["", " ", "\x00", "🙂" * 50, HUGE_TEXT, "-1", "1e309", "TRIM_HORIZON",
                              "shardId-000000000000", "arn:aws:kinesis:us-east-1:000000000000:stream/s"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


def operation_members(service: str) -> dict[str, list[str]]:
    """{operation: input member names} from botocore's model of ``service``."""
    model = botocore.session.get_session().get_service_model(service)
    out = {}
    for name in model.operation_names:
        shape = model.operation_model(name).input_shape
        out[name] = list(shape.members) if shape is not None else []
    return out


def bodies_for(members: list[str]):
    """JSON bodies: some real member names (any values), maybe unknown ones too."""
    known = st.dictionaries(st.sampled_from(members), json_values, max_size=len(members)) if members \
        else st.just({})
    unknown = st.dictionaries(st.text(min_size=1, max_size=12), json_values, max_size=2)
    return st.tuples(known, unknown).map(lambda pair: {**pair[1], **pair[0]}).map(lambda d: json.dumps(d).encode())


raw_bodies = (st.binary(max_size=200)
              | st.sampled_from([b"", b"null", b"[]", b"1", b'"s"', b"{", b'{"a":', b"[" * 5000 + b"]" * 5000,
                                 b'{"a":' * 2000 + b"1" + b"}" * 2000, b"\xff\xfe", b'{"\x00": 1}'])
              | json_values.map(lambda v: json.dumps(v).encode()))


class SignedClient:
    """POSTs hand-made bodies signed with the local key; keeps one connection open."""

    def __init__(self, url: str, service: str, content_type: str = "application/x-amz-json-1.1") -> None:
        self.url = url
        self.service = service
        self.content_type = content_type
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)

    def post(self, target: str | None, body: bytes, headers: dict[str, str] | None = None, sign: bool = True):
        all_headers = {"Content-Type": self.content_type}
        if target is not None:
            all_headers["X-Amz-Target"] = target
        all_headers.update(headers or {})
        if sign:
            request = AWSRequest(method="POST", url=self.url + "/", data=body, headers=all_headers)
            SigV4Auth(Credentials(LOCAL_KEY, LOCAL_KEY), self.service, REGION).add_auth(request)
            all_headers = dict(request.headers.items())
        try:
            self.conn.request("POST", "/", body=body, headers=all_headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (http.client.HTTPException, ConnectionError):
            self.conn.close()  # the server closed it (e.g. after an error): reconnect once
            self.conn.request("POST", "/", body=body, headers=all_headers)
            response = self.conn.getresponse()
            payload = response.read()
        return response.status, dict(response.getheaders()), payload

    def close(self) -> None:
        self.conn.close()


def assert_aws_style(status: int, headers: dict[str, str], payload: bytes) -> None:
    """Success, or a 4xx with an AWS error body; never a 5xx, never a traceback."""
    assert status < 500, (status, payload[:500])
    assert b"Traceback" not in payload
    if status >= 400:
        cbor_answer = "cbor" in headers.get("Content-Type", "")
        body = cbor.loads(payload) if cbor_answer else json.loads(payload)
        assert isinstance(body.get("__type"), str) and body["__type"], body
        assert isinstance(body.get("message", body.get("Message")), str), body


class JsonProtocolFuzz:
    """The fuzz tests every JSON 1.1 service answers the same way: a subclass named
    ``Test<Service>...`` sets ``target`` (the X-Amz-Target prefix), ``served`` (operation
    names) and ``operations`` (their members); its module gives the ``client`` fixture."""

    target: str
    served: list[str]
    operations: dict[str, list[str]]
    # One test method runs for several subclasses, which Hypothesis flags because they
    # share its replay database key; a replayed example then fuzzes the other server too,
    # which is harmless (and FUZZ derandomizes anyway).
    _settings = settings(FUZZ, suppress_health_check=[*FUZZ.suppress_health_check,
                                                       HealthCheck.differing_executors])

    @_settings
    @given(data=st.data())
    def test_every_operation_answers_success_or_aws_4xx_when_body_fields_have_any_type(self, client, data):
        operation = data.draw(st.sampled_from(self.served))
        body = data.draw(bodies_for(self.operations[operation]))
        assert_aws_style(*client.post(self.target + operation, body))

    @_settings
    @given(data=st.data(), body=raw_bodies)
    def test_every_operation_answers_aws_4xx_when_body_is_not_a_json_object(self, client, data, body):
        operation = data.draw(st.sampled_from(self.served + ["Nope", ""]))
        assert_aws_style(*client.post(self.target + operation, body))
