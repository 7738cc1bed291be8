"""The propose-and-evaluate step that the black-box optimizer and OPRO share.

A proposer (an LLM behind it) suggests candidate solutions from the history; new candidates are
scored by `f(x) -> (score, feedback)` on the run's executor; failures are recorded, not raised;
repeats of earlier candidates are recorded as duplicates and not scored again; the best is kept
in the direction asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import JsonValue, TypeAdapter

from ..errors import LLMCallError
from ._engine import (
    FRUITLESS_STEPS,
    Collection,
    Evaluated,
    Job,
    JobResult,
    Outcome,
    RunResult,
    SearchDecision,
    Session,
    Settings,
    StepFigures,
    WorkerFailure,
    evaluate_candidate,
    parametrized,
)

__all__ = ["Direction", "Proposer", "SearchResult", "StopWhen", "search"]

X = TypeVar("X")
Direction = Literal["maximize", "minimize"]

Proposer = Callable[[Sequence[Evaluated[X]], int, int], Sequence[X]]
"""`(history, how many, step) -> candidates`; may raise `LLMCallError`."""

StopWhen = Callable[[Sequence[Evaluated[X]]], bool]
"""`(history) -> stop?`, checked after every step: an exact hit, the last losses small enough, ..."""


@dataclass(kw_only=True)
class SearchResult(RunResult[Evaluated[X]], Generic[X]):
    """The best solution, its score, every score in order, and the shared result fields.

    It unpacks as llm_optimize's `optimize.run` returned: `best_score, scores, best_x = result`.
    """

    best_x: X | None
    scores: list[float | None]

    def __iter__(self) -> Iterator[Any]:
        return iter((self.best_score, self.scores, self.best_x))

    def __len__(self) -> int:
        return 3

    def __getitem__(self, index: int) -> Any:
        return (self.best_score, self.scores, self.best_x)[index]


def search(
    kind: str,
    name: str,
    propose: Proposer[X],
    f: Callable[[X], Any],
    x0: Sequence[X],
    *,
    solution_type: Any = str,
    direction: Direction = "maximize",
    stop_score: float | None = None,
    stop_when: StopWhen[X] | None = None,
    max_steps: int | None = None,
    candidates_per_step: int = 3,
    identity: Mapping[str, JsonValue] | None = None,
    options: Mapping[str, Any],
) -> SearchResult[X]:
    """Score `x0`, then propose and score candidates until a stop rule or the budget ends it."""
    settings = Settings.of(options, max_steps=max_steps, default_steps=10)
    if candidates_per_step < 1:
        raise ValueError(f"candidates_per_step must be at least 1, got {candidates_per_step}")
    if not x0:
        raise ValueError("x0 is empty: give at least one starting solution")
    adapter: TypeAdapter[Any] = TypeAdapter(solution_type)
    starts = [adapter.validate_python(x) for x in x0]
    session = Session(
        kind,
        name,
        {"solution_type": repr(solution_type), "direction": direction, **(identity or {})},
        settings,
    )
    steps = _SearchSteps(session, propose, f, adapter, solution_type, direction, starts, candidates_per_step,
                         stop_score, stop_when)  # fmt: skip
    config = {"direction": direction, "max_steps": settings.budget.max_steps, "stop_score": stop_score}
    shared = session.run(steps, config)
    best = steps.best
    return SearchResult(
        **vars(shared), best_x=best.x if best else None, scores=[record.score for record in shared.history]
    )


class _SearchSteps(Generic[X]):
    best_label = "best"
    start_name = "start"

    def __init__(
        self,
        session: Session,
        propose: Proposer[X],
        f: Callable[[X], Any],
        adapter: TypeAdapter[Any],
        solution_type: Any,
        direction: Direction,
        starts: list[X],
        count: int,
        stop_score: float | None,
        stop_when: StopWhen[X] | None,
    ) -> None:
        self.session, self.propose, self.f, self.adapter = session, propose, f, adapter
        self.direction, self.starts, self.count = direction, starts, count
        self.stop_score, self.stop_when = stop_score, stop_when
        self.record_type: Any = parametrized(Evaluated, solution_type)
        self.evaluated: Collection[Evaluated[X]] = session.store.collection("task_runs", self.record_type)
        self.decisions: Collection[SearchDecision] = session.store.collection("steps", SearchDecision)
        self.records: dict[str, Evaluated[X]] = {}
        self.decided: dict[int, SearchDecision] = {}
        self.history: list[Evaluated[X]] = []
        self.seen: set[str] = set()
        self.best: Evaluated[X] | None = None
        self.last = -1

    def load(self, session: Session) -> None:
        for record in self.evaluated.all():
            self.records[record.id] = record
        session.usage.evaluations = len(self.records)
        self.decided = {decision.step: decision for decision in self.decisions.all()}
        for number in sorted(row.step for row in session.rows):
            self._settle(number)
            self.last = number

    def run_step(self, number: int) -> None:
        self.last = number
        if number == 0:
            candidates = self.starts
        else:
            decision = self.decided.get(number) or self._proposals(number)
            if decision.error is not None:
                return
            candidates = [self.adapter.validate_python(item) for item in decision.candidates]
        jobs = []
        for index, x in enumerate(candidates):
            record_id = f"{number:03d}-{index:02d}"
            if record_id not in self.records:
                shown = self.adapter.dump_python(x, mode="json")
                arguments = (record_id, number, self.f, x, shown)
                jobs.append(Job(f"evaluate {record_id}", evaluate_candidate, arguments))

        def done(job: Job, result: JobResult) -> None:
            record_id = job.key.rsplit(" ", 1)[-1]
            outcome = result.outcome
            score, feedback = (None, outcome.message) if isinstance(outcome, WorkerFailure) else outcome
            record = self.record_type(
                id=record_id,
                step=number,
                x=job.arguments[3],
                score=score,
                feedback=feedback,
                worker=result.worker,
            )
            self.evaluated.write(record_id, record)
            self.records[record_id] = record
            self.session.progress.advance(number, self._best_score(), self.session.usage.total_tokens)

        self.session.submit(jobs, done)
        self._settle(number)

    def _proposals(self, number: int) -> SearchDecision:
        """The step's new candidates, recorded before they run, with the repeats left out."""
        try:
            proposed = list(self.propose(list(self.history), self.count, number))[: self.count]
        except LLMCallError as error:
            decision = SearchDecision(step=number, error=f"{type(error).__name__}: {error}")
        else:
            fresh: list[Any] = []
            duplicates: list[Any] = []
            seen = set(self.seen)
            for candidate in proposed:
                key = _key(self.adapter, candidate)
                dumped = self.adapter.dump_python(candidate, mode="json")
                (duplicates if key in seen else fresh).append(dumped)
                seen.add(key)
            decision = SearchDecision(step=number, candidates=fresh, duplicates=duplicates)
        self.decisions.write(f"{number:03d}", decision)
        self.decided[number] = decision
        return decision

    def _settle(self, number: int) -> None:
        """Add the step's records to the history and the best, in id order."""
        for record_id in sorted(key for key, record in self.records.items() if record.step == number):
            record = self.records[record_id]
            self.history.append(record)
            self.seen.add(_key(self.adapter, record.x))
            if record.score is not None and (self.best is None or self._better(record, self.best)):
                self.best = record

    def _better(self, record: Evaluated[X], than: Evaluated[X]) -> bool:
        assert record.score is not None and than.score is not None
        if record.score == than.score:
            return record.id < than.id
        return record.score > than.score if self.direction == "maximize" else record.score < than.score

    def _best_score(self) -> float | None:
        return self.best.score if self.best is not None else None

    def stop_reason(self) -> str | None:
        decision = self.decided.get(self.last)
        if decision is not None and decision.error is not None:
            return f"proposer failed: {decision.error}"
        best = self._best_score()
        if self.stop_score is not None and best is not None:
            reached = best >= self.stop_score if self.direction == "maximize" else best <= self.stop_score
            if reached:
                return f"stop score {self.stop_score} reached"
        if self.stop_when is not None and self.stop_when(self.history):
            return "stop condition met"
        recent = [self.decided.get(number) for number in range(self.last, self.last - FRUITLESS_STEPS, -1)]
        if self.last >= FRUITLESS_STEPS and all(
            decision is not None and not decision.candidates for decision in recent
        ):
            return f"{FRUITLESS_STEPS} steps in a row proposed only candidates already evaluated"
        return None

    def figures(self, number: int) -> StepFigures:
        records = [self.records[key] for key in sorted(self.records) if self.records[key].step == number]
        valid = [record.score for record in records if record.score is not None]
        failed = [record for record in records if record.score is None]
        decision = self.decided.get(number)
        reason = failed[0].feedback if failed else None
        if decision is not None and decision.error is not None:
            reason = f"proposer failed: {decision.error}"
        elif decision is not None and decision.duplicates and not records:
            reason = f"{len(decision.duplicates)} proposals repeated earlier candidates"
        return StepFigures(
            runs=len(records),
            mean_score=sum(valid) / len(valid) if valid else None,
            best_score=self._best_score(),
            failures=len(failed),
            reason=reason,
        )

    def index_rows(self, number: int) -> list[tuple[str, float | None, str]]:
        return [
            (f"{record.id} {_short(self._shown(record.x))}", record.score, record.feedback)
            for record in self.history
            if record.step == number
        ]

    def _shown(self, x: X) -> str:
        return json.dumps(self.adapter.dump_python(x, mode="json"), ensure_ascii=False)

    def outcome(self) -> Outcome[Evaluated[X]]:
        history = list(self.history)
        columns = ["id", "step", "x", "score", "feedback"]
        rows = [[r.id, r.step, self._shown(r.x), r.score, r.feedback] for r in history]
        failures = [record.feedback for record in history if record.score is None]
        best = self.best
        return Outcome(
            history=history,
            best_score=self._best_score(),
            best=self.adapter.dump_python(best.x, mode="json") if best is not None else None,
            table=(columns, rows),
            points=[(record.step, record.score) for record in history if record.score is not None],
            succeeded=len(history) - len(failures),
            first_error=failures[0] if failures else None,
        )


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _key(adapter: TypeAdapter[Any], x: Any) -> str:
    """A canonical text for de-duplication."""
    dumped = adapter.dump_python(x, mode="json")
    return dumped.strip() if isinstance(dumped, str) else json.dumps(dumped, sort_keys=True)
