"""Optimizers built on the decorators: the meta-optimizer of the original package, with its schemas.

Nothing below `llm_strategy.optimization` imports it; it is the top floor.
"""

from .budget import DEFAULT_PRICES, Budget, Usage
from .meta import MetaOptimizer, OptimizationResult, optimize_hyperparameters
from .optimizer import LLMOptimizer
from .schemas import (
    ImprovementProbability,
    OptimizationInfo,
    OptimizationStep,
    TaskInfo,
    TaskReflection,
    TaskRun,
)
from .store import ResumeError

__all__ = [
    "DEFAULT_PRICES",
    "Budget",
    "ImprovementProbability",
    "LLMOptimizer",
    "MetaOptimizer",
    "OptimizationInfo",
    "OptimizationResult",
    "OptimizationStep",
    "ResumeError",
    "TaskInfo",
    "TaskReflection",
    "TaskRun",
    "Usage",
    "optimize_hyperparameters",
]
