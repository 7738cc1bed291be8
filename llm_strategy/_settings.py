"""The library's own knobs as tracked hyperparameters: `LLMSettings` library-wide, instructions per function.

Both live in `Hyperparameters` scopes like any tracked function's values, so an optimizer can
tune the retry texts of the whole library or rewrite one function's docstring without code.
"""

from __future__ import annotations

import string
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from llm_hyperparameters import TrackedHyperparameters, register

__all__ = ["SETTINGS", "LLMSettings", "OutputMode", "instructions_model", "settings_in_force"]

OutputMode = Literal["auto", "native", "tool_call", "prompt"]
_TEMPLATE_FIELDS = {
    "instructions": {"name", "docstring", "schema"},
    "reply_format": {"output"},
    "text_format": set(),
    "retry": {"error"},
}


class LLMSettings(BaseModel):
    """How calls are prompted and retried; library-wide it is the tracked entry `llm_strategy.settings`.

    Example:
        ```python
        @llm_function(settings=LLMSettings(max_attempts=5, output_mode="prompt"))
        def add(model, a: int, b: int) -> int:
            \"\"\"Add two numbers.\"\"\"
            raise NotImplementedError
        ```
    """

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    instructions: str = Field(
        "{name}: {docstring}\n{schema}",
        description="The static prompt from {name}, {docstring} and {schema} (the input outline).",
    )
    reply_format: str = Field(
        'Reply with JSON {{"return_value": {output}}}',
        description="Ends the prompt when the output is parsed from text; {output} is the output's outline.",
    )
    text_format: str = Field(
        "Reply with the text only.",
        description="Ends the prompt of a function that returns plain text; may be empty.",
    )
    retry: str = Field(
        "Invalid reply:\n{error}\nReply again, fixed.",
        description="Sent after a reply that failed to parse or validate; {error} is the reason.",
    )
    max_attempts: int = Field(3, ge=1, le=20, description="Replies requested before giving up.")
    retry_excerpt_chars: int = Field(
        2000,
        ge=200,
        description="Most characters of a rejected reply quoted back on retry (its head and tail).",
    )
    output_mode: OutputMode = Field(
        "auto",
        description=(
            "native structured output, a forced tool call, prompt + parse, or auto: native for "
            "outputs that hold objects where the model offers it and its server accepts it, prompt "
            "mode for scalars and lists of them. A plain `str` return is always read as text."
        ),
    )
    json_indent: int | None = Field(
        None, ge=0, le=8, description="Indentation of argument JSON; null is compact."
    )

    @field_validator("instructions", "reply_format", "text_format", "retry")
    @classmethod
    def _known_placeholders(cls, template: str, info: Any) -> str:
        allowed = _TEMPLATE_FIELDS[info.field_name]
        try:
            used = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
        except ValueError as error:
            raise ValueError(f"not a valid template: {error}") from error
        unknown = used - allowed
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; use {sorted(allowed)}")
        return template


SETTINGS: TrackedHyperparameters = register("llm_strategy.settings", LLMSettings)
"""The library-wide `LLMSettings` as a tracked entry, public as `llm_strategy.settings`.

A function decorated with `settings=` uses its own instead.

Example:
    ```python
    hparams = Hyperparameters()
    hparams[llm_strategy.settings].max_attempts = 5
    with hparams:
        summarize(model, text)   # retries up to 5 times
    ```
"""


def settings_in_force(pinned: LLMSettings | None) -> LLMSettings:
    """A function's pinned settings, else the library-wide values in force."""
    return pinned if pinned is not None else SETTINGS.in_force()  # type: ignore[return-value]


def instructions_model(
    name: str, docstring: str, descriptions: dict[str, str], keys: list[str]
) -> type[BaseModel]:
    """The tracked model of one LLM function: its docstring and the descriptions the prompt shows.

    `keys` are the descriptions that can be set: parameters by name, `return`, and `return.<field>`.
    """
    key_type: Any = Literal[tuple(keys)] if keys else str
    return create_model(
        f"{name.replace('.', '_')}_instructions",
        __config__=ConfigDict(validate_assignment=True, extra="forbid"),
        __doc__=f"The instructions of the LLM function {name}.",
        docstring=(
            str,
            Field(docstring, min_length=1, description="What the function does, as the model reads it."),
        ),
        descriptions=(
            dict[key_type, str],
            Field(
                descriptions,
                description=(
                    "Descriptions shown next to the types: a parameter by name, 'return', 'return.<field>'."
                ),
            ),
        ),
    )
