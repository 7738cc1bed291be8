"""Function specs: a stub's definition checked once, and its call schemas built once per type binding."""

from __future__ import annotations

import contextlib
import copy
import inspect
import threading
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, is_dataclass, replace
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, Field, PydanticUserError, TypeAdapter
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError, PydanticUndefined
from typing_extensions import TypedDict

from ._descriptions import apply_descriptions, described_keys, input_fields
from ._docstrings import parse_docstring
from ._generics import bind_type_vars, substitute, type_vars_in
from ._parsing import RETURN_FIELD
from ._schema import Outline, compact_json_schema, has_objects, json_schema_of, native_form
from .errors import ArgumentError, DefinitionError

__all__ = ["CallSchema", "FunctionSpec", "InputStyle", "Instructions", "Parameter", "describe_call"]

_MAX_SCHEMAS = 64
"""Call schemas kept per function (type bindings x instructions), oldest dropped first."""

InputStyle = Literal["parameters", "explicit"]
"""`parameters`: the arguments become one object; `explicit`: the single argument is the input."""

Instructions = tuple[str, tuple[tuple[str, str], ...]]
"""A docstring and `(key, description)` pairs that replace the definition's."""


@dataclass(frozen=True)
class Parameter:
    """An input parameter: `self` for methods, then the stub's (model and `_` parameters excluded)."""

    name: str
    annotation: Any
    default: Any  # `inspect.Parameter.empty` when required


@dataclass(frozen=True)
class CallSchema:
    """Everything a call needs that depends only on the definition and the type binding."""

    name: str
    docstring: str
    input_adapter: TypeAdapter[Any]
    output_adapter: TypeAdapter[Any]
    definitions: tuple[str, ...]
    """Outlines of the types used more than once, `Name = ...`."""
    input_definitions: tuple[str, ...]
    """The definitions the input outline refers to (all a prompt needs when the output travels natively)."""
    input_outline: str
    """`Input: ...`"""
    output_outline: str
    """The outline of the output type."""
    output_comment: str
    """The output's description and constraints, or ""."""
    reply_schema: dict[str, Any]
    """JSON schema of a prompt-mode reply, `{"return_value": ...}`."""
    native_schema: dict[str, Any]
    """JSON schema sent for native structured output: without what the prompt already describes,
    and without the envelope when the output is an object (see `native_enveloped`)."""
    native_enveloped: bool
    """Whether a native reply is `{"return_value": ...}` (else it is the output itself)."""
    structured: bool
    """Whether the output holds an object anywhere (not only scalars and lists of them)."""
    plain_text: bool
    """Whether the output is a plain `str` (read as text; an empty reply is rejected)."""
    parameters: tuple[Parameter, ...] = ()
    """The input parameters with their bound types; one when the input is one explicit object."""
    explicit: bool = False
    """Whether the input is the single parameter's value rather than an object of all of them."""
    rendered: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """Prompt parts rendered from this schema, keyed by whoever renders them."""


class FunctionSpec:
    """A stub's name, docstring, parameters and return type, validated at decoration time."""

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        name: str,
        takes_model: bool,
        instance_type: type | None = None,
        drops_first: bool = False,
        input_style: InputStyle = "parameters",
        namespace: Mapping[str, Any] | None = None,
    ) -> None:
        """Check the definition; `instance_type` is sent as `self` for methods and properties.

        `drops_first` skips the first parameter (`cls` of a classmethod).
        """
        self.function = function
        self.name = name
        self.takes_model = takes_model
        self.takes_instance = instance_type is not None
        self.takes_class = drops_first
        self.input_style = input_style
        self.is_async = inspect.iscoroutinefunction(function)
        self.signature = inspect.signature(function)
        self._instance_type = instance_type
        self._namespace = namespace or {}
        self._lock = threading.Lock()
        self._schemas: dict[tuple[tuple[tuple[TypeVar, Any], ...], Instructions | None], CallSchema] = {}
        docstring = inspect.getdoc(function)
        if not docstring:
            raise DefinitionError(f"{name}: a docstring is required; it tells the model what to do.")
        self._docstring = parse_docstring(docstring)
        self.docstring = self._docstring.text or docstring
        self._check_signature(drops_first)
        self._resolved: tuple[tuple[Parameter, ...], Any] | None = None
        with contextlib.suppress(NameError):  # a name defined later: resolved at the first call
            self._resolve()

    # -- definition ----------------------------------------------------------------------------

    def _check_signature(self, drops_first: bool) -> None:
        parameters = list(self.signature.parameters.values())
        all_names = [parameter.name for parameter in parameters]
        self._all_names = frozenset(all_names)
        self._positional_names = tuple(all_names)
        self._simple_signature = all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters)
        self._required_names = frozenset(p.name for p in parameters if p.default is p.empty)
        self.model_parameter = all_names[0] if self.takes_model and all_names else None
        if self.takes_model or drops_first:
            if not parameters:
                first = "the model" if self.takes_model else "cls"
                raise DefinitionError(f"{self.name}: the first parameter must be {first}.")
            parameters = parameters[1:]
        self.instance_parameter = None
        if self._instance_type is not None:
            if not parameters:
                raise DefinitionError(f"{self.name}: a method needs `self` as its first parameter.")
            self.instance_parameter = parameters[0].name
            parameters = parameters[1:]
        for parameter in parameters:
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise DefinitionError(
                    f"{self.name}: parameter {parameter.name!r} is variadic; "
                    "use a typed list or dict parameter instead."
                )
            if parameter.annotation is parameter.empty:
                raise DefinitionError(
                    f"{self.name}: parameter {parameter.name!r} has no type annotation; "
                    f"add one, e.g. `{parameter.name}: str`."
                )
        if self.signature.return_annotation is inspect.Signature.empty:
            raise DefinitionError(
                f"{self.name}: the return type annotation is missing; add one, e.g. `-> str`."
            )
        if self.input_style == "explicit" and len(parameters) != 1:
            raise DefinitionError(
                f"{self.name}: an explicit function takes the model and exactly one input "
                f"object, got {len(parameters)} input parameter(s)."
            )
        self._input_names = [parameter.name for parameter in parameters if not parameter.name.startswith("_")]

    def _resolve(self) -> tuple[tuple[Parameter, ...], Any]:
        """Resolve annotations (strings included) and check type variables; cached."""
        if self._resolved is not None:
            return self._resolved
        hints = typing.get_type_hints(
            self.function, globalns=self.function.__globals__, localns=self._namespace, include_extras=True
        )
        parameters = []
        for name in self._input_names:
            default = self.signature.parameters[name].default
            described = _described(hints[name], default, self._docstring.parameters.get(name))
            parameters.append(Parameter(name, described, default))
        if self._instance_type is not None:
            parameters.insert(
                0, Parameter("self", _instance_annotation(self._instance_type), inspect.Parameter.empty)
            )
        return_annotation = _described(hints["return"], None, self._docstring.returns)
        bindable = {type_var for parameter in parameters for type_var in type_vars_in(parameter.annotation)}
        unbound = [type_var for type_var in type_vars_in(return_annotation) if type_var not in bindable]
        if unbound:
            names = ", ".join(type_var.__name__ for type_var in unbound)
            raise DefinitionError(
                f"{self.name}: the return type uses type variable(s) {names} that no parameter "
                "mentions, so no argument can bind them; add a parameter that uses them."
            )
        self._resolved = (tuple(parameters), return_annotation)
        self._type_vars = tuple(sorted(bindable, key=lambda type_var: type_var.__name__))
        return self._resolved

    def resolved(self) -> tuple[tuple[Parameter, ...], Any]:
        """The input parameters and the return annotation; an unknown name is a `DefinitionError`."""
        try:
            return self._resolve()
        except NameError as error:
            raise DefinitionError(f"{self.name}: cannot resolve an annotation: {error}.") from error

    # -- calls -----------------------------------------------------------------------------------

    def bind(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Map call arguments to parameter names; defaults are applied later, per input."""
        if self._simple_signature and len(args) <= len(self._positional_names):
            arguments = dict(zip(self._positional_names, args, strict=False))
            if kwargs.keys() <= self._all_names and not kwargs.keys() & arguments.keys():
                arguments.update(kwargs)
                if self._required_names <= arguments.keys():
                    return arguments
        try:
            return self.signature.bind(*args, **kwargs).arguments
        except TypeError as error:
            raise self._binding_error(args, kwargs, error) from None

    def _binding_error(
        self, args: tuple[Any, ...], kwargs: Mapping[str, Any], error: TypeError
    ) -> ArgumentError:
        """Why the arguments do not bind: a forgotten model, or what Python says."""
        from langchain_core.language_models import BaseLanguageModel  # only a failed call needs these

        from ._models import Conversation

        first = args[0] if args else kwargs.get(self.model_parameter or "")
        looks_like_model = isinstance(first, BaseLanguageModel | Conversation) or (
            isinstance(first, str) and ":" in first
        )
        if self.model_parameter and not looks_like_model:
            with contextlib.suppress(TypeError):
                self.signature.bind(None, *args, **kwargs)
                return ArgumentError(
                    f"{self.name}: the model argument is missing; pass it first, {self.name}(model, ...): "
                    "a langchain model, a ChatChain or a 'provider:model' string.",
                    function_name=self.name,
                    parameter=self.model_parameter,
                )
        return ArgumentError(f"{self.name}: {error}.", function_name=self.name)

    def input_value(self, arguments: Mapping[str, Any], instance: Any = None) -> Any:
        """The value sent as input: one object of all arguments, or the explicit input object."""
        parameters, _ = self.resolved()
        values = {}
        for parameter in parameters:
            if parameter.name == "self" and self._instance_type is not None:
                values["self"] = _instance_value(instance)
                continue
            if parameter.name in arguments:
                value = arguments[parameter.name]
            else:
                value = _default_of(self.name, parameter)
            values[parameter.name] = value.default if isinstance(value, FieldInfo) else value
        if self.input_style == "explicit":
            return values[parameters[0].name]
        return values

    def instruction_defaults(self) -> tuple[str, dict[str, str], list[str]]:
        """The docstring, the descriptions the annotations give, and every describable key."""
        parameters, return_annotation = self.resolved()
        if self.input_style == "explicit":
            inputs = input_fields(parameters[0].annotation)
        else:
            inputs = {
                p.name: p.annotation for p in parameters if p.name != "self" or self._instance_type is None
            }
        descriptions, keys = described_keys(inputs, return_annotation)
        return self.docstring, descriptions, keys

    def schema_for(self, values: Any, instructions: Instructions | None = None) -> CallSchema:
        """The call schema, specialized to the type variables the input values bind.

        `instructions` replaces the docstring and descriptions (None keeps the definition's).
        """
        parameters, _ = self.resolved()
        if not self._type_vars:
            key: tuple[tuple[TypeVar, Any], ...] = ()
        else:
            pairs = (
                [(parameters[0].name, parameters[0].annotation, values)]
                if self.input_style == "explicit"
                else [(p.name, p.annotation, values[p.name]) for p in parameters]
            )
            binding = bind_type_vars(self.name, pairs, self._type_vars)
            key = tuple(sorted(binding.items(), key=lambda item: item[0].__name__))
        cache_key = (key, instructions)
        schema = self._schemas.get(cache_key)
        if schema is None:
            with self._lock:
                schema = self._schemas.get(cache_key) or self._build_schema(dict(key), instructions)
                self._schemas[cache_key] = schema
                if len(self._schemas) > _MAX_SCHEMAS:  # an optimizer tries instruction after instruction
                    del self._schemas[next(iter(self._schemas))]
        return schema

    def _build_schema(self, binding: Mapping[TypeVar, Any], instructions: Instructions | None) -> CallSchema:
        parameters, return_annotation = self.resolved()
        bound = tuple(replace(p, annotation=substitute(p.annotation, binding)) for p in parameters)
        explicit = self.input_style == "explicit"
        if explicit:
            input_type = bound[0].annotation
        else:
            input_type = _typed_dict(f"{self.name}_input", {p.name: p.annotation for p in bound})
        docstring, descriptions = instructions or (self.docstring, {})
        output_type = substitute(return_annotation, binding)
        schema = describe_call(self.name, docstring, input_type, output_type, dict(descriptions))
        return replace(schema, parameters=bound, explicit=explicit)


def describe_call(
    name: str,
    docstring: str,
    input_type: Any,
    output_type: Any,
    descriptions: Mapping[str, str] | None = None,
) -> CallSchema:
    """Adapters, outlines and the native schema of one input and output type."""
    envelope = _typed_dict(f"{name}_output", {RETURN_FIELD: output_type})
    both = _typed_dict(f"{name}_io", {"input": input_type, "output": output_type})
    plain_text = _is_plain_str(output_type)
    try:
        input_adapter: TypeAdapter[Any] = TypeAdapter(input_type)
        output_adapter: TypeAdapter[Any] = TypeAdapter(
            Annotated[output_type, AfterValidator(_not_blank)] if plain_text else output_type
        )
        combined = json_schema_of(TypeAdapter(both))
        reply = compact_json_schema(json_schema_of(TypeAdapter(envelope)), name.replace(".", "_"))
    except (PydanticUserError, TypeError, ValueError) as error:  # pydantic's schema errors, our own
        raise DefinitionError(f"{name}: a type cannot be described to the model: {error}") from error
    if descriptions:
        apply_descriptions(combined, reply, descriptions)
    outline = Outline(combined)
    output_outline, output_comment = outline.described(combined["properties"]["output"])
    shown = outline.named_within(combined["properties"]["input"])
    native, enveloped = native_form(reply, shown, RETURN_FIELD)
    return CallSchema(
        name=name,
        docstring=docstring,
        input_adapter=input_adapter,
        output_adapter=output_adapter,
        definitions=tuple(outline.definitions()),
        input_definitions=tuple(outline.definitions(within=combined["properties"]["input"])),
        input_outline=_line("Input: ", *outline.described(combined["properties"]["input"])),
        output_outline=output_outline,
        output_comment=output_comment,
        reply_schema=reply,
        native_schema=native,
        native_enveloped=enveloped,
        structured=has_objects(reply["properties"][RETURN_FIELD], reply.get("$defs", {})),
        plain_text=plain_text,
    )


def _is_plain_str(output_type: Any) -> bool:
    """Whether the output is `str` (described or not): its reply is text, and must not be empty.

    A function whose result may be empty says so with `Optional[str]`.
    """
    while typing.get_origin(output_type) is Annotated:
        output_type = typing.get_args(output_type)[0]
    return output_type is str


def _not_blank(text: str) -> str:
    if not text.strip():
        raise PydanticCustomError("blank_text", "The reply is empty; the answer must be some text")
    return text


def _typed_dict(name: str, fields: dict[str, Any]) -> Any:
    """A TypedDict class built at run time (pydantic needs typing_extensions' on Python 3.11)."""
    factory: Any = TypedDict
    return factory(name, fields)


def _line(label: str, outline: str, comment: str) -> str:
    return f"{label}{outline}" + (f" // {comment}" if comment else "")


def _instance_annotation(instance_type: type) -> Any:
    """How `self` is described: the class when pydantic can serialize it, else its attributes."""
    if is_dataclass(instance_type) or issubclass(instance_type, BaseModel):
        return instance_type
    return dict[str, Any]


def _instance_value(instance: Any) -> Any:
    if is_dataclass(instance) or isinstance(instance, BaseModel):
        return instance
    return {name: value for name, value in vars(instance).items() if not name.startswith("_")}


def _described(annotation: Any, default: Any, docstring_description: str | None) -> Any:
    """The annotation with its description and constraints attached.

    A `Field(...)` default contributes its description and constraints; the docstring's
    `Args:` entry is used when nothing else describes the parameter.
    """
    if isinstance(default, FieldInfo):
        info = copy.copy(default)
        info.default = PydanticUndefined
        info.default_factory = None
        if info.description is None:
            info.description = docstring_description
        return Annotated[annotation, info]
    if docstring_description and not _has_description(annotation):
        return Annotated[annotation, Field(description=docstring_description)]
    return annotation


def _has_description(annotation: Any) -> bool:
    metadata = getattr(annotation, "__metadata__", ())
    return any(isinstance(item, FieldInfo) and item.description for item in metadata)


def _default_of(function_name: str, parameter: Parameter) -> Any:
    default = parameter.default
    if isinstance(default, FieldInfo):
        if default.default_factory is not None:
            return default.default_factory()  # type: ignore[call-arg]
        default = default.default
    if default is inspect.Parameter.empty or default is PydanticUndefined:
        raise ArgumentError(
            f"{function_name}: missing a required argument: {parameter.name!r}.",
            function_name=function_name,
            parameter=parameter.name,
        )
    return default
