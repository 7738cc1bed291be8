"""llm-strategy: implement Python stubs, classes and dataclasses with LLMs.

Decorate a stub (a docstring, type hints and `raise NotImplementedError`) and a model
implements it: the prompt comes from the name, docstring, types and arguments; the reply
is parsed and validated into the declared return type.
"""

from .cache import SQLiteResponseCache, enable_response_cache
from .chat_chain import ChatChain
from .decorators import llm_dataclass, llm_explicit_function, llm_function, llm_strategy
from .errors import DefinitionError, LLMCallError, OutputParseError, ParseAttempt, ProviderError, TypeVarBindingError
from .function import LLMFunction
from .models import resolve_model
from .prompts import LLMSettings

__all__ = [
    "ChatChain",
    "DefinitionError",
    "LLMCallError",
    "LLMFunction",
    "LLMSettings",
    "OutputParseError",
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
