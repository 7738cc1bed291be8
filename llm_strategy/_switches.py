"""Switches for tests: the model override, and the block on requests to real models."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from langchain_core.language_models import BaseLanguageModel

from ._models import Conversation, ModelSpec, model_name, resolve_model

__all__ = [
    "ModelRequestBlockedError",
    "block_model_requests",
    "check_request_allowed",
    "is_offline",
    "model_override",
    "override_model",
]

_OVERRIDE: ContextVar[BaseLanguageModel[Any] | None] = ContextVar("llm_strategy_model_override", default=None)
_BLOCKED: ContextVar[bool] = ContextVar("llm_strategy_requests_blocked", default=False)


class ModelRequestBlockedError(AssertionError):
    """A request to a real model was made while `block_model_requests()` was in force."""


@contextmanager
def override_model(model: ModelSpec) -> Iterator[BaseLanguageModel[Any]]:
    """Every LLM function in the block uses `model`, even one bound to a model when decorated.

    Example:
        ```python
        with override_model(SyntheticChatModel()):
            Customer.create_mock_customers(3)  # bound to "openai:gpt-4o-mini", answered offline
        ```
    """
    resolved = resolve_model(model)
    if isinstance(resolved, Conversation):
        resolved = resolved.model
    token = _OVERRIDE.set(resolved)
    try:
        yield resolved
    finally:
        _OVERRIDE.reset(token)


def model_override() -> BaseLanguageModel[Any] | None:
    """The model `override_model` put in force, if any."""
    return _OVERRIDE.get()


@contextmanager
def block_model_requests(blocked: bool = True) -> Iterator[None]:
    """In the block, a request to any model but an offline test model raises `ModelRequestBlockedError`.

    Example:
        ```python
        @pytest.fixture(autouse=True)
        def no_real_requests():
            with block_model_requests():
                yield
        ```
    """
    token = _BLOCKED.set(blocked)
    try:
        yield
    finally:
        _BLOCKED.reset(token)


def check_request_allowed(model: BaseLanguageModel[Any]) -> None:
    """Raise `ModelRequestBlockedError` for a request to `model` inside `block_model_requests()`."""
    if _BLOCKED.get() and not is_offline(model):
        raise ModelRequestBlockedError(
            f"a request to {model_name(model)} ({type(model).__name__}) was blocked by "
            "block_model_requests(); use an offline test model (llm_strategy.testing) or override_model(...)"
        )


def is_offline(model: BaseLanguageModel[Any]) -> bool:
    """Our test models and langchain's fakes answer in-process."""
    kind = type(model)
    return bool(getattr(kind, "offline", False)) or kind.__module__.startswith(
        "langchain_core.language_models.fake"
    )
