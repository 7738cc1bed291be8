"""Prompt settings and templates, and the messages they render for a call."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field

from .spec import CallSchema

__all__ = [
    "LLMSettings",
    "OutputMode",
    "call_messages",
    "render_arguments",
    "reply_instruction",
    "retry_messages",
]

OutputMode = Literal["auto", "native", "prompt"]


class LLMSettings(BaseModel):
    """How calls are prompted and retried. Every field has a working default.

    Example:
        ```python
        @llm_function(settings=LLMSettings(max_attempts=5, output_mode="prompt"))
        def add(model, a: int, b: int) -> int:
            \"\"\"Add two numbers.\"\"\"
            raise NotImplementedError
        ```
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    instructions: str = Field(
        "{name}: {docstring}\n{schema}",
        description="The static prompt: the function's name, docstring and schema outline.",
    )
    reply_format: str = Field(
        'Reply with JSON {{"return_value": {output}}}',
        description="Ends the instructions when the output is parsed from text; `{output}` is its outline.",
    )
    retry: str = Field(
        "Invalid reply:\n{error}\nReply again, fixed.",
        description="Sent after a reply that failed to parse or validate; `{error}` is the reason.",
    )
    max_attempts: int = Field(3, ge=1, description="Replies requested before giving up.")
    output_mode: OutputMode = Field(
        "auto",
        description="`native` structured output, `prompt` + parse, or `auto`: native where supported.",
    )
    json_indent: int | None = Field(None, ge=0, description="Indentation of argument JSON; None is compact.")


def _instructions(schema: CallSchema, settings: LLMSettings, native: bool) -> SystemMessage:
    """The instructions of a call; they depend only on the definition, so they are rendered once."""
    key = (settings, native)
    message = schema.rendered.get(key)
    if message is None:
        schema_lines = "\n".join([*schema.definitions, schema.input_outline])
        text = settings.instructions.format(name=schema.name, docstring=schema.docstring, schema=schema_lines)
        if not native:
            text += "\n" + reply_instruction(schema, settings)
        message = schema.rendered[key] = SystemMessage(text)
    return message


def reply_instruction(schema: CallSchema, settings: LLMSettings) -> str:
    """How to answer in prompt mode: the JSON envelope around the output's outline."""
    text = settings.reply_format.format(output=schema.output_outline)
    return f"{text} // {schema.output_comment}" if schema.output_comment else text


def call_messages(
    schema: CallSchema, arguments_json: str, settings: LLMSettings, *, native: bool, in_conversation: bool
) -> list[BaseMessage]:
    """The messages of a call: the instructions, then the arguments as one JSON object.

    Inside an existing conversation the instructions travel in the user message, since a
    system message in the middle of a chat is not portable.
    """
    instructions = _instructions(schema, settings, native)
    if in_conversation:
        return [HumanMessage(f"{instructions.text}\n{arguments_json}")]
    return [instructions, HumanMessage(arguments_json)]


def retry_messages(reply: str, error: str, settings: LLMSettings) -> list[BaseMessage]:
    """The rejected reply and the reason, appended to the conversation for the next attempt."""
    return [AIMessage(reply), HumanMessage(settings.retry.format(error=error))]


def render_arguments(schema: CallSchema, value: Any, settings: LLMSettings) -> str:
    """The input value as JSON, compact unless an indent is set."""
    return schema.input_adapter.dump_json(value, indent=settings.json_indent, fallback=repr).decode()
