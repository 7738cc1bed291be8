"""The 2.2.0 module path `llm_strategy.adapters`: aliases of `ChatModelAsLLM` and `LLMAsChatModel`."""

from ._adapters import ChatModelAsLLM, LLMAsChatModel

__all__ = ["ChatModelAsLLM", "LLMAsChatModel"]
