"""Read the outline language back into a JSON schema, as a model reading a prompt would."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

__all__ = ["OutlineSyntaxError", "read_output_schema"]

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<comment>//[^\n]*)
    |(?P<string>"(?:[^"\\]|\\.)*")
    |(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<punct>[{}\[\]()|,:?=])
    )""",
    re.VERBOSE,
)
_PRIMITIVES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "null": {"type": "null"},
    "any": {},
}
_CONSTRAINTS = (
    (re.compile(r"^>= (\S+)$"), "minimum"),
    (re.compile(r"^> (\S+)$"), "exclusiveMinimum"),
    (re.compile(r"^<= (\S+)$"), "maximum"),
    (re.compile(r"^< (\S+)$"), "exclusiveMaximum"),
    (re.compile(r"^min (\d+) items$"), "minItems"),
    (re.compile(r"^max (\d+) items$"), "maxItems"),
    (re.compile(r"^min length (\d+)$"), "minLength"),
    (re.compile(r"^max length (\d+)$"), "maxLength"),
    (re.compile(r"^format (\S+)$"), "format"),
)


class OutlineSyntaxError(ValueError):
    """The text is not a well-formed outline."""


def read_output_schema(prompt: str) -> dict[str, Any] | None:
    """The JSON schema (with `$defs`) of the last `{"return_value": <outline>}` of a prompt, or None."""
    starts = [match.end() for match in re.finditer(r'\{"return_value": ', prompt)]
    if not starts:
        return None
    defs = {}
    for match in re.finditer(r"(?m)^(?:// [^\n]*\n)?([A-Za-z_]\w*) = ", prompt):
        try:
            defs[match.group(1)] = _Parser(prompt, match.end()).schema()
        except OutlineSyntaxError:
            continue
    return {**_Parser(prompt, starts[-1]).schema(), "$defs": defs}


class _Parser:
    def __init__(self, text: str, position: int) -> None:
        self._tokens = self._scan(text, position)
        self._buffer: list[tuple[str, str]] = []

    @staticmethod
    def _scan(text: str, position: int) -> Iterator[tuple[str, str]]:
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                return
            position = match.end()
            kind = match.lastgroup
            if kind is not None:
                yield kind, match.group(kind)

    def _fill(self, count: int) -> None:
        while len(self._buffer) < count:
            self._buffer.append(next(self._tokens, ("end", "")))

    def _peek(self) -> tuple[str, str]:
        """The next token that is not a comment; comments stay in place."""
        index = 0
        while True:
            self._fill(index + 1)
            if self._buffer[index][0] != "comment":
                return self._buffer[index]
            index += 1

    def _next(self) -> tuple[str, str]:
        token = self._peek()
        while self._buffer.pop(0) is not token:
            pass
        return token

    def _expect(self, value: str) -> None:
        _, text = self._next()
        if text != value:
            raise OutlineSyntaxError(f"expected {value!r}, got {text!r}")

    def schema(self) -> dict[str, Any]:
        """One type, with the constraints of a comment that follows it (after a closing brace)."""
        node = self._type()
        if self._peek()[1] == "}":
            self._next()
        return {**node, **self._comment()}

    def _comment(self) -> dict[str, Any]:
        self._fill(1)
        kind, text = self._buffer[0]
        if kind != "comment":
            return {}
        self._buffer.pop(0)
        constraints: dict[str, Any] = {}
        for part in text[2:].strip().split("; "):
            if part == "unique items":
                constraints["uniqueItems"] = True
            for pattern, key in _CONSTRAINTS:
                found = pattern.match(part)
                if found:
                    raw = found.group(1)
                    constraints[key] = raw if key == "format" else json.loads(raw)
        return constraints

    def _type(self) -> dict[str, Any]:
        options = [self._postfix()]
        while self._peek()[1] == "|":
            self._next()
            options.append(self._postfix())
        return options[0] if len(options) == 1 else {"anyOf": options}

    def _postfix(self) -> dict[str, Any]:
        node = self._primary()
        while self._peek()[1] == "[":
            self._next()
            self._expect("]")
            node = {"type": "array", "items": node}
        return node

    def _primary(self) -> dict[str, Any]:
        kind, text = self._next()
        if text == "(":
            node = self._type()
            self._expect(")")
            return node
        if text == "{":
            return self._object()
        if text == "[":
            items = [self._type()]
            while self._peek()[1] == ",":
                self._next()
                items.append(self._type())
            self._expect("]")
            return {"type": "array", "prefixItems": items}
        if kind in ("string", "number") or text in ("true", "false"):
            return {"const": json.loads(text)}
        if text == "dict":
            self._expect("[")
            keys = self._type()
            self._expect(",")
            values = self._type()
            self._expect("]")
            if keys.get("type") == "string":
                return {"type": "object", "additionalProperties": values}
            return {"type": "object", "additionalProperties": values, "propertyNames": keys}
        if kind == "ident":
            return dict(_PRIMITIVES[text]) if text in _PRIMITIVES else {"$ref": f"#/$defs/{text}"}
        raise OutlineSyntaxError(f"unexpected {text!r}")

    def _object(self) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        while self._peek()[1] != "}":
            kind, name = self._next()
            if kind not in ("ident", "string"):
                raise OutlineSyntaxError(f"expected a field name, got {name!r}")
            name = json.loads(name) if kind == "string" else name
            optional = self._peek()[1] == "?"
            if optional:
                self._next()
            self._expect(":")
            field = self._type()
            if self._peek()[1] == ",":
                self._next()
            properties[name] = {**field, **self._comment()}
            if not optional:
                required.append(name)
        self._next()
        return {"type": "object", "properties": properties, "required": required}
