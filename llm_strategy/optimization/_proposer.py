"""The reflective proposer: LLM functions rewriting a component from a minibatch's traces and feedback.

`propose_component_value` rewrites a component chosen for it (round-robin);
`propose_component_change` chooses the component itself and rewrites it, in one call whose reply is
typed per component (`change_type`). Their docstrings and field descriptions are tracked
hyperparameters like any `@llm_explicit_function`'s.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, JsonValue, create_model

from .._decorators import llm_explicit_function

__all__ = [
    "ComponentChange",
    "ComponentMenu",
    "ComponentProposal",
    "ComponentReflection",
    "MinibatchExample",
    "MutableComponent",
    "ReflectiveProposer",
    "change_type",
]

T_Value = TypeVar("T_Value")
T_Change = TypeVar("T_Change")


class MinibatchExample(BaseModel):
    """One task run of the current candidate on a minibatch instance: what it did and how it scored."""

    task_parameters: dict[str, JsonValue] = Field(..., description="The task's inputs.")
    llm_requests: list[dict[str, JsonValue]] = Field(
        ..., description="The LLM requests the task made (messages and reply), truncated."
    )
    return_value: JsonValue = Field(None, description="What the task returned (None when it raised).")
    exception: str | None = Field(None, description="The exception the task raised, if any.")
    score: float | None = Field(None, description="The evaluator's score (higher is better).")
    feedback: str | None = Field(None, description="The evaluator's feedback: what the output missed.")


class ComponentReflection(BaseModel, Generic[T_Value]):
    """A component of the task's hyperparameters and how the task did with its current value."""

    component: str = Field(..., description="Which value to improve: the tracked function and the field.")
    description: str | None = Field(None, description="What the component is for.")
    current_value: T_Value = Field(..., description="The component's current value.")
    examples: list[MinibatchExample] = Field(..., description="Task runs with the current value.")


class ComponentProposal(BaseModel, Generic[T_Value]):
    """The lessons from the examples and the improved value."""

    lessons: str = Field(
        ..., description="What the failures and low scores have in common, and what would fix them."
    )
    new_value: T_Value = Field(
        ..., description="The improved value of the component, complete (not a diff), acting on the lessons."
    )


class MutableComponent(BaseModel):
    """A component that may change: a tracked value, `function:field`, what it is for, its value."""

    component: str
    description: str | None = None
    current_value: JsonValue


class ComponentMenu(BaseModel, Generic[T_Change]):  # T_Change: the reply's `change`, from `change_type`
    """The components that may change, and how the task did with their current values."""

    components: list[MutableComponent] = Field(
        ..., description="The components and their current values (a long one cut, ending in …)."
    )
    examples: list[MinibatchExample] = Field(..., description="Task runs with the current values.")


class ComponentChange(BaseModel, Generic[T_Change]):
    """The lessons from the examples, the component to change and its improved value."""

    lessons: str = Field(
        ..., description="What the failures and low scores have in common, and what would fix them."
    )
    change: T_Change = Field(
        ...,
        description="The component whose change fixes most, with its improved value, complete (not a diff).",
    )


def change_type(components: Sequence[tuple[str, Any]]) -> Any:
    """The reply's `change` type: `{component: "<name>", new_value: <its type>}` for each `(name, type)`.

    A name not among them fails validation (the model is told, and asked again).
    """
    options = []
    for index, (name, annotation) in enumerate(components):
        tag: Any = Literal[name]
        options.append(create_model(f"Change{index}", component=(tag, ...), new_value=(annotation, ...)))
    if len(options) == 1:
        return options[0]
    return Annotated[functools.reduce(operator.or_, options), Field(discriminator="component")]


class ReflectiveProposer:
    """Proposes a new value for one component from what the task really did."""

    @llm_explicit_function
    @staticmethod
    def propose_component_value(
        language_model: Any, reflection: ComponentReflection[T_Value]
    ) -> ComponentProposal[T_Value]:
        """Read the examples: the task's inputs, the LLM requests it made, its outputs or errors, and the
        evaluator's scores and feedback. Find what the low-scoring runs missed, then write an improved
        value for the component that fixes it without losing what the high-scoring runs did right.
        """
        raise NotImplementedError()

    @llm_explicit_function
    @staticmethod
    def propose_component_change(
        language_model: Any, menu: ComponentMenu[T_Change]
    ) -> ComponentChange[T_Change]:
        """Read the examples: the task's inputs, the LLM requests it made, its outputs or errors, and the
        evaluator's scores and feedback. Find what the low-scoring runs missed, choose the one component
        whose change would fix it, and write its improved value without losing what the high-scoring
        runs did right.
        """
        raise NotImplementedError()
