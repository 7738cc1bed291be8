"""Replies in prose, fences or with small defects are accepted; invalid ones are retried with the error."""

import pytest
from pydantic import BaseModel

from llm_strategy import LLMCallError, LLMSettings, OutputParseError, llm_function

from .helpers import scripted

ONE_ATTEMPT = LLMSettings(max_attempts=1, output_mode="prompt")


@llm_function(settings=ONE_ATTEMPT)
def pair(model) -> list[int]:
    """Two numbers."""
    raise NotImplementedError


@llm_function(settings=ONE_ATTEMPT)
def sentence(model) -> str:
    """A sentence."""
    raise NotImplementedError


@llm_function(settings=ONE_ATTEMPT)
def number(model) -> int:
    """A number."""
    raise NotImplementedError


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"return_value": [1, 2]}', {"return_value": [1, 2]}),
        ('Here you go:\n```json\n{"return_value": [1, 2]}\n```\nAnything else?', {"return_value": [1, 2]}),
        ('I think {"return_value": [1, 2]} is right.', {"return_value": [1, 2]}),
        ('Example {"a": 1}. Answer: {"return_value": [1, 2]}', {"return_value": [1, 2]}),
        ('{"return_value": [1, 2,]}', {"return_value": [1, 2]}),
        ("{'return_value': [1, 2]}", {"return_value": [1, 2]}),
        ('Sure! {"return_value": [1, 2', {"return_value": [1, 2]}),
    ],
)
def test_json_is_found_and_repaired(reply, expected):
    model = scripted(reply)
    assert pair(model) == expected["return_value"]  # on the first reply: found and repaired locally
    assert len(model.calls) == 1


def test_reply_without_json_is_an_error():
    with pytest.raises(OutputParseError) as caught:
        pair(scripted("I cannot help with that."))
    assert caught.value.errors == (
        'The reply contains no JSON. Answer with a JSON object {"return_value": ...}.',
    )


def test_plain_text_is_accepted_for_strings_only():
    assert sentence(scripted("  Just a sentence. ")) == "Just a sentence."
    with pytest.raises(OutputParseError) as caught:
        number(scripted("Just a sentence."))
    assert caught.value.replies == ("Just a sentence.",)


def test_missing_envelope_is_tolerated():
    assert pair(scripted("[1, 2]")) == [1, 2]


class Point(BaseModel):
    x: int
    y: int


@llm_function
def locate(model, place: str) -> Point:
    """Locate the place on the grid."""
    raise NotImplementedError


def test_validation_error_is_fed_back_and_retried():
    model = scripted('{"return_value": {"x": 1}}', '{"return_value": {"x": 1, "y": 2}}')
    assert locate(model, "home") == Point(x=1, y=2)
    assert len(model.calls) == 2
    retry = model.calls[1]
    assert retry[-2].type == "ai" and retry[-2].text == '{"return_value": {"x": 1}}'
    assert retry[-1].type == "human"
    assert "return_value.y: Field required" not in retry[-1].text  # the envelope is not part of the path
    assert "y: Field required" in retry[-1].text
    assert "errors.pydantic.dev" not in retry[-1].text  # no token-wasting URLs


def test_final_failure_carries_every_reply_and_error():
    replies = ["no idea", '{"return_value": {"x": "a", "y": 1}}', '{"return_value": 5}']
    model = scripted(*replies)
    with pytest.raises(OutputParseError) as caught:
        locate(model, "nowhere")
    error = caught.value
    assert isinstance(error, LLMCallError)
    assert error.replies == tuple(replies)
    assert "contains no JSON" in error.errors[0]
    assert "x: Input should be a valid integer" in error.errors[1]
    assert "Input should be a valid dictionary" in error.errors[2]
    assert "locate: no valid output after 3 attempt(s)" in str(error)


def test_attempts_and_retry_text_are_settings():
    settings = LLMSettings(max_attempts=2, retry="Wrong ({error}). Again.")

    @llm_function(settings=settings)
    def count(model, text: str) -> int:
        """Count the words."""
        raise NotImplementedError

    model = scripted("many", "lots", '{"return_value": 3}')
    with pytest.raises(OutputParseError) as caught:
        count(model, "a b c")
    assert len(caught.value.attempts) == 2 and len(model.calls) == 2
    assert model.calls[1][-1].text.startswith("Wrong (The reply contains no JSON.")


def test_native_replies_are_validated_and_retried_too():
    model = scripted('{"return_value": {"x": 1}}', '{"return_value": {"x": 1, "y": 2}}')
    model = model.model_copy(update={"structured_output": True, "profile": {"structured_output": True}})
    assert locate(model, "home") == Point(x=1, y=2)
    assert len(model.schemas) == 2 and model.schemas[0]["title"] == "locate"
    assert "y: Field required" in model.calls[1][-1].text
