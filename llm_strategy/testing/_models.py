"""Offline chat models for tests and demos: scripted replies, and synthetic typed answers.

They answer from what a request asks for, not from its wording: every request of an LLM
function carries a description (function, output mode, reply schema) in its run metadata, and
native requests carry the schema in `response_format`, as an OpenAI-style server receives it.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ConfigDict, Field, PrivateAttr, SkipValidation, model_validator

from .._output_modes import REQUEST_METADATA_KEY
from .._parsing import ReplyError, extract_json
from ._synthesis import synthesize

__all__ = [
    "RecordedRequest",
    "RecordingChatModel",
    "ScriptExhaustedError",
    "ScriptedChatModel",
    "SyntheticChatModel",
]

Script = Sequence["str | AIMessage | BaseException"] | Callable[[list[BaseMessage]], "str | AIMessage"]


class ScriptExhaustedError(AssertionError):
    """A `ScriptedChatModel` was asked more often than it has replies (a test's mistake, not a provider's)."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the model received it."""

    messages: list[BaseMessage]
    kwargs: Mapping[str, Any]
    """Request kwargs, e.g. `response_format` in native mode."""
    description: Mapping[str, Any] | None
    """What an LLM function asked for: `function`, `mode` (text, prompt, native), `reply_schema`."""

    @property
    def reply_schema(self) -> dict[str, Any] | None:
        """The JSON schema a reply must satisfy: the native schema, else the described one."""
        response_format = self.kwargs.get("response_format") or {}
        native = (response_format.get("json_schema") or {}).get("schema")
        if native is not None:
            return dict(native)
        schema = (self.description or {}).get("reply_schema")
        return dict(schema) if schema is not None else None


class RecordingChatModel(BaseChatModel):
    """Base of the test models: records every request and reports estimated token usage.

    `structured_output` declares native structured output in the model's profile; native
    requests then carry an OpenAI-style `response_format` with the schema.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    offline: ClassVar[bool] = True
    """Answers in-process: allowed under `block_model_requests()`."""
    structured_output: bool = False
    max_tokens: int | None = None
    """An output token limit, as real models carry one (replies are not cut by it)."""
    _requests: list[RecordedRequest] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @model_validator(mode="after")
    def _declare_profile(self) -> RecordingChatModel:
        self.profile = {**(self.profile or {}), "structured_output": self.structured_output}
        return self

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request: messages, kwargs and the call's description."""
        return list(self._requests)

    @property
    def calls(self) -> list[list[BaseMessage]]:
        """Every request, as the list of messages that was sent."""
        return [request.messages for request in self._requests]

    @property
    def schemas(self) -> list[dict[str, Any]]:
        """The JSON schema of every native structured-output request."""
        return [
            request.kwargs["response_format"]["json_schema"]["schema"]
            for request in self._requests
            if "response_format" in request.kwargs
        ]

    @property
    def last_prompt(self) -> str:
        """The text of the last request, messages separated by blank lines."""
        if not self._requests:
            raise AssertionError("the model has not been called")
        return _text(self._requests[-1].messages)

    def _reply_for(self, request: RecordedRequest, call_number: int) -> str | AIMessage:
        raise NotImplementedError

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        description = (run_manager.metadata if run_manager is not None else {}).get(REQUEST_METADATA_KEY)
        request = RecordedRequest(list(messages), kwargs, description)
        with self._lock:
            self._requests.append(request)
            call_number = len(self._requests)
        reply = self._reply_for(request, call_number)
        if isinstance(reply, AIMessage):
            message = (
                reply
                if reply.usage_metadata
                else reply.model_copy(update={"usage_metadata": _usage(messages, reply.text)})
            )
        else:
            message = AIMessage(
                reply, usage_metadata=_usage(messages, reply), response_metadata={"finish_reason": "stop"}
            )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Bind an OpenAI-style `response_format` for the JSON schema and parse the reply."""
        if not isinstance(schema, dict):
            raise TypeError(f"{type(self).__name__} takes a JSON schema dict")
        json_schema: dict[str, Any] = {"name": str(schema.get("title", "output")), "schema": schema}
        if strict is not None:
            json_schema["strict"] = strict
        bound = self.bind(response_format={"type": "json_schema", "json_schema": json_schema})

        def parsed(message: AIMessage) -> Any:
            try:
                value, error = extract_json(message.text), None
            except ReplyError as failure:
                value, error = None, failure
            return {"raw": message, "parsed": value, "parsing_error": error} if include_raw else value

        return bound | RunnableLambda(parsed)


class ScriptedChatModel(RecordingChatModel):
    """Replies from a list (in order) or from a function of the messages; records every call.

    A list item that is an exception is raised instead of replying (as a provider failure); an
    `AIMessage` is returned as it is, to script finish reasons, refusals or tool calls. Asking
    for more replies than the list holds raises `ScriptExhaustedError`.

    Example:
        ```python
        model = ScriptedChatModel(replies=['{"return_value": 3}'])
        assert add(model, 1, 2) == 3
        assert '{"a":1,"b":2}' in model.last_prompt
        ```
    """

    replies: SkipValidation[Script] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _reply_for(self, request: RecordedRequest, call_number: int) -> str | AIMessage:
        if callable(self.replies):
            return self.replies(request.messages)
        if call_number > len(self.replies):
            raise ScriptExhaustedError(
                f"ScriptedChatModel has {len(self.replies)} replies but was called {call_number} times"
            )
        reply = self.replies[call_number - 1]
        if isinstance(reply, BaseException):
            raise reply
        return reply


class SyntheticChatModel(RecordingChatModel):
    """Answers any typed call offline with a valid, deterministic value of the requested type.

    It reads the type from the request itself: the native `response_format` schema, or the
    reply schema an LLM function describes in the request's metadata; prompt wording plays no
    part, so any prompt template works. The same request and seed always give the same answer.
    A request for free text (or one that asks for nothing typed) gets a short deterministic sentence.

    Example:
        ```python
        model = SyntheticChatModel(seed=1)
        customers = Customer.create_mock_customers(model, 3)
        ```
    """

    seed: int = 0
    structured_output: bool = True

    @property
    def _llm_type(self) -> str:
        return "synthetic"

    def _rng(self, messages: list[BaseMessage]) -> random.Random:
        digest = hashlib.sha256(f"{self.seed}\0{_text(messages)}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def _reply_for(self, request: RecordedRequest, call_number: int) -> str:
        schema = request.reply_schema
        if schema is not None:
            return json.dumps(synthesize(schema, self._rng(request.messages)))
        words = synthesize({"type": "string", "minLength": 40}, self._rng(request.messages))
        return f"Synthetic reply: {words}."


def _text(messages: Sequence[BaseMessage]) -> str:
    return "\n\n".join(message.text for message in messages)


def _usage(messages: Sequence[BaseMessage], reply: str) -> UsageMetadata:
    """Token counts estimated at four characters per token."""
    prompt = sum(len(message.text) for message in messages) // 4 + 1
    completion = len(reply) // 4 + 1
    return UsageMetadata(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)
