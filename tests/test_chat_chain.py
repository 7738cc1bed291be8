"""ChatChain: immutable, branchable conversations, and functions called inside them."""

import pytest

from llm_strategy import ChatChain, OutputParseError, llm_function

from .helpers import scripted


def test_query_returns_a_new_chain_and_leaves_the_old_one():
    model = scripted("Paris.", "About 2 million.")
    chain = ChatChain(model)
    reply, chain1 = chain.query("Capital of France?")
    assert reply == "Paris." and chain1.response == "Paris."
    assert chain.messages == []
    reply2, chain2 = chain1.query("Population?")
    assert reply2 == "About 2 million."
    assert [m.text for m in chain2.messages] == [
        "Capital of France?",
        "Paris.",
        "Population?",
        "About 2 million.",
    ]
    assert len(chain1.messages) == 2
    assert [m.text for m in model.calls[1]] == ["Capital of France?", "Paris.", "Population?"]


def test_branches_diverge():
    model = scripted("Blue.", "Red.", "Green.")
    _, base = ChatChain(model).query("A color?")
    _, left = base.branch().query("Another?")
    _, right = base.branch().query("And another?")
    assert left.response == "Red." and right.response == "Green."
    assert base.response == "Blue."


def test_structured_query_validates_and_retries():
    model = scripted("three", '{"return_value": 3}')
    value, chain = ChatChain(model).structured_query("How many sides has a triangle?", int)
    assert value == 3
    assert model.calls[0][-1].text.endswith('Reply with JSON {"return_value": int}')
    assert [m.type for m in chain.messages] == ["human", "ai"]  # retries are not kept in the chain
    with pytest.raises(OutputParseError):
        ChatChain(scripted("x", "y", "z")).structured_query("Number?", int)


def test_response_before_any_reply_is_an_error():
    with pytest.raises(ValueError, match="no reply yet"):
        _ = ChatChain(scripted()).response


def test_llm_function_continues_a_chain():
    @llm_function
    def count_words(model, text: str) -> int:
        """Count the words."""
        raise NotImplementedError

    model = scripted("Hello there.", '{"return_value": 2}')
    _, chain = ChatChain(model).query("Say hello.")
    assert count_words(chain, "Hello there") == 2
    sent = model.calls[1]
    assert [m.type for m in sent] == ["human", "ai", "human"]  # no system message mid-conversation
    assert sent[-1].text.startswith("count_words: Count the words.") and sent[-1].text.endswith(
        '{"text":"Hello there"}'
    )


async def test_async_queries():
    model = scripted("Hi.", '{"return_value": [1, 2]}')
    reply, chain = await ChatChain(model).aquery("Hello?")
    numbers, _ = await chain.astructured_query("Two numbers?", list[int])
    assert reply == "Hi." and numbers == [1, 2]
