"""The meta-optimizer offline: the loop, its records, best-by-score, and every bad input."""

import json
import math

import pytest

from llm_hyperparameters import DefinitionError
from llm_strategy import llm_function
from llm_strategy.optimization import (
    Budget,
    MetaOptimizer,
    ResumeError,
    TaskRunRecord,
    optimize_hyperparameters,
)
from llm_strategy.testing import ScriptedChatModel, SyntheticChatModel

from .tasks import (
    Topic,
    marks_score,
    optimizer_replying,
    route,
    shout,
    untracked,
    volume_score,
    whisper,
    write_note,
)

SHOUT = shout.hyperparameters.name
QUIET = {
    "best_hyperparameters": {SHOUT: {"volume": 2}},
    "suggestion": "Vary the volume.",
    "task_parameters_suggestions": [{"topic": "bees"}],
    "hyperparameter_suggestions": [{SHOUT: {"volume": 1}}, {SHOUT: {"volume": 4}}],
}


def options(tmp_path, **extra):
    return {"run_directory": tmp_path / "run", "wandb": False, "progress": False, **extra}


def test_a_run_records_everything_and_finds_the_best_by_score(tmp_path):
    optimizer = optimizer_replying([QUIET])
    result = optimize_hyperparameters(
        shout,
        [Topic(topic="bees"), Topic(topic="ants")],
        optimizer_model=optimizer,
        task_model=None,
        evaluator=volume_score,
        budget=Budget(max_steps=1),
        **options(tmp_path),
    )
    assert result.stop_reason == "budget spent: steps" and result.steps == 1
    assert len(result.history) == 2 + 2  # seeds, then 1 topic x 2 hyperparameter sets
    assert result.best_hyperparameters[shout].volume == 4 and result.best_score == 4.0
    with result.best_hyperparameters:
        assert shout(None, "x") == "X!!!!"
    run = tmp_path / "run"
    for name in (
        "run.json",
        "state.json",
        "result.json",
        "best.json",
        "scores.png",
        "steps/001.json",
    ):
        assert (run / name).exists(), name
    assert sorted(path.stem for path in (run / "task_runs").iterdir()) == [
        "000-00",
        "000-01",
        "001-00",
        "001-01",
    ]
    record = json.loads((run / "task_runs" / "001-01.json").read_text())
    assert record["hyperparameters"][SHOUT] == {"volume": 4} and record["score"] == 4.0
    assert record["changed"] == {SHOUT: {"volume": 4}} and record["reflection"] is None  # written once
    reflection = json.loads((run / "reflections" / "001-01.json").read_text())
    assert reflection["reflection"]["feedback"] == "ok"
    typed = result.history[-1]
    assert isinstance(typed, TaskRunRecord) and typed.reflection.feedback == "ok" and typed.score == 4.0
    assert (run / "traces" / "step-001.html").exists() and result.trace_page == run / "traces" / "index.html"
    index = result.trace_page.read_text()
    assert "step-000.html" in index and "step-001.html" in index and "001-01" in index
    assert "step" in result.summary() and "best mean score: 4.0000" in result.summary()
    reflect = next(
        call[0].text for call in optimizer.calls if call[0].text.startswith("LLMOptimizer.reflect")
    )
    assert "return_value:string|null" in reflect  # the task's own result type, not `any`


def test_llm_functions_are_optimized_through_their_instructions(tmp_path):
    model = SyntheticChatModel(seed=3)
    result = optimize_hyperparameters(
        write_note,
        [{"topic": "bees"}],
        optimizer_model=model,
        task_model=model,
        evaluator=lambda run: len(run.return_value or ""),
        budget=Budget(max_steps=2),
        **options(tmp_path),
    )
    assert write_note.hyperparameters.name in result.best_hyperparameters
    records = result.history
    assert len(records) >= 2 and all(record.chat_chains for record in records)
    suggested = json.loads((tmp_path / "run" / "steps" / "001.json").read_text())["suggestion"]
    assert suggested["task_parameters"] and suggested["hyperparameters"]


def test_without_an_evaluator_the_llm_picks_the_best(tmp_path):
    pick = {**QUIET, "best_hyperparameters": {SHOUT: {"volume": 3}}, "suggestion": "try louder"}
    result = optimize_hyperparameters(
        shout,
        [{"topic": "bees"}],
        optimizer_model=optimizer_replying([pick]),
        task_model=None,
        budget=Budget(max_steps=1),
        **options(tmp_path),
    )
    assert result.best_score is None and result.best_hyperparameters[shout].volume == 3


def test_failing_tasks_and_evaluators_are_recorded_not_raised(tmp_path):
    def evaluator(run):
        if run.task_parameters.topic == "nan":
            return math.nan, "not a number"
        if run.task_parameters.topic == "raise":
            raise ValueError("judge is out")
        return 1.0, "fine"

    result = optimize_hyperparameters(
        shout,
        [{"topic": "fail"}, {"topic": "nan"}, {"topic": "raise"}, {"topic": "ok"}],
        optimizer_model=optimizer_replying([QUIET]),
        task_model=None,
        evaluator=evaluator,
        budget=Budget(max_steps=1),
        **options(tmp_path),
    )
    by_topic = {record.task_parameters["topic"]: record for record in result.history if record.step == 0}
    assert (
        by_topic["fail"].exception == "RuntimeError: cannot shout 'fail'"
        and by_topic["fail"].return_value is None
    )
    assert by_topic["nan"].score is None and by_topic["nan"].evaluation == "evaluator failed: it returned nan"
    assert by_topic["raise"].evaluation == "evaluator failed: ValueError: judge is out"
    assert by_topic["ok"].score == 1.0 and len(result.history) == 6


def test_invalid_suggestions_are_fed_back_and_never_applied(tmp_path):
    invalid = {**QUIET, "hyperparameter_suggestions": [{SHOUT: {"volume": 99}}]}
    model = optimizer_replying([invalid, invalid, QUIET])
    result = optimize_hyperparameters(
        shout,
        [{"topic": "bees"}],
        optimizer_model=model,
        task_model=None,
        evaluator=volume_score,
        budget=Budget(max_steps=1),
        **options(tmp_path),
    )
    assert {record.hyperparameters[SHOUT]["volume"] for record in result.history} == {2, 1, 4}
    retries = [
        call[-1].text for call in model.calls if call[-1].type == "human" and "Invalid reply" in call[-1].text
    ]
    assert any("less than or equal to 5" in text for text in retries)


def test_an_optimizer_that_keeps_failing_stops_the_run_and_keeps_the_runs(tmp_path):
    invalid = {**QUIET, "task_parameters_suggestions": []}
    result = optimize_hyperparameters(
        shout,
        [{"topic": "bees"}],
        optimizer_model=optimizer_replying([invalid]),
        task_model=None,
        evaluator=volume_score,
        budget=Budget(max_steps=3),
        **options(tmp_path),
    )
    assert result.stop_reason.startswith("optimizer failed: OutputParseError")
    assert len(result.history) == 1 and (tmp_path / "run" / "task_runs" / "000-00.json").exists()
    decision = json.loads((tmp_path / "run" / "steps" / "001.json").read_text())
    assert decision["suggestion_error"].startswith("OutputParseError") and decision["suggestion"] is None


def test_long_histories_are_summarized(tmp_path):
    result = optimize_hyperparameters(
        shout,
        [{"topic": "bees"}, {"topic": "ants"}, {"topic": "owls"}],
        optimizer_model=optimizer_replying([QUIET]),
        task_model=None,
        evaluator=volume_score,
        budget=Budget(max_steps=2),
        history_tokens=50,
        **options(tmp_path),
    )
    decision = json.loads((tmp_path / "run" / "steps" / "002.json").read_text())
    assert decision["summary"] == "Louder helped." and decision["summary_covers"] > 0
    assert result.steps == 2


def test_stop_on_target_score_low_probability_and_budgets(tmp_path):
    common = {"optimizer_model": optimizer_replying([QUIET]), "task_model": None, "evaluator": volume_score}
    reached = optimize_hyperparameters(
        shout, [{"topic": "a"}], target_score=2.0, **common, **options(tmp_path / "1")
    )
    assert reached.stop_reason == "target score 2.0 reached" and reached.steps == 0
    unlikely = optimize_hyperparameters(
        shout,
        [{"topic": "a"}],
        optimizer_model=optimizer_replying([QUIET], probability=0.01),
        task_model=None,
        evaluator=volume_score,
        **options(tmp_path / "2"),
    )
    assert unlikely.stop_reason.startswith("improvement probability 0.01") and unlikely.steps == 1
    calls = optimize_hyperparameters(
        shout, [{"topic": "a"}], budget=Budget(max_llm_calls=1), **common, **options(tmp_path / "3")
    )
    assert calls.stop_reason == "budget spent: LLM calls" and calls.usage.llm_calls >= 1


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: Budget(max_steps=0), ValueError, "max_steps must be a positive number"),
        (lambda: Budget(max_cost=0.0), ValueError, "max_cost must be a positive number"),
        (
            lambda: Budget(max_evaluations=float("nan")),
            ValueError,
            "max_evaluations must be a positive number",
        ),
        (
            lambda: Budget(max_seconds=float("inf")),
            ValueError,
            r"max_seconds must be a positive number or None \(no limit\), got inf",
        ),
        (
            lambda: MetaOptimizer(shout, [], optimizer_model=None, task_model=None),
            ValueError,
            "seed_parameters is empty",
        ),
        (
            lambda: MetaOptimizer(42, [{"topic": "a"}], optimizer_model=None, task_model=None),
            DefinitionError,
            "callable",
        ),
        (
            lambda: MetaOptimizer(shout, [{"nope": 1}], optimizer_model=None, task_model=None),
            Exception,
            "topic",
        ),
    ],
)
def test_bad_configuration_is_a_clear_error(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_a_task_without_hyperparameters_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="made no tracked call, so it has no hyperparameters"):
        optimize_hyperparameters(
            untracked,
            [{"topic": "a"}],
            optimizer_model=optimizer_replying([QUIET]),
            task_model=None,
            **options(tmp_path),
        )


def test_resume_refuses_another_tasks_directory(tmp_path):
    common = {"optimizer_model": optimizer_replying([QUIET]), "task_model": None, "evaluator": volume_score}
    optimize_hyperparameters(
        shout, [{"topic": "a"}], budget=Budget(max_steps=1), **common, **options(tmp_path)
    )
    with pytest.raises(ResumeError, match="already holds a run; pass resume=True"):
        optimize_hyperparameters(
            shout, [{"topic": "a"}], budget=Budget(max_steps=1), **common, **options(tmp_path)
        )
    with pytest.raises(ResumeError, match="belongs to another optimization: its task is"):
        optimize_hyperparameters(write_note, [{"topic": "a"}], resume=True, **common, **options(tmp_path))


def test_resume_repeats_no_finished_task_run(tmp_path):
    common = {"optimizer_model": optimizer_replying([QUIET]), "task_model": None, "evaluator": volume_score}
    first = optimize_hyperparameters(
        shout, [{"topic": "a"}], budget=Budget(max_steps=1), **common, **options(tmp_path)
    )
    again = optimize_hyperparameters(
        shout, [{"topic": "a"}], budget=Budget(max_steps=1), resume=True, **common, **options(tmp_path)
    )
    assert [record.id for record in again.history] == [record.id for record in first.history]
    assert again.usage.llm_calls >= first.usage.llm_calls


@llm_function
async def write_async(model, topic: str) -> str:
    """Write a short note about the topic, asynchronously."""
    raise NotImplementedError


def test_async_tasks_run_concurrently_in_their_own_scopes(tmp_path, capsys):
    model = SyntheticChatModel(seed=2)
    result = optimize_hyperparameters(
        write_async,
        [{"topic": "bees"}, {"topic": "ants"}],
        optimizer_model=model,
        task_model=model,
        evaluator=lambda run: float(len(run.return_value or "")),
        budget=Budget(max_steps=1),
        run_directory=tmp_path / "run",
        wandb=False,
        progress=True,
    )
    assert all(record.exception is None and isinstance(record.return_value, str) for record in result.history)
    assert write_async.hyperparameters.name in result.history[-1].hyperparameters
    printed = capsys.readouterr().err
    assert "p(improve)" in printed and "stopped: " in printed  # the final summary table


def test_a_task_calling_different_functions_per_task_parameters_is_one_candidate(tmp_path):
    """Each seed run records only the function it called; the candidate is both (a crash before)."""
    whispered = whisper.hyperparameters.name
    louder = {
        "best_hyperparameters": {},
        "suggestion": "Louder everywhere.",
        "task_parameters_suggestions": [{"topic": "BEES"}, {"topic": "ants"}],
        "hyperparameter_suggestions": [{SHOUT: {"volume": 3}, whispered: {"volume": 3}}],
    }
    result = optimize_hyperparameters(
        route,
        [{"topic": "BEES"}, {"topic": "ants"}],
        optimizer_model=optimizer_replying([louder]),
        task_model=None,
        evaluator=marks_score,
        max_steps=1,
        **options(tmp_path),
    )
    seeds = [record for record in result.history if record.step == 0]
    assert [sorted(record.hyperparameters) for record in seeds] == [[SHOUT], [whispered]]
    assert result.best_score == 3.0  # the suggestion's mean over both topics (the seeds' is 1.5)
    assert result.best_hyperparameters[shout].volume == 3
    assert result.best_hyperparameters[whisper].volume == 3
    assert [record.return_value for record in result.history if record.step == 1] == ["BEES!!!", "ants..."]


def test_a_run_whose_suggestions_are_all_already_run_stops_after_five_such_steps(tmp_path):
    """Duplicates spend no evaluation: with an evaluation budget alone the run would never end."""
    again = {**QUIET, "hyperparameter_suggestions": [{SHOUT: {"volume": 2}}]}  # the seeds' own values
    optimizer = optimizer_replying([again])
    result = optimize_hyperparameters(
        shout,
        [Topic(topic="bees")],
        optimizer_model=optimizer,
        task_model=None,
        evaluator=volume_score,
        budget=Budget(max_evaluations=100),
        **options(tmp_path),
    )
    assert result.stop_reason == "5 steps in a row suggested nothing new to run"
    assert result.steps == 5 and len(result.history) == 1


def test_a_reply_with_a_lone_surrogate_is_recorded_and_reflected_on(tmp_path):
    """A model may send "\\ud800" (a valid JSON escape, no character): the value holds U+FFFD."""
    result = optimize_hyperparameters(
        write_note,
        [Topic(topic="bees")],
        optimizer_model=optimizer_replying([QUIET]),
        task_model=ScriptedChatModel(replies=lambda messages: "note \ud800"),
        max_steps=1,
        **options(tmp_path),
    )
    assert result.history[0].return_value == "note \ufffd" and result.history[0].reflection is not None
    assert "note \ufffd" in (tmp_path / "run" / "task_runs" / "000-00.json").read_text()
