"""What a run shows: a progress bar, a summary table, a score plot, and a W&B run (offline by default)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llm_hyperparameters import Trace
from llm_hyperparameters._exporters.wandb import ensure_offline_default, log_trace

__all__ = ["Progress", "WandbReport", "plot_scores", "summary_table"]


class Progress:
    """A progress bar over task runs: step, runs done, best score, tokens used (silent when disabled)."""

    def __init__(self, enabled: bool, description: str) -> None:
        self._bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=0, desc=description, unit="run", file=sys.stderr, dynamic_ncols=True)

    def expect(self, runs: int) -> None:
        """Announce more task runs to come."""
        if self._bar is not None:
            self._bar.total += runs
            self._bar.refresh()

    def advance(self, step: int, best: float | None, tokens: int) -> None:
        """One task run finished."""
        if self._bar is not None:
            self._bar.update(1)
            self.show(step, best, tokens)

    def show(self, step: int, best: float | None, tokens: int) -> None:
        """Refresh the figures beside the bar."""
        if self._bar is not None:
            self._bar.set_postfix(step=step, best="-" if best is None else f"{best:.3f}", tokens=tokens)

    def close(self) -> None:
        """Leave the finished bar on screen."""
        if self._bar is not None:
            self._bar.close()


def summary_table(steps: Sequence[Mapping[str, Any]]) -> str:
    """A plain-text table, one row per step: runs, mean and best score, probability, tokens, cost."""
    columns = ("step", "runs", "mean", "best", "p(improve)", "tokens", "cost $")
    widths = (4, 4, 7, 7, 10, 8, 8)
    header = "  ".join(f"{name:>{width}}" for name, width in zip(columns, widths, strict=True))
    lines = [header, "-" * len(header)]
    for row in steps:
        cells = (
            row["step"],
            row["runs"],
            _number(row.get("mean_score")),
            _number(row.get("best_score")),
            _number(row.get("improvement_probability")),
            row.get("tokens", 0),
            f"{row.get('cost', 0.0):.4f}",
        )
        lines.append("  ".join(f"{cell:>{width}}" for cell, width in zip(cells, widths, strict=True)))
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def plot_scores(
    points: Sequence[tuple[int, float]], best: Sequence[tuple[int, float]], path: Path
) -> Path | None:
    """Scores of every task run against the step, and the best mean score, as a PNG (None without scores)."""
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7, 4), dpi=110)
    axes.scatter(
        [step for step, _ in points], [score for _, score in points], s=18, alpha=0.6, label="task run"
    )
    if best:
        axes.plot(
            [step for step, _ in best], [score for _, score in best], "o-", color="C3", label="best mean"
        )
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.margins(x=0.08)
    axes.set_xlabel("step")
    axes.set_ylabel("score")
    axes.set_title("Meta-optimization: score by step")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    pyplot.close(figure)
    return path


class WandbReport:
    """Config, per-step metrics, step traces, a table of task runs and the best hyperparameters artifact."""

    def __init__(
        self, run: Any, *, enabled: bool, project: str, directory: Path, config: Mapping[str, Any]
    ) -> None:
        self.run = run
        self._owned = False
        if run is None and enabled:
            ensure_offline_default()
            import wandb

            self.run = wandb.init(
                project=project, dir=str(directory), config=dict(config), job_type="meta-optimization"
            )
            self._owned = True
        elif run is not None:
            run.config.update(dict(config), allow_val_change=True)

    @property
    def directory(self) -> Path | None:
        """The run's local directory (where `wandb sync` looks), if there is a run."""
        return Path(self.run.dir).parent if self.run is not None else None

    def step(self, number: int, metrics: Mapping[str, Any], trace: Trace | None) -> None:
        """Log one step's figures and its trace."""
        if self.run is None:
            return
        self.run.log(
            {f"optimization/{key}": value for key, value in metrics.items() if value is not None}, step=number
        )
        if trace is not None:
            log_trace(trace, self.run, key=f"trace/step_{number:03d}", step=number)

    def finish(
        self,
        table: tuple[list[str], list[list[Any]]],
        best: Mapping[str, Any],
        best_file: Path,
        summary: Mapping[str, Any],
    ) -> None:
        """Log the records table, the best values as an artifact and the summary; close our own run."""
        if self.run is None:
            return
        import wandb

        columns, rows = table
        self.run.log({"optimization/records": wandb.Table(columns=list[str | int](columns), data=rows)})
        artifact = wandb.Artifact("best", type="optimization-best", metadata=dict(best))
        artifact.add_file(str(best_file))
        self.run.log_artifact(artifact)
        for key, value in summary.items():
            self.run.summary[f"optimization/{key}"] = value
        if self._owned:
            self.run.finish()
