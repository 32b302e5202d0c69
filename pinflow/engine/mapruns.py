"""Map Runs, durably: a Distributed Map's children as real Standard executions.

A parent's StartMapRun command writes the Map Run row, its items and its first children in the step
that asked for it. Each child is an execution with its own row and history (its machine is
`<machine>/<label>`, its definition the processor block of the parent's revision). When a child
ends, the transaction that records its end also counts it on the Map Run row, starts the next items
(up to MaxConcurrency) and, when the run is over (every item done, or its failures over the tolerated
thresholds), ends the run and applies MapRunEnded to the parent. So a crash at any point leaves the
counters and the children agreeing, and a finished child never runs again. The parent's state keeps
no per-item data: only the run's id.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from pinflow import errors
from pinflow.asl import commands as cmd
from pinflow.asl import events, interpreter, loop, maprun, timestamps
from pinflow.engine import express
from pinflow.engine import leases as leases_module
from pinflow.engine.applier import Work
from pinflow.store import Tx
from pinflow.store.repositories import executions as exec_repo
from pinflow.store.repositories import mapruns as maprun_repo

if TYPE_CHECKING:
    from pinflow.engine.runner import Engine

log = logging.getLogger(__name__)
FollowUps = list[Callable[[], None]]
# Children started in one transaction at most; the run goes on in the next one, so one step never
# holds the single writer for a whole large run.
STARTS_PER_TRANSACTION = 500
# Children stopped in one transaction at most when their run ends early (the rest in the next ones).
STOPS_PER_TRANSACTION = 500
# The largest number the store keeps (a 64-bit integer): a limit beyond it is the same as it (a run
# has far fewer items).
LARGEST = 2**63 - 1


class MapRuns:
    """The engine's Map Runs (one per engine)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # What starting a child needs of its parent, by Map Run ARN (the parent's row is not read per child).
        self._parents: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        # Map Runs being advanced on this thread: a child that ends in its first step asks again, and
        # is answered by the loop already running instead of by a deeper call.
        self._local = threading.local()

    # --- starting -------------------------------------------------------------------------------

    def start(self, tx: Tx, parent_arn: str, command: cmd.StartMapRun, follow_ups: FollowUps) -> None:
        """Carry out StartMapRun in the parent's step: the run's row, its items, its first children."""
        if maprun_repo.get(tx, arn=command.map_run_arn) is not None:
            return  # the step is being redone (group commit's one-by-one retry)
        tolerated = command.tolerated or {}
        count = tolerated.get("count")
        count = None if count is None else min(int(count), LARGEST)
        machine = maprun.run_machine_arn(command.map_run_arn).rpartition(":")[2]
        weights = [_weight(item) if command.batched else 1 for item in command.items]
        maprun_repo.insert(
            tx, arn=command.map_run_arn, execution=parent_arn, run_id=command.run_id, seq=self.engine._next_seq(),
            machine=machine, block=command.block, execution_type=command.execution_type,
            writes_results=command.writes_results, max_concurrency=min(command.max_concurrency, LARGEST),
            tolerated_count=count, tolerated_percentage=tolerated.get("percentage"), total=len(command.items),
            item_total=sum(weights), started_at=self.engine.clock())
        dumps = self.engine.dumps
        maprun_repo.add_items(tx, map_run=command.map_run_arn,
                              items=[(dumps(item), weights[index]) for index, item in enumerate(command.items)])
        self.advance(tx, command.map_run_arn, follow_ups)

    def _parent(self, tx: Tx, run: maprun_repo.MapRun) -> dict[str, Any]:
        with self._lock:
            found = self._parents.get(run.arn)
            if found is not None:
                return found
        row = exec_repo.get(tx, arn=run.execution)
        if row is None:
            raise errors.ExecutionDoesNotExist(f"Execution Does Not Exist: '{run.execution}'")
        pins = orjson.loads(row.pins)
        pins.pop("parent", None)
        definition = self.engine.definition(tx, row.revision_id)
        found = {"revision_id": row.revision_id, "role_arn": row.role_arn, "pins": pins,
                 "definition": self.engine.child_definition(row.revision_id, definition, run.block)}
        with self._lock:
            self._parents[run.arn] = found
            while len(self._parents) > 256:
                self._parents.popitem(last=False)
        return found

    def _start_child(self, tx: Tx, run: maprun_repo.MapRun, index: int, follow_ups: FollowUps) -> None:
        engine = self.engine
        parent = self._parent(tx, run)
        item = maprun_repo.item(tx, map_run=run.arn, idx=index)
        assert item is not None
        input_text = item.input
        name = str(uuid.uuid4())
        child_arn = maprun.child_execution_arn(run.arn, name)
        now = engine.clock()
        weight = int(item.weight)
        if run.execution_type == "EXPRESS":
            self._start_express(tx, run, parent, index, input_text, weight, follow_ups)
            return
        pins = dict(parent["pins"], map_run=run.arn, map_block=run.block, map_index=index, map_weight=weight)
        machine_arn = maprun.run_machine_arn(run.arn)
        context = {"Id": child_arn, "Name": name, "RoleArn": parent["role_arn"], "StartTime": timestamps.format(now)}
        step = interpreter.step(parent["definition"], None, events.Start(
            input=orjson.loads(input_text), at=now, execution=context,
            state_machine={"Id": machine_arn, "Name": run.machine},
            seed=uuid.uuid4().int >> 65, type="STANDARD"))
        exec_repo.insert(tx, arn=child_arn, seq=engine._next_seq(), machine=run.machine, name=name, type="STANDARD",
                         revision_id=parent["revision_id"], version_arn=None, alias_arn=None,
                         role_arn=parent["role_arn"], input=input_text, started_at=now,
                         state=engine.dumps(step.state), pins=engine.dumps(pins), trace_header=None,
                         outcome=engine.outcome(step.state))
        exec_repo.set_map_run(tx, arn=child_arn, map_run=run.arn)
        if not maprun_repo.item_started(tx, map_run=run.arn, idx=index, execution=child_arn):
            # Another engine started it (the run's row lock makes this impossible): never twice.
            raise RuntimeError(f"Item {index} of {run.arn} was already started")
        maprun_repo.child_started(tx, arn=run.arn, weight=weight)
        follow_ups.extend(engine.persist(tx, child_arn, step, inserted=True, facts=(parent["role_arn"], pins)))

    def _redrive_child(self, tx: Tx, run: maprun_repo.MapRun, item: maprun_repo.Started,
                       follow_ups: FollowUps) -> None:
        maprun_repo.redrive_started(tx, map_run=run.arn, idx=item.idx, weight=int(item.weight))
        self.engine.apply_event(tx, item.execution, events.Redrive(self.engine.clock()), follow_ups)

    # --- Express children: in memory, as Express executions run; their ends on the item rows -------------

    def _start_express(self, tx: Tx, run: maprun_repo.MapRun, parent: dict[str, Any], index: int, input_text: str,
                       weight: int, follow_ups: FollowUps) -> None:
        name = str(uuid.uuid4())
        child_arn = maprun.child_express_arn(run.arn, name, str(uuid.uuid4()))
        now = self.engine.clock()
        if not maprun_repo.express_started(tx, map_run=run.arn, idx=index, execution=child_arn, started_at=now):
            raise RuntimeError(f"Item {index} of {run.arn} was already started")
        self._lease(tx, run.arn, [index])
        maprun_repo.child_started(tx, arn=run.arn, weight=weight)
        follow_ups.append(functools.partial(self._submit_express, run, parent, index, child_arn, input_text, weight))

    def _lease(self, tx: Tx, map_run_arn: str, indexes: list[int]) -> None:
        """Hold Express children this node runs under its lease, where nodes share the database (a
        node that dies leaves them to be run again elsewhere: `take_over`)."""
        leases = self.engine.leases
        if leases.shared and indexes:
            maprun_repo.express_lease(tx, map_run=map_run_arn, indexes=indexes, owner=leases.node_id,
                                      until=leases.until())

    def _submit_express(self, run: maprun_repo.MapRun, parent: dict[str, Any], index: int, child_arn: str,
                        input_text: str, weight: int) -> None:
        if not self.engine.started:
            return  # started again at start-up (`recover`)
        try:
            self.engine.express_pool.submit(self._run_express, run, parent, index, child_arn, input_text, weight)
        except RuntimeError:
            pass  # shutting down: started again at start-up

    def _run_express(self, run: maprun_repo.MapRun, parent: dict[str, Any], index: int, child_arn: str,
                     input_text: str, weight: int) -> None:
        """Run one Express child to its end in memory, then count it (once: its item row says so)."""
        engine = self.engine
        name = child_arn.split(":")[7]
        pins = dict(parent["pins"])
        context = {"Id": child_arn, "Name": name, "RoleArn": parent["role_arn"]}
        start = events.Start(input=orjson.loads(input_text), at=engine.clock(), execution=context,
                             state_machine={"Id": maprun.run_machine_arn(run.arn), "Name": run.machine},
                             seed=uuid.uuid4().int >> 65, type="EXPRESS")

        def invoke(command: cmd.InvokeTask, now: float) -> events.Event | None:
            return engine.dispatcher.outcome(child_arn, parent["role_arn"], pins, command)

        state = loop.Loop(parent["definition"], invoke,
                          wait_until=functools.partial(express._wait_until, engine.clock)).run(start).state
        status = state["status"]
        if status == interpreter.RUNNING:  # a callback nothing in memory can answer
            cause = "An Express child cannot wait for a callback"
            status, state = "FAILED", {"error": "States.Runtime", "cause": cause}
        output = engine.dumps(state.get("output")) if status == "SUCCEEDED" else None

        def apply(tx: Tx) -> None:
            if maprun_repo.express_ended(tx, map_run=run.arn, idx=index, execution=child_arn, status=status,
                                         output=output, error=state.get("error"), cause=state.get("cause"),
                                         stopped_at=engine.clock()):
                self.child_ended(tx, run.arn, status, weight, work.after)

        work = Work(apply)
        engine.applier.submit(work)

    def recover(self, map_run_arn: str) -> None:
        """At start-up: Express children a crash cut short run again (at least once, as Express
        executions are), then the run is moved on."""
        def apply(tx: Tx) -> None:
            run = self._locked(tx, map_run_arn)
            if run is None:
                return
            if run.status != "RUNNING":
                # It ended early, and a crash lost the stops of its children still running.
                self._stop_children(tx, map_run_arn, work.after)
                return
            if run.execution_type == "EXPRESS":
                # Its unfinished children whose node is gone (or is this one, started again); where
                # nodes share the database, never those a live node still runs.
                leases = self.engine.leases
                now = leases.now() if leases.shared else leases_module.NEVER
                rows = maprun_repo.express_claimable(tx, map_run=map_run_arn, now=now)
                self._lease(tx, map_run_arn, [row.idx for row in rows])
                self._rerun(tx, run, rows, work.after)
            self.advance(tx, map_run_arn, work.after)

        work = Work(apply)
        self.engine.applier.submit(work)

    def take_over(self, map_run_arn: str, rows: Sequence[maprun_repo.ExpressItem | maprun_repo.ExpiredExpressItem]
                  ) -> None:
        """Run again the Express children of a run whose node's lease expired (claimed by the heartbeat)."""
        def apply(tx: Tx) -> None:
            run = self._locked(tx, map_run_arn)
            if run is not None and run.status == "RUNNING":
                self._rerun(tx, run, rows, work.after)
            else:  # it ended meanwhile: nothing to run again, and nothing to keep renewing
                maprun_repo.express_unlease(tx, map_run=map_run_arn, indexes=[row.idx for row in rows])

        work = Work(apply)
        self.engine.applier.submit(work)

    def _rerun(self, tx: Tx, run: maprun_repo.MapRun,
               rows: Sequence[maprun_repo.ExpressItem | maprun_repo.ExpiredExpressItem], follow_ups: FollowUps) -> None:
        if not rows:
            return
        parent = self._parent(tx, run)
        for row in rows:
            log.info("running Express child %s again (item %d of %s)", row.execution, row.idx, run.arn)
            follow_ups.append(functools.partial(self._submit_express, run, parent, row.idx, row.execution,
                                                row.input, int(row.weight)))

    def resume(self, map_run_arn: str) -> None:
        """Move a run on in a transaction of its own."""
        def apply(tx: Tx) -> None:
            self.advance(tx, map_run_arn, work.after)

        work = Work(apply)
        self.engine.applier.submit(work)

    # --- children ending ----------------------------------------------------------------------------

    def child_ended(self, tx: Tx, map_run_arn: str, status: str, weight: int, follow_ups: FollowUps,
                    index: int | None = None) -> None:
        """A child's terminal step, in its transaction: count it (and its `weight` items), then move the
        run on. The status counted is kept on the child's item row: a child counted already (it ended,
        was redriven and ended again while its run did not redrive it) moves from the status counted
        to the new one, so a child is never counted twice."""
        tally = maprun.Tally(0)
        tally.ended(status)
        counts = (tally.succeeded, tally.failed, tally.timed_out, tally.aborted)
        if index is not None:
            prior = maprun_repo.counted_status(tx, map_run=map_run_arn, idx=index)
            maprun_repo.set_counted(tx, map_run=map_run_arn, idx=index, status=status)
            if prior is not None:
                before = maprun.Tally(0)
                before.ended(prior)
                counts = (tally.succeeded - before.succeeded, tally.failed - before.failed,
                          tally.timed_out - before.timed_out, tally.aborted - before.aborted)
        maprun_repo.count_ended(tx, arn=map_run_arn, counts=counts, weight=weight)
        self.advance(tx, map_run_arn, follow_ups)

    def _locked(self, tx: Tx, map_run_arn: str) -> maprun_repo.MapRun | None:
        """The run's row, locked until the transaction ends where engines share the store (PostgreSQL),
        so two engines never move one run on at once (SQLite, a single writer, reads it plainly)."""
        return maprun_repo.get_for_update(tx, arn=map_run_arn)

    def advance(self, tx: Tx, map_run_arn: str, follow_ups: FollowUps) -> None:
        """Start what may start, or end the run when it is over (see the module's docstring)."""
        busy: dict[str, bool] = getattr(self._local, "busy", None) or {}
        self._local.busy = busy
        if map_run_arn in busy:
            busy[map_run_arn] = True  # the loop below looks again
            return
        busy[map_run_arn] = False
        budget = STARTS_PER_TRANSACTION
        try:
            while True:
                busy[map_run_arn] = False
                run = self._locked(tx, map_run_arn)
                if run is None or run.status != "RUNNING":
                    return
                tally = tally_of(run)
                # The thresholds count items (with an ItemBatcher, a child runs several); the children
                # that may start are counted in executions.
                if item_tally_of(run).over(tolerated_of(run)):
                    error, cause = maprun.failure()
                    self._end(tx, run, "FAILED", error, cause, follow_ups)
                    return
                if tally.pending == 0 and tally.running == 0:
                    self._end(tx, run, "SUCCEEDED", None, None, follow_ups)
                    return
                starting = tally.may_start(int(run.max_concurrency))
                if starting and budget <= 0:
                    follow_ups.append(lambda: self.engine._after(self.resume, map_run_arn))
                    return
                starting = min(starting, budget)
                budget -= starting
                # Children waiting to be redriven go first; then items never started, in order.
                waiting = int(run.pending_redrive)
                first = tally.started + waiting  # the items started so far, redriven ones among them
                redriving = maprun_repo.to_redrive(tx, map_run=map_run_arn, limit=starting) if waiting else []
                for row in redriving:
                    self._redrive_child(tx, run, row, follow_ups)
                for offset in range(starting - len(redriving)):
                    self._start_child(tx, run, first + offset, follow_ups)
                if not busy[map_run_arn] and starting == 0:
                    return
        finally:
            busy.pop(map_run_arn, None)

    def _end(self, tx: Tx, run: maprun_repo.MapRun, status: str, error: str | None, cause: str | None,
             follow_ups: FollowUps) -> None:
        engine = self.engine
        maprun_repo.end(tx, arn=run.arn, status=status, error=error, cause=cause, stopped_at=engine.clock())
        with self._lock:
            self._parents.pop(run.arn, None)
        if status != "SUCCEEDED":
            # Children still running are stopped (they count as aborted), in this transaction and, past
            # STOPS_PER_TRANSACTION, the next ones; at start-up, those a crash left running (`recover`).
            self._stop_children(tx, run.arn, follow_ups)
        # A ResultWriter reads the children's results from their rows; the parent is sent none.
        output = self.outputs(tx, run.arn) if status == "SUCCEEDED" and not run.writes_results else None
        if status == "ABORTED":
            return  # the parent asked for it: it is no longer waiting
        event = events.MapRunEnded(run.run_id, status, engine.clock(), output, error, cause)
        engine.apply_event(tx, run.execution, event, follow_ups)

    def _stop_children(self, tx: Tx, map_run_arn: str, follow_ups: FollowUps) -> None:
        running = maprun_repo.running_children(tx, map_run=map_run_arn, limit=STOPS_PER_TRANSACTION + 1)
        now = self.engine.clock()
        for child_arn in running[:STOPS_PER_TRANSACTION]:
            self.engine.apply_event(tx, child_arn, events.StopRequested(now, None, None), follow_ups)
        if len(running) > STOPS_PER_TRANSACTION:
            follow_ups.append(functools.partial(self.engine._after, self.stop_children, map_run_arn))

    def stop_children(self, map_run_arn: str) -> None:
        """Stop a run's children still running, in a transaction of its own (and more if need be)."""
        def apply(tx: Tx) -> None:
            run = self._locked(tx, map_run_arn)
            if run is not None and run.status != "RUNNING":  # not redriven meanwhile: they go on in it
                self._stop_children(tx, map_run_arn, work.after)

        work = Work(apply)
        self.engine.applier.submit(work)

    @staticmethod
    def outputs(tx: Tx, map_run_arn: str) -> list[Any]:
        """The children's outputs in item order (a failed child tolerated: its error output)."""
        out = []
        for row in maprun_repo.outcomes(tx, map_run=map_run_arn):
            if row.status == "SUCCEEDED":
                out.append(orjson.loads(row.output) if row.output is not None else None)
            else:
                out.append(maprun.error_output(row.error, row.cause))
        return out

    def redrive(self, tx: Tx, command: cmd.RedriveMapRun, follow_ups: FollowUps) -> None:
        """The parent was redriven at this run: its unsuccessful children are redriven (the same
        executions, ExecutionRedriven in their histories), then those never started start, up to
        MaxConcurrency at once. Until redriven, a child counts as pending (and pendingRedrive)."""
        now = self.engine.clock()
        if not maprun_repo.redriven(tx, arn=command.map_run_arn, at=now):
            return
        run = self._locked(tx, command.map_run_arn)
        if run is not None and run.execution_type != "EXPRESS":
            # Their failures are no longer counted (maprun_repo.redriven): they wait to be redriven, and
            # `advance` redrives them as it starts children, within MaxConcurrency.
            maprun_repo.await_redrive(tx, map_run=command.map_run_arn)
        if run is not None and run.execution_type == "EXPRESS":
            # Express children are not redriven but run again, as new executions.
            parent = self._parent(tx, run)
            for row in maprun_repo.express_failed(tx, map_run=command.map_run_arn):
                maprun_repo.express_retry(tx, map_run=command.map_run_arn, idx=row.idx)
                name = str(uuid.uuid4())
                child_arn = maprun.child_express_arn(run.arn, name, str(uuid.uuid4()))
                maprun_repo.express_started(tx, map_run=run.arn, idx=row.idx, execution=child_arn, started_at=now,
                                            again=True)
                self._lease(tx, run.arn, [row.idx])
                follow_ups.append(functools.partial(self._submit_express, run, parent, row.idx, child_arn,
                                                    row.input, int(row.weight)))
        self.advance(tx, command.map_run_arn, follow_ups)

    def cancel(self, tx: Tx, parent_arn: str, run_id: str, follow_ups: FollowUps) -> None:
        """The parent no longer waits on its run (stopped, or the Map's frame went): abort it."""
        run = maprun_repo.by_run_id(tx, execution=parent_arn, run_id=run_id)
        if run is not None and run.status == "RUNNING":
            self._end(tx, run, "ABORTED", None, None, follow_ups)

    # --- reading and updating -------------------------------------------------------------------------

    def describe(self, map_run_arn: str) -> maprun_repo.MapRun:
        with self.engine.store.transaction(write=False) as tx:
            run = maprun_repo.get(tx, arn=map_run_arn)
        if run is None:
            raise errors.ResourceNotFound(f"Resource not found: '{map_run_arn}'", resourceName=map_run_arn)
        return run

    def list(self, execution_arn: str, before: int | None,
             limit: int) -> tuple[list[maprun_repo.Summary], int | None]:
        with self.engine.store.transaction(write=False) as tx:
            rows = maprun_repo.page(tx, execution=execution_arn, before=before, limit=limit + 1)
        following = int(rows[limit - 1].seq) if len(rows) > limit else None
        return rows[:limit], following

    def update(self, map_run_arn: str, max_concurrency: int | None, count: int | None,
               percentage: float | None) -> None:
        """UpdateMapRun: new limits; more children start at once when the concurrency grew."""
        self.describe(map_run_arn)

        def apply(tx: Tx) -> None:
            run = self._locked(tx, map_run_arn)
            assert run is not None
            if run.status != "RUNNING":
                raise errors.ValidationException(
                    f"Map Run {map_run_arn} cannot be updated because its status is {run.status}",
                    reason="CANNOT_UPDATE_COMPLETED_MAP_RUN")
            maprun_repo.update(
                tx, arn=map_run_arn,
                max_concurrency=run.max_concurrency if max_concurrency is None else max_concurrency,
                tolerated_count=run.tolerated_count if count is None else count,
                tolerated_percentage=run.tolerated_percentage if percentage is None else percentage)
            self.advance(tx, map_run_arn, work.after)

        work = Work(apply)
        self.engine._wait(self.engine.applier.submit(work))


def _weight(batch: Any) -> int:
    """How many items a batch holds (`{"Items": [...]}`)."""
    items = batch.get("Items") if isinstance(batch, dict) else None
    return len(items) if isinstance(items, list) else 1


def item_tally_of(run: maprun_repo.MapRun) -> maprun.Tally:
    """A run's counts in items (DescribeMapRun's itemCounts)."""
    return maprun.Tally(int(run.item_total), int(run.item_started), int(run.item_succeeded),
                        int(run.item_failed), int(run.item_timed_out), int(run.item_aborted))


def tally_of(run: maprun_repo.MapRun) -> maprun.Tally:
    return maprun.Tally(int(run.total), int(run.started), int(run.succeeded), int(run.failed),
                        int(run.timed_out), int(run.aborted))


def tolerated_of(run: maprun_repo.MapRun) -> dict[str, float] | None:
    tolerated: dict[str, float] = {}
    if run.tolerated_count is not None:
        tolerated["count"] = int(run.tolerated_count)
    if run.tolerated_percentage is not None:
        tolerated["percentage"] = float(run.tolerated_percentage)
    return tolerated or None



def child_not_redrivable(execution_arn: str) -> str:
    """RedriveExecution's refusal of a Map Run's child (its parent redrives it)."""
    return (f"Execution with ARN {execution_arn} cannot be redriven because it is a child workflow execution "
            "of a Map Run; redrive its parent execution instead.")
