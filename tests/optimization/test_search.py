"""Black-box optimization, OPRO and the LLM judge, offline."""

import json

import pytest
from pydantic import BaseModel

from llm_strategy.optimization import blackbox, judge, opro
from llm_strategy.optimization.opro import bucketed
from llm_strategy.testing import ScriptedChatModel, SyntheticChatModel


def proposer(*batches):
    """A prompt-mode model that proposes the given batches of solutions in turn (the last one repeats)."""
    pending = list(batches)

    def reply(messages):
        batch = pending.pop(0) if len(pending) > 1 else pending[0]
        return json.dumps({"return_value": [{"reasoning": "r", "solution": text} for text in batch]})

    return ScriptedChatModel(replies=reply)


def options(tmp_path, **extra):
    return {"run_directory": tmp_path / "run", "wandb": False, "progress": False, **extra}


def length(x):
    return len(x), f"{len(x)} characters"


def test_blackbox_returns_best_score_history_and_best_x(tmp_path):
    model = proposer(["abc", "abcd"], ["abcdefgh"])
    result = blackbox.run(
        "Grow", "Make it longer.", length, "ab", stop_score=8, max_steps=5, model=model, **options(tmp_path)
    )
    assert result.best_x == "abcdefgh" and result.best_score == 8
    assert (
        result.scores == [2, 3, 4, 8] and result.stop_reason == "stop score 8 reached" and result.steps == 2
    )
    request = json.loads(model.calls[1][1].text)
    assert request["best"] == {"solution": "abcd", "score": 4.0, "feedback": "4 characters"}
    assert [item["solution"] for item in request["recent"]] == ["ab", "abc", "abcd"]


def test_history_window_and_minimizing(tmp_path):
    model = proposer(["x" * n for n in (9, 8)], ["x" * n for n in (7, 6)], ["x" * 5])
    result = blackbox.run(
        "Shrink",
        "Shorter.",
        length,
        "x" * 10,
        max_steps=3,
        model=model,
        direction="minimize",
        history_window=2,
        **options(tmp_path),
    )
    assert result.best_x == "x" * 5 and result.best_score == 5
    last_request = json.loads(model.calls[-1][1].text)
    assert len(last_request["recent"]) == 2 and last_request["goal"] == "minimize"


def test_failing_f_and_duplicates_are_recorded_and_the_run_goes_on(tmp_path):
    def f(x):
        if x == "raise":
            raise RuntimeError("broken scorer")
        if x == "nan":
            return float("nan"), "?"
        if x == "shape":
            return {"score": 1}
        return length(x)

    model = proposer(["raise", "nan", "shape", "longest", "seed"])
    result = blackbox.run(
        "T", "Q", f, "seed", max_steps=1, model=model, candidates_per_step=5, **options(tmp_path)
    )
    feedback = {record.x: record.feedback for record in result.history}
    assert feedback["raise"] == "f raised RuntimeError: broken scorer"
    assert feedback["nan"] == "f returned nan as the score"
    assert feedback["shape"].startswith("f must return (score, feedback) or a number")
    assert result.best_x == "longest" and len(result.history) == 5  # "seed" was a duplicate, dropped
    decision = json.loads((tmp_path / "run" / "steps" / "001.json").read_text())
    assert decision["duplicates"] == ["seed"]


def test_fenced_solutions_are_unwrapped():
    assert blackbox.solution_text("Here:\n```python\nprint(1)\n```\nthanks") == "print(1)"
    assert blackbox.solution_text("  plain text ") == "plain text"


def test_a_reply_with_no_candidate_stops_the_run_and_keeps_the_records(tmp_path):
    model = ScriptedChatModel(replies=lambda messages: "I would rather not.")
    result = blackbox.run("T", "Q", length, "seed", max_steps=3, model=model, **options(tmp_path))
    assert result.stop_reason.startswith("proposer failed: OutputParseError")
    assert [record.x for record in result.history] == ["seed"]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: blackbox.run("T", "Q", length, "x", max_steps=0, model=SyntheticChatModel()),
            "max_steps must be at least 1",
        ),
        (lambda: blackbox.run("T", "Q", length, [], model=SyntheticChatModel()), "x0 is empty"),
        (lambda: blackbox.run("T", "Q", length, "x"), "model is required"),
        (
            lambda: blackbox.run("T", "Q", length, "x", model=SyntheticChatModel(), history_window=0),
            "history_window",
        ),
    ],
)
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_resume_scores_nothing_twice(tmp_path):
    calls = []

    def counted(x):
        calls.append(x)
        return length(x)

    model = proposer(["abc", "abcd"])
    first = blackbox.run("T", "Q", counted, "ab", max_steps=1, model=model, **options(tmp_path))
    again = blackbox.run("T", "Q", counted, "ab", max_steps=1, model=model, resume=True, **options(tmp_path))
    assert again.history == first.history and len(calls) == 3


class Point(BaseModel):
    w: int
    b: int


def test_opro_shows_the_best_sorted_ascending_and_samples_variants(tmp_path):
    requests = []

    def reply(messages):
        request = json.loads(messages[1].text)
        requests.append(request)
        return json.dumps({"return_value": {"w": 10 + request["variant"], "b": 1}})

    def loss(point):
        return abs(point.w - 12) + abs(point.b - 1)

    result = opro.run(
        "Find w and b.",
        loss,
        [Point(w=1, b=1), Point(w=3, b=1), Point(w=2, b=1)],
        model=ScriptedChatModel(replies=reply),
        solution_type=Point,
        direction="minimize",
        keep=2,
        candidates_per_step=3,
        max_steps=1,
        stop_score=0,
        **options(tmp_path),
    )
    first = requests[0]
    assert [item["score"] for item in first["solutions"]] == [10.0, 9.0]  # the 2 best, best last
    assert [item["solution"] for item in first["solutions"]] == [{"w": 2, "b": 1}, {"w": 3, "b": 1}]
    assert sorted(request["variant"] for request in requests) == [0, 1, 2]
    assert (
        result.best_x == Point(w=12, b=1)
        and result.best_score == 0
        and result.stop_reason == "stop score 0 reached"
    )


def test_opro_deduplicates_and_buckets_scores():
    assert bucketed(0.873, (0, 1), 100) == 87.0 and bucketed(1.7, (0, 1), 100) == 100.0
    assert bucketed(12.6, None, 100) == 13.0
    with pytest.raises(ValueError):
        bucketed(1, (1, 1), 10)


def test_opro_samples_at_the_temperature_setting(monkeypatch):
    langchain_openai = pytest.importorskip("langchain_openai")
    model = langchain_openai.ChatOpenAI(
        model="gpt-4o-mini", api_key="sk-test", base_url="http://127.0.0.1:9/v1", temperature=0
    )
    assert opro._at_temperature(model, 1.0).temperature == 1.0 and model.temperature == 0
    scripted = ScriptedChatModel()
    assert opro._at_temperature(scripted, 1.0) is scripted  # no such setting: unchanged


def test_rubric_scorer_and_score_parser():
    model = ScriptedChatModel(
        replies=['{"return_value": {"reasoning": "meh", "score": 14, "feedback": "Shorter."}}']
    )
    score, feedback = judge.rubric_scorer("Be brief.", model)("A long answer")
    assert score == 10 and feedback == "Shorter. (meh)"
    assert "Be brief." in model.last_prompt and "A long answer" in model.last_prompt
    assert judge.parse_score("Score: 7") == 7 and judge.parse_score("I give it 4/5.") == 8
    assert judge.parse_score("rating = 6.5 out of 10") == 6.5
    with pytest.raises(ValueError, match="no score"):
        judge.parse_score("Excellent work!")
    with pytest.raises(ValueError, match="outside"):
        judge.parse_score("Score: 42")
