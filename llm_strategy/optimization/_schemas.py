"""The meta-optimizer's generic schemas: the original package's fields and descriptions, plus scores."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

__all__ = [
    "ImprovementProbability",
    "OptimizationInfo",
    "OptimizationStep",
    "TaskInfo",
    "TaskReflection",
    "TaskRun",
]

T_TaskParameters = TypeVar("T_TaskParameters")
T_TaskResults = TypeVar("T_TaskResults")
T_Hyperparameters = TypeVar("T_Hyperparameters")


class TaskRun(BaseModel, Generic[T_TaskParameters, T_TaskResults, T_Hyperparameters]):
    """The task run. This is the 'data' we use to optimize the hyperparameters."""

    task_parameters: T_TaskParameters = Field(..., description="The task parameters.")
    hyperparameters: T_Hyperparameters = Field(
        ..., description="The hyperparameters used for the task. We optimize these."
    )
    all_chat_chains: dict = Field(..., description="The chat chains from the task execution.")
    return_value: T_TaskResults | None = Field(
        ..., description="The results of the task. (None for exceptions/failure.)"
    )
    exception: list[str] | str | None = Field(
        ..., description="Exception that occurred during the task execution."
    )
    score: float | None = Field(None, description="The evaluator's score of the results (higher is better).")
    evaluation: str | None = Field(None, description="The evaluator's feedback on the results.")


class TaskReflection(BaseModel):
    """The reflections on the task.

    This contains the lessons we learn from each task run to come up with better
    hyperparameters to try.
    """

    feedback: str = Field(
        ...,
        description=(
            "Only look at the final results field. Does its content satisfy the "
            "task description and task parameters? Does it contain all the relevant "
            "information from the all_chains and all_prompts fields? What could be improved "
            "in the results?"
        ),
    )
    evaluation: str = Field(
        ...,
        description=(
            "The evaluation of the outputs given the task. Is the output satisfying? "
            "What is wrong? What is missing?"
        ),
    )
    hyperparameter_suggestion: str = Field(
        ...,
        description=(
            "How we want to change the hyperparameters to improve the results. What could we try to change?"
        ),
    )
    hyperparameter_missing: str = Field(
        ...,
        description=(
            "What hyperparameters are missing to improve the results? What could "
            "be changed that is not exposed via hyperparameters?"
        ),
    )


class TaskInfo(BaseModel, Generic[T_TaskParameters, T_TaskResults, T_Hyperparameters]):
    """The task run and the reflection on the experiment."""

    task_parameters: T_TaskParameters = Field(..., description="The task parameters.")
    hyperparameters: T_Hyperparameters = Field(
        ..., description="The hyperparameters used for the task. We optimize these."
    )
    reflection: TaskReflection = Field(..., description="The reflection on the task.")
    score: float | None = Field(None, description="The evaluator's score of the run (higher is better).")


class OptimizationInfo(BaseModel, Generic[T_TaskParameters, T_TaskResults, T_Hyperparameters]):
    """The optimization information. This is the data we use to optimize the hyperparameters."""

    older_task_summary: str | None = Field(
        None,
        description=(
            "A summary of previous experiments and the proposed changes with "
            "the goal of avoiding trying the same changes repeatedly."
        ),
    )
    task_infos: list[TaskInfo[T_TaskParameters, T_TaskResults, T_Hyperparameters]] = Field(
        ..., description="The most recent tasks we have run and our reflections on them."
    )
    best_hyperparameters: T_Hyperparameters = Field(
        ..., description="The best hyperparameters we have found so far."
    )
    best_score: float | None = Field(
        None, description="The mean score of the best hyperparameters, when scored."
    )
    skipped_suggestions: list[str] = Field(
        default_factory=list,
        description="Suggested pairs that were not run because they repeat a run; suggest something new.",
    )


class OptimizationStep(BaseModel, Generic[T_TaskParameters, T_TaskResults, T_Hyperparameters]):
    """The next optimization steps. New hyperparameters we want to try experiments and new
    task parameters we want to evaluate on given the previous experiments.
    """

    best_hyperparameters: T_Hyperparameters = Field(
        ..., description="The best hyperparameters we have found so far given task_infos and history."
    )
    suggestion: str = Field(
        ...,
        description=(
            "The suggestions for the next experiments. What could we try to "
            "change? We will try several tasks next and several sets of hyperparameters. "
            "Let's think step by step."
        ),
    )
    task_parameters_suggestions: list[T_TaskParameters] = Field(
        ..., description="The task parameters we want to try next.", min_length=1, max_length=4
    )
    hyperparameter_suggestions: list[T_Hyperparameters] = Field(
        ..., description="The hyperparameters we want to try next.", min_length=1, max_length=2
    )


class ImprovementProbability(BaseModel):
    """How likely the next steps are to find better hyperparameters."""

    considerations: list[str] = Field(
        ..., description="The considerations for potential improvements.", min_length=1
    )
    probability: float = Field(..., ge=0, le=1, description="The probability of improvement.")
