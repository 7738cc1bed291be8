"""Adapters between chat models and text-completion models (the 2.2.0 `llm_strategy.adapters`).

The 2.2.0 classes (these and the fakes) also keep langchain 0.0's call shapes, `llm("prompt")`
and `chat_model(messages)`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LLM, BaseChatModel, BaseLLM
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from ._messages import END_OF_TURN, join_for_text_model
from ._switches import check_request_allowed

__all__ = ["ChatModelAsLLM", "LLMAsChatModel", "call_chat_model", "call_text_model"]


def call_text_model(self: BaseLLM, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> str:
    """`llm(prompt)`, langchain 0.0's call shape: the completion text."""
    return self.invoke(prompt, stop=stop, **kwargs)


def call_chat_model(
    self: BaseChatModel, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
) -> AIMessage:
    """`chat_model(messages)`, langchain 0.0's call shape: the reply as a plain `AIMessage`."""
    return AIMessage(content=self.invoke(messages, stop=stop, **kwargs).content)


class ChatModelAsLLM(LLM):
    """A chat model used as a text-completion model: each prompt is sent as one user message.

    Example:
        ```python
        llm = ChatModelAsLLM(chat_model=ChatOpenAI(model="gpt-4o-mini"))
        llm.invoke("Name a prime number.")
        ```
    """

    chat_model: BaseChatModel
    offline: ClassVar[bool] = True
    """It sends nothing itself: the wrapped model's request is checked by `block_model_requests`."""

    __call__ = call_text_model

    @property
    def _llm_type(self) -> str:
        return f"chat-as-llm:{self.chat_model._llm_type}"

    def _call(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> str:
        check_request_allowed(self.chat_model)
        return self.chat_model.invoke([HumanMessage(prompt)], stop=stop, **kwargs).text

    async def _acall(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> str:
        check_request_allowed(self.chat_model)
        return (await self.chat_model.ainvoke([HumanMessage(prompt)], stop=stop, **kwargs)).text


class LLMAsChatModel(BaseChatModel):
    """A text-completion model used as a chat model: messages are joined with their roles marked.

    The prompt is ChatML (`<|im_start|>user\\n...<|im_end|><|im_start|>assistant\\n`) and the
    reply stops at `<|im_end|>`. `ChatChain` wraps a `BaseLLM` in it.

    Example:
        ```python
        chat = LLMAsChatModel(llm=OpenAI(model="gpt-3.5-turbo-instruct"))
        chat.invoke([HumanMessage("Hello")])
        ```
    """

    llm: BaseLLM
    offline: ClassVar[bool] = True
    """It sends nothing itself: the wrapped model's request is checked by `block_model_requests`."""

    __call__ = call_chat_model

    @property
    def _llm_type(self) -> str:
        return f"llm-as-chat:{self.llm._llm_type}"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        check_request_allowed(self.llm)
        text = self.llm.invoke(join_for_text_model(messages), stop=[END_OF_TURN, *(stop or [])], **kwargs)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        check_request_allowed(self.llm)
        prompt = join_for_text_model(messages)
        text = await self.llm.ainvoke(prompt, stop=[END_OF_TURN, *(stop or [])], **kwargs)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])
