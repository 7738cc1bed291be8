"""Models: resolve what the user passed, decide the output mode, send messages, wrap provider errors."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from langchain_core.language_models import BaseChatModel, BaseLanguageModel, BaseLLM
from langchain_core.messages import BaseMessage

from llm_hyperparameters import Span

from ._tracing import request_span
from .errors import DefinitionError, ProviderError

__all__ = [
    "Conversation",
    "ModelSpec",
    "Reply",
    "resolve_model",
    "send",
    "send_async",
    "supports_native_output",
    "uses_native_output",
]


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
    except Exception as error:
        raise ProviderError(f"model {spec!r} could not be created: {error}") from error


def supports_native_output(model: BaseLanguageModel[Any]) -> bool:
    """Whether the chat model offers native structured output, from its profile or its class."""
    if not isinstance(model, BaseChatModel):
        return False
    profile = model.profile or {}
    if "structured_output" in profile:
        return bool(profile["structured_output"])
    kind = type(model)
    return (
        kind.with_structured_output is not BaseChatModel.with_structured_output
        or kind.bind_tools is not BaseChatModel.bind_tools
    )


def uses_native_output(model: BaseLanguageModel[Any], mode: str, name: str) -> bool:
    """Decide the output mode of a call: `prompt`, `native`, or `auto` (native where supported)."""
    if mode == "prompt":
        return False
    supported = supports_native_output(model)
    if mode == "native" and not supported:
        kind = "a text-completion model" if isinstance(model, BaseLLM) else type(model).__name__
        raise DefinitionError(
            f"{name}: output_mode='native' was forced, but {kind} has no native structured output; "
            "use output_mode='auto' or 'prompt'."
        )
    return supported


@dataclass(frozen=True)
class Reply:
    """What came back: the text, the parsed object of a native reply, and token usage."""

    text: str
    data: Any = None
    usage: dict[str, Any] | None = None


def _request(
    model: BaseLanguageModel[Any], messages: Sequence[BaseMessage], native_schema: dict[str, Any] | None
) -> tuple[Any, Any]:
    """The runnable to invoke and its input: structured, chat, or one prompt for a completion model."""
    if native_schema is not None:
        return model.with_structured_output(native_schema, include_raw=True), list(messages)
    if isinstance(model, BaseLLM):
        return model, "\n\n".join(message.text for message in messages)
    return model, list(messages)


def _provider_error(model: BaseLanguageModel[Any], error: Exception) -> ProviderError:
    return ProviderError(f"{type(model).__name__} failed: {type(error).__name__}: {error}")


def _reply_from(result: Any, native: bool) -> Reply:
    if native:
        raw = result["raw"]
        data = result.get("parsed")
        text = raw.text or (json.dumps(data) if data is not None else _tool_arguments(raw))
        return Reply(text=text, data=data, usage=getattr(raw, "usage_metadata", None))
    if isinstance(result, str):
        return Reply(text=result)
    return Reply(text=result.text, usage=getattr(result, "usage_metadata", None))


def _tool_arguments(message: Any) -> str:
    calls = getattr(message, "tool_calls", None) or []
    return json.dumps(calls[0]["args"]) if calls else ""


def send(
    model: BaseLanguageModel[Any],
    messages: Sequence[BaseMessage],
    native_schema: dict[str, Any] | None = None,
    attempt: int = 1,
    model_args: Mapping[str, Any] | None = None,
) -> Reply:
    """Send messages; with `native_schema` ask for native structured output; `model_args` go to the call."""
    with request_span(model, messages, attempt) as traced:
        try:
            runnable, request = _request(model, messages, native_schema)
            result = runnable.invoke(request, **(model_args or {}))
        except Exception as error:
            raise _provider_error(model, error) from error
        return _traced(traced, _reply_from(result, native_schema is not None))


async def send_async(
    model: BaseLanguageModel[Any],
    messages: Sequence[BaseMessage],
    native_schema: dict[str, Any] | None = None,
    attempt: int = 1,
    model_args: Mapping[str, Any] | None = None,
) -> Reply:
    """`send` through the model's async API."""
    with request_span(model, messages, attempt) as traced:
        try:
            runnable, request = _request(model, messages, native_schema)
            result = await runnable.ainvoke(request, **(model_args or {}))
        except Exception as error:
            raise _provider_error(model, error) from error
        return _traced(traced, _reply_from(result, native_schema is not None))


def _traced(traced: Span | None, reply: Reply) -> Reply:
    """Record the reply and its token usage on the request's span."""
    if traced is not None:
        traced.outputs = {"reply": reply.text}
        if reply.usage:
            traced.attributes["usage"] = {
                key: reply.usage.get(key) for key in ("input_tokens", "output_tokens", "total_tokens")
            }
    return reply
