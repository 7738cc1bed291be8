"""What users see, checked by mypy in `make lint`: decorated stubs keep their signatures."""

from dataclasses import dataclass
from typing import assert_type

from langchain_core.messages import BaseMessage

import llm_strategy as llm_strategy_package
from llm_hyperparameters import Hyperparameter, TrackedHyperparameters, track_hyperparameters
from llm_strategy import ChatChain, LLMFunction, llm_function, llm_strategy
from llm_strategy.llm_function import llm_function as old_llm_function
from llm_strategy.testing import SyntheticChatModel


@llm_function
def add(model: object, a: int, b: int) -> int:
    """Add two numbers."""
    raise NotImplementedError


@llm_function
async def add_async(model: object, a: int, b: int) -> int:
    """Add two numbers."""
    raise NotImplementedError


@llm_strategy(SyntheticChatModel())
@dataclass
class Customer:
    name: str

    @property
    def age(self) -> int:
        """The age."""
        raise NotImplementedError


async def uses() -> None:
    model = SyntheticChatModel()
    function: LLMFunction[..., int] = add
    assert_type(function(model, 1, 2), int)
    assert_type(add(model, 1, 2), int)
    assert_type(await add.acall(model, 1, 2), int)
    assert_type(await add_async(model, 1, 2), int)
    assert_type(Customer("Ann").age, int)
    reply, chain = ChatChain(model).query("Hi")
    assert_type(reply, str)
    value, _ = chain.structured_query("How many?", int)
    assert_type(value, int)
    assert_type(chain.messages, list[BaseMessage])
    assert_type(llm_strategy_package.settings, TrackedHyperparameters)
    assert_type(double(model, 2), int)  # the 2.2.0 path gives the same typed decorator


@old_llm_function
def double(model: object, x: int) -> int:
    """Double x."""
    raise NotImplementedError


@track_hyperparameters
def tuned(x: int) -> float:
    """A tracked function with a body hyperparameter."""
    scale = Hyperparameter("scale") @ 2.0
    assert_type(scale, float)
    return x * scale
