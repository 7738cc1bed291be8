"""The real langchain-openai client against a local OpenAI-compatible server."""

import pytest
from pydantic import BaseModel, Field

from llm_strategy import LLMSettings, OutputParseError, ProviderError, llm_function

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
    schema = response_format["json_schema"]["schema"]
    weather = next(iter(schema["$defs"].values()))
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
