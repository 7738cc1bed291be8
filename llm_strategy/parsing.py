"""Replies to values: find the JSON in a reply, repair it locally, validate it into the declared type."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import json_repair
from pydantic import TypeAdapter, ValidationError

__all__ = ["RETURN_FIELD", "ReplyError", "extract_json", "format_validation_error", "parse_reply"]

RETURN_FIELD = "return_value"
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()
_MAX_INPUT_SHOWN = 80


class ReplyError(ValueError):
    """A reply that cannot be used; the message is what the model is told on retry."""


def parse_reply(text: str, adapter: TypeAdapter[Any], *, data: Any = None) -> Any:
    """Validate a reply into the adapter's type.

    `data` is the already-parsed object of a native structured reply; without it the JSON is
    extracted from `text`. A `{"return_value": ...}` envelope is unwrapped when present.
    """
    if data is None:
        data = _plain_text_value(text, adapter)
    if data is None:
        data = extract_json(text)
    if isinstance(data, dict) and RETURN_FIELD in data:
        data = data[RETURN_FIELD]
    try:
        return adapter.validate_python(data)
    except ValidationError as error:
        raise ReplyError(format_validation_error(error)) from error


def _plain_text_value(text: str, adapter: TypeAdapter[Any]) -> str | None:
    """A reply without any JSON is taken as is when a plain string is expected."""
    if adapter.core_schema.get("type") == "str" and not any(bracket in text for bracket in "{["):
        return text.strip()
    return None


def extract_json(text: str) -> Any:
    """The JSON value in a reply: whole, fenced, inside prose, or repaired; prefers an envelope."""
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    sources = [match.group(1) for match in _FENCE.finditer(stripped)] + [stripped]
    for source in sources:
        values = list(_complete_values(source))
        for value in values:
            if isinstance(value, dict) and RETURN_FIELD in value:
                return value
        if values:
            return max(values, key=lambda value: len(json.dumps(value)))
    start = _first_bracket(sources[0])
    if start is not None:
        repaired = json_repair.loads(sources[0][start:])
        if repaired not in ("", None):
            return repaired
    raise ReplyError('The reply contains no JSON. Answer with a JSON object {"return_value": ...}.')


def _first_bracket(text: str) -> int | None:
    positions = [position for position in (text.find("{"), text.find("[")) if position >= 0]
    return min(positions) if positions else None


def _complete_values(text: str) -> Iterator[Any]:
    """Every well-formed JSON object or array embedded in the text, left to right."""
    position = 0
    while (start := _first_bracket(text[position:])) is not None:
        start += position
        try:
            value, end = _DECODER.raw_decode(text, start)
        except ValueError:
            position = start + 1
            continue
        yield value
        position = end


def format_validation_error(error: ValidationError) -> str:
    """A short, token-cheap description of each validation problem."""
    lines = []
    for detail in error.errors(include_url=False):
        location = ".".join(str(part) for part in detail["loc"]) or "value"
        shown = json.dumps(detail.get("input"), default=repr)
        if len(shown) > _MAX_INPUT_SHOWN:
            shown = shown[:_MAX_INPUT_SHOWN] + "…"
        lines.append(f"{location}: {detail['msg']} (got {shown})")
    return "\n".join(lines)
