"""The parts every optimizer shares: run directory and resume, usage and budget, progress, W&B, result.

An optimizer describes what it does (its steps, its records, its best value); a `RunSession`
does the bookkeeping around it, the same way for all of them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_hyperparameters import Trace, trace, write_html

from ._budget import DEFAULT_PRICES, Budget, Usage
from ._reporting import Progress, WandbReport, plot_scores, summary_table
from ._store import RunStore

__all__ = ["RunResult", "RunSession"]


@dataclass(kw_only=True)
class RunResult:
    """What every optimizer returns: best score, history, usage and cost, why it stopped, where it wrote."""

    best_score: float | None
    history: list[dict[str, Any]]
    usage: Usage
    stop_reason: str
    steps: int
    run_directory: Path
    plot: Path | None = None
    trace_page: Path | None = None
    wandb_directory: Path | None = None
    step_rows: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        """The per-step table and the totals, as text."""
        best = "-" if self.best_score is None else f"{self.best_score:.4f}"
        usage = self.usage
        totals = (
            f"stopped: {self.stop_reason}; best score: {best}; records: {len(self.history)}; "
            f"LLM calls: {usage.llm_calls}; tokens: {usage.total_tokens}; cost: ${usage.cost:.4f}"
        )
        return f"{summary_table(self.step_rows)}\n{totals}"


class RunSession:
    """Run directory, identity check and resume, usage against the budget, step traces, W&B, the end."""

    def __init__(
        self,
        kind: str,
        identity: Mapping[str, Any],
        *,
        run_directory: str | Path | None,
        budget: Budget,
        prices: Mapping[str, tuple[float, float]] = DEFAULT_PRICES,
        wandb: bool = True,
        wandb_run: Any = None,
        project: str = "llm-strategy",
        progress: bool = True,
    ) -> None:
        """`identity` names what is optimized; resuming a directory with another identity is refused."""
        name = str(identity.get("task", kind)).rsplit(".", 1)[-1]
        default = Path("runs") / f"{kind}-{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        self.kind = kind
        self.identity = {"kind": kind, **identity}
        self.store = RunStore(run_directory or default)
        self.budget = budget
        self.prices = prices
        self._options = (wandb, wandb_run, project, progress)
        self.usage = Usage()
        self.rows: list[dict[str, Any]] = []

    def open(self, *, resume: bool, config: Mapping[str, Any]) -> bool:
        """Start or resume the run directory, the progress bar and the W&B run; True when resumed."""
        resumed = self.store.start(self.identity, resume=resume)
        state = self.store.read("state.json") or {}
        if resumed:
            self.usage = Usage.from_dict(state.get("usage", {}))
            self.rows = list(state.get("steps", []))
        wandb, wandb_run, project, progress = self._options
        self.progress = Progress(progress, f"{self.kind} {self.identity.get('task', '')}".strip())
        self.report = WandbReport(
            wandb_run,
            enabled=wandb,
            project=project,
            directory=self.store.path,
            config={"optimizer": self.kind, **config},
        )
        return resumed

    def step_trace(self, step: int, name: str | None = None) -> AbstractContextManager[Trace]:
        """The trace of one step, its root carrying the run id, the optimizer kind and the step."""
        run = {"run_id": self.store.path.name, "optimizer": self.kind, "step": step}
        return trace(name or f"step {step}", attributes={"optimization": run})

    def exhausted(self, steps: int) -> str | None:
        """The budget limit reached after `steps` steps, as a stop reason, or None."""
        self.usage.tick()
        limit = self.budget.exhausted(self.usage, steps)
        return None if limit is None else f"budget spent: {limit}"

    def close_step(self, step: int, trace: Trace, row: Mapping[str, Any]) -> dict[str, Any]:
        """Count the step's usage, keep its trace, save the state, log the step; the full row."""
        self.usage.add_trace(trace, self.prices)
        self.usage.tick()
        traces = self.store.path / "traces"
        traces.mkdir(parents=True, exist_ok=True)
        (traces / f"step-{step:03d}.json").write_text(trace.to_json(), encoding="utf-8")
        write_html(trace, traces / f"step-{step:03d}.html")
        full = {"step": step, **row, "tokens": self.usage.total_tokens, "cost": round(self.usage.cost, 6)}
        self.rows = [existing for existing in self.rows if existing["step"] != step] + [full]
        self.store.write("state.json", {"usage": self.usage.to_dict(), "steps": self.rows})
        self.report.step(step, full, trace)
        self.progress.show(step, full.get("best_score"), self.usage.total_tokens)
        return full

    def finish(
        self,
        *,
        stop_reason: str,
        steps: int,
        best: Mapping[str, Any],
        best_score: float | None,
        history: Sequence[dict[str, Any]],
        table: tuple[list[str], list[list[Any]]],
    ) -> RunResult:
        """Write the best values, the result and the plot, close W&B and the progress bar; the result."""
        self.progress.close()
        best_file = self.store.write("best.json", dict(best))
        points = [(record["step"], record["score"]) for record in history if record.get("score") is not None]
        best_line = [
            (row["step"], row["best_score"]) for row in self.rows if row.get("best_score") is not None
        ]
        plot = plot_scores(points, best_line, self.store.path / "scores.png")
        summary = {
            "stop_reason": stop_reason,
            "steps": steps,
            "records": len(history),
            "best_score": best_score,
            **self.usage.to_dict(),
        }
        self.store.write("result.json", summary)
        self.report.finish(table, {"best_score": best_score}, best_file, summary)
        page = self.store.path / "traces" / f"step-{steps:03d}.html"
        result = RunResult(
            best_score=best_score,
            history=list(history),
            usage=self.usage,
            stop_reason=stop_reason,
            steps=steps,
            run_directory=self.store.path,
            plot=plot,
            trace_page=page if page.exists() else None,
            wandb_directory=self.report.directory,
            step_rows=self.rows,
        )
        if self._options[3]:
            print(result.summary(), file=sys.stderr)
        return result
