"""The Redshift Data API client layer: ``DataApiClient`` (execute, poll, fetch, with every
phase reported) above ``streamload.core``; producer, loadtest, the orchestrator and the CLI
build on it."""
from streamload.dataapi.client import (
    DataApiClient,
    StatementError,
    StatementResult,
    field_value,
    make_boto3_client,
    poll_rule,
)

__all__ = ["DataApiClient", "StatementError", "StatementResult", "field_value", "make_boto3_client", "poll_rule"]
