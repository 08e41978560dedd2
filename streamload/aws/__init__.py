"""Provision, preflight and tear down the cross-account pipeline of docs/aws.md in real AWS
accounts, and estimate what a run costs.

Errors: see ``streamload.aws.errors`` (AwsSetupError -> AwsConfigError, AwsUnreachable).
"""
from streamload.aws.accounts import AwsContext, connect
from streamload.aws.config import RUN_ID_TAG, AwsProvisionConfig
from streamload.aws.cost import CostEstimate, CostInputs, cost_inputs, estimate_cost
from streamload.aws.errors import AwsConfigError, AwsSetupError, AwsUnreachable
from streamload.aws.provisioning_plan import ProvisioningPlan, build_provisioning_plan
from streamload.aws.preflight import PreflightReport, StepResult, run_preflight
from streamload.aws.provision import provision
from streamload.aws.teardown import find_provisioned, teardown
from streamload.aws.waits import Backoff

__all__ = [
    "AwsContext", "connect", "AwsProvisionConfig", "RUN_ID_TAG", "CostEstimate", "CostInputs", "cost_inputs",
    "estimate_cost", "AwsConfigError", "AwsSetupError", "AwsUnreachable",
    "ProvisioningPlan", "build_provisioning_plan",
    "PreflightReport", "StepResult", "run_preflight", "provision", "find_provisioned", "teardown", "Backoff",
]
