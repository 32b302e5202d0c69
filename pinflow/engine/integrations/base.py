"""What every Task integration says about itself, and what the engine hands it for one call.

An integration is an object with:
- `name`, and `serves(resource)`: the Task resources it carries out; `patterns`: the integration
  patterns it supports (validation refuses the others in AWS's words, from the same table);
- `needs(call)`: the IAM permissions one call needs (action, resource ARN, condition keys), which the
  engine checks with the execution's role (and its start-time snapshot for what is pinned);
- `start(call)`: carries the call out and says how its outcome comes back: `Done` (now), `AwaitToken`
  (later, through SendTaskSuccess/Failure with the task's token), or `Watch` (the call started
  something that runs on its own; the engine keeps a durable watch row and asks `poll` until it ends,
  and `cancel` stops it when the task is stopped or times out);
- `references(path, state)` and `computed(path, state)`: what a Task names statically, and what it
  names only at run time, so pinning, the deploy plan, `gc`, deploy's rewriting and generated roles ask
  the integration instead of matching resource strings; `grants` for the generated role.

Integrations never call one another; the engine (`dispatch`) is the only caller.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pinflow.asl import commands as cmd
from pinflow.asl import events

if TYPE_CHECKING:
    from pinflow.engine.runner import Engine

# Integration patterns, as the interpreter names them in `InvokeTask.pattern`.
REQUEST_RESPONSE, SYNC, SYNC2, CALLBACK = "request_response", "sync", "sync2", "wait_for_task_token"
SUFFIXES = {"": REQUEST_RESPONSE, ".sync": SYNC, ".sync:2": SYNC2, ".waitForTaskToken": CALLBACK}


class TaskError(Exception):
    """The call fails with this error and cause (AWS's names: `States.Runtime`, `Lambda.*`, ...)."""

    def __init__(self, error: str, cause: str | None) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


@dataclass(frozen=True, slots=True)
class Need:
    """One IAM permission a call needs: `action` on `resource`, with the request's condition keys.

    `called` is the ARN the definition named, as called: when the execution is pinned to it, the
    policies it started with still allow it (docs/pinning.md)."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)
    called: str | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """One task invocation, as the engine hands it to an integration."""

    engine: Engine
    execution_arn: str
    role_arn: str
    pinned: dict[str, Any]
    command: cmd.InvokeTask

    @property
    def parameters(self) -> dict[str, Any]:
        """The payload as an object (an integration's Parameters or Arguments); {} for anything else."""
        payload = self.command.payload
        return payload if isinstance(payload, dict) else {}

    request_id: str = field(init=False)
    """Stable for one attempt of one task, so redeliveries after a crash carry the same id."""

    def __post_init__(self) -> None:
        # Worked out once: an integration reads it several times (the call, its metadata, its events).
        object.__setattr__(self, "request_id", request_id(self.execution_arn, self.command.task_id))

    def now(self) -> float:
        return self.engine.clock()

    def succeeded(self, output: Any) -> events.TaskSucceeded:
        return events.TaskSucceeded(self.command.task_id, output, self.now())

    def failed(self, error: str, cause: str | None) -> events.TaskFailed:
        return events.TaskFailed(self.command.task_id, error, cause, self.now())


def request_id(execution_arn: str, task_id: str) -> str:
    """The invocation id a call carries: the same for redeliveries of one attempt of one task.

    It is `str(uuid.uuid5(uuid.NAMESPACE_URL, f"{execution_arn}#{task_id}"))`, RFC 4122's name-based
    UUID, made from the hash's bytes without a `uuid.UUID` in between (which cost more than the hash)."""
    digest = bytearray(hashlib.sha1(_URL_NAMESPACE + f"{execution_arn}#{task_id}".encode(),
                                    usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122's variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes


@dataclass(frozen=True, slots=True)
class Done:
    """The outcome is known now."""

    event: events.TaskSucceeded | events.TaskFailed


@dataclass(frozen=True, slots=True)
class AwaitToken:
    """The outcome comes later, through SendTaskSuccess/Failure with the task's token."""


@dataclass(frozen=True, slots=True)
class Watch:
    """The call started `target`, which runs on its own: the engine watches it until `poll` answers.

    `submitted` (when not None) is what starting it answered, recorded as TaskSubmitted; `detail` is
    what `poll` needs to shape the outcome (kept in the watch row, so it survives a restart)."""

    target: str
    submitted: Any = None
    detail: Mapping[str, Any] = field(default_factory=dict)


Started = Done | AwaitToken | Watch


@dataclass(frozen=True, slots=True)
class Watched:
    """A watch row, as `poll` and `cancel` get it."""

    execution_arn: str
    task_id: str
    target: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Reference:
    """Something a Task names statically (a function, a state machine), as deploy and pinning see it.

    `kind` is the integration's word for it ("function", "state machine"); `arn` is the ARN the
    server calls, qualified as written; `field` is where it is written (`Resource`,
    `Parameters.FunctionName`, ...) and `text` what is written there."""

    kind: str
    state: str
    field: str
    text: str
    arn: str
    unqualified_arn: str
    name: str
    qualifier: str | None = None
    region: str = ""
    account: str = ""

    @property
    def qualified(self) -> bool:
        return self.qualifier is not None

    @property
    def level(self) -> str:
        """"version" (a number), "alias" (another name) or "latest" (none, or `$LATEST`)."""
        if self.qualifier is None or self.qualifier == "$LATEST":
            return "latest"
        return "version" if self.qualifier.isdigit() else "alias"


@dataclass(frozen=True, slots=True)
class Computed:
    """A Task that names what it calls only at run time: where, the expression, and what it may call
    (`allowed`: the plugin's `AllowedFunctions`, for functions), if given."""

    kind: str
    state: str
    field: str
    text: str
    allowed: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{self.field} {self.text}"


class Integration:
    """The defaults every integration starts from; see the module docstring for the contract."""

    name = ""
    patterns: frozenset[str] = frozenset()
    # How often a watch row of this integration is checked when nothing tells the engine earlier.
    poll_seconds = 60.0
    # A worker takes the task (GetActivityTask) instead of the engine carrying the call out.
    pulled = False
    # A call made again starts the same thing, not another (a child execution started by name): a node
    # whose invocation another node took over leaves what it started to that node instead of stopping it.
    same_start_again = False

    def serves(self, resource: str) -> bool:
        raise NotImplementedError

    def needs(self, call: Call) -> Sequence[Need]:
        """The permissions one call needs. Raises TaskError for parameters that name nothing callable."""
        return ()

    def start(self, call: Call) -> Started:
        raise NotImplementedError

    def denied(self, call: Call, message: str) -> events.TaskFailed:
        """The task's failure when the role does not allow a call (`message`: IAM's denial)."""
        return call.failed("States.TaskFailed", message)

    def poll(self, engine: Engine, watched: Watched) -> events.TaskSucceeded | events.TaskFailed | None:
        """The outcome of a watched call once what it started has ended; None while it runs."""
        return None

    def cancel(self, engine: Engine, watched: Watched) -> None:
        """Stop what a watched call started (its task was stopped, timed out, or its branch failed)."""

    def references(self, state_path: str, state: dict[str, Any]) -> list[Reference]:
        return []

    def computed(self, state_path: str, state: dict[str, Any]) -> list[Computed]:
        return []

    def qualify(self, reference: Reference, qualifier: str, *, region: str, account: str) -> str:
        """The ARN to write in place of `reference` to name exactly `qualifier` (deploy's exact-version
        rewriting). `region` and `account` stand in where the written text names none (a bare name)."""
        raise NotImplementedError

    def grants(self, references: Sequence[Reference], computed: Sequence[Computed],
               patterns: frozenset[str], context: Mapping[str, str]) -> list[dict[str, Any]]:
        """IAM statements a generated role needs for these references and Tasks, written in patterns
        `patterns`; `context` gives the machine's `region`, `account` and `machine` name."""
        return []


def parameters_of(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A Task's static payload objects: ("Parameters", {...}) and/or ("Arguments", {...})."""
    return [(key, state[key]) for key in ("Parameters", "Arguments") if isinstance(state.get(key), dict)]


def is_expression(value: Any) -> bool:
    """A JSONata expression (`{% ... %}`), whose value is known only at run time."""
    return isinstance(value, str) and value.lstrip().startswith("{%")
