"""Secrets never leave: redact secret-looking names and values, and truncate very long strings.

One `Redactor` per run learns the run's secrets once (secret environment variables, values
under secret-named keys, `extra_secrets`) and every sink applies that same instance.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, cast

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

__all__ = ["REDACTED", "Redactor", "is_secret_name"]

T = TypeVar("T")
REDACTED = "[REDACTED]"
_SECRET_NAME = re.compile(
    r"api[_-]?key|secret|passw(?:or)?d|credential|authori[sz]ation|private[_-]?key|access[_-]?key|cookie"
    r"|(?:^|[_-])token$",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    r"\bsk-[A-Za-z0-9_\-]{12,}|\bBearer\s+[A-Za-z0-9._\-]{8,}|\b(?:ghp|gho|ghs|xox[abprs])[_-][A-Za-z0-9_\-]{10,}"
    r"|\bAKIA[0-9A-Z]{16}\b|\bAIza[0-9A-Za-z_\-]{30,}|\b(?:gsk|hf|xai|pplx|r8)_[A-Za-z0-9]{16,}"
)
_SECRET_MARKERS = (
    "sk-",
    "Bearer",
    "AKIA",
    "ghp",
    "gho",
    "ghs",
    "xox",
    "AIza",
    "gsk_",
    "hf_",
    "xai_",
    "pplx_",
    "r8_",
)
_MIN_SECRET_LENGTH = 6


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a parameter, key or environment variable name looks like it holds a secret."""
    return bool(_SECRET_NAME.search(name))


class Redactor:
    """Makes data JSON-compatible and safe to export.

    Removes values under secret-looking keys, every occurrence of those values and of secret
    environment variables' values anywhere else (also JSON- and HTML-escaped), and strings shaped
    like API keys; `text` and `clean` truncate strings longer than `max_chars` with a visible marker.
    Secrets shorter than 6 characters are not searched for (they would mask ordinary words).

    Example:
        ```python
        redactor = Redactor(extra_secrets=["hunter2-of-mine"])
        redactor.text("password is hunter2-of-mine")   # 'password is [REDACTED]'
        ```
    """

    def __init__(self, *, max_chars: int = 20_000, extra_secrets: Iterable[str] = ()) -> None:
        self.max_chars = max_chars
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self._add(value for name, value in os.environ.items() if is_secret_name(name))
        self._add(extra_secrets)

    def _add(self, values: Iterable[Any]) -> None:
        found = {
            form
            for value in values
            if isinstance(value, str) and len(value) >= _MIN_SECRET_LENGTH
            for form in (value, json.dumps(value)[1:-1], html.escape(value))
        }
        if not found.issubset(self._secrets):
            with self._lock:  # readers keep the tuple they took; the longest secrets are replaced first
                self._secrets = tuple(sorted(found.union(self._secrets), key=len, reverse=True))

    def learn(self, value: Any) -> None:
        """Remember the values under secret-looking keys or fields in `value`, to scrub them everywhere."""
        found: list[str] = []
        _collect(value, found)
        if found:
            self._add(found)

    def clean(self, value: Any) -> Any:
        """A JSON-compatible, redacted, truncated copy of `value`."""
        return self._clean(to_jsonable_python(value, fallback=_fallback))

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {
                str(key): REDACTED
                if is_secret_name(str(key)) and item not in (None, "")
                else self._clean(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self._clean(item) for item in value]
        return value

    def redact(self, value: T) -> T:
        """`value` with the same types (models, dataclasses, containers), secrets masked, nothing truncated.

        Secret-named string fields and keys become `[REDACTED]`; unchanged parts are the same objects.
        """
        return cast(T, self._redact(value))

    def _redact(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, BaseModel):
            changes = {
                name: redacted
                for name, item in value
                if (redacted := self._redact_item(name, item)) is not item
            }
            return value.model_copy(update=changes) if changes else value
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {
                field.name: redacted
                for field in dataclasses.fields(value)
                if field.init
                and (redacted := self._redact_item(field.name, old := getattr(value, field.name))) is not old
            }
            return dataclasses.replace(value, **changes) if changes else value
        if isinstance(value, Mapping):
            items = {key: self._redact_item(str(key), item) for key, item in value.items()}
            changed = any(items[key] is not item for key, item in value.items())
            return items if changed else value
        if isinstance(value, list | tuple):
            redacted = [self._redact(item) for item in value]
            changed = any(new is not old for new, old in zip(redacted, value, strict=True))
            return type(value)(redacted) if changed else value
        return value

    def _redact_item(self, name: str, item: Any) -> Any:
        if isinstance(item, str) and item and is_secret_name(name):
            return REDACTED
        return self._redact(item)

    def scrub(self, value: str) -> str:
        """A string with every known secret and key-shaped string replaced (not truncated)."""
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        if any(marker in value for marker in _SECRET_MARKERS):
            value = _SECRET_VALUE.sub(REDACTED, value)
        return value

    def text(self, value: str) -> str:
        """A string with secrets replaced and its length capped."""
        value = self.scrub(value)
        if len(value) > self.max_chars:
            value = f"{value[: self.max_chars]}…[truncated {len(value) - self.max_chars} chars]"
        return value


def _collect(value: Any, found: list[str]) -> None:
    """The strings under secret-named keys or fields anywhere in `value`."""
    if value is None or isinstance(value, str | int | float):
        return
    if isinstance(value, BaseModel):
        value = dict(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, str):
                if is_secret_name(str(key)):
                    found.append(item)
            else:
                _collect(item, found)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _collect(item, found)


def _fallback(value: Any) -> Any:
    """Objects JSON cannot hold become their repr."""
    return repr(value)
