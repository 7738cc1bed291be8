"""The decorators: call shapes of the original package, and definition checks at decoration time."""

import abc
from dataclasses import dataclass

import pytest
from pydantic import BaseModel

from llm_strategy import (
    DefinitionError,
    LLMFunction,
    llm_dataclass,
    llm_explicit_function,
    llm_function,
    llm_strategy,
)
from llm_strategy.testing import ScriptedChatModel, SyntheticChatModel

from .helpers import scripted


def test_llm_function_takes_the_model_first():
    @llm_function
    def add(model, a: int, b: int) -> int:
        """Add two numbers."""
        raise NotImplementedError()

    model = scripted('{"return_value": 3}')
    assert add(model, 1, 2) == 3
    assert isinstance(add, LLMFunction)
    assert add.__name__ == "add" and add.__doc__ == "Add two numbers."


def test_keyword_arguments_and_defaults_are_sent():
    @llm_function
    def greet(model, name: str, punctuation: str = "!") -> str:
        """Greet someone."""
        raise NotImplementedError

    model = scripted('{"return_value": "Hi Ann!"}')
    assert greet(model, name="Ann") == "Hi Ann!"
    assert '{"name":"Ann","punctuation":"!"}' in model.last_prompt


@dataclass
class Customer:
    key: str
    birthdate: str

    @property
    def age(self) -> int:
        """The age of the customer in 2026."""
        raise NotImplementedError()

    def describe(self, style: str) -> str:
        """Describe the customer in the given style."""
        raise NotImplementedError()

    @staticmethod
    def create(count: int) -> list["Customer"]:
        """Create believable customers."""
        raise NotImplementedError()

    @classmethod
    def kind(cls, detail: str) -> str:
        """What kind of record this is."""
        raise NotImplementedError()

    def real(self) -> str:
        return f"customer {self.key}"


def test_strategy_class_is_a_same_named_subclass():
    strategy = llm_strategy(SyntheticChatModel())(Customer)
    assert strategy is not Customer
    assert issubclass(strategy, Customer)
    assert strategy.__name__ == "Customer" and strategy.__qualname__ == Customer.__qualname__
    assert strategy.__module__ == Customer.__module__
    assert strategy.real is Customer.real  # code stays untouched
    assert strategy("k", "2000-01-01").real() == "customer k"


def test_every_kind_of_member_is_implemented(synthetic):
    strategy = llm_strategy(synthetic)(Customer)
    customer = strategy("c1", "1990-04-01")
    assert isinstance(customer.age, int)
    assert '"self":{"key":"c1","birthdate":"1990-04-01"}' in synthetic.last_prompt
    assert "Customer.age: The age of the customer in 2026." in synthetic.last_prompt
    assert isinstance(customer.describe("short"), str)
    assert '"style":"short"' in synthetic.last_prompt and '"self":' in synthetic.last_prompt
    created = strategy.create(2)
    assert all(isinstance(item, Customer) for item in created)
    assert '{"count":2}' in synthetic.last_prompt and '"self"' not in synthetic.last_prompt
    assert isinstance(customer.kind("x"), str)
    assert isinstance(strategy.kind("x"), str)
    assert synthetic.last_prompt.endswith('{"detail":"x"}')


def test_decorator_syntax_and_instances(synthetic):
    @llm_strategy(synthetic)
    @dataclass
    class Point:
        x: int
        y: int

        def mirrored(self) -> "Point":
            """Swap x and y."""
            raise NotImplementedError

    assert isinstance(Point(1, 2).mirrored(), Point)

    instance = Customer("k9", "1980-02-02")
    implemented = llm_strategy(synthetic)(instance)
    assert implemented is not instance and isinstance(implemented, Customer)
    assert (implemented.key, implemented.birthdate) == ("k9", "1980-02-02")
    assert isinstance(implemented.age, int)
    assert '"key":"k9"' in synthetic.last_prompt


def test_llm_dataclass_and_strategy_functions(synthetic):
    strategy = llm_dataclass(Customer, synthetic)
    assert isinstance(strategy("a", "b").age, int)

    @llm_strategy(synthetic)
    def shout(text: str) -> str:
        """Return the text in capitals."""
        raise NotImplementedError

    assert isinstance(shout("hey"), str)
    assert synthetic.last_prompt.startswith("shout: Return the text in capitals.")


def test_inherited_stubs_are_implemented(synthetic):
    @dataclass
    class Database:
        names: list[str]

        def find(self, query: str) -> list[str]:
            """Find the names matching the query."""
            raise NotImplementedError

    @llm_strategy(synthetic)
    @dataclass
    class MockDatabase(Database):
        def load(self) -> None:
            self.names = ["Ann"]

    database = MockDatabase(["Bo"])
    database.load()
    assert isinstance(database.find("A"), list)
    assert '"self":{"names":["Ann"]}' in synthetic.last_prompt


def test_abstract_stubs_are_implemented(synthetic):
    class Shape(abc.ABC):
        @abc.abstractmethod
        def name(self) -> str:
            """The shape's name."""
            raise NotImplementedError

    Implemented = llm_strategy(synthetic)(Shape)
    assert isinstance(Implemented().name(), str)  # no "abstract class" TypeError
    with pytest.raises(TypeError):
        Shape()


def test_explicit_function_sends_the_input_object():
    class Question(BaseModel):
        """A question to answer."""

        text: str

    @llm_explicit_function
    def answer(model, question: Question) -> str:
        """Answer the question."""
        raise NotImplementedError

    model = scripted('{"return_value": "42"}')
    assert answer(model, Question(text="meaning?")) == "42"
    assert model.calls[0][1].text == '{"text":"meaning?"}'


def test_staticmethod_inside_a_class():
    class Optimizer:
        @llm_function
        @staticmethod
        def double(model, x: int) -> int:
            """Double x."""
            raise NotImplementedError

    assert Optimizer.double(scripted('{"return_value": 4}'), 2) == 4
    assert Optimizer().double(scripted('{"return_value": 6}'), 3) == 6


# -- definition errors ----------------------------------------------------------------------------


def expect_definition_error(match, build):
    with pytest.raises(DefinitionError, match=match) as caught:
        build()
    assert isinstance(caught.value, TypeError)


def test_body_with_code_is_rejected():
    def build():
        @llm_function
        def add(model, a: int, b: int) -> int:
            """Add."""
            return a + b

    expect_definition_error(r"add: the body has code", build)


def test_missing_docstring_is_rejected():
    def build():
        @llm_function
        def add(model, a: int, b: int) -> int:
            raise NotImplementedError

    expect_definition_error(r"add: a docstring is required", build)


def test_missing_return_annotation_is_rejected():
    def build():
        @llm_function
        def add(model, a: int, b: int):
            """Add."""
            raise NotImplementedError

    expect_definition_error(r"add: the return type annotation is missing", build)


def test_unannotated_parameter_is_rejected():
    def build():
        @llm_function
        def add(model, a: int, b) -> int:
            """Add."""
            raise NotImplementedError

    expect_definition_error(r"add: parameter 'b' has no type annotation", build)


def test_model_parameter_needs_no_annotation_but_must_exist():
    def build():
        @llm_function
        def nothing() -> int:
            """Nothing."""
            raise NotImplementedError

    expect_definition_error(r"nothing: the first parameter must be the model", build)


def test_variadic_parameters_are_rejected():
    def build():
        @llm_function
        def total(model, *numbers: int) -> int:
            """Sum."""
            raise NotImplementedError

    expect_definition_error(r"parameter 'numbers' is variadic", build)


def test_strategy_rejects_unsupported_targets():
    expect_definition_error(
        r"llm_strategy can implement .* not int", lambda: llm_strategy(SyntheticChatModel())(3)
    )
    expect_definition_error(r"expected a langchain chat model", lambda: llm_strategy(42))

    class NoStubs:
        def real(self) -> int:
            return 1

    expect_definition_error(
        r"NoStubs: no member only raises", lambda: llm_strategy(SyntheticChatModel())(NoStubs)
    )
    expect_definition_error(
        r"llm_dataclass expects a dataclass", lambda: llm_dataclass(NoStubs, SyntheticChatModel())
    )


def test_strategy_member_errors_name_the_member():
    class Broken:
        def ask(self, question) -> str:
            """Answer."""
            raise NotImplementedError

    expect_definition_error(
        r"Broken.ask: parameter 'question'", lambda: llm_strategy(SyntheticChatModel())(Broken)
    )


def test_method_without_self_is_rejected():
    class Odd:
        def nothing() -> int:
            """Nothing."""
            raise NotImplementedError

    expect_definition_error(
        r"Odd.nothing: a method needs `self`", lambda: llm_strategy(SyntheticChatModel())(Odd)
    )


def test_explicit_function_takes_one_input():
    def build():
        @llm_explicit_function
        def two(model, a: int, b: int) -> int:
            """Two inputs."""
            raise NotImplementedError

    expect_definition_error(r"exactly one input object, got 2", build)


def test_classmethod_cannot_take_a_model():
    def build():
        class Holder:
            @llm_function
            @classmethod
            def make(cls, model) -> int:
                """Make."""
                raise NotImplementedError

    expect_definition_error(r"make: a classmethod cannot take the model", build)


def test_scripted_model_is_a_clear_double():
    model = ScriptedChatModel(replies=[])
    with pytest.raises(Exception, match="has 0 replies but was called 1 times"):
        model.invoke("hi")


def test_unsupported_types_are_definition_errors_at_the_first_call():
    import socket

    @llm_function
    def connect(model, connection: socket.socket) -> int:
        """Use the connection."""
        raise NotImplementedError

    with socket.socket() as connection:
        expect_definition_error(
            r"connect: a type cannot be described to the model", lambda: connect(scripted(), connection)
        )


def test_unresolvable_forward_reference_names_the_missing_type():
    @llm_function
    def make(model, count: int) -> "list[Undefined]":  # noqa: F821 - the point of the test
        """Make things."""
        raise NotImplementedError

    expect_definition_error(
        r"make: cannot resolve an annotation: name 'Undefined' is not defined", lambda: make(scripted(), 1)
    )


def test_forward_reference_defined_after_decoration_resolves_at_the_first_call():
    @llm_function
    def make(model, count: int) -> "list[LaterItem]":
        """Make things."""
        raise NotImplementedError

    model = scripted('{"return_value": [{"name": "x"}]}')
    assert make(model, 1) == [LaterItem(name="x")]


class LaterItem(BaseModel):
    name: str
