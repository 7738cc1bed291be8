"""What a run shows: a progress bar (plain lines off a terminal), a summary table, a score plot, a W&B run.

Every value sent to W&B goes through `WandbReport`, redacted by the run's `Redactor`.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llm_hyperparameters import Redactor

from ._records import StepRow, TaskRunRecord

__all__ = [
    "TASK_RUN_COLUMNS",
    "Progress",
    "Table",
    "WandbReport",
    "index_row",
    "plot_png",
    "summary_table",
    "task_run_row",
]

Table = tuple[list[str], list[list[Any]]]
"""A table as W&B shows it: the column names and the rows."""

TASK_RUN_COLUMNS = [
    "id",
    "step",
    "task_parameters",
    "changed_hyperparameters",
    "score",
    "feedback",
    "failure",
]


def task_run_row(record: TaskRunRecord) -> list[Any]:
    """A task run as a row under `TASK_RUN_COLUMNS` (the parameters and changed values as JSON text)."""
    return [
        record.id,
        record.step,
        json.dumps(record.task_parameters, ensure_ascii=False),
        json.dumps(record.changed, ensure_ascii=False),
        record.score,
        record.evaluation,
        record.failure,
    ]


def index_row(record: TaskRunRecord) -> tuple[str, float | None, str]:
    """A task run on the run's index page: its id and parameters, its score, its failure or feedback."""
    label = f"{record.id} {json.dumps(record.task_parameters, ensure_ascii=False)[:80]}"
    return label, record.score, record.failure or record.evaluation or ""


class Progress:
    """A progress bar over task runs: step, runs done, best score, tokens used (silent when disabled).

    When the stream is not a terminal (a log file, CI), it writes one plain line per step instead.
    """

    def __init__(self, enabled: bool, description: str, stream: Any = None) -> None:
        self._stream = stream or sys.stderr
        self._description = description
        self._enabled = enabled
        self._bar: Any = None
        self._done = 0
        self._total = 0
        if enabled and _is_terminal(self._stream):
            from tqdm.auto import tqdm

            self._bar = tqdm(total=0, desc=description, unit="run", file=self._stream, dynamic_ncols=True)

    def expect(self, runs: int) -> None:
        """Announce more task runs to come."""
        self._total += runs
        if self._bar is not None:
            self._bar.total = self._total
            self._bar.refresh()

    def advance(self, step: int, best: float | None, tokens: int) -> None:
        """One task run finished."""
        self._done += 1
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix(step=step, best=_number(best), tokens=tokens)

    def show(self, step: int, best: float | None, tokens: int) -> None:
        """A step finished: refresh the figures, or write them as a line off a terminal."""
        if self._bar is not None:
            self._bar.set_postfix(step=step, best=_number(best), tokens=tokens)
        elif self._enabled:
            print(
                f"{self._description}: step {step} done, {self._done}/{self._total} runs, "
                f"best {_number(best)}, {tokens} tokens",
                file=self._stream,
                flush=True,
            )

    def close(self) -> None:
        """Leave the finished bar on screen."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def summary_table(steps: Sequence[StepRow], best_label: str = "best") -> str:
    """A plain-text table, one row per step: runs, failures and why, mean and best score, tokens, cost."""
    columns = (
        "step",
        "runs",
        "failed",
        "mean",
        best_label,
        "p(improve)",
        "tokens",
        "cost $",
        "first failure",
    )
    widths = (4, 4, 6, 7, max(7, len(best_label)), 10, 8, 8, 0)
    header = "  ".join(f"{name:>{width}}" for name, width in zip(columns, widths, strict=True))
    lines = [header, "-" * len(header)]
    for row in steps:
        cells = (
            row.step,
            row.runs,
            row.failures,
            _number(row.mean_score),
            _number(row.best_score),
            _number(row.improvement_probability),
            row.tokens,
            f"{row.cost:.4f}",
            _short(row.reason or ""),
        )
        lines.append(
            "  ".join(f"{cell:>{width}}" for cell, width in zip(cells, widths, strict=True)).rstrip()
        )
    return "\n".join(lines)


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def plot_png(
    points: Sequence[tuple[int, float]],
    best: Sequence[tuple[int, float]],
    *,
    title: str,
    best_label: str,
) -> bytes | None:
    """Scores of every task run against the step, and the best score, as PNG bytes (None without scores).

    The legend sits beside the axes, so it hides no point.
    """
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.ticker import MaxNLocator

    figure, axes = pyplot.subplots(figsize=(8, 4), dpi=110)
    axes.scatter(
        [step for step, _ in points], [score for _, score in points], s=18, alpha=0.6, label="task run"
    )
    if best:
        axes.plot(
            [step for step, _ in best], [score for _, score in best], "o-", color="C3", label=best_label
        )
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.margins(x=0.08)
    axes.set_xlabel("step")
    axes.set_ylabel("score")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()


class WandbReport:
    """Config, per-step metrics, tables and traces, a table of records and the best values as an artifact.

    Starts its own run (offline unless the user chose a mode) when none is given; when online mode
    cannot reach its server within the init timeout, it says so in one line and logs offline.
    Config, metrics, traces, the table, the artifact's metadata and the summary pass through `redactor`
    (the artifact's file is the run directory's `best.json`, already redacted).
    """

    def __init__(
        self,
        run: Any,
        *,
        enabled: bool,
        project: str,
        directory: Path,
        config: Mapping[str, Any],
        job_type: str,
        redactor: Redactor,
    ) -> None:
        self.run = run
        self._owned = False
        self._redactor = redactor
        config = redactor.clean(dict(config))
        if run is None and enabled:
            self.run = _start_run(project, directory, dict(config), job_type)
            self._owned = True
        elif run is not None:
            run.config.update(dict(config), allow_val_change=True)
        if self.run is not None and getattr(self.run, "disabled", False):
            self.run = None if self._owned else self.run

    @property
    def directory(self) -> Path | None:
        """The run's local directory (where `wandb sync` looks), if there is a run."""
        return Path(self.run.dir).parent if self.run is not None else None

    def step(
        self,
        number: int,
        metrics: Mapping[str, Any],
        trace: dict[str, Any] | None,
        tables: Mapping[str, Table] | None = None,
        *,
        name: str | None = None,
    ) -> None:
        """Log one step's figures and tables, and its trace (as data, from `Trace.to_dict`).

        The trace goes under `trace/<name>` (default `step_NNN`); figures and tables under `optimization/`.
        """
        if self.run is None:
            return
        from llm_hyperparameters._exporters.wandb import log_trace_data

        figures = self._redactor.clean({key: value for key, value in metrics.items() if value is not None})
        logged = {f"optimization/{key}": value for key, value in figures.items()}
        logged |= {f"optimization/{key}": self._table(table) for key, table in (tables or {}).items()}
        if logged:
            self.run.log(logged, step=number)
        if trace is not None:
            key = f"trace/{name or f'step_{number:03d}'}"
            log_trace_data(self._redactor.clean(trace), self.run, key=key, step=number)

    def finish(
        self,
        table: Table,
        best: Mapping[str, Any],
        best_file: Path,
        summary: Mapping[str, Any],
        tables: Mapping[str, Table] | None = None,
    ) -> None:
        """Log the records table and `tables`, the best values as an artifact, the summary; close our run."""
        if self.run is None:
            return
        import wandb

        final = {"records": table, **(tables or {})}
        self.run.log({f"optimization/{key}": self._table(value) for key, value in final.items()})
        artifact = wandb.Artifact("best", type="optimization-best", metadata=self._redactor.clean(dict(best)))
        artifact.add_file(str(best_file))
        self.run.log_artifact(artifact)
        for key, value in self._redactor.clean(dict(summary)).items():
            self.run.summary[f"optimization/{key}"] = value
        if self._owned:
            self.run.finish()

    def _table(self, table: Table) -> Any:
        import wandb

        columns, rows = table
        return wandb.Table(columns=list[str | int](columns), data=self._redactor.clean(rows))


def _start_run(project: str, directory: Path, config: dict[str, Any], job_type: str) -> Any:
    import wandb

    from llm_hyperparameters._exporters.wandb import default_settings

    def start(settings: Any) -> Any:
        return wandb.init(
            project=project, dir=str(directory), config=config, job_type=job_type, settings=settings
        )

    settings = default_settings()
    if settings.mode not in ("online", "run"):
        return start(settings)
    try:
        return start(settings)
    except wandb.Error as error:  # no key, no network, a bad base URL: go on offline
        reason = " ".join(str(error).split())[:160]
        offline = start(default_settings("offline"))
        print(
            f"W&B could not reach its server ({type(error).__name__}: {reason}); logging offline instead. "
            f"Upload later with: wandb sync {Path(offline.dir).parent}",
            file=sys.stderr,
        )
        return offline
