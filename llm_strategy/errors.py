"""The error hierarchy: mistakes in the user's definitions versus model failures at run time.

```
TypeError
├── DefinitionError           the code we were given cannot be implemented (names the fix)
│   └── TypeVarBindingError   call arguments bind a type variable inconsistently, or not at all
└── ArgumentError             a call's arguments do not fit the parameters or cannot be sent as JSON
Exception
└── LLMCallError              the model misbehaved while a call ran
    ├── OutputParseError      no reply could be parsed and validated; carries every reply and error
    ├── OutputTruncatedError  the reply hit the output token limit (retrying would cut it again)
    ├── ModelRefusalError     the model refused to answer; carries the refusal text
    └── ProviderError         the provider or its client failed (HTTP status, timeout, connection,
                              a reply that is not a completion); says whether a retry may help
```

`DefinitionError` is `llm_hyperparameters.DefinitionError`: one `except` covers both packages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from llm_hyperparameters._errors import DefinitionError

__all__ = [
    "ArgumentError",
    "DefinitionError",
    "LLMCallError",
    "ModelRefusalError",
    "OutputParseError",
    "OutputTruncatedError",
    "ParseAttempt",
    "ProviderError",
    "TypeVarBindingError",
]


class TypeVarBindingError(DefinitionError):
    """The arguments of a call bind a type variable to two types, or leave it unbound."""


class ArgumentError(TypeError):
    """The arguments of a call do not fit its parameters; raised before anything is sent.

    The message names the function, the parameter and the expected type: a value that does not
    validate, one JSON cannot carry (bytes that are not UTF-8, a lone surrogate, a cycle, nesting
    too deep), a missing model or a missing argument.
    """

    def __init__(self, message: str, *, function_name: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.function_name = function_name
        self.parameter = parameter


class LLMCallError(Exception):
    """A model call failed at run time."""


@dataclass(frozen=True)
class ParseAttempt:
    """One model reply and why it was rejected."""

    reply: str
    error: str


class OutputParseError(LLMCallError):
    """Every attempt returned output that could not be parsed or validated.

    `attempts` holds each raw reply with the error it produced, in order.
    """

    def __init__(self, function_name: str, attempts: Sequence[ParseAttempt]) -> None:
        self.function_name = function_name
        self.attempts = tuple(attempts)
        last = self.attempts[-1].error if self.attempts else "no reply"
        super().__init__(
            f"{function_name}: no valid output after {len(self.attempts)} attempt(s); last error:\n{last}"
        )

    @property
    def replies(self) -> tuple[str, ...]:
        """The raw replies, one per attempt."""
        return tuple(attempt.reply for attempt in self.attempts)

    @property
    def errors(self) -> tuple[str, ...]:
        """The parse or validation error of each attempt."""
        return tuple(attempt.error for attempt in self.attempts)


class OutputTruncatedError(LLMCallError):
    """The reply stopped at the model's output token limit, so no value can be trusted.

    `limit` is the model's `max_tokens` setting (None when unset); `reply` the partial text.
    """

    def __init__(self, function_name: str, *, limit: int | None, finish_reason: str, reply: str) -> None:
        self.function_name = function_name
        self.limit = limit
        self.finish_reason = finish_reason
        self.reply = reply
        shown = f"max_tokens={limit}" if limit is not None else "the model's default output limit"
        super().__init__(
            f"{function_name}: the reply was cut off at {shown} (finish reason {finish_reason!r}); "
            "retrying would cut it again: raise the limit or ask for less output."
        )


class ModelRefusalError(LLMCallError):
    """The model declined to answer (an assistant refusal or a content filter); `refusal` says why."""

    def __init__(self, function_name: str, refusal: str) -> None:
        self.function_name = function_name
        self.refusal = refusal
        super().__init__(f"{function_name}: the model refused: {refusal}")


class ProviderError(LLMCallError):
    """The model provider or its client failed; the original exception is the `__cause__`.

    `model` names the model, `status_code` is the HTTP status when there was one, and
    `retryable` says whether the same request may succeed later (429, 5xx, timeouts,
    connection errors). The message never holds a key: key-shaped strings are redacted.
    """

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        status_code: int | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.model = model
        self.status_code = status_code
        self.retryable = retryable
