"""LLM requests in traces: every model request in a traced block becomes an `llm` span.

Requests our decorators and chains send are recorded directly (`request_span`). Any other
langchain model call in the block is recorded by a callback handler that langchain attaches
only while a `llm_hyperparameters.trace()` is recorded, so it costs nothing otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseLanguageModel, BaseLLM
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult
from langchain_core.tracers.context import register_configure_hook

from llm_hyperparameters import Span, start_span, tracing_active

from ._output_modes import sent_schema

if TYPE_CHECKING:
    from ._output_modes import OutputMode

__all__ = ["TraceCallbackHandler", "request_span"]

_SAMPLING_PARAMETERS = ("temperature", "max_tokens", "top_p", "seed")
_OWN_REQUEST: ContextVar[bool] = ContextVar("llm_strategy_own_request", default=False)
_SKIPPED_PARAMETERS = {
    "_type",
    "stop",
    "stream",
    "messages",
    "response_format",
    "tools",
    "ls_structured_output_format",
}


class TraceCallbackHandler(BaseCallbackHandler):
    """Records each chat or completion request as an `llm` span of the trace in force."""

    run_inline = True  # run in the caller's context, where the current span is

    def __init__(self) -> None:
        self._open: dict[UUID, Span] = {}
        self._lock = threading.Lock()

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], *, run_id: UUID, **kwargs: Any
    ) -> None:
        """Open a span with the messages sent."""
        sent = [
            {"role": message.type, "content": message.content}
            for message in (messages[0] if messages else [])
        ]
        self._start(serialized, {"messages": sent}, run_id, kwargs, "chat")

    def on_llm_start(
        self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID, **kwargs: Any
    ) -> None:
        """Open a span with the prompt sent to a completion model."""
        self._start(
            serialized,
            {"messages": [{"role": "prompt", "content": prompt} for prompt in prompts]},
            run_id,
            kwargs,
            "text_completion",
        )

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        """Close the span with the reply and the token usage the model reported."""
        opened = self._pop(run_id)
        if opened is None:
            return
        try:
            generation = (
                response.generations[0][0] if response.generations and response.generations[0] else None
            )
            reply = generation.text if generation is not None else ""
            message = getattr(generation, "message", None)
            tool_calls = getattr(message, "tool_calls", None)
            usage = _usage(getattr(message, "usage_metadata", None), response.llm_output)
            if usage:
                opened.attributes["usage"] = usage
            opened.finish(outputs={"reply": reply, **({"tool_calls": tool_calls} if tool_calls else {})})
        except Exception:
            opened.finish()

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Close the span with the error."""
        opened = self._pop(run_id)
        if opened is not None:
            opened.finish(error=error)

    def _start(
        self,
        serialized: dict[str, Any],
        inputs: dict[str, Any],
        run_id: UUID,
        kwargs: dict[str, Any],
        operation: str,
    ) -> None:
        try:
            metadata = kwargs.get("metadata") or {}
            parameters = kwargs.get("invocation_params") or {}
            model = metadata.get("ls_model_name") or parameters.get("model") or parameters.get("model_name")
            name = (serialized or {}).get("name") or metadata.get("ls_provider") or "llm"
            attributes: dict[str, Any] = {
                "model": model,
                "provider": metadata.get("ls_provider"),
                "params": {key: value for key, value in parameters.items() if key not in _SKIPPED_PARAMETERS},
                "operation": operation,
            }
            opened = start_span(str(name), "llm", inputs=inputs, attributes=attributes)
        except Exception:
            return  # the tracer never breaks the call
        if opened is not None:
            with self._lock:
                self._open[run_id] = opened

    def _pop(self, run_id: UUID) -> Span | None:
        with self._lock:
            return self._open.pop(run_id, None)


def _usage(usage_metadata: Any, llm_output: dict[str, Any] | None) -> dict[str, int]:
    """Token counts from the message's usage metadata, else from the provider's `token_usage`."""
    if usage_metadata:
        return {
            key: int(usage_metadata.get(key) or 0)
            for key in ("input_tokens", "output_tokens", "total_tokens")
        }
    reported = (llm_output or {}).get("token_usage") or {}
    if not reported:
        return {}
    return {
        "input_tokens": int(reported.get("prompt_tokens") or 0),
        "output_tokens": int(reported.get("completion_tokens") or 0),
        "total_tokens": int(reported.get("total_tokens") or 0),
    }


class request_span:
    """An `llm` span around one of our own requests; gives None when nothing is traced.

    The callback handler stays out of the request, so it is recorded once. The caller sets
    `outputs` and `attributes["usage"]`; an exception is recorded and re-raised.
    """

    __slots__ = ("_attempt", "_messages", "_model", "_opened", "_output", "_token")

    def __init__(
        self,
        model: BaseLanguageModel[Any],
        messages: Sequence[BaseMessage],
        attempt: int,
        output: OutputMode | None = None,
    ) -> None:
        self._model, self._messages, self._attempt, self._output = model, messages, attempt, output
        self._opened: Span | None = None
        self._token: Any = None

    def __enter__(self) -> Span | None:
        if not tracing_active():
            return None
        self._opened = start_span(
            type(self._model).__name__,
            "llm",
            inputs={
                "messages": [{"role": message.type, "content": message.content} for message in self._messages]
            },
            attributes=_model_attributes(self._model, self._attempt, self._output),
        )
        self._token = _OWN_REQUEST.set(True)
        return self._opened

    def __exit__(self, kind: Any, error: BaseException | None, traceback: Any) -> None:
        if self._token is not None:
            _OWN_REQUEST.reset(self._token)
        if self._opened is not None:
            self._opened.finish(error=error)


def _model_attributes(
    model: BaseLanguageModel[Any], attempt: int, output: OutputMode | None
) -> dict[str, Any]:
    """Model name, provider, operation, sampling parameters, output mode and (native mode) the schema."""
    fields = vars(model)  # pydantic keeps field values here; getattr on a missing one raises internally
    parameters = {name: fields.get(name) for name in _SAMPLING_PARAMETERS}
    attributes = {
        "model": fields.get("model_name") or fields.get("model"),
        "provider": getattr(model, "_llm_type", None),
        "params": {name: value for name, value in parameters.items() if value is not None},
        "attempt": attempt,
        "operation": "text_completion" if isinstance(model, BaseLLM) else "chat",
    }
    if output is not None:
        attributes["output_mode"] = output.name
        if output.instruction == "none":  # native: the schema that travels in the request
            attributes["output_schema"] = sent_schema(output.request_kwargs(model)) or output.reply_schema
    return attributes


class _HandlerWhileTracing:
    """Stands in for a ContextVar in langchain's configure hooks: the handler only while tracing."""

    def __init__(self, handler: TraceCallbackHandler) -> None:
        self._handler = handler

    def get(self) -> TraceCallbackHandler | None:
        return self._handler if tracing_active() and not _OWN_REQUEST.get() else None


# langchain reads configure hooks with `.get()` only; the handler joins callback managers while tracing.
register_configure_hook(_HandlerWhileTracing(TraceCallbackHandler()), inheritable=True)  # type: ignore[arg-type]
