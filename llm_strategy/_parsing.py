"""Replies to values: find the JSON in a reply, repair it locally, validate it into the declared type."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

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
    found = [value for source in sources for value in _complete_values(source)]
    repaired = [_repaired(source) for source in sources]
    for value in (*found, *repaired):
        envelope = _envelope_in(value)
        if envelope is not None:
            return envelope
    if found:
        return max(found, key=lambda value: len(json.dumps(value)))
    for value in repaired:
        if value not in ("", None):
            return value
    raise ReplyError('The reply contains no JSON. Answer with a JSON object {"return_value": ...}.')


def _envelope_in(value: Any) -> dict[str, Any] | None:
    """The `{"return_value": ...}` object in a value, or in a list of values a repair produced."""
    for candidate in value if isinstance(value, list) else [value]:
        if isinstance(candidate, dict) and RETURN_FIELD in candidate:
            return candidate
    return None


def _repaired(source: str) -> Any:
    """What json-repair makes of the text from its first bracket on ("" when nothing)."""
    start = _first_bracket(source)
    if start is None:
        return ""
    import json_repair  # only replies that are not valid JSON need it

    return json_repair.loads(source[start:])


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
