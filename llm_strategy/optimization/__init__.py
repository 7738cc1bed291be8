"""Optimizers built on the decorators: the meta-optimizer of the original package, black-box
optimization of text and code, OPRO and textual gradients, sharing one run session (budgets,
checkpoints and resume, W&B, progress, results).

Nothing below `llm_strategy.optimization` imports it; it is the top floor. `blackbox`, `opro`,
`textgrad`, `judge` and `sandbox` are modules: `from llm_strategy.optimization import blackbox`.
"""

from . import blackbox, judge, opro, sandbox, textgrad
from ._budget import DEFAULT_PRICES, Budget, Usage
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
from ._search import Evaluated, SearchResult
from ._session import RunResult
from ._store import ResumeError

__all__ = [
    "DEFAULT_PRICES",
    "Budget",
    "Evaluated",
    "ImprovementProbability",
    "LLMOptimizer",
    "MetaOptimizer",
    "OptimizationInfo",
    "OptimizationResult",
    "OptimizationStep",
    "ResumeError",
    "RunResult",
    "SearchResult",
    "TaskInfo",
    "TaskReflection",
    "TaskRun",
    "Usage",
    "blackbox",
    "judge",
    "opro",
    "optimize_hyperparameters",
    "sandbox",
    "textgrad",
]
