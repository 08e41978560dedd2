"""Fixtures for the local Data API: a Kinesis endpoint, the server on port 0, boto3 clients."""
from __future__ import annotations

from tests.support.local_stack import LOCAL_CREDENTIALS, run_sql, wait_for  # noqa: F401  (tests import them)
from tests.support.local_stack_fixtures import (client, data_api_url, fresh_database, kinesis,  # noqa: F401
                                                kinesis_url)
