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
import re
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

from ._parsing import (
    RETURN_FIELD,
    ReplyError,
    extract_json,
    format_validation_error,
    parse_reply,
    valid_unicode,
)
from ._schema import strict_json_schema
from .errors import DefinitionError, ModelRefusalError, OutputTruncatedError, ProviderError

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
    "check_reply",
    "choose_output_mode",
    "fall_back_to_prompt",
    "rejection_of",
    "sent_schema",
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", valid_unicode(self.text))  # traced and read as valid text
        object.__setattr__(self, "data", valid_unicode(self.data))

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
    instruction: ClassVar[Literal["outline", "text", "none"]]
    """What the prompt says about the output: its outline, "reply with text", or nothing."""

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
    instruction = "text"

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
    instruction = "outline"

    @property
    def reply_schema(self) -> dict[str, Any]:
        return self.schema.reply_schema

    def value(self, reply: Reply, adapter: TypeAdapter[Any]) -> Any:
        return parse_reply(reply.text, adapter)


class NativeOutput(OutputMode):
    """The provider's structured output; the schema travels in the request, not in the prompt."""

    name: ClassVar[ModeName] = "native"
    instruction = "none"
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
        if not isinstance(model, BaseChatModel):
            raise _NoNativeOutput(f"{type(model).__name__} is not a chat model")
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


def sent_schema(kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    """The JSON schema inside native request kwargs: a response format's, or the forced tool's."""
    response_format = kwargs.get("response_format")
    if isinstance(response_format, Mapping):
        schema = (response_format.get("json_schema") or {}).get("schema")
        if schema is not None:
            return dict(schema)
    for tool in kwargs.get("tools") or ():
        parameters = (tool.get("function") or {}).get("parameters") if isinstance(tool, Mapping) else None
        if parameters is not None:
            return dict(parameters)
    return None


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


_REJECTED_STATUS = frozenset({400, 404, 415, 422, 500, 501})
_NATIVE_PART = re.compile(r"response_format|json_schema|tool_choice|\btools?\b|structured output", re.I)
_REFUSAL = re.compile(
    r"not (?:be )?supported|unsupported|does not support|doesn't support|Unrecognized request argument"
    r"|Extra inputs are not permitted|unknown (?:field|parameter|argument)|unexpected keyword"
    r"|Input should be 'text' or 'json_object'",
    re.I,
)


def rejection_of(
    output: OutputMode | None, status: int | None, message: str
) -> type[OutputModeRejected] | None:
    """`OutputModeRejected` when a failed native request says its server does not take that kind of request.

    Only a refusal counts (a 4xx or 5xx naming the response format or tools together with words
    like "not supported", or llama-cpp-python's "Input should be 'text' or 'json_object'"); an
    invalid schema, a context overflow or a passing server error is an ordinary `ProviderError`.
    """
    if not isinstance(output, NativeOutput) or status not in _REJECTED_STATUS:
        return None
    if _NATIVE_PART.search(message) and _REFUSAL.search(message):
        return OutputModeRejected
    return None


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
    """Servers that refused native output: prompt mode for them from then on.

    A model that names its server (base URL or model name) is remembered by (client class, base
    URL, model name), so a `"provider:model"` string resolved anew for every call does not ask
    again; any other model is remembered as that instance (weakly). Process-wide, like the
    server's answer.
    """

    servers: set[tuple[str, str, str]] = field(default_factory=set)
    instances: dict[int, weakref.ref[Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __contains__(self, model: BaseLanguageModel[Any]) -> bool:
        server = _server_of(model)
        if server is not None:
            return server in self.servers
        held = self.instances.get(id(model))
        return held is not None and held() is model

    def add(self, model: BaseLanguageModel[Any]) -> bool:
        """Remember the model's server; whether it is new."""
        with self.lock:
            if model in self:
                return False
            server = _server_of(model)
            if server is not None:
                self.servers.add(server)
                return True
            self.instances[id(model)] = weakref.ref(model)
        weakref.finalize(model, self.instances.pop, id(model), None)
        return True


def _server_of(model: BaseLanguageModel[Any]) -> tuple[str, str, str] | None:
    fields = vars(model)
    base = fields.get("openai_api_base") or fields.get("base_url") or fields.get("api_base") or ""
    name = fields.get("model_name") or fields.get("model") or ""
    return (type(model).__qualname__, str(base), str(name)) if base or name else None


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
        return _mode_for(schema, TextOutput)
    if setting == "prompt":
        return _mode_for(schema, PromptOutput)
    supported = supports_native_output(model)
    if setting == "auto" and (not schema.structured or not supported or model in _NATIVE_REFUSED):
        return _mode_for(schema, PromptOutput)
    if not supported:
        what = "a text-completion model" if isinstance(model, BaseLLM) else type(model).__name__
        raise DefinitionError(
            f"{name}: output_mode={setting!r} was forced, but {what} has no native structured output; "
            "use output_mode='auto' or 'prompt'."
        )
    native = _mode_for(schema, ToolCallOutput if setting == "tool_call" else NativeOutput)
    try:
        native.request_kwargs(model)  # derived now, once per model instance
    except _NoNativeOutput as error:
        if setting == "auto":
            return _mode_for(schema, PromptOutput)
        raise DefinitionError(f"{name}: output_mode={setting!r} was forced, but {error}") from error
    return native


def _mode_for(schema: CallSchema, kind: type[OutputMode]) -> OutputMode:
    mode = schema.rendered.get(kind)
    if mode is None:
        mode = schema.rendered[kind] = kind(schema)
    return mode


def check_reply(name: str, model: BaseLanguageModel[Any], reply: Reply) -> None:
    """Raise for a reply that holds no answer: a refusal, a content filter, a cut-off at the token limit."""
    if reply.refusal or reply.filtered:
        raise ModelRefusalError(name, reply.refusal or f"finish reason {reply.finish_reason!r}")
    if reply.truncated:
        raise OutputTruncatedError(
            name, limit=_output_limit(model), finish_reason=reply.finish_reason or "", reply=reply.text
        )


def _output_limit(model: BaseLanguageModel[Any]) -> int | None:
    """The output token limit the model object carries, under any of the usual names."""
    fields = vars(model)
    for key in ("max_tokens", "max_completion_tokens", "max_output_tokens", "num_predict"):
        if isinstance(fields.get(key), int):
            return int(fields[key])
    return None


def fall_back_to_prompt(
    model: BaseLanguageModel[Any], mode: OutputMode, error: OutputModeRejected
) -> OutputMode:
    """Prompt mode for this model's server from now on; warns once per server."""
    if _NATIVE_REFUSED.add(model):
        warnings.warn(
            f"{mode.schema.name}: the server refused native structured output "
            f"(status {error.status_code}); {type(model).__name__} uses prompt mode for it from now on. "
            "Set LLMSettings(output_mode='prompt') to skip the failed request.",
            RuntimeWarning,
            stacklevel=2,
        )
    return _mode_for(mode.schema, PromptOutput)
