"""llm-strategy: implement Python stubs, classes and dataclasses with LLMs.

Decorate a stub (a docstring, type hints and `raise NotImplementedError`) and a model
implements it: the prompt comes from the name, docstring, types and arguments; the reply
is parsed and validated into the declared return type.

Public names load on first use, so `import llm_strategy` stays light; langchain-core is
imported by the first name that needs it. `settings` is the library-wide `LLMSettings` as a
tracked entry: `hparams[llm_strategy.settings].max_attempts = 5`. The 2.2.0 module paths
`llm_strategy.llm_function`, `llm_strategy.llm_strategy` and `llm_strategy.adapters` are aliases.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._adapters import ChatModelAsLLM, LLMAsChatModel
    from ._cache import SQLiteResponseCache, enable_response_cache
    from ._decorators import llm_dataclass, llm_explicit_function, llm_function, llm_strategy
    from ._function import LLMFunction
    from ._models import resolve_model
    from ._settings import SETTINGS as settings
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
    "ChatModelAsLLM": "_adapters",
    "DefinitionError": "errors",
    "LLMAsChatModel": "_adapters",
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
    "settings": "_settings:SETTINGS",
}

__all__ = [
    "ArgumentError",
    "ChatChain",
    "ChatModelAsLLM",
    "DefinitionError",
    "LLMAsChatModel",
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
    "settings",
]


def __getattr__(name: str) -> Any:
    source = _EXPORTS.get(name)
    if source is None:
        raise AttributeError(f"module 'llm_strategy' has no attribute {name!r}")
    module, _, attribute = source.partition(":")
    return getattr(importlib.import_module(f".{module}", __name__), attribute or name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
