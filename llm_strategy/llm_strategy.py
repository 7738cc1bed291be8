"""The 2.2.0 module path `llm_strategy.llm_strategy`: aliases of `llm_strategy`, `llm_dataclass`."""

from llm_hyperparameters._aliases import keep_package_name

from ._decorators import llm_dataclass, llm_strategy

keep_package_name(__name__)  # the package keeps its own name for the function

__all__ = ["llm_dataclass", "llm_strategy"]
