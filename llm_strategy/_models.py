"""Models: resolve what the user passed (a model, a chain, a "provider:model" string) and name it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, TypeAlias

from langchain_core.language_models import BaseChatModel, BaseLanguageModel
from langchain_core.messages import BaseMessage

from .errors import DefinitionError, ProviderError

__all__ = ["Conversation", "ModelSpec", "model_name", "resolve_model"]


class Conversation(ABC):
    """A model with a message history to continue; `ChatChain` is one."""

    @property
    @abstractmethod
    def model(self) -> BaseLanguageModel[Any]:
        """The model to send to."""

    @property
    @abstractmethod
    def messages(self) -> Sequence[BaseMessage]:
        """The history that comes before a call's own messages."""


ModelSpec: TypeAlias = "BaseLanguageModel[Any] | Conversation | str"
"""Anything `resolve_model` accepts."""


def resolve_model(spec: Any) -> BaseLanguageModel[Any] | Conversation:
    """A langchain model from a model, a `ChatChain`, or a `"provider:model"` string.

    Strings go through langchain's `init_chat_model`; creating the client makes no request.

    Example:
        ```python
        model = resolve_model("openai:gpt-4o-mini")
        ```
    """
    if isinstance(spec, BaseLanguageModel) or isinstance(spec, Conversation):  # noqa: SIM101 - fast path first
        return spec
    if isinstance(spec, str):
        return _init_chat_model(spec)
    raise DefinitionError(
        f"expected a langchain chat model, a BaseLLM, a ChatChain or a 'provider:model' string as the "
        f"model, got {type(spec).__name__}: {spec!r:.80}"
    )


def _init_chat_model(spec: str) -> BaseChatModel:
    if ":" not in spec.strip(":"):
        raise DefinitionError(
            f"model string {spec!r} must look like 'provider:model', e.g. 'openai:gpt-4o-mini'."
        )
    from langchain.chat_models import init_chat_model  # imports provider SDKs: only when asked

    try:
        return init_chat_model(spec)
    except ImportError as error:
        provider = spec.split(":", 1)[0]
        raise DefinitionError(
            f"model {spec!r}: the integration package for {provider!r} is not installed ({error}); "
            f"for OpenAI install `llm-strategy[openai]`."
        ) from error
    except ValueError as error:
        raise DefinitionError(f"model {spec!r}: {error}") from error
    except Exception as error:  # a provider SDK's own error (no API key, ...): typed as the provider's
        raise ProviderError(f"model {spec!r} could not be created: {error}") from error


def model_name(model: BaseLanguageModel[Any]) -> str:
    """The model's name as its provider knows it, else its class name."""
    fields = vars(model)  # pydantic keeps field values here; getattr on a missing one raises internally
    return str(fields.get("model_name") or fields.get("model") or type(model).__name__)
