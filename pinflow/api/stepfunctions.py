"""The Step Functions API: every operation of the `AWSStepFunctions` target and its handler.

Handlers live by subject in `sfn_machines` (machines, versions, aliases, activities, tags),
`sfn_executions` (executions, callbacks, activity tasks) and `sfn_testing` (validation, TestState);
this table is what `awsjson.dispatch` routes by.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from pinflow.api import awsjson, sfn_executions, sfn_machines, sfn_testing

TARGET_PREFIX = "AWSStepFunctions"

OPERATIONS: dict[str, awsjson.Handler] = {
    # state machines, versions, aliases
    "CreateStateMachine": sfn_machines.create_state_machine,
    "UpdateStateMachine": sfn_machines.update_state_machine,
    "DeleteStateMachine": sfn_machines.delete_state_machine,
    "DescribeStateMachine": sfn_machines.describe_state_machine,
    "ListStateMachines": sfn_machines.list_state_machines,
    "PublishStateMachineVersion": sfn_machines.publish_state_machine_version,
    "ListStateMachineVersions": sfn_machines.list_state_machine_versions,
    "DeleteStateMachineVersion": sfn_machines.delete_state_machine_version,
    "CreateStateMachineAlias": sfn_machines.create_state_machine_alias,
    "DescribeStateMachineAlias": sfn_machines.describe_state_machine_alias,
    "UpdateStateMachineAlias": sfn_machines.update_state_machine_alias,
    "DeleteStateMachineAlias": sfn_machines.delete_state_machine_alias,
    "ListStateMachineAliases": sfn_machines.list_state_machine_aliases,
    # activities and tags
    "CreateActivity": sfn_machines.create_activity,
    "DescribeActivity": sfn_machines.describe_activity,
    "ListActivities": sfn_machines.list_activities,
    "DeleteActivity": sfn_machines.delete_activity,
    "TagResource": sfn_machines.tag_resource,
    "UntagResource": sfn_machines.untag_resource,
    "ListTagsForResource": sfn_machines.list_tags_for_resource,
    # executions
    "StartExecution": sfn_executions.start_execution,
    "StartSyncExecution": sfn_executions.start_sync_execution,
    "DescribeExecution": sfn_executions.describe_execution,
    "DescribeStateMachineForExecution": sfn_executions.describe_state_machine_for_execution,
    "ListExecutions": sfn_executions.list_executions,
    "GetExecutionHistory": sfn_executions.get_execution_history,
    "StopExecution": sfn_executions.stop_execution,
    "RedriveExecution": sfn_executions.redrive_execution,
    "SendTaskSuccess": sfn_executions.send_task_success,
    "SendTaskFailure": sfn_executions.send_task_failure,
    "SendTaskHeartbeat": sfn_executions.send_task_heartbeat,
    "GetActivityTask": sfn_executions.get_activity_task,
    "DescribeMapRun": sfn_executions.describe_map_run,
    "ListMapRuns": sfn_executions.list_map_runs,
    "UpdateMapRun": sfn_executions.update_map_run,
    # no execution
    "ValidateStateMachineDefinition": sfn_testing.validate_state_machine_definition,
    "TestState": sfn_testing.test_state,
}


async def handle(request: Request) -> Response:
    """Answer one Step Functions request (the app routes `X-Amz-Target: AWSStepFunctions.*` here)."""
    pf: Any = request.app.state.pinflow
    return await awsjson.dispatch(request, TARGET_PREFIX, OPERATIONS, pf)
