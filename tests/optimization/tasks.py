"""Tasks and models shared by the optimization tests (importable by subprocesses too)."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from pydantic import BaseModel, Field

from llm_hyperparameters import track_hyperparameters
from llm_strategy import llm_function
from llm_strategy.testing import ScriptedChatModel, SyntheticChatModel


class Topic(BaseModel):
    topic: str = Field(description="What to write about.")


@llm_function
def write_note(model, topic: str = Field(..., description="What to write about.")) -> str:
    """Write a short note about the topic."""
    raise NotImplementedError


@track_hyperparameters
def shout(
    model: Any, topic: str, *, _volume: int = Field(2, ge=1, le=5, description="How many exclamation marks.")
) -> str:
    """Shout the topic (no model needed)."""
    if topic == "fail":
        raise RuntimeError("cannot shout 'fail'")
    return topic.upper() + "!" * _volume


def volume_score(run: Any) -> tuple[float, str]:
    """Louder is better."""
    text = run.return_value or ""
    return float(text.count("!")), f"{text.count('!')} marks"


def untracked(model: Any, topic: str) -> str:
    """Not tracked at all."""
    return topic


class SlowSynthetic(SyntheticChatModel):
    """The synthetic model in prompt mode, with a delay per request (each noted in `request_log`, if set)."""

    delay: float = 0.05
    structured_output: bool = False
    request_log: str | None = None

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        if self.request_log is not None:
            with open(self.request_log, "a") as file:
                file.write("request\n")
        time.sleep(self.delay)
        return super()._generate(messages, stop, run_manager, **kwargs)


REFLECTION = {
    "feedback": "ok",
    "evaluation": "fine",
    "hyperparameter_suggestion": "louder",
    "hyperparameter_missing": "none",
}


def optimizer_replying(suggestions: list[Any], probability: float = 0.9) -> ScriptedChatModel:
    """A prompt-mode optimizer: fixed reflections, the suggestion replies in turn, a fixed probability."""
    pending = list(suggestions)

    def reply(messages: list[Any]) -> str:
        prompt = messages[0].text
        if prompt.startswith("LLMOptimizer.reflect_on_task_run"):
            value: Any = REFLECTION
        elif prompt.startswith("LLMOptimizer.suggest_next_optimization_step"):
            value = pending.pop(0) if len(pending) > 1 else pending[0]
        elif prompt.startswith("LLMOptimizer.summarize_optimization_info"):
            value = "Louder helped."
        else:
            value = {"considerations": ["more volume"], "probability": probability}
        return json.dumps({"return_value": value})

    return ScriptedChatModel(replies=reply)


QUIET_SUGGESTION = {
    "best_hyperparameters": {},
    "suggestion": "Vary the volume.",
    "task_parameters_suggestions": [{"topic": "bees"}],
    "hyperparameter_suggestions": [{shout.hyperparameters.name: {"volume": 4}}],
}


@track_hyperparameters
def where_am_i(model: Any, topic: str, *, _volume: int = 2) -> str:
    """Say which process ran the task (louder with volume)."""
    return f"{topic}:{os.getpid()}" + "!" * _volume


def crash_worker(x: str) -> float:
    """Kill the worker process that evaluates it."""
    os._exit(3)


def judged_length(x: str) -> tuple[float, str]:
    """Longer is better; the judge first asks a synthetic model for a note (an LLM request to count)."""
    write_note(SyntheticChatModel(seed=1), topic=x)
    return float(len(x)), f"{len(x)} characters, pid {os.getpid()}"


@track_hyperparameters
def keyed_shout(
    model: Any,
    topic: str,
    *,
    _api_key: str = "default-key-0000",
    _volume: int = Field(2, ge=1, le=5, description="How many exclamation marks."),
) -> str:
    """Shout the topic and say which key it used (a task that echoes its secret)."""
    return f"{topic.upper()}{'!' * _volume} (key {_api_key})"


@track_hyperparameters
def follow(model: Any, kind: str, *, _instruction: str = "", _api_key: str = "sk-test") -> str:
    """Echo the instruction for an instance of a kind (no model needed)."""
    return f"{kind}:{_instruction}"


def kind_score(run: Any) -> tuple[float, str]:
    """Kind a wants an A, kind b a B; an instruction with both serves a only half."""
    instruction = (run.return_value or ":").split(":", 1)[1]
    kind = run.task_parameters.kind
    if kind == "a":
        score = (0.5 if "B" in instruction else 1.0) if "A" in instruction else 0.0
    else:
        score = 1.0 if "B" in instruction else 0.0
    return score, f"kind {kind} {'got' if score else 'missed'} its letter"


def proposer_replying(values: list[str]) -> ScriptedChatModel:
    """A prompt-mode reflective proposer: the new values in turn (the last one repeats)."""
    pending = list(values)

    def reply(messages: list[Any]) -> str:
        value = pending.pop(0) if len(pending) > 1 else pending[0]
        return json.dumps({"return_value": {"lessons": f"try {value}", "new_value": value}})

    return ScriptedChatModel(replies=reply)


@track_hyperparameters
def frame(model: Any, kind: str, *, _prefix: str = "", _suffix: str = "") -> str:
    """Frame the kind with a prefix and a suffix (no model needed)."""
    return f"{_prefix}|{kind}|{_suffix}"


def frame_score(run: Any) -> float:
    """Kind a wants an A in front, kind b a B behind, kind c half likes no frame at all."""
    prefix, kind, suffix = run.return_value.split("|")
    if kind == "a":
        return float("A" in prefix)
    if kind == "b":
        return float("B" in suffix)
    return 0.5 if not prefix and not suffix else 0.0


@track_hyperparameters
def whisper(model: Any, topic: str, *, _volume: int = 1) -> str:
    """Whisper the topic (no model needed)."""
    return topic.lower() + "." * _volume


def route(model: Any, topic: str) -> str:
    """Shout upper-case topics, whisper the others: each run calls one of two tracked functions."""
    return shout(model, topic) if topic.isupper() else whisper(model, topic)


def marks_score(run: Any) -> float:
    """More marks of either kind are better."""
    text = run.return_value or ""
    return float(text.count("!") + text.count("."))


@track_hyperparameters
def keyed_frame(
    model: Any,
    kind: str,
    *,
    _prefix: str = Field("", description="Put in front."),
    _suffix: str = "",
    _api_key: str = "sk-frame-0000",
) -> str:
    """Frame the kind like `frame`, holding an API key that is never a component (no model needed)."""
    return f"{_prefix}|{kind}|{_suffix}"


def chooser_replying(changes: list[tuple[str, Any]]) -> ScriptedChatModel:
    """A prompt-mode reflective proposer choosing its components: `(component, new value)` in turn."""
    pending = list(changes)

    def reply(messages: list[Any]) -> str:
        component, value = pending.pop(0) if len(pending) > 1 else pending[0]
        change = {"component": component, "new_value": value}
        return json.dumps({"return_value": {"lessons": f"change {component}", "change": change}})

    return ScriptedChatModel(replies=reply)
