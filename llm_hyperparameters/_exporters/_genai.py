"""Our spans as OpenTelemetry attributes: GenAI semantic conventions v1.37.0, OpenInference alongside.

LLM requests get `gen_ai.*` attributes (operation, provider, models, request parameters, finish
reasons, token usage; messages and the output schema only when content is captured) and the
OpenInference ones Arize Phoenix reads; other spans get their function, changed hyperparameters,
attempts and optimization ids. Everything passes through the given `Redactor`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from openinference.semconv.trace import (
    MessageAttributes,
    OpenInferenceLLMProviderValues,
    OpenInferenceMimeTypeValues,
    OpenInferenceSpanKindValues,
    SpanAttributes,
)

from .._redaction import Redactor
from .._tracing import Span
from .._tracking import registered_entry

if TYPE_CHECKING:
    from opentelemetry.util.types import AttributeValue

__all__ = ["SEMCONV_VERSION", "GenAI", "attributes_of", "learnable", "span_name"]

SEMCONV_VERSION = "1.37.0"
"""The GenAI semantic conventions version the `gen_ai.*` attribute names follow."""


class GenAI:
    """The attribute names of the pinned conventions version (the set sent is pinned by a test)."""

    OPERATION_NAME = "gen_ai.operation.name"
    PROVIDER_NAME = "gen_ai.provider.name"
    REQUEST_MODEL = "gen_ai.request.model"
    RESPONSE_MODEL = "gen_ai.response.model"
    REQUEST_TEMPERATURE = "gen_ai.request.temperature"
    REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
    REQUEST_TOP_P = "gen_ai.request.top_p"
    REQUEST_TOP_K = "gen_ai.request.top_k"
    REQUEST_SEED = "gen_ai.request.seed"
    REQUEST_FREQUENCY_PENALTY = "gen_ai.request.frequency_penalty"
    REQUEST_PRESENCE_PENALTY = "gen_ai.request.presence_penalty"
    REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
    RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
    USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
    USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
    OUTPUT_TYPE = "gen_ai.output.type"
    INPUT_MESSAGES = "gen_ai.input.messages"
    OUTPUT_MESSAGES = "gen_ai.output.messages"
    SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
    ERROR_TYPE = "error.type"
    CODE_FUNCTION_NAME = "code.function.name"


OURS = "llm_strategy"
"""The prefix of our own attributes: span kind, hyperparameters, output schema, span attributes."""

_REQUEST_PARAMETERS = {
    "temperature": GenAI.REQUEST_TEMPERATURE,
    "max_tokens": GenAI.REQUEST_MAX_TOKENS,
    "top_p": GenAI.REQUEST_TOP_P,
    "top_k": GenAI.REQUEST_TOP_K,
    "seed": GenAI.REQUEST_SEED,
    "frequency_penalty": GenAI.REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": GenAI.REQUEST_PRESENCE_PENALTY,
    "stop": GenAI.REQUEST_STOP_SEQUENCES,
}
# What the LLM span attributes become; the keys not listed here go out as `llm_strategy.<key>`.
_LLM_KEYS = {
    "model", "provider", "params", "usage", "finish_reason", "operation", "response_model"
}  # fmt: skip
_SCHEMA = "output_schema"
_Provider = OpenInferenceLLMProviderValues
# langchain's provider names (`_llm_type` without "chat", or `ls_provider`) -> GenAI, OpenInference
_PROVIDERS: dict[str, tuple[str, _Provider | None]] = {
    "openai": ("openai", _Provider.OPENAI),
    "azure": ("azure.ai.openai", _Provider.AZURE),
    "azure-openai": ("azure.ai.openai", _Provider.AZURE),
    "anthropic": ("anthropic", _Provider.ANTHROPIC),
    "google-genai": ("gcp.gemini", _Provider.GOOGLE),
    "google-generative-ai": ("gcp.gemini", _Provider.GOOGLE),
    "google-vertexai": ("gcp.vertex_ai", _Provider.GOOGLE),
    "vertexai": ("gcp.vertex_ai", _Provider.GOOGLE),
    "amazon-bedrock": ("aws.bedrock", _Provider.AWS),
    "bedrock": ("aws.bedrock", _Provider.AWS),
    "mistralai": ("mistral_ai", _Provider.MISTRALAI),
    "groq": ("groq", None),
    "deepseek": ("deepseek", None),
    "xai": ("x_ai", None),
    "cohere": ("cohere", _Provider.COHERE),
    "perplexity": ("perplexity", None),
    "ollama": ("ollama", None),
    "fireworks": ("fireworks", None),
    "together": ("together", None),
}
_ROLES = {"human": "user", "ai": "assistant", "prompt": "user", "function": "tool", "chat": "user"}


def span_name(span: Span) -> str:
    if span.kind != "llm":
        return span.name
    return f"{_operation(span)} {_model(span)}"


def _operation(span: Span) -> str:
    return str(span.attributes.get("operation") or "chat")


def _model(span: Span) -> str:
    return str(span.attributes.get("model") or span.name)


def _messages(span: Span) -> list[Mapping[str, Any]]:
    inputs = span.inputs if isinstance(span.inputs, Mapping) else {}
    messages = inputs.get("messages")
    if not isinstance(messages, list):
        return []
    return [message for message in messages if isinstance(message, Mapping)]


def learnable(span: Span, *, ended: bool = False) -> list[Any]:
    """What the redactor learns secret values from (only what is new when a seen span ends).

    Of a request only its parameters: its messages' keys are roles and contents, its schema's
    are field names, and what it gains when it ends is the reply and token counts.
    """
    if span.kind == "llm":
        return [] if ended else [span.attributes.get("params")]
    if ended:
        return [span.outputs, span.attributes]
    return [span.inputs, span.outputs, span.hyperparameters, span.attributes]


def attributes_of(span: Span, capture: bool, redactor: Redactor) -> dict[str, AttributeValue]:
    """The span's attributes: conventions first, then ours; content only when captured."""
    # the output schema (large, and content) is cleaned only when it is sent
    recorded = redactor.clean({key: value for key, value in span.attributes.items() if key != _SCHEMA})
    found: dict[str, AttributeValue] = {f"{OURS}.span.kind": span.kind}
    if span.kind == "llm":
        found.update(_llm_attributes(span, recorded, capture, redactor))
        recorded = {key: value for key, value in recorded.items() if key not in _LLM_KEYS}
    else:
        found[SpanAttributes.OPENINFERENCE_SPAN_KIND] = OpenInferenceSpanKindValues.CHAIN.value
        if span.kind == "function":
            found[GenAI.CODE_FUNCTION_NAME] = redactor.text(span.name)
        if capture:
            found.update(
                _values(SpanAttributes.INPUT_VALUE, SpanAttributes.INPUT_MIME_TYPE, span.inputs, redactor)
            )
            found.update(
                _values(SpanAttributes.OUTPUT_VALUE, SpanAttributes.OUTPUT_MIME_TYPE, span.outputs, redactor)
            )
    hyperparameters = _changed_hyperparameters(span)
    if hyperparameters:
        found[f"{OURS}.hyperparameters"] = _json(redactor.clean(hyperparameters))
    if span.error is not None:
        found[GenAI.ERROR_TYPE] = span.error.type
    _flatten(OURS, recorded, found)
    return found


def _llm_attributes(
    span: Span, recorded: dict[str, Any], capture: bool, redactor: Redactor
) -> dict[str, AttributeValue]:
    model = redactor.text(_model(span))
    found: dict[str, AttributeValue] = {
        GenAI.OPERATION_NAME: _operation(span),
        GenAI.REQUEST_MODEL: model,
        GenAI.RESPONSE_MODEL: str(recorded.get("response_model") or model),
        SpanAttributes.OPENINFERENCE_SPAN_KIND: OpenInferenceSpanKindValues.LLM.value,
        SpanAttributes.LLM_MODEL_NAME: model,
    }
    provider = recorded.get("provider")
    if provider:
        name, openinference = _provider(str(provider))
        found[GenAI.PROVIDER_NAME] = name
        if openinference is not None:
            found[SpanAttributes.LLM_PROVIDER] = openinference.value
    parameters = recorded.get("params") or {}
    for key, value in parameters.items():
        if key in _REQUEST_PARAMETERS:
            converted = _attribute_value([value] if key == "stop" and isinstance(value, str) else value)
            if converted is not None:
                found[_REQUEST_PARAMETERS[key]] = converted
    if parameters:
        found[SpanAttributes.LLM_INVOCATION_PARAMETERS] = _json(parameters)
    finish_reasons = recorded.get("finish_reason")
    if finish_reasons:
        reasons = finish_reasons if isinstance(finish_reasons, list) else [finish_reasons]
        found[GenAI.RESPONSE_FINISH_REASONS] = [str(reason) for reason in reasons]
    usage = recorded.get("usage") or {}
    for key, attributes in (
        ("input_tokens", (GenAI.USAGE_INPUT_TOKENS, SpanAttributes.LLM_TOKEN_COUNT_PROMPT)),
        ("output_tokens", (GenAI.USAGE_OUTPUT_TOKENS, SpanAttributes.LLM_TOKEN_COUNT_COMPLETION)),
        ("total_tokens", (SpanAttributes.LLM_TOKEN_COUNT_TOTAL,)),
    ):
        if isinstance(usage.get(key), int):
            found.update(dict.fromkeys(attributes, usage[key]))
    if span.attributes.get(_SCHEMA) is not None:
        found[GenAI.OUTPUT_TYPE] = "json"
    if capture:
        found.update(_content(span, recorded, redactor))
    return found


def _provider(recorded: str) -> tuple[str, _Provider | None]:
    """The GenAI and OpenInference names of a provider as langchain names it."""
    name = recorded.lower().replace("_", "-").removeprefix("chat-").removesuffix("-chat")
    return _PROVIDERS.get(name, (name, None))


def _content(span: Span, recorded: dict[str, Any], redactor: Redactor) -> dict[str, AttributeValue]:
    """Messages sent, the reply and the output schema, in GenAI and OpenInference form."""
    found: dict[str, AttributeValue] = {}
    system: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    sent = redactor.clean(_messages(span))
    found[SpanAttributes.INPUT_VALUE] = _json({"messages": sent})
    found[SpanAttributes.INPUT_MIME_TYPE] = OpenInferenceMimeTypeValues.JSON.value
    for index, message in enumerate(sent):
        role = str(message.get("role"))
        role = _ROLES.get(role, role)
        parts = _parts(message.get("content"))
        if role == "system":
            system.extend(parts)
        else:
            messages.append({"role": role, "parts": parts})
        prefix = f"{SpanAttributes.LLM_INPUT_MESSAGES}.{index}"
        found[f"{prefix}.{MessageAttributes.MESSAGE_ROLE}"] = role
        found[f"{prefix}.{MessageAttributes.MESSAGE_CONTENT}"] = _text(message.get("content"))
    if system:
        found[GenAI.SYSTEM_INSTRUCTIONS] = _json(system)
    if messages:
        found[GenAI.INPUT_MESSAGES] = _json(messages)
    if span.outputs is not None:
        outputs = redactor.clean(span.outputs)
        reply = outputs.get("reply") if isinstance(outputs, dict) else outputs
        tool_calls = (outputs.get("tool_calls") if isinstance(outputs, dict) else None) or []
        parts = _parts(reply) if reply not in (None, "") else []
        parts += [_tool_call(call) for call in tool_calls if isinstance(call, dict)]
        reasons = recorded.get("finish_reason")
        reason = (reasons[0] if isinstance(reasons, list) and reasons else reasons) or (
            "tool_call" if tool_calls else "stop"
        )
        found[GenAI.OUTPUT_MESSAGES] = _json([{"role": "assistant", "parts": parts, "finish_reason": reason}])
        prefix = f"{SpanAttributes.LLM_OUTPUT_MESSAGES}.0"
        found[f"{prefix}.{MessageAttributes.MESSAGE_ROLE}"] = "assistant"
        found[f"{prefix}.{MessageAttributes.MESSAGE_CONTENT}"] = _text(reply)
        found[SpanAttributes.OUTPUT_VALUE] = _text(reply)
        found[SpanAttributes.OUTPUT_MIME_TYPE] = OpenInferenceMimeTypeValues.TEXT.value
    if span.attributes.get(_SCHEMA) is not None:
        found[f"{OURS}.output_schema"] = _json(redactor.clean(span.attributes[_SCHEMA]))
    return found


def _tool_call(call: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "tool_call",
        "id": call.get("id"),
        "name": call.get("name"),
        "arguments": call.get("args"),
    }


def _parts(content: Any) -> list[dict[str, Any]]:
    """GenAI message parts from langchain content: a string or a list of blocks."""
    if content is None:
        return []
    if not isinstance(content, list):
        return [{"type": "text", "content": content if isinstance(content, str) else _json(content)}]
    parts: list[dict[str, Any]] = []
    for block in content:
        if isinstance(block, str):
            parts.append({"type": "text", "content": block})
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append({"type": "text", "content": block.get("text", "")})
        elif isinstance(block, dict):
            parts.append(block)
    return parts


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content)
    return "" if content is None else _json(content)


def _values(value_key: str, mime_key: str, value: Any, redactor: Redactor) -> dict[str, AttributeValue]:
    """OpenInference's `input.value`/`output.value` and their mime type."""
    if value is None:
        return {}
    cleaned = redactor.clean(value)
    if isinstance(cleaned, str):
        return {value_key: cleaned, mime_key: OpenInferenceMimeTypeValues.TEXT.value}
    return {value_key: _json(cleaned), mime_key: OpenInferenceMimeTypeValues.JSON.value}


def _changed_hyperparameters(span: Span) -> dict[str, Any] | None:
    """The span's hyperparameters that differ from their defaults.

    Decorated LLM functions record only those already; a `@track_hyperparameters` call
    records every value in force, so its tracked entry's defaults are left out here.
    """
    values = span.hyperparameters
    if not values or span.kind != "function":
        return values
    tracked = registered_entry(span.name)
    if tracked is None:
        return values
    defaults = tracked.defaults.model_dump()
    return {key: value for key, value in values.items() if key not in defaults or defaults[key] != value}


def _flatten(prefix: str, value: Any, found: dict[str, AttributeValue]) -> None:
    """Nested mappings as dotted attribute names; values OpenTelemetry cannot hold as JSON text."""
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}", item, found)
        return
    converted = _attribute_value(value)
    if converted is not None:
        found[prefix] = converted


def _attribute_value(value: Any) -> AttributeValue | None:
    """A JSON-compatible value as an OpenTelemetry attribute value (None is left out)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list) and value:
        for kind in (str, bool, int):
            if all(type(item) is kind for item in value):
                return list(value)
        if all(type(item) in (int, float) for item in value):
            return [float(item) for item in value]
    return _json(value)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=repr)
