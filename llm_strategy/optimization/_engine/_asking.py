"""The optimizer's model: every request an optimizer makes of it passes through `ask`, redacted.

The run's `Redactor` is put in force by the session (`redacting`); outside a run, a fresh one
masks secret environment variables and key-shaped strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from llm_hyperparameters import Redactor

__all__ = ["ask", "redacting"]

T = TypeVar("T")
_REDACTOR: ContextVar[Redactor | None] = ContextVar("llm_strategy_optimizer_redactor", default=None)


@contextmanager
def redacting(redactor: Redactor) -> Iterator[None]:
    """Within the block (and the jobs and threads it starts with its context), `ask` applies `redactor`."""
    token = _REDACTOR.set(redactor)
    try:
        yield
    finally:
        _REDACTOR.reset(token)


def ask(function: Callable[..., T], model: Any, request: Any) -> T:
    """Call one of an optimizer's LLM functions with its one request, secrets masked in the request."""
    redactor = _REDACTOR.get() or Redactor()
    return function(model, redactor.redact(request))
