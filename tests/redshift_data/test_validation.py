"""The Data API checks requests as AWS does: statement Ids in the service's words, every
other member against botocore's model of the operation, in AWS's validation wording.

Recorded AWS answers (moto's and others' tests against the service, docs/redshift_data.md):
a malformed Id -> ValidationException ``id must satisfy regex pattern: …``; an unknown
well-formed Id -> ResourceNotFoundException ``Query does not exist.``; GetStatementResult
of a statement without a result set -> HTTP 400 ResourceNotFoundException."""
from __future__ import annotations

import json
import uuid
from types import SimpleNamespace

import pytest

from emulator.redshift_data import RedshiftDataSettings
from emulator.redshift_data.responses import RedshiftDataResponses
from emulator.service_model import operation_model

from .conftest import run_sql
from .test_protocol import post

ID_MESSAGE = "id must satisfy regex pattern: ^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\\d+)?$"
NO_RESULT = "Query does not have result. Please check query status with DescribeStatement."
STATEMENT_OPERATIONS = ["DescribeStatement", "GetStatementResult", "GetStatementResultV2", "CancelStatement"]


def call(url: str, operation: str, body: dict) -> tuple[int, str, str]:
    status, headers, answer = post(url, f"RedshiftData.{operation}", json.dumps(body).encode())
    assert headers.get("x-amzn-ErrorType") == answer.get("__type")
    return status, answer.get("__type"), answer.get("message")


# Fixed (not uuid4() at import): pytest-xdist workers must collect the same test ids. The
# server makes its own ids at random, so this one is never a real statement's.
UNKNOWN_ID = "6f1c1f43-8b0e-4a4e-9d51-2f0c3b1e7a90"


@pytest.mark.parametrize("operation", STATEMENT_OPERATIONS)
@pytest.mark.parametrize("bad_id", ["test", "NOT-A-UUID", UNKNOWN_ID.upper(), UNKNOWN_ID + ":",
                                    UNKNOWN_ID + "\n"])
def test_statement_operations_answer_aws_regex_message_when_id_is_malformed(data_api_url, operation, bad_id):
    assert call(data_api_url, operation, {"Id": bad_id}) == (400, "ValidationException", ID_MESSAGE)


@pytest.mark.parametrize("operation", STATEMENT_OPERATIONS)
@pytest.mark.parametrize("unknown_id", [UNKNOWN_ID, UNKNOWN_ID + ":3"])
def test_statement_operations_answer_query_does_not_exist_when_id_is_unknown(data_api_url, operation, unknown_id):
    assert call(data_api_url, operation, {"Id": unknown_id}) == (400, "ResourceNotFoundException",
                                                                 "Query does not exist.")


def test_get_statement_result_is_resource_not_found_when_statement_has_no_result_set(data_api_url, client):
    ddl = run_sql(client, f"CREATE TABLE t_{uuid.uuid4().hex[:8]} (id int)")
    assert ddl["Status"] == "FINISHED" and ddl["HasResultSet"] is False
    assert call(data_api_url, "GetStatementResult", {"Id": ddl["Id"]}) == (400, "ResourceNotFoundException",
                                                                          NO_RESULT)
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="Query does not have result"):
        client.get_statement_result(Id=ddl["Id"])


def test_get_statement_result_is_resource_not_found_when_statement_failed(data_api_url, client):
    failed = run_sql(client, "SELECT * FROM no_such_table_for_validation")
    assert failed["Status"] == "FAILED"
    assert call(data_api_url, "GetStatementResult", {"Id": failed["Id"]}) == (400, "ResourceNotFoundException",
                                                                             NO_RESULT)


def _violation(value: str, path: str, constraint: str) -> str:
    return f"1 validation error detected: Value {value} at '{path}' failed to satisfy constraint: Member must {constraint}"


EXECUTE = {"Sql": "SELECT 1", "Database": "dev", "WorkgroupName": "local"}


@pytest.mark.parametrize("operation, body, message", [
    ("ExecuteStatement", {"Database": "dev", "WorkgroupName": "local"}, _violation("null", "sql", "not be null")),
    ("ExecuteStatement", {**EXECUTE, "ResultFormat": "XML"},
     _violation("'XML'", "resultFormat", "satisfy enum value set: [JSON, CSV]")),
    ("ExecuteStatement", {**EXECUTE, "StatementName": "n" * 2049},
     _violation(f"'{'n' * 2049}'", "statementName", "have length less than or equal to 2048")),
    ("ExecuteStatement", {"Sql": "SELECT 1", "Database": "dev", "ClusterIdentifier": "Bad_Cluster"},
     _violation("'Bad_Cluster'", "clusterIdentifier",
                "satisfy regular expression pattern: [a-z][a-z0-9]*(-[a-z0-9]+)*")),
    ("ExecuteStatement", {**EXECUTE, "SessionKeepAliveSeconds": 86401},
     _violation("'86401'", "sessionKeepAliveSeconds", "have value less than or equal to 86400")),
    ("ExecuteStatement", {**EXECUTE, "Parameters": [{"name": "bad-name", "value": "1"}]},
     _violation("'bad-name'", "parameters.1.member.name", "satisfy regular expression pattern: [0-9a-zA-Z_]+")),
    ("ExecuteStatement", {**EXECUTE, "Parameters": [{"name": "n", "value": ""}]},
     _violation("''", "parameters.1.member.value", "have length greater than or equal to 1")),
    ("BatchExecuteStatement", {"Sqls": [], "Database": "dev", "WorkgroupName": "local"},
     _violation("'[]'", "sqls", "have length greater than or equal to 1")),
    ("ListStatements", {"Status": "DONE"}, _violation(
        "'DONE'", "status", "satisfy enum value set: [SUBMITTED, PICKED, STARTED, FINISHED, ABORTED, FAILED, ALL]")),
    ("ListStatements", {"MaxResults": 101}, _violation("'101'", "maxResults", "have value less than or equal to 100")),
    ("DescribeStatement", {}, _violation("null", "id", "not be null")),
])
def test_request_is_refused_in_aws_words_when_it_breaks_the_model(data_api_url, operation, body, message):
    assert call(data_api_url, operation, body) == (400, "ValidationException", message)


def test_pattern_and_length_are_both_reported_when_workgroup_name_breaks_both(data_api_url):
    status, code, message = call(data_api_url, "ExecuteStatement", {**EXECUTE, "WorkgroupName": "ab"})
    assert (status, code) == (400, "ValidationException")
    assert message.startswith("2 validation errors detected: Value 'ab' at 'workgroupName' failed to satisfy "
                              "constraint: Member must satisfy regular expression pattern: ([a-z0-9-]{3,63}|arn:")
    assert message.endswith("; Value 'ab' at 'workgroupName' failed to satisfy constraint: Member must have length "
                            "greater than or equal to 3")


def test_too_many_batch_statements_are_refused_with_the_model_limit_when_over_forty(data_api_url):
    status, code, message = call(data_api_url, "BatchExecuteStatement",
                                 {"Sqls": ["SELECT 1"] * 41, "Database": "dev", "WorkgroupName": "local"})
    assert (status, code) == (400, "ValidationException")
    assert message.endswith("at 'sqls' failed to satisfy constraint: Member must have length less than or equal to 40")


def test_every_served_operation_is_checked_against_botocore_model_when_dispatched():
    responses = RedshiftDataResponses(SimpleNamespace(settings=RedshiftDataSettings(pg_dsn="postgresql://unused")))
    assert "ExecuteStatement" in responses.operations and "ListTables" in responses.operations
    assert [name for name in responses.operations if operation_model("redshift-data", name) is None] == []
