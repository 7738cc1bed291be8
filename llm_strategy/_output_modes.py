"""Output modes: how a call asks for its typed output, and how a reply becomes that output.

- `TextOutput`: a plain `str` return; no schema at all, the reply text is the value.
- `PromptOutput`: the output's outline travels in the prompt; the JSON is parsed from the text.
- `NativeOutput`: the provider's structured output (a JSON schema response format or a forced
  tool call, whichever the model's `with_structured_output` binds), strict where it can be;
  `ToolCallOutput` asks for the forced tool call explicitly.

A mode is chosen per call from the setting and the model, built once per call schema, and
knows the request kwargs it adds and how to read a reply. Every request also carries a
structured description (function, mode, reply schema) in its run metadata, so offline test
models answer from what is asked, not from our prompt's wording.
"""

from __future__ import annotations

import inspect
import threading
import warnings
import weakref
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from langchain_core.language_models import BaseChatModel, BaseLanguageModel, BaseLLM
from langchain_core.runnables import RunnableBinding
from pydantic import TypeAdapter, ValidationError

from ._parsing import RETURN_FIELD, ReplyError, extract_json, format_validation_error, parse_reply
from ._schema import strict_json_schema
from .errors import DefinitionError, ProviderError

if TYPE_CHECKING:
    from ._spec import CallSchema

__all__ = [
    "REQUEST_METADATA_KEY",
    "NativeOutput",
    "OutputMode",
    "OutputModeRejected",
    "PromptOutput",
    "Reply",
    "TextOutput",
    "ToolCallOutput",
    "choose_output_mode",
    "fall_back_to_prompt",
]

REQUEST_METADATA_KEY = "llm_strategy_request"
"""The run-metadata key under which every request describes what it expects."""

ModeName = Literal["text", "prompt", "native", "tool_call"]
_TRUNCATED = frozenset({"length", "max_tokens", "MAX_TOKENS", "model_length"})
_FILTERED = frozenset({"content_filter", "SAFETY", "refusal"})


@dataclass(frozen=True)
class Reply:
    """What came back: text, a native reply's parsed object, usage, finish reason, refusal."""

    text: str
    data: Any = None
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    refusal: str | None = None
    model: str | None = None
    """The model that answered, as the provider names it."""

    @property
    def truncated(self) -> bool:
        """Whether the model stopped at its output token limit."""
        return self.finish_reason in _TRUNCATED

    @property
    def filtered(self) -> bool:
        """Whether a content filter stopped the reply."""
        return self.finish_reason in _FILTERED


class OutputMode(ABC):
    """One way of asking for and reading a call's output; one instance per call schema."""

    name: ClassVar[ModeName]
    describes_output: ClassVar[bool]
    """Whether the prompt carries the output's outline."""

    def __init__(self, schema: CallSchema) -> None:
        self.schema = schema
        self.metadata = {
            REQUEST_METADATA_KEY: {
                "function": schema.name,
                "mode": self.name,
                "reply_schema": self.reply_schema,
            }
        }

    @property
    def reply_schema(self) -> dict[str, Any] | None:
        """The JSON schema of exactly what a reply holds (None: free text)."""
        return None

    def request_kwargs(self, model: BaseLanguageModel[Any]) -> Mapping[str, Any]:
        """Keyword arguments this mode adds to the model call."""
        return {}

    @abstractmethod
    def value(self, reply: Reply, adapter: TypeAdapter[Any]) -> Any:
        """The validated output; `ReplyError` says what to fix."""


class TextOutput(OutputMode):
    """A `str` return: the reply is the value (an accidental `{"return_value": ...}` is unwrapped)."""

    name = "text"
    describes_output = False

    def value(self, reply: Reply, adapter: TypeAdapter[Any]) -> Any:
        text = reply.text.strip()
        if text.startswith("{") and f'"{RETURN_FIELD}"' in text[:200]:
            return parse_reply(text, adapter)
        try:
            return adapter.validate_python(text)
        except ValidationError as error:
            raise ReplyError(format_validation_error(error)) from error


class PromptOutput(OutputMode):
    """The outline is in the prompt; the reply's JSON envelope is found, repaired and validated."""

    name = "prompt"
    describes_output = True

    @property
    def reply_schema(self) -> dict[str, Any]:
        return self.schema.reply_schema

    def value(self, reply: Reply, adapter: TypeAdapter[Any]) -> Any:
        return parse_reply(reply.text, adapter)


class NativeOutput(OutputMode):
    """The provider's structured output; the schema travels in the request, not in the prompt."""

    name: ClassVar[ModeName] = "native"
    describes_output = False
    method: ClassVar[str | None] = None
    """The `method` passed to `with_structured_output` (None: the provider's default)."""

    def __init__(self, schema: CallSchema) -> None:
        super().__init__(schema)
        self._kwargs: dict[int, tuple[weakref.ref[Any], Mapping[str, Any]]] = {}
        self._lock = threading.Lock()

    @property
    def reply_schema(self) -> dict[str, Any]:
        return self.schema.native_schema

    def request_kwargs(self, model: BaseLanguageModel[Any]) -> Mapping[str, Any]:
        """What the model's own `with_structured_output` binds; derived once per model instance."""
        cached = self._kwargs.get(id(model))
        if cached is not None and cached[0]() is model:
            return cached[1]
        assert isinstance(model, BaseChatModel), "native output is only chosen for chat models"
        kwargs = native_request_kwargs(model, self.schema, self.method)
        with self._lock:
            self._kwargs[id(model)] = (weakref.ref(model), kwargs)
        weakref.finalize(model, self._kwargs.pop, id(model), None)
        return kwargs

    def value(self, reply: Reply, adapter: TypeAdapter[Any]) -> Any:
        if self.schema.native_enveloped:
            return parse_reply(reply.text, adapter, data=reply.data)
        data = reply.data if reply.data is not None else extract_json(reply.text)
        if isinstance(data, dict) and data.keys() == {RETURN_FIELD}:
            data = data[RETURN_FIELD]  # the envelope anyway: a server that ignored the schema
        try:
            return adapter.validate_python(data)
        except ValidationError as error:
            raise ReplyError(format_validation_error(error)) from error


class ToolCallOutput(NativeOutput):
    """Native output through a forced tool call, for providers whose JSON-schema mode is missing."""

    name = "tool_call"
    method = "function_calling"


def native_request_kwargs(model: BaseChatModel, schema: CallSchema, method: str | None) -> Mapping[str, Any]:
    """The request kwargs of the model's structured output for the schema, strict where supported."""
    options: dict[str, Any] = {}
    sent = schema.native_schema
    parameters = _structured_output_parameters(type(model))
    if method is not None:
        if "method" not in parameters:
            raise _NoNativeOutput(
                f"{type(model).__name__}.with_structured_output has no `method` to ask for {method}"
            )
        options["method"] = method
    if "strict" in parameters:
        strict = strict_json_schema(sent)
        if strict is not None:
            sent, options["strict"] = strict, True
    try:
        structured = model.with_structured_output(sent, **options)
    except (NotImplementedError, ValueError, TypeError) as error:
        raise _NoNativeOutput(f"{type(model).__name__}.with_structured_output: {error}") from error
    binding = getattr(structured, "first", structured)
    if not isinstance(binding, RunnableBinding) or binding.bound is not model:
        raise _NoNativeOutput(f"{type(model).__name__}.with_structured_output does not bind request kwargs")
    return dict(binding.kwargs)


def _structured_output_parameters(kind: type[BaseChatModel]) -> Mapping[str, Any]:
    return inspect.signature(kind.with_structured_output).parameters


class _NoNativeOutput(Exception):
    """The model's structured output cannot be expressed as request kwargs."""


class OutputModeRejected(ProviderError):
    """The server refused the native output request (its response format or tools)."""


def supports_native_output(model: BaseLanguageModel[Any]) -> bool:
    """Whether the chat model offers native structured output, from its profile or its class."""
    if not isinstance(model, BaseChatModel):
        return False
    profile = model.profile or {}
    if "structured_output" in profile:
        return bool(profile["structured_output"])
    kind = type(model)
    return (
        kind.with_structured_output is not BaseChatModel.with_structured_output
        or kind.bind_tools is not BaseChatModel.bind_tools
    )


@dataclass
class _Refusals:
    """Model instances whose server refused native output: prompt mode from then on (weakly held)."""

    models: dict[int, weakref.ref[Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __contains__(self, model: object) -> bool:
        held = self.models.get(id(model))
        return held is not None and held() is model

    def add(self, model: object) -> bool:
        """Remember the model; whether it is new."""
        with self.lock:
            if model in self:
                return False
            self.models[id(model)] = weakref.ref(model)
        weakref.finalize(model, self.models.pop, id(model), None)
        return True


_NATIVE_REFUSED = _Refusals()


def choose_output_mode(
    model: BaseLanguageModel[Any], schema: CallSchema, setting: str, name: str
) -> OutputMode:
    """The mode of a call from the `output_mode` setting, the output type and the model.

    `auto` asks natively for outputs that hold objects, where the model offers it and its
    server has not refused it; scalars and lists of them cost a quarter of the tokens in prompt
    mode and parse as reliably. A plain `str` is always text. Instances are cached per schema.
    """
    if schema.plain_text:
        kind: type[OutputMode] = TextOutput
    elif setting == "prompt" or (
        setting == "auto"
        and (not schema.structured or model in _NATIVE_REFUSED or not supports_native_output(model))
    ):
        kind = PromptOutput
    elif not supports_native_output(model):
        what = "a text-completion model" if isinstance(model, BaseLLM) else type(model).__name__
        raise DefinitionError(
            f"{name}: output_mode={setting!r} was forced, but {what} has no native structured output; "
            "use output_mode='auto' or 'prompt'."
        )
    else:
        native = _mode_for(schema, ToolCallOutput if setting == "tool_call" else NativeOutput)
        try:
            native.request_kwargs(model)  # derived now, once per model instance
        except _NoNativeOutput as error:
            if setting == "auto":
                return _mode_for(schema, PromptOutput)
            raise DefinitionError(f"{name}: output_mode={setting!r} was forced, but {error}") from error
        return native
    return _mode_for(schema, kind)


def _mode_for(schema: CallSchema, kind: type[OutputMode]) -> OutputMode:
    mode = schema.rendered.get(kind)
    if mode is None:
        mode = schema.rendered[kind] = kind(schema)
    return mode


def fall_back_to_prompt(
    model: BaseLanguageModel[Any], mode: OutputMode, error: OutputModeRejected
) -> OutputMode:
    """Prompt mode for this model instance from now on; warns once per model instance."""
    if _NATIVE_REFUSED.add(model):
        warnings.warn(
            f"{mode.schema.name}: the server refused native structured output "
            f"(status {error.status_code}); {type(model).__name__} uses prompt mode from now on. "
            "Set LLMSettings(output_mode='prompt') to skip the failed request.",
            RuntimeWarning,
            stacklevel=2,
        )
    return _mode_for(mode.schema, PromptOutput)
