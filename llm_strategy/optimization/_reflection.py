"""What the reflective proposer reads and asks: the minibatch's runs cut to the character budget,
one given component rewritten, or the component chosen among the mutable ones with its new value."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import JsonValue

from llm_hyperparameters import lookup

from ._candidates import entry_values
from ._engine import TaskRunRecord, ask, parametrized
from ._proposer import (
    ComponentMenu,
    ComponentReflection,
    MinibatchExample,
    MutableComponent,
    ReflectiveProposer,
)
from ._proposer import change_type as typed_change

__all__ = ["ComponentProposer"]


class ComponentProposer:
    """Asks the optimizer model for one component's new value from what the minibatch's runs did."""

    def __init__(self, model: Any, components: list[tuple[str, str]], budget: int) -> None:
        """`components`: the mutable (entry, field) pairs; `budget`: characters of runs per proposal."""
        self.model, self.components, self.budget = model, components, budget

    def rewrite(
        self, component: str, parent: dict[str, Any], examples: list[MinibatchExample]
    ) -> tuple[str, Any]:
        """The proposer's lessons and new value for the component given to it."""
        entry_name, field = component.rsplit(":", 1)
        info = lookup(entry_name).model.model_fields[field]
        request = parametrized(ComponentReflection, info.annotation)(
            component=component,
            description=info.description,
            current_value=entry_values(parent, entry_name)[field],
            examples=examples,
        )
        proposal = ask(ReflectiveProposer.propose_component_value, self.model, request)
        return proposal.lessons, proposal.new_value

    def change(self, parent: dict[str, Any], examples: list[MinibatchExample]) -> tuple[str, str, Any]:
        """The component the proposer chooses among the mutable ones, its lessons and the new value.

        The components' current values share a budget of `reflection_chars`, apart from the examples'.
        """
        fields = [(entry, field, lookup(entry).model.model_fields[field]) for entry, field in self.components]
        values = fair_cut([entry_values(parent, entry)[field] for entry, field, _ in fields], self.budget)
        menu = parametrized(ComponentMenu, self.change_type)(
            components=[
                MutableComponent(
                    component=f"{entry}:{field}", description=info.description, current_value=value
                )
                for (entry, field, info), value in zip(fields, values, strict=True)
            ],
            examples=examples,
        )
        reply = ask(ReflectiveProposer.propose_component_change, self.model, menu)
        return reply.change.component, reply.lessons, reply.change.new_value

    @functools.cached_property
    def change_type(self) -> Any:
        """The proposer's `change`: one option per mutable component, typed as its field (built once)."""
        options = []
        for entry, field in self.components:
            info = lookup(entry).model.model_fields[field]
            typed = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
            options.append((f"{entry}:{field}", typed))
        return typed_change(options)

    def examples(self, runs: Sequence[TaskRunRecord]) -> list[MinibatchExample]:
        """The minibatch's task runs for the proposer: each run's share of the character budget for its
        LLM requests, and a quarter of it each for its output, exception and feedback."""
        budget = self.budget // max(len(runs), 1)
        examples = []
        for record in runs:
            requests = truncated([request.model_dump(mode="json") for request in record.chat_chains], budget)
            examples.append(
                MinibatchExample(
                    task_parameters=record.task_parameters,
                    llm_requests=requests,
                    return_value=clipped(record.return_value, budget // 4),
                    exception=clipped(record.exception, budget // 4),
                    score=record.score,
                    feedback=clipped(record.evaluation, budget // 4),
                )
            )
        return examples


def fair_cut(values: list[JsonValue], budget: int) -> list[JsonValue]:
    """The values within `budget` characters: the short ones whole, the long ones cut alike (ending in …).

    A string is measured (and cut) as it is, any other value as its JSON.
    """
    texts = [value if isinstance(value, str) else json.dumps(value, ensure_ascii=False) for value in values]
    room = [0] * len(texts)
    left = budget
    for rank, index in enumerate(sorted(range(len(texts)), key=lambda index: len(texts[index]))):
        room[index] = min(len(texts[index]), left // (len(texts) - rank))
        left -= room[index]
    return [
        value if room[index] == len(texts[index]) else texts[index][: room[index]] + "…"
        for index, value in enumerate(values)
    ]


def clipped(value: Any, budget: int) -> Any:
    """`value`, or when its JSON is longer than `budget` characters, that JSON cut, as text."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) <= budget:
        return value
    return text[: max(budget, 1)] + "…"


def truncated(requests: list[dict[str, JsonValue]], budget: int) -> list[dict[str, JsonValue]]:
    """The requests, last first dropped, then the remaining text cut so the JSON fits `budget` characters."""
    kept: list[dict[str, JsonValue]] = []
    used = 0
    for request in requests:
        text = json.dumps(request, ensure_ascii=False)
        if used + len(text) > budget:
            room = budget - used
            if room > 80:
                kept.append({"truncated": text[:room] + "…"})
            break
        kept.append(request)
        used += len(text)
    return kept
