"""The meta-optimization loop: run seeds, reflect, suggest, run every suggested pair, repeat; resumable.

Every finished task run and every decision is written to the run directory before the next
begins, so a killed run resumes without repeating work.
"""

from __future__ import annotations

import functools
import itertools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from llm_hyperparameters import Hyperparameters, Trace, lookup, span
from llm_hyperparameters._tracking import stable_name

from .._models import resolve_model
from ..errors import LLMCallError
from ._budget import DEFAULT_PRICES, Budget
from ._candidates import changed_from_defaults, diff, merge, patch_model
from ._execution import Task, evaluate, run_concurrently, run_task
from ._optimizer import LLMOptimizer
from ._schemas import OptimizationInfo, TaskInfo, TaskReflection, TaskRun
from ._scoring import best_candidate
from ._session import RunResult, RunSession

__all__ = ["MetaOptimizer", "OptimizationResult", "optimize_hyperparameters"]

_LIBRARY_SETTINGS = "llm_strategy.settings"


@dataclass(kw_only=True)
class OptimizationResult(RunResult):
    """The outcome: the best hyperparameters (enter them with `with`), the history, usage and cost."""

    best_hyperparameters: Hyperparameters


class MetaOptimizer:
    """Optimizes the tracked hyperparameters of a task with the original package's reflect/suggest loop.

    Example:
        ```python
        result = MetaOptimizer(write_essay, seeds, optimizer_model=gpt, task_model=gpt,
                               evaluator=score_essay, budget=Budget(max_steps=3)).run()
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
        budget: Budget | None = None,
        stop_probability: float = 0.1,
        target_score: float | None = None,
        run_directory: str | Path | None = None,
        concurrency: int = 8,
        history_tokens: int = 750,
        prices: Mapping[str, tuple[float, float]] = DEFAULT_PRICES,
        wandb: bool = True,
        wandb_run: Any = None,
        project: str = "llm-strategy",
        progress: bool = True,
    ) -> None:
        """Check the inputs; nothing runs until `run()`."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if not 0 <= stop_probability <= 1:
            raise ValueError(f"stop_probability must be between 0 and 1, got {stop_probability}")
        self.task = Task.of(task, seed_parameters)
        self.seeds = [self.task.parameters_type.model_validate(item) for item in seed_parameters]
        self.optimizer_model = resolve_model(optimizer_model)
        self.task_model = None if task_model is None else resolve_model(task_model)
        self.evaluator = evaluator
        self.initial = hyperparameters.copy() if hyperparameters is not None else Hyperparameters()
        self.optimize = [lookup(item).name for item in optimize] if optimize is not None else None
        self.budget = budget or Budget()
        self.stop_probability = stop_probability
        self.target_score = target_score
        self.concurrency = concurrency
        self.history_tokens = history_tokens
        identity = {"task": stable_name(task), "parameters": self.task.parameters_type.model_json_schema()}
        self.session = RunSession(
            "meta",
            identity,
            run_directory=run_directory,
            budget=self.budget,
            prices=prices,
            wandb=wandb,
            wandb_run=wandb_run,
            project=project,
            progress=progress,
        )
        self.store = self.session.store

    # -- the loop ----------------------------------------------------------------------------------

    def run(self, *, resume: bool = False) -> OptimizationResult:
        """Run (or with `resume=True` continue) the optimization; returns the result."""
        config = {
            "task": self.session.identity["task"],
            "budget": vars(self.budget),
            "evaluator": self.evaluator is not None,
        }
        self.session.open(resume=resume, config=config)
        self.usage, self.progress = self.session.usage, self.session.progress
        self.records = {record["id"]: record for record in self.store.task_runs()}
        self._picked: Mapping[str, Any] | None = None
        self._records_lock = threading.Lock()
        try:
            with self.session.step_trace(0, "seed runs") as seed_trace:
                self._seed()
            self._close_step(0, seed_trace, probability=None)
            stop_reason, steps = self._steps()
        except BaseException:
            self.progress.close()
            raise
        return self._finish(stop_reason, steps)

    def _seed(self) -> None:
        pending = [(f"000-{index:02d}", parameters) for index, parameters in enumerate(self.seeds)]
        self._run_pairs([(run_id, parameters, self.initial) for run_id, parameters in pending], step=0)
        seeds = [self.records[run_id] for run_id, _ in pending]
        used = {name for record in seeds for name in record["hyperparameters"]}
        names = self.optimize or sorted(used - {_LIBRARY_SETTINGS})
        if not names:
            raise ValueError(
                f"{self.session.identity['task']} made no tracked call, so it has no hyperparameters to "
                "optimize: decorate it (or what it calls) with @llm_function or @track_hyperparameters"
            )
        self.entries = names
        self._reflect(step=0)

    def _steps(self) -> tuple[str, int]:
        step = 0
        while True:
            reason = self._should_stop(step)
            if reason is not None:
                return reason, step
            step += 1
            with self.session.step_trace(step) as step_trace:
                decision = self.store.step(step) or {"step": step}
                self._summarize_if_long(step, decision)
                suggestion = self._suggest(step, decision)
                if suggestion is None:
                    self._close_step(step, step_trace, probability=None)
                    return f"optimizer failed: {decision['error']}", step
                pairs = list(itertools.product(suggestion["task_parameters"], suggestion["hyperparameters"]))
                jobs = [
                    (
                        f"{step:03d}-{index:02d}",
                        self.task.parameters_type.model_validate(parameters),
                        self._candidate(hp),
                    )
                    for index, (parameters, hp) in enumerate(pairs)
                ]
                self._run_pairs(jobs, step=step)
                self._reflect(step=step)
                self._summarize_if_long(step, decision)
                probability = self._probability(step, decision)
            self._close_step(step, step_trace, probability)
            if probability is not None and probability < self.stop_probability:
                return f"improvement probability {probability:.2f} < {self.stop_probability}", step

    def _should_stop(self, steps: int) -> str | None:
        exhausted = self.session.exhausted(steps)
        if exhausted is not None:
            return exhausted
        best = self._best()
        if self.target_score is not None and best[1] is not None and best[1] >= self.target_score:
            return f"target score {self.target_score} reached"
        return None

    # -- task runs ---------------------------------------------------------------------------------

    def _run_pairs(self, jobs: Sequence[tuple[str, BaseModel, Hyperparameters]], step: int) -> None:
        """Run the pairs not yet recorded, concurrently; each is written as soon as it finishes."""
        missing = [job for job in jobs if job[0] not in self.records]
        self.progress.expect(len(missing))

        def job(run_id: str, parameters: BaseModel, candidate: Hyperparameters) -> None:
            scope = candidate.copy()
            run = {"task_run_id": run_id, "step": step}
            outcome = run_task(
                self.task, self.task_model, parameters, scope, f"task run {run_id}", {"optimization": run}
            )
            record = {
                "id": run_id,
                "step": step,
                "task_parameters": parameters.model_dump(mode="json"),
                "hyperparameters": outcome.scope.model_dump(),
                "return_value": _jsonable(outcome.return_value),
                "exception": outcome.exception,
                "chat_chains": outcome.chat_chains,
                "seconds": round(outcome.seconds, 4),
            }
            with span(f"evaluate {run_id}", attributes={"optimization": run}) as scored:
                score, evaluation = evaluate(self.evaluator, self._task_run(record, outcome.return_value))
                if scored is not None:
                    scored.attributes["optimization"] = {**run, "score": score}
            record.update(
                score=score, evaluation=evaluation, changed=changed_from_defaults(record["hyperparameters"])
            )
            self.store.write_task_run(record)
            with self._records_lock:
                self.records[run_id] = record
            self.progress.advance(step, self._best()[1], self.usage.total_tokens)

        run_concurrently([functools.partial(job, *item) for item in missing], self.concurrency)

    def _task_run(self, record: Mapping[str, Any], value: Any = None) -> TaskRun[Any, Any, Any]:
        """The typed task run the evaluator and the optimizer see, with the full optimized values."""
        tuned = self._tuned(record["hyperparameters"])
        run_type = _parametrized(
            TaskRun, self.task.parameters_type, self.task.result_type, self._patch_type(tuned)
        )
        return run_type(
            task_parameters=record["task_parameters"],
            hyperparameters=tuned,
            all_chat_chains=record["chat_chains"],
            return_value=value if value is not None else record["return_value"],
            exception=record["exception"],
            score=record.get("score"),
            evaluation=record.get("evaluation"),
        )

    def _patch_type(self, tuned: Mapping[str, Any]) -> type[BaseModel]:
        """The hyperparameters model the LLM sees, for the optimized functions (cached per set)."""
        names = tuple(sorted(tuned))
        cache: dict[tuple[str, ...], type[BaseModel]] = self.__dict__.setdefault("_patch_types", {})
        if names not in cache:
            cache[names] = patch_model(names)
        return cache[names]

    def _tuned(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Only the entries being optimized (before they are known: all but the library settings)."""
        names = getattr(self, "entries", None)
        if names is None:
            return {name: value for name, value in values.items() if name != _LIBRARY_SETTINGS}
        return {name: value for name, value in values.items() if name in names}

    def _candidate(self, suggestion: Mapping[str, Any]) -> Hyperparameters:
        """The best values with a suggestion's values laid over them."""
        return Hyperparameters(merge(self._best()[0].model_dump(), suggestion))

    def _reflect(self, step: int) -> None:
        pending = [
            record
            for record in self.records.values()
            if record["step"] == step and "reflection" not in record
        ]

        def job(record: dict[str, Any]) -> None:
            try:
                reflection = LLMOptimizer.reflect_on_task_run(self.optimizer_model, self._task_run(record))
                record["reflection"] = reflection.model_dump()
            except LLMCallError as error:
                record["reflection"] = None
                record["reflection_error"] = f"{type(error).__name__}: {error}"
            self.store.write_task_run(record)

        run_concurrently([functools.partial(job, record) for record in pending], self.concurrency)

    # -- decisions --------------------------------------------------------------------------------

    def _info(self, decision: Mapping[str, Any]) -> OptimizationInfo[Any, Any, Any]:
        """What the optimizer's LLM sees: the summary, recent runs (as patches over the best), the best."""
        covered = decision.get("summary_covers", 0)
        reflected = [record for record in self._ordered() if record.get("reflection")][covered:]
        best, best_score = self._best()
        best_values = self._tuned(best.model_dump())
        patch_type = self._patch_type(best_values)
        parameters_type = self.task.parameters_type
        info_type = _parametrized(OptimizationInfo, parameters_type, Any, patch_type)
        info_class = _parametrized(TaskInfo, parameters_type, Any, patch_type)
        return info_type(
            older_task_summary=decision.get("summary"),
            task_infos=[
                info_class(
                    task_parameters=record["task_parameters"],
                    hyperparameters=diff(self._tuned(record["hyperparameters"]), best_values),
                    reflection=TaskReflection.model_validate(record["reflection"]),
                    score=record.get("score"),
                )
                for record in reflected
            ],
            best_hyperparameters=best_values,
            best_score=best_score,
        )

    def _summarize_if_long(self, step: int, decision: dict[str, Any]) -> None:
        """Fold the older half of the history into the summary once it outgrows the token budget.

        Runs before each decision that reads the history; a summary already recorded is kept.
        """
        previous = self.store.step(step - 1) or {}
        decision.setdefault("summary", previous.get("summary"))
        decision.setdefault("summary_covers", previous.get("summary_covers", 0))
        info = self._info(decision)
        if len(info.model_dump_json()) // 4 <= self.history_tokens or len(info.task_infos) < 2:
            return
        older = info.task_infos[: len(info.task_infos) // 2]
        try:
            summary = LLMOptimizer.summarize_optimization_info(
                self.optimizer_model, info.model_copy(update={"task_infos": older})
            )
        except LLMCallError as error:
            decision["summary_error"] = f"{type(error).__name__}: {error}"
        else:
            decision["summary"] = summary
            decision["summary_covers"] += len(older)
        self.store.write_step(step, decision)

    def _suggest(self, step: int, decision: dict[str, Any]) -> dict[str, Any] | None:
        """The task parameters and hyperparameters to try next (recorded), or None after a failure."""
        if "suggestion" in decision:
            return self._remember(decision["suggestion"])
        try:
            suggested = LLMOptimizer.suggest_next_optimization_step(
                self.optimizer_model, self._info(decision)
            )
        except LLMCallError as error:
            decision["error"] = f"{type(error).__name__}: {error}"
            self.store.write_step(step, decision)
            return None
        decision["suggestion"] = {
            "text": suggested.suggestion,
            "best_hyperparameters": suggested.best_hyperparameters.model_dump(
                by_alias=True, exclude_unset=True
            ),
            "task_parameters": [
                item.model_dump(mode="json") for item in suggested.task_parameters_suggestions
            ],
            "hyperparameters": [
                item.model_dump(by_alias=True, exclude_unset=True, exclude_none=True)
                for item in suggested.hyperparameter_suggestions
            ],
        }
        self.store.write_step(step, decision)
        return self._remember(decision["suggestion"])

    def _remember(self, suggestion: Mapping[str, Any]) -> dict[str, Any]:
        """Keep the model's pick of the best values (what counts as best without an evaluator)."""
        self._picked = suggestion.get("best_hyperparameters") or self._picked
        return dict(suggestion)

    def _probability(self, step: int, decision: dict[str, Any]) -> float | None:
        if "probability" not in decision:
            try:
                judged = LLMOptimizer.probability_for_improvement(self.optimizer_model, self._info(decision))
                decision["probability"] = judged.probability
                decision["considerations"] = judged.considerations
            except LLMCallError as error:
                decision["probability"] = None
                decision["probability_error"] = f"{type(error).__name__}: {error}"
            self.store.write_step(step, decision)
        probability: float | None = decision["probability"]
        return probability

    # -- best, bookkeeping and the end -------------------------------------------------------------

    def _ordered(self) -> list[dict[str, Any]]:
        with self._records_lock:  # task runs finish, and are added, on several threads
            return [self.records[run_id] for run_id in sorted(self.records)]

    def _best(self) -> tuple[Hyperparameters, float | None]:
        """The best full hyperparameters so far and their mean score (measured, or the LLM's pick)."""
        records = self._ordered()
        if self.evaluator is not None:
            chosen = best_candidate(records, getattr(self, "entries", None))
            if chosen is not None:
                return Hyperparameters(chosen[0]), chosen[1]
        if self._picked and records:
            return Hyperparameters(merge(records[0]["hyperparameters"], self._picked)), None
        return (Hyperparameters(records[0]["hyperparameters"]) if records else self.initial.copy()), None

    def _close_step(self, step: int, step_trace: Trace, probability: float | None) -> None:
        """The step's figures, recorded with its trace by the session."""
        records = [record for record in self.records.values() if record["step"] == step]
        scores = [record["score"] for record in records if record.get("score") is not None]
        row = {
            "runs": len(records),
            "mean_score": sum(scores) / len(scores) if scores else None,
            "best_score": self._best()[1],
            "improvement_probability": probability,
        }
        self.session.close_step(step, step_trace, row)

    def _finish(self, stop_reason: str, steps: int) -> OptimizationResult:
        best, best_score = self._best()
        records = self._ordered()
        columns = ["id", "step", "task_parameters", "changed_hyperparameters"]
        columns += ["score", "exception", "reflection"]
        rows = [
            [
                record["id"],
                record["step"],
                json.dumps(record["task_parameters"], ensure_ascii=False),
                json.dumps(record.get("changed", {}), ensure_ascii=False),
                record.get("score"),
                record.get("exception"),
                json.dumps(record.get("reflection"), ensure_ascii=False),
            ]
            for record in records
        ]
        shared = self.session.finish(
            stop_reason=stop_reason,
            steps=steps,
            best=best.model_dump(),
            best_score=best_score,
            history=records,
            table=(columns, rows),
        )
        return OptimizationResult(**vars(shared), best_hyperparameters=best)


def optimize_hyperparameters(
    task: Callable[..., Any], seed_parameters: Sequence[Any], *, resume: bool = False, **options: Any
) -> OptimizationResult:
    """Run a meta-optimization; the keyword options are `MetaOptimizer`'s.

    Example:
        ```python
        result = optimize_hyperparameters(write_essay, [{"topic": "bees"}], optimizer_model=model,
                                          task_model=model, budget=Budget(max_steps=2))
        ```
    """
    return MetaOptimizer(task, seed_parameters, **options).run(resume=resume)


def _parametrized(generic: Any, *arguments: Any) -> Any:
    """A generic schema parametrized with types known only at run time."""
    return generic[arguments]


def _jsonable(value: Any) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value, fallback=repr)
