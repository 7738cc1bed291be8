"""The reflective proposer: an LLM function rewriting one component from a minibatch's traces and feedback.

Its docstring and field descriptions are tracked hyperparameters like any `@llm_explicit_function`'s.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field, JsonValue

from .._decorators import llm_explicit_function

__all__ = ["ComponentProposal", "ComponentReflection", "MinibatchExample", "ReflectiveProposer"]

T_Value = TypeVar("T_Value")


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
