"""LLM requests in traces: our calls and any langchain call in a traced block become spans."""

import pytest
from langchain_core.language_models.fake import FakeListLLM

from llm_hyperparameters import Hyperparameters, span, trace
from llm_strategy import ChatChain, OutputParseError, llm_function

from .helpers import scripted


@llm_function
def add(model, a: int, b: int) -> int:
    """Add two numbers."""
    raise NotImplementedError


def test_a_call_is_a_function_span_with_one_llm_span_per_attempt():
    model = scripted("three", '{"return_value": 3}')
    with trace("adding") as recorded:
        assert add(model, 1, 2) == 3
    root, call, first, second = recorded.spans
    assert (call.kind, call.name, call.parent_id) == ("function", "add", root.id)
    assert call.inputs == {"a": 1, "b": 2} and call.outputs == 3 and call.attributes["attempts"] == 2
    assert [first.kind, second.kind] == ["llm", "llm"]
    assert first.parent_id == call.id and second.parent_id == call.id
    assert [first.attributes["attempt"], second.attributes["attempt"]] == [1, 2]
    assert first.inputs["messages"][1] == {"role": "human", "content": '{"a":1,"b":2}'}
    assert first.outputs == {"reply": "three"} and second.outputs == {"reply": '{"return_value": 3}'}
    assert second.attributes["usage"]["total_tokens"] > 0
    summary = recorded.summary()
    assert summary["llm_calls"] == 2 and summary["calls"] == 1 and summary["total_tokens"] > 0


def test_failed_calls_and_provider_errors_are_marked():
    with trace() as recorded, pytest.raises(OutputParseError):
        add(scripted("a", "b", "c"), 1, 2)
    call = recorded.spans[1]
    assert call.error.type == "OutputParseError"
    with trace() as recorded, pytest.raises(Exception, match="boom"):
        add(scripted(RuntimeError("boom")), 1, 2)
    request = recorded.spans[-1]
    assert request.kind == "llm" and request.error.type == "ProviderError"
    assert "RuntimeError: boom" in request.error.message


def test_langchain_calls_outside_our_decorators_are_captured():
    llm = FakeListLLM(responses=["plain text"])
    with trace() as recorded, span("my step"):
        llm.invoke("Hello?")
        ChatChain(scripted("Hi!")).query("Hello?")
    step, completion, chat = recorded.spans[1:]
    assert completion.parent_id == step.id and completion.inputs == {
        "messages": [{"role": "prompt", "content": "Hello?"}]
    }
    assert completion.outputs == {"reply": "plain text"}
    assert chat.outputs == {"reply": "Hi!"}


def test_nothing_is_attached_outside_a_trace():
    model = scripted('{"return_value": 3}')
    add(model, 1, 2)
    assert not model.callbacks  # no trace handler is attached to the user's model


def test_changed_hyperparameters_appear_on_the_call_span():
    scope = Hyperparameters()
    scope[add].docstring = "Add two numbers carefully."
    with trace() as recorded, scope:
        add(scripted('{"return_value": 3}'), 1, 2)
    assert recorded.spans[1].hyperparameters == {
        add.hyperparameters.name: {"docstring": "Add two numbers carefully."}
    }


async def test_async_calls_are_traced():
    @llm_function
    async def add_async(model, a: int, b: int) -> int:
        """Add two numbers."""
        raise NotImplementedError

    with trace() as recorded:
        assert await add_async(scripted('{"return_value": 3}'), 1, 2) == 3
    kinds = [(item.kind, item.parent_id) for item in recorded.spans[1:]]
    assert kinds == [("function", recorded.spans[0].id), ("llm", recorded.spans[1].id)]
