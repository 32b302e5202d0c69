"""Standard executions, durably: every event goes through `asl.step` and its effects are written in
one transaction (new state, history events, timers, outbox rows), then carried out.

State transitions are exactly-once: a task result or a timer is *consumed* (its outbox or timer
row deleted) in the transaction that applies it, so a second delivery finds nothing and changes
nothing. Task invocations are at-least-once: outbox rows left by a crash are dispatched again
on restart, with the same task id, so a function can de-duplicate on `context.aws_request_id`.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import fields
from typing import Any

import orjson

from pinflow import arns, errors, jsontext
from pinflow.asl import commands as cmd
from pinflow.asl import events, interpreter, maprun, tokens
from pinflow.asl.definition import Definition
from pinflow.engine import dispatch, lanes, leases, mapruns, pins, watches
from pinflow.engine.applier import Applier, Work
from pinflow.engine.integrations import mock, table
from pinflow.engine.integrations.aws_client import AwsClients
from pinflow.engine.integrations.hosts import HostPolicy
from pinflow.engine.timers import TimerPoller
from pinflow.store import Store, Tx
from pinflow.store.kept import Kept
from pinflow.store.repositories import executions as exec_repo
from pinflow.store.repositories import functions as function_repo
from pinflow.store.repositories import mapruns as maprun_repo
from pinflow.store.repositories import state_machines as machine_repo
from pinflow.store.repositories import work as work_repo

log = logging.getLogger(__name__)

PAYLOAD_LIMIT = 262_144
REDRIVABLE = ("FAILED", "TIMED_OUT", "ABORTED")
REDRIVE_WINDOW_SECONDS = 14 * 24 * 3600  # AWS: an execution can be redriven for 14 days after it stops


def dumps(value: Any) -> str:
    """Compact JSON text; orjson, since encoding state and history is most of a step's cost."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits: the standard library copes
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class _BufferedSystemRandom(random.SystemRandom):
    """The system's source, read 4 KiB at a time: a read per draw gives up the interpreter lock (a
    system call), and a thread starting executions then waits to get it back behind every other
    thread. Thread-safe; draws are as unpredictable as SystemRandom's."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._buffer = b""
        self._at = 0

    def _bytes(self, count: int) -> bytes:
        with self._lock:
            if self._at + count > len(self._buffer):
                self._buffer, self._at = os.urandom(max(4096, count)), 0
            taken = self._buffer[self._at:self._at + count]
            self._at += count
            return taken

    def random(self) -> float:
        return (int.from_bytes(self._bytes(7)) >> 3) * (1.0 / (1 << 53))

    def getrandbits(self, k: int) -> int:
        if k < 0:
            raise ValueError("number of bits must be non-negative")
        count = (k + 7) // 8
        return int.from_bytes(self._bytes(count)) >> (count * 8 - k)


_SYSTEM_RANDOM = _BufferedSystemRandom()
_KEPT_DEFINITION = 65_536  # the longest definition a start keeps between starts (`_resolve_start`)
_INVOKE_FIELDS = tuple(f.name for f in fields(cmd.InvokeTask))


def _command_fields(command: cmd.InvokeTask) -> dict[str, Any]:
    # dataclasses.asdict deep-copies the payload; a shallow dict is all the outbox needs.
    return {name: getattr(command, name) for name in _INVOKE_FIELDS}


class Engine:
    """Runs Standard and Express executions against a store.

    Args:
        store: where executions live.
        registry: an object with `functions`, `machines` and `roles` registries.
        invoker: runs function code (`pinflow.functions.invoker.Invoker`).
        clock: seconds since the epoch; tests pass a fake clock.
        workers: threads that carry out task invocations.
        http_hosts: the hosts HTTP Tasks may reach (default: public addresses only).
        aws: the botocore clients AWS service integrations call through (default: botocore's chain).
        mocks: Step Functions Local's mock configuration, for executions started with a test case.
        node_id: this process's name among the nodes sharing the database (default: one of its own);
            a node started again under the same id takes over its earlier process's work at once.
        lease_seconds: how long a node's hold on a unit of work lasts without renewal: the bound on how
            soon other nodes take over a dead node's work (`leases`).
    """

    dumps = staticmethod(dumps)

    def __init__(self, store: Store, registry: Any, invoker: Any, *, clock: Callable[[], float] = time.time,
                 workers: int = 16, timer_interval: float = 0.02, http_hosts: HostPolicy | None = None,
                 aws: AwsClients | None = None, mocks: mock.MockConfig | None = None, node_id: str | None = None,
                 lease_seconds: float = leases.DEFAULT_SECONDS) -> None:
        self.store = store
        self.registry = registry
        self.invoker = invoker
        self.clock = clock
        self.http_hosts = http_hosts or HostPolicy()
        self.aws = aws or AwsClients()
        self.mocks = mocks
        self.applier = Applier(store)
        self.dispatcher = dispatch.Dispatcher(self, registry)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pinflow-task")
        # Task calls run in a lane per integration, each with `workers` threads at most, so HTTP Tasks
        # waiting on a slow API never hold the threads Lambda invocations need; the looks at watched
        # `.sync` jobs have lanes of their own, off the timer thread (`watches`).
        self.lanes = lanes.Lanes(workers, "pinflow-task")
        self.watch_lanes = lanes.Lanes(watches.LANE_THREADS, "pinflow-watch")
        self.watching = watches.InFlight()
        # Asynchronous Express executions wait (Wait states) on threads of their own, never on the
        # task workers that Standard executions need.
        self.express_pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pinflow-express")
        self.timers = TimerPoller(self, interval=timer_interval)
        self.leases = leases.Leases(self, node_id=node_id, seconds=lease_seconds)
        if self.leases.shared and hasattr(invoker, "admission"):
            invoker.admission = self.leases  # reserved concurrency counted over every node
        self.mapruns = mapruns.MapRuns(self)
        self._definitions: OrderedDict[str, Definition] = OrderedDict()
        self._child_definitions: OrderedDict[tuple[str, str], Definition] = OrderedDict()
        self._definitions_lock = threading.Lock()
        self._activity_ready = threading.Condition()
        self._seq_lock = threading.Lock()
        self._last_seq = 0
        # What a start read from the registry, by state machine ARN: (target, pins, whether to keep it).
        self._starts: Kept[tuple[Any, dict[str, Any] | None, bool]] = Kept(store, 256)
        # A machine's status (ACTIVE or DELETING) as an ending execution reads it.
        self._machine_status: Kept[str | None] = Kept(store)
        self.started = False

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer, the timers and the task workers; carry out the invocations this node may
        take at start (a crash's leftovers, expired or released leases: `leases`)."""
        if self.started:
            return
        # Claimed before anything new can be written, so nothing is sent twice.
        pending = self.leases.start()
        with self.store.transaction(write=False) as tx:
            runs = maprun_repo.running(tx)
        self.started = True
        self.applier.start()
        self.timers.start()
        # The heartbeat only now: what it takes over is carried out, never dropped by a node not started.
        self.leases.run()
        for execution_arn, command, fence in pending:
            self.dispatch(execution_arn, command, fence=fence)
        # Watched tasks whose end came (or whose stop was asked for) while no node looked.
        self.pool.submit(watches.check_due, self, everything=True)
        # Map Runs a crash left between a commit and the follow-up that would have moved them on.
        for arn in runs:
            self.mapruns.recover(arn)

    def stop(self) -> None:
        """A graceful stop: take no new work, let the running invocations finish and their results be
        applied, then let go of this node's leases (other nodes take what is left at once)."""
        if not self.started:
            return
        self.leases.stop_claiming()
        self.timers.stop()
        # The invocations in progress finish and their results are applied before the writer stops.
        self.lanes.shutdown(wait=True, cancel_futures=True)
        self.watch_lanes.shutdown(wait=False, cancel_futures=True)
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.applier.stop()
        self.leases.stop()
        self.express_pool.shutdown(wait=False, cancel_futures=True)
        self.started = False

    # --- definitions ------------------------------------------------------------------------------

    def parsed(self, revision_id: str, text: str) -> Definition:
        """The parsed definition of a revision whose text is at hand (revisions never change)."""
        with self._definitions_lock:
            found = self._definitions.get(revision_id)
        if found is None:
            found = Definition(json.loads(text))
            with self._definitions_lock:
                self._definitions[revision_id] = found
                while len(self._definitions) > 512:
                    self._definitions.popitem(last=False)
        return found

    def definition(self, tx: Tx, revision_id: str) -> Definition:
        with self._definitions_lock:
            found = self._definitions.get(revision_id)
            if found is not None:
                self._definitions.move_to_end(revision_id)
                return found
        row = machine_repo.revision(tx, revision_id=revision_id)
        if row is None:
            raise errors.StateMachineDoesNotExist(f"Revision does not exist: {revision_id}")
        parsed = Definition(json.loads(row.definition))
        with self._definitions_lock:
            self._definitions[revision_id] = parsed
            while len(self._definitions) > 512:
                self._definitions.popitem(last=False)
        return parsed

    def child_definition(self, revision_id: str, definition: Definition, block: str) -> Definition:
        """The definition a Map Run's children run: the processor `block` of a revision's definition."""
        key = (revision_id, block)
        with self._definitions_lock:
            found = self._child_definitions.get(key)
        if found is None:
            found = Definition(maprun.child_definition(definition, block))
            with self._definitions_lock:
                self._child_definitions[key] = found
                while len(self._child_definitions) > 512:
                    self._child_definitions.popitem(last=False)
        return found

    def row_definition(self, tx: Tx, row: exec_repo.Stepping, pinned: dict[str, Any]) -> Definition:
        """The definition an execution row runs (a Map Run's child runs its Map's processor)."""
        definition = self.definition(tx, row.revision_id)
        block = pinned.get("map_block")
        return definition if block is None else self.child_definition(row.revision_id, definition, block)

    def _next_seq(self) -> int:
        with self._seq_lock:
            seq = max(int(time.time() * 1_000_000), self._last_seq + 1)
            self._last_seq = seq
            return seq

    # --- starting ---------------------------------------------------------------------------------

    def start_execution(self, state_machine_arn: str, name: str | None = None, input: str | None = None,
                        trace_header: str | None = None, *, parent: tuple[str, str] | None = None,
                        test_case: str | None = None) -> dict[str, Any]:
        """StartExecution: start (or, for a Standard machine, idempotently find) an execution.

        Args:
            parent: (execution ARN, task id) of the task that starts this one as its child.
            test_case: a test case of the mock configuration, whose mocked states answer in place of
                their integrations (`integrations.mock`).

        Returns:
            {"executionArn", "startDate"}, once the execution is durably recorded.
        """
        return self._wait(self.start_execution_async(state_machine_arn, name, input, trace_header, parent=parent,
                                                     test_case=test_case))

    def start_execution_async(self, state_machine_arn: str, name: str | None = None, input: str | None = None,
                              trace_header: str | None = None, *, parent: tuple[str, str] | None = None,
                              test_case: str | None = None) -> Future[dict[str, Any]]:
        """StartExecution without waiting: the future resolves once the start is committed.

        Many starts in flight at once share commits (group commit); API errors found before the
        write (a bad name, input or ARN) are raised here, the others set on the future. A child
        execution (`parent`) remembers its parent's task, so its end reaches the parent at once.
        """
        name = name or str(uuid.uuid4())
        if not arns.valid_name(name):
            raise errors.InvalidName(f"Invalid Name: '{name}'")
        input_text = "{}" if input is None else input
        input_value = parse_input(input_text, errors.InvalidExecutionInput)
        if arns.split_state_machine(state_machine_arn) is None:
            raise errors.InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {state_machine_arn}'")
        # Draws (an alias's weighted route, the execution's seed) straight from the system's source:
        # seeding a `random.Random()` of its own for each start cost more than the rest of the start's
        # arithmetic.
        rng = _SYSTEM_RANDOM
        generation = self.store.generation  # before the registry is read: see apply() below
        target, pinned = self._resolve_start(state_machine_arn, rng)
        mocked = self.test_case(target.machine["name"], test_case)
        if pinned is None:
            from pinflow.engine import express

            done: Future[dict[str, Any]] = Future()
            done.set_result(express.start_async(self, target, name, input_value, trace_header, mocked))
            return done
        if mocked is not None:
            pinned["mock"] = mocked
        if parent is not None:
            pinned["parent"] = {"execution": parent[0], "task": parent[1]}
        refs = set(pinned["refs"])
        if target.version_arn:
            refs.add(target.version_arn)
        machine_name = target.machine["name"]
        execution_arn = arns.execution(machine_name, name)
        now = self.clock()
        # The first step is pure: compute it (and its JSON) here, on the caller's thread, so the
        # single writer only checks the name and writes rows.
        context = {"Id": execution_arn, "Name": name, "RoleArn": target.role_arn, "StartTime": _iso(now)}
        if target.version_arn:
            context["StateMachineVersionArn"] = target.version_arn
        if target.alias_arn:
            context["StateMachineAliasArn"] = target.alias_arn
        step = interpreter.step(self.parsed(target.revision_id, target.definition), None, events.Start(
            input=input_value, at=now, execution=context,
            state_machine={"Id": target.machine["arn"], "Name": machine_name},
            seed=rng.getrandbits(63), type="STANDARD"))
        seq, state_text, pins_text = self._next_seq(), dumps(step.state), dumps(pinned)
        history_rows = self.history_rows(execution_arn, step)
        # The rows hold the history now: the events need not stay in memory while the write waits.
        step.history = []
        ref_rows = sorted(refs)

        def apply(tx: Tx) -> dict[str, Any]:
            # A write holds the store's write lock where one process works on it, and a registry change
            # moves the generation on before it lets go of that lock: with no change since the versions
            # were checked (`_resolve_start`, under the generation read before it), they are still there.
            if self.store.dialect.shared or self.store.generation != generation:
                self._check_refs(tx, refs)
            existing = exec_repo.by_name(tx, machine=machine_name, name=name)
            if existing is not None:
                # AWS: a running Standard execution with the same name and input is returned as is.
                if existing.status == "RUNNING" and existing.input == input_text:
                    return {"executionArn": existing.arn, "startDate": existing.started_at}
                raise errors.ExecutionAlreadyExists(f"Execution Already Exists: '{existing.arn}'")
            outcome = self.outcome(step.state)
            exec_repo.insert(tx, arn=execution_arn, seq=seq, machine=machine_name, name=name, type="STANDARD",
                             revision_id=target.revision_id, version_arn=target.version_arn,
                             alias_arn=target.alias_arn, role_arn=target.role_arn, input=input_text, started_at=now,
                             state=state_text, pins=pins_text, trace_header=trace_header, outcome=outcome)
            if outcome.status != "SUCCEEDED":  # one that succeeded at once would let go of them at once
                exec_repo.hold(tx, execution=execution_arn, refs=ref_rows)
            work.after.extend(self.persist(tx, execution_arn, step, inserted=True,
                                           facts=(target.role_arn, pinned), history=history_rows))
            return {"executionArn": execution_arn, "startDate": now}

        work = Work(apply)
        return self.applier.submit(work, new=True)

    def _resolve_start(self, state_machine_arn: str, rng: random.Random) -> tuple[Any, dict[str, Any] | None]:
        """What a start of `state_machine_arn` runs (`resolve_start`) and, for a Standard machine, the
        pins it starts with (None for an Express one). Kept while the registry is unchanged
        (`pinflow.store.kept`) unless a draw went into them (an alias's weighted route)."""

        def read() -> tuple[Any, dict[str, Any] | None, bool]:
            target = self.registry.machines.resolve_start(state_machine_arn, rng=rng)
            # Kept with their definition's text: not a large one (the registry keeps revisions of up
            # to 64 KiB in memory, and so do these).
            keep = target.alias_arn is None and len(target.definition) <= _KEPT_DEFINITION
            if target.machine["type"] == "EXPRESS":
                return target, None, keep
            definition = self.parsed(target.revision_id, target.definition)
            pinned = self.pin(definition, target.role_arn, rng)
            # The versions the definition names exist (nothing above read them): pins kept under this
            # generation were checked under it (see the start's apply).
            refs = set(pinned["refs"]) | ({target.version_arn} if target.version_arn else set())
            with self.store.transaction(write=False) as tx:
                self._check_refs(tx, refs)
            return target, pinned, keep and not pins.draws(definition)

        target, pinned, _ = self._starts.get_or(state_machine_arn, read, keep=lambda found: found[2])
        return target, None if pinned is None else pins.copied(pinned)

    def test_case(self, machine: str, case: str | None) -> dict[str, str] | None:
        """What an execution of `machine` started with test case `case` keeps of it (None for none).

        Raises:
            ValidationException: the server has no mock configuration, or it has no such test case."""
        if case is None:
            return None
        if self.mocks is None or self.mocks.test_case(machine, case) is None:
            where = f"the mock configuration {self.mocks.path}" if self.mocks else "a mock configuration (none given)"
            raise errors.ValidationException(
                f"The test case '{case}' of the state machine '{machine}' is not in {where}")
        return mock.pinned(machine, case)

    def pin(self, definition: Definition, role_arn: str, rng: random.Random) -> dict[str, Any]:
        """Resolve what an execution holds on to: alias targets, version references, its role's policies."""
        return pins.pin(definition, self.registry, role_arn, rng)

    @staticmethod
    def _check_refs(tx: Tx, refs: set[str]) -> None:
        """The versions resolved before the write still exist (a deploy may have deleted one in the
        moment between): checked in the transaction that records that the execution holds them."""
        for ref in refs:
            function = arns.split_function(ref)
            if function is not None and function.qualifier and function.qualifier.isdigit():
                if not function_repo.version_exists(tx, name=function.name, version=int(function.qualifier)):
                    raise errors.ResourceNotFound(f"Resource not found: the function version {ref} was deleted "
                                                  "while the execution was starting; start it again")
                continue
            machine = arns.split_state_machine(ref)
            if machine is not None and machine.version is not None:
                if not machine_repo.version_exists(tx, machine=machine.name, version=machine.version):
                    raise errors.StateMachineDoesNotExist(f"State Machine Does Not Exist: '{ref}'")

    # --- applying events ----------------------------------------------------------------------------

    def submit_event(self, execution_arn: str, event: events.Event, consume: tuple[Any, ...] | None = None,
                     on_done: Callable[[], None] | None = None,
                     before: Callable[[Tx], bool] | None = None) -> Future[Any]:
        """Queue an event for an execution. `consume` names the outbox, watch or timer row it answers;
        `before` runs first in the same transaction, and the event is dropped when it answers False."""

        def apply(tx: Tx) -> bool:
            if consume is not None:
                if consume[0] == "outbox":
                    if len(consume) > 2:  # an invocation's result: only under the lease it ran with
                        if not work_repo.consume_invocation(tx, execution=execution_arn, task_id=consume[1],
                                                            lease_token=consume[2]):
                            return False  # already answered, or another node holds the task now
                    elif not work_repo.consume_invocation(tx, execution=execution_arn, task_id=consume[1]):
                        return False  # already answered
                elif consume[0] == "watch":
                    if not work_repo.delete_watch(tx, execution=execution_arn, task_id=consume[1]):
                        return False  # already delivered, or the task was stopped
                    work_repo.consume_invocation(tx, execution=execution_arn, task_id=consume[1])
                elif consume[0] == "timer":
                    if not work_repo.consume_timer(tx, execution=execution_arn, timer_id=consume[1],
                                                   due_at=consume[2]):
                        return False  # cancelled or re-armed meanwhile
            if before is not None and not before(tx):
                return False
            return self.apply_event(tx, execution_arn, event, work.after)

        work = Work(apply)
        if on_done is not None:
            work.after.append(on_done)
        return self.applier.submit(work)

    def apply_event(self, tx: Tx, execution_arn: str, event: events.Event, after: list[Callable[[], None]]) -> bool:
        """Apply an event to an execution in the transaction `tx`; what to do once it is committed goes
        to `after`. False when the execution is gone or no longer running (nothing changes)."""
        row = exec_repo.get_for_update(tx, arn=execution_arn)
        if row is None:
            return False
        if isinstance(event, events.Redrive):
            if row.status not in REDRIVABLE:  # a concurrent redrive got there first
                raise errors.ExecutionNotRedrivable(
                    f"Execution with ARN {execution_arn} cannot be redriven because its status is "
                    f"{row.status}.")
        elif row.status != "RUNNING":
            return False
        pinned = orjson.loads(row.pins)
        definition = self.row_definition(tx, row, pinned)
        step = interpreter.step(definition, orjson.loads(row.state), event)
        if isinstance(event, events.Redrive):
            exec_repo.redriven(tx, arn=execution_arn, at=event.at)
            refs = set(pinned.get("refs") or ())
            if row.version_arn:
                refs.add(row.version_arn)
            exec_repo.hold(tx, execution=execution_arn, refs=sorted(refs))
        after.extend(self.persist(tx, execution_arn, step, facts=(row.role_arn, pinned)))
        return True

    def outcome(self, state: dict[str, Any]) -> exec_repo.Outcome:
        """What a step's `state` leaves on its execution's row besides the state itself."""
        status = state["status"]
        if status not in interpreter.TERMINAL:
            return exec_repo.Outcome(status)
        return exec_repo.Outcome(status, dumps(state.get("output")) if status == "SUCCEEDED" else None,
                                 state.get("error"), state.get("cause"), self.clock())

    def history_rows(self, execution_arn: str, step: interpreter.Step) -> list[tuple[int, str]]:
        """A step's history events, as the store keeps them: (id, JSON text)."""
        return [(e["id"], dumps(e)) for e in step.history]

    def persist(self, tx: Tx, execution_arn: str, step: interpreter.Step, *, inserted: bool = False,
                facts: tuple[str, dict[str, Any]] | None = None,
                history: list[tuple[int, str]] | None = None) -> list[Callable[[], None]]:
        """Write one step; return what to do once it is committed.

        `inserted`: the execution row was just written with this step's state and `outcome`
        (StartExecution, a Map Run's child), so it is not written again.
        """
        state = step.state
        status = state["status"]
        terminal = status in interpreter.TERMINAL
        if not inserted:
            exec_repo.save(tx, arn=execution_arn, state=dumps(state), outcome=self.outcome(state))
        exec_repo.add_history(tx, execution=execution_arn,
                              events=history if history is not None else self.history_rows(execution_arn, step))
        writer = _StepWriter(self, tx, execution_arn, facts)
        # The commands are written down (outbox and timer rows), by the same rule every driver follows.
        cmd.carry_out(step.commands, writer)
        follow_ups = writer.follow_ups
        if terminal:
            # The interpreter cancels every timer and task when an execution ends (the commands
            # above removed their rows). A succeeded execution lets go of what it held; a failed,
            # timed-out or aborted one keeps it while it can be redriven (see release_expired_refs).
            if status == "SUCCEEDED" and not inserted:  # a new execution holds nothing it let go of
                exec_repo.release(tx, execution=execution_arn)
            pinned = facts[1] if facts is not None else {}
            parent = pinned.get("parent")
            map_run = pinned.get("map_run")
            if map_run:
                # A Map Run's child: counted, and the run moved on, in this transaction.
                self.mapruns.child_ended(tx, map_run, status, int(pinned.get("map_weight") or 1), follow_ups,
                                         pinned.get("map_index"))
            if parent:
                # A child execution: its parent's task (if it watches this one) learns of the end now.
                follow_ups.append(functools.partial(self._after, watches.check, self, parent["execution"],
                                                    parent["task"]))
            split = arns.split_execution(execution_arn)
            if split is not None and self._machine_status.get_or(
                    split[0], functools.partial(machine_repo.status, tx, name=split[0])) == "DELETING":
                # DeleteStateMachine waited for running executions; the last one to end removes it.
                follow_ups.append(lambda: self.registry.machines.forget_if_deleting(split[0]))
        return follow_ups

    def dispatch(self, execution_arn: str, command: cmd.InvokeTask,
                 facts: tuple[str, dict[str, Any]] | None = None, *, fence: int = 1) -> None:
        """Carry out a task invocation on a worker thread; its outcome comes back as an event.

        `facts` (the execution's role ARN and pins) saves the worker a read when the caller has them;
        `fence` is the lease token this node claimed the invocation's outbox row with.
        """
        if not self.started:
            return
        self.leases.working(execution_arn, command.task_id)
        integration = table.for_resource(command.resource)
        try:
            self.lanes.submit(integration.name if integration is not None else "unknown", self.dispatcher.run,
                              execution_arn, command, facts, fence)
        except RuntimeError:
            # Shutting down: the outbox row stays, and is let go for another node (or the restart).
            self.leases.done(execution_arn, command.task_id)

    def _after(self, action: Callable[..., Any], *args: Any) -> None:
        """Run `action` on a worker thread once a step is committed (never on the single writer)."""
        if not self.started:
            return
        try:
            self.pool.submit(action, *args)
        except RuntimeError:
            pass  # shutting down: the watch rows are looked at again after the restart

    def _notify_activity(self) -> None:
        with self._activity_ready:
            self._activity_ready.notify_all()

    @staticmethod
    def _wait(future: Future[Any]) -> Any:
        return future.result(timeout=120)

    # --- execution control -----------------------------------------------------------------------

    def stop_execution(self, execution_arn: str, error: str | None = None, cause: str | None = None) -> dict[str, Any]:
        row = self._execution_row(execution_arn)
        if row.status == "RUNNING":
            self._wait(self.submit_event(execution_arn, events.StopRequested(self.clock(), error, cause)))
            row = self._execution_row(execution_arn)
        return {"stopDate": row.stopped_at or self.clock()}

    def redrive_execution(self, execution_arn: str) -> dict[str, Any]:
        row = self._execution_row(execution_arn)
        if row.status not in REDRIVABLE:
            raise errors.ExecutionNotRedrivable(
                f"Execution with ARN {execution_arn} cannot be redriven because its status is {row.status}.")
        if row.map_run:
            # AWS: a Map Run's children are redriven by redriving their parent.
            raise errors.ExecutionNotRedrivable(mapruns.child_not_redrivable(execution_arn))
        if row.stopped_at is not None and row.stopped_at < self.clock() - REDRIVE_WINDOW_SECONDS:
            raise errors.ExecutionNotRedrivable(
                f"Execution with ARN {execution_arn} cannot be redriven because it stopped more than 14 days ago.")
        self._wait(self.submit_event(execution_arn, events.Redrive(self.clock())))
        row = self._execution_row(execution_arn)
        return {"redriveDate": row.redrive_date}

    def _execution_row(self, execution_arn: str) -> exec_repo.Execution:
        return self._read_execution(execution_arn, exec_repo.get)

    def _read_execution(self, execution_arn: str, read: Callable[..., Any]) -> Any:
        """`read(tx, arn=...)` of an execution; InvalidArn or ExecutionDoesNotExist as the API words them."""
        if arns.split_execution(execution_arn) is None:
            raise errors.InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {execution_arn}'")
        with self.store.transaction(write=False) as tx:
            row = read(tx, arn=execution_arn)
        if row is None:
            raise errors.ExecutionDoesNotExist(f"Execution Does Not Exist: '{execution_arn}'")
        return row

    # --- callbacks: task tokens and activities ---------------------------------------------------------

    def _token_row(self, token: str) -> work_repo.Task:
        """The outbox row of the task a token answers.

        Raises:
            InvalidToken: the text is not a token this service issued.
            TaskTimedOut: the token's task has closed (answered, timed out, or its execution ended);
                AWS: "The task token has either expired or the task associated with the token has
                already been closed."
        """
        if not isinstance(token, str) or not 1 <= len(token) <= 2048:
            raise errors.InvalidToken("Invalid Token: 'Invalid token'")  # AWS's wording, as recorded
        with self.store.transaction(write=False) as tx:
            row = work_repo.by_token(tx, token=token)
            named = tokens.read(token) if row is None else None
            known = named is not None and exec_repo.get(tx, arn=named[0]) is not None
        if row is not None:
            return row
        if not known:
            raise errors.InvalidToken("Invalid Token: 'Invalid token'")  # AWS's wording, as recorded
        raise errors.TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")

    def send_task_success(self, token: str, output: str) -> None:
        row = self._token_row(token)
        value = parse_input(output, errors.InvalidOutput)
        self._wait(self.submit_event(row.execution, events.TaskSucceeded(row.task_id, value, self.clock()),
                                     consume=("outbox", row.task_id)))

    def send_task_failure(self, token: str, error: str | None = None, cause: str | None = None) -> None:
        row = self._token_row(token)
        self._wait(self.submit_event(row.execution, events.TaskFailed(row.task_id, error or "", cause,
                                                                      self.clock()),
                                     consume=("outbox", row.task_id)))

    def send_task_heartbeat(self, token: str) -> None:
        row = self._token_row(token)
        command = json.loads(row.command)
        seconds = command.get("heartbeat_seconds")
        if seconds:
            with self.store.transaction() as tx:
                work_repo.rearm_timer(tx, execution=row.execution, timer_id=f"{row.task_id}/heartbeat",
                                      due_at=self.clock() + seconds)

    def get_activity_task(self, activity_arn: str, worker_name: str | None = None,
                          wait_seconds: float = 60.0) -> dict[str, Any]:
        """GetActivityTask: long-poll for a task of the activity; {} when none came in time."""
        deadline = time.monotonic() + wait_seconds
        while True:
            with self.store.transaction() as tx:
                row = work_repo.next_activity_task(tx, activity=activity_arn)
                # Another poller (another engine, on PostgreSQL) may have claimed it meanwhile.
                if row is not None and not work_repo.take_activity_task(
                        tx, execution=row.execution, task_id=row.task_id, owner=self.leases.node_id,
                        at=self.clock()):
                    row = None
                    continue
            if row is not None:
                command = json.loads(row.command)
                self.submit_event(row.execution, events.TaskStarted(row.task_id, self.clock(), worker_name))
                return {"taskToken": row.token, "input": dumps(command["payload"])}
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return {}
            with self._activity_ready:
                self._activity_ready.wait(timeout=min(remaining, 1.0))

    # --- reading -----------------------------------------------------------------------------------

    def wait_for(self, execution_arn: str, timeout: float = 30.0, poll: float = 0.01) -> dict[str, Any]:
        """Block until an execution leaves RUNNING (for tests and the demo); returns its row."""
        deadline = time.monotonic() + timeout
        while True:
            row = self._execution_row(execution_arn)
            if row.status != "RUNNING" or time.monotonic() > deadline:
                return exec_repo.as_dict(row)
            time.sleep(poll)

    def list_executions(self, machine: str, *, status: str | None = None, version_arn: str | None = None,
                        alias_arn: str | None = None, redriven: bool | None = None, before: int | None = None,
                        limit: int = 100) -> tuple[list[dict[str, Any]], int | None]:
        """A page of a machine's executions, newest first, and the position to continue from (None
        when this is the last page). `before` is a position from an earlier page."""
        with self.store.transaction(write=False) as tx:
            rows = exec_repo.page(tx, machine=machine, status=status, version_arn=version_arn, alias_arn=alias_arn,
                                  redriven=redriven, before=before, limit=limit + 1)
            following = exec_repo.position(tx, arn=rows[limit - 1].arn) if len(rows) > limit else None
        return [exec_repo.as_dict(row) for row in rows[:limit]], following

    def list_map_run_executions(self, map_run_arn: str, *, status: str | None = None, redriven: bool | None = None,
                                before: int | None = None, limit: int = 100) -> tuple[list[dict[str, Any]], int | None]:
        """A page of a Map Run's child executions, newest first (see list_executions)."""
        self.mapruns.describe(map_run_arn)
        with self.store.transaction(write=False) as tx:
            rows = exec_repo.page_of_map_run(tx, map_run=map_run_arn, status=status, redriven=redriven,
                                             before=before, limit=limit + 1)
            following = exec_repo.position(tx, arn=rows[limit - 1].arn) if len(rows) > limit else None
        return [exec_repo.as_dict(row) for row in rows[:limit]], following

    def release_expired_refs(self) -> None:
        """Let go of what failed executions held once they can no longer be redriven (14 days)."""
        with self.store.transaction() as tx:
            exec_repo.release_expired(tx, stopped_before=self.clock() - REDRIVE_WINDOW_SECONDS)

    def running_executions(self, machine: str) -> list[str]:
        """ARNs of a machine's RUNNING executions."""
        with self.store.transaction(write=False) as tx:
            return exec_repo.running(tx, machine=machine)

    def running_counts(self) -> dict[str, int]:
        """How many executions of each machine are RUNNING, in one read: machine name -> count."""
        with self.store.transaction(write=False) as tx:
            return exec_repo.running_by_machine(tx)

    def running_by_version(self, machine: str) -> dict[str | None, int]:
        """How many of a machine's executions are RUNNING, by the version ARN they started on (None: not
        started through a version), in one read."""
        with self.store.transaction(write=False) as tx:
            return exec_repo.running_by_version(tx, machine=machine)

    def execution_row(self, execution_arn: str) -> dict[str, Any]:
        """An execution's row, as a dict of its columns (what the API's shapes read)."""
        return exec_repo.as_dict(self._execution_row(execution_arn))

    def described_row(self, execution_arn: str) -> dict[str, Any]:
        """`execution_row` without the interpreter's state and the pins: what DescribeExecution and a
        watching parent read (the state of a long execution is its largest column)."""
        return exec_repo.as_dict(self._read_execution(execution_arn, exec_repo.describe))

    def history(self, execution_arn: str, *, reverse: bool = False, after: int | None = None,
                limit: int = 100) -> list[dict[str, Any]]:
        """History events after (or, reversed, before) event id `after`."""
        self._execution_row(execution_arn)
        with self.store.transaction(write=False) as tx:
            if reverse:
                rows = exec_repo.history_before(tx, execution=execution_arn, before=after, limit=limit)
            else:
                rows = exec_repo.history_after(tx, execution=execution_arn, after=after or 0, limit=limit)
        return [json.loads(r.event) for r in rows]

    def history_text(self, execution_arn: str, *, after: int = 0, limit: int = 100) -> list[str]:
        """History events after event id `after`, oldest first, as stored (JSON text): for a reader
        that decodes many at once its own way (the console's digest of a long history)."""
        self._execution_row(execution_arn)
        with self.store.transaction(write=False) as tx:
            return [r.event for r in exec_repo.history_after(tx, execution=execution_arn, after=after, limit=limit)]


class _StepWriter:
    """Carries a step's commands out by writing them in its transaction (a `commands.Carrier`):
    timer rows, outbox rows for invocations; `follow_ups` is what to do once the step is committed."""

    def __init__(self, engine: Engine, tx: Tx, execution_arn: str,
                 facts: tuple[str, dict[str, Any]] | None) -> None:
        self.engine = engine
        self.tx = tx
        self.execution_arn = execution_arn
        self.facts = facts
        self.now = engine.clock()
        self.lease_until = engine.leases.until()
        self.follow_ups: list[Callable[[], None]] = []

    def invoke(self, command: cmd.InvokeTask) -> None:
        integration = table.for_resource(command.resource)
        activity = command.resource if integration is not None and integration.pulled else None
        # This node holds the invocation from the moment it is written (lease token 1); an activity
        # task is for whichever worker asks, through any node.
        owner, until = (None, None) if activity is not None else (self.engine.leases.node_id, self.lease_until)
        work_repo.add_invocation(self.tx, execution=self.execution_arn, task_id=command.task_id,
                                 command=dumps(_command_fields(command)), token=command.task_token, activity=activity,
                                 created_at=self.now, lease_owner=owner, lease_until=until)
        if activity is not None:
            self.tx.notify(leases.CHANNEL, f"activity:{activity}")
            self.follow_ups.append(self.engine._notify_activity)
        else:
            self.follow_ups.append(functools.partial(self.engine.dispatch, self.execution_arn, command, self.facts))

    def start_timer(self, command: cmd.StartTimer) -> None:
        work_repo.set_timer(self.tx, execution=self.execution_arn, timer_id=command.timer_id, due_at=command.due_at)
        # Once committed: a poller that looked before the commit would sleep past it.
        self.follow_ups.append(functools.partial(self.engine.timers.poke, command.due_at))

    def cancel_timer(self, command: cmd.CancelTimer) -> None:
        work_repo.delete_timer(self.tx, execution=self.execution_arn, timer_id=command.timer_id)

    def start_map_run(self, command: cmd.StartMapRun) -> None:
        self.engine.mapruns.start(self.tx, self.execution_arn, command, self.follow_ups)

    def redrive_map_run(self, command: cmd.RedriveMapRun) -> None:
        self.engine.mapruns.redrive(self.tx, command, self.follow_ups)

    def cancel_task(self, command: cmd.CancelTask) -> None:
        if maprun.is_run_id(command.task_id):  # the Map Run is aborted
            self.engine.mapruns.cancel(self.tx, self.execution_arn, command.task_id, self.follow_ups)
            return
        work_repo.consume_invocation(self.tx, execution=self.execution_arn, task_id=command.task_id)
        # A watched task: what it started is stopped once this step is committed (or after a restart).
        if work_repo.cancel_watch(self.tx, execution=self.execution_arn, task_id=command.task_id, check_at=self.now):

            self.follow_ups.append(functools.partial(self.engine._after, watches.check, self.engine,
                                                     self.execution_arn, command.task_id))


def parse_input(text: Any, error: type[errors.ServiceError]) -> Any:
    """Parse a JSON input or output; AWS's error type when it is not JSON or too large."""
    if not isinstance(text, str):
        raise error("Invalid JSON: the value must be a string")
    if len(text.encode()) > PAYLOAD_LIMIT:
        raise error(f"The input size exceeds the maximum number of bytes service limit ({PAYLOAD_LIMIT})")
    try:
        return jsontext.parse(text)
    except ValueError as exc:  # not JSON, nested too deeply, or a lone surrogate that could not be stored
        raise error(f"Invalid JSON: {exc}") from None


def _iso(seconds: float) -> str:
    from pinflow.asl import timestamps

    return timestamps.format(seconds)
