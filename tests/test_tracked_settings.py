"""The library's knobs are tracked hyperparameters: settings library-wide, instructions per function."""

import pytest
from pydantic import BaseModel, Field, ValidationError

from llm_hyperparameters import Hyperparameters, lookup
from llm_strategy import LLMSettings, OutputParseError, llm_function

from .helpers import scripted


class Verdict(BaseModel):
    """A verdict."""

    label: str = Field(description="The label.")
    confidence: float


@llm_function
def judge(model, text: str = Field(description="The text to judge.")) -> Verdict:
    """Judge the text."""
    raise NotImplementedError


@llm_function(settings=LLMSettings(max_attempts=1))
def pinned(model, text: str) -> int:
    """Count."""
    raise NotImplementedError


VERDICT = '{"return_value": {"label": "ok", "confidence": 0.9}}'


def test_calls_record_the_settings_and_the_function_instructions():
    with Hyperparameters() as recorded:
        judge(scripted(VERDICT), "fine")
    names = set(recorded)
    assert "llm_strategy.settings" in names and judge.hyperparameters.name in names
    instructions = recorded[judge]
    assert instructions.docstring == "Judge the text."
    assert instructions.descriptions == {"text": "The text to judge.", "return.label": "The label."}


def test_library_settings_change_retries_through_a_scope():
    scope = Hyperparameters()
    scope["llm_strategy.settings"].max_attempts = 1
    scope["llm_strategy.settings"].retry = "Wrong: {error}"
    with scope, pytest.raises(OutputParseError) as caught:
        judge(scripted("no", VERDICT), "fine")
    assert len(caught.value.attempts) == 1
    model = scripted("no", VERDICT)
    scope["llm_strategy.settings"].max_attempts = 2
    with scope:
        judge(model, "fine")
    assert model.calls[1][-1].text.startswith("Wrong: The reply contains no JSON.")


def test_pinned_settings_win_over_library_settings():
    scope = Hyperparameters()
    scope["llm_strategy.settings"].max_attempts = 5
    with scope, pytest.raises(OutputParseError) as caught:
        pinned(scripted("x", "y"), "a b")
    assert len(caught.value.attempts) == 1


def test_invalid_settings_do_not_validate():
    settings = lookup("llm_strategy.settings")
    with pytest.raises(ValidationError, match="unknown placeholder"):
        settings.model(retry="Bad: {reason}")
    with pytest.raises(ValidationError):
        Hyperparameters()["llm_strategy.settings"].max_attempts = 0


def test_docstring_and_descriptions_can_be_rewritten_without_code():
    scope = Hyperparameters()
    scope[judge].docstring = "Judge the tone of the text, strictly."
    scope[judge].descriptions = {
        "text": "A customer review.",
        "return": "Your verdict.",
        "return.label": "positive or negative",
    }
    model = scripted(VERDICT)
    with scope:
        judge(model, "fine")
    prompt = model.last_prompt
    assert prompt.startswith("judge: Judge the tone of the text, strictly.")
    for text in ("A customer review.", "Your verdict.", "positive or negative"):
        assert text in prompt
    assert "The text to judge." not in prompt
    plain = scripted(VERDICT)
    judge(plain, "fine")
    assert "The text to judge." in plain.last_prompt  # outside the scope the definition holds


def test_rewritten_descriptions_reach_native_schemas():
    scope = Hyperparameters()
    scope[judge].descriptions = {"return.label": "positive or negative"}
    model = scripted(VERDICT).model_copy(
        update={"structured_output": True, "profile": {"structured_output": True}}
    )
    with scope:
        judge(model, "fine")
    verdict = model.schemas[0]  # the output object itself
    assert verdict["properties"]["label"]["description"] == "positive or negative"


def test_unknown_description_keys_are_rejected():
    with pytest.raises(ValidationError):
        Hyperparameters()[judge].descriptions = {"nonexistent": "x"}
