"""The optimized integrations that run a job (`.sync`), and Bedrock and API Gateway, as AWS documents them:
"Start an AWS Glue job run", "Run AWS Batch jobs", "Run Amazon ECS or Fargate tasks", "Run Athena
queries", "Invoke and customize Amazon Bedrock models", "Create API Gateway REST APIs" (Step Functions
developer guide). A `.sync` Task records the starting call's answer as TaskSubmitted, ends with the job's
description, fails with `States.TaskFailed` when the job fails, and stops the job when the Task is
stopped. Glue, Batch and ECS run against moto's server; Athena, Bedrock and the API against small
endpoints on loopback that speak their protocols (tests/aws/emulators.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest

from pinflow.engine.integrations import table
from pinflow.engine.integrations.aws_settings import AwsSettings
from tests.aws import emulators
from tests.aws.conftest import AwsServer, Moto, one, output, task, unique


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Look at running jobs every 0.2 s instead of AWS-like seconds."""
    for name in ("glue", "athena", "batch", "ecs"):
        monkeypatch.setattr(table.by_name(name), "poll_seconds", 0.2)


def _events(aws: AwsServer, execution: str, kind: str) -> list[dict]:
    return [e for e in aws.history(execution) if e["type"] == kind]


def test_glue_start_job_run_sync_ends_with_the_run(aws: AwsServer, moto: Moto) -> None:
    job = unique("job")
    moto.client("glue").create_job(Name=job, Role="role", Command={"Name": "glueetl", "ScriptLocation": "s3://x/y"})
    started = output(aws.run(one(task("arn:aws:states:::glue:startJobRun", {"JobName": job}))))
    assert started["JobName"] == job and started["JobRunId"] and started["SdkHttpMetadata"]["HttpStatusCode"] == 200
    execution = aws.start(aws.machine(one(task("arn:aws:states:::glue:startJobRun.sync", {"JobName": job}))))
    run = output(aws.finished(execution))
    assert run["JobRunState"] == "SUCCEEDED" and run["JobName"] == job
    assert isinstance(run["StartedOn"], int)  # optimized integrations write dates as epoch milliseconds
    submitted = json.loads(_events(aws, execution, "TaskSubmitted")[0]["taskSubmittedEventDetails"]["output"])
    assert submitted["JobRunId"] == run["Id"]


def test_glue_errors_are_named_glue(aws: AwsServer) -> None:
    described = aws.run(one(task("arn:aws:states:::glue:startJobRun", {"JobName": unique("absent")})))
    assert described["status"] == "FAILED" and described["error"] == "Glue.EntityNotFoundException"
    assert "(Service: AWSGlue; Status Code: 400; Error Code: EntityNotFoundException;" in described["cause"]


def _batch_queue(moto: Moto) -> tuple[str, str]:
    batch = moto.client("batch")
    role = moto.client("iam").create_role(RoleName=unique("batch"), AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    environment = batch.create_compute_environment(computeEnvironmentName=unique("env"), type="UNMANAGED",
                                                   state="ENABLED", serviceRole=role)
    queue = batch.create_job_queue(jobQueueName=unique("queue"), state="ENABLED", priority=1, computeEnvironmentOrder=[
        {"order": 1, "computeEnvironment": environment["computeEnvironmentArn"]}])["jobQueueName"]
    definition = batch.register_job_definition(jobDefinitionName=unique("def"), type="container", containerProperties={
        "image": "busybox", "vcpus": 1, "memory": 128, "command": ["true"]})["jobDefinitionName"]
    return queue, definition


def test_batch_submit_job_sync_tells_the_job_and_ends_with_its_description(aws: AwsServer, moto: Moto) -> None:
    queue, definition = _batch_queue(moto)
    execution = aws.start(aws.machine(one(task("arn:aws:states:::batch:submitJob.sync", {
        "JobName": "nightly", "JobQueue": queue, "JobDefinition": definition}))))
    job = output(aws.finished(execution))
    assert job["Status"] == "SUCCEEDED" and job["JobName"] == "nightly"
    environment = job["Container"]["Environment"]
    assert {"Name": "MANAGED_BY_AWS", "Value": "STARTED_BY_STEP_FUNCTIONS"} in environment
    submitted = json.loads(_events(aws, execution, "TaskSubmitted")[0]["taskSubmittedEventDetails"]["output"])
    assert submitted["JobId"] == job["JobId"] and submitted["JobName"] == "nightly"


def _ecs_task(moto: Moto) -> dict:
    ecs = moto.client("ecs")
    cluster = ecs.create_cluster(clusterName=unique("cluster"))["cluster"]["clusterArn"]
    family = unique("family")
    ecs.register_task_definition(family=family, containerDefinitions=[{"name": "app", "image": "busybox",
                                                                       "memory": 128}])
    return {"Cluster": cluster, "TaskDefinition": family, "LaunchType": "FARGATE",
            "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": ["subnet-1"]}}}


def test_ecs_run_task_answers_the_task_description(aws: AwsServer, moto: Moto) -> None:
    answered = output(aws.run(one(task("arn:aws:states:::ecs:runTask", _ecs_task(moto)))))
    assert answered["Failures"] == [] and answered["Tasks"][0]["TaskArn"].startswith("arn:aws:ecs:")
    assert answered["Tasks"][0]["Containers"][0]["Name"] == "app"


def test_stopping_an_ecs_sync_task_stops_the_ecs_task(aws: AwsServer, moto: Moto) -> None:
    parameters = _ecs_task(moto)
    execution = aws.start(aws.machine(one(task("arn:aws:states:::ecs:runTask.sync", parameters))))
    deadline = time.monotonic() + 20
    while not _events(aws, execution, "TaskSubmitted"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    submitted = json.loads(_events(aws, execution, "TaskSubmitted")[0]["taskSubmittedEventDetails"]["output"])
    arn = submitted["Tasks"][0]["TaskArn"]
    aws.sfn.stop_execution(executionArn=execution)
    described = moto.client("ecs").describe_tasks(cluster=parameters["Cluster"], tasks=[arn])["tasks"][0]
    deadline = time.monotonic() + 20
    while not described.get("stoppedReason") and time.monotonic() < deadline:
        time.sleep(0.05)
        described = moto.client("ecs").describe_tasks(cluster=parameters["Cluster"], tasks=[arn])["tasks"][0]
    assert described["stoppedReason"].startswith("Stopped by AWS Step Functions")
    assert described["startedBy"] == "AWS Step Functions"


@pytest.fixture
def athena(serve: Callable[..., AwsServer]) -> Iterator[tuple[AwsServer, emulators.Athena]]:
    endpoint = emulators.Athena()
    yield serve(aws=AwsSettings(endpoints={"athena": endpoint.url})), endpoint
    endpoint.close()


def _submitted(aws: AwsServer, execution: str) -> dict:
    deadline = time.monotonic() + 20
    while not _events(aws, execution, "TaskSubmitted"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return dict(json.loads(_events(aws, execution, "TaskSubmitted")[0]["taskSubmittedEventDetails"]["output"]))


def test_athena_query_sync_waits_for_the_query_and_ends_with_get_query_execution(athena) -> None:
    aws, endpoint = athena
    execution = aws.start(aws.machine(one(task("arn:aws:states:::athena:startQueryExecution.sync", {
        "QueryString": "SELECT 1", "WorkGroup": "primary"}))))
    query_id = _submitted(aws, execution)["QueryExecutionId"]
    time.sleep(0.5)
    assert aws.sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    endpoint.end(query_id, "SUCCEEDED")
    answer = output(aws.finished(execution))
    assert answer["QueryExecution"]["QueryExecutionId"] == query_id
    assert answer["QueryExecution"]["Status"]["State"] == "SUCCEEDED"
    assert isinstance(answer["QueryExecution"]["Status"]["SubmissionDateTime"], int)


def test_a_failed_query_fails_the_task_with_its_description(athena) -> None:
    aws, endpoint = athena
    execution = aws.start(aws.machine(one(task("arn:aws:states:::athena:startQueryExecution.sync", {
        "QueryString": "SELECT oops"}))))
    endpoint.end(_submitted(aws, execution)["QueryExecutionId"], "FAILED")
    described = aws.finished(execution)
    assert described["status"] == "FAILED" and described["error"] == "States.TaskFailed"
    assert json.loads(described["cause"])["QueryExecution"]["Status"]["State"] == "FAILED"


def test_stopping_the_execution_stops_the_query(athena) -> None:
    aws, endpoint = athena
    execution = aws.start(aws.machine(one(task("arn:aws:states:::athena:startQueryExecution.sync", {
        "QueryString": "SELECT forever"}))))
    query_id = _submitted(aws, execution)["QueryExecutionId"]
    aws.sfn.stop_execution(executionArn=execution)
    deadline = time.monotonic() + 20
    while endpoint.queries[query_id]["Status"]["State"] != "CANCELLED":
        assert time.monotonic() < deadline, "the query was not stopped"
        time.sleep(0.05)


def test_bedrock_invoke_model_sends_json_and_parses_the_answer(serve: Callable[..., AwsServer]) -> None:
    endpoint = emulators.Bedrock()
    try:
        aws = serve(aws=AwsSettings(endpoints={"bedrock-runtime": endpoint.url}))
        answer = output(aws.run(one(task("arn:aws:states:::bedrock:invokeModel", {
            "ModelId": "amazon.titan-text-express-v1", "Body": {"inputText": "hi"}}))))
        assert answer == {"Body": {"completion": "hello from amazon.titan-text-express-v1",
                                   "asked": {"inputText": "hi"}}, "ContentType": "application/json"}
        sent = endpoint.requests[-1]
        assert sent["headers"]["Content-Type"] == "application/json" and sent["headers"]["Accept"] == "application/json"
    finally:
        endpoint.close()


@pytest.fixture
def api(serve: Callable[..., AwsServer]) -> Iterator[tuple[AwsServer, emulators.Api]]:
    endpoint = emulators.Api()
    yield serve(http_hosts="127.0.0.1"), endpoint
    endpoint.close()


def test_api_gateway_invoke_answers_headers_body_and_status(api) -> None:
    aws, endpoint = api
    answer = output(aws.run(one(task("arn:aws:states:::apigateway:invoke", {
        "ApiEndpoint": endpoint.url, "Method": "POST", "Stage": "prod", "Path": "orders",
        "Headers": {"X-Order": ["o1"]}, "QueryParameters": {"page": ["2"]},
        "RequestBody": {"id": "o1", "note": None}}))))
    assert answer["StatusCode"] == 200 and answer["StatusText"] == "OK"
    assert answer["ResponseBody"] == {"method": "POST", "path": "/prod/orders?page=2", "got": {"id": "o1"}}
    assert answer["Headers"]["X-Trace"] == ["t-1"]
    assert endpoint.requests[-1]["headers"]["X-Order"] == "o1"


def test_api_gateway_errors_are_named_by_status(api) -> None:
    aws, endpoint = api
    described = aws.run(one(task("arn:aws:states:::apigateway:invoke", {
        "ApiEndpoint": endpoint.url, "Method": "GET", "Stage": "prod", "Path": "broken"})))
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "ApiGateway.500", "it broke")
    refused = aws.run(one(task("arn:aws:states:::apigateway:invoke", {
        "ApiEndpoint": endpoint.url, "Method": "GET", "Headers": {"Authorization": ["x"]}})))
    assert refused["error"] == "States.Runtime" and "Authorization" in refused["cause"]


def test_api_gateway_reaches_only_hosts_the_server_allows(serve: Callable[..., AwsServer]) -> None:
    endpoint = emulators.Api()
    try:
        aws = serve()  # the default policy: public addresses only
        described = aws.run(one(task("arn:aws:states:::apigateway:invoke", {
            "ApiEndpoint": endpoint.url, "Method": "GET", "Stage": "prod", "Path": "orders"})))
        assert described["error"] == "ApiGateway.SdkClientException" and "127.0.0.1" in described["cause"]
        assert endpoint.requests == []
    finally:
        endpoint.close()


def test_a_watched_query_survives_a_restart(tmp_path) -> None:
    """The watch row outlives the server: a query that ends while pinflow is down still ends its Task, once."""
    from pinflow.service import Pinflow

    endpoint = emulators.Athena()
    settings = AwsSettings(endpoints={"athena": endpoint.url})
    try:
        pf = Pinflow.open(data_dir=tmp_path / "data", isolation="none", permissive_iam=True, aws=settings)
        machine = pf.machines.create("queries", json.dumps(one(task(
            "arn:aws:states:::athena:startQueryExecution.sync", {"QueryString": "SELECT 1"}))),
            "arn:aws:iam::123456789012:role/absent")["stateMachineArn"]
        execution = pf.engine.start_execution(machine)["executionArn"]
        deadline = time.monotonic() + 20
        while not endpoint.queries:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        query_id = next(iter(endpoint.queries))
        pf.close()
        endpoint.end(query_id, "SUCCEEDED")
        again = Pinflow.open(data_dir=tmp_path / "data", isolation="none", permissive_iam=True, aws=settings)
        try:
            row = again.engine.wait_for(execution, timeout=20)
            assert row["status"] == "SUCCEEDED"
            assert json.loads(row["output"])["QueryExecution"]["Status"]["State"] == "SUCCEEDED"
            starts = [r for r in endpoint.requests if r["path"] == "/query-executions"]
            assert len(starts) == 1  # the call was not made again
            # Made again after a crash, it would carry the same idempotency token (the call's request id).
            assert len(json.loads(starts[0]["body"])["ClientRequestToken"]) == 36
        finally:
            again.close()
    finally:
        endpoint.close()


def test_api_gateway_iam_role_auth_signs_for_execute_api(serve: Callable[..., AwsServer],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    endpoint = emulators.Api()
    try:
        aws = serve(http_hosts="127.0.0.1")
        denied = aws.run(one(task("arn:aws:states:::apigateway:invoke", {
            "ApiEndpoint": endpoint.url, "Method": "GET", "Stage": "prod", "Path": "orders", "AuthType": "IAM_ROLE"})),
            role=aws.role([{"Effect": "Allow", "Action": "execute-api:Invoke",
                            "Resource": "arn:aws:execute-api:*:*:other/*"}]))
        # API Gateway itself refuses an unauthorised signed call with a 403 and IAM's message.
        assert (denied["status"], denied["error"]) == ("FAILED", "ApiGateway.403")
        assert "not authorized to perform: execute-api:Invoke" in json.loads(denied["cause"])["Message"]
        assert endpoint.requests == []
        answered = output(aws.run(one(task("arn:aws:states:::apigateway:invoke", {
            "ApiEndpoint": endpoint.url, "Method": "GET", "Stage": "prod", "Path": "orders", "AuthType": "IAM_ROLE"}))))
        assert answered["StatusCode"] == 200
        authorization = endpoint.requests[-1]["headers"]["Authorization"]
        assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEKEY/")
        assert "/execute-api/aws4_request" in authorization
    finally:
        endpoint.close()


def test_a_status_call_that_hangs_holds_back_no_timer(serve: Callable[..., AwsServer]) -> None:
    """A `.sync` job's status call that does not answer must not stop Waits and timeouts elsewhere: the
    looks at watched jobs run off the timer thread."""
    endpoint = emulators.HangingAthena()
    try:
        aws = serve(aws=AwsSettings(endpoints={"athena": endpoint.url}))
        query = aws.start(aws.machine(one(task("arn:aws:states:::athena:startQueryExecution.sync",
                                                {"QueryString": "SELECT 1"}))))
        assert endpoint.hung.wait(20)
        time.sleep(1.5)  # long enough for the timers' once-a-second round to reach the watch
        started = time.monotonic()
        waited = aws.run({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}})
        assert waited["status"] == "SUCCEEDED"
        assert time.monotonic() - started < 6
        endpoint.release.set()
        (query_id,) = endpoint.queries
        endpoint.end(query_id, "SUCCEEDED")
        assert aws.finished(query)["status"] == "SUCCEEDED"
    finally:
        endpoint.release.set()
        endpoint.close()


def test_slow_http_tasks_leave_threads_for_other_integrations(serve: Callable[..., AwsServer], moto: Moto) -> None:
    """HTTP Tasks waiting on an API that hangs take their own threads: a DynamoDB Task started after as
    many of them as the server has workers still runs at once."""
    api = emulators.Hanging()
    try:
        aws = serve(aws=AwsSettings(endpoints={"*": moto.url}), http_hosts="127.0.0.1", workers=2)
        events = aws.running.client("events")
        connection = events.create_connection(Name=unique("slow"), AuthorizationType="API_KEY", AuthParameters={
            "ApiKeyAuthParameters": {"ApiKeyName": "x-key", "ApiKeyValue": "k"}})["ConnectionArn"]
        slow = aws.machine(one(task("arn:aws:states:::http:invoke", {
            "ApiEndpoint": f"{api.url}/slow", "Method": "GET", "Authentication": {"ConnectionArn": connection}})))
        held = [aws.start(slow) for _ in range(3)]
        deadline = time.monotonic() + 20
        while api.waiting < 2:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        table_name = unique("table")
        moto.client("dynamodb").create_table(
            TableName=table_name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        started = time.monotonic()
        put = aws.run(one(task("arn:aws:states:::dynamodb:putItem", {"TableName": table_name,
                                                                      "Item": {"id": {"S": "a"}}})))
        assert put["status"] == "SUCCEEDED"
        assert time.monotonic() - started < 10
        api.release.set()
        assert all(aws.finished(arn)["status"] == "SUCCEEDED" for arn in held)
        events.close()
    finally:
        api.release.set()
        api.close()


def test_a_status_call_that_hangs_is_given_up_and_made_again(serve: Callable[..., AwsServer],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A look at a job is bounded: a status call the service does not answer is given up after the
    status calls' read timeout (1 s here) and made again at the next look, and the job still ends its
    Task once the service answers."""
    from pinflow.engine.integrations import aws_client

    monkeypatch.setattr(aws_client, "POLL_READ_SECONDS", 1.0)
    endpoint = emulators.HangingAthena()
    try:
        aws = serve(aws=AwsSettings(endpoints={"athena": endpoint.url}))
        query = aws.start(aws.machine(one(task("arn:aws:states:::athena:startQueryExecution.sync",
                                                {"QueryString": "SELECT 1"}))))
        assert endpoint.hung.wait(20)
        deadline = time.monotonic() + 15
        while sum(1 for seen in endpoint.requests if seen["method"] == "GET") < 4:
            assert time.monotonic() < deadline, "the hanging status call was never given up"
            time.sleep(0.05)
        (query_id,) = endpoint.queries
        endpoint.end(query_id, "SUCCEEDED")
        endpoint.release.set()
        assert aws.finished(query)["status"] == "SUCCEEDED"
    finally:
        endpoint.release.set()
        endpoint.close()
