"""Descriptions a prompt shows: their defaults read from annotations, and overrides applied to schemas.

Keys name what is described: a parameter (or an explicit input's field) by name, `return`
for the output, and `return.<field>` for a field of an output model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ._parsing import RETURN_FIELD

__all__ = ["RETURN_KEY", "apply_descriptions", "described_keys", "input_fields"]

RETURN_KEY = "return"


def described_keys(inputs: Mapping[str, Any], return_annotation: Any) -> tuple[dict[str, str], list[str]]:
    """The descriptions the annotations give, and every key that can carry one."""
    descriptions: dict[str, str] = {}
    keys: list[str] = []
    for name, annotation in inputs.items():
        keys.append(name)
        _collect(descriptions, name, annotation)
    keys.append(RETURN_KEY)
    _collect(descriptions, RETURN_KEY, return_annotation)
    model = _model_of(return_annotation)
    if model is not None:
        for field_name, field in model.model_fields.items():
            key = f"{RETURN_KEY}.{field_name}"
            keys.append(key)
            if field.description:
                descriptions[key] = field.description
    return descriptions, keys


def input_fields(annotation: Any) -> dict[str, Any]:
    """The fields of an explicit input model, by name, with their annotations."""
    model = _model_of(annotation)
    if model is None:
        return {}
    return {
        name: Annotated[field.annotation, field] if field.description else field.annotation
        for name, field in model.model_fields.items()
    }


def apply_descriptions(
    combined: dict[str, Any], reply: dict[str, Any], descriptions: Mapping[str, str]
) -> None:
    """Write descriptions into the combined input/output schema and the reply output schema."""
    input_node = _resolved(combined, combined["properties"]["input"])
    for key, text in descriptions.items():
        if key == RETURN_KEY:
            combined["properties"]["output"]["description"] = text
            reply["properties"][RETURN_FIELD]["description"] = text
        elif key.startswith(f"{RETURN_KEY}."):
            field = key.split(".", 1)[1]
            for schema, node in (
                (combined, combined["properties"]["output"]),
                (reply, reply["properties"][RETURN_FIELD]),
            ):
                properties = _resolved(schema, node).get("properties", {})
                if field in properties:
                    properties[field]["description"] = text
        elif key in input_node.get("properties", {}):
            input_node["properties"][key]["description"] = text


def _resolved(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The node a `$ref` points to (the node itself otherwise)."""
    reference = node.get("$ref")
    if reference is None:
        return node
    resolved: dict[str, Any] = schema["$defs"][reference.rsplit("/", 1)[-1]]
    return resolved


def _collect(descriptions: dict[str, str], key: str, annotation: Any) -> None:
    if get_origin(annotation) is Annotated:
        for item in annotation.__metadata__:
            if isinstance(item, FieldInfo) and item.description:
                descriptions[key] = item.description


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation stands for, through `Annotated` and parametrization."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None
