"""`pinflow deploy`: plan against the server, then apply through its Lambda, IAM and Step Functions APIs.

Order matters for executions that start meanwhile: roles first (a new definition never runs without
its grants), then layers and functions (the versions a definition will name exist before it does),
then each state machine (a version published when its definition or role changed) and its alias.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.text import Text

from pinflow import arns
from pinflow.deploy import clients, endpoint, layers, observe, package, plan, report, rewrite, roles, timeouts, yamlfile
from pinflow.deploy.project import Project
from pinflow.deploy.yamlfile import ProjectError
from pinflow.registry import roles as iam_roles

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_REFUSED = 3  # --strict: the deploy would change something under a running execution


@dataclass
class Prepared:
    """A project made ready to deploy: packages, desired configurations, rendered definitions, the plan."""

    project: Project
    packages: dict[str, package.Package]
    desired: dict[str, dict[str, Any]]
    functions_role: roles.RoleSpec
    external_versions: dict[str, str]
    machine_statements: dict[str, tuple[dict[str, Any], ...]]
    the_plan: plan.Plan
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    layer_zips: dict[str, bytes] = field(default_factory=dict)
    layer_changes: dict[str, layers.LayerChange] = field(default_factory=dict)
    written: dict[str, tuple[Any, list[str]]] = field(default_factory=dict)


@dataclass
class Outcome:
    """What a deploy did: function name -> version, machine name -> version ARN, alias ARNs."""

    functions: dict[str, str] = field(default_factory=dict)
    machines: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    layers: dict[str, str] = field(default_factory=dict)  # layer key -> the version ARN functions use


def names_of(project: Project) -> rewrite.Names:
    return rewrite.Names(project.service, project.stage, project.region, project.account,
                         project.function_names(), project.activities,
                         {key: machine.name for key, machine in project.state_machines.items()})


def machine_order(project: Project) -> list[str]:
    """The project's state machine keys, each after the project's machines it starts (their versions are
    known first, so a parent can be pinned to them); a cycle is broken where it closes (that reference
    stays live, and the plan says so)."""
    names = names_of(project)
    by_name = {machine.name: key for key, machine in project.state_machines.items()}
    children: dict[str, list[str]] = {}
    for key, machine in project.state_machines.items():
        try:
            definition = rewrite.evaluate(machine.definition, names, machine.where, definition=True)
        except ProjectError:
            definition = {}  # reported where the machine is rendered
        named = rewrite.slots(definition, rewrite.MACHINE) if isinstance(definition, dict) else []
        children[key] = [by_name[ref.name] for ref in named if ref.name in by_name and by_name[ref.name] != key]
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(key: str) -> None:
        if key in ordered or key in visiting:
            return
        visiting.add(key)
        for child in children[key]:
            visit(child)
        visiting.discard(key)
        ordered.append(key)

    for key in project.state_machines:
        visit(key)
    return ordered


def prepare(project: Project, cl: clients.Clients) -> Prepared:
    """Package the functions, read the server, and compute the plan (nothing is changed).

    Raises:
        ProjectError: a function cannot be packaged or an intrinsic cannot be resolved.
    """
    names = names_of(project)
    listing = cl.sfn.list_state_machines(maxResults=1)
    mode = endpoint.server_mode(listing, cl.endpoint)
    # What runs nodejs* functions on the server, as every pinflow answer says ("" when no node is installed).
    server_node = listing.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get(NODE_HEADER, "")
    functions_role = roles.functions_role(
        project.service, project.stage, project.region,
        _located(project, lambda: rewrite.evaluate(list(project.function_role_statements), names,
                                                   "provider.iam.role.statements")),
        project.account)
    packages: dict[str, package.Package] = {}
    desired: dict[str, dict[str, Any]] = {}
    the_plan = plan.Plan(iam_mode=mode)
    layer_zips: dict[str, bytes] = {}
    layer_changes: dict[str, layers.LayerChange] = {}
    for key, layer in project.layers.items():
        layer_zips[key] = layers.package_layer(layer)
        layer_arn = f"arn:aws:lambda:{project.region}:{project.account}:layer:{layer.name}"
        layer_changes[key] = layers.change(layer, layer_zips[key], layers.newest(cl.lam, layer.name), layer_arn)
        the_plan.layers.append(layer_changes[key])
    for key, function in project.functions.items():
        packages[key] = _located(project, functools.partial(package.package_function, function, project.root))
        desired[key] = {"CodeSha256": packages[key].sha256, "Handler": function.handler,
                        "Runtime": function.runtime, "Timeout": function.timeout,
                        "MemorySize": function.memory_size, "Environment": dict(function.environment),
                        "Role": functions_role.arn,
                        "Layers": layers.function_layers(project, key, layer_changes)}
        server = observe.function_state(cl.lam, function.name)
        compared = plan.function_change(key, desired[key], server)
        runs_on = _runs_on(function.runtime, server_node, the_plan)
        the_plan.functions.append(dataclasses.replace(compared, runtime=function.runtime, runs_on=runs_on,
                                                      layers=tuple(desired[key]["Layers"]),
                                                      tags_changed=compared.exists and server.tags != function.tags))
    if project.functions:
        exists, statements = observe.role_state(cl.iam, functions_role.name)
        the_plan.roles.append(plan.RoleChange(functions_role, exists, statements))

    the_plan.activities = [(name, observe.activity_exists(cl.sfn, arns.activity(
        name, region=project.region, account=project.account))) for name in project.activities]
    prepared = Prepared(project, packages, desired, functions_role, {}, {}, the_plan, layer_zips=layer_zips,
                        layer_changes=layer_changes)
    versions = {change.name: str(change.new_version) for change in the_plan.functions}
    machine_versions: dict[str, str] = {}
    for key in machine_order(project):
        machine = project.state_machines[key]
        definition, pinned, live = _render(prepared, key, versions, cl, machine_versions)
        the_plan.warnings.extend(f"{machine.name}: {warning}" for warning in _validate(cl, project, key, definition))
        prepared.definitions[key] = definition
        if machine.use_exact_version:
            the_plan.unpinnable.extend(f"{machine.name}: {entry}" for entry in live)
            the_plan.unpinnable.extend(f"{machine.name}: {task.state}: {task.describe()} (function computed at "
                                       "run time)" for task in rewrite.computed(definition))
        the_plan.notes.extend(_written(prepared, key)[1])
        if machine.role is not None:
            _check_given_role(cl, project, key, mode, the_plan)
        role_arn = _machine_role(prepared, key, definition, cl)
        on_server = observe.machine_state(cl.sfn, machine.name, machine.alias.name if machine.alias else None)
        change = plan.machine_change(key, machine.name, definition, role_arn, on_server, machine.alias)
        retagged = on_server is not None and on_server.tags != machine.tags
        the_plan.machines.append(dataclasses.replace(change, pinned=pinned, live=live, tags_changed=retagged))
        machine_versions[machine.name] = str(change.new_version)
    running = observe.running_executions(cl.sfn)
    the_plan.executions = plan.impacts(running, the_plan, {m.name for m in project.state_machines.values()},
                                       observe.alias_targets(cl.lam, plan.aliases_to_resolve(running)))
    the_plan.notes.extend(f"not used by pinflow, ignored: {key}" for key in project.ignored)
    return prepared


NODE_HEADER = "x-pinflow-node"


def _runs_on(runtime: str, server_node: str, the_plan: plan.Plan) -> str:
    """What runs a Node.js function on the server ("Node.js v20.11.1"), "" for other runtimes; a server
    without node gets a note, since it refuses such a function."""
    if not runtime.startswith("nodejs"):
        return ""
    if not server_node:
        the_plan.notes.append(f"{runtime}: the server has no node installed, so it refuses Node.js functions")
        return "no node on the server"
    return f"Node.js {server_node}"


def _check_given_role(cl: clients.Clients, project: Project, key: str, mode: str, the_plan: plan.Plan) -> None:
    """A machine's own `role` must be one Step Functions can assume on the server, or CreateStateMachine
    would refuse it; on a permissive server, a role it does not have is accepted and noted.

    Raises:
        ProjectError: at the `role` line, when the server would refuse the role.
    """
    machine = project.state_machines[key]
    role_arn = str(machine.role)
    found = observe.role_by_arn(cl.iam, role_arn)
    where = f"stepFunctions.stateMachines.{key}.role"
    line = project.lines.get(where)
    if found is None and mode == endpoint.PERMISSIVE:
        the_plan.notes.append(f"{where}: {role_arn} does not exist on the server; it runs with --permissive-iam, "
                              "so the executions of this state machine will not be checked against any policy")
        return
    if found is None:
        raise ProjectError(f"{role_arn} does not exist on the server, and Step Functions refuses a role it cannot "
                           "assume (AccessDeniedException); create it first, or leave `role` out to have one "
                           "generated", file=project.file_label, line=line, path=where)
    if not iam_roles.trusts(found.get("AssumeRolePolicyDocument") or {}, iam_roles.STATES_PRINCIPAL):
        raise ProjectError(f"{role_arn}: its trust policy does not let states.amazonaws.com assume it, and Step "
                           "Functions refuses such a role (AccessDeniedException)", file=project.file_label,
                           line=line, path=where)


def _validate(cl: clients.Clients, project: Project, key: str, definition: dict[str, Any]) -> list[str]:
    """Have the server validate a definition before anything is deployed, so that an invalid one stops
    the deploy before any function changes.

    Returns:
        The server's warnings that a Task calls an AWS service it cannot reach (pinflow's
        `UNREACHABLE_SERVICE` diagnostics; AWS answers none).

    Raises:
        ProjectError: the server's first error, with its JSON Pointer under the definition's key path.
    """
    machine = project.state_machines[key]
    answer = cl.sfn.validate_state_machine_definition(definition=plan.pretty(definition), type=machine.type,
                                                      severity="WARNING")
    problems = [d for d in answer.get("diagnostics", []) if d.get("severity") == "ERROR"]
    if answer.get("result") == "FAIL" and problems:
        first = problems[0]
        parts = [part for part in (first.get("location") or "").split("/") if part]
        pointer = ".".join(parts)
        where = f"{machine.where}.{pointer}" if pointer else machine.where
        line = _line_at(machine.definition, parts) or project.lines.get(machine.where)
        raise ProjectError(f"{first['code']}: {first['message']}", file=project.file_label, line=line, path=where)
    return [str(d.get("message")) for d in answer.get("diagnostics", []) if d.get("code") == "UNREACHABLE_SERVICE"]


def _line_at(value: Any, parts: list[str]) -> int | None:
    """The line of the deepest key or item a JSON Pointer reaches in a loaded YAML value."""
    line: int | None = None
    for part in parts:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(value, yamlfile.YamlMap) and part in value:
            line, value = value.line_of(part), value[part]
        elif isinstance(value, yamlfile.YamlList) and part.isdigit() and int(part) < len(value):
            line, value = value.line_of(int(part)), value[int(part)]
        else:
            break
    return line


def _located(project: Project, action: Callable[[], Any]) -> Any:
    """`action()`, its ProjectError given the file and, when the project knows it, the line."""
    try:
        return action()
    except ProjectError as exc:
        if exc.file is None:
            exc.file = project.file_label
        if exc.line is None:
            exc.line = project.lines.get(exc.path)
        raise


def _render(prepared: Prepared, key: str, versions: dict[str, str], cl: clients.Clients,
            machine_versions: dict[str, str] | None = None) -> tuple[dict[str, Any], tuple[str, ...], tuple[str, ...]]:
    """A machine's definition as the server will get it, with (pinned, live) reference descriptions.

    With useExactVersion, functions are pinned to `versions` (their newest published otherwise), and the
    project's own state machines a Task starts to `machine_versions` (a pinflow extension: the
    serverless-step-functions plugin leaves them unpinned)."""
    project = prepared.project
    machine = project.state_machines[key]
    written = _written(prepared, key)[0]
    definition = _located(project, lambda: rewrite.evaluate(written, names_of(project), machine.where,
                                                            definition=True))
    if machine.use_exact_version:
        wanted = dict(versions)
        for slot in rewrite.slots(definition):
            name = slot.name
            if slot.qualified or name in wanted:
                continue
            if name not in prepared.external_versions:
                found = observe.latest_version(cl.lam, name)
                if found is None:
                    continue
                prepared.external_versions[name] = found
            wanted[name] = prepared.external_versions[name]
        own = {machine.name for machine in project.state_machines.values()}
        definition, rewrites, missed = rewrite.pin(definition, wanted, region=project.region,
                                                   account=project.account, machines=machine_versions or {})
        pinned = tuple(f"{r.state}: {r.function} -> {plan.version_label(r.version)}" for r in rewrites)
        live = tuple(f"{s.state}: {s.text} (no published version to pin to)" for s in missed
                     if s.kind == rewrite.FUNCTION or s.name in own)
    else:
        pinned = ()
        live = tuple(f"{s.state}: {s.text}" for s in rewrite.slots(definition, None)
                     if not s.qualified and s.kind in (rewrite.FUNCTION, rewrite.MACHINE))
    return definition, pinned, live


def _written(prepared: Prepared, key: str) -> tuple[Any, list[str]]:
    """A machine's definition as written, with `configureTaskTimeouts` applied when it asks for it, and the
    warnings that gave: worked out once per deploy (the plan and the apply both render the machine)."""
    if key not in prepared.written:
        machine = prepared.project.state_machines[key]
        prepared.written[key] = (timeouts.configure(machine.definition, prepared.project.functions, key)
                                 if machine.configure_task_timeouts else (machine.definition, []))
    return prepared.written[key]


def _machine_role(prepared: Prepared, key: str, definition: dict[str, Any],
                  cl: clients.Clients | None) -> str:
    """The role ARN of a machine; for a generated role, its spec joins the plan (read from the server
    when `cl` is given, else reused from the plan)."""
    project = prepared.project
    machine = project.state_machines[key]
    if machine.role is not None:
        return machine.role
    if key not in prepared.machine_statements:
        where = f"stepFunctions.stateMachines.{key}.iamRoleStatements"
        prepared.machine_statements[key] = tuple(_located(project, lambda: rewrite.evaluate(
            list(machine.role_statements), names_of(project), where)))
    computed = rewrite.computed(definition)
    spec = roles.machine_role(machine.name, definition, prepared.machine_statements[key], project.account,
                              project.region)
    if cl is not None:
        for task in computed:
            if not roles.plugin_grants_for(task):
                prepared.the_plan.notes.append(
                    f"{machine.name}: {task.state} computes what it calls at run time ({task.describe()}); its "
                    "role grants nothing for it, as the serverless-step-functions plugin's role does not (it "
                    "finds no FunctionName in Arguments that are one expression): add iamRoleStatements, or "
                    "give the machine a role:")
                continue
            granted = ", ".join(task.allowed) if task.allowed else "*"
            prepared.the_plan.notes.append(
                f"{machine.name}: {task.state} computes its function at run time ({task.describe()}); its role "
                f"allows lambda:InvokeFunction on {granted}, as the serverless-step-functions plugin grants"
                + ("" if task.allowed else " (list AllowedFunctions in the Task's Parameters to narrow it)"))
    if cl is not None:
        exists, statements = observe.role_state(cl.iam, spec.name)
        prepared.the_plan.roles.append(plan.RoleChange(spec, exists, statements))
    return spec.arn


# --- applying -------------------------------------------------------------------------------------------


class Steps:
    """Progress through the deploy's steps: a rich progress bar, and a line per step done."""

    def __init__(self, console: Console, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

        self.console = console
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), console=console, transient=True)
        self.task = self.progress.add_task("deploying", total=max(total, 1))

    @contextmanager
    def step(self, description: str) -> Iterator[None]:
        self.progress.update(self.task, description=description)
        yield
        self.progress.advance(self.task)

    def done(self, line: str) -> None:
        self.progress.console.print(Text.assemble(("  ✓ ", "green"), line), highlight=False)

    def __enter__(self) -> Steps:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def execute(prepared: Prepared, cl: clients.Clients, console: Console) -> Outcome:
    """Apply a prepared deploy. Function versions come from the server's answers, so the definitions
    are rendered again with them before any state machine is written. (The roles need no second
    look: they grant every version of each function, whatever number it got.)"""
    project, the_plan = prepared.project, prepared.the_plan
    outcome = Outcome()
    aliases = sum(1 for machine in project.state_machines.values() if machine.alias is not None)
    total = len(the_plan.roles) + len(the_plan.functions) + len(the_plan.machines) + aliases
    total += sum(1 for change in the_plan.layers if change.publishes)
    total += sum(1 for _, exists in the_plan.activities if not exists)
    with Steps(console, total) as steps:
        for role in the_plan.roles:
            with steps.step(f"role {role.spec.name}"):
                _ensure_role(cl, role, steps)
        for name, exists in the_plan.activities:
            if not exists:
                with steps.step(f"activity {name}"):
                    cl.sfn.create_activity(name=name)  # idempotent by name, as on AWS
                    steps.done(f"activity {name} created")
        for change in the_plan.layers:
            if change.publishes:
                with steps.step(f"layer {change.name}"):
                    layer = project.layers[change.key]
                    outcome.layers[change.key] = layers.publish(cl.lam, layer, prepared.layer_zips[change.key])
                    number = outcome.layers[change.key].rsplit(":", 1)[1]
                    outcome.published.append(f"layer {change.name} version {number}")
                    steps.done(f"layer {change.name}: version {number} published")
            else:
                outcome.layers[change.key] = change.version_arn()
        by_key = {change.key: change for change in the_plan.functions}
        for key, function in project.functions.items():
            with steps.step(f"function {function.name}"):
                outcome.functions[function.name] = _deploy_function(prepared, key, by_key[key], cl, steps,
                                                                    outcome)
        machine_versions: dict[str, str] = {}
        by_machine = {change.key: change for change in the_plan.machines}
        for change in (by_machine[key] for key in machine_order(project) if key in by_machine):
            definition, _, _ = _render(prepared, change.key, outcome.functions, cl, machine_versions)
            prepared.definitions[change.key] = definition
            machine = project.state_machines[change.key]
            with steps.step(f"state machine {machine.name}"):
                version_arn = _deploy_machine(prepared, change, cl, steps, outcome)
                outcome.machines[machine.name] = version_arn
                machine_versions[machine.name] = version_arn.rsplit(":", 1)[1]
            if machine.alias is not None:
                with steps.step(f"alias {machine.alias.name} of {machine.name}"):
                    outcome.aliases[machine.name] = _move_alias(cl, machine.alias, version_arn, steps)
    return outcome


def _ensure_role(cl: clients.Clients, role: plan.RoleChange, steps: Steps) -> None:
    spec = role.spec
    done: list[str] = []
    if not role.exists:
        try:
            cl.iam.create_role(RoleName=spec.name, AssumeRolePolicyDocument=spec.trust_policy(),
                               Description="Generated by pinflow deploy")
            done.append("created")
        except Exception as exc:
            if clients.error_code(exc) != "EntityAlreadyExists":
                raise
    if role.changed and spec.statements:
        cl.iam.put_role_policy(RoleName=spec.name, PolicyName=roles.POLICY_NAME,
                               PolicyDocument=json.dumps(spec.policy()))
        done.append(f"policy written ({len(spec.statements)} statement(s))")
    elif role.changed and role.old_statements:
        cl.iam.delete_role_policy(RoleName=spec.name, PolicyName=roles.POLICY_NAME)
        done.append("policy removed")
    if done:
        steps.done(f"role {spec.name}: {', '.join(done)}")


def _deploy_function(prepared: Prepared, key: str, change: plan.FunctionChange, cl: clients.Clients,
                     steps: Steps, outcome: Outcome) -> str:
    """Create or update a function's $LATEST as needed, publish when it differs from the newest version;
    the version number that now holds the desired code and configuration."""
    function = prepared.project.functions[key]
    pkg, desired = prepared.packages[key], prepared.desired[key]
    config: dict[str, Any] = {"Handler": function.handler, "Runtime": function.runtime,
                              "Timeout": function.timeout, "MemorySize": function.memory_size,
                              "Role": desired["Role"],
                              "Layers": layers.function_layers(prepared.project, key, prepared.layer_changes,
                                                               outcome.layers)}
    if not change.exists:
        if function.environment:
            config["Environment"] = {"Variables": dict(function.environment)}
        if not config["Layers"]:
            del config["Layers"]
        cl.lam.create_function(FunctionName=function.name, Code={"ZipFile": pkg.zip_bytes},
                               Description="", Publish=False, **config)
        steps.done(f"function {function.name} created")
    elif change.updates_latest:
        if "code" in change.latest_reasons:
            cl.lam.update_function_code(FunctionName=function.name, ZipFile=pkg.zip_bytes)
        if set(change.latest_reasons) - {"code"}:
            config["Environment"] = {"Variables": dict(function.environment)}
            cl.lam.update_function_configuration(FunctionName=function.name, **config)
        steps.done(f"function {function.name}: $LATEST updated ({', '.join(change.latest_reasons)})")
    if change.tags_changed or not change.exists:
        _sync_function_tags(cl, function.name, function.tags, steps)
    if not change.publishes:
        return str(change.old_version)
    # Lambda answers the existing version when nothing changed since it: no duplicate is made.
    answer = cl.lam.publish_version(FunctionName=function.name, CodeSha256=pkg.sha256)
    version = str(answer["Version"])
    if change.old_version is None or int(version) > change.old_version:
        outcome.published.append(f"function {function.name} version {version}")
        steps.done(f"function {function.name}: version {version} published")
    return version


def _deploy_machine(prepared: Prepared, change: plan.MachineChange, cl: clients.Clients, steps: Steps,
                    outcome: Outcome) -> str:
    """Create or update a state machine, publishing a version when its definition or role changed."""
    machine = prepared.project.state_machines[change.key]
    definition = prepared.definitions[change.key]
    text = plan.pretty(definition)
    role_arn = _machine_role(prepared, change.key, definition, None)
    server = observe.machine_state(cl.sfn, machine.name, None)
    if server is None:
        tags = [{"key": key, "value": value} for key, value in machine.tags.items()]
        with _refusals(prepared.project, change.key):
            answer = cl.sfn.create_state_machine(name=machine.name, definition=text, roleArn=role_arn,
                                                 type=machine.type, publish=True, tags=tags)
        version_arn = answer["stateMachineVersionArn"]
        _published(outcome, steps, machine.name, version_arn, "created, ")
        return str(version_arn)
    if change.tags_changed:
        _sync_machine_tags(cl, server.arn, machine.name, machine.tags, steps)
    same = _same_definition(server.definition, definition) and server.role_arn == role_arn
    if not same:
        with _refusals(prepared.project, change.key):
            answer = cl.sfn.update_state_machine(stateMachineArn=server.arn, definition=text, roleArn=role_arn,
                                                 publish=True)
        version_arn = answer["stateMachineVersionArn"]
        _published(outcome, steps, machine.name, version_arn, "updated, ")
        return str(version_arn)
    if server.current_version is not None:
        return f"{server.arn}:{server.current_version}"
    answer = cl.sfn.publish_state_machine_version(stateMachineArn=server.arn)
    version_arn = answer["stateMachineVersionArn"]
    _published(outcome, steps, machine.name, version_arn, "")
    return str(version_arn)


def _sync_function_tags(cl: clients.Clients, name: str, tags: dict[str, str], steps: Steps) -> None:
    """Give a function exactly the project's tags (CloudFormation's way: keys no longer listed go)."""
    arn = cl.lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    have = cl.lam.list_tags(Resource=arn).get("Tags") or {}
    gone = sorted(set(have) - set(tags))
    changed = {key: value for key, value in tags.items() if have.get(key) != value}
    if gone:
        cl.lam.untag_resource(Resource=arn, TagKeys=gone)
    if changed:
        cl.lam.tag_resource(Resource=arn, Tags=changed)
    if gone or changed:
        steps.done(f"function {name}: tags set")


def _sync_machine_tags(cl: clients.Clients, arn: str, name: str, tags: dict[str, str], steps: Steps) -> None:
    """Give an existing state machine exactly the project's tags."""
    have = {tag["key"]: tag["value"] for tag in cl.sfn.list_tags_for_resource(resourceArn=arn).get("tags") or []}
    gone = sorted(set(have) - set(tags))
    changed = [{"key": key, "value": value} for key, value in tags.items() if have.get(key) != value]
    if gone:
        cl.sfn.untag_resource(resourceArn=arn, tagKeys=gone)
    if changed:
        cl.sfn.tag_resource(resourceArn=arn, tags=changed)
    if gone or changed:
        steps.done(f"state machine {name}: tags set")


@contextmanager
def _refusals(project: Project, key: str) -> Iterator[None]:
    """A definition or role the server refuses when it is written, located in the project file like the
    errors found before (`InvalidDefinition` names a JSON Pointer; AccessDeniedException is the role).

    Raises:
        ProjectError: for those two refusals; any other error as it is.
    """
    machine = project.state_machines[key]
    try:
        yield
    except Exception as exc:
        code = clients.error_code(exc)
        if code not in ("InvalidDefinition", "AccessDeniedException"):
            raise
        message = clients.error_message(exc)
        where = f"stepFunctions.stateMachines.{key}.role" if code == "AccessDeniedException" else machine.where
        parts: list[str] = []
        if code == "InvalidDefinition" and " at /" in message:
            parts = [part for part in message.rsplit(" at /", 1)[1].rstrip("'").split("/") if part]
            where = ".".join([machine.where, *parts])
        line = _line_at(machine.definition, parts) if parts else None
        raise ProjectError(message, file=project.file_label, line=line or project.lines.get(where),
                           path=where) from None


def _published(outcome: Outcome, steps: Steps, name: str, version_arn: str, what: str) -> None:
    number = version_arn.rsplit(":", 1)[1]
    outcome.published.append(f"state machine {name} version {number}")
    steps.done(f"state machine {name}: {what}version {number} published")


def _same_definition(text: str, definition: dict[str, Any]) -> bool:
    try:
        return bool(json.loads(text) == definition)
    except ValueError:
        return False


def _move_alias(cl: clients.Clients, alias: Any, version_arn: str, steps: Steps) -> str:
    base, _, number = version_arn.rpartition(":")
    alias_arn = f"{base}:{alias.name}"
    old = observe.alias_routes(cl.sfn, base, alias.name)
    routes = plan.alias_routes(int(number), old, alias.weight)
    routing = [{"stateMachineVersionArn": f"{base}:{version}", "weight": weight}
               for version, weight in routes]
    if old is None:
        answer = cl.sfn.create_state_machine_alias(name=alias.name, routingConfiguration=routing,
                                                   description=alias.description)
        steps.done(f"alias {alias.name} created -> {_routes_text(routes)}")
        return str(answer["stateMachineAliasArn"])
    if tuple(old) != routes:
        cl.sfn.update_state_machine_alias(stateMachineAliasArn=alias_arn, routingConfiguration=routing)
        steps.done(f"alias {alias.name} moved -> {_routes_text(routes)}")
    return alias_arn


def _routes_text(routes: tuple[tuple[int, int], ...]) -> str:
    return ", ".join(f"version {version} ({weight}%)" for version, weight in routes)


# --- the command ----------------------------------------------------------------------------------------


@dataclass
class Result:
    """A deploy's exit status, its plan, and what it did (None when it did nothing)."""

    status: int
    plan: plan.Plan
    outcome: Outcome | None = None


def deploy(project: Project, cl: clients.Clients, console: Console, *, plan_only: bool = False,
           strict: bool = False, confirm: Callable[[], bool] | None = None, show_plan: bool = True) -> Result:
    """Print the plan, then (unless `plan_only`, refused by `strict`, or declined) apply it.

    Args:
        confirm: asked before applying a plan that changes something; None applies without asking.
        show_plan: print the plan (the refusal of `strict` is printed either way).

    Returns:
        The result; its status is 0 (done, or nothing to do), 1 (declined) or 3 (refused by `strict`).
    """
    prepared = prepare(project, cl)
    the_plan = prepared.the_plan
    if show_plan:
        report.print_plan(console, the_plan, project, cl.endpoint)
    unsafe = the_plan.unsafe
    if strict and unsafe:
        console.print(f"[bold red]Refused (--strict):[/bold red] this deploy changes code or permissions "
                      f"under {len(unsafe)} running execution(s).")
        return Result(EXIT_REFUSED, the_plan)
    if strict and the_plan.unpinnable:
        console.print(f"[bold red]Refused (--strict):[/bold red] useExactVersion cannot pin "
                      f"{len(the_plan.unpinnable)} reference(s): {'; '.join(the_plan.unpinnable)}", markup=True,
                      highlight=False)
        return Result(EXIT_REFUSED, the_plan)
    if plan_only:
        return Result(EXIT_OK, the_plan)
    if not the_plan.has_changes:
        console.print("[green]Nothing to deploy:[/green] the server already runs this project.")
        return Result(EXIT_OK, the_plan, Outcome(
            functions={c.name: str(c.new_version) for c in the_plan.functions},
            machines={m.name: f"{_machine_arn(m.name)}:{m.new_version}" for m in the_plan.machines}))
    if confirm is not None and not confirm():
        console.print("Not deployed.")
        return Result(EXIT_FAILED, the_plan)
    outcome = execute(prepared, cl, console)
    published = "; ".join(outcome.published) if outcome.published else "no new versions"
    console.print(Text.assemble(("Deployed", "bold green"),
                                f" {project.service} ({project.stage}): {published}."))
    return Result(EXIT_OK, the_plan, outcome)


def _machine_arn(name: str) -> str:
    return arns.state_machine(name)
