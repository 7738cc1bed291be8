"""The real langchain-openai client against a local OpenAI-compatible server."""

import warnings

import pytest
from pydantic import BaseModel, Field

from llm_strategy import (
    LLMSettings,
    ModelRefusalError,
    OutputParseError,
    OutputTruncatedError,
    ProviderError,
    llm_function,
)

from .openai_server import OpenAIServer, Scripted

pytestmark = pytest.mark.integration
langchain_openai = pytest.importorskip("langchain_openai")


class Weather(BaseModel):
    """A weather report."""

    city: str = Field(description="The city.")
    celsius: float = Field(description="Temperature in degrees Celsius.")


@llm_function(settings=LLMSettings(output_mode="prompt"))
def report_prompted(model, city: str) -> Weather:
    """Report the weather in the city."""
    raise NotImplementedError


@llm_function
def report(model, city: str) -> Weather:
    """Report the weather in the city."""
    raise NotImplementedError


@pytest.fixture
def server():
    with OpenAIServer() as running:
        yield running


def client(server, **options):
    defaults = {
        "model": "local-model",
        "api_key": "sk-local-test",
        "base_url": server.base_url,
        "max_retries": 0,
    }
    return langchain_openai.ChatOpenAI(**{**defaults, **options})


WEATHER = '{"return_value": {"city": "Oslo", "celsius": -3.5}}'


def test_prompt_mode(server):
    server.script.append(Scripted("Here it is:\n```json\n" + WEATHER + "\n```"))
    assert report_prompted(client(server), "Oslo") == Weather(city="Oslo", celsius=-3.5)
    sent = server.requests[0]
    assert "response_format" not in sent
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert "celsius:float // Temperature in degrees Celsius." in sent["messages"][0]["content"]
    assert sent["messages"][1]["content"] == '{"city":"Oslo"}'


def test_native_structured_output(server):
    server.script.append(Scripted(WEATHER))
    assert report(client(server), "Oslo") == Weather(city="Oslo", celsius=-3.5)
    sent = server.requests[0]
    response_format = sent["response_format"]
    assert response_format["type"] == "json_schema"
    weather = response_format["json_schema"]["schema"]  # the output object itself, no envelope
    assert weather["properties"]["celsius"]["description"] == "Temperature in degrees Celsius."
    assert "Output:" not in sent["messages"][0]["content"]


def test_native_output_is_validated_and_retried(server):
    server.script.extend([Scripted('{"return_value": {"city": "Oslo"}}'), Scripted(WEATHER)])
    assert report(client(server), "Oslo").celsius == -3.5
    retry = server.requests[1]["messages"]
    assert retry[-2]["role"] == "assistant"
    assert "celsius: Field required" in retry[-1]["content"]


def test_429_then_success(server):
    server.script.extend([Scripted(status=429, headers={"retry-after-ms": "10"}), Scripted(WEATHER)])
    assert report_prompted(client(server, max_retries=2), "Oslo").city == "Oslo"
    assert len(server.requests) == 2


def test_500_is_a_provider_error(server):
    server.script.extend([Scripted(status=500), Scripted(status=500)])
    with pytest.raises(ProviderError, match="Error code: 500") as caught:
        report_prompted(client(server, max_retries=1), "Oslo")
    assert caught.value.__cause__ is not None
    assert len(server.requests) == 2  # the client retried once, then gave up


def test_reply_that_is_not_json(server):
    server.script.extend(Scripted("It is cold in Oslo, maybe minus three.") for _ in range(3))
    with pytest.raises(OutputParseError) as caught:
        report_prompted(client(server), "Oslo")
    assert caught.value.replies == ("It is cold in Oslo, maybe minus three.",) * 3
    assert len(server.requests) == 3


def test_slow_reply_past_the_timeout(server):
    server.script.append(Scripted(WEATHER, delay=2.0))
    with pytest.raises(ProviderError, match="Timeout"):
        report_prompted(client(server, timeout=0.3), "Oslo")


async def test_async_calls_through_the_client(server):
    server.script.append(Scripted(WEATHER))
    assert (await report.acall(client(server), "Oslo")).city == "Oslo"


@llm_function(settings=LLMSettings(output_mode="native"))
def count(model, text: str) -> int:
    """Count the words of the text."""
    raise NotImplementedError


@llm_function(settings=LLMSettings(output_mode="prompt"))
def count_prompted(model, text: str) -> int:
    """Count the words of the text."""
    raise NotImplementedError


@pytest.mark.parametrize("function", [count, count_prompted], ids=["native", "prompt"])
def test_a_cut_off_reply_is_an_error_in_every_mode(server, function):
    server.script.append(Scripted('{"return_value": 123', finish_reason="length"))
    with pytest.raises(OutputTruncatedError) as caught:
        function(client(server, max_tokens=6), "one two three")
    assert caught.value.limit == 6 and caught.value.function_name == function.__name__
    assert "cut off at max_tokens=6" in str(caught.value)
    assert len(server.requests) == 1


@pytest.mark.parametrize("function", [report, report_prompted], ids=["native", "prompt"])
def test_a_refusal_is_a_refusal_error(server, function):
    server.script.append(Scripted(None, refusal="I can't share weather data."))
    with pytest.raises(ModelRefusalError) as caught:
        function(client(server), "Oslo")
    assert caught.value.refusal == "I can't share weather data."
    assert len(server.requests) == 1


def test_empty_choices_are_a_provider_error(server):
    server.script.append(Scripted(WEATHER, choices=False))
    with pytest.raises(ProviderError, match="held no completion") as caught:
        report_prompted(client(server), "Oslo")
    assert caught.value.model == "local-model"


def test_an_html_page_with_status_200_is_a_provider_error(server):
    server.script.append(Scripted(body=b"<html><body><h1>Gateway login</h1></body></html>"))
    with pytest.raises(ProviderError, match="did not answer with a chat completion"):
        report_prompted(client(server), "Oslo")


def test_a_key_the_server_echoes_is_not_in_the_error(server):
    secret = "sk-canary-0123456789abcdef"
    server.script.append(Scripted(status=401, error=f"Incorrect API key provided: {secret}."))
    with pytest.raises(ProviderError) as caught:
        report_prompted(client(server, api_key=secret), "Oslo")
    error = caught.value
    assert secret not in str(error) and "[REDACTED]" in str(error)
    assert (error.status_code, error.retryable) == (401, False)


@pytest.mark.parametrize(("status", "retryable"), [(429, True), (500, True), (400, False)])
def test_status_and_retryability_are_on_the_error(server, status, retryable):
    server.script.append(Scripted(status=status))
    with pytest.raises(ProviderError) as caught:
        report_prompted(client(server), "Oslo")
    assert (caught.value.status_code, caught.value.retryable) == (status, retryable)
    assert isinstance(caught.value.__cause__, Exception)


def test_a_server_that_refuses_json_schema_is_used_in_prompt_mode():
    with OpenAIServer(rejects_response_format=True) as server:
        server.script.extend([Scripted(WEATHER), Scripted(WEATHER)])
        with pytest.warns(RuntimeWarning, match="refused native structured output"):
            assert report(client(server), "Oslo") == Weather(city="Oslo", celsius=-3.5)
        # another client of the same server (as a "provider:model" string gives per call) remembers it
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert report(client(server), "Oslo").city == "Oslo"
    refused, first, second = server.requests
    assert refused["response_format"]["type"] == "json_schema"
    assert "response_format" not in first and "response_format" not in second
    assert first["messages"][0]["content"].endswith("celsius:float // Temperature in degrees Celsius.\n}}")


def test_native_requests_are_strict(server):
    server.script.append(Scripted(WEATHER))
    report(client(server), "Oslo")
    json_schema = server.requests[0]["response_format"]["json_schema"]
    assert json_schema["strict"] is True
    weather = json_schema["schema"]
    assert weather["additionalProperties"] is False and weather["required"] == ["city", "celsius"]


@llm_function(settings=LLMSettings(output_mode="tool_call"))
def report_by_tool(model, city: str) -> Weather:
    """Report the weather in the city."""
    raise NotImplementedError


def test_tool_call_mode_reads_the_arguments(server):
    server.script.extend(
        [
            Scripted(tool_arguments='{"city": "Oslo"}', finish_reason="tool_calls"),
            Scripted(tool_arguments='{"city": "Oslo", "celsius": -3.5}', finish_reason="tool_calls"),
        ]
    )
    assert report_by_tool(client(server), "Oslo") == Weather(city="Oslo", celsius=-3.5)
    first, retry = server.requests
    [tool] = first["tools"]
    assert tool["function"]["name"] == "report_by_tool" and first["tool_choice"]["function"]["name"] == (
        "report_by_tool"
    )
    assert (
        tool["function"]["parameters"]["properties"]["celsius"]["description"]
        == "Temperature in degrees Celsius."
    )
    assert "response_format" not in first
    assert "celsius: Field required" in retry["messages"][-1]["content"]
