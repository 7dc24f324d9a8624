"""Schema errors turned into located, actionable messages, and partial records salvaged from files with errors.

Pydantic reports an error by its location in the model; here it becomes a path in the YAML data, a message a
contributor can act on (what is expected, what was written, the nearest allowed name), and a position.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from .. import ids
from ..load import Loaded
from ..problems import PER_FILE, Problem, more_problems
from .common import Files

_TYPE_NAMES = {
    str: "a string",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a mapping",
    type(None): "nothing (null)",
}
_EXPECTED = {
    "string_type": "a string (quote it if it looks like a number, date or boolean)",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list ('- item' lines)",
    "dict_type": "a mapping ('key: value' lines)",
    "model_type": "a mapping of fields ('key: value' lines)",
    "model_attributes_type": "a mapping of fields ('key: value' lines)",
}


def _data_path(data: Any, loc: tuple) -> tuple:
    """The path in the YAML data for a pydantic error location (drops discriminator tags)."""
    out: list = []
    node = data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str):
            if part in node:
                out.append(part)
                node = node[part]
            elif node.get("kind") == part:
                continue  # discriminated-union tag, not a key
            else:
                out.append(part)
                node = None
        elif isinstance(node, list) and isinstance(part, int):
            out.append(part)
            node = node[part] if 0 <= part < len(node) else None
        else:
            if isinstance(part, str) and part in ("str", "int", "bool", "float", "list", "dict", "none"):
                continue  # union member names
            out.append(part)
            node = None
    return tuple(out)


def _model_at(model: type[BaseModel], path: tuple, data: Any) -> type[BaseModel] | None:
    """The record model that describes the mapping at ``path`` (for listing its allowed fields)."""
    current: Any = model
    node = data
    for part in path:
        if isinstance(node, list):
            node = node[part] if isinstance(part, int) and part < len(node) else None
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return None
        ann = current.model_fields[part].annotation
        node = node.get(part) if isinstance(node, dict) else None
        current = _unwrap(ann, node)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(ann: Any, node: Any) -> Any:
    """Strip Optional/list/Annotated down to the model the YAML node is checked against."""
    for _ in range(6):
        origin = typing.get_origin(ann)
        if origin is typing.Annotated or origin is list:
            ann = typing.get_args(ann)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(ann) if a is not type(None)]
            kind = node.get("kind") if isinstance(node, dict) else None
            picked = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel) and _tag(m) == kind]
            ann = picked[0] if picked else members[0]
        else:
            break
    return ann


def _tag(model: type[BaseModel]) -> str | None:
    f = model.model_fields.get("kind")
    if f is None:
        return None
    args = typing.get_args(f.annotation)
    return args[0] if len(args) == 1 else None


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return _TYPE_NAMES.get(type(value), type(value).__name__)


_ITEM_KEYS = ("id", "ref", "scenario", "guard", "code", "entry", "role", "title", "source", "version")


def _node(data: Any, path: tuple) -> Any:
    for part in path:
        in_map = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_map or in_list):
            return None
        data = data[part]
    return data


def _label(data: Any, path: tuple, *, value_shown: bool = False) -> str:
    """What a message calls the value at ``path``, quoted: a key as 'name'; a list item by what it is, not by its
    index alone: ``aliases item 'foo'`` (a string item, by its value), ``examples[0] (id 'x')`` (a mapping, by
    its identifying field), else ``tags[2]``. With ``value_shown`` (the message quotes the value already) a
    string item is ``an item of 'aliases'``."""
    if not path:
        return "the record"
    last = path[-1]
    if not isinstance(last, int):
        return f"'{last}'"
    parent = path[-2] if len(path) > 1 and not isinstance(path[-2], int) else "item"
    item = _node(data, path)
    if isinstance(item, str) and item:
        return f"an item of '{parent}'" if value_shown else f"{parent} item {_describe(item)}"
    if isinstance(item, dict):
        for key in _ITEM_KEYS:
            value = item.get(key)
            if isinstance(value, str) and value:
                return f"{parent}[{last}] ({key} {_describe(value)})"
    return f"{parent}[{last}]"


def schema_message(err: Mapping[str, Any], model: type[BaseModel], data: Any, path: tuple) -> tuple[str, bool]:
    """An actionable message for one pydantic error; the flag says whether to point at the key."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    name = path[-1] if path else "record"
    label = _label(data, path)  # the value's name in messages about the value (a key's own name for keys)
    if kind == "missing":
        owner = _model_at(model, path[:-1], data)
        desc = owner.model_fields[name].description if owner and name in owner.model_fields else ""
        return f"missing required field '{name}'" + (f": {desc}" if desc else ""), True
    if kind == "extra_forbidden":
        owner = _model_at(model, path[:-1], data)
        allowed = list(owner.model_fields) if owner else []
        allowed = ["schema" if a == "schema_" else a for a in allowed]
        hint = ids.did_you_mean(str(name), allowed)
        return f"unknown field '{name}'{hint}; allowed here: {', '.join(allowed)}", True
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",") if o.strip()]
        return (
            (
                f"{_describe(value)} is not allowed for "
                f"{_label(data, path, value_shown=True)}{ids.did_you_mean(str(value), options)}; "
                f"write one of: {', '.join(options)}"
            ),
            False,
        )
    if kind == "string_pattern_mismatch":
        hint = ids.PATTERN_HINTS.get(ctx.get("pattern", ""), f"a string matching {ctx.get('pattern')}")
        return f"{_describe(value)} is not valid for {_label(data, path, value_shown=True)}: write {hint}", False
    if kind in _EXPECTED:
        # A whole list or mapping of the wrong shape is pointed at by its key; a scalar by its value.
        return f"{label} must be {_EXPECTED[kind]}, not {_describe(value)}", isinstance(value, (list, dict))
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return f"{label} needs at least {n} item{'s' * (n != 1)}", False
    if kind == "string_too_short":
        return f"{label} must not be empty", False
    if kind == "string_too_long":
        return f"{label} is longer than {ctx.get('max_length')} characters; shorten it", False
    if kind == "union_tag_invalid":
        return f"'kind' {_describe(ctx.get('tag'))} is not known; write one of: {ctx.get('expected_tags')}", False
    if kind == "union_tag_not_found":
        return (
            f"{label} needs 'kind: illustrative' (written by a contributor) or 'kind: observed' (real model output)",
            False,
        )
    return f"{label}: {err['msg']}", False


def schema_problems(files: Files, rec: Loaded, model: type[BaseModel], exc: ValidationError) -> list[Problem]:
    out = []
    errors = exc.errors(include_url=False)
    for err in errors[:PER_FILE]:  # the rest are counted, not worded: a file may hold 100,000 unknown keys
        path = _data_path(rec.data, err["loc"])
        message, at_key = schema_message(err, model, rec.data, path)
        if err["type"] == "missing":
            line, col = files.locator(rec.shown).key_of_parent(path[:-1])
        else:
            line, col = files.locator(rec.shown).find(path, key=at_key)
        out.append(Problem(rec.shown, line, col, message, "schema"))
    if len(errors) > PER_FILE:
        out.append(more_problems(rec.shown, len(errors) - PER_FILE))
    return out


_ADAPTERS: dict[tuple[type, str, bool], TypeAdapter] = {}


def _adapter(model: type[BaseModel], name: str, item: bool = False) -> TypeAdapter:
    key = (model, name, item)
    if key not in _ADAPTERS:
        info = model.model_fields[name]
        ann: Any = info.annotation
        if item:
            ann = typing.get_args(ann)[0]
            _ADAPTERS[key] = TypeAdapter(ann)
        else:
            _ADAPTERS[key] = TypeAdapter(typing.Annotated[ann, *info.metadata] if info.metadata else ann)
    return _ADAPTERS[key]


def salvage(model: type[BaseModel], data: dict) -> BaseModel:
    """A partial record built from the fields (and list items) that are valid on their own.

    A file with schema errors still gets the checks beyond the schema on everything else, so a
    contributor sees every problem in one run. Missing or invalid required fields are None, and so
    are invalid list items (so the valid ones keep their indexes); the checks skip what is None.
    Partial records only ever appear in a result that has problems.
    """
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        if key not in data:
            values[name] = default
            continue
        value = data[key]
        try:
            values[name] = _adapter(model, name).validate_python(value, strict=True)
            continue
        except ValidationError:
            pass
        if isinstance(value, list) and typing.get_origin(info.annotation) is list:
            item = _adapter(model, name, item=True)
            kept: list[Any] = []
            for v in value:
                try:
                    kept.append(item.validate_python(v, strict=True))
                except ValidationError:
                    kept.append(None)  # keeps the indexes of the valid items, which locate problems
            values[name] = kept
        else:
            values[name] = default
    return model.model_construct(**values)
