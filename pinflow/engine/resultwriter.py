"""A Distributed Map's ResultWriter: the Map Run's child executions written to S3 in AWS's layout.

Under `<Prefix>/<Map Run id>/` (the id is the last part of the Map Run's ARN): `SUCCEEDED_0.json`,
`FAILED_0.json` (failed, timed-out and aborted children) and `PENDING_0.json` (items never started),
each a JSON array of execution records as AWS writes them (ExecutionArn, Input and Output as JSON
text, Name, Status, StartDate, StopDate, ...), only for the statuses that have any, then
`manifest.json` naming them (`DestinationBucket`, `MapRunArn`, `ResultFiles` by status, each with `Key`
and `Size`). The Map's result is `{MapRunArn, ResultWriterDetails: {Bucket, Key}}` with the manifest's
key. Records are written to a temporary file as they are read from the store, never all held in memory.
"""

from __future__ import annotations

import json
import tempfile
from typing import IO, Any

from pinflow.asl import timestamps
from pinflow.engine.integrations import aws_service, base, s3
from pinflow.store.repositories import executions as exec_repo
from pinflow.store.repositories import mapruns as maprun_repo

FAILED = ("FAILED", "TIMED_OUT", "ABORTED")
SPOOL_BYTES = 8 * 1024 * 1024


def needs(call: base.Call) -> list[base.Need]:
    """s3:PutObject on the objects under the prefix."""
    bucket, prefix = _place(call)
    return [base.Need("s3:PutObject", s3.object_arn(bucket, f"{prefix}*"))]


def _place(call: base.Call) -> tuple[str, str]:
    parameters = call.parameters
    bucket = parameters.get("Bucket")
    if not isinstance(bucket, str) or not bucket:
        raise base.TaskError("States.ResultWriterFailed", "The ResultWriter's parameters need a Bucket")
    prefix = parameters.get("Prefix") or ""
    if not isinstance(prefix, str):
        raise base.TaskError("States.ResultWriterFailed", "The ResultWriter's Prefix must be a string")
    return bucket, prefix


def write(call: base.Call) -> dict[str, Any]:
    """Write the results and the manifest; the Map's result."""
    bucket, prefix = _place(call)
    writer = call.command.writer or {}
    map_run_arn = str(writer.get("MapRunArn") or "")
    run_id = map_run_arn.rsplit(":", 1)[-1]
    folder = f"{prefix.rstrip('/')}/{run_id}" if prefix else run_id
    engine = call.engine
    region = engine.aws.region(None, aws_service.place(call)[0])
    files: dict[str, IO[bytes]] = {}
    counts: dict[str, int] = {}
    children = writer.get("Children")
    if children is not None:
        # A Map Run run in memory (an Express parent): its children come with the command.
        for row in children:
            _add(files, counts, row)
    else:
        with engine.store.transaction(write=False) as tx:
            for child in maprun_repo.children(tx, map_run=map_run_arn):
                _add(files, counts, exec_repo.as_dict(child))
            for item in maprun_repo.pending(tx, map_run=map_run_arn):
                _append(files, counts, "PENDING", {"Input": item.input, "InputDetails": {"Included": True}})

    result_files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    try:
        for status, body in files.items():
            body.write(b"]")
            size = body.tell()
            body.seek(0)
            key = f"{folder}/{status}_0.json"
            s3.put_object(engine, bucket, key, body, content_type="application/json", region=region)
            result_files[status].append({"Key": key, "Size": size})
    finally:
        for body in files.values():
            body.close()
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": result_files}
    manifest_key = f"{folder}/manifest.json"
    s3.put_object(engine, bucket, manifest_key, json.dumps(manifest).encode(), content_type="application/json",
                  region=region)
    return {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}


def _add(files: dict[str, IO[bytes]], counts: dict[str, int], row: dict[str, Any]) -> None:
    status = "SUCCEEDED" if row["status"] == "SUCCEEDED" else "FAILED" if row["status"] in FAILED else None
    if status is not None:
        _append(files, counts, status, _record(row))


def _append(files: dict[str, IO[bytes]], counts: dict[str, int], status: str, record: dict[str, Any]) -> None:
    body = files.get(status)
    if body is None:
        # Closed by `write` once sent (it outlives this call).
        body = files[status] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        body.write(b"[")
    elif counts[status]:
        body.write(b",")
    body.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode())
    counts[status] = counts.get(status, 0) + 1


def _record(row: dict[str, Any]) -> dict[str, Any]:
    """A child execution as AWS's result files show it."""
    parts = row["arn"].split(":")
    express = parts[5] == "express"  # arn:aws:states:<region>:<account>:express:<machine>:<name>:<uuid>
    record: dict[str, Any] = {
        "ExecutionArn": row["arn"], "Input": row["input"], "InputDetails": {"Included": True},
        "Name": parts[7], "RedriveCount": int(row["redrive_count"] or 0),
        "StateMachineArn": ":".join([*parts[:5], "stateMachine", parts[6]]),
        "Status": row["status"],
    }
    if row["started_at"] is not None:
        record["StartDate"] = timestamps.format(row["started_at"])
    if express:
        record.pop("RedriveCount")
    if row["stopped_at"] is not None:
        record["StopDate"] = timestamps.format(row["stopped_at"])
    if row["status"] == "SUCCEEDED":
        record["Output"] = row["output"]
        record["OutputDetails"] = {"Included": True}
        if not express:
            record["RedriveStatus"] = "NOT_REDRIVABLE"
            record["RedriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
    else:
        if row["error"] is not None:
            record["Error"] = row["error"]
        if row["cause"] is not None:
            record["Cause"] = row["cause"]
        if not express:
            record["RedriveStatus"] = "REDRIVABLE"
    return record
