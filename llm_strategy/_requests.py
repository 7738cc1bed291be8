"""Requests: send messages to a model, read its reply, and wrap exactly the provider's failures."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.language_models import BaseLanguageModel, BaseLLM
from langchain_core.messages import AIMessage, BaseMessage

from llm_hyperparameters import Redactor, Span

from ._messages import END_OF_TURN, join_for_text_model
from ._models import model_name
from ._output_modes import OutputMode, Reply, rejection_of
from ._switches import check_request_allowed, is_offline
from ._tracing import request_span
from .errors import LLMCallError, ProviderError

__all__ = ["provider_error", "send", "send_async"]


def send(
    model: BaseLanguageModel[Any],
    messages: Sequence[BaseMessage],
    output: OutputMode | None = None,
    attempt: int = 1,
    model_args: Mapping[str, Any] | None = None,
) -> Reply:
    """Send messages; `output` adds its request kwargs and describes the request in run metadata;
    `model_args` (a `ChatChain.query`'s) go to the model's call too."""
    call = _Call(model, messages, output, model_args)
    with request_span(model, messages, attempt, output) as traced:
        try:
            result = call.method(sync=True)(*call.args, **call.kwargs)
        except Exception as error:
            return _traced(traced, call.failed(error))
        return _traced(traced, call.read(result))


async def send_async(
    model: BaseLanguageModel[Any],
    messages: Sequence[BaseMessage],
    output: OutputMode | None = None,
    attempt: int = 1,
    model_args: Mapping[str, Any] | None = None,
) -> Reply:
    """`send` through the model's async API."""
    call = _Call(model, messages, output, model_args)
    with request_span(model, messages, attempt, output) as traced:
        try:
            result = await call.method(sync=False)(*call.args, **call.kwargs)
        except Exception as error:
            return _traced(traced, call.failed(error))
        return _traced(traced, call.read(result))


class _Call:
    """One request, prepared once for either driver: what to send, how to read or fail."""

    __slots__ = ("args", "kwargs", "model", "output", "text_model")

    def __init__(
        self,
        model: BaseLanguageModel[Any],
        messages: Sequence[BaseMessage],
        output: OutputMode | None,
        model_args: Mapping[str, Any] | None,
    ) -> None:
        check_request_allowed(model)
        self.model, self.output = model, output
        self.text_model = isinstance(model, BaseLLM)
        self.kwargs = {**(output.request_kwargs(model) if output is not None else {}), **(model_args or {})}
        if self.text_model:  # one role-marked prompt; the end of a turn is a stop word
            stop = [*(self.kwargs.pop("stop", None) or ()), END_OF_TURN]
            self.args: tuple[Any, ...] = ([join_for_text_model(messages)],)
            self.kwargs.update(stop=stop, metadata=output.metadata if output is not None else None)
        else:
            self.args = (list(messages), {"metadata": output.metadata} if output is not None else None)

    def method(self, *, sync: bool) -> Any:
        """The model's call: `generate`/`invoke`, or their async twins."""
        name = "generate" if self.text_model else "invoke"
        return getattr(self.model, name if sync else f"a{name}")

    def read(self, result: Any) -> Reply:
        return _reply_from_generation(result) if self.text_model else _reply_from_message(result)

    def failed(self, error: Exception) -> Reply:
        """The reply a client's finish-reason exception holds; else raise what the failure is."""
        if _not_the_providers(self.model, error):
            raise error
        cut_off = _cut_off_reply(error)
        if cut_off is None:
            raise provider_error(self.model, error, self.output) from error
        return cut_off


def _not_the_providers(model: BaseLanguageModel[Any], error: Exception) -> bool:
    """Our own errors, and an offline test model's assertion (a test's mistake), pass unwrapped."""
    return isinstance(error, LLMCallError) or (isinstance(error, AssertionError) and is_offline(model))


def _reply_from_message(message: Any) -> Reply:
    """Text, tool-call arguments, usage, finish reason and refusal of a chat reply."""
    if not isinstance(message, AIMessage):
        raise ProviderError(f"the model returned {type(message).__name__}, not an AI message")
    calls = message.tool_calls
    data = calls[0]["args"] if calls else None
    text = message.text or (json.dumps(data) if data is not None else "")
    return Reply(
        text=text,
        data=data,
        usage=dict(message.usage_metadata) if message.usage_metadata else None,
        finish_reason=_finish_reason(message.response_metadata),
        refusal=_refusal(message),
        model=message.response_metadata.get("model_name") or message.response_metadata.get("model"),
    )


def _reply_from_generation(result: Any) -> Reply:
    """The first generation of a text-completion result."""
    generations = result.generations[0] if result.generations else []
    if not generations:
        raise ProviderError("the model returned no generation")
    generation = generations[0]
    usage = (result.llm_output or {}).get("token_usage") or None
    return Reply(
        text=generation.text,
        usage=_token_usage(usage),
        finish_reason=_finish_reason(generation.generation_info or {}),
    )


def _token_usage(reported: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not reported:
        return None
    return {
        "input_tokens": int(reported.get("prompt_tokens") or 0),
        "output_tokens": int(reported.get("completion_tokens") or 0),
        "total_tokens": int(reported.get("total_tokens") or 0),
    }


def _finish_reason(metadata: Mapping[str, Any]) -> str | None:
    """The provider's stop reason, whatever key it uses."""
    for key in ("finish_reason", "stop_reason", "done_reason"):
        reason = metadata.get(key)
        if reason:
            return str(reason)
    return None


def _refusal(message: AIMessage) -> str | None:
    """An assistant refusal, as a field (OpenAI) or a content block."""
    refusal = message.additional_kwargs.get("refusal")
    if refusal:
        return str(refusal)
    if isinstance(message.content, list):
        for block in message.content:
            if isinstance(block, dict) and block.get("type") == "refusal" and block.get("refusal"):
                return str(block["refusal"])
    return None


def _cut_off_reply(error: Exception) -> Reply | None:
    """The reply inside a client's "finish reason" exception (openai's native parse raises them)."""
    kinds = {kind.__name__ for kind in type(error).__mro__}
    if "LengthFinishReasonError" in kinds:
        reason, refusal = "length", None
    elif "ContentFilterFinishReasonError" in kinds:
        reason, refusal = "content_filter", "the provider's content filter stopped the reply"
    else:
        return None
    completion = getattr(error, "completion", None)
    choices = getattr(completion, "choices", None) or []
    text = (choices[0].message.content or "") if choices else ""
    usage = getattr(completion, "usage", None)
    return Reply(
        text=text,
        usage=_token_usage(usage.model_dump()) if usage is not None else None,
        finish_reason=reason,
        refusal=refusal,
    )


_RETRYABLE_STATUS = frozenset({408, 409, 429})
_TRANSPORT_ERRORS = (
    "Timeout",
    "ConnectError",
    "ConnectionError",
    "APIConnectionError",
    "RemoteProtocolError",
)


def provider_error(
    model: BaseLanguageModel[Any], error: Exception, output: OutputMode | None = None
) -> ProviderError:
    """A `ProviderError` for a failed request: the model's name, the status, whether to retry, no keys."""
    name = model_name(model)
    status = _status_code(error)
    kinds = {kind.__name__ for kind in type(error).__mro__}
    transport = any(word in kind for kind in kinds for word in _TRANSPORT_ERRORS)
    retryable = transport or status in _RETRYABLE_STATUS or (status is not None and status >= 500)
    detail = _described(error)
    message = Redactor(max_chars=2_000).text(f"{name} ({type(model).__name__}) failed: {detail}")
    rejected = rejection_of(output, status, str(error))
    kind = rejected if rejected is not None else ProviderError
    return kind(message, model=name, status_code=status, retryable=retryable and rejected is None)


def _status_code(error: Exception) -> int | None:
    status = getattr(error, "status_code", None)
    if status is None:
        status = getattr(getattr(error, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _described(error: Exception) -> str:
    """What went wrong, in words a person understands."""
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, IndexError | KeyError | TypeError) and (
        "choices" in str(error) or isinstance(error, IndexError)
    ):
        return f"the server's reply held no completion (empty or missing `choices`); {text}"
    if "Unexpected response type" in str(error):
        return f"the server did not answer with a chat completion (an HTML error page?); {text}"
    return text


def _traced(traced: Span | None, reply: Reply) -> Reply:
    """Record the reply, its finish reason and token usage on the request's span."""
    if traced is not None:
        traced.outputs = {"reply": reply.text}
        if reply.finish_reason:
            traced.attributes["finish_reason"] = reply.finish_reason
        if reply.model:
            traced.attributes["response_model"] = reply.model
        if reply.usage:
            traced.attributes["usage"] = {
                key: reply.usage.get(key) for key in ("input_tokens", "output_tokens", "total_tokens")
            }
    return reply
