"""Secrets never leave: redact secret-looking names and values, and truncate very long strings."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic_core import to_jsonable_python

__all__ = ["REDACTED", "Redactor", "is_secret_name"]

REDACTED = "[REDACTED]"
_SECRET_NAME = re.compile(
    r"api[_-]?key|secret|passw(?:or)?d|credential|authori[sz]ation|private[_-]?key|access[_-]?key|cookie"
    r"|(?:^|[_-])token$|^token",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    r"\bsk-[A-Za-z0-9_\-]{12,}|\bBearer\s+[A-Za-z0-9._\-]{8,}|\b(?:ghp|gho|ghs|xox[abprs])[_-][A-Za-z0-9_\-]{10,}"
    r"|\bAKIA[0-9A-Z]{16}\b|\bAIza[0-9A-Za-z_\-]{30,}|\b(?:gsk|hf|xai|pplx|r8)_[A-Za-z0-9]{16,}"
)
_SECRET_MARKERS = ("sk-", "Bearer", "AKIA", "gh", "xox", "AIza", "gsk_", "hf_", "xai_", "pplx_", "r8_")
_MIN_SECRET_LENGTH = 6


def is_secret_name(name: str) -> bool:
    """Whether a parameter, key or environment variable name looks like it holds a secret."""
    return bool(_SECRET_NAME.search(name))


class Redactor:
    """Makes data JSON-compatible and safe to export.

    Removes values under secret-looking keys, every occurrence of those values and of secret
    environment variables' values anywhere else, and strings shaped like API keys; truncates
    strings longer than `max_chars` with a visible marker.
    """

    def __init__(self, *, max_chars: int = 20_000, extra_secrets: Iterable[str] = ()) -> None:
        self.max_chars = max_chars
        self._secrets = {
            value
            for name, value in os.environ.items()
            if is_secret_name(name) and len(value) >= _MIN_SECRET_LENGTH
        }
        self._secrets.update(secret for secret in extra_secrets if len(secret) >= _MIN_SECRET_LENGTH)

    def learn(self, value: Any) -> None:
        """Remember the values under secret-looking keys in `value`, to scrub them everywhere."""
        if value is None or isinstance(value, str | int | float):
            return
        if isinstance(value, Mapping):
            for key, item in value.items():
                if is_secret_name(str(key)) and isinstance(item, str) and len(item) >= _MIN_SECRET_LENGTH:
                    self._secrets.add(item)
                else:
                    self.learn(item)
        elif isinstance(value, list | tuple):
            for item in value:
                self.learn(item)

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

    def text(self, value: str) -> str:
        """A string with secrets replaced and its length capped."""
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        if any(marker in value for marker in _SECRET_MARKERS):
            value = _SECRET_VALUE.sub(REDACTED, value)
        if len(value) > self.max_chars:
            value = f"{value[: self.max_chars]}…[truncated {len(value) - self.max_chars} chars]"
        return value


def _fallback(value: Any) -> Any:
    """Objects JSON cannot hold become their repr."""
    return repr(value)
