"""The attempt loop: ask, parse, feed the error back, ask again; one loop for sync and async drivers.

The loop is a generator that yields requests and receives replies, so the retry logic exists
once and `run` / `run_async` only differ in how they send.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseLanguageModel
from langchain_core.messages import BaseMessage
from pydantic import TypeAdapter

from ._models import Reply, send, send_async
from ._parsing import ReplyError, parse_reply
from ._prompts import retry_messages
from ._settings import LLMSettings
from .errors import OutputParseError, ParseAttempt

__all__ = ["Attempts", "Outcome", "Request", "attempts", "run", "run_async"]


@dataclass(frozen=True)
class Request:
    """One message list to send to one model."""

    model: BaseLanguageModel[Any]
    messages: tuple[BaseMessage, ...]
    native_schema: dict[str, Any] | None
    attempt: int


@dataclass(frozen=True)
class Outcome:
    """The validated value, the reply it came from, the messages that led to it, and which attempt."""

    value: Any
    reply: Reply
    messages: tuple[BaseMessage, ...]
    attempt: int


Attempts = Generator[Request, Reply, Outcome]


def attempts(
    name: str,
    model: BaseLanguageModel[Any],
    messages: Sequence[BaseMessage],
    output: TypeAdapter[Any],
    settings: LLMSettings,
    native_schema: dict[str, Any] | None = None,
) -> Attempts:
    """Request replies until one validates into `output`, at most `settings.max_attempts` times."""
    history = tuple(messages)
    rejected: list[ParseAttempt] = []
    for attempt in range(1, settings.max_attempts + 1):
        reply = yield Request(model, history, native_schema, attempt)
        try:
            return Outcome(parse_reply(reply.text, output, data=reply.data), reply, history, attempt)
        except ReplyError as error:
            rejected.append(ParseAttempt(reply.text, str(error)))
            history = (*history, *retry_messages(reply.text, str(error), settings))
    raise OutputParseError(name, rejected)


def run(loop: Attempts) -> Outcome:
    """Drive an attempt loop with blocking calls."""
    request = next(loop)
    while True:
        reply = send(request.model, request.messages, request.native_schema, request.attempt)
        try:
            request = loop.send(reply)
        except StopIteration as done:
            return done.value


async def run_async(loop: Attempts) -> Outcome:
    """Drive an attempt loop with the model's async API."""
    request = next(loop)
    while True:
        reply = await send_async(request.model, request.messages, request.native_schema, request.attempt)
        try:
            request = loop.send(reply)
        except StopIteration as done:
            return done.value
