"""Replies to values: find the JSON in a reply, repair it locally, validate it into the declared type.

The work is linear in the reply. The bracket nesting is measured first, at C speed, and a reply
nested deeper than `MAX_DEPTH` is rejected before any recursive decoder (json, json-repair,
pydantic) sees it. Embedded values are decoded left to right, never twice, within a bounded
number of tries, and only a bounded amount of text is handed to the (pure Python) repairer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import CoreSchema

__all__ = [
    "MAX_DEPTH",
    "MAX_REPAIR_CHARS",
    "RETURN_FIELD",
    "ReplyError",
    "excerpt",
    "extract_json",
    "format_validation_error",
    "parse_reply",
]

RETURN_FIELD = "return_value"
MAX_DEPTH = 64
"""Most brackets a reply may leave open at once, counting those inside strings too. No typed output
nests this deep, and the bound keeps every recursive decoder far below Python's recursion limit,
whichever bracket it starts from and however it reads quotes."""
MAX_REPAIR_CHARS = 32_000
"""Most text handed to json-repair per reply. It parses in pure Python at about 4 us a character,
so this bounds the repair of a rejected attempt to about 0.15 s; a longer broken reply is retried
with the error instead."""
_MAX_TRIES = 4_096
"""Most places an embedded value is decoded from, in a reply that is not JSON as a whole."""
_WINDOW = 4_096
"""Text an embedded value is first decoded from (most tries fail within a few characters)."""
_MAX_ERRORS_SHOWN = 10
_MAX_INPUT_SHOWN = 80
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\r?\n(.*?)```", re.DOTALL)
_OPENER = re.compile(r"[\[{]")
_ENVELOPE = re.compile(r'\{\s*"' + RETURN_FIELD + r'"\s*:')
_VALUE = re.compile(r'\[\s*(?:[\[\]{"\d-]|true|false|null)|\{\s*["}]')
"""Where a JSON array or object can start (prose brackets mostly cannot)."""
_AS_PARENTHESES = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_DECODER = json.JSONDecoder(strict=False)
_NULL_TEXT = ("", "null")
_NOT_TEXT = object()


class ReplyError(ValueError):
    """A reply that cannot be used; the message is what the model is told on retry."""


def parse_reply(text: str, adapter: TypeAdapter[Any], *, data: Any = None) -> Any:
    """Validate a reply into the adapter's type.

    `data` is the already-parsed object of a native structured reply; without it the JSON is
    extracted from `text`. A `{"return_value": ...}` envelope is unwrapped when present.
    """
    if data is None:
        data = _plain_text_value(text, adapter.core_schema)
        if data is _NOT_TEXT:
            data = extract_json(text)
            if _ESCAPED_SURROGATE.search(text):  # the reply itself is clean; its JSON may decode to one
                data = valid_unicode(data)
    if isinstance(data, dict) and RETURN_FIELD in data:
        data = data[RETURN_FIELD]
    try:
        return adapter.validate_python(data)
    except ValidationError as error:
        raise ReplyError(format_validation_error(error)) from error


def valid_unicode(data: Any) -> Any:
    """JSON-like data with each lone surrogate replaced by U+FFFD.

    A reply may hold one as a valid JSON escape ("\\ud800") that decodes to no character: the
    value could then be neither stored nor sent on in a later request.
    """
    if isinstance(data, str):
        return (
            data.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if _LONE.search(data) else data
        )
    if isinstance(data, list):
        return [valid_unicode(item) for item in data]
    if isinstance(data, dict):
        return {valid_unicode(key): valid_unicode(value) for key, value in data.items()}
    return data


_LONE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _plain_text_value(text: str, schema: CoreSchema) -> Any:
    """A reply without brackets, taken as is when text is expected; `_NOT_TEXT` when JSON is to be parsed.

    For `Optional[str]` an empty reply or a bare `null` is None; for `str` the stripped text is
    validated, so an empty reply is rejected there.
    """
    if "{" in text or "[" in text:
        return _NOT_TEXT
    while schema["type"] in ("function-after", "function-before"):
        schema = schema["schema"]
    if schema["type"] == "str":
        return text.strip()
    if schema["type"] == "nullable" and schema["schema"]["type"] == "str":
        stripped = text.strip()
        return None if stripped in _NULL_TEXT else stripped
    return _NOT_TEXT


def extract_json(text: str) -> Any:
    """The JSON value in a reply: whole, fenced, inside prose, or repaired; prefers an envelope."""
    stripped = text.strip()
    if len(stripped) > MAX_DEPTH and bracket_depth(stripped) > MAX_DEPTH:
        raise ReplyError(
            f"The reply nests brackets more than {MAX_DEPTH} levels deep. "
            'Answer with one JSON object {"return_value": ...}, nothing else.'
        )
    try:
        return _DECODER.decode(stripped)
    except ValueError:
        pass
    for value, _ in _embedded(stripped, _ENVELOPE):
        if isinstance(value, dict) and RETURN_FIELD in value:
            return value
    sources = [match.group(1) for match in _FENCE.finditer(stripped)] + [stripped]
    repaired = list(_repaired(sources))
    for value in repaired:
        envelope = _envelope_in(value)
        if envelope is not None:
            return envelope
    found = list(_embedded(stripped, _VALUE))
    if found:
        return max(found, key=lambda pair: pair[1])[0]
    if repaired:
        return repaired[0]
    if _OPENER.search(stripped):
        raise ReplyError(
            'The reply is not valid JSON. Answer with one JSON object {"return_value": ...}, nothing else.'
        )
    raise ReplyError('The reply contains no JSON. Answer with a JSON object {"return_value": ...}.')


def bracket_depth(text: str) -> int:
    """How many brackets can be open at once, counting those in strings and mismatched pairs too.

    Exact up to `MAX_DEPTH` (+1 beyond) when every opener is closed; else an upper bound. Runs at
    C speed: empty pairs are peeled off, one nesting level per round.
    """
    brackets = text.encode("utf-8", "surrogatepass").translate(_AS_PARENTHESES, _NOT_BRACKETS)
    rounds = 0
    while b"()" in brackets:
        if rounds == MAX_DEPTH:
            return MAX_DEPTH + 1
        brackets = brackets.replace(b"()", b"")
        rounds += 1
    return rounds + brackets.count(b"(")  # what is left is `)))(((`: closers with nothing open


def _embedded(text: str, starts: re.Pattern[str]) -> Iterator[tuple[Any, int]]:
    """The JSON values that start where `starts` matches, left to right, with their lengths.

    The search goes on after each decoded value, and after the point where a try failed (a value
    starting before it would fail there too), so no text is decoded twice; at most `_MAX_TRIES`
    tries. Call it only once `bracket_depth` is bounded.
    """
    position = 0
    for _ in range(_MAX_TRIES):
        match = starts.search(text, position)
        if match is None:
            return
        start = match.start()
        try:
            value, length = _decode_at(text, start)
        except ValueError as error:  # also an integer of more digits than Python converts
            position = max(getattr(error, "pos", start), start) + 1
            continue
        position = start + length
        yield value, length


def _decode_at(text: str, start: int) -> tuple[Any, int]:
    """The JSON value at `start` and its length; `JSONDecodeError.pos` is absolute.

    Tried first on a `_WINDOW` of text, since json's error report counts the lines from the text's
    start (a failed try on the whole text costs a pass over it); the whole text only when the
    value may run past the window.
    """
    window = text[start : start + _WINDOW]
    try:
        value, end = _DECODER.raw_decode(window)
        return value, end
    except json.JSONDecodeError as error:
        cut = error.pos >= len(window) - 1 or error.msg.startswith("Unterminated string")
        if not cut or start + len(window) == len(text):
            error.pos += start
            raise
    value, end = _DECODER.raw_decode(text, start)
    return value, end - start


def _envelope_in(value: Any) -> dict[str, Any] | None:
    """The `{"return_value": ...}` object in a value, or in a list of values a repair produced."""
    for candidate in value if isinstance(value, list) else [value]:
        if isinstance(candidate, dict) and RETURN_FIELD in candidate:
            return candidate
    return None


def _repaired(sources: list[str]) -> Iterator[Any]:
    """What json-repair makes of each text from its first bracket on, within `MAX_REPAIR_CHARS` in all."""
    budget = MAX_REPAIR_CHARS
    for source in sources:
        start = _OPENER.search(source)
        if start is None or len(source) - start.start() > budget:
            continue
        text = source[start.start() :]
        budget -= len(text)
        import json_repair  # only replies that are not valid JSON need it

        try:
            value = json_repair.loads(text)
        except Exception:  # a heuristic parser: on some garbage it fails with its own AssertionError,
            continue  # or a ValueError (an integer of more digits than Python converts): not mendable
        if value not in ("", None):
            yield value


def format_validation_error(error: ValidationError) -> str:
    """A short, token-cheap description of the first validation problems."""
    details = error.errors(include_url=False)
    lines = []
    for detail in details[:_MAX_ERRORS_SHOWN]:
        location = ".".join(str(part) for part in detail["loc"]) or "value"
        lines.append(f"{location}: {detail['msg']} (got {_shown(detail.get('input'))})")
    if len(details) > _MAX_ERRORS_SHOWN:
        lines.append(f"... and {len(details) - _MAX_ERRORS_SHOWN} more errors")
    return "\n".join(lines)


def _shown(value: Any) -> str:
    """A value as short JSON, cut at `_MAX_INPUT_SHOWN` characters."""
    if isinstance(value, str) and len(value) > _MAX_INPUT_SHOWN:
        value = value[:_MAX_INPUT_SHOWN]
    try:
        shown = json.dumps(value, default=repr)
    except (ValueError, RecursionError):  # an integer too long for text; a native reply nested deep
        shown = f"<{type(value).__name__}>"
    return shown[:_MAX_INPUT_SHOWN] + "…" if len(shown) > _MAX_INPUT_SHOWN else shown


def excerpt(text: str, limit: int) -> str:
    """The text as valid Unicode; over `limit` characters, its head and tail around a note of the cut."""
    if len(text) > limit:
        tail = limit // 2
        omitted = len(text) - limit
        text = f"{text[: limit - tail]}\n[... {omitted} characters omitted ...]\n{text[len(text) - tail :]}"
    return text.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate becomes "?"
