"""The optimization engine every optimizer runs on: run options, the session (the one loop), typed
records, the run directory and its lock, budgets, jobs for any executor, and what a run shows.

An optimizer supplies only its step (`Steps`); the session opens or resumes the run, runs steps
until a stop rule or the budget says stop, checkpoints each, and reports.
"""

from ._asking import ask
from ._budget import DEFAULT_PRICES, Budget, Usage, price_of
from ._execution import SETTINGS, Task, TaskOutcome, evaluate_candidate, parametrized, run_task
from ._jobs import Job, JobResult, WorkerFailure, run_concurrently, run_coroutine
from ._options import RunOptions, Settings
from ._records import (
    ChatMessage,
    ChatRequest,
    ComponentSelection,
    Duplicate,
    Evaluated,
    MetaDecision,
    ParetoStep,
    Reflection,
    RunInfo,
    RunSummary,
    SearchDecision,
    StepRow,
    Suggestion,
    TaskRunRecord,
    TextGradStep,
)
from ._reporting import TASK_RUN_COLUMNS, Table, index_row, task_run_row
from ._session import FRUITLESS_STEPS, Best, Outcome, RunResult, Session, StepFigures, Steps
from ._store import Collection, ResumeError, RunLockedError, RunStorageError, RunStore

__all__ = [
    "DEFAULT_PRICES",
    "FRUITLESS_STEPS",
    "SETTINGS",
    "TASK_RUN_COLUMNS",
    "Best",
    "Budget",
    "ChatMessage",
    "ChatRequest",
    "Collection",
    "ComponentSelection",
    "Duplicate",
    "Evaluated",
    "Job",
    "JobResult",
    "MetaDecision",
    "Outcome",
    "ParetoStep",
    "Reflection",
    "ResumeError",
    "RunInfo",
    "RunLockedError",
    "RunOptions",
    "RunResult",
    "RunStorageError",
    "RunStore",
    "RunSummary",
    "SearchDecision",
    "Session",
    "Settings",
    "StepFigures",
    "StepRow",
    "Steps",
    "Suggestion",
    "Table",
    "Task",
    "TaskOutcome",
    "TaskRunRecord",
    "TextGradStep",
    "Usage",
    "WorkerFailure",
    "ask",
    "evaluate_candidate",
    "index_row",
    "parametrized",
    "price_of",
    "run_concurrently",
    "run_coroutine",
    "run_task",
    "task_run_row",
]
