"""Every type pydantic's TypeAdapter accepts round-trips through the prompt and the reply."""

import datetime
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal, Optional

import pytest
from pydantic import BaseModel, Field, TypeAdapter
from typing_extensions import TypedDict

from llm_strategy import llm_function
from llm_strategy.testing import SyntheticChatModel


class Color(Enum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Pet:
    name: str
    legs: int


class Movie(TypedDict):
    title: str
    year: int


class Person(BaseModel):
    """A person."""

    name: str = Field(description="Full name.")
    age: int = Field(ge=0, le=130)
    email: str | None = None
    born: datetime.date


class Node(BaseModel):
    value: int
    children: list["Node"] = []


TYPES = [
    int,
    float,
    str,
    bool,
    list[int],
    dict[str, int],
    tuple[int, str],
    set[str],
    Optional[int],  # noqa: UP045 - the spelling is what is being tested
    int | str,
    Literal["yes", "no"],
    Color,
    Pet,
    Movie,
    Person,
    Node,
    list[Person],
    Annotated[list[int], Field(min_length=2, max_length=3)],
    Annotated[float, Field(gt=0, lt=1)],
    dict[str, list[Pet]],
    datetime.date,
]


def make_function(return_type: Any):
    @llm_function
    def produce(model, hint: str) -> return_type:  # type: ignore[valid-type]
        """Produce a value of the declared type."""
        raise NotImplementedError

    return produce


@pytest.mark.parametrize("structured_output", [False, True], ids=["prompt", "native"])
@pytest.mark.parametrize("return_type", TYPES, ids=lambda t: getattr(t, "__name__", repr(t)))
def test_synthetic_values_validate(return_type, structured_output):
    model = SyntheticChatModel(structured_output=structured_output, seed=3)
    value = make_function(return_type)(model, "anything")
    TypeAdapter(return_type).validate_python(value, strict=False)
    assert len(model.calls) == 1  # valid on the first attempt: the model understood the request


def test_synthetic_model_is_deterministic_and_seedable():
    produce = make_function(list[Person])
    first = produce(SyntheticChatModel(seed=1), "x")
    assert produce(SyntheticChatModel(seed=1), "x") == first
    assert produce(SyntheticChatModel(seed=2), "x") != first


def test_native_mode_sends_the_schema_not_the_outline(native_synthetic):
    produce = make_function(Person)
    produce(native_synthetic, "x")
    prompt = native_synthetic.last_prompt
    assert "return_value" not in prompt and "Reply with JSON" not in prompt
    person = native_synthetic.schemas[-1]  # an object output is sent as itself
    assert person["title"] == "produce"
    assert person["description"] == "A person." and "title" not in person["properties"]["name"]
    assert person["properties"]["name"]["description"] == "Full name."
