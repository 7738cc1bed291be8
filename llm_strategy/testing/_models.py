"""Offline chat models for tests and demos: scripted replies, and synthetic typed answers."""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ConfigDict, Field, PrivateAttr, model_validator

from .._parsing import RETURN_FIELD, ReplyError, extract_json
from ._outline_reader import read_output_schema
from ._synthesis import synthesize

__all__ = ["RecordingChatModel", "ScriptedChatModel", "SyntheticChatModel"]

Script = Sequence["str | BaseException"] | Callable[[list[BaseMessage]], str]


class RecordingChatModel(BaseChatModel):
    """Base of the test models: records every request and reports estimated token usage.

    `structured_output` declares native structured output in the model's profile.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    structured_output: bool = False
    _calls: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _schemas: list[dict[str, Any]] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @model_validator(mode="after")
    def _declare_profile(self) -> RecordingChatModel:
        self.profile = {**(self.profile or {}), "structured_output": self.structured_output}
        return self

    def __getstate__(self) -> dict[Any, Any]:
        """Picklable, so it can travel to worker processes (each copy gets its own lock)."""
        state = super().__getstate__()
        private = {
            key: value for key, value in (state["__pydantic_private__"] or {}).items() if key != "_lock"
        }
        return {**state, "__pydantic_private__": private}

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        self._lock = threading.Lock()

    @property
    def calls(self) -> list[list[BaseMessage]]:
        """Every request, as the list of messages that was sent."""
        return list(self._calls)

    @property
    def schemas(self) -> list[dict[str, Any]]:
        """The JSON schema of every native structured-output request."""
        return list(self._schemas)

    @property
    def last_prompt(self) -> str:
        """The text of the last request, messages separated by blank lines."""
        if not self._calls:
            raise AssertionError("the model has not been called")
        return "\n\n".join(message.text for message in self._calls[-1])

    def _record(self, messages: list[BaseMessage]) -> int:
        with self._lock:
            self._calls.append(list(messages))
            return len(self._calls)

    def _reply_for(self, messages: list[BaseMessage], call_number: int) -> str:
        raise NotImplementedError

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = self._reply_for(messages, self._record(messages))
        message = AIMessage(text, usage_metadata=_usage(messages, text))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def with_structured_output(
        self, schema: dict[str, Any] | type, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, Any]:
        """Answer with a JSON object for `schema`, parsed, as native structured output does."""
        if not isinstance(schema, dict):
            raise TypeError(f"{type(self).__name__} takes a JSON schema dict")

        def structured(value: LanguageModelInput) -> Any:
            messages = self._convert_input(value).to_messages()
            with self._lock:
                self._schemas.append(schema)
            text = self._structured_reply(messages, schema, self._record(messages))
            raw = AIMessage(text, usage_metadata=_usage(messages, text))
            try:
                parsed, error = extract_json(text), None
            except ReplyError as failure:
                parsed, error = None, failure
            result = {"raw": raw, "parsed": parsed, "parsing_error": error}
            return result if include_raw else parsed

        return RunnableLambda(structured)

    def _structured_reply(self, messages: list[BaseMessage], schema: dict[str, Any], call_number: int) -> str:
        return self._reply_for(messages, call_number)


class ScriptedChatModel(RecordingChatModel):
    """Replies from a list (in order) or from a function of the messages; records every call.

    A list item that is an exception is raised instead of replying.

    Example:
        ```python
        model = ScriptedChatModel(replies=['{"return_value": 3}'])
        assert add(model, 1, 2) == 3
        assert '{"a":1,"b":2}' in model.last_prompt
        ```
    """

    replies: Script = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _reply_for(self, messages: list[BaseMessage], call_number: int) -> str:
        if callable(self.replies):
            return self.replies(messages)
        if call_number > len(self.replies):
            raise IndexError(
                f"ScriptedChatModel has {len(self.replies)} replies but was called {call_number} times"
            )
        reply = self.replies[call_number - 1]
        if isinstance(reply, BaseException):
            raise reply
        return reply


class SyntheticChatModel(RecordingChatModel):
    """Answers any typed call offline with a valid, deterministic value of the requested type.

    It reads the type from the request: the JSON schema of native structured output, or the
    outline in the prompt's `Reply with JSON {"return_value": ...}`. The same request and seed
    always give the same answer.
    Without a type in the request it replies with a short deterministic sentence.

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

    def _reply_for(self, messages: list[BaseMessage], call_number: int) -> str:
        for message in reversed(messages):
            if message.type == "ai":
                continue  # earlier replies hold values, not the requested type
            schema = read_output_schema(message.text)
            if schema is not None:
                value = synthesize(schema, self._rng(messages))
                return json.dumps({RETURN_FIELD: value})
        words = synthesize({"type": "string", "minLength": 40}, self._rng(messages))
        return f"Synthetic reply: {words}."

    def _structured_reply(self, messages: list[BaseMessage], schema: dict[str, Any], call_number: int) -> str:
        return json.dumps(synthesize(schema, self._rng(messages)))


def _text(messages: Sequence[BaseMessage]) -> str:
    return "\n\n".join(message.text for message in messages)


def _usage(messages: Sequence[BaseMessage], reply: str) -> UsageMetadata:
    """Token counts estimated at four characters per token."""
    prompt = sum(len(message.text) for message in messages) // 4 + 1
    completion = len(reply) // 4 + 1
    return UsageMetadata(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)
