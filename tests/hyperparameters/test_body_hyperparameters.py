"""`Hyperparameter() @ default` in a body, 2.2.0's `hyperparameters_scope`, the registry's naming rules."""

import json

import pytest

import llm_hyperparameters
from llm_hyperparameters import (
    DefinitionError,
    Hyperparameter,
    Hyperparameters,
    hyperparameters_scope,
    registered,
    trace,
    track_hyperparameters,
)

GREETING = "Hello"


@track_hyperparameters
def greet(name: str, *, _punctuation: str = "!") -> str:
    """Greet someone."""
    return Hyperparameter("greeting", description="The opening word.") @ GREETING + ", " + name + _punctuation


@track_hyperparameters
def twice() -> str:
    return Hyperparameter() @ "Hello" + Hyperparameter() @ "Hello"


@track_hyperparameters
def same_name() -> str:
    return Hyperparameter("hello") @ "Hello" + Hyperparameter("hello") @ "Hello"


@track_hyperparameters
def inner() -> int:
    return Hyperparameter("hello") @ 1 + Hyperparameter("world") @ 2


@track_hyperparameters
def outer() -> int:
    return Hyperparameter("hello") @ 3 + inner()


def test_body_hyperparameters_share_the_typed_model_with_parameters():
    model = greet.hyperparameter_model
    assert set(model.model_fields) == {"punctuation", "greeting"}
    assert model.model_fields["greeting"].annotation is str
    assert model.model_fields["greeting"].description == "The opening word."
    assert greet.hyperparameters.defaults.model_dump() == {"punctuation": "!", "greeting": "Hello"}
    assert greet("Bo") == "Hello, Bo!"


def test_unnamed_ones_are_numbered_in_source_order_and_a_name_is_shared():
    assert list(twice.hyperparameter_model.model_fields) == ["hparam0", "hparam1"]
    assert list(same_name.hyperparameter_model.model_fields) == ["hello"]
    with hyperparameters_scope() as scope:
        assert twice() == "HelloHello"
        assert same_name() == "HelloHello"
    scope.hyperparameters[twice].hparam1 = "World"
    scope.hyperparameters[same_name].hello = "World"
    with scope():
        assert twice() == "HelloWorld"
        assert same_name() == "WorldWorld"
    assert twice() == "HelloHello"


def test_the_2_2_0_nested_example():
    assert outer() == 6
    with hyperparameters_scope() as scope:
        assert outer() == 6
    scope.hyperparameters[outer].hello = 4
    with scope():
        assert outer() == 7
    scope.hyperparameters[inner].hello = 5
    with scope():
        assert outer() == 11


def test_scopes_json_and_traces_treat_them_like_parameters():
    hparams = Hyperparameters()
    hparams[greet].greeting = "Hi"
    restored = Hyperparameters.model_validate_json(hparams.model_dump_json())
    assert json.loads(restored.model_dump_json())[greet.hyperparameters.name] == {
        "punctuation": "!",
        "greeting": "Hi",
    }
    with restored, trace() as recorded:
        assert greet("Bo", _punctuation="?") == "Hi, Bo?"
    (span,) = [span for span in recorded.spans if span.kind == "function"]
    assert span.hyperparameters == {"punctuation": "?", "greeting": "Hi"}


def test_old_module_path_and_package_name_both_work():
    from llm_hyperparameters.track_hyperparameters import Hyperparameter as Old
    from llm_hyperparameters.track_hyperparameters import hyperparameters_scope as old_scope
    from llm_hyperparameters.track_hyperparameters import track_hyperparameters as old_track

    assert Old is Hyperparameter
    assert old_scope is hyperparameters_scope
    assert old_track is track_hyperparameters
    assert llm_hyperparameters.track_hyperparameters is track_hyperparameters  # not the module


def test_outside_a_tracked_function_it_warns_and_gives_the_default():
    with pytest.warns(
        UserWarning, match="not in the body of a function decorated with @track_hyperparameters"
    ):
        assert Hyperparameter("x") @ 3 == 3


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (
            "return Hyperparameter('a')",
            r"`Hyperparameter\('a'\)` has no default; write `Hyperparameter\('a'\) @ default`",
        ),
        (
            "return Hyperparameter('a') @ len('x')",
            r"default `len\('x'\)` must be a literal or a module constant",
        ),
        ("return Hyperparameter(name) @ 1", "the name must be a string literal"),
        ("return Hyperparameter('a') @ 1 + Hyperparameter('a') @ 2", "'a' already has the default 1"),
        ("return Hyperparameter('a', 5) @ 1", r"takes only a name and `description=`"),
    ],
)
def test_bad_body_declarations_are_definition_errors(tmp_path, monkeypatch, body, match):
    module = tmp_path / "bad_body.py"
    module.write_text(f"from llm_hyperparameters import Hyperparameter\nname = 'a'\ndef f():\n    {body}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    bad_body = __import__("bad_body")
    try:
        with pytest.raises(DefinitionError, match=match) as caught:
            track_hyperparameters(bad_body.f)
        assert "bad_body.f, line 4" in str(caught.value)
    finally:
        del __import__("sys").modules["bad_body"]


def test_a_lambda_cannot_hold_body_hyperparameters():
    with pytest.raises(DefinitionError, match=r"found only in the body of a `def` function"):
        track_hyperparameters(lambda: Hyperparameter("a") @ 1)


def test_a_parameter_and_a_body_hyperparameter_cannot_share_a_name():
    def f(*, _a: int = 1) -> int:
        return Hyperparameter("a") @ 2

    with pytest.raises(DefinitionError, match="'a' is both a parameter `_a` and a Hyperparameter"):
        track_hyperparameters(f)


def test_positional_or_keyword_hyperparameters_are_accepted():
    @track_hyperparameters
    def h(x: int, _y: int = 5) -> int:
        return x + _y

    assert h(1) == 6
    assert h(1, 10) == 11  # passed by position: the argument wins
    hparams = Hyperparameters()
    hparams[h].y = 100
    with hparams:
        assert h(1) == 101
        assert h(1, 10) == 11
        assert h(1, _y=20) == 21


def make_counter(step: int):
    @track_hyperparameters
    def count(x: int, *, _start: int = 0) -> int:
        return _start + step * x

    return count


def test_a_factory_cannot_make_two_functions_that_share_a_name():
    first = make_counter(1)
    with pytest.raises(DefinitionError) as caught:
        make_counter(2)
    message = str(caught.value)
    assert message.startswith(
        "tests.hyperparameters.test_body_hyperparameters.make_counter.count: another live"
    )
    assert 'inner.__qualname__ = f"count_{label}"' in message
    assert registered()[first.hyperparameters.name] is first.hyperparameters  # not overwritten


def test_a_factory_can_name_each_function():
    def make(label: str):
        def count(x: int, *, _start: int = 0) -> int:
            return _start + x

        count.__qualname__ = f"count_{label}"
        return track_hyperparameters(count)

    first, second = make("a"), make("b")
    assert first.hyperparameters.name.endswith("test_body_hyperparameters.count_a")
    assert second.hyperparameters.name.endswith("test_body_hyperparameters.count_b")


def test_a_redefinition_replaces_the_entry():
    @track_hyperparameters
    def again(*, _x: int = 1) -> int:
        return _x

    first = again

    @track_hyperparameters
    def again(*, _x: int = 2) -> int:
        return _x

    assert registered()[again.hyperparameters.name].defaults.model_dump() == {"x": 2}
    assert first() == 1


class Scorer:
    def __call__(self, text: str, *, _bonus: int = 1) -> int:
        return len(text) + _bonus


def test_a_callable_object_is_refused_with_the_fix():
    with pytest.raises(
        DefinitionError, match=r"got Scorer object .*decorate a function, or the `__call__` method"
    ):
        track_hyperparameters(Scorer())


def test_a_call_method_can_be_tracked():
    class Tracked:
        @track_hyperparameters
        def __call__(self, text: str, *, _bonus: int = 1) -> int:
            return len(text) + _bonus

    hparams = Hyperparameters()
    hparams[Tracked.__call__].bonus = 10
    with hparams:
        assert Tracked()("abc") == 13


class Greeter:
    @track_hyperparameters
    def greet(self, name: str) -> str:
        return Hyperparameter("greeting") @ "Hello" + ", " + name

    @staticmethod
    @track_hyperparameters
    async def shout(name: str) -> str:
        return (Hyperparameter() @ "hey" + " " + name).upper()


async def test_methods_and_async_functions_read_their_body_hyperparameters():
    hparams = Hyperparameters()
    hparams[Greeter.greet].greeting = "Hi"
    hparams[Greeter.shout].hparam0 = "yo"
    with hparams:
        assert Greeter().greet("Bo") == "Hi, Bo"
        assert await Greeter.shout("Bo") == "YO BO"
    assert await Greeter.shout("Bo") == "HEY BO"
