"""The original package's loop as session steps: seeds, suggest, run every pair, reflect, summarize.

The session around it records every task run, reflection and decision as it finishes, so a
killed run resumes without repeating work.
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import json
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ..errors import LLMCallError
from ._candidates import (
    changed_from_defaults,
    diff,
    merge,
    optimized_entries,
    patch_model,
    seed_candidate,
    with_user_secrets,
    without_secrets,
)
from ._engine import (
    FRUITLESS_STEPS,
    SETTINGS,
    TASK_RUN_COLUMNS,
    Collection,
    Duplicate,
    Job,
    JobResult,
    MetaDecision,
    Outcome,
    Reflection,
    Session,
    StepFigures,
    Suggestion,
    TaskOutcome,
    TaskRunRecord,
    ask,
    index_row,
    parametrized,
    run_concurrently,
    run_task,
    task_run_row,
)
from ._optimizer import LLMOptimizer
from ._schemas import OptimizationInfo, TaskInfo, TaskRun
from ._scoring import BestTracker, candidate_key

if TYPE_CHECKING:
    from ._meta import MetaOptimizer

__all__ = ["OriginalSteps"]


class OriginalSteps:
    """One meta-optimization run's state: records, decisions, the best so far, the optimizer's view."""

    best_label = "best mean"
    start_name = "seed runs"

    def __init__(self, optimizer: MetaOptimizer, session: Session) -> None:
        self.o, self.session = optimizer, session
        self.runs: Collection[TaskRunRecord] = session.store.collection("task_runs", TaskRunRecord)
        self.reflections: Collection[Reflection] = session.store.collection("reflections", Reflection)
        self.decisions: Collection[MetaDecision] = session.store.collection("steps", MetaDecision)
        self.records: dict[str, TaskRunRecord] = {}
        self.by_step: dict[int, list[str]] = {}
        self.decided: dict[int, MetaDecision] = {}
        self.entries: list[str] | None = None
        self.start: dict[str, Any] = {}
        self.tracker = BestTracker(None)
        self.settled: set[str] = set()
        self.ran: set[tuple[str, str]] = set()
        self.picked: dict[str, Any] | None = None
        self.patch_types: dict[tuple[str, ...], type[BaseModel]] = {}
        self.info: OptimizationInfo[Any, Any, Any] | None = None
        self.last = -1

    # -- resume ------------------------------------------------------------------------------------

    def load(self, session: Session) -> None:
        reflected = {item.id: item for item in self.reflections.all()}
        for record in self.runs.all():
            self._add(_with_reflection(record, reflected.get(record.id)))
        session.usage.evaluations = len(self.records)
        self.decided = {decision.step: decision for decision in self.decisions.all()}
        done = sorted(row.step for row in session.rows)
        if not done:
            return
        self._choose_entries()
        for number in done:
            self._settle(number)
            suggestion = self.decided.get(number, MetaDecision(step=number)).suggestion
            if suggestion is not None:
                self.picked = suggestion.best_hyperparameters or self.picked
        self.last = done[-1]
        self.info = self._summarized(self.last, self._built(self.last))

    # -- the step ---------------------------------------------------------------------------------

    def run_step(self, number: int) -> None:
        self.last = number
        decision = self.decided.get(number) or MetaDecision(step=number)
        if number == 0:
            self._run_pairs(
                0, [(f"000-{i:02d}", seed, self.o.initial) for i, seed in enumerate(self.o.seeds)]
            )
            self._choose_entries()
        else:
            decision = self._suggest(decision)
            if decision.suggestion is None:
                return
            self.picked = decision.suggestion.best_hyperparameters or self.picked
            pairs, duplicates = self._pairs(number, decision.suggestion)
            if duplicates and not decision.duplicates:
                decision = self._record(decision, duplicates=duplicates)
            self._run_pairs(number, pairs)
        self._settle(number)
        self._reflect(number)
        info = self._built(number, decision)
        info, decision = self._summarize(info, decision)
        self.info = info
        if number > 0 and not decision.judged:
            self._judge(info, decision)

    def stop_reason(self) -> str | None:
        decision = self.decided.get(self.last)
        if decision is not None and decision.suggestion_error is not None:
            return f"optimizer failed: {decision.suggestion_error}"
        best = self.best()[1]
        if self.o.target_score is not None and best is not None and best >= self.o.target_score:
            return f"target score {self.o.target_score} reached"
        probability = decision.probability if decision is not None else None
        if probability is not None and probability < self.o.stop_probability:
            return f"improvement probability {probability:.2f} < {self.o.stop_probability}"
        recent = range(self.last, self.last - FRUITLESS_STEPS, -1)
        if self.last >= FRUITLESS_STEPS and not any(self.by_step.get(number) for number in recent):
            return f"{FRUITLESS_STEPS} steps in a row suggested nothing new to run"
        return None

    # -- task runs ----------------------------------------------------------------------------------

    def _run_pairs(self, step: int, pairs: Sequence[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
        """Run the pairs not yet recorded; each is written as soon as it finishes."""
        jobs = [
            Job(
                f"task run {run_id}",
                run_task,
                (
                    run_id,
                    step,
                    self.o.task,
                    self.o.job_model,
                    parameters,
                    hyperparameters,
                    self.o.evaluator,
                    self.entries,
                ),
            )
            for run_id, parameters, hyperparameters in pairs
            if run_id not in self.records
        ]

        def done(job: Job, result: JobResult) -> None:
            run_id = job.key.rsplit(" ", 1)[-1]
            parameters, hyperparameters = job.arguments[4], job.arguments[5]
            outcome = TaskOutcome.of(result, hyperparameters)
            record = outcome.record(
                run_id=run_id,
                step=step,
                task_parameters=parameters,
                changed=changed_from_defaults(outcome.hyperparameters),
                worker=result.worker,
            )
            self.runs.write(run_id, record)
            self._add(record)
            self.session.progress.advance(step, self.best()[1], self.session.usage.total_tokens)
            if reflecting is not None:  # reflect on it while the other task runs go on
                started.append(reflecting.submit(contextvars.copy_context().run, self._reflection, record))

        # the start's reflections wait for all seeds: they show only the entries the seeds reveal
        reflecting = ThreadPoolExecutor(self.o.settings.concurrency) if step > 0 else None
        started: list[Future[Reflection]] = []
        try:
            self.session.submit(jobs, done)
            for future in as_completed(started):
                self._keep(future.result())
        finally:
            if reflecting is not None:
                reflecting.shutdown()

    def _pairs(
        self, step: int, suggestion: Suggestion
    ) -> tuple[list[tuple[str, dict[str, Any], dict[str, Any]]], list[Duplicate]]:
        """The suggested (task parameters x hyperparameters) pairs not run before, and the repeats."""
        best = self.best()[0]
        pairs, duplicates = [], []
        seen = set(self.ran)
        combined = itertools.product(suggestion.task_parameters, suggestion.hyperparameters)
        for index, (parameters, patch) in enumerate(combined):
            typed = self.o.task.parameters_type.model_validate(parameters).model_dump(mode="json")
            candidate = merge(best, patch)
            key = (json.dumps(typed, sort_keys=True), candidate_key(candidate, self.entries))
            if key in seen:
                empty = candidate_key(candidate, self.entries) == candidate_key(best, self.entries)
                reason = "changes nothing: the best hyperparameters" if empty else "already run"
                duplicates.append(
                    Duplicate(
                        task_parameters=typed,
                        hyperparameters=diff(self._tuned(candidate), self._tuned(best)),
                        reason=f"{reason}, on these task parameters",
                    )
                )
                continue
            seen.add(key)
            pairs.append((f"{step:03d}-{index:02d}", typed, with_user_secrets(candidate, self.o.initial)))
        return pairs, duplicates

    def _add(self, record: TaskRunRecord) -> None:
        self.records[record.id] = record
        self.by_step.setdefault(record.step, []).append(record.id)

    def _of_step(self, step: int) -> list[str]:
        """The ids of a step's task runs, in order."""
        return sorted(self.by_step.get(step, ()))

    def _settle(self, step: int) -> None:
        """Count the step's scored records towards the best, in id order (the same order on every run)."""
        for run_id in self._of_step(step):
            record = self.records[run_id]
            if run_id in self.settled:
                continue
            self.settled.add(run_id)
            self.ran.add(
                (
                    json.dumps(record.task_parameters, sort_keys=True),
                    candidate_key(self._complete(record), self.entries),
                )
            )
            if record.score is not None:
                self.tracker.add(self._complete(record), record.task_parameters, record.score)

    def _complete(self, record: TaskRunRecord) -> dict[str, Any]:
        """The candidate a run had in force: a seed run that did not call a function had its start value."""
        return {**self.start, **record.hyperparameters}

    def _choose_entries(self) -> None:
        seeds = [self.records[run_id] for run_id in self._of_step(0)]
        self.start = seed_candidate(self.o.initial, seeds)
        names = optimized_entries(self.o.name, self.o.optimize, seeds, SETTINGS)
        self.entries = names
        self.tracker = BestTracker(names)

    def _reflect(self, step: int) -> None:
        """Reflect on the step's task runs that have no reflection yet, concurrently."""
        pending = sorted(
            (self.records[run_id] for run_id in self._of_step(step) if not _reflected(self.records[run_id])),
            key=lambda record: record.id,
        )
        jobs = [functools.partial(self._reflection, record) for record in pending]
        for reflection in run_concurrently(jobs, self.o.settings.concurrency):
            self._keep(reflection)

    def _reflection(self, record: TaskRunRecord) -> Reflection:
        try:
            reflection = ask(LLMOptimizer.reflect_on_task_run, self.o.optimizer_model, self._task_run(record))
        except LLMCallError as error:
            return Reflection(id=record.id, reflection=None, error=f"{type(error).__name__}: {error}")
        return Reflection(id=record.id, reflection=reflection)

    def _keep(self, reflection: Reflection) -> None:
        self.reflections.write(reflection.id, reflection)
        self.records[reflection.id] = _with_reflection(self.records[reflection.id], reflection)

    def _task_run(self, record: TaskRunRecord) -> TaskRun[Any, Any, Any]:
        """The typed task run the optimizer sees, with the optimized values."""
        tuned = self._tuned(record.hyperparameters)
        run_type = parametrized(
            TaskRun, self.o.task.parameters_type, self.o.task.result_type, self._patch_type(tuned)
        )
        return run_type(
            task_parameters=record.task_parameters,
            hyperparameters=tuned,
            all_chat_chains={"requests": [request.model_dump() for request in record.chat_chains]},
            return_value=record.return_value,
            exception=record.exception,
            score=record.score,
            evaluation=record.evaluation,
        )

    def _patch_type(self, tuned: Mapping[str, Any]) -> type[BaseModel]:
        names = tuple(sorted(tuned))
        if names not in self.patch_types:
            self.patch_types[names] = patch_model(names)
        return self.patch_types[names]

    def _tuned(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The optimized entries (before they are known: all but the library settings), without secrets."""
        if self.entries is None:
            return without_secrets({name: value for name, value in values.items() if name != SETTINGS})
        return without_secrets({name: value for name, value in values.items() if name in self.entries})

    # -- decisions ----------------------------------------------------------------------------------

    def _record(self, decision: MetaDecision, **changes: Any) -> MetaDecision:
        decision = decision.model_copy(update=changes)
        self.decisions.write(f"{decision.step:03d}", decision)
        self.decided[decision.step] = decision
        return decision

    def _built(self, step: int, decision: MetaDecision | None = None) -> OptimizationInfo[Any, Any, Any]:
        """What the optimizer's model sees after `step`: the summary, recent runs as patches over the best."""
        decision = decision or self.decided.get(step) or MetaDecision(step=step)
        previous = self._summary_before(step)
        covered = previous[1]
        ordered = [self.records[key] for key in sorted(self.records)]
        reflected = [record for record in ordered if record.reflection is not None][covered:]
        best, best_score = self.best()
        best_values = self._tuned(best)
        patch_type = self._patch_type(best_values)
        parameters_type = self.o.task.parameters_type
        info_type = parametrized(OptimizationInfo, parameters_type, Any, patch_type)
        task_info = parametrized(TaskInfo, parameters_type, Any, patch_type)
        return info_type(
            older_task_summary=previous[0],
            task_infos=[
                task_info(
                    task_parameters=record.task_parameters,
                    hyperparameters=diff(self._tuned(record.hyperparameters), best_values),
                    reflection=record.reflection,
                    score=record.score,
                )
                for record in reflected
            ],
            best_hyperparameters=best_values,
            best_score=best_score,
            skipped_suggestions=[
                f"{json.dumps(item.task_parameters)} with {json.dumps(item.hyperparameters)}: {item.reason}"
                for item in decision.duplicates
            ],
        )

    def _summary_before(self, step: int) -> tuple[str | None, int]:
        """The summary in force before `step`'s own: the latest one recorded by an earlier step."""
        for number in range(step - 1, -1, -1):
            decision = self.decided.get(number)
            if decision is not None and decision.summary is not None:
                return decision.summary, decision.summary_covers
        return None, 0

    def _summarize(
        self, info: OptimizationInfo[Any, Any, Any], decision: MetaDecision
    ) -> tuple[OptimizationInfo[Any, Any, Any], MetaDecision]:
        """Fold the older half of the history into the summary once it outgrows the token budget."""
        if not decision.summarized:
            long = len(info.model_dump_json()) // 4 > self.o.history_tokens and len(info.task_infos) >= 2
            if not long:
                decision = self._record(decision, summarized=True)
            else:
                older = info.task_infos[: len(info.task_infos) // 2]
                covered = self._summary_before(decision.step)[1]
                try:
                    summary = ask(
                        LLMOptimizer.summarize_optimization_info,
                        self.o.optimizer_model,
                        info.model_copy(update={"task_infos": older}),
                    )
                except LLMCallError as error:
                    decision = self._record(
                        decision, summarized=True, summary_error=f"{type(error).__name__}: {error}"
                    )
                else:
                    decision = self._record(
                        decision, summarized=True, summary=summary, summary_covers=covered + len(older)
                    )
        return self._summarized(decision.step, info), decision

    def _summarized(
        self, step: int, info: OptimizationInfo[Any, Any, Any]
    ) -> OptimizationInfo[Any, Any, Any]:
        """`info` (built before `step`'s summary) with that summary in force."""
        decision = self.decided.get(step)
        if decision is None or decision.summary is None:
            return info
        folded = decision.summary_covers - self._summary_before(step)[1]
        return info.model_copy(
            update={"older_task_summary": decision.summary, "task_infos": info.task_infos[folded:]}
        )

    def _suggest(self, decision: MetaDecision) -> MetaDecision:
        """The next step's suggestion (recorded), or the reason there is none."""
        if decision.suggestion is not None or decision.suggestion_error is not None:
            return decision
        assert self.info is not None, "the start builds the optimizer's view"
        try:
            suggested = ask(LLMOptimizer.suggest_next_optimization_step, self.o.optimizer_model, self.info)
        except LLMCallError as error:
            return self._record(decision, suggestion_error=f"{type(error).__name__}: {error}")
        suggestion = Suggestion(
            text=suggested.suggestion,
            best_hyperparameters=suggested.best_hyperparameters.model_dump(by_alias=True, exclude_unset=True),
            task_parameters=[item.model_dump(mode="json") for item in suggested.task_parameters_suggestions],
            hyperparameters=[
                item.model_dump(by_alias=True, exclude_unset=True, exclude_none=True)
                for item in suggested.hyperparameter_suggestions
            ],
        )
        return self._record(decision, suggestion=suggestion)

    def _judge(self, info: OptimizationInfo[Any, Any, Any], decision: MetaDecision) -> MetaDecision:
        try:
            judged = ask(LLMOptimizer.probability_for_improvement, self.o.optimizer_model, info)
        except LLMCallError as error:
            return self._record(decision, judged=True, probability_error=f"{type(error).__name__}: {error}")
        return self._record(
            decision, judged=True, probability=judged.probability, considerations=judged.considerations
        )

    # -- the best, figures and the end --------------------------------------------------------------

    def best(self) -> tuple[dict[str, Any], float | None]:
        """The best full hyperparameters so far and their mean score (measured, or the model's pick)."""
        chosen = self.tracker.best() if self.o.evaluator is not None else None
        if chosen is not None:
            return chosen
        base = self.start or self.o.initial
        return (merge(base, self.picked) if self.picked else dict(base)), None

    def figures(self, number: int) -> StepFigures:
        records = [self.records[run_id] for run_id in self._of_step(number)]
        scores = [record.score for record in records if record.score is not None]
        failures = sorted((record.id, record.failure) for record in records if record.failure is not None)
        decision = self.decided.get(number)
        reason = failures[0][1] if failures else None
        if decision is not None and decision.suggestion_error is not None:
            reason = f"optimizer failed: {decision.suggestion_error}"
        return StepFigures(
            runs=len(records),
            mean_score=sum(scores) / len(scores) if scores else None,
            best_score=self.best()[1],
            failures=len(failures),
            reason=reason,
            improvement_probability=decision.probability if decision is not None else None,
        )

    def index_rows(self, number: int) -> list[tuple[str, float | None, str]]:
        return [index_row(self.records[run_id]) for run_id in self._of_step(number)]

    def outcome(self) -> Outcome[TaskRunRecord]:
        best, best_score = self.best()
        history = [self.records[key] for key in sorted(self.records)]
        columns = [*TASK_RUN_COLUMNS, "reflection"]
        rows = [
            [*task_run_row(record), record.reflection.model_dump_json() if record.reflection else None]
            for record in history
        ]
        failures = [record.failure for record in history if record.failure is not None]
        return Outcome(
            history=history,
            best_score=best_score,
            best=best,
            table=(columns, rows),
            points=[(record.step, record.score) for record in history if record.score is not None],
            succeeded=len(history) - len(failures),
            first_error=failures[0] if failures else None,
        )


def _reflected(record: TaskRunRecord) -> bool:
    return record.reflection is not None or record.reflection_error is not None


def _with_reflection(record: TaskRunRecord, reflection: Reflection | None) -> TaskRunRecord:
    if reflection is None:
        return record
    return record.model_copy(
        update={"reflection": reflection.reflection, "reflection_error": reflection.error}
    )
