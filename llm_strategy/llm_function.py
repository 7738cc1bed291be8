"""The 2.2.0 module path `llm_strategy.llm_function`: aliases of `llm_strategy.llm_function` and friends."""

from ._decorators import llm_explicit_function, llm_function
from ._function import LLMFunction

__all__ = ["LLMFunction", "llm_explicit_function", "llm_function"]
