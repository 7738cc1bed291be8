"""The meta-optimizer's public face: `MetaOptimizer`, `optimize_hyperparameters` and their result.

The steps are `OriginalSteps` (the original package's loop) or `ParetoSteps` (GEPA's selection).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import JsonValue
from pydantic_core import to_jsonable_python
from typing_extensions import Unpack

from llm_hyperparameters import Hyperparameters, lookup
from llm_hyperparameters._tracking import stable_name

from .._models import resolve_model
from ._candidates import with_user_secrets
from ._engine import (
    ComponentSelection,
    RunOptions,
    RunResult,
    Session,
    Settings,
    Task,
    TaskRunRecord,
    Usage,
)
from ._frontier import FrontierEntry, frontier_table
from ._gepa import ParetoData, ParetoSteps
from ._original import OriginalSteps
from ._plan import Auto, RunPlan, auto_evaluations, plan_run
from ._schemas import TaskRun

__all__ = ["MetaOptimizer", "OptimizationResult", "optimize_hyperparameters"]


@dataclass(kw_only=True)
class OptimizationResult(RunResult[TaskRunRecord]):
    """The outcome: the best hyperparameters (enter them with `with`), the typed history, usage and cost."""

    best_hyperparameters: Hyperparameters
    frontier: list[FrontierEntry] = field(default_factory=list)
    """`selection="pareto"`: every candidate (parent, changed component, scores, validation instances led)."""
    test_score: float | None = None
    """`selection="pareto"` with `test=`: the best candidate's mean score on the test set, scored once."""
    test_runs: list[TaskRunRecord] = field(default_factory=list)
    plan: RunPlan | None = None
    """`selection="pareto"`: the budget and the estimate printed before the run started."""

    def summary(self) -> str:
        """The per-step table and the totals; with Pareto selection the candidates and the test score too."""
        return "\n".join([super().summary(), *self.candidate_lines()])

    def candidate_lines(self) -> list[str]:
        """The candidates table and the test score (nothing for the original selection)."""
        lines = [frontier_table(self.frontier)] if self.frontier else []
        if self.test_runs:
            shown = "-" if self.test_score is None else f"{self.test_score:.4f}"
            candidate = self.test_runs[0].id.split("-")[0]
            lines.append(
                f"test score ({candidate}, the best on validation; {len(self.test_runs)} task runs, "
                f"scored once): {shown}"
            )
        return lines


class MetaOptimizer:
    """Optimizes a task's tracked hyperparameters: the original reflect/suggest loop, or Pareto selection.

    `selection="original"` (the default) runs the original package's loop on `seed_parameters`.
    `selection="pareto"` runs GEPA-style reflective evolution: candidates are scored per instance
    on `validation` (default: the seed parameters), each step mutates one component of a parent drawn
    from the Pareto frontier after a reflection on a `train` minibatch (default: the validation set)
    and keeps the child only if it beats its parent there; `test` is scored once, for the best
    candidate. `merge=True` also tries merging two frontier candidates after an accepted child;
    `reflection_tokens` bounds the traces the proposer reads per step (about 4 characters a token).
    `selection="best"` is the same loop with the best validation mean always the parent (greedy).
    `component_selection` chooses the component a step rewrites in either: `"round_robin"` (the
    default) takes them in turn, `"reflection"` lets the proposer choose it from the minibatch's runs.

    `options` are the run options every optimizer accepts (`RunOptions`: budget, concurrency,
    executor, run_directory, resume, wandb, wandb_run, project, progress, prices).
    `max_steps` is the budget's step limit (default 5 unless the budget limits evaluations, LLM
    calls or time).

    Example:
        ```python
        result = MetaOptimizer(write_essay, seeds, optimizer_model=gpt, task_model=gpt,
                               evaluator=score_essay, max_steps=3).run()
        with result.best_hyperparameters:
            write_essay(gpt, "bees")
        ```
    """

    def __init__(
        self,
        task: Callable[..., Any],
        seed_parameters: Sequence[Any],
        *,
        optimizer_model: Any,
        task_model: Any,
        evaluator: Callable[[TaskRun[Any, Any, Any]], Any] | None = None,
        hyperparameters: Hyperparameters | None = None,
        optimize: Sequence[Any] | None = None,
        max_steps: int | None = None,
        stop_probability: float = 0.1,
        target_score: float | None = None,
        history_tokens: int = 750,
        selection: Literal["original", "pareto", "best"] = "original",
        train: Sequence[Any] | None = None,
        validation: Sequence[Any] | None = None,
        test: Sequence[Any] | None = None,
        minibatch_size: int = 3,
        reflection_tokens: int = 1_500,
        merge: bool = False,
        component_selection: ComponentSelection = "round_robin",
        seed: int = 0,
        auto: Auto | None = None,
        dry_run: bool = False,
        **options: Unpack[RunOptions],
    ) -> None:
        """Check the inputs; nothing runs until `run()`."""
        if not 0 <= stop_probability <= 1:
            raise ValueError(f"stop_probability must be between 0 and 1, got {stop_probability}")
        self.settings = Settings.of(options, max_steps=max_steps, default_steps=None if auto else 5)
        self.task = Task.of(task, seed_parameters)
        self.seeds = [
            self.task.parameters_type.model_validate(item).model_dump(mode="json") for item in seed_parameters
        ]
        self.optimizer_model = resolve_model(optimizer_model)
        self.task_model = None if task_model is None else resolve_model(task_model)
        # a job carries the "provider:model" spec to another process; the default thread pool shares the model
        self.job_model = (
            task_model if isinstance(task_model, str) and self.settings.executor else self.task_model
        )
        self.evaluator = evaluator
        self.initial = (hyperparameters or Hyperparameters()).model_dump()
        self.optimize = [lookup(item).name for item in optimize] if optimize is not None else None
        self.stop_probability = stop_probability
        self.target_score = target_score
        self.history_tokens = history_tokens
        self.name = stable_name(task)
        if selection not in ("original", "pareto", "best"):
            raise ValueError(f"selection must be 'original', 'pareto' or 'best', got {selection!r}")
        if selection != "original" and evaluator is None:
            raise ValueError(
                f"selection={selection!r} needs an evaluator: candidates are compared by their scores"
            )
        if component_selection not in ("round_robin", "reflection"):
            raise ValueError(
                f"component_selection must be 'round_robin' or 'reflection', got {component_selection!r}"
            )
        pareto_only = {
            "train": train is not None,
            "validation": validation is not None,
            "test": test is not None,
            "merge": merge,
            "component_selection": component_selection != "round_robin",
            "auto": auto is not None,
            "dry_run": dry_run,
            "minibatch_size": minibatch_size != 3,
            "reflection_tokens": reflection_tokens != 1_500,
            "seed": seed != 0,
        }
        given = [name for name, set_ in pareto_only.items() if set_]
        if selection == "original" and given:
            raise ValueError(
                f"{', '.join(given)}: Pareto settings; use them with selection='pareto' or 'best' (the "
                "original loop runs on seed_parameters and has none of them)"
            )
        if minibatch_size < 1:
            raise ValueError(f"minibatch_size must be at least 1, got {minibatch_size}")
        if reflection_tokens < 1:
            raise ValueError(f"reflection_tokens must be at least 1, got {reflection_tokens}")
        for split, items in (("train", train), ("validation", validation)):
            if items is not None and len(items) == 0:
                raise ValueError(
                    f"{split} is empty: give at least one set of task parameters, or leave it out"
                )
        self.selection = selection
        validation_set = self._typed(validation if validation is not None else seed_parameters)
        self.data = ParetoData(
            train=self._typed(train) if train is not None else validation_set,
            validation=validation_set,
            test=self._typed(test or []),
            minibatch_size=minibatch_size,
            merge=merge,
            seed=seed,
            reflection_chars=4 * reflection_tokens,
            best_parent=selection == "best",
            component_selection=component_selection,
        )
        self.dry_run = dry_run
        if auto is not None:
            if self.settings.budget.max_evaluations is not None:
                raise ValueError(
                    f"auto={auto!r} and Budget(max_evaluations={self.settings.budget.max_evaluations}) "
                    "disagree: set the evaluations in one place"
                )
            minibatch = min(minibatch_size, len(self.data.train))
            evaluations = auto_evaluations(auto, len(self.data.validation), minibatch)[1]
            budget = dataclasses.replace(self.settings.budget, max_evaluations=evaluations)
            self.settings = dataclasses.replace(self.settings, budget=budget)

    def plan(self) -> RunPlan:
        """The Pareto run's budget and estimated LLM calls, tokens and dollars (printed before it starts)."""
        budget = self.settings.budget
        return plan_run(
            steps=budget.max_steps,
            evaluations=budget.max_evaluations,
            sizes=(len(self.data.train), len(self.data.validation), len(self.data.test)),
            minibatch=min(self.data.minibatch_size, len(self.data.train)),
            # choosing by reflection, the proposer also reads the components, cut to a budget of their own
            reflection_chars=self.data.reflection_chars
            * (2 if self.data.component_selection == "reflection" else 1),
            task_model=self.task_model,
            optimizer_model=self.optimizer_model,
            prices=self.settings.prices,
        )

    def _usable(self, values: dict[str, Any]) -> Hyperparameters:
        """The best values to enter: secret-named ones as the user set them, else their defaults
        (a resumed run reads them from disk as "[REDACTED]")."""
        return Hyperparameters(with_user_secrets(values, self.initial))

    def _typed(self, items: Sequence[Any]) -> list[dict[str, Any]]:
        return [self.task.parameters_type.model_validate(item).model_dump(mode="json") for item in items]

    def run(self, *, resume: bool | None = None) -> OptimizationResult:
        """Run (or with `resume=True` continue) the optimization; returns the result."""
        settings = self.settings if resume is None else Settings(**{**vars(self.settings), "resume": resume})
        identity: dict[str, JsonValue] = {"parameters": self.task.parameters_type.model_json_schema()}
        config: dict[str, Any] = {
            "budget": vars(settings.budget),
            "evaluator": self.evaluator is not None,
            "selection": self.selection,
        }
        if self.selection == "original":
            session = Session("meta", self.name, identity, settings, inputs=(self.seeds, self.initial))
            steps = OriginalSteps(self, session)
            shared = session.run(steps, {**config, "stop_probability": self.stop_probability})
            return OptimizationResult(**vars(shared), best_hyperparameters=self._usable(steps.best()[0]))
        estimate = self.plan()
        if settings.progress or self.dry_run:
            print(estimate.text, file=sys.stderr)
        if self.dry_run:
            return OptimizationResult(
                best_score=None,
                history=[],
                usage=Usage(),
                stop_reason="dry run",
                steps=0,
                run_directory=settings.run_directory or Path(),
                best_hyperparameters=Hyperparameters(self.initial),
                plan=estimate,
            )
        identity["data"] = to_jsonable_python(
            {"train": self.data.train, "validation": self.data.validation, "test": self.data.test}
        )
        session = Session("meta-pareto", self.name, identity, settings, inputs=(self.seeds, self.initial))
        pareto = ParetoSteps(self, session, self.data)
        config |= {
            "minibatch_size": self.data.minibatch_size,
            "merge": self.data.merge,
            "component_selection": self.data.component_selection,
            "seed": self.data.seed,
        }
        shared = session.run(pareto, config)
        result = OptimizationResult(
            **vars(shared),
            best_hyperparameters=self._usable(pareto.best()[0]),
            frontier=pareto.frontier_entries(),
            test_score=pareto.test_score,
            test_runs=pareto.tested,
            plan=estimate,
        )
        if settings.progress:  # after the session's summary
            print("\n".join(result.candidate_lines()), file=sys.stderr)
        return result


def optimize_hyperparameters(
    task: Callable[..., Any],
    seed_parameters: Sequence[Any],
    *,
    optimizer_model: Any,
    task_model: Any,
    **keywords: Any,
) -> OptimizationResult:
    """Run a meta-optimization; the keywords are `MetaOptimizer`'s, the run options included.

    Example:
        ```python
        result = optimize_hyperparameters(write_essay, [{"topic": "bees"}], optimizer_model=model,
                                          task_model=model, max_steps=2, run_directory="runs/essays")
        ```
    """
    return MetaOptimizer(
        task, seed_parameters, optimizer_model=optimizer_model, task_model=task_model, **keywords
    ).run()
