"""Deterministic values for a JSON schema: the synthetic model's answers."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["synthesize"]

_WORDS = (
    "amber", "harbor", "maple", "quartz", "river", "cedar", "lumen", "orbit", "willow", "ember",
    "falcon", "meadow", "nova", "pebble", "summit", "tidal", "velvet", "zephyr", "atlas", "coral",
)  # fmt: skip
_FIRST_NAMES = ("Amara", "Lukas", "Mei", "Santiago", "Priya", "Noah", "Ingrid", "Kwame", "Sofia", "Hiroshi")
_LAST_NAMES = (
    "Okafor",
    "Schneider",
    "Tanaka",
    "García",
    "Sharma",
    "Smith",
    "Larsen",
    "Mensah",
    "Rossi",
    "Sato",
)
_CITIES = ("Lagos", "Berlin", "Tokyo", "Bogotá", "Mumbai", "Toronto", "Oslo", "Accra", "Milan", "Osaka")
_MAX_DEPTH = 6


def synthesize(schema: Mapping[str, Any], rng: random.Random, defs: Mapping[str, Any] | None = None) -> Any:
    """A value valid for `schema` (the subset pydantic emits), drawn from `rng`."""
    return _Synthesizer(rng, defs if defs is not None else schema.get("$defs", {})).value(schema, 0)


class _Synthesizer:
    def __init__(self, rng: random.Random, defs: Mapping[str, Any]) -> None:
        self.rng = rng
        self.defs = defs

    def value(self, node: Mapping[str, Any], depth: int, name: str = "") -> Any:
        """A value for `node`; `name` is the field it is for, a hint for believable strings."""
        if "$ref" in node:
            return self.value(self.defs[node["$ref"].rsplit("/", 1)[-1]], depth, name)
        if "allOf" in node:
            return self.value(node["allOf"][0], depth, name)
        if "const" in node:
            return node["const"]
        if "enum" in node:
            return self.rng.choice(list(node["enum"]))
        for key in ("anyOf", "oneOf"):
            if key in node:
                return self._choice(node[key], depth, name)
        kind = node.get("type")
        if isinstance(kind, list):
            return self.value({**node, "type": self.rng.choice(kind)}, depth, name)
        if kind == "array":
            return self._array(node, depth)
        if kind == "object" or "properties" in node:
            return self._object(node, depth)
        if kind == "string":
            return self._string(node, name)
        if kind == "integer":
            low, high = _bounds(node)
            return self.rng.randint(math.ceil(low), max(math.ceil(low), math.floor(high)))
        if kind == "number":
            low, high = _bounds(node)
            return min(high, max(low, round(self.rng.uniform(low, high), 2)))
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self._string({})

    def _choice(self, options: list[Mapping[str, Any]], depth: int, name: str) -> Any:
        concrete = [option for option in options if option.get("type") != "null"]
        if depth >= _MAX_DEPTH and len(concrete) < len(options):
            return None
        return self.value(concrete[0] if concrete else options[0], depth, name)

    def _array(self, node: Mapping[str, Any], depth: int) -> list[Any]:
        if "prefixItems" in node:
            return [self.value(item, depth + 1) for item in node["prefixItems"]]
        low = node.get("minItems", 0 if depth >= _MAX_DEPTH else 1)
        high = max(low, node.get("maxItems", low + 2))
        items = node.get("items", {})
        values = [self.value(items, depth + 1) for _ in range(self.rng.randint(low, high))]
        if node.get("uniqueItems"):
            unique = []
            for value in values:
                if value not in unique:
                    unique.append(value)
            values = unique
        return values

    def _object(self, node: Mapping[str, Any], depth: int) -> dict[str, Any]:
        properties: Mapping[str, Any] = node.get("properties", {})
        if not properties:
            extra = node.get("additionalProperties")
            if isinstance(extra, dict) and depth < _MAX_DEPTH:
                keys = node.get("propertyNames")
                key = str(self.value(keys, depth + 1)) if keys else self._word()
                return {key: self.value(extra, depth + 1)}
            return {}
        required = set(node.get("required", properties))
        return {
            name: self.value(field, depth + 1, name)
            for name, field in properties.items()
            if name in required or depth < _MAX_DEPTH - 1
        }

    def _string(self, node: Mapping[str, Any], name: str = "") -> str:
        fmt = node.get("format") or _format_for(name)
        if fmt == "date":
            return (
                f"{self.rng.randint(1950, 2025)}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"
            )
        if fmt == "date-time":
            hour, minute = self.rng.randint(0, 23), self.rng.randint(0, 59)
            return f"{self._string({'format': 'date'})}T{hour:02d}:{minute:02d}:00Z"
        if fmt == "email":
            return f"{self._word()}@{self._word()}.example"
        if fmt in ("uri", "url"):
            return f"https://{self._word()}.example/{self._word()}"
        if fmt == "uuid":
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        text = self._believable(name.lower()) or " ".join(self._word() for _ in range(self.rng.randint(1, 3)))
        low, high = node.get("minLength", 0), node.get("maxLength")
        while len(text) < low:
            text += " " + self._word()
        return text[:high] if high is not None else text

    def _believable(self, name: str) -> str | None:
        """A string that suits the field's name, or None."""
        if name in ("first_name", "given_name", "firstname"):
            return self.rng.choice(_FIRST_NAMES)
        if name in ("last_name", "surname", "family_name", "lastname"):
            return self.rng.choice(_LAST_NAMES)
        if name in ("name", "full_name", "author", "owner"):
            return f"{self.rng.choice(_FIRST_NAMES)} {self.rng.choice(_LAST_NAMES)}"
        if name in ("key", "id", "identifier") or name.endswith(("_key", "_id")):
            return f"K-{self.rng.randint(1000, 9999)}"
        if name in ("city", "town"):
            return self.rng.choice(_CITIES)
        if "address" in name:
            return f"{self.rng.randint(1, 250)} {self._word().title()} Street, {self.rng.choice(_CITIES)}"
        return None

    def _word(self) -> str:
        return self.rng.choice(_WORDS)


def _bounds(node: Mapping[str, Any]) -> tuple[float, float]:
    """The numeric range a node allows; 0 to 100 above the minimum when open."""
    epsilon = 1e-6
    low = node.get("minimum", node["exclusiveMinimum"] + epsilon if "exclusiveMinimum" in node else None)
    high = node.get("maximum", node["exclusiveMaximum"] - epsilon if "exclusiveMaximum" in node else None)
    if low is None:
        low = 0.0 if high is None or high >= 0 else high - 100
    if high is None:
        high = low + 100
    return float(low), float(max(low, high))


def _format_for(name: str) -> str | None:
    """The string format a field's name suggests (`birthdate` is a date)."""
    lowered = name.lower()
    if lowered.endswith(("date", "_on", "birthday")):
        return "date"
    if lowered.endswith(("_at", "time", "timestamp")):
        return "date-time"
    if "email" in lowered:
        return "email"
    if lowered.endswith(("url", "uri", "link")):
        return "uri"
    return None
