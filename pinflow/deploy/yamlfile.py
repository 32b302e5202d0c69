"""YAML for project files: CloudFormation short tags (`!GetAtt`, `!Sub`, ...) and line numbers kept.

Mappings load as `YamlMap` and sequences as `YamlList`: plain `dict` and `list` subclasses that also
remember the file, their own line and the line of each key or item, so that an error can point at
`serverless.yml:14`. Short tags become the long form CloudFormation writes in JSON:
`!GetAtt hello.Arn` -> `{"Fn::GetAtt": ["hello", "Arn"]}`, `!Ref x` -> `{"Ref": "x"}`,
`!Sub ...` -> `{"Fn::Sub": ...}`, and any other `!Name value` -> `{"Fn::Name": value}`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class ProjectError(Exception):
    """A problem in a project file, located: `serverless.yml:14: functions.hello.handler: required`."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 path: str = "") -> None:
        self.message = message
        self.file = file
        self.line = line
        self.path = path
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where = f"{where}:{self.line}"
        head = f"{where}: " if where else ""
        return f"{head}{self.path}: {self.message}" if self.path else f"{head}{self.message}"


class YamlMap(dict[str, Any]):
    """A mapping that knows where it and each of its keys were written, and the line of the key it is
    the value of (`owner_line`), where a missing key is reported."""

    file: str | None = None
    line: int | None = None
    owner_line: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines: dict[str, int] = {}

    def line_of(self, key: str) -> int | None:
        """The line of `key`; for an absent key, the line of the key holding this mapping."""
        return self.key_lines.get(key, self.owner_line or self.line)


class YamlList(list[Any]):
    """A sequence that knows where it and each of its items were written."""

    file: str | None = None
    line: int | None = None

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_lines: list[int | None] = []

    def line_of(self, index: int) -> int | None:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


def new_map(file: str | None, line: int | None) -> YamlMap:
    made = YamlMap()
    made.file, made.line = file, line
    return made


def new_list(file: str | None, line: int | None) -> YamlList:
    made = YamlList()
    made.file, made.line = file, line
    return made


def located(value: Any) -> tuple[str | None, int | None]:
    """(file, line) of a loaded container, (None, None) for anything else."""
    if isinstance(value, YamlMap | YamlList):
        return value.file, value.line
    return None, None


class _Loader(yaml.SafeLoader):
    """SafeLoader building YamlMap/YamlList and reading CloudFormation's short tags."""

    file_label: str | None = None


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> YamlMap:
    loader.flatten_mapping(node)  # resolves `<<` merge keys
    made = new_map(loader.file_label, _line(node))
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)  # YAML lets `200:` or `yes:` be keys; project files name things with text
        value = loader.construct_object(value_node, deep=True)
        if isinstance(value, YamlMap) and value.owner_line is None:
            value.owner_line = _line(key_node)
        made[key] = value
        made.key_lines[key] = _line(key_node)
    return made


def _construct_list(loader: _Loader, node: yaml.SequenceNode) -> YamlList:
    made = new_list(loader.file_label, _line(node))
    for item in node.value:
        made.append(loader.construct_object(item, deep=True))
        made.item_lines.append(_line(item))
    return made


def _tagged(loader: _Loader, suffix: str, node: yaml.Node) -> YamlMap:
    """`!Name value` as CloudFormation's long form."""
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = _construct_list(loader, node)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = _construct_map(loader, node)
    if suffix == "GetAtt" and isinstance(value, str):
        # `!GetAtt hello.Arn`: the logical name ends at the first dot, the attribute may hold more.
        name, _, attribute = value.partition(".")
        listed = new_list(loader.file_label, _line(node))
        listed.extend([name, attribute])
        listed.item_lines.extend([_line(node), _line(node)])
        value = listed
    key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    made = new_map(loader.file_label, _line(node))
    made[key] = value
    made.key_lines[key] = _line(node)
    return made


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_list)
_Loader.add_multi_constructor("!", _tagged)


def loads(text: str, label: str | None = None) -> Any:
    """Load YAML (or JSON) text.

    Args:
        text: the document.
        label: the file name errors and locations show.

    Raises:
        ProjectError: the text is not YAML, located at the problem.
    """
    loader = _Loader(text)
    loader.file_label = label
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else None
        problem = exc.problem or exc.context or "not valid YAML"
        raise ProjectError(f"not valid YAML: {problem}", file=label, line=line) from None
    except yaml.YAMLError as exc:
        raise ProjectError(f"not valid YAML: {exc}", file=label) from None
    finally:
        loader.dispose()


def load(path: Path, label: str | None = None) -> Any:
    """Load a YAML or JSON file; `label` (default: the file's name) is what locations show.

    Raises:
        ProjectError: the file cannot be read or is not YAML.
    """
    shown = label or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProjectError(f"cannot read the file: {exc.strerror or exc}", file=shown) from None
    return loads(text, shown)
