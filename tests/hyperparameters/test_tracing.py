"""Traces: span trees of tracked calls and blocks, JSON round trips, redaction, truncation, scale."""

import json
import time

import pytest

from llm_hyperparameters import (
    Hyperparameters,
    Trace,
    current_span,
    span,
    start_span,
    trace,
    track_hyperparameters,
    write_html,
)

CANARY = "canary-7f3a9c1e5b2d"


@track_hyperparameters
def outer(x: int, *, _factor: int = 2) -> int:
    """Outer."""
    return inner(x) * _factor


@track_hyperparameters
def inner(x: int, *, _offset: int = 1) -> int:
    """Inner."""
    return x + _offset


@track_hyperparameters
def failing(x: int, *, _mode: str = "strict") -> int:
    """Fails."""
    raise ValueError(f"bad {x}")


def test_tracked_calls_form_a_tree():
    with trace("numbers") as recorded:
        assert outer(3) == 8
    root, outer_span, inner_span = recorded.spans
    assert (root.kind, root.name, root.parent_id) == ("trace", "numbers", None)
    assert outer_span.parent_id == root.id and inner_span.parent_id == outer_span.id
    assert outer_span.inputs == {"x": 3} and outer_span.outputs == 8
    assert outer_span.hyperparameters == {"factor": 2} and inner_span.hyperparameters == {"offset": 1}
    assert all(item.duration is not None and item.duration >= 0 for item in recorded.spans)
    assert recorded.children(outer_span) == [inner_span]


def test_hyperparameters_in_force_are_recorded():
    scope = Hyperparameters()
    scope[inner].offset = 10
    with trace() as recorded, scope:
        assert outer(1) == 22
    assert recorded.spans[2].hyperparameters == {"offset": 10}


def test_errors_are_recorded_and_still_raised():
    with pytest.raises(ValueError, match="bad 4"), trace() as recorded:
        failing(4)
    root, call = recorded.spans
    assert (call.error.type, call.error.message) == ("ValueError", "bad 4")
    assert root.error is not None and root.end_time is not None


def test_blocks_and_manual_spans():
    assert current_span() is None
    with span("outside") as nothing:
        assert nothing is None  # no trace, no span
    assert start_span("x", "llm") is None
    with trace("t") as recorded, span("block", inputs={"q": 1}) as block:
        assert current_span() is block
        request = start_span("request", "llm", inputs={"messages": []})
        request.finish(outputs={"reply": "ok"})
    assert request.parent_id == block.id and request.outputs == {"reply": "ok"}
    assert recorded.summary()["llm_calls"] == 1


def test_json_round_trip_with_stable_schema():
    with trace("round") as recorded:
        outer(2)
    data = recorded.to_dict()
    assert data["schema"] == "llm-hyperparameters/trace" and data["version"] == 1
    assert set(data["spans"][1]) == {
        "id", "parent_id", "name", "kind", "start_time", "end_time", "duration",
        "inputs", "outputs", "error", "hyperparameters", "attributes",
    }  # fmt: skip
    restored = Trace.from_json(recorded.to_json())
    assert restored.to_dict() == data
    with pytest.raises(ValueError, match="not a llm-hyperparameters/trace document"):
        Trace.from_dict({"schema": "other", "version": 1, "spans": []})
    with pytest.raises(ValueError):
        Trace.from_dict({**data, "version": 99})


def test_unserializable_values_never_break_export():
    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    @track_hyperparameters
    def make(*, _n: int = 1) -> object:
        """Make something opaque."""
        return Opaque()

    with trace() as recorded:
        make()
    assert recorded.to_dict()["spans"][1]["outputs"] == "<opaque>"


@track_hyperparameters
def connect(url: str, api_key: str, *, _timeout: float = 1.0) -> str:
    """Connect."""
    return f"connected to {url} with {api_key}"


def test_secrets_are_redacted_in_every_export(monkeypatch, tmp_path):
    monkeypatch.setenv("MY_SERVICE_API_KEY", CANARY + "-env")
    with (
        trace("secrets") as recorded,
        span("config", inputs={"password": CANARY, "note": f"key is {CANARY}-env"}),
    ):
        connect("https://example.test", CANARY)
        connect("https://example.test", "sk-abcdefghijklmnopqrstu")
    (tmp_path / "trace.json").write_text(recorded.to_json())
    write_html(recorded, tmp_path / "trace.html")
    for path in tmp_path.iterdir():
        text = path.read_text()
        assert CANARY not in text and "sk-abcdefghijklmnopqrstu" not in text, path
        assert "[REDACTED]" in text and "connected to https://example.test" in text


def test_token_counts_are_not_mistaken_for_secrets():
    with (
        trace() as recorded,
        span("request", "llm", attributes={"usage": {"total_tokens": 12, "max_tokens": 5}}),
    ):
        pass
    assert recorded.to_dict()["spans"][1]["attributes"]["usage"] == {"total_tokens": 12, "max_tokens": 5}


def test_very_long_strings_are_truncated_visibly():
    with trace() as recorded, span("big", inputs={"text": "x" * 50_000}):
        pass
    shown = recorded.to_dict(max_chars=1_000)["spans"][1]["inputs"]["text"]
    assert shown.startswith("x" * 1_000) and shown.endswith("…[truncated 49000 chars]")


def test_ten_thousand_spans_still_export():
    with trace("many") as recorded:
        for index in range(9_999):
            inner(index)
    assert len(recorded.spans) == 10_000
    start = time.perf_counter()
    data = json.loads(recorded.to_json())
    assert len(data["spans"]) == 10_000 and data["summary"]["calls"] == 9_999
    assert time.perf_counter() - start < 30


@pytest.mark.parametrize(
    "key",
    [
        "sk-proj-abcdefghijklmnop1234",
        "Bearer abcdefghijklmnop",
        "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        "gsk_abcdefghijklmnopqrstuvwx",
        "hf_abcdefghijklmnopqrstuvwx",
        "ghp_abcdefghijklmnopqrstuvwx",
        "AKIAABCDEFGHIJKLMNOP",
    ],
)
def test_key_shaped_strings_of_common_providers_are_redacted(key):
    from llm_hyperparameters import Redactor

    assert Redactor().text(f"auth {key} failed") == "auth [REDACTED] failed"
