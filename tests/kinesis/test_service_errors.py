"""The error classes the three local services declare from tables (emulator.service_errors):
each public name still imports, answers with AWS's code and status, and pickles."""
from __future__ import annotations

import pickle

import pytest

from emulator.identity import exceptions as identity
from emulator.kinesis import exceptions as kinesis
from emulator.redshift_data import exceptions as data_api

# (module, class name, wire code, HTTP status): as the services answer.
WIRE = [
    (kinesis, "ResourceInUseException", "ResourceInUseException", 400),
    (kinesis, "ProvisionedThroughputExceededException", "ProvisionedThroughputExceededException", 400),
    (kinesis, "LimitExceededException", "LimitExceededException", 400),
    (kinesis, "InternalFailureException", "InternalFailure", 500),
    (data_api, "ValidationException", "ValidationException", 400),
    (data_api, "DatabaseConnectionException", "DatabaseConnectionException", 500),
    (data_api, "ExecuteStatementException", "ExecuteStatementException", 500),
    (identity, "AccessDenied", "AccessDenied", 403),
    (identity, "InvalidIdentityToken", "InvalidIdentityToken", 400),
    (identity, "InvalidClientException", "InvalidClientException", 401),
]


@pytest.mark.parametrize("module, name, code, status", WIRE, ids=[row[1] for row in WIRE])
def test_error_class_answers_aws_code_and_status_when_declared_from_a_table(module, name, code, status) -> None:
    error_class = getattr(module, name)
    assert (error_class.code, error_class.status) == (code, status)
    assert error_class.__module__ == module.__name__ and error_class.__name__ == name


@pytest.mark.parametrize("module", [kinesis, data_api, identity], ids=lambda m: m.__name__)
def test_every_public_error_is_importable_when_listed_in_all(module) -> None:
    for name in module.__all__:
        assert getattr(module, name) is not None


def test_kinesis_error_body_is_aws_envelope_when_declared_from_table() -> None:
    error = kinesis.ExpiredIteratorException("Iterator expired.")
    assert error.to_body() == {"__type": "ExpiredIteratorException", "message": "Iterator expired."}
    assert pickle.loads(pickle.dumps(error)).to_body() == error.to_body()


def test_data_api_error_names_statement_id_when_submission_fails() -> None:
    body = data_api.BatchExecuteStatementException("could not submit", statement_id="abc").body()
    assert body == {"__type": "BatchExecuteStatementException", "message": "could not submit",
                    "Message": "could not submit", "StatementId": "abc"}


@pytest.mark.parametrize("name, oauth_error", [
    ("InvalidClientException", "invalid_client"), ("InvalidGrantException", "invalid_grant"),
    ("UnsupportedGrantTypeException", "unsupported_grant_type"), ("AccessDeniedException", "access_denied"),
    ("InvalidRequestException", "invalid_request"),
])
def test_sso_oidc_error_body_names_oauth_error_when_raised(name: str, oauth_error: str) -> None:
    assert getattr(identity, name)("why").body() == {"error": oauth_error, "error_description": "why"}
