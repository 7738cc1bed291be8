"""2.2.0's record-and-replay fakes: replies looked up from known texts or known conversations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LLM, BaseChatModel, BaseLLM
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from .._adapters import call_chat_model, call_text_model
from .._switches import check_request_allowed

__all__ = ["FakeChatModel", "FakeLLM"]


class FakeLLM(LLM):
    """A text model that completes a prompt from known texts: with `texts={"foobar"}`, `"foo"` gives `"bar"`.

    A stop word cuts the reply. A prompt that no text starts with raises `NotImplementedError`
    naming it, unless `external_llm` is given: then that model answers and the text is recorded
    in `texts`, ready to paste into the next run.

    Example:
        ```python
        llm = FakeLLM(texts={"foobar"})
        assert llm.invoke("foo") == "bar"
        assert llm.invoke("foo", stop=["a"]) == "b"
        ```
    """

    texts: set[str] = Field(default_factory=set)
    external_llm: BaseLLM | None = None
    offline: ClassVar[bool] = True
    __call__ = call_text_model

    @property
    def _llm_type(self) -> str:
        return "fake"

    def _call(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> str:
        for text in sorted(self.texts):
            if text.startswith(prompt):
                return _cut(text[len(prompt) :], stop)
        if self.external_llm is None:
            raise NotImplementedError(
                f"FakeLLM has no text for this prompt; add {prompt!r} followed by the reply to `texts`"
            )
        check_request_allowed(self.external_llm)
        completion = self.external_llm.invoke(prompt, stop=stop)
        self.texts.add(prompt + completion)
        return completion


class FakeChatModel(BaseChatModel):
    """A chat model that replies from known conversations: the AI message that follows the request.

    Messages match by role and text. A stop word cuts the reply. A request that no conversation
    starts with raises `NotImplementedError` naming it, unless `external_chat_model` is given:
    then that model answers and the conversation is recorded in `conversations`.

    Example:
        ```python
        model = FakeChatModel.from_messages([[HumanMessage("Hi"), AIMessage("Hello!")]])
        assert model.invoke([HumanMessage("Hi")]).text == "Hello!"
        ```
    """

    conversations: list[list[BaseMessage]] = Field(default_factory=list)
    external_chat_model: BaseChatModel | None = None
    offline: ClassVar[bool] = True
    __call__ = call_chat_model

    @classmethod
    def from_messages(cls, messages_bag: Iterable[Sequence[BaseMessage]]) -> FakeChatModel:
        """A fake that knows these conversations."""
        return cls(conversations=[list(messages) for messages in messages_bag])

    @property
    def _llm_type(self) -> str:
        return "fake"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = [_key(message) for message in messages]
        for conversation in self.conversations:
            known = [_key(message) for message in conversation[: len(request)]]
            following = conversation[len(request)] if len(conversation) > len(request) else None
            if known == request and isinstance(following, AIMessage):
                return _result(_cut(following.text, stop))
        if self.external_chat_model is None:
            raise NotImplementedError(
                f"FakeChatModel has no conversation that continues {messages!r}; add it, followed by the "
                "reply, to `conversations`"
            )
        check_request_allowed(self.external_chat_model)
        reply = self.external_chat_model.invoke(messages, stop=stop)
        self.conversations.append([*messages, AIMessage(reply.text)])
        return _result(reply.text)


def _key(message: BaseMessage) -> tuple[str, str]:
    return message.type, message.text


def _cut(reply: str, stop: list[str] | None) -> str:
    """The reply up to the first stop word."""
    for word in stop or ():
        reply = reply.split(word, 1)[0]
    return reply


def _result(text: str) -> ChatResult:
    return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])
