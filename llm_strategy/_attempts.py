"""The attempt loop: ask, read, feed the error back, ask again; one loop for sync and async drivers.

The loop is a generator that yields requests and receives replies, so the retry logic exists
once and `run` / `run_async` only differ in how they send. A server that refuses native
output is thrown into the loop, which falls back to prompt mode and asks again.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseLanguageModel
from langchain_core.messages import BaseMessage
from pydantic import TypeAdapter

from ._output_modes import OutputMode, OutputModeRejected, Reply, check_reply, fall_back_to_prompt
from ._parsing import ReplyError
from ._prompts import retry_messages
from ._requests import send, send_async
from ._settings import LLMSettings
from .errors import OutputParseError, ParseAttempt

__all__ = ["Attempts", "Outcome", "Request", "attempts", "run", "run_async"]

MessagesFor = Callable[[OutputMode], tuple[BaseMessage, ...]]
"""The messages of a call in a given output mode."""


@dataclass(frozen=True)
class Request:
    """One message list to send to one model, in one output mode."""

    model: BaseLanguageModel[Any]
    messages: tuple[BaseMessage, ...]
    output: OutputMode
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
    output: OutputMode,
    messages_for: MessagesFor,
    adapter: TypeAdapter[Any],
    settings: LLMSettings,
) -> Attempts:
    """Request replies until one validates into `adapter`, at most `settings.max_attempts` times.

    A cut-off reply or a refusal ends the loop at once: asking again would not help. A server
    that refuses native output is asked again in prompt mode when the mode was `auto`.
    """
    history = messages_for(output)
    rejected: list[ParseAttempt] = []
    attempt = 1
    while attempt <= settings.max_attempts:
        try:
            reply = yield Request(model, history, output, attempt)
        except OutputModeRejected as refused:
            if settings.output_mode != "auto":
                raise  # a forced mode is the caller's choice: no silent switch
            output = fall_back_to_prompt(model, output, refused)
            history = messages_for(output)
            continue
        check_reply(name, model, reply)
        try:
            return Outcome(output.value(reply, adapter), reply, history, attempt)
        except ReplyError as error:
            rejected.append(ParseAttempt(reply.text, str(error)))
            history = (*history, *retry_messages(reply.text, str(error), settings))
        attempt += 1
    raise OutputParseError(name, rejected)


def run(loop: Attempts) -> Outcome:
    """Drive an attempt loop with blocking calls."""
    request = next(loop)
    while True:
        try:
            reply = send(request.model, request.messages, request.output, request.attempt)
        except OutputModeRejected as refused:
            request = loop.throw(refused)
            continue
        try:
            request = loop.send(reply)
        except StopIteration as done:
            return done.value


async def run_async(loop: Attempts) -> Outcome:
    """Drive an attempt loop with the model's async API."""
    request = next(loop)
    while True:
        try:
            reply = await send_async(request.model, request.messages, request.output, request.attempt)
        except OutputModeRejected as refused:
            request = loop.throw(refused)
            continue
        try:
            request = loop.send(reply)
        except StopIteration as done:
            return done.value
