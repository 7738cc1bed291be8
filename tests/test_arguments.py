"""Arguments are checked against the parameter types and serialized before anything is sent."""

import math
from typing import Annotated, Any

import numpy as np
import pytest
from pydantic import BaseModel, Field

from llm_strategy import ArgumentError, llm_explicit_function, llm_function

from .helpers import scripted


@llm_function
def add(model, a: int, b: int) -> int:
    """Add two numbers."""
    raise NotImplementedError


@llm_function
def mean(model, values: list[float]) -> float:
    """The mean of the values."""
    raise NotImplementedError


@llm_function
def describe(model, data: bytes, note: str = "", extra: Any = None) -> str:
    """Describe the data."""
    raise NotImplementedError


def _refused(call, model) -> ArgumentError:
    with pytest.raises(ArgumentError) as caught:
        call(model)
    assert model.calls == []  # nothing was sent
    return caught.value


def test_a_wrong_type_names_the_function_parameter_and_type():
    model = scripted('{"return_value": 5}')
    error = _refused(lambda m: add(m, "three", 2), model)
    assert isinstance(error, TypeError)
    assert str(error) == (
        "add: argument 'a' must be int; got str 'three': "
        "Input should be a valid integer, unable to parse string as an integer."
    )
    assert (error.function_name, error.parameter) == ("add", "a")


def test_arguments_are_sent_as_validated():
    model = scripted('{"return_value": 5}')
    assert add(model, "3", 2.0) == 5
    assert model.calls[0][-1].text == '{"a":3,"b":2}'


def test_a_numpy_array_is_sent_as_a_list():
    model = scripted('{"return_value": 2.0}')
    assert mean(model, np.array([1.0, 2.5, 3.0])) == 2.0
    assert model.calls[0][-1].text == '{"values":[1.0,2.5,3.0]}'


def test_numpy_values_in_an_any_position_are_sent_as_lists_and_numbers():
    model = scripted('{"return_value": "Data."}')
    describe(model, b"x", extra={"counts": np.arange(3), "scale": np.float32(0.5)})
    assert model.calls[0][-1].text == '{"data":"x","note":"","extra":{"counts":[0,1,2],"scale":0.5}}'


def test_nan_and_infinity_are_sent_as_strings_never_null():
    model = scripted('{"return_value": 0.0}')
    mean(model, [math.nan, math.inf, -math.inf, 1.0])
    assert model.calls[0][-1].text == '{"values":["NaN","Infinity","-Infinity",1.0]}'


class Reading(BaseModel):
    """A sensor reading."""

    value: float


def test_nan_inside_a_model_argument_is_a_string_too():
    @llm_explicit_function
    def judge(model, reading: Reading) -> str:
        """Judge the reading."""
        raise NotImplementedError

    model = scripted('{"return_value": "Broken sensor."}')
    judge(model, Reading(value=math.nan))
    assert model.calls[0][-1].text == '{"value":"NaN"}'


def test_utf8_bytes_are_sent_as_text():
    model = scripted('{"return_value": "A greeting."}')
    describe(model, "grüß".encode())
    assert model.calls[0][-1].text == '{"data":"grüß","note":"","extra":null}'


def test_bytes_that_are_not_utf8_are_refused():
    error = _refused(lambda m: describe(m, b"\xff\xfe"), scripted())
    assert str(error).startswith("describe: argument 'data' (bytes) cannot be sent as JSON: ")
    assert "invalid utf-8" in str(error)
    assert error.parameter == "data"


def test_a_lone_surrogate_is_refused():
    error = _refused(lambda m: describe(m, b"x", "half \ud800 a pair"), scripted())
    assert str(error).startswith("describe: argument 'note' (str) cannot be sent as JSON: ")
    assert "surrogates not allowed" in str(error)


def test_a_self_containing_list_is_refused():
    cycle: list[Any] = []
    cycle.append(cycle)
    error = _refused(lambda m: describe(m, b"x", extra=cycle), scripted())
    assert str(error) == (
        "describe: argument 'extra' (Any) cannot be sent as JSON: Circular reference detected (id repeated)."
    )


def test_nesting_past_the_bound_is_refused():
    deep: list[Any] = []
    for _ in range(1_000):
        deep = [deep]
    error = _refused(lambda m: describe(m, b"x", extra=deep), scripted())
    assert str(error) == (
        "describe: argument 'extra' (Any) cannot be sent as JSON: Maximum serialization depth exceeded."
    )


def test_constraints_of_a_parameter_are_checked():
    @llm_function
    def summarize(model, text: str, max_words: Annotated[int, Field(ge=1)] = 50) -> str:
        """Summarize the text."""
        raise NotImplementedError

    error = _refused(lambda m: summarize(m, "A text.", 0), scripted())
    assert str(error) == (
        "summarize: argument 'max_words' must be int; got int 0: Input should be greater than or equal to 1."
    )


def test_a_nested_problem_names_where_it_is():
    @llm_explicit_function
    def judge(model, reading: Reading) -> str:
        """Judge the reading."""
        raise NotImplementedError

    error = _refused(lambda m: judge(m, {"value": "high"}), scripted())
    assert str(error) == (
        "judge: argument 'reading' must be Reading; got str 'high' at value: "
        "Input should be a valid number, unable to parse string as a number."
    )


def test_several_problems_are_counted():
    error = _refused(lambda m: add(m, "one", "two"), scripted())
    assert str(error).endswith("(and 1 more problem(s)).")


def test_a_default_is_sent_as_declared():
    @llm_function
    def ask(model, question: str, context: str = None) -> str:  # noqa: RUF013 - a sloppy default, as users write
        """Answer the question."""
        raise NotImplementedError

    model = scripted('{"return_value": "Yes."}')
    assert ask(model, "Is it?") == "Yes."
    assert model.calls[0][-1].text == '{"question":"Is it?","context":null}'
    error = _refused(lambda m: ask(m, "Is it?", 3), scripted())
    assert error.parameter == "context"


@llm_function
def double(model, x: int) -> int:
    """Double the number."""
    raise NotImplementedError


def test_a_forgotten_model_is_named():
    with pytest.raises(ArgumentError) as caught:
        double(3)
    assert str(caught.value) == (
        "double: the model argument is missing; pass it first, double(model, ...): "
        "a langchain model, a ChatChain or a 'provider:model' string."
    )
    assert caught.value.parameter == "model"


def test_missing_and_extra_arguments_name_the_function():
    model = scripted()
    with pytest.raises(ArgumentError, match=r"^double: missing a required argument: 'x'\.$"):
        double(model)
    with pytest.raises(ArgumentError, match=r"^double: too many positional arguments\.$"):
        double(model, 1, 2)
    with pytest.raises(ArgumentError, match=r"^double: got an unexpected keyword argument 'y'\.$"):
        double(model, 1, y=1)
    assert model.calls == []


async def test_async_calls_are_checked_before_sending():
    model = scripted('{"return_value": 5}')
    with pytest.raises(ArgumentError, match="add: argument 'b' must be int"):
        await add.acall(model, 1, "two")
    assert model.calls == []


def test_a_value_where_the_model_belongs_is_an_argument_error():
    @llm_function
    def double(model, x: int) -> int:
        """Double the number."""
        raise NotImplementedError

    with pytest.raises(ArgumentError) as caught:
        double(3, 4)
    assert str(caught.value).startswith("double: the first argument must be the model")
    assert "got int: 3" in str(caught.value) and caught.value.parameter == "model"
