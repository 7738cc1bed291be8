"""Hyperparameters: a typed, JSON-serializable mapping over tracked functions, and the scopes it opens.

Scopes live in a `ContextVar`, so threads and asyncio tasks never see each other's scopes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler, create_model
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

if TYPE_CHECKING:
    from ._tracking import TrackedHyperparameters

__all__ = [
    "Hyperparameters",
    "HyperparametersScope",
    "hyperparameters_scope",
    "scopes_active",
    "values_in_force",
]

_SCOPES: ContextVar[tuple[Hyperparameters, ...]] = ContextVar("llm_hyperparameters_scopes", default=())


class Hyperparameters:
    """Hyperparameter values per tracked function, indexable by the function or its stable name.

    As a context manager it puts its values in force: tracked calls inside use them, and a
    tracked function it has no values for is recorded with the values that call used.

    Example:
        ```python
        with Hyperparameters() as hparams:    # records what every tracked call used
            write_essay(model, "bees")
        hparams[write_essay].style = "playful"
        with hparams:                         # the change is in force inside
            write_essay(model, "bees")
        ```
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[Any, BaseModel | Mapping[str, Any]] | None = None) -> None:
        self._values: dict[str, BaseModel] = {}
        for key, value in (values or {}).items():
            self[key] = value

    # -- mapping -----------------------------------------------------------------------------

    def __getitem__(self, key: Any) -> Any:
        """The values of one tracked function; created from its defaults when absent."""
        tracked = _tracked(key)
        values = self._values.get(tracked.name)
        if values is None:
            values = self._values[tracked.name] = tracked.defaults.model_copy()
        return values

    def __setitem__(self, key: Any, value: BaseModel | Mapping[str, Any]) -> None:
        tracked = _tracked(key)
        data = value.model_dump() if isinstance(value, BaseModel) else value
        self._values[tracked.name] = tracked.model.model_validate(data)

    def __delitem__(self, key: Any) -> None:
        del self._values[_tracked(key).name]

    def __contains__(self, key: object) -> bool:
        try:
            return _tracked(key).name in self._values
        except KeyError:
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def items(self) -> Iterator[tuple[str, BaseModel]]:
        """`(stable name, values)` pairs."""
        return iter(self._values.items())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hyperparameters) and self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Hyperparameters({self.model_dump()!r})"

    def copy(self) -> Hyperparameters:
        """An independent copy."""
        return Hyperparameters({name: values.model_copy() for name, values in self._values.items()})

    # -- scope ----------------------------------------------------------------------------------

    def __enter__(self) -> Hyperparameters:
        _SCOPES.set((*_SCOPES.get(), self))
        return self

    def __exit__(self, *exc: object) -> None:
        scopes = _SCOPES.get()
        if not scopes or scopes[-1] is not self:
            raise RuntimeError("Hyperparameters scopes must be exited in the order they were entered")
        _SCOPES.set(scopes[:-1])

    # -- serialization -----------------------------------------------------------------------

    def model_dump(self) -> dict[str, dict[str, Any]]:
        """`{stable name: {hyperparameter: value}}`, JSON-compatible."""
        return {name: values.model_dump(mode="json") for name, values in self._values.items()}

    def model_dump_json(self, *, indent: int | None = None) -> str:
        """The values as JSON."""
        return json.dumps(self.model_dump(), indent=indent)

    @classmethod
    def model_validate(cls, data: Mapping[str, Mapping[str, Any]] | Hyperparameters) -> Hyperparameters:
        """Values from `model_dump()` output.

        An unknown name is a `KeyError`, a bad value a `ValidationError`.
        """
        if isinstance(data, Hyperparameters):
            return data.copy()
        return cls(dict(data))

    @classmethod
    def model_validate_json(cls, text: str | bytes) -> Hyperparameters:
        """Values from `model_dump_json()` output."""
        return cls.model_validate(json.loads(text))

    @classmethod
    def schema_model(cls, names: list[str] | None = None) -> type[BaseModel]:
        """A pydantic model with one optional field per tracked function (or per name given)."""
        from ._tracking import registered

        tracked = registered()
        chosen = sorted(tracked) if names is None else names
        fields: dict[str, Any] = {}
        for name in chosen:
            entry = _tracked(name)
            fields[_field_name(name)] = (entry.model | None, _field(name, entry))
        return create_model("Hyperparameters", __doc__=_SCHEMA_DOC, **fields)

    @classmethod
    def model_json_schema(cls) -> dict[str, Any]:
        """The JSON schema of every tracked function's hyperparameters, with their descriptions."""
        return cls.schema_model().model_json_schema(by_alias=True)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.model_validate,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda value: value.model_dump()),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return cls.model_json_schema()


class HyperparametersScope:
    """The 2.2.0 shape of a scope: `scope.hyperparameters[f].name = value`, then `with scope():`.

    Example:
        ```python
        with hyperparameters_scope() as scope:   # records what every tracked call used
            write_essay(model, "bees")
        scope.hyperparameters[write_essay].style = "playful"
        with scope():                            # the change is in force inside
            write_essay(model, "bees")
        ```
    """

    __slots__ = ("hyperparameters",)

    def __init__(self, hyperparameters: Hyperparameters | None = None) -> None:
        self.hyperparameters = hyperparameters if hyperparameters is not None else Hyperparameters()

    def __call__(self) -> Hyperparameters:
        """The values as a context manager that puts them in force."""
        return self.hyperparameters

    def __enter__(self) -> HyperparametersScope:
        self.hyperparameters.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.hyperparameters.__exit__(*exc)

    def __repr__(self) -> str:
        return f"HyperparametersScope({self.hyperparameters!r})"


def hyperparameters_scope(hyperparameters: Hyperparameters | None = None) -> HyperparametersScope:
    """A scope over `hyperparameters` (new, empty ones by default): the 2.2.0 name of `Hyperparameters`.

    Example:
        ```python
        with hyperparameters_scope() as scope:
            write_essay(model, "bees")
        scope.hyperparameters[write_essay].style = "playful"
        with scope():
            write_essay(model, "bees")
        ```
    """
    return HyperparametersScope(hyperparameters)


_SCHEMA_DOC = "Hyperparameters of the tracked functions, by stable name."


def _field_name(name: str) -> str:
    """A Python identifier for a stable name (the name itself stays the alias)."""
    return re.sub(r"\W", "_", name).lstrip("_") or "function"


def _field(name: str, entry: TrackedHyperparameters) -> Any:
    from pydantic import Field

    return Field(None, alias=name, description=entry.description)


def _tracked(key: Any) -> TrackedHyperparameters:
    from ._tracking import lookup

    return lookup(key)


def values_in_force(tracked: TrackedHyperparameters) -> BaseModel:
    """The values a call of `tracked` uses now: the innermost scope that has them, else the defaults.

    The innermost scope records them when it lacks them.
    """
    scopes = _SCOPES.get()
    if not scopes:
        return tracked.defaults
    values = None
    for scope in reversed(scopes):
        values = scope._values.get(tracked.name)
        if values is not None:
            break
    innermost = scopes[-1]._values
    if tracked.name not in innermost:
        innermost[tracked.name] = (values or tracked.defaults).model_copy()
    return values or tracked.defaults


def scopes_active() -> bool:
    """Whether any `Hyperparameters` scope is entered in this context."""
    return bool(_SCOPES.get())
