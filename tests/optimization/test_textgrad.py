"""Textual gradients: the graph, backward aggregation, the descent step, and the loop."""

import json

import pytest

from llm_strategy.optimization import Budget
from llm_strategy.optimization import textgrad as tg
from llm_strategy.testing import ScriptedChatModel


def scripted_textgrad():
    """A prompt-mode model that plays every TextGrad role, and remembers the requests it saw."""
    seen = {"respond": [], "evaluate": [], "critique": [], "apply": []}

    def reply(messages):
        prompt, request = messages[0].text, json.loads(messages[1].text)
        if prompt.startswith("respond"):
            seen["respond"].append(request)
            value = f"answer to {request['input']}"
        elif prompt.startswith("evaluate_text"):
            seen["evaluate"].append(request)
            value = f"too long: {request['text']}"
        elif prompt.startswith("critique_input"):
            seen["critique"].append(request)
            value = f"shorten for {request['output']}"
        else:
            seen["apply"].append(request)
            value = {"reasoning": "addressed", "improved": request["text"] + " Be brief."}
        return json.dumps({"return_value": value})

    return ScriptedChatModel(replies=reply), seen


def test_gradients_flow_back_and_aggregate_over_successors():
    model, seen = scripted_textgrad()
    prompt = tg.Variable("Answer.", role="system prompt", requires_grad=True)
    questions = [tg.Variable(text, role="question") for text in ("q1", "q2")]
    outputs = [tg.llm_call(model, prompt, question) for question in questions]
    loss = tg.total_loss([tg.text_loss(model, "Is it brief?", output) for output in outputs])
    loss.backward(model)
    assert outputs[0].gradients == ["too long: answer to q1"]  # a loss hands over its critique
    assert sorted(prompt.gradients) == [
        "shorten for answer to q1",
        "shorten for answer to q2",
    ]  # two successors
    assert questions[0].gradients == []  # no gradient where none is required
    feedback = sorted(request["feedback"][0] for request in seen["critique"])
    assert feedback == ["too long: answer to q1", "too long: answer to q2"]


def test_descent_rewrites_with_constraints_and_memory():
    model, seen = scripted_textgrad()
    prompt = tg.Variable("Answer.", role="system prompt", requires_grad=True)
    optimizer = tg.TextualGradientDescent([prompt], model, constraints=["Stay polite."], memory=1)
    for expected in ("Answer. Be brief.", "Answer. Be brief. Be brief."):
        prompt.gradients = ["shorter"]
        optimizer.step()
        optimizer.zero_grad()
        assert prompt.value == expected and prompt.gradients == []
    assert seen["apply"][0]["constraints"] == ["Stay polite."] and seen["apply"][0]["past_gradients"] == []
    assert seen["apply"][1]["past_gradients"] == ["shorter"]


def test_bad_parameters_are_clear_errors():
    model, _ = scripted_textgrad()
    with pytest.raises(ValueError, match="no parameters"):
        tg.TextualGradientDescent([], model)
    with pytest.raises(ValueError, match="requires_grad=True"):
        tg.TextualGradientDescent([tg.Variable("x", role="fixed")], model)
    with pytest.raises(ValueError, match="distinct roles"):
        same = [
            tg.Variable("a", role="p", requires_grad=True),
            tg.Variable("b", role="p", requires_grad=True),
        ]
        tg.run(same, lambda step: same[0], model=model, wandb=False, progress=False)


def test_the_loop_records_each_step_keeps_the_best_and_resumes(tmp_path):
    model, _ = scripted_textgrad()
    prompt = tg.Variable("Answer.", role="system prompt", requires_grad=True)

    def forward(step):
        return tg.text_loss(
            model, "Is it brief?", tg.llm_call(model, prompt, tg.Variable(f"q{step}", role="question"))
        )

    options = {"model": model, "run_directory": tmp_path / "run", "wandb": False, "progress": False}
    result = tg.run([prompt], forward, max_steps=2, evaluate=lambda: -len(prompt.value), **options)
    assert [record.step for record in result.history] == [0, 1, 2]
    assert result.values == {"system prompt": "Answer. Be brief. Be brief."}
    assert (
        result.best_values == {"system prompt": "Answer."} and result.best_score == -7
    )  # shorter scored higher
    assert result.history[1].loss == "too long: answer to q1"
    prompt.value = "changed meanwhile"
    again = tg.run(
        [prompt], forward, max_steps=2, resume=True, evaluate=lambda: -len(prompt.value), **options
    )
    assert (
        len(again.history) == 3 and prompt.value == "Answer. Be brief. Be brief."
    )  # restored, nothing redone


def test_an_evaluation_budget_alone_ends_the_run(tmp_path):
    """Each evaluate() is one evaluation: Budget(max_evaluations=3) replaces the default step limit."""
    model, _ = scripted_textgrad()
    prompt = tg.Variable("Answer.", role="system prompt", requires_grad=True)

    def forward(step):
        return tg.text_loss(model, "Brief?", tg.llm_call(model, prompt, tg.Variable("q", role="question")))

    calls = []
    result = tg.run(
        [prompt],
        forward,
        model=model,
        evaluate=lambda: calls.append(1) or -len(prompt.value),
        budget=Budget(max_evaluations=3),
        run_directory=tmp_path / "run",
        wandb=False,
        progress=False,
    )
    assert result.stop_reason == "budget spent: evaluations" and len(calls) == 3 and result.steps == 2
    assert result.usage.evaluations == 3


def test_an_evaluation_budget_without_evaluate_is_refused(tmp_path):
    model, _ = scripted_textgrad()
    prompt = tg.Variable("Answer.", role="system prompt", requires_grad=True)
    with pytest.raises(
        ValueError, match=r"^Budget\(max_evaluations=...\) counts evaluate\(\) calls and there is no"
    ):
        tg.run([prompt], lambda step: None, model=model, budget=Budget(max_evaluations=3), wandb=False)
