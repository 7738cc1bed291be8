"""The 2.2.0 module path `llm_strategy.llm_function`: aliases of `llm_strategy.llm_function` and friends."""

from llm_hyperparameters._aliases import keep_package_name

from ._decorators import llm_explicit_function, llm_function
from ._function import LLMFunction

keep_package_name(__name__)  # the package keeps its own name for the function

__all__ = ["LLMFunction", "llm_explicit_function", "llm_function"]
