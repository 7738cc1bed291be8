"""Swapping the model of every LLM function in tests, and blocking requests to real models."""

import asyncio
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import PrivateAttr

from llm_strategy import llm_function, llm_strategy
from llm_strategy.testing import (
    ModelRequestBlockedError,
    ScriptedChatModel,
    SyntheticChatModel,
    block_model_requests,
    override_model,
)


class RealModel(BaseChatModel):
    """Stands for a provider's model: counts the requests that reach it."""

    _sent: list[Any] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "real"

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        self._sent.append(messages)
        raise ConnectionError("no network here")


@llm_function
def add(model, a: int, b: int) -> int:
    """Add two numbers."""
    raise NotImplementedError


def test_override_reaches_functions_bound_when_decorated(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    @llm_strategy("openai:gpt-4o-mini")
    def shout(text: str) -> str:
        """Shout the text."""
        raise NotImplementedError

    model = ScriptedChatModel(replies=["HI!", '{"return_value": 3}'])
    with override_model(model):
        assert shout("hi") == "HI!"
        assert add(RealModel(), 1, 2) == 3  # a model passed as the argument is overridden too
    assert len(model.calls) == 2 and model.calls[0][-1].text == '{"text":"hi"}'


def test_override_ends_with_the_block():
    real = RealModel()
    with override_model(SyntheticChatModel()):
        add(real, 1, 2)
    with block_model_requests(False), pytest.raises(Exception, match="no network here"):
        add(real, 1, 2)
    assert len(real._sent) == 1


def test_blocked_requests_never_reach_the_model():
    real = RealModel()
    with (
        block_model_requests(),
        pytest.raises(ModelRequestBlockedError, match="blocked by block_model_requests"),
    ):
        add(real, 1, 2)
    assert real._sent == []


async def test_blocking_holds_in_async_calls_and_tasks():
    real = RealModel()
    with block_model_requests():
        results = await asyncio.gather(add.acall(real, 1, 2), add.acall(real, 3, 4), return_exceptions=True)
    assert all(isinstance(result, ModelRequestBlockedError) for result in results)
    assert real._sent == []


@pytest.mark.parametrize(
    "model",
    [
        ScriptedChatModel(replies=['{"return_value": 3}']),
        FakeListChatModel(responses=['{"return_value": 3}']),
    ],
)
def test_offline_models_are_allowed_while_blocked(model):
    with block_model_requests():
        assert add(model, 1, 2) == 3


def test_override_inside_a_blocked_test_answers_offline():
    with block_model_requests(), override_model(SyntheticChatModel(seed=2)):
        assert isinstance(add(RealModel(), 1, 2), int)
