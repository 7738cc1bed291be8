"""ChatChain: an immutable conversation with a model; every query returns a new, longer chain."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from langchain_core.language_models import BaseLanguageModel, BaseLLM
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from ._adapters import LLMAsChatModel
from ._attempts import Attempts, Outcome, attempts, run, run_async
from ._models import Conversation, ModelSpec, resolve_model
from ._output_modes import OutputMode, check_reply, choose_output_mode
from ._prompts import reply_instruction
from ._requests import send, send_async
from ._settings import LLMSettings, settings_in_force
from ._spec import CallSchema, describe_call

__all__ = ["ChatChain"]

T = TypeVar("T")


class ChatChain(Conversation):
    """A conversation you can branch: `reply, chain2 = chain.query("...")` leaves `chain` as it was.

    The model is anything `resolve_model` accepts; another chain continues its history. A
    text-completion model (`BaseLLM`) is wrapped in `LLMAsChatModel`, so each message keeps its role.

    Example:
        ```python
        chain = ChatChain(model)
        answer, chain = chain.query("Name a prime number.")
        number, chain = chain.structured_query("Which one did you name?", int)
        ```
    """

    __slots__ = ("_messages", "_model", "_settings")

    def __init__(
        self, model: ModelSpec, messages: Sequence[BaseMessage] = (), settings: LLMSettings | None = None
    ) -> None:
        resolved = resolve_model(model)
        if isinstance(resolved, Conversation):
            self._model: BaseLanguageModel[Any] = resolved.model
            self._messages = (*resolved.messages, *messages)
        else:
            self._model = LLMAsChatModel(llm=resolved) if isinstance(resolved, BaseLLM) else resolved
            self._messages = tuple(messages)
        self._settings = settings

    def __repr__(self) -> str:
        return f"ChatChain({type(self._model).__name__}, {len(self._messages)} messages)"

    @property
    def model(self) -> BaseLanguageModel[Any]:
        """The model the chain talks to."""
        return self._model

    @property
    def chat_model(self) -> BaseLanguageModel[Any]:
        """The 2.2.0 name of `model`."""
        return self._model

    @property
    def messages(self) -> list[BaseMessage]:
        """The conversation so far (a new list: changing it leaves the chain as it was)."""
        return list(self._messages)

    @property
    def response(self) -> str:
        """The text of the last reply."""
        for message in reversed(self._messages):
            if isinstance(message, AIMessage):
                return message.text
        raise ValueError("this chain has no reply yet; call query() first")

    def branch(self) -> ChatChain:
        """A chain with the same history, to continue in another direction."""
        return ChatChain(self._model, self._messages, self._settings)

    def query(self, question: str, model_args: Mapping[str, Any] | None = None) -> tuple[str, ChatChain]:
        """Ask and return the reply text with the extended chain; `model_args` go to the model's call.

        Example:
            ```python
            answer, chain = chain.query("Name a prime number.", model_args={"stop": ["\n"]})
            ```
        """
        messages = (*self._messages, HumanMessage(question))
        reply = send(self._model, messages, model_args=model_args)
        check_reply("ChatChain.query", self._model, reply)
        return reply.text, self._extended(messages, reply.text)

    async def aquery(
        self, question: str, model_args: Mapping[str, Any] | None = None
    ) -> tuple[str, ChatChain]:
        """`query` through the model's async API."""
        messages = (*self._messages, HumanMessage(question))
        reply = await send_async(self._model, messages, model_args=model_args)
        check_reply("ChatChain.query", self._model, reply)
        return reply.text, self._extended(messages, reply.text)

    def structured_query(self, question: str, return_type: type[T]) -> tuple[T, ChatChain]:
        """Ask for a value of `return_type`, validated (with retries) like an LLM function's."""
        outcome = run(self._structured(question, return_type))
        return outcome.value, self._answered(outcome)

    async def astructured_query(self, question: str, return_type: type[T]) -> tuple[T, ChatChain]:
        """`structured_query` through the model's async API."""
        outcome = await run_async(self._structured(question, return_type))
        return outcome.value, self._answered(outcome)

    def _structured(self, question: str, return_type: Any) -> Attempts:
        """The attempt loop that answers the question with a value of `return_type`."""
        name = "ChatChain.structured_query"
        schema = _structured_schema(return_type)
        settings = settings_in_force(self._settings)

        def messages_for(output: OutputMode) -> tuple[BaseMessage, ...]:
            definitions = schema.definitions if output.instruction == "outline" else ()
            reply = reply_instruction(schema, settings, output)
            lines = [question, *definitions, *([reply] if reply else [])]
            return (*self._messages, HumanMessage("\n".join(lines)))

        output = choose_output_mode(self._model, schema, settings.output_mode, name)
        return attempts(name, self._model, output, messages_for, schema.output_adapter, settings)

    def _answered(self, outcome: Outcome) -> ChatChain:
        """This chain with the question (as last asked, retries left out) and the accepted reply."""
        asked = outcome.messages[: len(self._messages) + 1]
        return self._extended(asked, outcome.reply.text)

    def _extended(self, messages: Sequence[BaseMessage], reply: str) -> ChatChain:
        return ChatChain(self._model, (*messages, AIMessage(reply)), self._settings)


def _structured_schema(return_type: Any) -> CallSchema:
    """The call schema of a structured query for a return type; built once per hashable type."""
    try:
        hash(return_type)
    except TypeError:
        return _described(return_type)
    return _cached_schema(return_type)


def _described(return_type: Any) -> CallSchema:
    return describe_call("ChatChain.structured_query", "", str, return_type)


_cached_schema = functools.lru_cache(maxsize=256)(_described)
