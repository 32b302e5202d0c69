"""A Distributed Map's ResultWriter against moto's S3: AWS's layout (manifest.json naming SUCCEEDED_0.json
and FAILED_0.json under <Prefix>/<Map Run id>/), the records of the child executions, and the Map's
output {MapRunArn, ResultWriterDetails}."""

from __future__ import annotations

import json
from typing import Any

from tests.aws.conftest import AwsServer, Moto, output, unique

FLAKY = {
    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Break"}],
              "Default": "Ok"},
    "Break": {"Type": "Fail", "Error": "ItemFailed", "Cause": "bad item"},
    "Ok": {"Type": "Pass", "OutputPath": "$.n", "End": True}}


def writing(bucket: str, **fields: Any) -> dict[str, Any]:
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                 "StartAt": "Check", "States": FLAKY}
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": bucket, "Prefix.$": "$.prefix"}}
    return {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "ResultWriter": writer,
        "MaxConcurrency": 1, "End": True, **fields}}}


def read_json(moto: Moto, bucket: str, key: str) -> Any:
    return json.loads(moto.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def test_results_are_written_in_aws_layout(aws: AwsServer, moto: Moto) -> None:
    bucket = unique("results")
    moto.client("s3").create_bucket(Bucket=bucket)
    items = [{"n": 0, "fail": False}, {"n": 1, "fail": True}, {"n": 2, "fail": False}]
    described = aws.run(writing(bucket, ToleratedFailureCount=1), {"items": items, "prefix": "jobs"})
    result = output(described)
    events = aws.history(described["executionArn"])
    run_arn = next(e for e in events if e["type"] == "MapRunStarted")["mapRunStartedEventDetails"]["mapRunArn"]
    run_id = run_arn.rsplit(":", 1)[-1]
    manifest_key = f"jobs/{run_id}/manifest.json"
    assert result == {"MapRunArn": run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}
    assert [e["type"] for e in events][-5:] == [
        "MapRunStarted", "MapRunSucceeded", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]

    manifest = read_json(moto, bucket, manifest_key)
    assert manifest["DestinationBucket"] == bucket
    assert manifest["MapRunArn"] == run_arn
    files = manifest["ResultFiles"]
    assert [f["Key"] for f in files["SUCCEEDED"]] == [f"jobs/{run_id}/SUCCEEDED_0.json"]
    assert [f["Key"] for f in files["FAILED"]] == [f"jobs/{run_id}/FAILED_0.json"]
    assert files["PENDING"] == []
    succeeded = read_json(moto, bucket, files["SUCCEEDED"][0]["Key"])
    head = moto.client("s3").head_object(Bucket=bucket, Key=files["SUCCEEDED"][0]["Key"])
    assert files["SUCCEEDED"][0]["Size"] == head["ContentLength"]
    assert [json.loads(r["Output"]) for r in succeeded] == [0, 2]
    assert [json.loads(r["Input"]) for r in succeeded] == [items[0], items[2]]
    record = succeeded[0]
    assert record["Status"] == "SUCCEEDED"
    assert record["ExecutionArn"].startswith(run_arn.split(":mapRun:")[0] + ":execution:")
    assert {"ExecutionArn", "Input", "InputDetails", "Name", "Output", "OutputDetails", "StartDate", "StopDate",
            "StateMachineArn", "Status", "RedriveCount", "RedriveStatus"} <= set(record)
    failed = read_json(moto, bucket, files["FAILED"][0]["Key"])
    assert [(r["Status"], r["Error"], r["Cause"]) for r in failed] == [("FAILED", "ItemFailed", "bad item")]
    # The children's records name the same executions ListExecutions does.
    children = aws.sfn.list_executions(mapRunArn=run_arn)["executions"]
    assert sorted(c["executionArn"] for c in children) == sorted(r["ExecutionArn"] for r in succeeded + failed)


def test_a_writer_that_cannot_write_fails_with_result_writer_failed(aws: AwsServer) -> None:
    described = aws.run(writing(unique("absent")), {"items": [{"n": 0, "fail": False}], "prefix": "p"})
    assert (described["status"], described["error"]) == ("FAILED", "States.ResultWriterFailed")
    assert "NoSuchBucket" in described["cause"]


def test_redriving_after_the_writer_failed_writes_the_results_only(aws: AwsServer, moto: Moto) -> None:
    # The Map Run succeeded: a redrive writes its results (once the bucket is there), reruns no child and
    # starts no new Map Run.
    bucket = unique("later")
    items = [{"n": 0, "fail": False}, {"n": 1, "fail": False}]
    described = aws.run(writing(bucket), {"items": items, "prefix": "p"})
    assert (described["status"], described["error"]) == ("FAILED", "States.ResultWriterFailed")
    parent = described["executionArn"]
    runs = aws.sfn.list_map_runs(executionArn=parent)["mapRuns"]
    assert len(runs) == 1
    run_arn = runs[0]["mapRunArn"]
    children = sorted(c["executionArn"] for c in aws.sfn.list_executions(mapRunArn=run_arn)["executions"])

    moto.client("s3").create_bucket(Bucket=bucket)
    aws.sfn.redrive_execution(executionArn=parent)
    described = aws.finished(parent)
    assert described["status"] == "SUCCEEDED"
    manifest_key = f"p/{run_arn.rsplit(':', 1)[-1]}/manifest.json"
    assert output(described) == {"MapRunArn": run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}
    assert [r["mapRunArn"] for r in aws.sfn.list_map_runs(executionArn=parent)["mapRuns"]] == [run_arn]
    assert sorted(c["executionArn"] for c in aws.sfn.list_executions(mapRunArn=run_arn)["executions"]) == children
    assert all(aws.sfn.describe_execution(executionArn=arn).get("redriveCount", 0) == 0 for arn in children)
    succeeded = read_json(moto, bucket, read_json(moto, bucket, manifest_key)["ResultFiles"]["SUCCEEDED"][0]["Key"])
    assert [json.loads(r["Output"]) for r in succeeded] == [0, 1]
    types = [e["type"] for e in aws.history(parent)]
    assert types.count("MapRunStarted") == 1
    assert types[-4:] == ["ExecutionRedriven", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]


def test_an_express_parents_map_run_results_are_written(aws: AwsServer, moto: Moto) -> None:
    bucket = unique("expressparent")
    moto.client("s3").create_bucket(Bucket=bucket)
    items = [{"n": 0, "fail": False}, {"n": 1, "fail": True}, {"n": 2, "fail": False}]
    machine = aws.machine(writing(bucket, ToleratedFailureCount=1), kind="EXPRESS")
    answer = aws.sfn.start_sync_execution(stateMachineArn=machine, input=json.dumps({"items": items, "prefix": "x"}))
    assert answer["status"] == "SUCCEEDED"
    result = json.loads(answer["output"])
    manifest = read_json(moto, bucket, result["ResultWriterDetails"]["Key"])
    assert manifest["MapRunArn"] == result["MapRunArn"]
    files = manifest["ResultFiles"]
    succeeded = read_json(moto, bucket, files["SUCCEEDED"][0]["Key"])
    assert [json.loads(r["Output"]) for r in succeeded] == [0, 2]
    assert [json.loads(r["Input"]) for r in succeeded] == [items[0], items[2]]
    failed = read_json(moto, bucket, files["FAILED"][0]["Key"])
    assert [(r["Status"], r["Error"], r["Cause"]) for r in failed] == [("FAILED", "ItemFailed", "bad item")]
    assert files["PENDING"] == []


def test_express_childrens_results_are_written_too(aws: AwsServer, moto: Moto) -> None:
    bucket = unique("results")
    moto.client("s3").create_bucket(Bucket=bucket)
    definition = writing(bucket)
    definition["States"]["Each"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = "EXPRESS"
    described = aws.run(definition, {"items": [{"n": 5, "fail": False}], "prefix": "x"})
    manifest = read_json(moto, bucket, output(described)["ResultWriterDetails"]["Key"])
    [record] = read_json(moto, bucket, manifest["ResultFiles"]["SUCCEEDED"][0]["Key"])
    assert ":express:" in record["ExecutionArn"]
    assert (record["Status"], json.loads(record["Output"])) == ("SUCCEEDED", 5)
    assert record["StateMachineArn"].endswith(":stateMachine:" + record["ExecutionArn"].split(":")[6])
