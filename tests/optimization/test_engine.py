"""The engine under every optimizer: options and budget, the run directory (format, lock, leftovers),
duplicates, failed runs, what a user sees, and executors."""

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from llm_strategy.optimization import (
    Budget,
    ResumeError,
    RunLockedError,
    blackbox,
    optimize_hyperparameters,
)
from llm_strategy.testing import ScriptedChatModel

from .tasks import QUIET_SUGGESTION, crash_worker, optimizer_replying, shout, volume_score, where_am_i
from .test_search import length, options, proposer

SHOUT = shout.hyperparameters.name


def test_budget_has_no_step_limit_unless_set_and_max_steps_maps_onto_it():
    assert Budget().max_steps is None
    assert Budget().with_steps(8, 10).max_steps == 8 and Budget().with_steps(None, 10).max_steps == 10
    assert Budget(max_steps=3).with_steps(None, 10).max_steps == 3
    # limits every run advances replace the default step limit; tokens and cost may never advance
    assert Budget(max_evaluations=300).with_steps(None, 10).max_steps is None
    assert Budget(max_llm_calls=50).with_steps(None, 10).max_steps is None
    assert Budget(max_seconds=60).with_steps(None, 10).max_steps is None
    assert Budget(max_cost=2.0).with_steps(None, 10).max_steps == 10
    assert Budget(max_tokens=9_000).with_steps(None, 10).max_steps == 10
    assert Budget(max_evaluations=300).with_steps(4, 10).max_steps == 4
    with pytest.raises(ValueError, match=r"max_steps=8 and Budget\(max_steps=5\) disagree"):
        Budget(max_steps=5).with_steps(8, 10)


def test_an_optimizers_max_steps_is_its_step_limit(tmp_path):
    model = proposer(["abc"], ["abcd"], ["abcde"], ["abcdef"])
    result = blackbox.run(
        "T", "Q", length, "ab", max_steps=3, model=model, budget=Budget(max_cost=5.0), **options(tmp_path)
    )
    assert result.steps == 3 and result.stop_reason == "budget spent: steps"


def test_unknown_run_options_are_named():
    with pytest.raises(TypeError, match="unknown run option"):
        blackbox.run("T", "Q", length, "ab", model=ScriptedChatModel(), steps=3)


def test_the_result_unpacks_as_llm_optimize_returned_it(tmp_path):
    best_score, scores, best_x = blackbox.run(
        "Grow", "Longer.", length, "ab", 4, 3, proposer(["abc", "abcd"]), **options(tmp_path)
    )
    assert (best_score, scores, best_x) == (4.0, [2.0, 3.0, 4.0], "abcd")


def test_a_start_that_meets_the_stop_score_asks_the_model_nothing(tmp_path):
    model = ScriptedChatModel(replies=[])
    result = blackbox.run("T", "Q", length, "abcdef", stop_score=5, model=model, **options(tmp_path))
    assert model.calls == [] and result.steps == 0 and result.stop_reason == "stop score 5 reached"


def test_run_format_versions_other_than_ours_are_a_clear_resume_error(tmp_path):
    blackbox.run("T", "Q", length, "ab", max_steps=1, model=proposer(["abc"]), **options(tmp_path))
    run_file = tmp_path / "run" / "run.json"
    for version in (1, 99):
        data = json.loads(run_file.read_text())
        run_file.write_text(json.dumps({**data, "version": version}))
        with pytest.raises(
            ResumeError, match=f"run format {version}; this version of llm-strategy reads format 2"
        ):
            blackbox.run(
                "T", "Q", length, "ab", max_steps=1, model=proposer(["abc"]), resume=True, **options(tmp_path)
            )


def test_a_locked_run_directory_is_refused_at_once(tmp_path):
    started, release = threading.Event(), threading.Event()

    def slow(x):
        started.set()
        release.wait(30)
        return length(x)

    first = threading.Thread(
        target=blackbox.run,
        args=("T", "Q", slow, "ab"),
        kwargs={"max_steps": 1, "model": proposer(["abc"]), **options(tmp_path)},
    )
    first.start()
    try:
        assert started.wait(30)
        with pytest.raises(RunLockedError, match="in use by another process"):
            blackbox.run(
                "T", "Q", length, "ab", max_steps=1, model=proposer(["abc"]), resume=True, **options(tmp_path)
            )
    finally:
        release.set()
        first.join()
    assert (tmp_path / "run" / "result.json").exists()  # the first run finished undisturbed


def test_leftovers_of_killed_writes_are_removed_on_resume(tmp_path):
    blackbox.run("T", "Q", length, "ab", max_steps=1, model=proposer(["abc"]), **options(tmp_path))
    leftover = tmp_path / "run" / "task_runs" / ".001-01.json.abc.tmp"
    leftover.write_text("{half")
    blackbox.run(
        "T", "Q", length, "ab", max_steps=1, model=proposer(["abc"]), resume=True, **options(tmp_path)
    )
    assert not leftover.exists()


def test_default_run_directories_never_collide(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    common = {"max_steps": 1, "wandb": False, "progress": False}
    first = blackbox.run("Grow", "Q", length, "ab", model=proposer(["abc"]), **common)
    second = blackbox.run("Grow", "Q", length, "ab", model=proposer(["abc"]), **common)
    assert first.run_directory != second.run_directory
    assert first.run_directory.parent == second.run_directory.parent == Path("runs")
    assert first.run_directory.name.startswith("blackbox-Grow-") and second.history == first.history
    if second.run_directory.name.startswith(first.run_directory.name):  # started in the same second
        assert second.run_directory.name == f"{first.run_directory.name}-2"


def test_repeated_suggestions_are_recorded_as_duplicates_and_the_optimizer_is_told(tmp_path):
    repeat = {
        **QUIET_SUGGESTION,
        "hyperparameter_suggestions": [{SHOUT: {"volume": 2}}, {SHOUT: {"volume": 4}}],
    }
    model = optimizer_replying([repeat])
    result = optimize_hyperparameters(
        shout,
        [{"topic": "bees"}],
        optimizer_model=model,
        task_model=None,
        evaluator=volume_score,
        max_steps=2,
        stop_probability=0.0,
        **options(tmp_path),
    )
    ran = [(record.step, record.hyperparameters[SHOUT]["volume"]) for record in result.history]
    assert ran == [(0, 2), (1, 4)]  # volume 2 on bees ran at the start; step 2 repeats everything
    first = json.loads((tmp_path / "run" / "steps" / "001.json").read_text())
    second = json.loads((tmp_path / "run" / "steps" / "002.json").read_text())
    assert [item["reason"] for item in first["duplicates"]] == [
        "changes nothing: the best hyperparameters, on these task parameters"
    ]
    assert sorted(item["reason"] for item in second["duplicates"]) == [
        "already run, on these task parameters",
        "changes nothing: the best hyperparameters, on these task parameters",
    ]
    suggest_prompts = [
        call[1].text for call in model.calls if call[0].text.startswith("LLMOptimizer.suggest")
    ]
    assert "skipped_suggestions" in suggest_prompts[1] and "changes nothing" in suggest_prompts[1]


def test_a_run_in_which_every_task_run_failed_is_a_failure(tmp_path):
    result = optimize_hyperparameters(
        shout,
        [{"topic": "fail"}],
        optimizer_model=optimizer_replying(
            [{**QUIET_SUGGESTION, "task_parameters_suggestions": [{"topic": "fail"}]}]
        ),
        task_model=None,
        evaluator=volume_score,
        max_steps=1,
        **options(tmp_path),
    )
    assert result.failed and result.first_error == "RuntimeError: cannot shout 'fail'"
    assert "FAILED: no task run succeeded" in result.summary()
    assert json.loads((tmp_path / "run" / "result.json").read_text())["failed"] is True
    assert result.step_rows[0].reason == "RuntimeError: cannot shout 'fail'"  # the table says why


def test_the_progress_writes_plain_lines_off_a_terminal_and_the_summary_once(tmp_path, capsys):
    blackbox.run(
        "T",
        "Q",
        length,
        "ab",
        max_steps=2,
        model=proposer(["abc"], ["abcd"]),
        run_directory=tmp_path / "run",
        wandb=False,
    )
    printed = capsys.readouterr().err
    assert "blackbox T: step 1 done, 2/2 runs, best 3.000" in printed and "\r" not in printed
    assert printed.count("stopped: ") == 1


@pytest.mark.integration
def test_task_runs_travel_to_other_processes_and_worker_failures_are_recorded(tmp_path):
    louder = {
        **QUIET_SUGGESTION,
        "hyperparameter_suggestions": [{where_am_i.hyperparameters.name: {"volume": 4}}],
    }
    with ProcessPoolExecutor(max_workers=2) as pool:
        result = optimize_hyperparameters(
            where_am_i,
            [{"topic": "bees"}, {"topic": "ants"}],
            optimizer_model=optimizer_replying([louder]),
            task_model=None,
            evaluator=volume_score,
            max_steps=1,
            executor=pool,
            **options(tmp_path),
        )
    assert all(record.exception is None for record in result.history)
    assert all(int(record.return_value.split(":")[1].rstrip("!")) != os.getpid() for record in result.history)
    assert result.best_score == 4.0
    assert all(record.worker and not record.worker.endswith(f":{os.getpid()}") for record in result.history)
    spans = json.loads((tmp_path / "run" / "traces" / "step-001.json").read_text())["spans"]
    grafted = [span for span in spans if span["name"] == "task run 001-00"]  # sent back by the worker
    assert len(grafted) == 1 and grafted[0]["parent_id"] == spans[0]["id"]
    assert any(span["parent_id"] == grafted[0]["id"] and "where_am_i" in span["name"] for span in spans)
    with ProcessPoolExecutor(max_workers=1) as pool:
        crashed = blackbox.run(
            "T",
            "Q",
            crash_worker,
            "ab",
            max_steps=1,
            model=proposer(["abc"]),
            executor=pool,
            **options(tmp_path / "crash"),
        )
    assert crashed.failed and crashed.history[0].feedback.startswith("worker failed: ")


def test_a_user_thread_pool_is_used_as_given(tmp_path):
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="mine") as pool:
        result = blackbox.run(
            "T",
            "Q",
            length,
            ["a", "ab"],
            max_steps=1,
            model=proposer(["abc"]),
            executor=pool,
            **options(tmp_path),
        )
    assert result.best_x == "abc" and result.history[0].worker.endswith(f":{os.getpid()}")


def test_an_evaluation_budget_alone_ends_a_search_whose_proposals_never_repeat(tmp_path):
    """Every f(x) is one evaluation; without a step limit only the budget ends this run."""
    proposals = iter(range(3, 1_000))

    def reply(messages):
        solution = "a" * next(proposals)
        return json.dumps({"return_value": [{"reasoning": "longer", "solution": solution}]})

    calls = []

    def counted_length(x):
        calls.append(x)
        return length(x)

    result = blackbox.run(
        "Grow",
        "Longer.",
        counted_length,
        "ab",
        model=ScriptedChatModel(replies=reply),
        budget=Budget(max_evaluations=5),
        **options(tmp_path),
    )
    assert result.stop_reason == "budget spent: evaluations" and len(calls) == 5
    assert result.usage.evaluations == 5 and result.steps == 4


def test_a_search_whose_proposals_only_repeat_stops_after_five_such_steps(tmp_path):
    """Repeats spend no evaluation: with an evaluation budget alone the run would never end."""
    model = proposer(["ab"])  # x0 again, every time
    result = blackbox.run(
        "Grow", "Longer.", length, "ab", model=model, budget=Budget(max_evaluations=20), **options(tmp_path)
    )
    assert result.stop_reason == "5 steps in a row proposed only candidates already evaluated"
    assert result.steps == 5 and len(model.calls) == 5 and result.usage.evaluations == 1


SPAWNED = """
import multiprocessing, sys
from concurrent.futures import ProcessPoolExecutor
from llm_hyperparameters import track_hyperparameters
from llm_strategy.optimization import optimize_hyperparameters
from tests.optimization.tasks import proposer_replying

@track_hyperparameters
def local_frame(model, kind: str, *, _prefix: str = "") -> str:
    return f"{_prefix}|{kind}"

def one(run):
    return 1.0

if __name__ == "__main__":
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        result = optimize_hyperparameters(
            local_frame, [{"kind": "a"}], optimizer_model=proposer_replying(["A"]), task_model=None,
            evaluator=one, max_steps=1, executor=pool, run_directory=sys.argv[1],
            wandb=False, progress=False,
        )
"""


@pytest.mark.integration
def test_a_task_defined_in_a_script_on_a_spawn_pool_is_a_recorded_failure_with_the_fix(tmp_path):
    """A spawned worker runs the script as __mp_main__: its tracked names are unknown here."""
    script = tmp_path / "spawned.py"
    script.write_text(SPAWNED)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "run")],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        timeout=120,
    )
    assert "KeyError" not in done.stderr
    record = json.loads((tmp_path / "run" / "task_runs" / "000-00.json").read_text())
    assert record["exception"] == (
        "the worker ran tracked function '__mp_main__.local_frame', which this process does not know: "
        "define the task in a module the workers import (a spawned worker runs your script as __mp_main__)"
    )
    assert "ValueError: every seed run of spawned.local_frame failed before a tracked call" in done.stderr
