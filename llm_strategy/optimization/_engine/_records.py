"""Typed records: everything a run writes, resumes from or returns, each read and written through one adapter.

`FORMAT_VERSION` is written into `run.json`; a run directory of another version is refused
with a `ResumeError` rather than misread.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from .._schemas import TaskReflection
from ._budget import Usage

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ChatMessage",
    "ChatRequest",
    "ComponentSelection",
    "Duplicate",
    "Evaluated",
    "MetaDecision",
    "ParetoStep",
    "Reflection",
    "RunInfo",
    "RunSummary",
    "SearchDecision",
    "StepRow",
    "Suggestion",
    "TaskRunRecord",
    "TextGradStep",
]

FORMAT = "llm-strategy/optimization-run"
FORMAT_VERSION = 2
X = TypeVar("X")
ComponentSelection = Literal["round_robin", "reflection"]
"""Who chooses the component a Pareto step rewrites: the step number in turn, or the reflective proposer."""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunInfo(_Record):
    """`run.json`: the format, what kind of optimizer, and what is optimized."""

    format: str = FORMAT
    version: int = FORMAT_VERSION
    kind: str
    task: str
    identity: dict[str, JsonValue] = Field(default_factory=dict)


class StepRow(_Record):
    """One line of the summary table: a finished step's figures."""

    step: int
    runs: int = 0
    mean_score: float | None = None
    best_score: float | None = None
    failures: int = 0
    reason: str | None = Field(None, description="Why the step's first failure failed.")
    improvement_probability: float | None = None
    tokens: int = 0
    cost: float = 0.0


class RunState(_Record):
    """`state.json`: usage so far and the finished steps."""

    usage: Usage = Field(default_factory=Usage)
    steps: list[StepRow] = Field(default_factory=list)


class RunSummary(_Record):
    """`result.json`: how the run ended."""

    stop_reason: str
    steps: int
    records: int
    best_score: float | None
    failed: bool
    first_error: str | None
    usage: Usage
    test_score: float | None = Field(None, description="The best's score on the held-out test set.")


class ChatMessage(_Record):
    """A message sent to a model, shortened."""

    role: str
    content: str


class ChatRequest(_Record):
    """One LLM request of a task run: its new messages (system prompts once) and the reply."""

    messages: list[ChatMessage]
    reply: str


class TaskRunRecord(_Record):
    """One task run of the meta-optimizer: what went in, what came out, its score; written once."""

    id: str
    step: int
    task_parameters: dict[str, JsonValue]
    hyperparameters: dict[str, dict[str, JsonValue]]
    return_value: JsonValue = None
    exception: str | None = None
    chat_chains: list[ChatRequest] = Field(default_factory=list)
    seconds: float = 0.0
    score: float | None = None
    evaluation: str | None = None
    changed: dict[str, dict[str, JsonValue]] = Field(default_factory=dict)
    worker: str = Field("", description="Where the task ran: host and process id.")
    reflection: TaskReflection | None = Field(None, description="Filled in from `reflections/<id>.json`.")
    reflection_error: str | None = None

    @property
    def failure(self) -> str | None:
        """Why the run failed (its exception, or the evaluator's complaint), or None."""
        if self.exception is not None:
            return self.exception
        if self.score is None and self.evaluation and self.evaluation.startswith("evaluator failed"):
            return self.evaluation
        return None


class Reflection(_Record):
    """`reflections/<id>.json`: the optimizer's reflection on a task run, or why it failed."""

    id: str
    reflection: TaskReflection | None
    error: str | None = None


class Suggestion(_Record):
    """The optimizer's suggested next step, as recorded."""

    text: str
    best_hyperparameters: dict[str, dict[str, JsonValue]]
    task_parameters: list[dict[str, JsonValue]]
    hyperparameters: list[dict[str, dict[str, JsonValue]]]


class Duplicate(_Record):
    """A suggested pair that was not run, and why."""

    task_parameters: dict[str, JsonValue]
    hyperparameters: dict[str, dict[str, JsonValue]]
    reason: str


class MetaDecision(_Record):
    """`steps/<n>.json` of the meta-optimizer: each phase's outcome, written as it happens.

    A phase that is recorded is not repeated on resume; a finished step is never rewritten.
    """

    step: int
    suggestion: Suggestion | None = None
    suggestion_error: str | None = None
    duplicates: list[Duplicate] = Field(default_factory=list)
    summarized: bool = False
    summary: str | None = None
    summary_covers: int = 0
    summary_error: str | None = None
    judged: bool = False
    probability: float | None = None
    considerations: list[str] = Field(default_factory=list)
    probability_error: str | None = None


class Evaluated(_Record, Generic[X]):
    """A scored candidate of black-box or OPRO (score None when `f` failed: `feedback` says why)."""

    id: str
    step: int
    x: X
    score: float | None
    feedback: str
    worker: str = ""


class SearchDecision(_Record):
    """`steps/<n>.json` of a search: the candidates to evaluate (recorded before they run)."""

    step: int
    candidates: list[Any] = Field(default_factory=list)
    duplicates: list[Any] = Field(default_factory=list)
    error: str | None = None


class TextGradStep(_Record):
    """One TextGrad step: the parameters' values after it, their score, the loss it descended."""

    id: str
    step: int
    values: dict[str, str]
    score: float | None = None
    loss: str | None = None
    error: str | None = Field(None, description="Why the step failed (the values stayed).")


class ParetoStep(_Record):
    """`pareto_steps/<n>.json` of the Pareto selection: the parent, the mutated component, the gate's verdict.

    Written after each phase (choice, proposal, gate); the child `c<step>` is a candidate iff accepted.
    """

    step: int
    parent: str
    other_parent: str | None = Field(None, description="A merge's second parent.")
    component: str | None = Field(
        None, description="The mutated component, `function:field` (None: a merge, or not yet chosen)."
    )
    chosen_by: ComponentSelection | None = Field(
        None,
        description="Who chooses the component, recorded before it is chosen (None: a merge, an older run).",
    )
    minibatch: list[int] = Field(default_factory=list, description="Indices into the train set.")
    lessons: str | None = None
    hyperparameters: dict[str, dict[str, JsonValue]] | None = Field(None, description="The child's values.")
    proposal_error: str | None = None
    parent_scores: list[float | None] = Field(default_factory=list)
    child_scores: list[float | None] = Field(default_factory=list)
    accepted: bool | None = None
