"""The functions and classes the benchmarks measure: the original package's examples."""

from __future__ import annotations

import inspect
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel, Field

from llm_strategy import llm_function

sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
from customer_database_search import Customer, CustomerDatabase

__all__ = [
    "CUSTOMERS",
    "Box",
    "Customer",
    "CustomerDatabase",
    "InstantChatModel",
    "add",
    "relabel",
    "six_member_dataclass",
    "write_essay",
]

T = TypeVar("T")


class InstantChatModel(BaseChatModel):
    """Answers every request at once with the same reply."""

    reply: str = '{"return_value": 3}'

    @property
    def _llm_type(self) -> str:
        return "instant"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self.reply))])


@llm_function
def add(model, a: int, b: int) -> int:
    """Add two numbers."""
    raise NotImplementedError()


class Box(BaseModel, Generic[T]):
    """A box holding one item."""

    item: T = Field(description="The item in the box.")
    label: str = Field(description="A label written on the box.")


@llm_function
def relabel(model, box: Box[T]) -> Box[T]:
    """Give the box a better label, keeping the item."""
    raise NotImplementedError()


@llm_function
def write_essay(model, essay_topic: str = Field(..., description="The essay topic.")) -> str:
    """Write an essay at the level of an Oxford undergraduate student.
    Please include a title and multiple paragraphs."""
    raise NotImplementedError()


CUSTOMERS = [
    Customer("C-0001", "Amara", "Okafor", "1990-03-14", "12 Marina Road, Lagos, Nigeria"),
    Customer("C-0002", "Lukas", "Schneider", "1984-11-02", "Bergstrasse 7, 10115 Berlin, Germany"),
    Customer("C-0003", "Mei", "Tanaka", "2001-06-25", "3-5-1 Shibuya, Tokyo 150-0002, Japan"),
]


_MADE = itertools.count()


def six_member_dataclass() -> type:
    """A fresh dataclass with six stub members of every kind, named apart from the ones made before.

    LLM functions made by one factory must be named apart (their instructions are tracked by
    name), so each class gets its own qualified name, as the DefinitionError advises.
    """

    @dataclass
    class Account:
        owner: str
        balance: float

        @property
        def risk(self) -> str:
            """A one-word risk rating."""
            raise NotImplementedError

        @property
        def tier(self) -> int:
            """The loyalty tier from 1 to 5."""
            raise NotImplementedError

        def advise(self, goal: str) -> str:
            """Advice for reaching the goal."""
            raise NotImplementedError

        def forecast(self, months: int) -> list[float]:
            """The balance for each of the next months."""
            raise NotImplementedError

        @staticmethod
        def create(count: int) -> list[Account]:
            """Create believable accounts."""
            raise NotImplementedError

        @classmethod
        def describe(cls, audience: str) -> str:
            """Describe this kind of account for the audience."""
            raise NotImplementedError

    label = f"Account{next(_MADE)}"
    Account.__qualname__ = label
    for member in vars(Account).values():
        function = getattr(member, "fget", None) or getattr(member, "__func__", None) or member
        if inspect.isfunction(function):
            function.__qualname__ = f"{label}.{function.__name__}"
    return Account
