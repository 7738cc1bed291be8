"""Model resolution, output-mode choice, text-completion models, and provider failures."""

from typing import Any, ClassVar

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake import FakeListLLM
from pydantic import BaseModel, Field

from llm_strategy import DefinitionError, LLMSettings, ProviderError, llm_function, resolve_model
from llm_strategy.testing import ScriptedChatModel, SyntheticChatModel

from .helpers import scripted


@llm_function
def add(model, a: int, b: int) -> int:
    """Add two numbers."""
    raise NotImplementedError


def test_models_and_chains_resolve_to_themselves():
    from llm_strategy import ChatChain

    model = scripted()
    chain = ChatChain(model)
    assert resolve_model(model) is model
    assert resolve_model(chain) is chain


def test_provider_strings_resolve_without_a_request(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing is sent at resolve time
    model = resolve_model("openai:gpt-4o-mini")
    assert isinstance(model, BaseChatModel)
    assert model.model_name == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("gpt-4o-mini", "must look like 'provider:model'"),
        ("nonexistent-provider:model-x", "model 'nonexistent-provider:model-x'"),
        (42, "expected a langchain chat model"),
        (None, "expected a langchain chat model"),
    ],
)
def test_bad_model_specs_are_definition_errors(spec, match):
    with pytest.raises(DefinitionError, match=match):
        resolve_model(spec)


def test_missing_credentials_are_a_provider_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ProviderError, match="could not be created"):
        resolve_model("openai:gpt-4o-mini")


class Sum(BaseModel):
    """A sum."""

    total: int


@llm_function
def add_up(model, a: int, b: int) -> Sum:
    """Add two numbers."""
    raise NotImplementedError


@pytest.mark.parametrize(
    ("model", "mode"),
    [
        (ScriptedChatModel(replies=['{"return_value": {"total": 3}}']), "prompt"),
        (ScriptedChatModel(replies=['{"total": 3}'], structured_output=True), "native"),
        (SyntheticChatModel(), "native"),
    ],
)
def test_native_capability_comes_from_the_model_profile(model, mode):
    assert isinstance(add_up(model, 1, 2), Sum)
    request = model.requests[0]
    assert request.description["mode"] == mode
    assert ("response_format" in request.kwargs) is (mode == "native")


def test_output_mode_can_be_forced():
    @llm_function(settings=LLMSettings(output_mode="prompt"))
    def add_prompted(model, a: int, b: int) -> int:
        """Add two numbers."""
        raise NotImplementedError

    model = SyntheticChatModel()  # supports native output
    add_prompted(model, 1, 2)
    assert model.schemas == [] and 'Reply with JSON {"return_value": int}' in model.last_prompt

    @llm_function(settings=LLMSettings(output_mode="native"))
    def add_native(model, a: int, b: int) -> int:
        """Add two numbers."""
        raise NotImplementedError

    with pytest.raises(DefinitionError, match="output_mode='native' was forced, but ScriptedChatModel"):
        add_native(scripted('{"return_value": 3}'), 1, 2)


def test_text_completion_models_get_one_prompt():
    llm = FakeListLLM(responses=['The answer: {"return_value": 3}'])
    assert add(llm, 1, 2) == 3


def test_strategy_accepts_provider_strings_lazily(monkeypatch):
    from llm_strategy import llm_strategy

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    @llm_strategy("openai:gpt-4o-mini")  # no key needed until the first call
    def shout(text: str) -> str:
        """Shout the text."""
        raise NotImplementedError

    with pytest.raises(ProviderError):
        shout("hi")


class ExplodingModel(ScriptedChatModel):
    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("connection reset by peer")


def test_provider_exceptions_become_provider_errors():
    with pytest.raises(ProviderError, match="ConnectionError: connection reset by peer") as caught:
        add(ExplodingModel(), 1, 2)
    assert isinstance(caught.value.__cause__, ConnectionError)
    with pytest.raises(ProviderError, match="boom"):
        add(scripted(RuntimeError("boom")), 1, 2)


def test_text_completion_models_get_role_marked_turns_and_a_stop_word():
    from langchain_core.language_models import BaseLLM
    from langchain_core.outputs import Generation, LLMResult

    class Recording(BaseLLM):
        offline: ClassVar[bool] = True  # answers in-process
        sent: list[Any] = Field(default_factory=list)

        @property
        def _llm_type(self) -> str:
            return "recording"

        def _generate(self, prompts: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
            self.sent.append((prompts[0], stop))
            return LLMResult(generations=[[Generation(text='{"return_value": 3}<|im_end|>')]])

    llm = Recording()
    assert add(llm, 1, 2) == 3
    [(prompt, stop)] = llm.sent
    assert prompt.startswith("<|im_start|>system\nadd: Add two numbers.")
    assert prompt.endswith('<|im_start|>user\n{"a":1,"b":2}<|im_end|><|im_start|>assistant\n')
    assert stop == ["<|im_end|>"]
