"""The optimizer's model: every request an optimizer makes of it passes through `ask`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["ask"]

T = TypeVar("T")


def ask(function: Callable[..., T], model: Any, request: Any) -> T:
    """Call one of an optimizer's LLM functions with its one request (the place to inspect or redact it)."""
    return function(model, request)
