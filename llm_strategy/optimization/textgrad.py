"""Textual gradients (TextGrad, arXiv 2406.07496): LLM critiques flow back through a graph of texts.

`Variable`s hold text with a role description; `llm_call` and `text_loss` build the graph;
`backward()` asks the model how each variable that requires gradients should change (critiques
of a variable with several successors are gathered from all of them); `TextualGradientDescent`
rewrites those variables from their gradients, under constraints, remembering past gradients.
`run` repeats forward, backward and step; the engine's session records and reports the run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, JsonValue
from typing_extensions import Unpack

from .._decorators import llm_explicit_function
from .._models import resolve_model
from ..errors import LLMCallError
from ._engine import (
    Collection,
    Job,
    JobResult,
    Outcome,
    RunOptions,
    RunResult,
    Session,
    Settings,
    StepFigures,
    TextGradStep,
    WorkerFailure,
    ask,
    run_concurrently,
)

__all__ = [
    "TextGradResult",
    "TextualGradientDescent",
    "Variable",
    "apply_gradients",
    "critique_input",
    "evaluate_text",
    "llm_call",
    "respond",
    "run",
    "text_loss",
    "total_loss",
]


class Variable:
    """A text in the computation graph; `role` says what it is, `requires_grad` whether to improve it."""

    def __init__(
        self,
        value: str,
        *,
        role: str,
        requires_grad: bool = False,
        predecessors: Sequence[Variable] = (),
        objective: str | None = None,
        kind: str = "text",
    ) -> None:
        """`kind` is `text`, `loss` (a critique of its one predecessor) or `sum` (losses together)."""
        self.value = value
        self.role = role
        self.requires_grad = requires_grad
        self.predecessors = tuple(predecessors)
        self.objective = objective
        self.kind = kind
        self.gradients: list[str] = []

    def __repr__(self) -> str:
        return f"Variable({self.role!r}, {self.value[:40]!r}{'…' if len(self.value) > 40 else ''})"

    @property
    def needs_gradient(self) -> bool:
        """Whether this variable, or anything it was computed from, requires gradients."""
        return self.requires_grad or any(item.needs_gradient for item in self.predecessors)

    def backward(self, model: Any, *, concurrency: int = 8) -> None:
        """Propagate textual gradients from this variable (a loss) to everything that needs them.

        A loss hands its critique to what it judged; a sum hands each loss its own critique;
        every other variable asks the model how each predecessor should change, given all the
        critiques it gathered from its successors, in reverse topological order.
        """
        resolved = resolve_model(model)
        if not self.gradients:
            self.gradients.append(self.value)
        for variable in reversed(_topological(self)):
            targets = [item for item in variable.predecessors if item.needs_gradient]
            if not targets or not variable.gradients:
                continue
            if variable.kind == "loss":
                for target in targets:
                    target.gradients.append(variable.value)
            elif variable.kind == "sum":
                for target in targets:
                    target.gradients.append(target.value)
            else:
                jobs = [functools.partial(_critique, resolved, variable, target) for target in targets]
                for target, critique in zip(targets, run_concurrently(jobs, concurrency), strict=True):
                    target.gradients.append(critique)


def _topological(root: Variable) -> list[Variable]:
    """Every variable the root depends on, each after all its predecessors."""
    ordered: list[Variable] = []
    seen: set[int] = set()

    def visit(variable: Variable) -> None:
        if id(variable) in seen:
            return
        seen.add(id(variable))
        for predecessor in variable.predecessors:
            visit(predecessor)
        ordered.append(variable)

    visit(root)
    return ordered


class _Answered(BaseModel):
    """Instructions and an input to respond to."""

    instructions: str = Field(description="The system prompt to follow.")
    input: str = Field(description="What to respond to.")


@llm_explicit_function
def respond(model: Any, request: _Answered) -> str:
    """Follow the instructions and respond to the input."""
    raise NotImplementedError


def llm_call(model: Any, instructions: Variable, input: Variable, *, role: str = "the response") -> Variable:
    """Forward: the model's response to `input` under `instructions`, as a variable of the graph."""
    answer = respond(resolve_model(model), _Answered(instructions=instructions.value, input=input.value))
    return Variable(answer, role=role, predecessors=[instructions, input])


class _Judged(BaseModel):
    """A text to evaluate."""

    instruction: str = Field(description="How to evaluate.")
    role: str = Field(description="What the text is.")
    text: str = Field(description="The text to evaluate.")


@llm_explicit_function
def evaluate_text(model: Any, request: _Judged) -> str:
    """Evaluate the text as instructed: a concise critique of what is wrong or missing. Do not rewrite it."""
    raise NotImplementedError


def text_loss(model: Any, instruction: str, variable: Variable) -> Variable:
    """Forward: an LLM-judged loss, a critique of `variable` that `backward()` starts from."""
    critique = evaluate_text(
        resolve_model(model), _Judged(instruction=instruction, role=variable.role, text=variable.value)
    )
    role = f"the evaluation of {variable.role}"
    return Variable(critique, role=role, predecessors=[variable], objective=instruction, kind="loss")


def total_loss(losses: Sequence[Variable]) -> Variable:
    """Several losses as one (a minibatch): backward reaches every variable through all of them."""
    text = "\n".join(f"- {loss.value}" for loss in losses)
    return Variable(text, role="the evaluations of the minibatch", predecessors=losses, kind="sum")


class _Backward(BaseModel):
    """How a text fed into an output that received feedback."""

    variable_role: str = Field(description="What the text to critique is.")
    variable: str = Field(description="The text to critique.")
    output_role: str = Field(description="What was computed from it.")
    output: str = Field(description="The computed output.")
    feedback: list[str] = Field(description="The feedback the output received.")
    objective: str | None = Field(description="What the feedback is about, if known.")


@llm_explicit_function
def critique_input(model: Any, request: _Backward) -> str:
    """Explain how the text should change so the output would get better feedback.

    Be specific and concise; say what to change in this text, not in the output.
    """
    raise NotImplementedError


def _critique(model: Any, output: Variable, target: Variable) -> str:
    request = _Backward(
        variable_role=target.role,
        variable=target.value,
        output_role=output.role,
        output=output.value,
        feedback=output.gradients,
        objective=output.objective,
    )
    return ask(critique_input, model, request)


class _Update(BaseModel):
    """A text to improve from critiques."""

    role: str = Field(description="What the text is.")
    text: str = Field(description="The current text.")
    gradients: list[str] = Field(description="Critiques of the current text: how it should change.")
    past_gradients: list[str] = Field(description="Critiques of earlier versions, oldest first.")
    constraints: list[str] = Field(description="Rules the new text must follow.")


class _Updated(BaseModel):
    """The improved text."""

    reasoning: str = Field(description="Briefly, which critiques the new text addresses and how.")
    improved: str = Field(description="The complete new text, nothing else.")


@llm_explicit_function
def apply_gradients(model: Any, request: _Update) -> _Updated:
    """Rewrite the text to address the critiques while following every constraint.

    Keep what the critiques do not ask to change.
    """
    raise NotImplementedError


class TextualGradientDescent:
    """Rewrites variables from their gradients: `optimizer.step()`, then `optimizer.zero_grad()`.

    Example:
        ```python
        prompt = Variable("Answer briefly.", role="system prompt", requires_grad=True)
        optimizer = TextualGradientDescent([prompt], model, constraints=["Keep it under 50 words."])
        loss = text_loss(model, "Is the answer correct and complete?", llm_call(model, prompt, question))
        loss.backward(model)
        optimizer.step()
        ```
    """

    def __init__(
        self, parameters: Sequence[Variable], model: Any, *, constraints: Sequence[str] = (), memory: int = 3
    ) -> None:
        if not parameters:
            raise ValueError("no parameters to optimize")
        if not all(variable.requires_grad for variable in parameters):
            raise ValueError("every parameter must have requires_grad=True")
        self.parameters = list(parameters)
        self.model = resolve_model(model)
        self.constraints = list(constraints)
        self.memory = memory
        self._past: dict[int, list[str]] = {id(variable): [] for variable in parameters}

    def step(self) -> None:
        """Rewrite every parameter that has gradients; the others stay."""
        for variable in self.parameters:
            if not variable.gradients:
                continue
            past = self._past[id(variable)]
            updated = ask(
                apply_gradients,
                self.model,
                _Update(
                    role=variable.role,
                    text=variable.value,
                    gradients=variable.gradients,
                    past_gradients=past[-self.memory :] if self.memory else [],
                    constraints=self.constraints,
                ),
            )
            past.extend(variable.gradients)
            variable.value = updated.improved.strip() or variable.value

    def zero_grad(self) -> None:
        """Forget the gradients of every parameter."""
        for variable in self.parameters:
            variable.gradients = []


@dataclass(kw_only=True)
class TextGradResult(RunResult[TextGradStep]):
    """The parameters' final and best values by role, with the shared result fields."""

    values: dict[str, str]
    best_values: dict[str, str]


def run(
    parameters: Sequence[Variable],
    forward: Callable[[int], Variable],
    *,
    model: Any,
    max_steps: int | None = None,
    evaluate: Callable[[], float] | None = None,
    constraints: Sequence[str] = (),
    memory: int = 3,
    name: str = "textgrad",
    **options: Unpack[RunOptions],
) -> TextGradResult:
    """Repeat `loss = forward(step)`, `loss.backward()`, `optimizer.step()`; keep the best by `evaluate()`.

    `forward(step)` builds the graph for a step (a minibatch, say) and returns its loss.
    `evaluate()` (higher is better) scores the current parameters, on the run's executor; without
    it the last values count as the best. `max_steps` is the budget's step limit (default 5
    unless the budget limits evaluations, LLM calls or time); `options` are the run options every
    optimizer accepts (`RunOptions`). Every step is recorded; `resume=True` restores the values.
    """
    settings = Settings.of(options, max_steps=max_steps, default_steps=5)
    if evaluate is None and settings.budget.max_evaluations is not None:
        raise ValueError(
            "Budget(max_evaluations=...) counts evaluate() calls and there is no evaluate=: give one, "
            "or limit steps, LLM calls or wall time"
        )
    roles = [variable.role for variable in parameters]
    if len(set(roles)) != len(roles):
        raise ValueError(f"parameters need distinct roles, got {roles}")
    optimizer = TextualGradientDescent(parameters, model, constraints=constraints, memory=memory)
    session = Session("textgrad", name, {"parameters": list[JsonValue](roles)}, settings)
    steps = _TextGradSteps(session, parameters, forward, optimizer, evaluate)
    config = {"max_steps": settings.budget.max_steps, "constraints": list(constraints)}
    shared = session.run(steps, config)
    best = steps.best()
    return TextGradResult(
        **vars(shared), values=_values(parameters), best_values=best.values if best else _values(parameters)
    )


class _TextGradSteps:
    best_label = "best"
    start_name = "start"

    def __init__(
        self,
        session: Session,
        parameters: Sequence[Variable],
        forward: Callable[[int], Variable],
        optimizer: TextualGradientDescent,
        evaluate: Callable[[], float] | None,
    ) -> None:
        self.session, self.parameters, self.forward = session, parameters, forward
        self.optimizer, self.evaluate = optimizer, evaluate
        self.steps: Collection[TextGradStep] = session.store.collection("task_runs", TextGradStep)
        self.records: list[TextGradStep] = []

    def load(self, session: Session) -> None:
        self.records = self.steps.all()
        if self.evaluate is not None:  # each step that did not fail called evaluate() once
            session.usage.evaluations = sum(1 for record in self.records if record.error is None)
        self._restore()

    def _restore(self) -> None:
        for record in self.records[-1:]:
            for variable in self.parameters:
                variable.value = record.values[variable.role]

    def run_step(self, number: int) -> None:
        if any(record.step == number for record in self.records):
            return  # recorded before the process stopped; its values are restored
        loss: str | None = None
        error: str | None = None
        if number > 0:
            try:
                computed = self.forward(number)
                computed.backward(self.optimizer.model)
                self.optimizer.step()
                loss = computed.value
            except LLMCallError as failure:
                error = f"{type(failure).__name__}: {failure}"
            finally:
                self.optimizer.zero_grad()
        record = TextGradStep(
            id=f"{number:03d}",
            step=number,
            values=_values(self.parameters),
            score=self._score() if error is None else None,
            loss=loss,
            error=error,
        )
        self.steps.write(record.id, record)
        self.records.append(record)
        self.session.progress.advance(number, self._best_score(), self.session.usage.total_tokens)

    def _score(self) -> float | None:
        if self.evaluate is None:
            return None
        scores: list[float | None] = []

        def done(job: Job, result: JobResult) -> None:
            outcome = result.outcome
            scores.append(None if isinstance(outcome, WorkerFailure) else float(outcome))

        self.session.submit([Job("evaluate", _called, (self.evaluate,))], done)
        return scores[0]

    def best(self) -> TextGradStep | None:
        scored = [record for record in self.records if record.score is not None]
        if scored:
            return max(scored, key=lambda record: record.score or 0.0)
        return self.records[-1] if self.records else None

    def _best_score(self) -> float | None:
        best = self.best()
        return best.score if best is not None else None

    def stop_reason(self) -> str | None:
        last = self.records[-1] if self.records else None
        return f"step failed: {last.error}" if last is not None and last.error else None

    def figures(self, number: int) -> StepFigures:
        record = next(record for record in self.records if record.step == number)
        return StepFigures(
            runs=1,
            mean_score=record.score,
            best_score=self._best_score(),
            failures=1 if record.error else 0,
            reason=record.error,
        )

    def index_rows(self, number: int) -> list[tuple[str, float | None, str]]:
        return [(record.id, record.score, record.error or record.loss or "") for record in self.records
                if record.step == number]  # fmt: skip

    def outcome(self) -> Outcome[TextGradStep]:
        roles = [variable.role for variable in self.parameters]
        columns = ["id", "step", "score", "loss", "error", *roles]
        rows = [
            [r.id, r.step, r.score, r.loss, r.error, *(r.values[role] for role in roles)]
            for r in self.records
        ]
        errors = [record.error for record in self.records if record.error]
        stepped = [record for record in self.records if record.step > 0]
        best = self.best()
        return Outcome(
            history=list(self.records),
            best_score=self._best_score(),
            best=dict(best.values) if best else None,
            table=(columns, rows),
            points=[(record.step, record.score) for record in self.records if record.score is not None],
            succeeded=sum(1 for record in stepped if not record.error) if stepped else 1,
            first_error=errors[0] if errors else None,
        )


def _called(function: Callable[[], Any]) -> Any:
    return function()


def _values(parameters: Sequence[Variable]) -> dict[str, str]:
    return {variable.role: variable.value for variable in parameters}
