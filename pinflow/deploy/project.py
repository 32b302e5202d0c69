"""The project file: `pinflow.yml`, or the matching subset of a `serverless.yml`.

Read: `service`; `provider` (`stage`, `region`, `accountId`, `runtime`, `timeout`, `memorySize`,
`environment`, `tags`, `iam.role.statements` or the legacy `iamRoleStatements`); `package.patterns`;
`functions` (`handler`, `name`, `runtime`, `timeout`, `memorySize`, `environment`, `tags`, `layers`,
`pinflow.source` or `package.patterns`); `layers` (`path`, `name`, `description`, `compatibleRuntimes`,
`compatibleArchitectures`, `licenseInfo`; a function names one as `{Ref: <Key>LambdaLayer}`, as
Serverless's CloudFormation does, or any layer version by its ARN; `provider.layers` are every
function's); `stepFunctions.stateMachines` (`name`, `type`, `definition` inline or from
`${file(...)}`, `useExactVersion`, `role`, `iamRoleStatements`, `tags`, `inheritGlobalTags`, and
pinflow's `alias`). Tags follow Serverless and the plugin: a function has `provider.tags` with its
own `tags` over them; a state machine too, unless it sets `inheritGlobalTags: false`.
Function names follow Serverless: `<service>-<stage>-<function>`, stage `dev` unless given.
`stepFunctions.activities` are created, and `configureTaskTimeouts` is honoured as the plugin does
it. Whatever pinflow reads but does not act on (`resources`, `provider.stackTags`, a state machine's
`events`, `alarms`, `encryptionConfig`, `kmsKeyArns`, ...) is accepted and listed in
`Project.ignored`, so that the plan says so: nothing is dropped silently. `Project.lines` keeps the
line of each key errors found later (by the server, by packaging) point at.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pinflow import arns
from pinflow.deploy import variables, yamlfile
from pinflow.deploy.yamlfile import ProjectError, YamlList, YamlMap

PROJECT_FILES = ("pinflow.yml", "pinflow.yaml", "serverless.yml", "serverless.yaml")
DEFAULT_STAGE = "dev"
DEFAULT_RUNTIME = "python3.11"
# Serverless's own defaults, so that a serverless.yml means the same here.
DEFAULT_TIMEOUT = 6
DEFAULT_MEMORY = 1024
MACHINE_TYPES = ("STANDARD", "EXPRESS")
# Keys of a state machine the serverless-step-functions plugin accepts and pinflow has no use for.
IGNORED_MACHINE_KEYS = ("events", "alarms", "notifications", "loggingConfig", "tracingConfig",
                        "encryptionConfig", "kmsKeyArns", "retain", "dependsOn", "id", "noOutput")
MACHINE_KEYS = ("name", "type", "definition", "useExactVersion", "role", "iamRoleStatements", "alias",
                "configureTaskTimeouts", "tags", "inheritGlobalTags", *IGNORED_MACHINE_KEYS)
# What pinflow reads from the rest of the file; any other key is listed as not used.
TOP_KEYS = ("service", "provider", "functions", "stepFunctions", "package", "custom", "plugins",
            "frameworkVersion", "configValidationMode", "variablesResolutionMode", "useDotenv", "params", "layers")
PROVIDER_KEYS = ("name", "runtime", "stage", "region", "accountId", "timeout", "memorySize", "environment", "iam",
                 "iamRoleStatements", "layers", "tags")
FUNCTION_KEYS = ("handler", "name", "runtime", "timeout", "memorySize", "environment", "pinflow", "package", "layers",
                 "tags")
LAYER_KEYS = ("path", "name", "description", "compatibleRuntimes", "compatibleArchitectures", "licenseInfo")
# Serverless's CloudFormation names a layer `<Key>LambdaLayer` (first letter upper case, only letters and digits).
LAYER_SUFFIX = "LambdaLayer"
PLUGIN = "serverless-step-functions"


@dataclass(frozen=True)
class Function:
    """A function to deploy."""

    key: str
    name: str
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    source: Path | None = None  # a folder packaged whole (`pinflow.source`)
    patterns: tuple[str, ...] = ()  # Serverless package patterns over the project folder
    layers: tuple[str, ...] = ()  # in order: a project layer's key, or a layer version ARN ("arn:...")
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Layer:
    """A layer to publish: the folder `path`, zipped whole (its `python/`, `nodejs/`, `bin/`... as they are)."""

    key: str
    name: str
    path: Path
    description: str = ""
    compatible_runtimes: tuple[str, ...] = ()
    compatible_architectures: tuple[str, ...] = ()
    license_info: str | None = None


@dataclass(frozen=True)
class Alias:
    """A state machine alias moved to each newly published version (pinflow's extension).

    `weight` is the percentage of the alias's new executions that go to the new version; the rest
    stay on the version the alias routed to before (a canary), until a deploy sets 100.
    """

    name: str
    weight: int = 100
    description: str = ""


@dataclass(frozen=True)
class StateMachine:
    """A state machine to deploy; `definition` still holds intrinsics (`Fn::GetAtt`, ...)."""

    key: str
    name: str
    type: str
    definition: Any
    use_exact_version: bool = False
    role: str | None = None  # a role ARN to use instead of a generated one
    role_statements: tuple[dict[str, Any], ...] = ()
    alias: Alias | None = None
    where: str = ""  # the definition's path in the file, for errors
    configure_task_timeouts: bool = False
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Project:
    """A loaded project file."""

    path: Path
    service: str
    stage: str
    region: str
    account: str
    functions: dict[str, Function]
    state_machines: dict[str, StateMachine]
    function_role_statements: tuple[dict[str, Any], ...] = ()
    ignored: tuple[str, ...] = ()
    file_label: str = ""
    activities: tuple[str, ...] = ()
    lines: dict[str, int] = field(default_factory=dict)  # key path -> line, for errors found later
    layers: dict[str, Layer] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.path.parent

    def function_names(self) -> dict[str, str]:
        """Function key -> deployed function name."""
        return {key: function.name for key, function in self.functions.items()}

    def with_machines(self, **changes: StateMachine) -> Project:
        """A copy with some state machines replaced."""
        return dataclasses.replace(self, state_machines={**self.state_machines, **changes})


def find(directory: Path) -> Path:
    """The project file in `directory`: pinflow.yml first, then serverless.yml.

    Raises:
        ProjectError: there is none.
    """
    for name in PROJECT_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    raise ProjectError(f"no project file ({' or '.join(PROJECT_FILES[::2])}) in {directory}")


def load(path: Path, *, stage: str | None = None, environ: Mapping[str, str] | None = None) -> Project:
    """Load and check a project file.

    Args:
        path: the `pinflow.yml` or `serverless.yml`.
        stage: the stage (`--stage`); else `provider.stage`; else `dev`.
        environ: where `${env:...}` looks (default: the process environment).

    Raises:
        ProjectError: the file is missing, not YAML, or wrong; located by file, line and key path.
    """
    label = path.name
    raw = yamlfile.load(path, label)
    if not isinstance(raw, YamlMap):
        raise ProjectError("the project file must be a mapping", file=label, line=1)
    options = {"stage": stage} if stage else {}
    lookup = environ.get if environ is not None else os.environ.get
    context = variables.Context(root=raw, base_dir=path.parent, options=options, environ=lookup)
    reader = _Reader(label)

    provider = raw.get("provider")
    if provider is not None and not isinstance(provider, YamlMap):
        raise reader.error(raw, "provider", "must be a mapping")
    provider = provider if provider is not None else yamlfile.new_map(label, raw.line)
    # stage, region and account first: `${sls:stage}` and `${aws:region}` need them.
    resolved_stage = stage or _scalar(reader, provider, "stage", context, "provider.stage") or DEFAULT_STAGE
    context.stage = str(resolved_stage)
    context.region = str(_scalar(reader, provider, "region", context, "provider.region")
                         or arns.DEFAULT_REGION)
    context.account = str(_scalar(reader, provider, "accountId", context, "provider.accountId")
                          or arns.DEFAULT_ACCOUNT)
    if not context.account.isdigit() or len(context.account) != 12:
        raise reader.error(provider, "accountId", "must be 12 digits")
    tree = variables.resolve_tree(raw, context)
    assert isinstance(tree, YamlMap)

    service = tree.get("service")
    if isinstance(service, YamlMap):  # Serverless v1 wrote `service: {name: ...}`
        service = service.get("name")
    if not isinstance(service, str) or not service:
        raise reader.error(tree, "service", "required (a name)")
    provider = tree.get("provider") or yamlfile.new_map(label, tree.line)
    if provider.get("name") not in (None, "aws"):
        raise reader.error(provider, "name", "only the aws provider is supported", "provider")
    ignored: list[str] = []
    lines: dict[str, int] = {}
    _unused(tree, provider, ignored)
    layers = _layers(reader, tree, path.parent)
    defaults = _FunctionDefaults.read(reader, provider, tree, layers)
    functions = _functions(reader, tree, service, context.stage, defaults, path.parent, ignored, lines, layers)
    machines = _machines(reader, tree, service, context.stage, ignored, lines)
    return Project(path=path, service=service, stage=context.stage, region=context.region,
                   account=context.account, functions=functions, state_machines=machines,
                   function_role_statements=_provider_statements(reader, provider), ignored=tuple(ignored),
                   file_label=label, activities=_activities(reader, tree), lines=lines, layers=layers)


def _unused(tree: YamlMap, provider: YamlMap, ignored: list[str]) -> None:
    """List what the file holds that pinflow does not act on (the plan prints it)."""
    ignored.extend(key for key in tree if key not in TOP_KEYS)
    ignored.extend(f"provider.{key}" for key in provider if key not in PROVIDER_KEYS)
    iam = provider.get("iam")
    if isinstance(iam, YamlMap) and not isinstance(iam.get("role"), YamlMap | type(None)):
        ignored.append("provider.iam.role (the functions' role is generated from provider.iam.role.statements)")
    plugins = tree.get("plugins")
    listed = plugins.get("modules") if isinstance(plugins, YamlMap) else plugins
    if isinstance(listed, list):
        ignored.extend(f"plugins: {name}" for name in listed if name != PLUGIN)


def _activities(reader: _Reader, tree: YamlMap) -> tuple[str, ...]:
    """`stepFunctions.activities`: the names of the activities to create."""
    section = tree.get("stepFunctions")
    value = section.get("activities") if isinstance(section, YamlMap) else None
    if value is None:
        return ()
    if not isinstance(value, YamlList) or not all(isinstance(item, str) and arns.valid_name(item) for item in value):
        raise reader.error(section, "activities", "must be a list of activity names", "stepFunctions")
    return tuple(value)


class _Reader:
    """Checks with errors that point at the file, the line and the key path."""

    def __init__(self, label: str) -> None:
        self.label = label

    def error(self, container: Any, key: str | int | None, message: str, path: str = "") -> ProjectError:
        file, line = yamlfile.located(container)
        keyed = isinstance(container, YamlMap) and isinstance(key, str)
        if keyed or (isinstance(container, YamlList) and isinstance(key, int)):
            line = container.line_of(key)
        full = path
        if isinstance(key, str):
            full = f"{path}.{key}" if path else key
        elif isinstance(key, int):
            full = f"{path}[{key}]"
        return ProjectError(message, file=file or self.label, line=line, path=full)

    def mapping(self, container: YamlMap, key: str, path: str, *, required: bool = False) -> YamlMap | None:
        value = container.get(key)
        if value is None:
            if required:
                raise self.error(container, key, "required", path)
            return None
        if not isinstance(value, YamlMap):
            raise self.error(container, key, "must be a mapping", path)
        return value

    def text(self, container: YamlMap, key: str, path: str, *, required: bool = False) -> str | None:
        value = container.get(key)
        if value is None or value == "":
            if required:
                raise self.error(container, key, "required", path)
            return None
        if not isinstance(value, str):
            raise self.error(container, key, "must be a text", path)
        return value

    def integer(self, container: YamlMap, key: str, path: str, low: int, high: int) -> int | None:
        value = container.get(key)
        if value is None:
            return None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(container, key, f"must be a whole number from {low} to {high}", path)
        return value

    def flag(self, container: YamlMap, key: str, path: str) -> bool:
        value = container.get(key, False)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if not isinstance(value, bool):
            raise self.error(container, key, "must be true or false", path)
        return value

    def environment(self, container: YamlMap, key: str, path: str) -> dict[str, str]:
        value = container.get(key)
        if value is None:
            return {}
        if not isinstance(value, YamlMap):
            raise self.error(container, key, "must be a mapping of names to values", path)
        made: dict[str, str] = {}
        for name, item in value.items():
            if isinstance(item, dict | list) or item is None:
                raise self.error(value, name, "must be a text, a number or true/false", f"{path}.{key}")
            made[name] = ("true" if item else "false") if isinstance(item, bool) else str(item)
        return made

    def statements(self, container: YamlMap, key: str, path: str) -> tuple[dict[str, Any], ...]:
        value = container.get(key)
        if value is None:
            return ()
        if not isinstance(value, YamlList):
            raise self.error(container, key, "must be a list of IAM statements", path)
        for index, statement in enumerate(value):
            if not isinstance(statement, YamlMap):
                raise self.error(value, index, "must be a mapping (Effect, Action, Resource)",
                                 f"{path}.{key}")
            for required in ("Effect", "Action"):
                if required not in statement:
                    raise self.error(statement, required, "required", f"{path}.{key}[{index}]")
            if "Resource" not in statement and "NotResource" not in statement:
                raise self.error(statement, "Resource", "required", f"{path}.{key}[{index}]")
        return tuple(value)

    def patterns(self, container: YamlMap | None, path: str) -> tuple[str, ...]:
        if container is None:
            return ()
        package = self.mapping(container, "package", path)
        if package is None:
            return ()
        value = package.get("patterns")
        if value is None:
            return ()
        if not isinstance(value, YamlList) or not all(isinstance(item, str) for item in value):
            raise self.error(package, "patterns", "must be a list of glob patterns", f"{path}.package" if path
                             else "package")
        return tuple(value)


def _scalar(reader: _Reader, provider: YamlMap, key: str, context: variables.Context, path: str) -> Any:
    """A provider value needed before the rest can be resolved (stage, region, account)."""
    value = provider.get(key)
    if value is None:
        return None
    try:
        resolved = variables.resolve_tree(value, context, path)
    except ProjectError as exc:
        if exc.line is None:
            exc.file, exc.line = provider.file or reader.label, provider.line_of(key)
        raise
    if isinstance(resolved, dict | list):
        raise reader.error(provider, key, "must be a text", "provider")
    return resolved


@dataclass(frozen=True)
class _FunctionDefaults:
    runtime: str
    timeout: int
    memory_size: int
    environment: dict[str, str] = field(default_factory=dict)
    patterns: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, reader: _Reader, provider: YamlMap, tree: YamlMap, layers: dict[str, Layer]) -> _FunctionDefaults:
        return cls(
            layers=_layer_uses(reader, provider, "provider", layers),
            runtime=reader.text(provider, "runtime", "provider") or DEFAULT_RUNTIME,
            timeout=reader.integer(provider, "timeout", "provider", 1, 900) or DEFAULT_TIMEOUT,
            memory_size=reader.integer(provider, "memorySize", "provider", 128, 10240) or DEFAULT_MEMORY,
            environment=reader.environment(provider, "environment", "provider"),
            patterns=reader.patterns(tree, ""),
            tags=reader.environment(provider, "tags", "provider"),
        )


def _functions(reader: _Reader, tree: YamlMap, service: str, stage: str, defaults: _FunctionDefaults,
               root: Path, ignored: list[str], lines: dict[str, int], layers: dict[str, Layer]) -> dict[str, Function]:
    section = reader.mapping(tree, "functions", "")
    if section is None:
        return {}
    found: dict[str, Function] = {}
    for key, spec in section.items():
        path = f"functions.{key}"
        if not isinstance(spec, YamlMap):
            raise reader.error(section, key, "must be a mapping (handler, ...)", "functions")
        handler = reader.text(spec, "handler", path, required=True)
        assert handler is not None
        lines[f"{path}.handler"] = spec.line_of("handler") or 0
        ignored.extend(f"{path}.{name}" for name in spec if name not in FUNCTION_KEYS)
        name = reader.text(spec, "name", path) or f"{service}-{stage}-{key}"
        if not arns.valid_function_name(name):
            raise reader.error(spec if "name" in spec else section, "name" if "name" in spec else key,
                               f"{name!r} is not a valid function name (letters, digits, - and _, "
                               "at most 64)",
                               path if "name" in spec else "functions")
        source: Path | None = None
        own = reader.mapping(spec, "pinflow", path)
        if own is not None and own.get("source") is not None:
            folder = reader.text(own, "source", f"{path}.pinflow")
            assert folder is not None
            source = (root / folder).resolve()
            if not source.is_dir():
                raise reader.error(own, "source", f"no such folder: {folder}", f"{path}.pinflow")
        found[key] = Function(
            key=key, name=name, handler=handler,
            runtime=reader.text(spec, "runtime", path) or defaults.runtime,
            timeout=reader.integer(spec, "timeout", path, 1, 900) or defaults.timeout,
            memory_size=reader.integer(spec, "memorySize", path, 128, 10240) or defaults.memory_size,
            environment={**defaults.environment, **reader.environment(spec, "environment", path)},
            source=source,
            patterns=defaults.patterns + reader.patterns(spec, path),
            # A function's own list replaces the provider's, as in Serverless.
            layers=_layer_uses(reader, spec, path, layers) if "layers" in spec else defaults.layers,
            tags={**defaults.tags, **reader.environment(spec, "tags", path)},
        )
    return found


def _layers(reader: _Reader, tree: YamlMap, root: Path) -> dict[str, Layer]:
    """The top-level `layers`: each a folder to publish as a layer named `name` (default: its key)."""
    section = reader.mapping(tree, "layers", "")
    if section is None:
        return {}
    found: dict[str, Layer] = {}
    for key, spec in section.items():
        where = f"layers.{key}"
        if not isinstance(spec, YamlMap):
            raise reader.error(section, key, "must be a mapping (path, ...)", "layers")
        for name in spec:
            if name not in (*LAYER_KEYS, "package", "retain", "allowedAccounts"):
                raise reader.error(spec, name, "unknown key", where)
        folder = reader.text(spec, "path", where, required=True)
        assert folder is not None
        path = (root / folder).resolve()
        if not path.is_dir():
            raise reader.error(spec, "path", f"no such folder: {folder}", where)
        name = reader.text(spec, "name", where) or key
        if not all(c.isalnum() or c in "-_" for c in name) or len(name) > 140:
            raise reader.error(spec, "name" if "name" in spec else "path", f"{name!r} is not a valid layer name", where)
        found[key] = Layer(
            key=key, name=name, path=path, description=reader.text(spec, "description", where) or "",
            compatible_runtimes=_texts(reader, spec, "compatibleRuntimes", where),
            compatible_architectures=_texts(reader, spec, "compatibleArchitectures", where),
            license_info=reader.text(spec, "licenseInfo", where))
    return found


def _texts(reader: _Reader, spec: YamlMap, key: str, where: str) -> tuple[str, ...]:
    value = spec.get(key)
    if value is None:
        return ()
    if not isinstance(value, YamlList) or not all(isinstance(item, str) for item in value):
        raise reader.error(spec, key, "must be a list of names", where)
    return tuple(value)


def layer_logical_id(key: str) -> str:
    """The CloudFormation logical id Serverless gives a layer: `greeter` -> `GreeterLambdaLayer`."""
    cleaned = "".join(c for c in key if c.isalnum())
    return cleaned[:1].upper() + cleaned[1:] + LAYER_SUFFIX


def _layer_uses(reader: _Reader, spec: YamlMap, path: str, layers: dict[str, Layer]) -> tuple[str, ...]:
    """A `layers` list: `{Ref: <Key>LambdaLayer}` for a project layer, or a layer version ARN."""
    value = spec.get("layers")
    if value is None:
        return ()
    if not isinstance(value, YamlList):
        raise reader.error(spec, "layers", "must be a list of layers", path)
    by_id = {layer_logical_id(key): key for key in layers}
    uses: list[str] = []
    for index, item in enumerate(value):
        if isinstance(item, str) and item.startswith("arn:") and ":layer:" in item:
            uses.append(item)
            continue
        reference = item.get("Ref") if isinstance(item, dict) and len(item) == 1 else None
        if not isinstance(reference, str) or reference not in by_id:
            known = ", ".join(f"{{Ref: {logical}}}" for logical in by_id) or "none in this file"
            raise reader.error(value, index, f"must be a layer version ARN or a reference to a layer of this file "
                               f"({known})", f"{path}.layers")
        uses.append(by_id[reference])
    if len(uses) > 5:
        raise reader.error(spec, "layers", "a function can use at most 5 layers", path)
    return tuple(uses)


def _provider_statements(reader: _Reader, provider: YamlMap) -> tuple[dict[str, Any], ...]:
    """The functions' role statements: `provider.iam.role.statements`, or the legacy `iamRoleStatements`."""
    iam = reader.mapping(provider, "iam", "provider")
    if iam is not None:
        role = iam.get("role")
        if isinstance(role, YamlMap):
            return reader.statements(role, "statements", "provider.iam.role")
    return reader.statements(provider, "iamRoleStatements", "provider")


def _machines(reader: _Reader, tree: YamlMap, service: str, stage: str, ignored: list[str],
              lines: dict[str, int]) -> dict[str, StateMachine]:
    section = reader.mapping(tree, "stepFunctions", "")
    if section is None:
        return {}
    machines = reader.mapping(section, "stateMachines", "stepFunctions")
    if machines is None:
        return {}
    provider = reader.mapping(tree, "provider", "")
    global_tags = reader.environment(provider, "tags", "provider") if provider is not None else {}
    for key in section:
        if key not in ("stateMachines", "validate", "noOutput", "activities"):
            ignored.append(f"stepFunctions.{key}")
    found: dict[str, StateMachine] = {}
    for key, spec in machines.items():
        path = f"stepFunctions.stateMachines.{key}"
        if not isinstance(spec, YamlMap):
            raise reader.error(machines, key, "must be a mapping (definition, ...)",
                               "stepFunctions.stateMachines")
        for name in spec:
            if name not in MACHINE_KEYS:
                raise reader.error(spec, name, "unknown key", path)
            if name in IGNORED_MACHINE_KEYS:
                ignored.append(f"{path}.{name}")
        name = reader.text(spec, "name", path) or f"{service}-{stage}-{key}"
        if not arns.valid_name(name):
            raise reader.error(spec if "name" in spec else machines, "name" if "name" in spec else key,
                               f"{name!r} is not a valid state machine name", path if "name" in spec
                               else "stepFunctions.stateMachines")
        kind = (reader.text(spec, "type", path) or "STANDARD").upper()
        if kind not in MACHINE_TYPES:
            raise reader.error(spec, "type", "must be STANDARD or EXPRESS", path)
        definition = spec.get("definition")
        if definition is None:
            raise reader.error(spec, "definition", "required", path)
        if isinstance(definition, str):
            definition = yamlfile.loads(definition, reader.label)  # a JSON (or YAML) text
        if not isinstance(definition, dict) or not isinstance(definition.get("States"), dict):
            raise reader.error(spec, "definition", "must be an ASL definition (StartAt, States)", path)
        role = spec.get("role")
        for located in ("role", "definition", "name"):
            if located in spec:
                lines[f"{path}.{located}"] = spec.line_of(located) or 0
        if role is not None and not (isinstance(role, str) and role.startswith("arn:")):
            raise reader.error(spec, "role", "must be a role ARN (pinflow has no CloudFormation resources to "
                               "refer to); leave it out to have a role generated", path)
        found[key] = StateMachine(
            key=key, name=name, type=kind, definition=definition,
            use_exact_version=reader.flag(spec, "useExactVersion", path),
            role=role, role_statements=reader.statements(spec, "iamRoleStatements", path),
            alias=_alias(reader, spec, path), where=f"{path}.definition",
            configure_task_timeouts=reader.flag(spec, "configureTaskTimeouts", path),
            # The plugin starts from the provider's tags unless told not to, then adds the machine's own.
            tags={**(global_tags if "inheritGlobalTags" not in spec or reader.flag(spec, "inheritGlobalTags", path)
                     else {}),
                  **reader.environment(spec, "tags", path)},
        )
    return found


def _alias(reader: _Reader, spec: YamlMap, path: str) -> Alias | None:
    value = spec.get("alias")
    if value is None:
        return None
    if isinstance(value, str):
        value_map = yamlfile.new_map(spec.file, spec.line_of("alias"))
        value_map["name"] = value
    elif isinstance(value, YamlMap):
        value_map = value
    else:
        raise reader.error(spec, "alias", "must be a name or a mapping (name, weight)", path)
    where = f"{path}.alias"
    name = reader.text(value_map, "name", where, required=True)
    assert name is not None
    if not arns.valid_name(name) or name.isdigit():
        raise reader.error(value_map, "name", f"{name!r} is not a valid alias name", where)
    weight = reader.integer(value_map, "weight", where, 1, 100)
    return Alias(name=name, weight=100 if weight is None else weight,
                 description=reader.text(value_map, "description", where) or "")
