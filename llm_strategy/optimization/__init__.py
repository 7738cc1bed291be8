"""Optimizers built on the decorators: the meta-optimizer of the original package, black-box
optimization of text and code, OPRO and textual gradients, all running on one engine (run
options, budgets, typed records, checkpoints and resume, executors, W&B, progress, results).

Nothing below `llm_strategy.optimization` imports it; it is the top floor. `blackbox`, `opro`,
`textgrad`, `judge`, `sandbox` and `pareto` are modules: `from llm_strategy.optimization import blackbox`.
"""

from . import blackbox, judge, opro, pareto, sandbox, textgrad
from ._engine import (
    DEFAULT_PRICES,
    Budget,
    ChatMessage,
    ChatRequest,
    Duplicate,
    Evaluated,
    MetaDecision,
    ParetoStep,
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
from ._frontier import FrontierEntry
from ._meta import MetaOptimizer, OptimizationResult, optimize_hyperparameters
from ._optimizer import LLMOptimizer
from ._plan import RunPlan
from ._proposer import ReflectiveProposer
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
    "FrontierEntry",
    "ImprovementProbability",
    "LLMOptimizer",
    "MetaDecision",
    "MetaOptimizer",
    "OptimizationInfo",
    "OptimizationResult",
    "OptimizationStep",
    "ParetoStep",
    "ReflectiveProposer",
    "ResumeError",
    "RunLockedError",
    "RunOptions",
    "RunPlan",
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
    "pareto",
    "sandbox",
    "textgrad",
]
