"""The propose-and-evaluate loop that the black-box optimizer and OPRO share.

A proposer (an LLM behind it) suggests candidate solutions from the history; each new candidate
is scored by `f(x) -> (score, feedback)` concurrently; failures are recorded, not raised; the
best is kept in the direction asked; every step is checkpointed and resumable.
"""

from __future__ import annotations

import functools
import json
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import TypeAdapter
from typing_extensions import TypedDict, Unpack

from llm_hyperparameters import span

from ..errors import LLMCallError
from ._budget import DEFAULT_PRICES, Budget
from ._execution import run_concurrently
from ._session import RunResult, RunSession

__all__ = ["Direction", "Evaluated", "Proposer", "RunOptions", "SearchResult", "StopWhen", "search"]

X = TypeVar("X")
Direction = Literal["maximize", "minimize"]


@dataclass(frozen=True)
class Evaluated(Generic[X]):
    """A scored candidate (score None when `f` failed; `feedback` then says why)."""

    x: X
    score: float | None
    feedback: str
    step: int


Proposer = Callable[[Sequence[Evaluated[X]], int, int], Sequence[X]]
"""`(history, how many, step) -> candidates`; may raise `LLMCallError`."""

StopWhen = Callable[[Sequence[Evaluated[X]]], bool]
"""`(history) -> stop?`, checked after every step: an exact hit, the last losses small enough, ..."""


class RunOptions(TypedDict, total=False):
    """What every search-based optimizer passes on to its run session."""

    budget: Budget | None
    concurrency: int
    run_directory: str | Path | None
    resume: bool
    wandb: bool
    wandb_run: Any
    progress: bool
    prices: Mapping[str, tuple[float, float]]


@dataclass(kw_only=True)
class SearchResult(RunResult, Generic[X]):
    """The best solution, its score, and every score in order (the original's return values, and more)."""

    best_x: X | None
    scores: list[float | None]


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
    max_steps: int = 10,
    candidates_per_step: int = 3,
    identity: dict[str, Any] | None = None,
    **options: Unpack[RunOptions],
) -> SearchResult[X]:
    """Run the loop: score `x0`, then propose and score candidates for up to `max_steps` steps."""
    budget, concurrency = options.get("budget"), options.get("concurrency", 4)
    if max_steps < 1:
        raise ValueError(f"max_steps must be at least 1, got {max_steps}")
    if candidates_per_step < 1:
        raise ValueError(f"candidates_per_step must be at least 1, got {candidates_per_step}")
    if not x0:
        raise ValueError("x0 is empty: give at least one starting solution")
    adapter: TypeAdapter[Any] = TypeAdapter(solution_type)
    session = RunSession(
        kind,
        {"task": name, **(identity or {})},
        run_directory=options.get("run_directory"),
        budget=budget or Budget(max_steps=max_steps),
        prices=options.get("prices", DEFAULT_PRICES),
        wandb=options.get("wandb", True),
        wandb_run=options.get("wandb_run"),
        progress=options.get("progress", True),
    )
    config = {"direction": direction, "max_steps": max_steps, "stop_score": stop_score}
    session.open(resume=options.get("resume", False), config=config)
    loop = _Loop(session, f, adapter, direction, concurrency)
    try:
        with session.step_trace(0, "start") as started:
            loop.evaluate(0, [adapter.validate_python(x) for x in x0])
        loop.close_step(0, started)
        reason, steps = loop.steps(propose, max_steps, candidates_per_step, stop_score, stop_when)
    except BaseException:
        session.progress.close()
        raise
    return loop.finish(reason, steps)


class _Loop(Generic[X]):
    def __init__(
        self,
        session: RunSession,
        f: Callable[[X], Any],
        adapter: TypeAdapter[Any],
        direction: Direction,
        limit: int,
    ) -> None:
        self.session, self.f, self.adapter, self.direction, self.limit = session, f, adapter, direction, limit
        self.records: dict[str, dict[str, Any]] = {}
        self.evaluated: dict[str, Evaluated[X]] = {}
        self._lock = threading.Lock()  # candidates are scored, and added, from several threads
        for record in session.store.task_runs():
            self.add(record)

    def add(self, record: dict[str, Any]) -> None:
        """Keep a scored record, and its typed form for the history."""
        x = self.adapter.validate_python(record["x"])
        with self._lock:
            self.evaluated[record["id"]] = Evaluated(x, record["score"], record["feedback"], record["step"])
            self.records[record["id"]] = record

    def history(self) -> list[Evaluated[X]]:
        with self._lock:
            return [self.evaluated[key] for key in sorted(self.evaluated)]

    def best(self) -> Evaluated[X] | None:
        scored = [item for item in self.history() if item.score is not None]
        if not scored:
            return None
        pick = max if self.direction == "maximize" else min
        return pick(scored, key=lambda item: item.score)  # type: ignore[arg-type, return-value]

    def reached(self, stop_score: float | None) -> bool:
        best = self.best()
        if stop_score is None or best is None or best.score is None:
            return False
        return best.score >= stop_score if self.direction == "maximize" else best.score <= stop_score

    def steps(
        self,
        propose: Proposer[X],
        max_steps: int,
        count: int,
        stop_score: float | None,
        stop_when: StopWhen[X] | None,
    ) -> tuple[str, int]:
        step = 0
        while True:
            if self.reached(stop_score):
                return f"stop score {stop_score} reached", step
            if stop_when is not None and stop_when(self.history()):
                return "stop condition met", step
            exhausted = self.session.exhausted(step)
            if exhausted is not None or step >= max_steps:
                return exhausted or "budget spent: steps", step
            step += 1
            with self.session.step_trace(step) as recorded:
                proposals = self.proposals(propose, step, count)
                if proposals is None:
                    self.close_step(step, recorded)
                    decision = self.session.store.step(step) or {}
                    return f"proposer failed: {decision.get('error')}", step
                self.evaluate(step, proposals)
            self.close_step(step, recorded)

    def proposals(self, propose: Proposer[X], step: int, count: int) -> list[X] | None:
        """The step's candidates (recorded before they run), new ones only; None when proposing failed."""
        decision = self.session.store.step(step)
        if decision is None or "candidates" not in decision:
            try:
                proposed = list(propose(self.history(), count, step))[:count]
            except LLMCallError as error:
                self.session.store.write_step(
                    step, {"step": step, "error": f"{type(error).__name__}: {error}"}
                )
                return None
            seen = {_key(self.adapter, item.x) for item in self.history()}
            fresh: list[Any] = []
            for candidate in proposed:
                key = _key(self.adapter, candidate)
                if key not in seen:
                    seen.add(key)
                    fresh.append(self.adapter.dump_python(candidate, mode="json"))
            decision = {"step": step, "candidates": fresh, "duplicates": len(proposed) - len(fresh)}
            self.session.store.write_step(step, decision)
        return [self.adapter.validate_python(item) for item in decision["candidates"]]

    def evaluate(self, step: int, candidates: Sequence[X]) -> None:
        """Score the candidates not yet recorded, concurrently; each record is written when scored."""
        jobs = [(f"{step:03d}-{index:02d}", x) for index, x in enumerate(candidates)]
        missing = [job for job in jobs if job[0] not in self.records]
        self.session.progress.expect(len(missing))

        def job(record_id: str, x: X) -> None:
            run = {"task_run_id": record_id, "step": step}
            with span(
                f"evaluate {record_id}",
                inputs={"x": self.adapter.dump_python(x, mode="json")},
                attributes={"optimization": run},
            ) as opened:
                score, feedback = _scored(self.f, x)
                if opened is not None:
                    opened.outputs = {"score": score, "feedback": feedback}
                    opened.attributes["optimization"] = {**run, "score": score}
            record = {
                "id": record_id,
                "step": step,
                "x": self.adapter.dump_python(x, mode="json"),
                "score": score,
                "feedback": feedback,
            }
            self.session.store.write_task_run(record)
            self.add(record)
            best = self.best()
            self.session.progress.advance(step, best.score if best else None, self.session.usage.total_tokens)

        run_concurrently([functools.partial(job, *item) for item in missing], self.limit)

    def close_step(self, step: int, recorded: Any) -> None:
        scores = [record["score"] for record in self.records.values() if record["step"] == step]
        valid = [score for score in scores if score is not None]
        best = self.best()
        row = {
            "runs": len(scores),
            "mean_score": sum(valid) / len(valid) if valid else None,
            "best_score": best.score if best else None,
            "failures": len(scores) - len(valid),
        }
        self.session.close_step(step, recorded, row)

    def finish(self, reason: str, steps: int) -> SearchResult[X]:
        history = [self.records[key] for key in sorted(self.records)]
        best = self.best()
        columns = ["id", "step", "x", "score", "feedback"]
        rows = [
            [r["id"], r["step"], json.dumps(r["x"], ensure_ascii=False), r["score"], r["feedback"]]
            for r in history
        ]
        shared = self.session.finish(
            stop_reason=reason,
            steps=steps,
            best={"x": self.adapter.dump_python(best.x, mode="json") if best else None},
            best_score=best.score if best else None,
            history=history,
            table=(columns, rows),
        )
        return SearchResult(
            **vars(shared), best_x=best.x if best else None, scores=[r["score"] for r in history]
        )


def _scored(f: Callable[[Any], Any], x: Any) -> tuple[float | None, str]:
    """`f(x)` as `(score, feedback)`; a raise, NaN or a wrong shape is a failure, with the reason."""
    try:
        result = f(x)
    except Exception as error:
        return None, f"f raised {type(error).__name__}: {error}"
    if isinstance(result, tuple) and len(result) == 2:
        score, feedback = result
    elif isinstance(result, int | float):
        score, feedback = result, ""
    else:
        return (
            None,
            f"f must return (score, feedback) or a number, got {type(result).__name__}: {result!r:.80}",
        )
    try:
        number = float(score)
    except (TypeError, ValueError):
        return None, f"f returned a score that is not a number: {score!r:.80}"
    if math.isnan(number) or math.isinf(number):
        return None, f"f returned {number} as the score"
    return number, "" if feedback is None else str(feedback)


def _key(adapter: TypeAdapter[Any], x: Any) -> str:
    """A canonical text for de-duplication."""
    dumped = adapter.dump_python(x, mode="json")
    return dumped.strip() if isinstance(dumped, str) else json.dumps(dumped, sort_keys=True)
