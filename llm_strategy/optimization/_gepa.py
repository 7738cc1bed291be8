"""The meta-optimizer's Pareto step (GEPA-style reflective evolution): sample a parent from the frontier,
rewrite one component from a reflection on a train minibatch, gate the child there, validate it.

Candidate `c000` is the starting hyperparameters; the child proposed at step n is `c<n>` and becomes a
candidate when it passes the gate. Task runs are keyed `<candidate>-<t|v|x><index>` (train,
validation, test), so a run is never repeated, on resume or when a parent meets the same instance again.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llm_hyperparameters import is_secret_name, lookup
from llm_hyperparameters._exporters.html import IndexEntry

from ..errors import LLMCallError
from ._candidates import (
    changed_from_defaults,
    entry_values,
    optimized_entries,
    seed_candidate,
    with_user_secrets,
)
from ._engine import (
    FRUITLESS_STEPS,
    SETTINGS,
    Collection,
    ComponentSelection,
    Job,
    JobResult,
    Outcome,
    ParetoStep,
    Session,
    StepFigures,
    Table,
    TaskOutcome,
    TaskRunRecord,
    index_row,
    run_task,
)
from ._frontier import FrontierEntry, frontier_rows, split_of, task_runs_table
from ._reflection import ComponentProposer
from .pareto import frontier, gate_passes, merge_choice, sample_parent

__all__ = ["ParetoData", "ParetoSteps"]

SEED = "c000"


@dataclass(frozen=True)
class ParetoData:
    """The task parameters of each split (validated, as JSON) and the selection's settings."""

    train: list[dict[str, Any]]
    validation: list[dict[str, Any]]
    test: list[dict[str, Any]]
    minibatch_size: int = 3
    merge: bool = False
    seed: int = 0
    reflection_chars: int = 6_000
    best_parent: bool = False
    """`selection="best"`: the parent is always the best validation mean (GEPA's "current best")."""
    component_selection: ComponentSelection = "round_robin"


class ParetoSteps:
    """One Pareto-selection run's state: task runs by key, the steps' decisions, the candidates."""

    best_label = "best"
    start_name = "seed validation"

    def __init__(self, optimizer: Any, session: Session, data: ParetoData) -> None:
        self.o, self.session, self.data = optimizer, session, data
        self.runs: Collection[TaskRunRecord] = session.store.collection("task_runs", TaskRunRecord)
        self.test_runs: Collection[TaskRunRecord] = session.store.collection("test_runs", TaskRunRecord)
        self.decisions: Collection[ParetoStep] = session.store.collection("pareto_steps", ParetoStep)
        self.records: dict[str, TaskRunRecord] = {}
        self.validated: dict[str, list[float | None]] = {}  # candidates whose every validation run is in
        self.leader: tuple[str, float] | None = None  # the best validation mean, kept as runs arrive
        self.decided: dict[int, ParetoStep] = {}
        self.candidates: dict[str, dict[str, Any]] = {}
        self.components: list[tuple[str, str]] = []
        self.proposer: ComponentProposer | None = None
        self.tested: list[TaskRunRecord] = []
        self.test_score: float | None = None
        self.last = -1

    # -- resume ------------------------------------------------------------------------------------

    def load(self, session: Session) -> None:
        for record in [*self.runs.all(), *self.test_runs.all()]:
            self._add(record)
        session.usage.evaluations = len(self.records)
        self.decided = {decision.step: decision for decision in self.decisions.all()}
        if f"{SEED}-v00" in self.records:
            self._start()
        for step in sorted(self.decided):
            decision = self.decided[step]
            if decision.accepted and decision.hyperparameters is not None:
                self.candidates[_child(step)] = decision.hyperparameters
        done = sorted(row.step for row in session.rows)
        self.last = done[-1] if done else -1

    # -- the step ---------------------------------------------------------------------------------

    def run_step(self, number: int) -> None:
        self.last = number
        if number == 0:
            self._run(0, SEED, self.o.initial, "v", range(len(self.data.validation)))
            self._start()
            return
        decision = self.decided.get(number) or self._choose(number)
        if decision.accepted is None:
            decision = self._mutate_or_merge(decision)
        if decision.accepted:
            child = _child(number)
            assert decision.hyperparameters is not None
            self.candidates[child] = decision.hyperparameters
            self._run(number, child, decision.hyperparameters, "v", range(len(self.data.validation)))

    def stop_reason(self) -> str | None:
        if self.last == 0 and not frontier(self.validation_scores()):
            failures = [record.failure for record in self._of_step(0) if record.failure is not None]
            first = failures[0] if failures else "no validation run was recorded"
            return (
                f"no validation run of the start was scored, so no parent can be chosen; the first: {first}"
            )
        best = self.best()[1]
        if self.o.target_score is not None and best is not None and best >= self.o.target_score:
            return f"target score {self.o.target_score} reached"
        failed = [self.decided.get(number) for number in range(self.last, self.last - FRUITLESS_STEPS, -1)]
        if all(decision is not None and decision.proposal_error is not None for decision in failed):
            last = failed[0]
            assert last is not None
            return f"{FRUITLESS_STEPS} proposals in a row failed; the last: {last.proposal_error}"
        return None

    def _start(self) -> None:
        """The seed candidate and the components to mutate, from what the seed runs used."""
        seeds = [record for key, record in sorted(self.records.items()) if key.startswith(f"{SEED}-v")]
        self.candidates[SEED] = seed_candidate(self.o.initial, seeds)
        components = [
            (name, field)
            for name in optimized_entries(self.o.name, self.o.optimize, seeds, SETTINGS)
            for field in sorted(lookup(name).model.model_fields)
            if not is_secret_name(field)
        ]
        if not components:
            raise ValueError(
                f"{self.o.name} tracks only secret-named values, which are never optimized: give the "
                "values to optimize names that do not look like secrets"
            )
        self.components = components
        self.proposer = ComponentProposer(self.o.optimizer_model, components, self.data.reflection_chars)

    def _choose(self, number: int) -> ParetoStep:
        """The step's parent (or merge pair), component and minibatch; seeded, so a resume chooses alike."""
        rng = random.Random(f"{self.data.seed}:{number}")
        front = frontier(self.validation_scores())
        size = min(self.data.minibatch_size, len(self.data.train))
        minibatch = sorted(rng.sample(range(len(self.data.train)), size))
        pair = self._merge_pair(number, front, rng) if self.data.merge else None
        if pair is not None:
            decision = ParetoStep(step=number, parent=pair[0], other_parent=pair[1], minibatch=minibatch)
        else:
            parent = self.best_id() if self.data.best_parent else sample_parent(front, rng)
            entry, field = self.components[(number - 1) % len(self.components)]
            chooser = self.data.component_selection
            decision = ParetoStep(
                step=number,
                parent=parent,
                component=f"{entry}:{field}" if chooser == "round_robin" else None,
                chosen_by=chooser,
                minibatch=minibatch,
            )
        return self._record(decision)

    def _merge_pair(
        self, number: int, front: dict[str, list[int]], rng: random.Random
    ) -> tuple[str, str] | None:
        """After an accepted child, two frontier candidates with a common ancestor whose merge is new."""
        previous = self.decided.get(number - 1)
        if previous is None or not previous.accepted or previous.other_parent is not None:
            return None
        pairs = [
            (first, second)
            for first in sorted(front)
            for second in sorted(front)
            if first < second and self._merged(first, second) is not None
        ]
        return rng.choice(pairs) if pairs else None

    def _merged(self, first: str, second: str) -> dict[str, Any] | None:
        ancestor = self._common_ancestor(first, second)
        if ancestor is None:
            return None
        flat = [_flat(self.candidates[name]) for name in (ancestor, first, second)]
        merged = merge_choice(*flat)
        return None if merged is None else _nested(merged, self.candidates[first])

    def _lineage(self, candidate: str) -> list[str]:
        chain = [candidate]
        while chain[-1] != SEED:
            decision = self.decided[int(chain[-1][1:])]
            chain.append(decision.parent)
        return chain

    def _common_ancestor(self, first: str, second: str) -> str | None:
        theirs = set(self._lineage(second))
        common = [name for name in self._lineage(first) if name in theirs]
        return common[0] if common and common[0] not in (first, second) else None

    def _mutate_or_merge(self, decision: ParetoStep) -> ParetoStep:
        """Propose the child (recorded), run parent and child on the minibatch, and gate."""
        number = decision.step
        parent_values = self.candidates[decision.parent]
        parents = [self._run(number, decision.parent, parent_values, "t", decision.minibatch)]
        if decision.other_parent is not None:
            parents.append(
                self._run(
                    number,
                    decision.other_parent,
                    self.candidates[decision.other_parent],
                    "t",
                    decision.minibatch,
                )
            )
        if decision.hyperparameters is None and decision.proposal_error is None:
            decision = self._propose(decision, parents[0])
        if decision.hyperparameters is None:
            return self._record(decision.model_copy(update={"accepted": False}))
        child = self._run(number, _child(number), decision.hyperparameters, "t", decision.minibatch)
        parent_scores = [record.score for record in max(parents, key=_total)]
        child_scores = [record.score for record in child]
        accepted = gate_passes(parent_scores, child_scores)
        return self._record(
            decision.model_copy(
                update={"parent_scores": parent_scores, "child_scores": child_scores, "accepted": accepted}
            )
        )

    def _propose(self, decision: ParetoStep, runs: list[TaskRunRecord]) -> ParetoStep:
        """The child's values: a merge, or one component rewritten (and chosen, if open) by the proposer."""
        parent = self.candidates[decision.parent]
        if decision.other_parent is not None:
            merged = self._merged(decision.parent, decision.other_parent)
            return self._record(decision.model_copy(update={"hyperparameters": merged}))
        assert self.proposer is not None, "the start sets the components"
        examples = self.proposer.examples(runs)
        try:
            if decision.component is None:
                component, lessons, new_value = self.proposer.change(parent, examples)
                decision = decision.model_copy(update={"component": component})
            else:
                component = decision.component
                lessons, new_value = self.proposer.rewrite(component, parent, examples)
            entry_name, field = component.rsplit(":", 1)
            current = entry_values(parent, entry_name)
            values = lookup(entry_name).model.model_validate({**current, field: new_value})
        except (LLMCallError, ValueError) as error:
            return self._record(
                decision.model_copy(update={"proposal_error": f"{type(error).__name__}: {error}"})
            )
        child = {**parent, entry_name: values.model_dump(mode="json")}
        if child == parent:
            return self._record(
                decision.model_copy(update={"proposal_error": "the proposal changes nothing"})
            )
        return self._record(decision.model_copy(update={"lessons": lessons, "hyperparameters": child}))

    # -- task runs ----------------------------------------------------------------------------------

    def _run(
        self, step: int, candidate: str, values: dict[str, Any], split: str, indices: Sequence[int]
    ) -> list[TaskRunRecord]:
        """The candidate's task runs on the split's instances; those not yet recorded run (concurrently).

        Secret-named values are the user's (a resumed run reads them back as `[REDACTED]`).
        """
        values = with_user_secrets(values, self.o.initial)
        data = {"t": self.data.train, "v": self.data.validation, "x": self.data.test}[split]
        store = self.test_runs if split == "x" else self.runs
        keys = [f"{candidate}-{split}{index:02d}" for index in indices]
        jobs = [
            Job(
                f"task run {key}",
                run_task,
                (key, step, self.o.task, self.o.job_model, data[index], values, self.o.evaluator, None),
            )
            for key, index in zip(keys, indices, strict=True)
            if key not in self.records
        ]

        def done(job: Job, result: JobResult) -> None:
            key = job.arguments[0]
            outcome = TaskOutcome.of(result, job.arguments[5])
            record = outcome.record(
                run_id=key,
                step=step,
                task_parameters=job.arguments[4],
                changed=changed_from_defaults(outcome.hyperparameters),
                worker=result.worker,
            )
            store.write(key, record)
            self._add(record)
            self.session.progress.advance(step, self.best()[1], self.session.usage.total_tokens)

        self.session.submit(jobs, done)
        return [self.records[key] for key in keys]

    # -- scores, the best, figures and the end --------------------------------------------------------

    def _add(self, record: TaskRunRecord) -> None:
        """Keep a task run; the candidate's last validation run makes it validated, maybe the leader."""
        self.records[record.id] = record
        name, _, key = record.id.partition("-")
        if not key.startswith("v"):
            return
        keys = [f"{name}-v{index:02d}" for index in range(len(self.data.validation))]
        if name in self.validated or not all(key in self.records for key in keys):
            return
        row = [self.records[key].score for key in keys]
        self.validated[name] = row
        mean = sum(score or 0.0 for score in row) / max(len(row), 1)
        if self.leader is None or (mean, -int(name[1:])) > (self.leader[1], -int(self.leader[0][1:])):
            self.leader = (name, mean)  # ties keep the earlier candidate

    def validation_scores(self) -> dict[str, list[float | None]]:
        """Per candidate with every validation run recorded, its score on each validation instance."""
        return dict(sorted(self.validated.items(), key=lambda item: int(item[0][1:])))

    def best(self) -> tuple[dict[str, Any], float | None]:
        """The candidate with the best validation mean (failures count 0), and that mean."""
        name, mean = self._best()
        if name is None:
            return dict(self.o.initial), None
        return self.candidates.get(name, self.o.initial), mean  # the seed's values are complete after step 0

    def best_id(self) -> str | None:
        """The best candidate's name (ties: the earlier one)."""
        return self._best()[0]

    def _best(self) -> tuple[str | None, float | None]:
        return self.leader or (None, None)

    def frontier_entries(self) -> list[FrontierEntry]:
        """Every candidate with its lineage and scores; `led` is empty for candidates off the frontier."""
        scores = self.validation_scores()
        front = frontier(scores)
        entries = []
        for name, row in scores.items():
            decision = self.decided.get(int(name[1:])) if name != SEED else None
            entries.append(
                FrontierEntry(
                    id=name,
                    parent=None if decision is None else decision.parent,
                    component=None if decision is None else _what_changed(decision),
                    minibatch_parent=None if decision is None else _sum(decision.parent_scores),
                    minibatch_child=None if decision is None else _sum(decision.child_scores),
                    validation_mean=sum(score or 0.0 for score in row) / max(len(row), 1),
                    led=front.get(name, []),
                )
            )
        return entries

    def run_test(self) -> list[TaskRunRecord]:
        """The best candidate on the test set, once, in the session's `test` phase (its own trace page).

        Recorded under `test_runs/`; a resume reads them and runs only those missing.
        """
        name = self.best_id()
        if not self.data.test or name is None:
            return []
        keys = [f"{name}-x{index:02d}" for index in range(len(self.data.test))]
        if any(key not in self.records for key in keys):

            def tables() -> dict[str, Table]:
                return {"task_runs": task_runs_table([self.records[key] for key in keys])}

            with self.session.phase("test", {"split": "test", "candidate": name}, tables):
                self._run(self.last + 1, name, self.candidates[name], "x", range(len(keys)))
        return [self.records[key] for key in keys]

    def figures(self, number: int) -> StepFigures:
        decision = self.decided.get(number)
        prefix = SEED if number == 0 else _child(number)
        of_step = self._of_step(number)
        records = [record for record in of_step if record.id.startswith(f"{prefix}-")]
        scores = [record.score for record in records if record.score is not None]
        failures = [record.failure for record in records if record.failure is not None]
        reason = failures[0] if failures else None
        if decision is not None and decision.proposal_error is not None:
            reason = f"proposal failed: {decision.proposal_error}"
        elif decision is not None and decision.accepted is False:
            child, parent = _sum(decision.child_scores), _sum(decision.parent_scores)
            reason = f"rejected by the minibatch gate ({child} <= {parent})"
        return StepFigures(
            runs=len(of_step),
            mean_score=sum(scores) / len(scores) if scores else None,
            best_score=self.best()[1],
            failures=len(failures),
            reason=reason,
            tables={
                "task_runs": task_runs_table(of_step),
                "frontier": frontier_rows(self.frontier_entries()),
            },
        )

    def index_rows(self, number: int) -> list[tuple[str, float | None, str]]:
        rows = []
        decision = self.decided.get(number)
        if decision is not None:
            verdict = {True: "accepted", False: "rejected", None: "pending"}[decision.accepted]
            change = _what_changed(decision)
            note = (
                f"{verdict}; minibatch {_sum(decision.child_scores)} vs parent {_sum(decision.parent_scores)}"
            )
            rows.append(
                (f"{_child(number)} from {decision.parent}: {change}", _sum(decision.child_scores), note)
            )
        candidate = SEED if number == 0 else _child(number)
        entry = next((entry for entry in self.frontier_entries() if entry.id == candidate), None)
        if entry is not None:  # a candidate: its validation mean, and what it leads at the end of the run
            led = ", ".join(map(str, entry.led))
            note = f"leads instances {led}" if led else "leads no instance: off the frontier"
            rows.append((f"{candidate} validation mean", entry.validation_mean, note))
        rows.extend(index_row(record) for record in self._of_step(number))
        return rows

    def _of_step(self, number: int) -> list[TaskRunRecord]:
        """The train and validation runs recorded in step `number`, by key."""
        return [
            record
            for _, record in sorted(self.records.items())
            if record.step == number and split_of(record) != "test"
        ]

    def outcome(self) -> Outcome[TaskRunRecord]:
        self.tested = self.run_test()
        if self.tested:
            self.test_score = sum(record.score or 0.0 for record in self.tested) / len(self.tested)
        best, best_score = self.best()
        history = sorted(
            (record for record in self.records.values() if split_of(record) != "test"),
            key=lambda record: (record.step, record.id),
        )
        failures = [record.failure for record in history if record.failure is not None]
        return Outcome(
            history=history,
            best_score=best_score,
            best=best,
            table=task_runs_table([*history, *self.tested]),
            points=[
                (record.step, record.score)
                for record in history
                if record.score is not None and split_of(record) == "validation"
            ],
            succeeded=len(history) - len(failures),
            first_error=failures[0] if failures else None,
            tables={"frontier": frontier_rows(self.frontier_entries())},
            test_score=self.test_score,
            pages=self._test_pages(),
        )

    def _test_pages(self) -> list[IndexEntry]:
        if not self.tested or self.test_score is None:
            return []
        candidate = self.tested[0].id.split("-")[0]
        title = f"test: {candidate} (the best on validation) scored once: {self.test_score:.4g}"
        return [IndexEntry(href="test.html", title=title, rows=[index_row(record) for record in self.tested])]

    def _record(self, decision: ParetoStep) -> ParetoStep:
        self.decisions.write(f"{decision.step:03d}", decision)
        self.decided[decision.step] = decision
        return decision


def _child(step: int) -> str:
    return f"c{step:03d}"


def _what_changed(decision: ParetoStep) -> str:
    """The step's mutated component, its merge, or that the proposer failed before choosing one."""
    if decision.other_parent is not None:
        return f"merge with {decision.other_parent}"
    return decision.component or "no component chosen"


def _sum(scores: Sequence[float | None]) -> float | None:
    return sum(score or 0.0 for score in scores) if scores else None


def _total(records: Sequence[TaskRunRecord]) -> float:
    return sum(record.score or 0.0 for record in records)


def _flat(values: dict[str, dict[str, Any]]) -> dict[str, object]:
    return {f"{entry}:{field}": value for entry, fields in values.items() for field, value in fields.items()}


def _nested(flat: dict[str, object], like: dict[str, dict[str, Any]]) -> dict[str, Any]:
    nested: dict[str, dict[str, Any]] = {entry: dict(fields) for entry, fields in like.items()}
    for key, value in flat.items():
        entry, field = key.rsplit(":", 1)
        nested.setdefault(entry, {})[field] = value
    return nested
