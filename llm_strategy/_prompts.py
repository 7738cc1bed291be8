"""Messages of a call: the instructions rendered from the settings, the arguments, the retries."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from ._arguments import arguments_json
from ._output_modes import OutputMode
from ._parsing import excerpt
from ._settings import LLMSettings
from ._spec import CallSchema

__all__ = [
    "call_messages",
    "render_arguments",
    "reply_instruction",
    "retry_messages",
]


def _instructions(schema: CallSchema, settings: LLMSettings, output: OutputMode) -> SystemMessage:
    """The instructions of a call; they depend only on the definition, so they are rendered once."""
    key = (settings.instructions, settings.reply_format, settings.text_format, output.name)
    message = schema.rendered.get(key)
    if message is None:
        definitions = schema.definitions if output.instruction == "outline" else schema.input_definitions
        schema_lines = "\n".join([*definitions, schema.input_outline])
        text = settings.instructions.format(name=schema.name, docstring=schema.docstring, schema=schema_lines)
        reply = reply_instruction(schema, settings, output)
        message = schema.rendered[key] = SystemMessage(f"{text}\n{reply}" if reply else text)
    return message


def reply_instruction(schema: CallSchema, settings: LLMSettings, output: OutputMode) -> str:
    """How to answer, as the mode asks: the JSON envelope around the output's outline, plain text,
    or nothing (native output carries its schema in the request)."""
    if output.instruction == "outline":
        text = settings.reply_format.format(output=schema.output_outline)
    elif output.instruction == "text":
        text = settings.text_format
    else:
        return ""
    return f"{text} // {schema.output_comment}" if schema.output_comment and text else text


def call_messages(
    schema: CallSchema,
    arguments_json: str,
    settings: LLMSettings,
    *,
    output: OutputMode,
    in_conversation: bool,
) -> tuple[BaseMessage, ...]:
    """The messages of a call: the instructions, then the arguments as one JSON object.

    Inside an existing conversation the instructions travel in the user message, since a
    system message in the middle of a chat is not portable.
    """
    instructions = _instructions(schema, settings, output)
    if in_conversation:
        return (HumanMessage(f"{instructions.text}\n{arguments_json}"),)
    return (instructions, HumanMessage(arguments_json))


def retry_messages(reply: str, error: str, settings: LLMSettings) -> list[BaseMessage]:
    """The rejected reply (head and tail when long) and the reason, appended for the next attempt."""
    quoted = excerpt(reply, settings.retry_excerpt_chars)
    return [AIMessage(quoted), HumanMessage(settings.retry.format(error=error))]


def render_arguments(schema: CallSchema, value: Any, settings: LLMSettings) -> str:
    """The input value as JSON, compact unless an indent is set; checked first (`ArgumentError`)."""
    return arguments_json(schema, value, settings.json_indent)
