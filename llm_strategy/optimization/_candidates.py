"""Hyperparameter candidates as the optimizer's LLM sees them: patches over the best values.

`best_hyperparameters` holds every optimized value; a task run's hyperparameters and each
suggestion hold only the values that differ from it. Repeating a long docstring in every
task run would cost tokens and tell the model nothing new.

Hyperparameters named like secrets (`api_key`, `token`, ...) are never shown nor patched: the
values the user set stay in force (`with_user_secrets`).
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model, model_serializer, model_validator

from llm_hyperparameters import is_secret_name, lookup

__all__ = [
    "changed_from_defaults",
    "diff",
    "entry_values",
    "merge",
    "optimized_entries",
    "patch_model",
    "seed_candidate",
    "with_user_secrets",
    "without_secrets",
]

_PATCH_DOC = (
    "Hyperparameter values by tracked function. Outside best_hyperparameters only the values "
    "that differ from best_hyperparameters are given; the others equal it."
)


class _Patch(BaseModel):
    """Base of the per-function patch models: unset values are left out of the JSON."""

    model_config = ConfigDict(extra="forbid", serialize_by_alias=True, populate_by_name=True)

    @model_serializer(mode="wrap")
    def _without_unset(self, handler: Any) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None}


def patch_model(names: Sequence[str]) -> type[BaseModel]:
    """A model with an optional patch per tracked function (keyed by stable name), every value optional.

    Secret-named values have no field: the optimizer can neither see nor set them. The same
    definitions give the same class in a process, so the prompts built from it are built once.
    """
    entries = tuple((name, lookup(name).model, lookup(name).description) for name in names)
    return _patch_model(entries)


@functools.lru_cache(maxsize=64)
def _patch_model(entries: tuple[tuple[str, type[BaseModel], str | None], ...]) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name, model, description in entries:
        entry_fields: dict[str, Any] = {}
        for field_name, info in model.model_fields.items():
            if is_secret_name(field_name):
                continue
            optional = copy.copy(info)
            optional.default = None
            annotation: Any = info.annotation
            entry_fields[field_name] = (annotation | None, optional)
        validators: dict[str, Any] = {
            "_valid_for_the_function": model_validator(mode="after")(_checked_against(model))
        }
        patch = create_model(
            f"{model.__name__}_patch",
            __base__=_Patch,
            __doc__=description,
            __validators__=validators,
            **entry_fields,
        )
        fields[_identifier(name)] = (patch | None, Field(None, alias=name, description=description))
    return create_model("Hyperparameters", __base__=_Patch, __doc__=_PATCH_DOC, **fields)


def _checked_against(model: type[BaseModel]) -> Any:
    """An after-validator: the patch's values must also satisfy the function's own model."""

    def check(patch: BaseModel) -> BaseModel:
        model.model_validate({**model().model_dump(), **patch.model_dump()})
        return patch

    return check


def _identifier(name: str) -> str:
    return re.sub(r"\W", "_", name).lstrip("_") or "function"


def diff(
    values: Mapping[str, Mapping[str, Any]], best: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The values that differ from `best`, per function."""
    changed: dict[str, dict[str, Any]] = {}
    for name, entry in values.items():
        differing = {key: value for key, value in entry.items() if best.get(name, {}).get(key) != value}
        if differing:
            changed[name] = differing
    return changed


def merge(
    best: Mapping[str, Mapping[str, Any]], patch: Mapping[str, Mapping[str, Any] | None]
) -> dict[str, dict[str, Any]]:
    """`best` with a patch's values laid over it."""
    merged = {name: dict(values) for name, values in best.items()}
    for name, values in patch.items():
        if values:
            merged[name] = {
                **merged.get(name, {}),
                **{key: value for key, value in values.items() if value is not None},
            }
    return merged


def seed_candidate(
    initial: Mapping[str, Mapping[str, Any]], seed_runs: Sequence[Any]
) -> dict[str, dict[str, Any]]:
    """The starting candidate, complete: the given values, then every value any seed run used.

    A task may call different functions for different task parameters; each run records only
    what it used (a failed run may have used few), and what it did not call kept its start value.
    """
    values = {name: dict(entry) for name, entry in initial.items()}
    for run in seed_runs:
        values |= {name: entry for name, entry in run.hyperparameters.items() if name not in values}
    return values


def optimized_entries(
    task_name: str, optimize: Sequence[str] | None, seed_runs: Sequence[Any], settings: str
) -> list[str]:
    """The tracked functions to optimize: `optimize`, or every one the seed runs used but the
    library's `settings`; none is a clear error."""
    used = {name for run in seed_runs for name in run.hyperparameters}
    names = list(optimize) if optimize else sorted(used - {settings})
    failures = [run.failure for run in seed_runs if run.failure is not None]
    if not names and failures and len(failures) == len(seed_runs):
        raise ValueError(
            f"every seed run of {task_name} failed before a tracked call, so nothing shows what to "
            f"optimize; the first failure: {failures[0]}"
        )
    if not names:
        raise ValueError(
            f"{task_name} made no tracked call, so it has no hyperparameters to optimize: decorate it "
            "(or what it calls) with @llm_function or @track_hyperparameters"
        )
    return names


def without_secrets(values: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """`values` without the secret-named ones (what the optimizer may see and set)."""
    return {
        name: {key: value for key, value in entry.items() if not is_secret_name(key)}
        for name, entry in values.items()
    }


def with_user_secrets(
    values: Mapping[str, Mapping[str, Any]], user: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """`values` with every secret-named value as the user set it (in `user`), else left out (the default)."""
    kept: dict[str, dict[str, Any]] = {}
    for name, entry in values.items():
        given = user.get(name, {})
        kept[name] = {key: value for key, value in entry.items() if not is_secret_name(key)}
        kept[name].update((key, value) for key, value in given.items() if is_secret_name(key))
    return kept


def entry_values(candidate: dict[str, Any], entry_name: str) -> dict[str, Any]:
    """A tracked entry's values in a candidate (its defaults when the candidate has none)."""
    return candidate.get(entry_name) or lookup(entry_name).defaults.model_dump(mode="json")


def changed_from_defaults(values: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The values that differ from each tracked function's defaults."""
    defaults = {name: lookup(name).defaults.model_dump(mode="json") for name in values}
    return diff(values, defaults)
