"""@track_hyperparameters and Hyperparameters scopes: defaults, recording, overrides, isolation."""

import asyncio
import gc
import json
import threading

import pytest
from pydantic import Field, ValidationError

from llm_hyperparameters import DefinitionError, Hyperparameters, lookup, registered, track_hyperparameters


@track_hyperparameters
def write_essay(
    model,
    topic: str,
    *,
    _style: str = "concise",
    _temperature: float = Field(0.7, description="Sampling temperature."),
) -> str:
    """Write an essay."""
    return f"{topic}|{_style}|{_temperature}"


@track_hyperparameters
async def write_async(topic: str, *, _length: int = 3) -> str:
    """Write asynchronously."""
    await asyncio.sleep(0)
    return f"{topic}|{_length}"


class Writer:
    @track_hyperparameters
    def sign(self, name: str, *, _greeting: str = "Regards") -> str:
        """Sign a letter."""
        return f"{_greeting}, {name}"


def test_defaults_apply_outside_any_scope():
    assert write_essay(None, "bees") == "bees|concise|0.7"  # the Field default resolves to its value
    assert write_essay(None, "bees", _style="long") == "bees|long|0.7"


def test_each_function_has_a_typed_model():
    model = write_essay.hyperparameter_model
    assert set(model.model_fields) == {"style", "temperature"}
    assert model.model_fields["temperature"].description == "Sampling temperature."
    assert write_essay.hyperparameters.name.endswith("test_tracking.write_essay")


def test_scope_records_values_and_puts_changes_in_force():
    with Hyperparameters() as recorded:
        assert write_essay(None, "bees") == "bees|concise|0.7"
    assert recorded.model_dump() == {
        write_essay.hyperparameters.name: {"style": "concise", "temperature": 0.7}
    }
    recorded[write_essay].style = "playful"
    with recorded:
        assert write_essay(None, "bees") == "bees|playful|0.7"
        assert write_essay(None, "bees", _style="dry") == "bees|dry|0.7"  # an explicit argument wins
    assert write_essay(None, "bees") == "bees|concise|0.7"  # out of the scope again


def test_indexing_by_function_or_name_and_errors():
    hparams = Hyperparameters()
    name = write_essay.hyperparameters.name
    hparams[name].temperature = 0.2
    assert hparams[write_essay].temperature == 0.2
    with pytest.raises(ValidationError):
        hparams[write_essay].temperature = "hot"
    with pytest.raises(KeyError, match=r"'nope' is not a tracked function or name; known: .*write_essay"):
        hparams["nope"]
    with pytest.raises(KeyError):
        hparams[len]


def test_json_round_trip_and_schema():
    hparams = Hyperparameters()
    hparams[write_essay].style = "formal"
    hparams[Writer.sign].greeting = "Cheers"
    text = hparams.model_dump_json()
    restored = Hyperparameters.model_validate_json(text)
    assert restored == hparams and isinstance(restored, Hyperparameters)
    assert isinstance(Hyperparameters(), Hyperparameters)
    with pytest.raises(ValidationError):
        Hyperparameters.model_validate({write_essay.hyperparameters.name: {"temperature": "hot"}})
    schema = json.dumps(Hyperparameters.model_json_schema())
    assert (
        "Sampling temperature." in schema
        and "Write an essay." in schema
        and write_essay.hyperparameters.name in schema
    )


def test_nested_scopes_inner_wins_and_falls_back():
    outer = Hyperparameters()
    outer[write_essay].style = "outer"
    outer[Writer.sign].greeting = "Outer"
    inner = Hyperparameters()
    inner[write_essay].style = "inner"
    with outer, inner:
        assert write_essay(None, "x") == "x|inner|0.7"
        assert Writer().sign("Ann") == "Outer, Ann"
    assert inner[Writer.sign].greeting == "Outer"  # recorded from the outer scope it fell back to


def test_scopes_must_close_in_order():
    first, second = Hyperparameters(), Hyperparameters()
    first.__enter__()
    second.__enter__()
    with pytest.raises(RuntimeError, match="exited in the order"):
        first.__exit__(None, None, None)
    second.__exit__(None, None, None)
    first.__exit__(None, None, None)


def test_threads_do_not_share_scopes():
    playful = Hyperparameters()
    playful[write_essay].style = "playful"
    seen = {}
    entered, checked = threading.Event(), threading.Event()

    def inside():
        with playful:
            entered.set()
            checked.wait(5)
            seen["inside"] = write_essay(None, "t")

    worker = threading.Thread(target=inside)
    worker.start()
    entered.wait(5)
    seen["outside"] = write_essay(None, "t")
    checked.set()
    worker.join()
    assert seen == {"inside": "t|playful|0.7", "outside": "t|concise|0.7"}


async def test_asyncio_tasks_do_not_share_scopes():
    async def run(style: str) -> str:
        scope = Hyperparameters()
        scope[write_async].length = len(style)
        with scope:
            await asyncio.sleep(0.01)
            return await write_async(style)

    assert await asyncio.gather(run("a"), run("bbb")) == ["a|1", "bbb|3"]
    assert await write_async("z") == "z|3"


def test_methods_and_async_functions_are_tracked():
    scope = Hyperparameters()
    scope[Writer.sign].greeting = "Yours"
    with scope:
        assert Writer().sign("Bo") == "Yours, Bo"


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("def f(_a: int = 1, /): ...", "'_a' must be keyword-only"),
        ("def f(x, *, _a=1): ...", "'_a' has no type annotation"),
        ("def f(x, *, _a: int): ...", "'_a' has no default"),
        ("def f(x, *, _a: int = Field(description='d')): ...", "'_a' has no default"),
    ],
)
def test_bad_declarations_are_definition_errors(source, match):
    namespace = {"Field": Field}
    exec(source, namespace)  # the test builds each bad definition from source
    with pytest.raises(DefinitionError, match=match) as caught:
        track_hyperparameters(namespace["f"])
    assert isinstance(caught.value, TypeError)


def test_registry_does_not_keep_functions_alive():
    def make():
        @track_hyperparameters
        def temporary(*, _x: int = 1) -> int:
            """Temporary."""
            return _x

        return temporary.hyperparameters.name

    name = make()
    gc.collect()
    assert name not in registered()
    with pytest.raises(KeyError):
        lookup(name)
