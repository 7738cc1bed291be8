"""Run options: what every optimizer's run shares, given the same way to each (`**options`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typing_extensions import TypedDict

from ._budget import DEFAULT_PRICES, Budget

__all__ = ["RunOptions", "Settings"]


class RunOptions(TypedDict, total=False):
    """The keyword options every optimizer accepts, with the same meaning everywhere.

    - `budget`: a `Budget` (default: no limit but the optimizer's `max_steps`)
    - `concurrency`: task runs and evaluations at once on the default thread pool (default 8)
    - `executor`: any `concurrent.futures.Executor` for task runs and evaluations, e.g. a Dask
      cluster's `Client(...).get_executor()` (default: a thread pool of `concurrency` threads)
    - `run_directory`: where the run is recorded (default: a new `runs/<kind>-<task>-<time>`)
    - `resume`: continue the run recorded in `run_directory`
    - `wandb`: log to Weights & Biases (default True; offline unless `WANDB_MODE` says otherwise)
    - `wandb_run`: an existing W&B run to log into
    - `project`: the W&B project (default `llm-strategy`)
    - `progress`: a progress bar and the summary table at the end (default True)
    - `prices`: dollars per million input and output tokens by model-name prefix
    - `secrets`: more values to redact wherever the run writes or sends data (secret environment
      variables and values under secret-named keys are redacted without being named)

    Example:
        ```python
        blackbox.run(task, question, f, x0, model=model, budget=Budget(max_cost=1.0),
                     executor=client.get_executor(), run_directory="runs/haiku", wandb=False)
        ```
    """

    budget: Budget | None
    concurrency: int
    executor: Executor | None
    run_directory: str | Path | None
    resume: bool
    wandb: bool
    wandb_run: Any
    project: str
    progress: bool
    prices: Mapping[str, tuple[float, float]]
    secrets: Sequence[str]


@dataclass(frozen=True)
class Settings:
    """`RunOptions` checked, with the defaults filled in."""

    budget: Budget = field(default_factory=Budget)
    concurrency: int = 8
    executor: Executor | None = None
    run_directory: Path | None = None
    resume: bool = False
    wandb: bool = True
    wandb_run: Any = None
    project: str = "llm-strategy"
    progress: bool = True
    prices: Mapping[str, tuple[float, float]] = field(default_factory=lambda: DEFAULT_PRICES)
    secrets: tuple[str, ...] = ()

    @classmethod
    def of(cls, options: Mapping[str, Any], *, max_steps: int | None, default_steps: int | None) -> Settings:
        """Check the options; the optimizer's `max_steps` (or its default) becomes the budget's step limit."""
        unknown = sorted(set(options) - set(RunOptions.__annotations__))
        if unknown:
            raise TypeError(
                f"unknown run option(s) {', '.join(unknown)}; the run options are "
                f"{', '.join(sorted(RunOptions.__annotations__))}"
            )
        concurrency = options.get("concurrency", 8)
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if max_steps is not None and max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {max_steps}")
        executor = options.get("executor")
        if executor is not None and not isinstance(executor, Executor):
            raise TypeError(
                f"executor must be a concurrent.futures.Executor (a Dask cluster's client.get_executor(), "
                f"a ThreadPoolExecutor, ...), got {type(executor).__name__}"
            )
        directory = options.get("run_directory")
        return cls(
            budget=(options.get("budget") or Budget()).with_steps(max_steps, default_steps),
            concurrency=concurrency,
            executor=executor,
            run_directory=None if directory is None else Path(directory),
            resume=options.get("resume", False),
            wandb=options.get("wandb", True),
            wandb_run=options.get("wandb_run"),
            project=options.get("project", "llm-strategy"),
            progress=options.get("progress", True),
            prices=options.get("prices", DEFAULT_PRICES),
            secrets=tuple(options.get("secrets", ())),
        )
