"""Compact schemas for prompts: a TypeScript-like outline, and a title-free JSON schema.

The outline keeps every description (as `// comments`) and constraint, renders shared
definitions once, and inlines definitions used only once:

```
Item = {
 name:string, // what it is called
 price:float // >= 0
}
Input: {items:Item[],budget:float}
Reply with JSON {"return_value": Item[]}
```
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

__all__ = [
    "Outline",
    "compact_json_schema",
    "has_objects",
    "json_schema_of",
    "native_form",
    "strict_json_schema",
]

_PRIMITIVES = {"string": "string", "integer": "int", "number": "float", "boolean": "bool", "null": "null"}
_CONSTRAINTS = (
    ("minimum", ">= {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "<= {}"),
    ("exclusiveMaximum", "< {}"),
    ("minLength", "min length {}"),
    ("maxLength", "max length {}"),
    ("minItems", "min {} items"),
    ("maxItems", "max {} items"),
    ("pattern", "pattern {}"),
    ("format", "format {}"),
)


class _DocumentedGenerics(GenerateJsonSchema):
    """Keeps the docstring of a parametrized generic model (`Box[int]` loses `Box`'s)."""

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        value = super().model_schema(schema)
        cls = schema["cls"]
        origin = cls.__pydantic_generic_metadata__["origin"] if issubclass(cls, BaseModel) else None
        if origin is not None and origin.__doc__ and "description" not in value:
            value["description"] = " ".join(origin.__doc__.split())
        return value


def json_schema_of(adapter: TypeAdapter[Any]) -> dict[str, Any]:
    """The validation JSON schema of a type, docstrings of generic models included."""
    return adapter.json_schema(schema_generator=_DocumentedGenerics)


def compact_json_schema(schema: Mapping[str, Any], title: str) -> dict[str, Any]:
    """A copy without the per-field titles pydantic adds; `title` names the whole schema."""
    return {"title": title, **_without(schema, "title")}


def _without(node: Any, keyword: str) -> Any:
    """A copy of a schema without `keyword` anywhere (names under `properties` and `$defs` kept)."""
    if isinstance(node, dict):
        return {
            key: (
                {name: _without(value, keyword) for name, value in item.items()}
                if key in ("properties", "$defs")
                else _without(item, keyword)
            )
            for key, item in node.items()
            if key != keyword
        }
    if isinstance(node, list):
        return [_without(item, keyword) for item in node]
    return node


class Outline:
    """Renders parts of one JSON schema (sharing its `$defs`) as compact outlines."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._defs: Mapping[str, Any] = schema.get("$defs", {})
        self._names = _display_names(self._defs)
        uses = Counter(_refs(schema))
        recursive = {name for name in self._defs if name in set(_refs(self._defs[name]))}
        self._named = {name for name in self._defs if uses[name] > 1 or name in recursive}

    def definitions(self, within: Mapping[str, Any] | None = None) -> list[str]:
        """`Name = outline` lines for definitions used more than once or recursively.

        With `within`, only those that node refers to, directly or through other definitions.
        """
        keys = self._named if within is None else self.named_within(within)
        lines = []
        for key in sorted(keys, key=lambda k: self._names[k]):
            definition = self._defs[key]
            body = self.render({k: v for k, v in definition.items() if k != "description"})
            comment = definition.get("description")
            prefix = f"// {_one_line(comment)}\n" if comment else ""
            lines.append(f"{prefix}{self._names[key]} = {body}")
        return lines

    def named_within(self, node: Mapping[str, Any]) -> set[str]:
        """The keys of the named definitions a node's outline shows, directly or through others."""
        return self._named & self._reachable(node)

    def _reachable(self, node: Mapping[str, Any]) -> set[str]:
        seen: set[str] = set()
        pending = list(_refs(node))
        while pending:
            key = pending.pop()
            if key not in seen and key in self._defs:
                seen.add(key)
                pending.extend(_refs(self._defs[key]))
        return seen

    def described(self, node: Mapping[str, Any]) -> tuple[str, str]:
        """The outline of a node and its own description and constraints (for a `//` comment)."""
        return self.render(node), _comment(node)

    def render(self, node: Mapping[str, Any], indent: str = "") -> str:
        """The outline of one schema node."""
        if "$ref" in node:
            key = node["$ref"].rsplit("/", 1)[-1]
            if key in self._named:
                return self._names[key]
            return self.render(self._defs[key], indent)
        if "allOf" in node and len(node["allOf"]) == 1:
            return self.render(node["allOf"][0], indent)
        if "const" in node:
            return json.dumps(node["const"])
        if "enum" in node:
            return "|".join(json.dumps(value) for value in node["enum"])
        for key in ("anyOf", "oneOf"):
            if key in node:
                return "|".join(self._wrapped(option, indent) for option in node[key])
        kind = node.get("type")
        if isinstance(kind, list):
            return "|".join(self.render({**node, "type": one}, indent) for one in kind)
        if kind == "array":
            return self._array(node, indent)
        if kind == "object" or "properties" in node:
            return self._object(node, indent)
        if kind in _PRIMITIVES:
            return _PRIMITIVES[kind]
        return "any"

    def _wrapped(self, node: Mapping[str, Any], indent: str) -> str:
        """The outline in parentheses when it is a union, so `(a|b)[]` keeps its meaning."""
        text = self.render(node, indent)
        return f"({text})" if self._is_union(node) else text

    def _is_union(self, node: Mapping[str, Any]) -> bool:
        if "$ref" in node:
            key = node["$ref"].rsplit("/", 1)[-1]
            return key not in self._named and self._is_union(self._defs[key])
        options = node.get("anyOf") or node.get("oneOf") or node.get("enum") or node.get("type")
        return isinstance(options, list) and len(options) > 1

    def _array(self, node: Mapping[str, Any], indent: str) -> str:
        if "prefixItems" in node:
            return "[" + ",".join(self.render(item, indent) for item in node["prefixItems"]) + "]"
        items = node.get("items")
        if not items:
            return "any[]"
        return self._wrapped(items, indent) + "[]"

    def _object(self, node: Mapping[str, Any], indent: str) -> str:
        properties: Mapping[str, Any] = node.get("properties", {})
        extra = node.get("additionalProperties")
        if not properties:
            if isinstance(extra, dict):
                keys = node.get("propertyNames")
                key_outline = self.render(keys, indent) if keys else "string"
                return f"dict[{key_outline},{self.render(extra, indent)}]"
            return "dict[string,any]"
        required = set(node.get("required", ()))
        inner = indent + " "
        fields = []
        for name, field in properties.items():
            label = name if name.isidentifier() else json.dumps(name)
            marker = "" if name in required else "?"
            fields.append((f"{label}{marker}:{self.render(field, inner)}", _comment(field)))
        description = node.get("description")
        one_line = "{" + ",".join(text for text, _ in fields) + "}"
        if not description and not any(comment for _, comment in fields) and "\n" not in one_line:
            return one_line
        lines = ["{"]
        if description:
            lines.append(f"{inner}// {_one_line(description)}")
        for position, (text, comment) in enumerate(fields, start=1):
            separator = "," if position < len(fields) else ""
            lines.append(f"{inner}{text}{separator}" + (f" // {comment}" if comment else ""))
        lines.append(indent + "}")
        return "\n".join(lines)


def _comment(field: Mapping[str, Any]) -> str:
    """Description and constraints of a field, for a trailing comment."""
    parts = []
    if field.get("description"):
        parts.append(_one_line(field["description"]))
    for key, template in _CONSTRAINTS:
        if key in field and not (key in ("minItems", "maxItems") and "prefixItems" in field):
            parts.append(template.format(field[key]))
    if field.get("uniqueItems"):
        parts.append("unique items")
    return "; ".join(parts)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"].rsplit("/", 1)[-1]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _display_names(defs: Mapping[str, Any]) -> dict[str, str]:
    """Unique identifiers for definitions, from their titles (`Box[int]` becomes `Box_int`)."""
    names = {
        key: re.sub(r"\W+", "_", definition.get("title", key)).strip("_") or key
        for key, definition in defs.items()
    }
    counts = Counter(names.values())
    return {key: name if counts[name] == 1 else key for key, name in names.items()}


_STRICT_KEYWORDS = frozenset(
    {
        "type", "properties", "required", "additionalProperties", "items", "anyOf", "enum", "const",
        "$ref", "$defs", "description", "title", "pattern", "format", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems",
    }
)  # fmt: skip


def has_objects(node: Any, definitions: Mapping[str, Any], seen: frozenset[str] = frozenset()) -> bool:
    """Whether a schema node holds an object (with fields or free keys), following `$ref`s."""
    if isinstance(node, list):
        return any(has_objects(item, definitions, seen) for item in node)
    if not isinstance(node, dict):
        return False
    if node.get("type") == "object" or "properties" in node:
        return True
    reference = node.get("$ref", "").rsplit("/", 1)[-1]
    if reference:
        return reference not in seen and has_objects(
            definitions.get(reference), definitions, seen | {reference}
        )
    return any(has_objects(value, definitions, seen) for value in node.values())


def native_form(reply: Mapping[str, Any], shown: set[str], field: str) -> tuple[dict[str, Any], bool]:
    """The schema to send natively for a `{field: ...}` reply schema, and whether it keeps the envelope.

    Definitions the prompt already shows (`shown`) lose their descriptions; an output that is
    an object defined once is sent as itself, without the envelope.
    """
    schema = copy.deepcopy(dict(reply))
    definitions = schema.get("$defs", {})
    for key in shown & definitions.keys():
        definitions[key] = _without(definitions[key], "description")
    output = schema["properties"][field]
    key = output.get("$ref", "").rsplit("/", 1)[-1]
    definition = definitions.get(key)
    if definition is None or "properties" not in definition or output.keys() - {"$ref", "description"}:
        return schema, True
    if sum(1 for ref in _refs(schema) if ref == key) > 1:
        return schema, True  # used elsewhere or recursive: keep it where it is
    others = {name: value for name, value in definitions.items() if name != key}
    described = {"description": output["description"]} if "description" in output else {}
    unwrapped = {"title": schema["title"], **definition, **described, **({"$defs": others} if others else {})}
    return unwrapped, False


def strict_json_schema(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """The schema in the strict form OpenAI-style providers guarantee, or None if it has no such form.

    Every object gets `additionalProperties: false` and all its properties required (the
    value validates either way; a default just goes unused); `oneOf` becomes `anyOf`; keywords
    strict mode rejects are dropped (local validation still enforces them). Maps with free keys
    and tuples have no strict form.
    """

    definitions = schema.get("$defs", {})

    def strict(node: Any, inlined: frozenset[str] = frozenset()) -> Any:
        if isinstance(node, list):
            return [strict(item, inlined) for item in node]
        if not isinstance(node, dict):
            return node
        if "prefixItems" in node or "allOf" in node or isinstance(node.get("additionalProperties"), dict):
            raise _NotStrict
        free_object = node.get("type") == "object" and "properties" not in node
        if node.get("additionalProperties") is True or free_object or not node.keys() & _TYPED:
            raise _NotStrict  # free keys, or `Any`: strict mode has no form for them
        if "$ref" in node and len(node) > 1:  # strict mode allows nothing beside a $ref: inline it
            key = node["$ref"].rsplit("/", 1)[-1]
            if key in inlined or key not in definitions:
                raise _NotStrict  # recursive
            merged = {**definitions[key], **{k: v for k, v in node.items() if k != "$ref"}}
            return strict(merged, inlined | {key})
        result = {
            ("anyOf" if key == "oneOf" else key): (
                {name: strict(value, inlined) for name, value in item.items()}
                if key in ("properties", "$defs")
                else strict(item, inlined)
            )
            for key, item in node.items()
            if key in _STRICT_KEYWORDS or key == "oneOf"
        }
        dropped = [_CONSTRAINT_TEXT[key].format(node[key]) for key in node if key in _CONSTRAINT_TEXT]
        if dropped:  # still enforced locally; said in words so the model can follow them
            result["description"] = "; ".join([*filter(None, [result.get("description")]), *dropped])
        if "properties" in result:
            result["required"] = list(result["properties"])
            result["additionalProperties"] = False
        return result

    try:
        return strict(dict(schema))
    except _NotStrict:
        return None


_TYPED = frozenset({"type", "anyOf", "oneOf", "$ref", "enum", "const", "properties", "$defs"})
_CONSTRAINT_TEXT = {
    "minLength": "min length {}",
    "maxLength": "max length {}",
    "uniqueItems": "unique items: {}",
    "minProperties": "min {} properties",
    "maxProperties": "max {} properties",
}


class _NotStrict(Exception):
    """A schema part that strict mode cannot express."""
