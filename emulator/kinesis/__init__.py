"""A local Kinesis Data Streams server that boto3 and aiobotocore use unchanged.

Layout (moto style): ``models`` holds state and AWS's rules (``KinesisBackend``),
``responses`` the JSON 1.1 protocol, ``exceptions`` one class per AWS error code,
``server`` the aiohttp application and command line. Around them: ``throttling``
(AWS's per-shard and control-plane rates), ``on_demand`` (ON_DEMAND shard splits),
``faults`` + ``admin`` (faults on demand, with counters), ``sigv4``/``auth`` (signature
checks, account per access key), ``cbor`` + ``cbor_protocol`` (the CBOR wire format the
Java SDK/KPL/KCL use), ``persistence`` (``--data-dir``: the ``journal`` the backend is
handed; ``open_backend`` builds a backend from settings with it). See docs/kinesis.md.
"""
from .auth import RequestAuthenticator, SignatureVerifier
from .admin import FAULTS_PATH
from .exceptions import KinesisError
from .faults import FaultInjector, FaultPlan
from .models import GetRecordsResult, KinesisBackend, PutRecordResult, PutRecordsEntry, PutRecordsEntryResult
from .persistence import open_backend
from .server import KINESIS_BACKEND, create_app, main
from .settings import LOCAL_ACCESS_KEY_ID, LOCAL_ACCOUNT_ID, LOCAL_REGION, LOCAL_SECRET_ACCESS_KEY, KinesisSettings
from .throttling import ShardThroughputLimiter, TokenBucket
from .shards import hash_key_for_partition_key
from .streams import CallerIdentity, Shard, ShardHooks, ShardHooksFactory, Stream, UnlimitedShardHooks

__all__ = [
    "open_backend",
    "CallerIdentity",
    "FAULTS_PATH",
    "FaultInjector",
    "FaultPlan",
    "LOCAL_ACCESS_KEY_ID",
    "LOCAL_SECRET_ACCESS_KEY",
    "ShardThroughputLimiter",
    "TokenBucket",
    "GetRecordsResult",
    "KINESIS_BACKEND",
    "KinesisBackend",
    "KinesisError",
    "KinesisSettings",
    "LOCAL_ACCOUNT_ID",
    "LOCAL_REGION",
    "PutRecordResult",
    "PutRecordsEntry",
    "PutRecordsEntryResult",
    "RequestAuthenticator",
    "Shard",
    "ShardHooks",
    "ShardHooksFactory",
    "SignatureVerifier",
    "Stream",
    "UnlimitedShardHooks",
    "create_app",
    "hash_key_for_partition_key",
    "main",
]
