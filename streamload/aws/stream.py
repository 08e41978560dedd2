"""The Kinesis data stream in the stream account: observe, create or converge, find by tag."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from streamload.aws.changes import Change
from streamload.aws.config import RUN_ID_TAG
from streamload.aws.errors import AwsSetupError, none_if_missing
from streamload.aws.waits import Backoff

__all__ = ["observe_stream", "wait_stream_active", "stream_summary", "tagged_streams", "delete_stream"]


class StreamNotActive(Exception):
    pass


def stream_summary(kinesis: Any, name: str) -> dict[str, Any] | None:
    return none_if_missing("ResourceNotFoundException",
                           lambda: kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"])


def stream_tags(kinesis: Any, name: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in kinesis.list_tags_for_stream(StreamName=name).get("Tags", [])}


def wait_stream_active(kinesis: Any, name: str, backoff: Backoff) -> dict[str, Any]:
    def active() -> dict[str, Any]:
        summary = stream_summary(kinesis, name)
        status = summary["StreamStatus"] if summary else "missing"
        if status != "ACTIVE":
            raise StreamNotActive(f"stream {name} is {status}")
        return summary  # type: ignore[return-value]

    try:
        return backoff.retry(active, lambda exc: isinstance(exc, StreamNotActive), f"stream {name} ACTIVE")
    except StreamNotActive as exc:
        raise AwsSetupError(f"{exc} after {backoff.timeout_s:.0f}s; check the Kinesis console") from None


def _mode_details(mode: str) -> dict[str, str]:
    return {"StreamMode": mode}


def observe_stream(kinesis: Any, name: str, mode: str, shards: int, run_id: str, backoff: Backoff) -> Change:
    summary = stream_summary(kinesis, name)
    shape = f"{mode}" + (f", {shards} shards" if mode == "PROVISIONED" else "")
    if summary is None:
        def create() -> None:
            kwargs: dict[str, Any] = {"StreamName": name, "StreamModeDetails": _mode_details(mode)}
            if mode == "PROVISIONED":
                kwargs["ShardCount"] = shards
            kinesis.create_stream(**kwargs)
            wait_stream_active(kinesis, name, backoff)
            kinesis.add_tags_to_stream(StreamName=name, Tags={RUN_ID_TAG: run_id})
        return Change("stream", "kinesis stream", name, "create", shape, apply=create)
    if stream_tags(kinesis, name).get(RUN_ID_TAG) != run_id:
        return Change("stream", "kinesis stream", name, "foreign",
                      f"exists without tag {RUN_ID_TAG}={run_id}; used as is, teardown keeps it")
    current_mode = summary.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED")
    current_shards = summary.get("OpenShardCount")
    todo: list[str] = []
    if current_mode != mode:
        todo.append(f"mode {current_mode} -> {mode}")
    if mode == "PROVISIONED" and current_shards != shards:
        todo.append(f"shards {current_shards} -> {shards}")
    if not todo:
        return Change("stream", "kinesis stream", name, "unchanged", shape)

    def update() -> None:
        if current_mode != mode:
            kinesis.update_stream_mode(StreamARN=summary["StreamARN"], StreamModeDetails=_mode_details(mode))
            wait_stream_active(kinesis, name, backoff)
        if mode == "PROVISIONED" and current_shards != shards:
            kinesis.update_shard_count(StreamName=name, TargetShardCount=shards, ScalingType="UNIFORM_SCALING")
            wait_stream_active(kinesis, name, backoff)
    return Change("stream", "kinesis stream", name, "update", "; ".join(todo), apply=update)


def tagged_streams(kinesis: Any, run_id: str) -> Iterator[str]:
    for page in kinesis.get_paginator("list_streams").paginate():
        for name in page["StreamNames"]:
            if stream_tags(kinesis, name).get(RUN_ID_TAG) == run_id:
                yield name


def delete_stream(kinesis: Any, name: str) -> None:
    kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=False)
