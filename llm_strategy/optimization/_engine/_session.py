"""The session owns the loop: open or resume, run steps until a stop rule or the budget says stop,
checkpoint each finished step, close, report. An optimizer supplies only its `Steps`.

The run's one `Redactor` learns the run's secrets once and is applied at every sink: the run
directory, W&B, the optimizer's model (`ask`), and the failures it prints or returns.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, JsonValue

from llm_hyperparameters import Redactor, Trace, registered, trace
from llm_hyperparameters._exporters.html import IndexEntry, render_html_data, render_index

from ._asking import redacting
from ._budget import Usage
from ._jobs import Job, JobResult, Jobs
from ._options import Settings
from ._records import RunInfo, RunState, RunSummary, StepRow
from ._reporting import Progress, Table, WandbReport, plot_png, summary_table
from ._store import RunStore, default_directory

__all__ = ["FRUITLESS_STEPS", "Best", "Outcome", "RunResult", "Session", "StepFigures", "Steps"]

R = TypeVar("R")

FRUITLESS_STEPS = 5
"""A loop stops after this many steps in a row that brought nothing new to run (each costs LLM calls)."""


class Best(BaseModel):
    """`best.json`: the best score and the best value (hyperparameters, a solution, texts)."""

    score: float | None
    value: JsonValue


@dataclass(frozen=True)
class StepFigures:
    """What an optimizer reports about a finished step."""

    runs: int = 0
    mean_score: float | None = None
    best_score: float | None = None
    failures: int = 0
    reason: str | None = None
    improvement_probability: float | None = None
    tables: Mapping[str, Table] = field(default_factory=dict)
    """Logged to W&B at the step as `optimization/<name>` (e.g. the step's task runs)."""


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """What an optimizer reports at the end: its records, its best, and whether anything succeeded.

    `tables` are logged to W&B beside the records `table`; `test_score` is the best's score on held-out
    data, reported apart from `best_score`; `pages` are trace pages written by a `Session.phase`.
    """

    history: list[R]
    best_score: float | None
    best: JsonValue
    table: Table
    points: list[tuple[int, float]]
    succeeded: int
    first_error: str | None
    tables: Mapping[str, Table] = field(default_factory=dict)
    test_score: float | None = None
    pages: Sequence[IndexEntry] = ()


class Steps(Protocol[R]):
    """An optimizer's step, and what the session asks of it."""

    best_label: str
    start_name: str

    def load(self, session: Session) -> None:
        """Read the records of a resumed run (nothing is recorded in a new one)."""

    def run_step(self, number: int) -> None:
        """Run step `number` (0: the start), recording each finished unit; units already recorded are kept."""

    def stop_reason(self) -> str | None:
        """The optimizer's own reason to stop before the next step (a target reached, a failure), or None."""

    def figures(self, number: int) -> StepFigures:
        """The figures of a finished step."""

    def index_rows(self, number: int) -> list[tuple[str, float | None, str]]:
        """(label, score, note) of each unit of the step, for the run's index page."""

    def outcome(self) -> Outcome[R]:
        """Everything the result needs."""


@dataclass(kw_only=True)
class RunResult(Generic[R]):
    """What every optimizer returns: best score, typed history, usage, cost, why it stopped, where it wrote.

    `failed` is True when no task run (or candidate) succeeded; `first_error` then says why.
    """

    best_score: float | None
    history: list[R]
    usage: Usage
    stop_reason: str
    steps: int
    run_directory: Path
    failed: bool = False
    first_error: str | None = None
    plot: Path | None = None
    trace_page: Path | None = None
    wandb_directory: Path | None = None
    step_rows: list[StepRow] = field(default_factory=list)
    best_label: str = "best"

    def summary(self) -> str:
        """The per-step table and the totals, as text."""
        best = "-" if self.best_score is None else f"{self.best_score:.4f}"
        usage = self.usage
        totals = (
            f"stopped: {self.stop_reason}; {self.best_label} score: {best}; records: {len(self.history)}; "
            f"LLM calls: {usage.llm_calls}; tokens: {usage.total_tokens}; cost: ${usage.cost:.4f}"
        )
        lines = [summary_table(self.step_rows, self.best_label), totals]
        if self.best_label != "best":
            lines.append(
                f"({self.best_label}: the leader's mean score, compared with each challenger over the task "
                "parameters both were run on)"
            )
        if self.failed:
            lines.append(f"FAILED: no task run succeeded; the first error: {self.first_error}")
        return "\n".join(lines)


class Session:
    """One optimization run: its directory, options, usage, jobs, progress and W&B, around the loop.

    `inputs` (task parameters, hyperparameters) and every tracked function's defaults teach the
    run's redactor their values under secret-named keys, with the secret environment variables.
    """

    def __init__(
        self,
        kind: str,
        task: str,
        identity: dict[str, JsonValue],
        settings: Settings,
        *,
        inputs: Sequence[Any] = (),
    ) -> None:
        self.kind, self.task, self.settings = kind, task, settings
        self.info = RunInfo(kind=kind, task=task, identity=identity)
        self.redactor = Redactor(extra_secrets=settings.secrets)
        self.redactor.learn([identity, *inputs, *(entry.defaults for entry in registered().values())])
        self.store = RunStore(
            settings.run_directory or default_directory(kind, task.rsplit(".", 1)[-1]), self.redactor
        )
        self.usage = Usage()
        self.rows: list[StepRow] = []
        self.jobs = Jobs(settings.executor, settings.concurrency)
        self.progress = Progress(False, kind)
        self.report: WandbReport | None = None
        self.resumed = False
        self._trace: Trace | None = None

    # -- what optimizers use during a step -------------------------------------------------------------

    def submit(self, jobs: Sequence[Job], done: Callable[[Job, JobResult], None]) -> None:
        """Run jobs on the run's executor; `done(job, result)` is called as each finishes (in this thread).

        Every job is one evaluation (a metric call) for `Budget.max_evaluations`.
        """
        self.progress.expect(len(jobs))

        def counted(job: Job, result: JobResult) -> None:
            self.usage.evaluations += 1
            done(job, result)

        self.jobs.run(jobs, self._trace, counted)

    @contextmanager
    def phase(
        self,
        name: str,
        attributes: dict[str, JsonValue],
        tables: Callable[[], Mapping[str, Table]] = dict,
    ) -> Iterator[Trace]:
        """A phase after the steps (scoring a test set): jobs submitted inside join its trace, kept like a
        step's: `traces/<name>.json` and `.html`, its usage saved, W&B `trace/<name>` with `tables()`.
        """
        number = self.rows[-1].step + 1 if self.rows else 0
        run = {"run_id": self.store.path.name, "optimizer": self.kind, "phase": name, **attributes}
        with self._traced(name, run) as recorded:
            yield recorded
        data = self._keep_trace(name, recorded)
        self.store.write("state.json", RunState(usage=self.usage, steps=self.rows))
        if self.report is not None:
            self.report.step(number, {}, data, tables(), name=name)

    # -- the loop ---------------------------------------------------------------------------------

    def run(self, steps: Steps[R], config: dict[str, Any]) -> RunResult[R]:
        """Open or resume, run steps until a stop rule or the budget says stop, close, report."""
        with redacting(self.redactor):
            return self._run(steps, config)

    def _run(self, steps: Steps[R], config: dict[str, Any]) -> RunResult[R]:
        try:
            self.resumed = self.store.open(self.info, resume=self.settings.resume)
            state = self.store.read("state.json", RunState) if self.resumed else None
            if state is not None:
                self.usage, self.rows = state.usage, list(state.steps)
            steps.load(self)
            self.progress = Progress(self.settings.progress, f"{self.kind} {self.task}".strip())
            self.report = WandbReport(
                self.settings.wandb_run,
                enabled=self.settings.wandb,
                project=self.settings.project,
                directory=self.store.path,
                config={"optimizer": self.kind, "task": self.task, **config},
                job_type=f"{self.kind}-optimization",
                redactor=self.redactor,
            )
            finished = self.store.read("result.json", RunSummary) if self.resumed else None
            if finished is not None:
                reason, last = finished.stop_reason, finished.steps
            else:
                reason, last = self._loop(steps)
            return self._finish(steps, reason, last)
        finally:
            self.progress.close()
            self.jobs.close()
            self.store.close()

    def _loop(self, steps: Steps[R]) -> tuple[str, int]:
        done = {row.step for row in self.rows}
        number = 0
        while True:
            if number not in done:
                if number > 0:
                    reason = steps.stop_reason() or self._exhausted(number - 1)
                    if reason is not None:
                        return reason, number - 1
                run: dict[str, JsonValue] = {
                    "run_id": self.store.path.name,
                    "optimizer": self.kind,
                    "step": number,
                }
                with self._traced(steps.start_name if number == 0 else f"step {number}", run) as recorded:
                    steps.run_step(number)
                self._close_step(steps, number, recorded)
            number += 1

    @contextmanager
    def _traced(self, name: str, attributes: dict[str, JsonValue]) -> Iterator[Trace]:
        """A trace that the jobs submitted inside join (spans from other processes are grafted in)."""
        with trace(name, attributes={"optimization": attributes}) as recorded:
            self._trace = recorded
            try:
                yield recorded
            finally:
                self._trace = None

    def _keep_trace(self, page: str, recorded: Trace) -> dict[str, Any]:
        """Count a trace's usage and write it as `traces/<page>.json` and `.html`; returns it as data."""
        data = recorded.to_dict(redactor=self.redactor)
        self.usage.add_trace(recorded, self.settings.prices)
        # a model may reply with a lone surrogate escape: written back as that escape, not lost
        text = json.dumps(data, ensure_ascii=False).encode(errors="backslashreplace")
        self.store.write_bytes(f"traces/{page}.json", text, cleaned=True)
        page_html = render_html_data(data).encode(errors="backslashreplace")
        self.store.write_bytes(f"traces/{page}.html", page_html, cleaned=True)
        return data

    def _exhausted(self, steps: int) -> str | None:
        self.usage.tick()
        limit = self.settings.budget.exhausted(self.usage, steps)
        return None if limit is None else f"budget spent: {limit}"

    def _close_step(self, steps: Steps[R], number: int, recorded: Trace) -> None:
        """Count the step's usage, keep its trace (serialized once for every exporter), save the state."""
        data = self._keep_trace(f"step-{number:03d}", recorded)
        self.usage.tick()
        figures = steps.figures(number)
        row = StepRow(
            step=number,
            runs=figures.runs,
            mean_score=figures.mean_score,
            best_score=figures.best_score,
            failures=figures.failures,
            reason=None if figures.reason is None else self.redactor.text(figures.reason),
            improvement_probability=figures.improvement_probability,
            tokens=self.usage.total_tokens,
            cost=round(self.usage.cost, 6),
        )
        self.rows.append(row)
        self.store.write("state.json", RunState(usage=self.usage, steps=self.rows))
        if self.report is not None:
            self.report.step(number, row.model_dump(exclude={"step", "reason"}), data, figures.tables)
        self.progress.show(number, row.best_score, self.usage.total_tokens)

    def _finish(self, steps: Steps[R], reason: str, last: int) -> RunResult[R]:
        self.progress.close()
        outcome = steps.outcome()
        best_file = self.store.write("best.json", Best(score=outcome.best_score, value=outcome.best))
        best_line = [(row.step, row.best_score) for row in self.rows if row.best_score is not None]
        png = plot_png(
            outcome.points, best_line, title=f"{self.kind}: score by step", best_label=steps.best_label
        )
        plot = self.store.write_bytes("scores.png", png) if png is not None else None
        failed = outcome.succeeded == 0
        summary = RunSummary(
            stop_reason=reason,
            steps=last,
            records=len(outcome.history),
            best_score=outcome.best_score,
            failed=failed,
            first_error=self.redactor.text(outcome.first_error) if failed and outcome.first_error else None,
            usage=self.usage,
            test_score=outcome.test_score,
        )
        self.store.write("result.json", summary)
        page = self._index(steps, summary, outcome.pages)
        index = self.store.write_bytes("traces/index.html", page.encode())
        if self.report is not None:
            flat = summary.model_dump(exclude={"usage"}) | self.usage.model_dump()
            best = {"best_score": outcome.best_score}
            self.report.finish(outcome.table, best, best_file, flat, outcome.tables)
        result: RunResult[R] = RunResult(
            best_score=outcome.best_score,
            history=outcome.history,
            usage=self.usage,
            stop_reason=reason,
            steps=last,
            run_directory=self.store.path,
            failed=failed,
            first_error=summary.first_error,
            plot=plot,
            trace_page=index,
            wandb_directory=self.report.directory if self.report is not None else None,
            step_rows=self.rows,
            best_label=steps.best_label,
        )
        if self.settings.progress:
            print(result.summary(), file=sys.stderr)
        return result

    def _index(self, steps: Steps[R], summary: RunSummary, pages: Sequence[IndexEntry]) -> str:
        entries = [
            IndexEntry(
                href=f"step-{row.step:03d}.html",
                title=f"{'start' if row.step == 0 else f'step {row.step}'}: {steps.best_label} "
                + ("-" if row.best_score is None else f"{row.best_score:.4g}"),
                rows=steps.index_rows(row.step),
            )
            for row in self.rows
        ]
        entries.extend(pages)
        best = "-" if summary.best_score is None else f"{summary.best_score:.4g}"
        facts = [f"stopped: {summary.stop_reason}", f"{steps.best_label}: {best}", f"{summary.steps} steps"]
        if summary.test_score is not None:
            facts.append(f"test: {summary.test_score:.4g} (scored once, apart from {steps.best_label})")
        return render_index(f"{self.kind} optimization of {self.task}", entries, facts)
