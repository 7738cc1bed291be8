"""llm-strategy: implement Python stubs, classes and dataclasses with LLMs.

Decorate a stub (a docstring, type hints and `raise NotImplementedError`) and a model
implements it: the prompt comes from the name, docstring, types and arguments; the reply
is parsed and validated into the declared return type.

Public names load on first use, so `import llm_strategy` stays light; langchain-core is
imported by the first name that needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._cache import SQLiteResponseCache, enable_response_cache
    from ._decorators import llm_dataclass, llm_explicit_function, llm_function, llm_strategy
    from ._function import LLMFunction
    from ._models import resolve_model
    from ._settings import LLMSettings
    from .chat_chain import ChatChain
    from .errors import (
        ArgumentError,
        DefinitionError,
        LLMCallError,
        ModelRefusalError,
        OutputParseError,
        OutputTruncatedError,
        ParseAttempt,
        ProviderError,
        TypeVarBindingError,
    )

_EXPORTS = {
    "ArgumentError": "errors",
    "ChatChain": "chat_chain",
    "DefinitionError": "errors",
    "LLMCallError": "errors",
    "LLMFunction": "_function",
    "LLMSettings": "_settings",
    "ModelRefusalError": "errors",
    "OutputParseError": "errors",
    "OutputTruncatedError": "errors",
    "ParseAttempt": "errors",
    "ProviderError": "errors",
    "SQLiteResponseCache": "_cache",
    "TypeVarBindingError": "errors",
    "enable_response_cache": "_cache",
    "llm_dataclass": "_decorators",
    "llm_explicit_function": "_decorators",
    "llm_function": "_decorators",
    "llm_strategy": "_decorators",
    "resolve_model": "_models",
}

__all__ = [
    "ArgumentError",
    "ChatChain",
    "DefinitionError",
    "LLMCallError",
    "LLMFunction",
    "LLMSettings",
    "ModelRefusalError",
    "OutputParseError",
    "OutputTruncatedError",
    "ParseAttempt",
    "ProviderError",
    "SQLiteResponseCache",
    "TypeVarBindingError",
    "enable_response_cache",
    "llm_dataclass",
    "llm_explicit_function",
    "llm_function",
    "llm_strategy",
    "resolve_model",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llm_strategy' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
