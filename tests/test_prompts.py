"""What the model sees: docstring, compact schema with every description, arguments as one JSON object."""

import importlib.util
import json
import sys
import textwrap
from typing import Annotated

import pytest
from pydantic import BaseModel, Field

from llm_strategy import ArgumentError, LLMSettings, llm_function

from .helpers import scripted


def test_prompt_of_a_simple_function():
    @llm_function
    def add(model, a: int, b: int) -> int:
        """Add two numbers."""
        raise NotImplementedError

    model = scripted('{"return_value": 3}')
    add(model, 1, 2)
    system, user = model.calls[0]
    assert system.type == "system" and user.type == "human"
    assert system.text == (
        'add: Add two numbers.\nInput: {a:int,b:int}\nReply with JSON {"return_value": int}'
    )
    assert user.text == '{"a":1,"b":2}'


class Address(BaseModel):
    """Where someone lives."""

    street: str = Field(description="Street and number.")
    city: str


def test_every_description_reaches_the_prompt():
    @llm_function
    def summarize(
        model,
        text: str = Field(..., description="The text to summarize."),
        max_words: Annotated[int, Field(description="Upper bound on words.", ge=1)] = 50,
        address: Address | None = None,
    ) -> Annotated[str, Field(description="The summary, in one paragraph.")]:
        """Summarize the text."""
        raise NotImplementedError

    model = scripted('{"return_value": "short"}')
    assert summarize(model, "A long text.") == "short"
    prompt = model.last_prompt
    for description in (
        "The text to summarize.",
        "Upper bound on words.",
        ">= 1",
        "Where someone lives.",
        "Street and number.",
        "The summary, in one paragraph.",
    ):
        assert description in prompt
    assert '"title"' not in prompt and "Title" not in prompt
    assert json.loads(model.calls[0][1].text) == {"text": "A long text.", "max_words": 50, "address": None}


def test_required_field_default_must_be_given():
    @llm_function
    def summarize(model, text: str = Field(..., description="The text.")) -> str:
        """Summarize."""
        raise NotImplementedError

    with pytest.raises(ArgumentError, match="summarize: missing a required argument: 'text'"):
        summarize(scripted())


def test_shared_definitions_are_rendered_once():
    class Item(BaseModel):
        name: str = Field(description="What it is called.")

    @llm_function
    def pick(model, items: list[Item], favourite: Item) -> Item:
        """Pick the best item."""
        raise NotImplementedError

    model = scripted('{"return_value": {"name": "a"}}')
    pick(model, [Item(name="a")], Item(name="b"))
    prompt = model.last_prompt
    assert prompt.count("What it is called.") == 1
    assert "Input: {items:Item[],favourite:Item}" in prompt
    assert 'Reply with JSON {"return_value": Item}' in prompt


def test_settings_change_the_prompt_and_json_format():
    settings = LLMSettings(instructions="Implement {name}.\n{docstring}\n{schema}", json_indent=2)

    @llm_function(settings=settings)
    def add(model, a: int, b: int) -> int:
        """Add two numbers."""
        raise NotImplementedError

    model = scripted('{"return_value": 3}')
    add(model, 1, 2)
    assert model.calls[0][0].text.startswith("Implement add.\nAdd two numbers.")
    assert model.calls[0][1].text == '{\n  "a": 1,\n  "b": 2\n}'


MODULE = '''
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, Field

from llm_strategy import llm_function, llm_strategy
from llm_strategy.testing import SyntheticChatModel

T = TypeVar("T")


class Box(BaseModel, Generic[T]):
    """A box."""

    item: T = Field(description="The item.")
    label: str = Field(description="The label.")


@llm_function
def relabel(model, box: Box[T], hint: Annotated[str, Field(description="A hint.")] = "") -> Box[T]:
    """Relabel the box."""
    raise NotImplementedError


@llm_strategy(SyntheticChatModel(structured_output=False))
@dataclass
class Customer:
    name: str

    @staticmethod
    def create(count: int) -> list[Customer]:
        """Create customers."""
        raise NotImplementedError
'''


def load_module(monkeypatch, path, name, source):
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def test_future_annotations_give_identical_prompts(tmp_path, monkeypatch):
    plain_source = MODULE.replace("list[Customer]", 'list["Customer"]')
    plain = load_module(monkeypatch, tmp_path / "plain.py", "plain_module", plain_source)
    future_source = "from __future__ import annotations\n" + MODULE
    future = load_module(monkeypatch, tmp_path / "future.py", "future_module", future_source)
    prompts = []
    for module in (plain, future):
        model = scripted('{"return_value": {"item": 1, "label": "x"}}')
        result = module.relabel(model, module.Box[int](item=1, label="old"))
        assert result == module.Box[int](item=1, label="x")
        prompts.append(model.last_prompt)
        customers = module.Customer.create(2)
        assert all(isinstance(customer, module.Customer) for customer in customers)
    assert prompts[0] == prompts[1]
    assert "item:int, // The item." in prompts[0]


def test_prompt_is_built_once_per_definition():
    @llm_function
    def add(model, a: int, b: int) -> int:
        """Add two numbers."""
        raise NotImplementedError

    model = scripted('{"return_value": 3}', '{"return_value": 7}')
    add(model, 1, 2)
    add(model, 3, 4)
    first, second = (call[0] for call in model.calls)
    assert first is second  # the instructions are rendered once and reused


def test_outline_of_many_types():
    from enum import Enum
    from typing import Literal

    from typing_extensions import TypedDict

    class Color(Enum):
        RED = "red"
        GREEN = "green"

    class Point(TypedDict):
        x: float
        y: float

    class Tree(BaseModel):
        value: int
        children: list["Tree"] = []

    @llm_function
    def describe(
        model,
        color: Color,
        mode: Literal["fast", "slow"],
        pair: tuple[int, str],
        weights: dict[str, float],
        point: Point,
        tree: Tree,
    ) -> set[int] | None:
        """Describe everything."""
        raise NotImplementedError

    model = scripted('{"return_value": null}')
    assert describe(model, Color.RED, "fast", (1, "a"), {"w": 1.0}, {"x": 1, "y": 2}, Tree(value=1)) is None
    prompt = textwrap.dedent(model.calls[0][0].text)
    assert 'color:"red"|"green"' in prompt
    assert 'mode:"fast"|"slow"' in prompt
    assert "pair:[int,string]" in prompt
    assert "weights:dict[string,float]" in prompt
    assert "point:{x:float,y:float}" in prompt
    assert "Tree = {value:int,children?:Tree[]}" in prompt  # recursive: named once
    assert prompt.endswith('Reply with JSON {"return_value": int[]|null}')
