"""Replies in prose, fences or with small defects are accepted; invalid ones are retried with the error."""

from typing import Annotated, Any, Optional

import pytest
from pydantic import BaseModel, Field

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


# -- malformed replies: a typed error after the attempt loop, never a raw exception ----------------

MALFORMED = {
    "200 '{'": "{" * 200,
    "JSON nested 1,000 deep": "[" * 1000 + "]" * 1000,
    "objects nested 1,000 deep": '{"a": ' * 1000 + "1" + "}" * 1000,
    "control bytes": "\x00\x01\x02\x1b[\x7f" * 100,
    "an unterminated string": '{"return_value": [1, "' + "\\" * 1001,
    "a lone surrogate": '{"return_value": "\ud800"',
    "prose with stray brackets": "see [this] and {that} and ] or }",
    "fences without JSON": "```\n" + "\n" * 1000 + "```json\n```",
    "an integer of 5,000 digits": "So: [1" + "1" * 5000 + "] and {'return_value': [2" + "2" * 5000 + "]}",
    "what trips json-repair": 'x-{ */\x00"```json\n1e5{"a"}\'```json\n',
}


@llm_function
def two_numbers(model, seed: int) -> list[int]:
    """Return two numbers."""
    raise NotImplementedError


@pytest.mark.parametrize("reply", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_replies_end_in_output_parse_error(reply):
    model = scripted(reply, reply, reply)
    with pytest.raises(OutputParseError) as caught:
        two_numbers(model, 1)
    assert caught.value.replies == (reply.replace("\ud800", "\ufffd"),) * 3  # replies are valid text
    assert len(model.calls) == 3


def test_control_bytes_around_json_are_repaired():
    assert two_numbers(scripted('\x00\x01{"return_value"\x02: [1,\x1b 2}\x7f'), 1) == [1, 2]


def test_a_lone_surrogate_becomes_the_replacement_character_and_is_quoted_back():
    model = scripted('{"return_value": "\ud800"}', '{"return_value": [1, 2]}')
    assert two_numbers(model, 1) == [1, 2]
    assert model.calls[1][-2].text == '{"return_value": "\ufffd"}'


def test_deep_nesting_is_rejected_with_the_reason():
    model = scripted("[" * 1000 + "]" * 1000, '{"return_value": [1, 2]}')
    assert two_numbers(model, 1) == [1, 2]
    assert "nests brackets more than 64 levels deep" in model.calls[1][-1].text


def test_nesting_within_the_bound_is_parsed():
    @llm_function
    def tree(model, seed: int) -> list[Any]:
        """A nested list."""
        raise NotImplementedError

    nested: list[Any] = [1]
    for _ in range(59):
        nested = [nested]
    assert tree(scripted("Here: " + '{"return_value": ' + "[" * 60 + "1" + "]" * 60 + "}"), 1) == nested


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('Note [1] and {x}. The answer: {"return_value": [3, 4]} as asked.', [3, 4]),
        ('```json\n{"return_value": [5, 6,]}\n```', [5, 6]),
        ("I'd say [7, 8] is right; [1] was a footnote.", [7, 8]),
        ('{"return_value": [9, "10"]} {"return_value": [0, 0]}', [9, 10]),
    ],
)
def test_values_are_found_among_prose_and_brackets(reply, expected):
    assert two_numbers(scripted(reply), 1) == expected


def test_long_garbage_is_rejected_quickly_and_the_reply_kept_whole():
    garbage = "".join("{[ab]} x [" if i % 7 else '"q\\"' for i in range(26_000))
    model = scripted(garbage, garbage, garbage)
    with pytest.raises(OutputParseError) as caught:
        two_numbers(model, 1)
    assert caught.value.replies == (garbage,) * 3  # the error keeps every raw reply


@pytest.mark.integration
def test_a_50_mb_reply_is_a_value_or_an_output_parse_error():
    settings = LLMSettings(max_attempts=1)

    @llm_function(settings=settings)
    def numbers(model, seed: int) -> list[int]:
        """Return two numbers."""
        raise NotImplementedError

    valid = '{"return_value": [1, 2]} ' * (50 * 2**20 // 25)
    assert numbers(scripted(valid), 1) == [1, 2]
    garbage = "lorem [ipsum] {dolor} sit " * (50 * 2**20 // 26)
    with pytest.raises(OutputParseError, match="not valid JSON"):
        numbers(scripted(garbage), 1)


# -- an empty reply is not a str ---------------------------------------------------------------------


@llm_function
def title(model, text: str) -> str:
    """A title for the text."""
    raise NotImplementedError


def test_empty_and_blank_replies_are_retried_for_str():
    model = scripted("", "  \n ", '{"return_value": " "}', "Bees")
    with pytest.raises(OutputParseError) as caught:
        title(model, "About bees.")
    assert caught.value.errors == (
        'value: The reply is empty; the answer must be some text (got "")',
    ) * 2 + ('value: The reply is empty; the answer must be some text (got " ")',)
    assert "The reply is empty" in model.calls[1][-1].text
    assert title(scripted("", "Bees"), "About bees.") == "Bees"


@pytest.mark.parametrize("mode", ["auto", "native"])
def test_empty_reply_is_retried_for_str_on_a_native_model(mode):
    @llm_function(settings=LLMSettings(output_mode=mode))
    def headline(model, text: str) -> str:
        """A headline for the text."""
        raise NotImplementedError

    model = scripted('{"return_value": ""}', " ", '{"return_value": "Bees"}')
    model = model.model_copy(update={"structured_output": True, "profile": {"structured_output": True}})
    assert headline(model, "About bees.") == "Bees"
    assert model.schemas == []  # a str is read as text, never asked natively
    assert [
        call[-1].text.startswith("Invalid reply:\nvalue: The reply is empty") for call in model.calls[1:]
    ] == [
        True,
        True,
    ]


def test_a_described_str_return_is_checked_too():
    @llm_function
    def summary(model, text: str) -> Annotated[str, Field(description="One sentence.")]:
        """Summarize."""
        raise NotImplementedError

    assert summary(scripted(" ", "Short."), "Long text.") == "Short."


def test_optional_str_may_be_empty():
    @llm_function
    def nickname(model, name: str) -> Optional[str]:  # noqa: UP045 - the spelling users write
        """A nickname, if there is a common one."""
        raise NotImplementedError

    assert nickname(scripted(""), "Zyx") is None
    assert nickname(scripted("null"), "Zyx") is None
    assert nickname(scripted('{"return_value": null}'), "Zyx") is None
    assert nickname(scripted('{"return_value": ""}'), "Zyx") == ""
    assert nickname(scripted("Bob"), "Robert") == "Bob"


# -- retries quote a bounded excerpt ------------------------------------------------------------------


def test_retry_quotes_head_and_tail_of_a_long_reply():
    runaway = "HEAD" + "x" * 100_000 + "TAIL"
    model = scripted(runaway, '{"return_value": [1, 2]}')
    assert two_numbers(model, 1) == [1, 2]
    quoted = model.calls[1][-2]
    assert quoted.type == "ai"
    assert quoted.text.startswith("HEAD") and quoted.text.endswith("TAIL")
    assert "[... 98008 characters omitted ...]" in quoted.text
    assert len(quoted.text) < 2_100


def test_retry_excerpt_is_a_setting_and_every_retry_stays_bounded():
    @llm_function(settings=LLMSettings(retry_excerpt_chars=300, max_attempts=3))
    def numbers(model, seed: int) -> list[int]:
        """Return two numbers."""
        raise NotImplementedError

    runaway = "y" * 50_000
    model = scripted(runaway, runaway, runaway)
    with pytest.raises(OutputParseError) as caught:
        numbers(model, 1)
    assert caught.value.replies == (runaway,) * 3
    last = model.calls[2]
    assert sum(len(message.text) for message in last) < 1_500
    quoted = "y" * 150 + "\n[... 49700 characters omitted ...]\n" + "y" * 150
    assert [message.text for message in last if message.type == "ai"] == [quoted, quoted]


def test_short_replies_are_quoted_whole():
    model = scripted("a short answer", '{"return_value": [1, 2]}')
    assert two_numbers(model, 1) == [1, 2]
    assert model.calls[1][-2].text == "a short answer"


def test_many_validation_errors_are_summarized():
    reply = '{"return_value": [' + ", ".join(['"x"'] * 100) + "]}"
    model = scripted(reply, '{"return_value": [1, 2]}')
    assert two_numbers(model, 1) == [1, 2]
    retry = model.calls[1][-1].text
    assert retry.count("Input should be a valid integer") == 10
    assert "... and 90 more errors" in retry
