"""From a project's definition to the ASL a server runs: intrinsics resolved, function references pinned.

Two steps:
- `evaluate` resolves CloudFormation intrinsics as the serverless-step-functions plugin writes them
  (`Ref`, `Fn::GetAtt`, `Fn::Sub` in both forms, `Fn::Join`, the plugin's `#{AWS::Region}`), for
  the project's own functions (by key, `hello`, or logical id, `HelloLambdaFunction`) and the
  pseudo parameters. `Fn::GetAtt [hello, Arn]` is the unqualified function ARN; `Ref hello` is the
  function's name, as in CloudFormation.
- `pin` rewrites every unqualified function reference of every Task (`Resource` ARNs and the
  `FunctionName` of `lambda:invoke`, in Parallel branches and Map processors too) to the exact version
  ARN `...:function:NAME:N`, whatever form named the function: an intrinsic, a bare name, or a plain
  ARN of this service or another one. A function computed at run time (`computed`) cannot be pinned.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pinflow import arns
from pinflow.deploy import yamlfile
from pinflow.deploy.yamlfile import ProjectError, YamlList, YamlMap
from pinflow.engine.integrations import aws_lambda, states, table
from pinflow.engine.integrations import base as integration_base
from pinflow.engine.integrations.base import Reference

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_PSEUDO = re.compile(r"#\{(AWS::[A-Za-z]+)\}")


@dataclass(frozen=True)
class Names:
    """What intrinsics resolve against."""

    service: str
    stage: str
    region: str
    account: str
    functions: Mapping[str, str]  # function key -> deployed name
    activities: tuple[str, ...] = ()  # the project's activity names
    machines: Mapping[str, str] = field(default_factory=dict)  # state machine key -> deployed name

    def pseudo(self, name: str) -> str | None:
        """A pseudo parameter's value (`AWS::Region`, ...), None for an unknown one."""
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": f"{self.service}-{self.stage}",
        }.get(name)

    def function_name(self, logical: str) -> str | None:
        """The deployed name of a function given by key or by Serverless logical id."""
        if logical in self.functions:
            return self.functions[logical]
        for key, name in self.functions.items():
            if logical_id(key) == logical:
                return name
        return None

    def function_arn(self, name: str) -> str:
        return arns.function(name, region=self.region, account=self.account)

    def machine_name(self, logical: str) -> str | None:
        """The deployed name of one of the project's state machines given by key, name or logical id
        (`<Key>StepFunctionsStateMachine`, as the serverless-step-functions plugin names it)."""
        for key, name in self.machines.items():
            if logical in (key, name, machine_logical_id(key), machine_logical_id(name)):
                return name
        return None

    def machine_arn(self, name: str) -> str:
        return arns.state_machine(name, region=self.region, account=self.account)

    def activity_name(self, logical: str) -> str | None:
        """The name of one of the project's activities given by name or by logical id."""
        return next((name for name in self.activities if logical in (name, activity_logical_id(name))), None)


def logical_id(key: str) -> str:
    """Serverless's logical id of a function: `hello-world` -> `HelloDashworldLambdaFunction`."""
    normalized = key[:1].upper() + key[1:]
    return normalized.replace("-", "Dash").replace("_", "Underscore") + "LambdaFunction"


def machine_logical_id(key: str) -> str:
    """The plugin's logical id of a state machine: `my-flow` -> `MyDashflowStepFunctionsStateMachine`."""
    normalized = key[:1].upper() + key[1:]
    return normalized.replace("-", "Dash").replace("_", "Underscore") + "StepFunctionsStateMachine"


def activity_logical_id(name: str) -> str:
    """The plugin's logical id of an activity: `my-task` -> `MyDashtaskStepFunctionsActivity`."""
    normalized = name[:1].upper() + name[1:]
    return normalized.replace("-", "Dash").replace("_", "Underscore") + "StepFunctionsActivity"


def is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and (
        "Ref" in value or next(iter(value)).startswith("Fn::"))


def evaluate(value: Any, names: Names, path: str = "", *, definition: bool = False) -> Any:
    """A plain JSON copy of `value` with every intrinsic resolved.

    Args:
        definition: `value` is (part of) a state machine definition, where `Ref` of a function is its ARN.

    Raises:
        ProjectError: an intrinsic naming something unknown or unsupported, located.
    """
    if is_intrinsic(value):
        try:
            return _intrinsic(value, names, path, definition)
        except ProjectError as exc:
            if exc.line is None:
                exc.file, exc.line = yamlfile.located(value)
            raise
    if isinstance(value, dict):
        made: dict[str, Any] = {}
        for key, item in value.items():
            try:
                made[key] = evaluate(item, names, _join(path, key), definition=definition)
            except ProjectError as exc:
                if exc.line is None and isinstance(value, YamlMap):
                    exc.file, exc.line = value.file, value.line_of(key)
                raise
        return made
    if isinstance(value, list):
        listed: list[Any] = []
        for index, item in enumerate(value):
            try:
                listed.append(evaluate(item, names, f"{path}[{index}]", definition=definition))
            except ProjectError as exc:
                if exc.line is None and isinstance(value, YamlList):
                    exc.file, exc.line = value.file, value.line_of(index)
                raise
        return listed
    if isinstance(value, str) and "#{" in value:
        return _PSEUDO.sub(lambda match: names.pseudo(match.group(1)) or match.group(0), value)
    return value


def _intrinsic(value: dict[str, Any], names: Names, path: str, definition: bool = False) -> str:
    kind, argument = next(iter(value.items()))
    if kind == "Ref":
        name = names.function_name(argument) if definition and isinstance(argument, str) else None
        return names.function_arn(name) if name is not None else _ref(argument, names, path)
    if kind == "Fn::GetAtt":
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        pair = isinstance(argument, list) and len(argument) == 2
        if not pair or not all(isinstance(item, str) for item in argument):
            raise ProjectError("Fn::GetAtt takes [logicalName, attribute]", path=path)
        return _get_att(argument[0], argument[1], names, path)
    if kind == "Fn::Sub":
        return _sub(argument, names, path)
    if kind == "Fn::Join":
        if not isinstance(argument, list) or len(argument) != 2 or not isinstance(argument[1], list):
            raise ProjectError("Fn::Join takes [delimiter, [values]]", path=path)
        delimiter = evaluate(argument[0], names, path)
        items = [evaluate(item, names, f"{path}[{index}]") for index, item in enumerate(argument[1])]
        if not isinstance(delimiter, str) or not all(isinstance(item, str) for item in items):
            raise ProjectError("Fn::Join joins texts only", path=path)
        return delimiter.join(items)
    raise ProjectError(f"{kind} is not supported here (Ref, Fn::GetAtt, Fn::Sub and Fn::Join are)", path=path)


def _ref(target: Any, names: Names, path: str) -> str:
    if not isinstance(target, str):
        raise ProjectError("Ref takes a logical name", path=path)
    pseudo = names.pseudo(target)
    if pseudo is not None:
        return pseudo
    activity = names.activity_name(target)
    if activity is not None:
        return arns.activity(activity, region=names.region, account=names.account)
    machine = names.machine_name(target) if names.function_name(target) is None else None
    if machine is not None:
        return names.machine_arn(machine)  # CloudFormation: a state machine's Ref is its ARN
    name = names.function_name(target)
    if name is None:
        raise ProjectError(f"Ref {target}: no function, state machine or activity {target!r} in this project",
                           path=path)
    return name


def _get_att(target: str, attribute: str, names: Names, path: str) -> str:
    activity = names.activity_name(target)
    if activity is not None:
        if attribute != "Name":
            raise ProjectError(f"Fn::GetAtt {target}.{attribute}: an activity has the Name attribute (Ref gives "
                               "its ARN)", path=path)
        return activity
    machine = names.machine_name(target) if names.function_name(target) is None else None
    if machine is not None:
        if attribute not in ("Arn", "Name"):
            raise ProjectError(f"Fn::GetAtt {target}.{attribute}: a state machine has the Arn and Name attributes",
                               path=path)
        return names.machine_arn(machine) if attribute == "Arn" else machine
    name = names.function_name(target)
    if name is None:
        raise ProjectError(f"Fn::GetAtt {target}.{attribute}: no function or state machine {target!r} in this "
                           "project", path=path)
    if attribute != "Arn":
        raise ProjectError(f"Fn::GetAtt {target}.{attribute}: only the Arn attribute is supported", path=path)
    return names.function_arn(name)


def _sub(argument: Any, names: Names, path: str) -> str:
    given: dict[str, Any] = {}
    if isinstance(argument, list):
        if len(argument) != 2 or not isinstance(argument[0], str) or not isinstance(argument[1], dict):
            raise ProjectError("Fn::Sub takes a text, or [text, {name: value}]", path=path)
        template = argument[0]
        given = {key: evaluate(item, names, f"{path}.{key}") for key, item in argument[1].items()}
    elif isinstance(argument, str):
        template = argument
    else:
        raise ProjectError("Fn::Sub takes a text, or [text, {name: value}]", path=path)

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        if inner.startswith("!"):
            return "${" + inner[1:] + "}"  # `${!Literal}` writes `${Literal}`
        if inner in given:
            value = given[inner]
            if not isinstance(value, str | int | float):
                raise ProjectError(f"Fn::Sub variable {inner} is not a text", path=path)
            return str(value)
        pseudo = names.pseudo(inner)
        if pseudo is not None:
            return pseudo
        if "." in inner:
            target, attribute = inner.split(".", 1)
            return _get_att(target, attribute, names, path)
        return _ref(inner, names, path)

    return _SUB_VARIABLE.sub(replace, template)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --- references in Tasks ------------------------------------------------------------------------------

# What a Task names statically, and what it names only at run time, as the integrations see them.
Slot = Reference
Computed = integration_base.Computed
FUNCTION, MACHINE = aws_lambda.KIND, states.KIND


@dataclass(frozen=True)
class Rewrite:
    """One reference rewritten to an exact version."""

    state: str
    field: str
    old: str
    new: str
    function: str  # the function's (or state machine's) name
    version: str
    kind: str = FUNCTION


def slots(definition: dict[str, Any], kind: str | None = FUNCTION) -> list[Reference]:
    """Everything of `kind` (functions by default; None: every kind) a Task of `definition` names
    statically, in every nested block. A bare function name or partial ARN is read as the server reads
    it (`pinflow.arns.split_function`), so that the ARNs here are the ones the server authorises."""
    return table.references(definition, kind)


def computed(definition: dict[str, Any], kind: str | None = FUNCTION) -> list[integration_base.Computed]:
    """Every Task of `definition` that names its function (or, with `kind`, what it calls) only at run
    time, in every nested block: a `FunctionName.$` path or intrinsic, a JSONata `FunctionName`, or
    Arguments that are one JSONata expression. What such a Task calls cannot be known before it runs."""
    return table.computed(definition, kind)


def written(reference: Reference) -> str:
    """A reference as the definition writes it, a separate `Qualifier` included."""
    if reference.qualifier is None or reference.text.endswith(f":{reference.qualifier}"):
        return reference.text
    return f"{reference.text}:{reference.qualifier}"


def pin(definition: dict[str, Any], versions: Mapping[str, str], *, region: str = arns.DEFAULT_REGION,
        account: str = arns.DEFAULT_ACCOUNT, machines: Mapping[str, str] | None = None
        ) -> tuple[dict[str, Any], list[Rewrite], list[Reference]]:
    """A copy of `definition` with its unqualified references pinned to exact versions.

    Args:
        definition: plain ASL (intrinsics already evaluated).
        versions: function name -> the version number to pin it to.
        region, account: where a function given by bare name lives (an ARN says for itself).
        machines: state machine name -> the version to pin a child state machine to (a pinflow
            extension: the serverless-step-functions plugin leaves them unpinned).

    Returns:
        (the new definition, the rewrites made, the unqualified references left because no version
        is given for them). References that already carry a qualifier (a version, an alias, `$LATEST`)
        are the author's choice and are left as written.
    """
    by_kind = {FUNCTION: versions, MACHINE: machines or {}}
    pinned = copy.deepcopy(definition)
    rewrites: list[Rewrite] = []
    missed: list[Reference] = []
    for path, state, integration in table.tasks(pinned):
        for reference in integration.references(path, state):
            if reference.kind not in by_kind or reference.qualified:
                continue
            version = by_kind[reference.kind].get(reference.name)
            if version is None:
                missed.append(reference)
                continue
            new = integration.qualify(reference, version, region=region, account=account)
            _write(state, reference.field, new)
            rewrites.append(Rewrite(reference.state, reference.field, reference.text, new, reference.name, version,
                                    reference.kind))
    return pinned, rewrites, missed


def _write(state: dict[str, Any], field: str, value: str) -> None:
    """Set a reference's field (`Resource`, `Parameters.FunctionName`, ...) in a state."""
    *blocks, key = field.split(".")
    holder = state
    for block in blocks:
        holder = holder[block]
    holder[key] = value


def functions_named(definitions: list[dict[str, Any]]) -> list[arns.FunctionRef]:
    """Every function the definitions' Tasks name, unqualified, sorted by ARN, once each."""
    found: dict[str, arns.FunctionRef] = {}
    for definition in definitions:
        for ref in slots(definition):
            found.setdefault(ref.unqualified_arn, arns.FunctionRef(ref.name, None, ref.region, ref.account))
    return [found[key] for key in sorted(found)]
