"""Type variables bound from argument values; conflicts and unbound variables are clear errors."""

from typing import Generic, TypeVar

import pytest
from pydantic import BaseModel, Field

from llm_strategy import DefinitionError, TypeVarBindingError, llm_explicit_function, llm_function

from .helpers import scripted

T = TypeVar("T")
U = TypeVar("U")


class Box(BaseModel, Generic[T]):
    """A box."""

    item: T = Field(description="The item.")
    label: str = Field(description="The label.")


class Pair(BaseModel, Generic[T, U]):
    first: T
    second: U


class Shelf(BaseModel, Generic[T]):
    boxes: list[Box[T]]


@llm_function
def relabel(model, box: Box[T]) -> Box[T]:
    """Relabel the box."""
    raise NotImplementedError


@llm_function
def first_of(model, items: list[T]) -> T:
    """Return the most interesting item."""
    raise NotImplementedError


@llm_function
def swap(model, pair: Pair[T, U]) -> Pair[U, T]:
    """Swap the pair."""
    raise NotImplementedError


@llm_function
def same(model, a: T, b: T) -> list[T]:
    """Both values in a list."""
    raise NotImplementedError


def test_parametrized_model_binds_its_arguments():
    model = scripted('{"return_value": {"item": 7, "label": "new"}}')
    result = relabel(model, Box[int](item=1, label="old"))
    assert result == Box[int](item=7, label="new") and type(result) is Box[int]
    assert "item:int, // The item." in model.last_prompt


def test_unparametrized_model_binds_from_field_values():
    model = scripted('{"return_value": {"item": "b", "label": "new"}}')
    result = relabel(model, Box(item="a", label="old"))
    assert type(result) is Box[str]


def test_list_elements_bind_the_variable():
    model = scripted('{"return_value": 3}')
    assert first_of(model, [1, 2, 3]) == 3
    assert 'Input: {items:int[]}\nReply with JSON {"return_value": int}' in model.last_prompt


def test_nested_generics_and_two_variables():
    model = scripted('{"return_value": {"first": "x", "second": 1}}')
    result = swap(model, Pair[int, str](first=1, second="x"))
    assert type(result) is Pair[str, int]

    @llm_function
    def restock(model, shelf: Shelf[T]) -> list[T]:
        """List the items on the shelf."""
        raise NotImplementedError

    model = scripted('{"return_value": [1.5]}')
    assert restock(model, Shelf[float](boxes=[Box[float](item=1.0, label="a")])) == [1.5]
    model = scripted('{"return_value": [2.5]}')
    assert restock(model, Shelf(boxes=[Box(item=1.0, label="a")])) == [2.5]


def test_schemas_are_cached_per_binding():
    relabel(scripted('{"return_value": {"item": 1, "label": "a"}}'), Box[int](item=1, label="x"))
    relabel(scripted('{"return_value": {"item": 1, "label": "a"}}'), Box[int](item=2, label="y"))
    relabel(scripted('{"return_value": {"item": "s", "label": "a"}}'), Box[str](item="s", label="y"))
    bindings = {tuple(t.__name__ for _, t in binding) for binding, _ in relabel.spec._schemas}
    assert bindings == {("int",), ("str",)}


def test_conflicting_binding_names_the_variable():
    with pytest.raises(
        TypeVarBindingError, match=r"type variable T is bound to both int \(from 'a'\) and str"
    ):
        same(scripted(), 1, "x")
    with pytest.raises(TypeVarBindingError, match="type variable T is bound to both int"):
        first_of(scripted(), [1, "x"])


def test_subclasses_unify_to_the_base():
    model = scripted('{"return_value": [1, 2]}')
    assert same(model, True, 2) == [1, 2]


def test_unbindable_variable_is_a_call_time_error():
    with pytest.raises(TypeVarBindingError, match=r"first_of: type variable\(s\) T could not be bound"):
        first_of(scripted(), [])


def test_return_variable_no_parameter_mentions_is_a_definition_error():
    with pytest.raises(DefinitionError, match=r"make: the return type uses type variable\(s\) T"):

        @llm_function
        def make(model, count: int) -> list[T]:
            """Make things."""
            raise NotImplementedError


def test_explicit_function_binds_from_the_input_object():
    class Request(BaseModel, Generic[T]):
        """A request."""

        examples: list[T]

    @llm_explicit_function
    def another(model, request: Request[T]) -> T:
        """One more example like these."""
        raise NotImplementedError

    model = scripted('{"return_value": 4}')
    assert another(model, Request[int](examples=[1, 2])) == 4
    assert model.calls[0][1].text == '{"examples":[1,2]}'
    assert "Input: {\n // A request.\n examples:int[]\n}" in model.last_prompt
