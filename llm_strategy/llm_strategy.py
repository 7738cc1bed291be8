"""The 2.2.0 module path `llm_strategy.llm_strategy`: aliases of `llm_strategy`, `llm_dataclass`."""

from ._decorators import llm_dataclass, llm_strategy

__all__ = ["llm_dataclass", "llm_strategy"]
