"""What a reply can be: cut off, refused, free text, a native object, or a refused response format."""

import enum
import warnings
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from pydantic import BaseModel, Field

from llm_hyperparameters import Hyperparameters, trace
from llm_strategy import (
    LLMSettings,
    ModelRefusalError,
    OutputTruncatedError,
    ProviderError,
    llm_function,
)
from llm_strategy.testing import ScriptedChatModel, ScriptExhaustedError


class Point(BaseModel):
    """A point."""

    x: int = Field(description="Horizontal.")
    y: int = 0


@llm_function
def add(model, a: int, b: int) -> int:
    """Add two numbers."""
    raise NotImplementedError


@llm_function
def locate(model, place: str) -> Point:
    """Locate the place."""
    raise NotImplementedError


@llm_function
def describe(model, thing: str) -> str:
    """Describe the thing."""
    raise NotImplementedError


def cut_off(text: str, **metadata: str) -> AIMessage:
    return AIMessage(text, response_metadata=metadata or {"finish_reason": "length"})


@pytest.mark.parametrize(
    "metadata",
    [{"finish_reason": "length"}, {"stop_reason": "max_tokens"}, {"finish_reason": "MAX_TOKENS"}],
)
def test_a_cut_off_reply_never_becomes_a_value(metadata):
    model = ScriptedChatModel(replies=[cut_off('{"return_value": 123', **metadata)], max_tokens=7)
    with pytest.raises(OutputTruncatedError) as caught:
        add(model, 12000, 345)
    error = caught.value
    assert error.function_name == "add" and error.limit == 7 and error.reply == '{"return_value": 123'
    assert str(error).startswith("add: the reply was cut off at max_tokens=7")
    assert len(model.calls) == 1  # the same limit would cut a retry too


def test_a_cut_off_native_reply_is_the_same_error():
    model = ScriptedChatModel(replies=[cut_off('{"return_value": {"x": 1')], structured_output=True)
    with pytest.raises(OutputTruncatedError, match="locate: the reply was cut off at the model's default"):
        locate(model, "Oslo")


def test_without_a_finish_reason_small_defects_are_still_repaired():
    model = ScriptedChatModel(replies=[AIMessage('{"return_value": 123')])
    assert add(model, 100, 23) == 123


@pytest.mark.parametrize(
    "reply",
    [
        AIMessage("", additional_kwargs={"refusal": "I can't help with locating people."}),
        AIMessage([{"type": "refusal", "refusal": "I can't help with locating people."}]),
    ],
)
def test_a_refusal_carries_its_text(reply):
    model = ScriptedChatModel(replies=[reply], structured_output=True)
    with pytest.raises(ModelRefusalError) as caught:
        locate(model, "my neighbour")
    assert caught.value.refusal == "I can't help with locating people."
    assert str(caught.value) == "locate: the model refused: I can't help with locating people."
    assert len(model.calls) == 1


def test_a_content_filter_is_a_refusal():
    model = ScriptedChatModel(replies=[AIMessage("", response_metadata={"finish_reason": "content_filter"})])
    with pytest.raises(ModelRefusalError, match="finish reason 'content_filter'"):
        add(model, 1, 2)


def test_a_str_return_is_plain_text_with_no_schema():
    model = ScriptedChatModel(replies=["  A small, round fruit.  "], structured_output=True)
    assert describe(model, "plum") == "A small, round fruit."
    request = model.requests[0]
    assert request.kwargs == {} and request.description["mode"] == "text"
    assert (
        model.calls[0][0].text
        == "describe: Describe the thing.\nInput: {thing:string}\nReply with the text only."
    )


def test_scalars_are_asked_in_prompt_mode_unless_native_is_forced():
    model = ScriptedChatModel(replies=['{"return_value": 3}'] * 2, structured_output=True)
    assert add(model, 1, 2) == 3
    assert model.requests[0].kwargs == {} and model.requests[0].description["mode"] == "prompt"
    with Hyperparameters({"llm_strategy.settings": {"output_mode": "native"}}):
        assert add(model, 1, 2) == 3
    assert model.schemas == [
        {
            "title": "add",
            "properties": {"return_value": {"type": "integer"}},
            "required": ["return_value"],
            "type": "object",
            "additionalProperties": False,
        }
    ]


def test_an_enveloped_reply_to_an_unwrapped_schema_is_still_read():
    model = ScriptedChatModel(replies=['{"return_value": {"x": 5}}'], structured_output=True)
    assert locate(model, "Oslo") == Point(x=5)


def test_a_str_reply_in_the_envelope_is_unwrapped():
    model = ScriptedChatModel(replies=['{"return_value": "A plum."}'])
    assert describe(model, "plum") == "A plum."


def test_native_requests_carry_a_strict_schema_and_no_outline():
    model = ScriptedChatModel(replies=['{"x": 1, "y": 2}'], structured_output=True)
    assert locate(model, "Oslo") == Point(x=1, y=2)
    [schema] = model.schemas  # an object output is sent as itself, without the envelope
    assert schema == {
        "title": "locate",
        "description": "A point.",
        "properties": {"x": {"description": "Horizontal.", "type": "integer"}, "y": {"type": "integer"}},
        "required": ["x", "y"],
        "type": "object",
        "additionalProperties": False,
    }
    system = model.calls[0][0].text
    assert system == "locate: Locate the place.\nInput: {place:string}"


def test_native_requests_are_recorded_with_their_schema_on_the_trace():
    model = ScriptedChatModel(replies=['{"x": 1, "y": 2}'], structured_output=True)
    with trace("native") as recorded:
        locate(model, "Oslo")
    [request] = [span for span in recorded.spans if span.kind == "llm"]
    assert request.attributes["output_mode"] == "native"
    assert request.attributes["output_schema"]["title"] == "locate"
    assert request.attributes["finish_reason"] == "stop"


def test_an_exhausted_script_is_the_tests_mistake_not_a_provider_error():
    with pytest.raises(ScriptExhaustedError, match="has 1 replies but was called 2 times"):
        add(ScriptedChatModel(replies=["not json"]), 1, 2)


class FormatRejected(Exception):
    """What a client raises when the server refuses the response format."""

    status_code = 500


def test_a_refused_response_format_falls_back_to_prompt_mode_once():
    model = ScriptedChatModel(
        replies=[
            FormatRejected("Input should be 'text' or 'json_object' at ('body', 'response_format', 'type')"),
            '{"return_value": {"x": 3}}',
            '{"return_value": {"x": 4}}',
        ],
        structured_output=True,
    )
    with pytest.warns(RuntimeWarning, match="locate: the server refused native structured output"):
        assert locate(model, "Oslo") == Point(x=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert locate(model, "Bergen") == Point(x=4)  # remembered: no second refused request
    first, second, third = model.requests
    assert "response_format" in first.kwargs
    assert second.kwargs == {} and second.description["mode"] == "prompt"
    assert second.messages[0].text.endswith(
        'Reply with JSON {"return_value": {\n // A point.\n x:int, // Horizontal.\n y?:int\n}}'
    )
    assert third.description["mode"] == "prompt"


def test_other_provider_failures_are_not_mistaken_for_a_refused_format():
    class Overloaded(Exception):
        status_code = 503

    model = ScriptedChatModel(replies=[Overloaded("overloaded, retry later")], structured_output=True)
    with pytest.raises(ProviderError) as caught:
        locate(model, "Oslo")
    error = caught.value
    assert (error.status_code, error.retryable, error.model) == (503, True, "ScriptedChatModel")
    assert isinstance(error.__cause__, Overloaded)


def test_prompt_mode_can_be_forced_for_a_native_model():
    @llm_function(settings=LLMSettings(output_mode="prompt"))
    def locate_prompted(model, place: str) -> Point:
        """Locate the place."""
        raise NotImplementedError

    model = ScriptedChatModel(replies=['{"return_value": {"x": 1}}'], structured_output=True)
    assert locate_prompted(model, "Oslo") == Point(x=1)
    assert model.requests[0].kwargs == {}


def test_the_synthetic_model_answers_whatever_the_prompt_templates_say():
    from llm_strategy.testing import SyntheticChatModel

    settings = {
        "llm_strategy.settings": {
            "instructions": "Task {name}. {docstring}",
            "reply_format": "Answer as an object with a single key return_value holding: {output}",
        }
    }
    model = SyntheticChatModel(structured_output=False, seed=4)
    with Hyperparameters(settings):
        point = locate(model, "Oslo")
        total = add(model, 1, 2)
    assert isinstance(point, Point) and isinstance(total, int)
    assert len(model.calls) == 2  # each valid at the first attempt
    assert model.calls[0][0].text.startswith("Task locate. Locate the place.\nAnswer as an object")


def test_the_refused_native_request_stays_in_the_trace():
    model = ScriptedChatModel(
        replies=[FormatRejected("'response_format' of type 'json_schema' is not supported"), '{"x": 1}'],
        structured_output=True,
    )
    with trace("fallback") as recorded, pytest.warns(RuntimeWarning):
        locate(model, "Oslo")
    refused, answered = [span for span in recorded.spans if span.kind == "llm"]
    assert refused.attributes["output_mode"] == "native" and refused.error is not None
    assert refused.error.type == "OutputModeRejected"
    assert answered.attributes["output_mode"] == "prompt" and answered.error is None


class Overflow(Exception):
    status_code = 400


@pytest.mark.parametrize(
    ("error", "status", "retryable"),
    [
        (Overflow("context length exceeded, including 120 tokens in the response_format"), 400, False),
        (FormatRejected("upstream error while executing tools"), 500, True),
        (Overflow("Invalid schema for response_format 'locate': bad keyword"), 400, False),
    ],
)
def test_unrelated_failures_do_not_switch_a_model_to_prompt_mode(error, status, retryable):
    model = ScriptedChatModel(replies=[error, '{"x": 1}'], structured_output=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ProviderError) as caught:
            locate(model, "Oslo")
    assert type(caught.value) is ProviderError
    assert (caught.value.status_code, caught.value.retryable) == (status, retryable)
    assert locate(model, "Oslo") == Point(x=1)
    assert "response_format" in model.requests[1].kwargs  # still native


def test_a_forced_native_mode_does_not_switch_silently():
    @llm_function(settings=LLMSettings(output_mode="native"))
    def locate_native(model, place: str) -> Point:
        """Locate the place."""
        raise NotImplementedError

    model = ScriptedChatModel(
        replies=[FormatRejected("'response_format' of type 'json_schema' is not supported")],
        structured_output=True,
    )
    with pytest.raises(ProviderError, match="failed"):
        locate_native(model, "Oslo")
    assert len(model.requests) == 1


class Trip(BaseModel):
    """A trip."""

    start: Point = Field(description="Where it starts.")
    note: str = Field(min_length=3, max_length=40)


@llm_function
def plan(model, goal: str) -> Trip:
    """Plan a trip.

    Returns:
        The planned trip.
    """
    raise NotImplementedError


def test_strict_schemas_inline_described_references_and_state_dropped_constraints():
    model = ScriptedChatModel(replies=['{"start": {"x": 1, "y": 2}, "note": "fine"}'], structured_output=True)
    assert plan(model, "sea").note == "fine"
    request = model.requests[0]
    assert request.kwargs["response_format"]["json_schema"]["strict"] is True
    trip = model.schemas[0]
    assert trip["description"] == "The planned trip."  # a return description keeps the object unwrapped
    start = trip["properties"]["start"]
    assert "$ref" not in start and start["description"] == "Where it starts."
    assert start["required"] == ["x", "y"] and start["additionalProperties"] is False
    assert trip["properties"]["note"] == {"type": "string", "description": "max length 40; min length 3"}


class Loose(BaseModel):
    """Anything goes."""

    extra: Any


@llm_function
def loosen(model, text: str) -> Loose:
    """Loosen the text."""
    raise NotImplementedError


def test_outputs_strict_mode_cannot_express_are_sent_without_strict():
    model = ScriptedChatModel(replies=['{"extra": [1, "a"]}'], structured_output=True)
    assert loosen(model, "x").extra == [1, "a"]
    assert "strict" not in model.requests[0].kwargs["response_format"]["json_schema"]


def test_tool_call_prompts_say_nothing_about_the_reply():
    @llm_function(settings=LLMSettings(output_mode="tool_call"))
    def locate_by_tool(model, place: str) -> Point:
        """Locate the place."""
        raise NotImplementedError

    class ToolModel(ScriptedChatModel):
        def with_structured_output(self, schema: Any, *, method: str | None = None, **kwargs: Any) -> Any:
            tool = {"type": "function", "function": {"name": schema["title"], "parameters": schema}}
            return self.bind(tools=[tool], tool_choice=schema["title"]) | (lambda message: message)

    model = ToolModel(
        replies=[AIMessage("", tool_calls=[{"name": "locate_by_tool", "args": {"x": 7}, "id": "1"}])],
        structured_output=True,
    )
    assert locate_by_tool(model, "Oslo") == Point(x=7)
    assert model.calls[0][0].text == "locate_by_tool: Locate the place.\nInput: {place:string}"


def test_a_query_that_is_cut_off_or_refused_says_so():
    from llm_strategy import ChatChain

    chain = ChatChain(
        ScriptedChatModel(
            replies=[cut_off("The answer is 12"), AIMessage("", additional_kwargs={"refusal": "No."})]
        )
    )
    with pytest.raises(OutputTruncatedError, match=r"ChatChain\.query"):
        chain.query("What is 12345 + 0?")
    with pytest.raises(ModelRefusalError, match=r"No\."):
        chain.query("Again?")


class Color(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


@llm_function
def pick(model, mood: str) -> list[Color]:
    """Pick colors for the mood."""
    raise NotImplementedError


def test_enum_outputs_are_scalars_for_the_auto_mode():
    model = ScriptedChatModel(replies=['{"return_value": ["red"]}'], structured_output=True)
    assert pick(model, "calm") == [Color.RED]
    assert model.requests[0].description["mode"] == "prompt"


def test_the_trace_records_the_schema_as_sent():
    model = ScriptedChatModel(replies=['{"x": 1, "y": 2}'], structured_output=True)
    with trace("sent") as recorded:
        locate(model, "Oslo")
    [request] = [span for span in recorded.spans if span.kind == "llm"]
    assert request.attributes["output_schema"] == model.schemas[0]
    assert request.attributes["output_schema"]["required"] == ["x", "y"]
