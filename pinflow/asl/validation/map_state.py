"""Map state fields: processor, items, concurrency, failure tolerance, Label, ItemBatcher, reader, writer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pinflow.asl.validation import diagnostics as d
from pinflow.asl.validation import fields, jsonata_rules, payloads, values
from pinflow.asl.validation.context import Context, Scope

MAX_LABEL_LENGTH = 40
MAX_BATCH_BYTES = 262_144
MAX_READER_ITEMS = 100_000_000
# AWS refuses these in a Label, as in every name it lets users choose (plus whitespace and controls).
_LABEL_FORBIDDEN = frozenset('<>{}[]?*"#%\\^|~`$&,;:/')
_MODES = ("INLINE", "DISTRIBUTED")
_EXECUTION_TYPES = ("STANDARD", "EXPRESS")
_READER_RESOURCES = ("s3:getObject", "s3:listObjectsV2")
_WRITER_RESOURCES = ("s3:putObject",)


def _one_of(ctx: Context, location: str, name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        ctx.report.schema(
            location, f"The field '{name}' should have one of these values: [{', '.join(allowed)}]"
        )


def _number_field(
    ctx: Context,
    scope: Scope,
    location: str,
    view: dict[Any, Any],
    name: str,
    jsonata: bool,
    *,
    low: float,
    high: float,
    integer: bool = True,
) -> None:
    """A count or limit given literally, as a `{% %}` expression (JSONata) or by `<name>Path` (JSONPath)."""
    values.exclusive(ctx.report, location, view, (name, name + "Path"))
    if name + "Path" in view:
        payloads.check_path(
            ctx, scope, d.child(location, name + "Path"), name + "Path", view[name + "Path"], reference=True
        )
    if name not in view:
        return
    value_location = d.child(location, name)
    value = view[name]
    if jsonata and values.is_expression(value):
        jsonata_rules.check_expression(ctx, scope, value_location, value)
    elif (
        values.expect(ctx.report, value_location, value, values.INTEGER if integer else values.NUMBER)
        and not low <= value <= high
    ):
        bounds = f"between {low:g} and {high:g}" if high != float("inf") else f"at least {low:g}"
        ctx.report.schema(value_location, f"The field '{name}' must be {bounds}")


def check_map(
    ctx: Context,
    scope: Scope,
    location: str,
    view: dict[Any, Any],
    jsonata: bool,
    sub_workflow: Callable[[str, Any, Scope, frozenset[str], bool], None],
) -> None:
    """Check the fields of a Map state (`view` holds only the fields allowed in its query language)."""
    values.exclusive(ctx.report, location, view, ("ItemProcessor", "Iterator"))
    processor_name = "ItemProcessor" if "ItemProcessor" in view else "Iterator"
    if processor_name not in view:
        ctx.report.schema(location, "These fields are required: [ItemProcessor]")
    else:
        processor_location = d.child(location, processor_name)
        processor = view[processor_name]
        distributed = _check_processor_config(ctx, processor_location, processor)
        sub_workflow(processor_location, processor, scope, fields.PROCESSOR, distributed)
    if "ItemsPath" in view:
        payloads.check_path(
            ctx, scope, d.child(location, "ItemsPath"), "ItemsPath", view["ItemsPath"], reference=True
        )
    if "Items" in view:
        # A literal array or object (a Map may iterate an object's entries), or an expression giving one.
        items = view["Items"]
        if values.is_expression(items) or isinstance(items, (list, dict)):
            jsonata_rules.check_expressions(ctx, scope, d.child(location, "Items"), items)
        else:
            ctx.report.schema(d.child(location, "Items"), "Expected value of type [ARRAY]")
    values.exclusive(ctx.report, location, view, ("ItemSelector", "Parameters"))
    for name in ("ItemSelector", "Parameters"):
        if name in view:
            if jsonata:
                jsonata_rules.check_expressions(ctx, scope, d.child(location, name), view[name])
            else:
                payloads.check_template(ctx, scope, d.child(location, name), view[name])
    _number_field(ctx, scope, location, view, "MaxConcurrency", jsonata, low=0, high=float("inf"))
    _number_field(ctx, scope, location, view, "ToleratedFailureCount", jsonata, low=0, high=float("inf"))
    _number_field(
        ctx, scope, location, view, "ToleratedFailurePercentage", jsonata, low=0, high=100, integer=False
    )
    if "Label" in view:
        _check_label(ctx, d.child(location, "Label"), view["Label"])
    if "ItemBatcher" in view:
        _check_batcher(ctx, scope, d.child(location, "ItemBatcher"), view["ItemBatcher"], jsonata)
    for name, resources in (("ItemReader", _READER_RESOURCES), ("ResultWriter", _WRITER_RESOURCES)):
        if name in view:
            _check_s3_io(ctx, scope, d.child(location, name), view[name], jsonata, resources)


def _check_processor_config(ctx: Context, location: str, processor: Any) -> bool:
    """Check the processor's ProcessorConfig; return whether it runs in DISTRIBUTED mode."""
    if not isinstance(processor, dict) or "ProcessorConfig" not in processor:
        return False
    config_location = d.child(location, "ProcessorConfig")
    config = processor["ProcessorConfig"]
    if not values.expect(ctx.report, config_location, config, values.OBJECT):
        return False
    for name in config:
        if name not in ("Mode", "ExecutionType"):
            ctx.report.schema(config_location, f"Field '{name}' is not supported")
    if "Mode" in config:
        _one_of(ctx, d.child(config_location, "Mode"), "Mode", config["Mode"], _MODES)
    if "ExecutionType" in config:
        _one_of(
            ctx,
            d.child(config_location, "ExecutionType"),
            "ExecutionType",
            config["ExecutionType"],
            _EXECUTION_TYPES,
        )
    distributed = config.get("Mode") == "DISTRIBUTED"
    if distributed and "ExecutionType" not in config:
        ctx.report.schema(config_location, "These fields are required: [ExecutionType]")
    return distributed


def _check_label(ctx: Context, location: str, label: Any) -> None:
    if not values.expect(ctx.report, location, label, values.STRING):
        return
    if not label:
        ctx.report.error(d.INVALID_LABEL, location, "Label cannot be empty")
    elif len(label) > MAX_LABEL_LENGTH:
        ctx.report.error(d.INVALID_LABEL, location, f"Label exceeds the maximum length of {MAX_LABEL_LENGTH}")
    for char in dict.fromkeys(label):
        if char in _LABEL_FORBIDDEN or char.isspace() or ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F:
            ctx.report.error(d.INVALID_LABEL, location, f"Label contains invalid character: {char!r}")
    if label in ctx.labels:
        ctx.report.error(d.DUPLICATE_LABEL, location, f"Duplicate Label name: {label}")
    else:
        ctx.labels[label] = location


def _check_batcher(ctx: Context, scope: Scope, location: str, batcher: Any, jsonata: bool) -> None:
    if not values.expect(ctx.report, location, batcher, values.OBJECT):
        return
    limits = ("MaxItemsPerBatch", "MaxInputBytesPerBatch")
    allowed = {*limits, "BatchInput"} | (set() if jsonata else {limit + "Path" for limit in limits})
    for name in batcher:
        if name not in allowed:
            ctx.report.schema(location, f"Field '{name}' is not supported")
    view = {name: value for name, value in batcher.items() if name in allowed}
    if not any(name in view or name + "Path" in view for name in limits):
        ctx.report.schema(
            location,
            "At least one of these fields must be specified: "
            "[MaxItemsPerBatch, MaxItemsPerBatchPath, MaxInputBytesPerBatch, "
            "MaxInputBytesPerBatchPath]",
        )
    _number_field(ctx, scope, location, view, "MaxItemsPerBatch", jsonata, low=1, high=float("inf"))
    _number_field(ctx, scope, location, view, "MaxInputBytesPerBatch", jsonata, low=1, high=MAX_BATCH_BYTES)
    if "BatchInput" in view:
        if jsonata:
            jsonata_rules.check_expressions(ctx, scope, d.child(location, "BatchInput"), view["BatchInput"])
        else:
            payloads.check_template(ctx, scope, d.child(location, "BatchInput"), view["BatchInput"])


def _check_s3_io(
    ctx: Context, scope: Scope, location: str, io: Any, jsonata: bool, resources: tuple[str, ...]
) -> None:
    """ItemReader and ResultWriter: an S3 Resource with its Parameters (JSONata: Arguments) and config."""
    if not values.expect(ctx.report, location, io, values.OBJECT):
        return
    arguments = "Arguments" if jsonata else "Parameters"
    config = "ReaderConfig" if resources == _READER_RESOURCES else "WriterConfig"
    for name in io:
        if name not in ("Resource", arguments, config):
            ctx.report.schema(location, f"Field '{name}' is not supported")
    if "Resource" in io:
        resource = io["Resource"]
        shown = [f"arn:<partition>:states:::{name}" for name in resources]
        if not (
            isinstance(resource, str)
            and resource.startswith("arn:")
            and resource.split(":", 2)[-1] in [f"states:::{name}" for name in resources]
        ):
            ctx.report.schema(
                d.child(location, "Resource"),
                "The field 'Resource' does not match any of the "
                f"allowed values. Examples: [{', '.join(shown)}]",
            )
    if arguments in io:
        if jsonata:
            jsonata_rules.check_expressions(ctx, scope, d.child(location, arguments), io[arguments])
        else:
            payloads.check_template(ctx, scope, d.child(location, arguments), io[arguments])
    if config in io:
        config_location = d.child(location, config)
        if values.expect(ctx.report, config_location, io[config], values.OBJECT):
            view = io[config]
            if config == "ReaderConfig":
                # AWS documents only the upper bound; published samples AWS ran use 0 for "no limit".
                _number_field(
                    ctx, scope, config_location, view, "MaxItems", jsonata, low=0, high=MAX_READER_ITEMS
                )
            elif jsonata:
                jsonata_rules.check_expressions(ctx, scope, config_location, view)
