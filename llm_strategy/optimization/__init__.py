"""Optimizers built on the decorators: the meta-optimizer of the original package, black-box
optimization of text and code, OPRO and textual gradients, all running on one engine (run
options, budgets, typed records, checkpoints and resume, executors, W&B, progress, results).

Nothing below `llm_strategy.optimization` imports it; it is the top floor. `blackbox`, `opro`,
`textgrad`, `judge` and `sandbox` are modules: `from llm_strategy.optimization import blackbox`.
"""

from . import blackbox, judge, opro, sandbox, textgrad
from ._engine import (
    DEFAULT_PRICES,
    Budget,
    ChatMessage,
    ChatRequest,
    Duplicate,
    Evaluated,
    MetaDecision,
    ResumeError,
    RunLockedError,
    RunOptions,
    RunResult,
    RunStorageError,
    SearchDecision,
    StepRow,
    Suggestion,
    TaskRunRecord,
    TextGradStep,
    Usage,
)
from ._meta import MetaOptimizer, OptimizationResult, optimize_hyperparameters
from ._optimizer import LLMOptimizer
from ._schemas import (
    ImprovementProbability,
    OptimizationInfo,
    OptimizationStep,
    TaskInfo,
    TaskReflection,
    TaskRun,
)
from ._search import SearchResult

__all__ = [
    "DEFAULT_PRICES",
    "Budget",
    "ChatMessage",
    "ChatRequest",
    "Duplicate",
    "Evaluated",
    "ImprovementProbability",
    "LLMOptimizer",
    "MetaDecision",
    "MetaOptimizer",
    "OptimizationInfo",
    "OptimizationResult",
    "OptimizationStep",
    "ResumeError",
    "RunLockedError",
    "RunOptions",
    "RunResult",
    "RunStorageError",
    "SearchDecision",
    "SearchResult",
    "StepRow",
    "Suggestion",
    "TaskInfo",
    "TaskReflection",
    "TaskRun",
    "TaskRunRecord",
    "TextGradStep",
    "Usage",
    "blackbox",
    "judge",
    "opro",
    "optimize_hyperparameters",
    "sandbox",
    "textgrad",
]
