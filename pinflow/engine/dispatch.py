"""Carrying out a Task: find its integration in the table, check what the call needs against the
execution's role, start the call, and report how it came out as an event.

The integration says how the outcome comes back (`integrations.base`): now (the event is applied,
consuming the task's outbox row), through a callback (the outbox row is marked so a restart does not
call again, and SendTaskSuccess/Failure answers), or by watching what the call started (a watch row is
written with the TaskSubmitted event, and `watches` delivers the end).
"""

from __future__ import annotations

import json
import logging
import traceback
from typing import TYPE_CHECKING, Any

from pinflow.asl import commands as cmd
from pinflow.asl import events
from pinflow.engine import authorise, itemreader, lru, resultwriter, watches
from pinflow.engine.integrations import base, mock, table
from pinflow.store.repositories import executions as exec_repo
from pinflow.store.repositories import work as work_repo

if TYPE_CHECKING:
    from pinflow.engine.runner import Engine

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, engine: Engine, registry: Any) -> None:
        self.engine = engine
        self.registry = registry
        self.authoriser = authorise.Authoriser(engine, registry)
        # What never changes once written: an execution's role and pins.
        self._executions = lru.Lru(10_000)

    def run(self, execution_arn: str, command: cmd.InvokeTask,
            given: tuple[str, dict[str, Any]] | None = None, fence: int = 1) -> None:
        """Carry a task out and report back (on a worker thread), under lease token `fence`: the outcome
        counts only while this node still holds the task's outbox row with that token (`leases`)."""
        leases = self.engine.leases
        handed_over = False
        try:
            if not leases.start_work(execution_arn, command.task_id, fence):
                return  # another node took it over while it waited here
            handed_over = self._run(execution_arn, command, given, fence)
        finally:
            if not handed_over:
                leases.done(execution_arn, command.task_id)

    def _run(self, execution_arn: str, command: cmd.InvokeTask, given: tuple[str, dict[str, Any]] | None,
             fence: int) -> bool:
        """Carry the task out; True when its outcome was queued for the writer, which ends the lease's
        work once it is committed."""

        def facts() -> tuple[str, dict[str, Any]] | None:
            with self.engine.store.transaction(write=False) as tx:
                row = exec_repo.get(tx, arn=execution_arn)
            return None if row is None else (row.role_arn, json.loads(row.pins))

        known = given if given is not None else self._executions.get_or(execution_arn, facts)
        if known is None:
            self._executions.forget(execution_arn)
            return False
        role_arn, pinned = known
        call = base.Call(self.engine, execution_arn, role_arn, pinned, command)
        integration = table.for_resource(command.resource)
        started = self.start(call)
        if isinstance(started, base.Done):
            queued = self.engine.submit_event(execution_arn, started.event, consume=("outbox", command.task_id, fence))
            queued.add_done_callback(lambda _: self.engine.leases.done(execution_arn, command.task_id))
            return True
        elif isinstance(started, base.AwaitToken):
            # A callback task: the call was made; the answer comes through SendTask*. Mark the row so a
            # restart does not make the call again (an approval mail sent twice).
            with self.engine.store.transaction() as tx:
                work_repo.mark_called(tx, execution=execution_arn, task_id=command.task_id, lease_token=fence,
                                      at=self.engine.clock())

        else:
            assert integration is not None
            watches.begin(self.engine, integration, call, started, fence)
        return False

    def start(self, call: base.Call, mocked: mock.Mocked | None = None) -> base.Started:
        """Start one call: its integration's answer, or Done with the failure the call came to; a mocked
        answer (`mocked`, or the execution's test case's) instead of any call."""
        command = call.command
        mocked = mocked or mock.answer(self.engine.mocks, call.pinned, command.state_name, command.invocation)
        if mocked is not None:
            return base.Done(mocked.event(command.task_id, call.now()))
        integration = table.for_resource(command.resource)
        try:
            if command.pattern == "result_writer" and integration is not None:
                # A Distributed Map's ResultWriter: s3:PutObject under its prefix, then the files.
                try:
                    for need in resultwriter.needs(call):
                        self.authoriser.check(call.role_arn, call.pinned, need)
                except authorise.Denied as denied:
                    return base.Done(call.failed("States.ResultWriterFailed", denied.message))
                return base.Done(call.succeeded(resultwriter.write(call)))
            if command.pattern == "item_reader" and integration is not None:
                # A Distributed Map's ItemReader: the S3 call's IAM needs, then the items.
                try:
                    for need in integration.needs(call):
                        self.authoriser.check(call.role_arn, call.pinned, need)
                except authorise.Denied as denied:
                    return base.Done(call.failed("States.ItemReaderFailed", denied.message))
                return base.Done(call.succeeded(itemreader.read(call)))
            if integration is None or command.pattern not in integration.patterns:
                return base.Done(call.failed("States.Runtime",
                                             f"The resource '{command.resource}' is not supported by this server"))
            try:
                for need in integration.needs(call):
                    self.authoriser.check(call.role_arn, call.pinned, need)
            except authorise.Denied as denied:
                return base.Done(integration.denied(call, denied.message))
            return integration.start(call)
        except base.TaskError as failed:
            return base.Done(call.failed(failed.error, failed.cause))
        except Exception as exc:  # noqa: BLE001 - any fault in an integration fails the task, never the worker
            # The exception's text stays out of the history and the log: it may quote what a call sent
            # (a connection's header, a URL with a key in its query). Its kind and where it came from
            # are enough to find the fault.
            log.error("task %s of %s failed in the engine: %s\n%s", command.task_id, call.execution_arn,
                      type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)))
            return base.Done(call.failed("States.Runtime", f"Internal error ({type(exc).__name__})"))

    def outcome(self, execution_arn: str, role_arn: str, pinned: dict[str, Any],
                command: cmd.InvokeTask, mocked: mock.Mocked | None = None) -> events.Event | None:
        """The event that ends a task run in memory (Express, TestState), None when it cannot end there
        (a callback); `mocked` answers in place of the call (TestState's `mock`)."""
        call = base.Call(self.engine, execution_arn, role_arn, pinned, command)
        started = self.start(call, mocked)
        if isinstance(started, base.Done):
            return started.event
        # A callback's answer cannot come back in memory; nor can a watched call's, which Express
        # machines cannot make (validation refuses `.sync` in them, as AWS does).
        return None
