"""Pareto selection: the frontier, parent sampling, the gate, merge, and whole runs on scripted models."""

import json
import random

import pytest

from llm_strategy.optimization import Budget, MetaOptimizer, optimize_hyperparameters
from llm_strategy.optimization.pareto import (
    frontier,
    gate_passes,
    instances_led,
    merge_choice,
    sample_parent,
)
from llm_strategy.testing import ScriptedChatModel

from .tasks import (
    chooser_replying,
    follow,
    frame,
    frame_score,
    keyed_frame,
    kind_score,
    proposer_replying,
    shout,
    write_note,
)

FOLLOW = follow.hyperparameters.name
KINDS = [{"kind": "a"}, {"kind": "b"}]


def options(tmp_path, **extra):
    return {"run_directory": tmp_path / "run", "wandb": False, "progress": False, **extra}


def follow_run(tmp_path, proposer, **extra):
    """A Pareto run of `follow` on kinds a and b, scored by `kind_score`; `extra` are MetaOptimizer's."""
    return optimize_hyperparameters(
        follow,
        KINDS,
        optimizer_model=proposer,
        task_model=None,
        evaluator=kind_score,
        **{"selection": "pareto", **extra},
        **options(tmp_path),
    )


def test_the_frontier_keeps_every_instance_leader_and_drops_the_dominated():
    scores = {"c0": [0.0, 0.0, 0.0], "c1": [1.0, 0.0, 0.2], "c2": [0.5, 1.0, 0.2], "c3": [0.5, 1.0, 0.1]}
    assert instances_led(scores) == {"c1": [0, 2], "c2": [1, 2], "c3": [1]}
    assert frontier(scores) == {"c1": [0, 2], "c2": [1, 2]}  # c3 leads instance 1 but c2 dominates it
    assert frontier({"c0": [1.0, None], "c1": [1.0, None]}) == {"c0": [0]}  # identical: the first stays


def test_parents_are_drawn_in_proportion_to_the_instances_they_lead():
    front = {"c1": [0, 1, 2], "c2": [3]}
    rng = random.Random(7)
    draws = [sample_parent(front, rng) for _ in range(20_000)]
    assert abs(draws.count("c1") / len(draws) - 0.75) < 0.01
    assert [sample_parent(front, random.Random(7)) for _ in range(3)] == [
        sample_parent(front, random.Random(7))
    ] * 3
    with pytest.raises(ValueError, match="frontier is empty"):
        sample_parent({}, rng)


def test_the_gate_wants_a_strictly_higher_minibatch_total():
    assert gate_passes([0.0, 1.0], [1.0, 0.5])
    assert not gate_passes([1.0, 0.0], [0.0, 1.0])
    assert not gate_passes([0.5], [None])  # a failed run counts 0


def test_merge_takes_what_each_side_changed_from_their_ancestor():
    ancestor = {"f:doc": "x", "f:style": "plain"}
    first = {"f:doc": "better", "f:style": "plain"}
    second = {"f:doc": "x", "f:style": "bold"}
    assert merge_choice(ancestor, first, second) == {"f:doc": "better", "f:style": "bold"}
    assert merge_choice(ancestor, first, ancestor) is None  # nothing new


def test_a_pareto_run_keeps_the_specialist_and_gates_the_children_exactly(tmp_path):
    result = follow_run(
        tmp_path,
        proposer_replying(["A", "AB", "X"]),
        minibatch_size=2,
        test=[{"kind": "b"}],
        budget=Budget(max_steps=3),
    )
    steps = {
        path.stem: json.loads(path.read_text())
        for path in sorted((tmp_path / "run" / "pareto_steps").iterdir())
    }
    assert [steps[key]["accepted"] for key in ("001", "002", "003")] == [True, True, False]
    assert steps["001"]["parent"] == "c000" and steps["002"]["parent"] == "c001"
    assert all(step["component"] == f"{FOLLOW}:instruction" for step in steps.values())  # never the api key
    assert steps["002"]["parent_scores"] == [1.0, 0.0] and steps["002"]["child_scores"] == [0.5, 1.0]
    assert steps["003"]["child_scores"] == [0.0, 0.0]
    led = {entry.id: entry.led for entry in result.frontier}
    assert led == {"c000": [], "c001": [0], "c002": [1]}  # the specialist c001 survives
    assert result.best_score == 0.75 and result.best_hyperparameters[follow].instruction == "AB"
    assert result.best_hyperparameters[follow].api_key == "sk-test"
    assert result.test_score == 1.0 and [run.id for run in result.test_runs] == ["c002-x00"]
    assert sorted(run.id for run in result.history) == [
        "c000-t00",
        "c000-t01",
        "c000-v00",
        "c000-v01",
        "c001-t00",
        "c001-t01",
        "c001-v00",
        "c001-v01",
        "c002-t00",
        "c002-t01",
        "c002-v00",
        "c002-v01",
        "c003-t00",
        "c003-t01",
    ]
    index = result.trace_page.read_text()
    assert "c002 from c001" in index and "accepted; minibatch 1.5 vs parent 1.0" in index
    assert "rejected; minibatch 0.0 vs parent" in index
    assert "<td>c001 validation mean</td><td class='score'>0.5</td><td>leads instances 0</td>" in index
    assert "<td>c002 validation mean</td><td class='score'>0.75</td><td>leads instances 1</td>" in index
    assert (
        "<td>c000 validation mean</td><td class='score'>0</td><td>leads no instance: off the frontier"
        in index
    )
    assert "c003 validation mean" not in index  # rejected: never validated
    assert result.summary().endswith(
        "\ntest score (c002, the best on validation; 1 task runs, scored once): 1.0000"
    )


def scoring_counted(calls):
    """`kind_score`, noting each run it scores as `kind:return value`."""

    def evaluate(run):
        calls.append(run.return_value)
        return kind_score(run)

    return evaluate


def test_the_test_set_has_its_own_trace_page_linked_from_the_index_and_is_never_scored_twice(tmp_path):
    calls = []
    settings = {
        "optimizer_model": proposer_replying(["A", "AB"]),
        "task_model": None,
        "evaluator": scoring_counted(calls),
        "selection": "pareto",
        "minibatch_size": 2,
        "test": [{"kind": "b"}, {"kind": "a"}],
        "budget": Budget(max_steps=2),
    }
    first = MetaOptimizer(follow, KINDS, **settings, **options(tmp_path)).run()
    run = tmp_path / "run"
    assert len(calls) == 14 and sorted(calls[-2:]) == ["a:AB", "b:AB"]  # 12 train/validation, 2 test
    assert first.test_score == 0.75 and first.best_score == 0.75
    assert sorted(path.name for path in (run / "traces").iterdir()) == [
        "index.html",
        "step-000.html",
        "step-000.json",
        "step-001.html",
        "step-001.json",
        "step-002.html",
        "step-002.json",
        "test.html",
        "test.json",
    ]
    page = json.loads((run / "traces" / "test.json").read_text())
    root = next(item for item in page["spans"] if item["parent_id"] is None)
    assert root["name"] == "test" and root["attributes"]["optimization"]["candidate"] == "c002"
    assert sorted(item["name"] for item in page["spans"] if item["name"].startswith("task run")) == [
        "task run c002-x00",
        "task run c002-x01",
    ]
    step_pages = [(run / "traces" / f"step-{number:03d}.json").read_text() for number in range(3)]
    assert not any("-x0" in text for text in step_pages)  # the test runs are on the test page only
    index = (run / "traces" / "index.html").read_text()
    assert "<a href='test.html'>test: c002 (the best on validation) scored once: 0.75</a>" in index
    assert "c002-x00 {&quot;kind&quot;: &quot;b&quot;}" in index and "kind b got its letter" in index
    assert "best: 0.75 · 2 steps · test: 0.75 (scored once, apart from best)" in index
    assert json.loads((run / "result.json").read_text())["test_score"] == 0.75
    assert first.usage.evaluations == 14
    test_page = (run / "traces" / "test.html").read_bytes()

    calls.clear()  # a finished run, resumed: nothing runs again, the test page stays
    again = MetaOptimizer(follow, KINDS, **settings, **options(tmp_path, resume=True)).run()
    assert (
        calls == []
        and again.test_score == 0.75
        and [r.id for r in again.test_runs] == ["c002-x00", "c002-x01"]
    )
    assert (run / "traces" / "test.html").read_bytes() == test_page
    assert again.usage.evaluations == 14 and "test.html" in again.trace_page.read_text()

    (run / "result.json").unlink()  # killed after the test runs were recorded, before the end
    again = MetaOptimizer(follow, KINDS, **settings, **options(tmp_path, resume=True)).run()
    assert calls == [] and again.test_score == 0.75 and again.usage.evaluations == 14
    assert (run / "traces" / "test.html").read_bytes() == test_page

    (run / "result.json").unlink()  # killed during the test: only the missing test run runs
    (run / "test_runs" / "c002-x01.json").unlink()
    again = MetaOptimizer(follow, KINDS, **settings, **options(tmp_path, resume=True)).run()
    assert calls == ["a:AB"] and again.test_score == 0.75 and again.usage.evaluations == 14
    names = [item["name"] for item in json.loads((run / "traces" / "test.json").read_text())["spans"]]
    assert [name for name in names if name.startswith("task run")] == ["task run c002-x01"]


def test_a_pareto_run_resumes_without_repeating_a_task_run_or_a_proposal(tmp_path):
    settings = {"task_model": None, "evaluator": kind_score, "selection": "pareto", "minibatch_size": 2}
    first = optimize_hyperparameters(
        follow,
        KINDS,
        optimizer_model=proposer_replying(["A", "AB"]),
        budget=Budget(max_steps=2),
        **settings,
        **options(tmp_path),
    )
    run = (
        tmp_path / "run"
    )  # as if killed during step 2's validation: its decision is recorded, one run is not
    (run / "result.json").unlink()
    (run / "task_runs" / "c002-v01.json").unlink()
    state = json.loads((run / "state.json").read_text())
    (run / "state.json").write_text(json.dumps({**state, "steps": state["steps"][:2]}))
    silent = proposer_replying(["never asked"])
    again = MetaOptimizer(
        follow,
        KINDS,
        optimizer_model=silent,
        budget=Budget(max_steps=2),
        **settings,
        **options(tmp_path, resume=True),
    ).run()
    assert first.best_score == again.best_score == 0.75 and silent.calls == []
    assert [record.id for record in again.history if record.step == 2][-1] == "c002-v01"
    assert len(again.history) == len(first.history)


def test_max_evaluations_stops_a_pareto_run(tmp_path):
    result = follow_run(
        tmp_path,
        proposer_replying(["A", "AB"]),
        minibatch_size=2,
        budget=Budget(max_evaluations=6, max_steps=10),
    )
    assert result.stop_reason == "budget spent: evaluations" and result.usage.evaluations == 8


def test_bad_pareto_settings_are_refused():
    with pytest.raises(ValueError, match="needs an evaluator"):
        MetaOptimizer(
            follow, KINDS, optimizer_model=proposer_replying(["A"]), task_model=None, selection="pareto"
        )
    with pytest.raises(ValueError, match="must be 'original', 'pareto' or 'best', got 'greedy'"):
        MetaOptimizer(
            follow,
            KINDS,
            optimizer_model=proposer_replying(["A"]),
            task_model=None,
            evaluator=kind_score,
            selection="greedy",
        )
    with pytest.raises(ValueError, match=r"^train, merge, auto: Pareto settings; use them with selection="):
        MetaOptimizer(
            follow,
            KINDS,
            optimizer_model=proposer_replying(["A"]),
            task_model=None,
            train=KINDS,
            merge=True,
            auto="light",
        )
    with pytest.raises(ValueError, match=r"Budget\.max_evaluations"):
        Budget(max_evaluations=0)


def test_a_proposal_that_breaks_a_constraint_is_a_rejected_step_not_a_crash(tmp_path):
    result = optimize_hyperparameters(
        shout,
        [{"topic": "bees"}],
        optimizer_model=proposer_replying([9]),
        task_model=None,
        evaluator=lambda run: float(len(run.return_value)),
        selection="pareto",
        budget=Budget(max_steps=1),
        **options(tmp_path),
    )
    step = json.loads((tmp_path / "run" / "pareto_steps" / "001.json").read_text())
    assert step["accepted"] is False and "less than or equal to 5" in step["proposal_error"]
    assert result.best_hyperparameters[shout].volume == 2


def test_a_run_whose_proposals_keep_failing_stops_instead_of_asking_forever(tmp_path):
    """Failed proposals spend no evaluation once the parent's minibatch runs exist: only a step limit
    or this rule would end the run."""
    proposer = proposer_replying([3, 9])  # one valid proposal, then only values above the limit
    result = optimize_hyperparameters(
        shout,
        [{"topic": "bees"}],
        optimizer_model=proposer,
        task_model=None,
        evaluator=lambda run: float(len(run.return_value)),
        selection="pareto",
        budget=Budget(max_evaluations=1_000),
        **options(tmp_path),
    )
    assert result.steps == 6 and len(proposer.requests) == 6
    assert result.stop_reason.startswith("5 proposals in a row failed; the last: ValidationError")
    assert "less than or equal to 5" in result.stop_reason
    assert result.best_hyperparameters[shout].volume == 3


def test_merge_combines_two_frontier_siblings_component_by_component(tmp_path):
    result = optimize_hyperparameters(
        frame,
        [{"kind": "a"}, {"kind": "b"}, {"kind": "c"}],
        optimizer_model=proposer_replying(["A", "B"]),
        task_model=None,
        evaluator=frame_score,
        selection="pareto",
        merge=True,
        seed=1,
        budget=Budget(max_steps=3),
        **options(tmp_path),
    )
    steps = [json.loads(path.read_text()) for path in sorted((tmp_path / "run" / "pareto_steps").iterdir())]
    assert [(step["parent"], step["other_parent"], step["accepted"]) for step in steps] == [
        ("c000", None, True),
        ("c000", None, True),  # seed 1 draws the seed, the leader of kind c, as the second parent
        ("c001", "c002", True),
    ]
    assert steps[2]["component"] is None and steps[2]["child_scores"] == [1.0, 1.0, 0.0]
    assert steps[2]["parent_scores"] == [1.0, 0.0, 0.0]
    best = result.best_hyperparameters[frame]
    assert (best.prefix, best.suffix) == ("A", "B") and result.best_score == 2 / 3
    assert {entry.id: entry.led for entry in result.frontier} == {
        "c000": [2],
        "c001": [],
        "c002": [],
        "c003": [0, 1],
    }


def test_auto_turns_into_evaluations_and_a_dry_run_prints_the_estimate_and_stops(tmp_path, capsys):
    optimizer = MetaOptimizer(
        follow,
        KINDS,
        optimizer_model=proposer_replying(["A"]),
        task_model=None,
        evaluator=kind_score,
        selection="pareto",
        minibatch_size=2,
        test=[{"kind": "b"}],
        auto="light",
        dry_run=True,
        **options(tmp_path),
    )
    assert optimizer.settings.budget.max_evaluations == 2 + 6 * (2 * 2 + 2)
    assert optimizer.settings.budget.max_steps is None
    result = optimizer.run()
    printed = capsys.readouterr().err
    assert result.stop_reason == "dry run" and result.history == [] and not (tmp_path / "run").exists()
    assert result.plan is not None and result.plan.evaluations == 38 and result.plan.llm_calls == 38 + 1 + 6
    assert "at most 39 task runs (test included) and 6 proposals" in printed
    assert "cost unknown" in printed  # the scripted proposer has no price
    with pytest.raises(ValueError, match="disagree"):
        MetaOptimizer(
            follow,
            KINDS,
            optimizer_model=proposer_replying(["A"]),
            task_model=None,
            evaluator=kind_score,
            selection="pareto",
            auto="light",
            budget=Budget(max_evaluations=5),
        )
    with pytest.raises(ValueError, match="selection='pareto'"):
        MetaOptimizer(follow, KINDS, optimizer_model=proposer_replying(["A"]), task_model=None, auto="heavy")


def test_the_estimate_prices_the_configured_models():
    optimizer = MetaOptimizer(
        follow,
        KINDS,
        optimizer_model=ScriptedChatModel(replies=["x"]),
        task_model=None,
        evaluator=kind_score,
        selection="pareto",
        max_steps=2,
        prices={"ScriptedChatModel": (1.0, 2.0)},  # priced by name (here: the class name)
    )
    estimate = optimizer.plan()
    assert estimate.evaluations is None and estimate.llm_calls == 2 + 2 * (2 * 2 + 2) + 2
    assert estimate.tokens == 14 * 1000 + 2 * (6000 // 4 + 500 + 400)
    assert estimate.cost == pytest.approx((2 * 2000 * 1.0 + 2 * 400 * 2.0) / 1e6)


def test_the_proposer_reads_the_minibatch_traces_and_feedback_cut_to_the_budget(tmp_path):
    task_model = ScriptedChatModel(replies=lambda messages: '{"return_value": "' + "bzz " * 300 + '"}')
    proposer = proposer_replying([{"topic": "The topic, in one word."}, "Write two sentences."])
    result = optimize_hyperparameters(
        write_note,
        [{"topic": "bees"}],
        optimizer_model=proposer,
        task_model=task_model,
        evaluator=lambda run: (0.0, "too repetitive: says bzz"),
        selection="pareto",
        reflection_tokens=200,
        budget=Budget(max_steps=2),
        **options(tmp_path),
    )
    prompts = [call[-1].text for call in proposer.calls]
    assert len(prompts) == 2 and all("too repetitive: says bzz" in prompt for prompt in prompts)
    assert "bzz bzz" in prompts[0] and "…" in prompts[0] and len(prompts[0]) < 4_000
    assert f"{write_note.hyperparameters.name}:descriptions" in prompts[0]
    assert f"{write_note.hyperparameters.name}:docstring" in prompts[1]
    assert [entry.id for entry in result.frontier] == ["c000"]  # both children lost the gate (0 vs 0)


def test_a_pareto_run_prints_its_estimate_first_and_its_candidates_last(tmp_path, capsys):
    optimize_hyperparameters(
        follow,
        KINDS,
        optimizer_model=proposer_replying(["A"]),
        task_model=None,
        evaluator=kind_score,
        selection="pareto",
        minibatch_size=2,
        budget=Budget(max_steps=1),
        **options(tmp_path, progress=True),
    )
    printed = capsys.readouterr().err
    assert printed.startswith("Pareto run: task parameters: train 2, validation 2, test 0")
    assert printed.rstrip().splitlines()[-1].split() == [
        "c001",
        "c000",
        "follow:instruction",
        "0->1",
        "0.5000",
        "0,1",
    ]


@pytest.mark.parametrize(("selection", "parents"), [("best", {"c002"}), ("pareto", {"c001", "c002"})])
def test_best_selection_always_mutates_the_best_mean_where_pareto_also_samples_the_specialist(
    tmp_path, selection, parents
):
    """c001 leads instance a, c002 (mean 0.75) leads b; then every proposal ("B") is rejected."""
    follow_run(
        tmp_path,
        proposer_replying(["A", "AB", "B"]),
        selection=selection,
        minibatch_size=2,
        budget=Budget(max_steps=8),
    )
    steps = [json.loads(path.read_text()) for path in sorted((tmp_path / "run" / "pareto_steps").iterdir())]
    assert [step["accepted"] for step in steps] == [True, True, False, False, False, False, False, False]
    assert {step["parent"] for step in steps[2:]} == parents


def test_the_index_says_when_a_failed_proposal_chose_no_component(tmp_path):
    result = optimize_hyperparameters(
        keyed_frame,
        [{"kind": "a"}],
        optimizer_model=chooser_replying([(f"{keyed_frame.hyperparameters.name}:api_key", "x")]),
        task_model=None,
        evaluator=frame_score,
        selection="pareto",
        component_selection="reflection",
        budget=Budget(max_steps=1),
        **options(tmp_path),
    )
    index = result.trace_page.read_text()
    assert "<td>c001 from c000: no component chosen</td><td class='score'>-</td><td>rejected;" in index
    assert "merge with" not in index


def test_empty_splits_and_a_start_without_any_score_are_clear(tmp_path):
    for split in ("train", "validation"):
        with pytest.raises(ValueError, match=f"^{split} is empty: give at least one set of task parameters"):
            MetaOptimizer(
                follow,
                KINDS,
                optimizer_model=proposer_replying(["A"]),
                task_model=None,
                evaluator=kind_score,
                selection="pareto",
                **{split: []},
            )
    result = optimize_hyperparameters(
        follow,
        KINDS,
        optimizer_model=proposer_replying(["A"]),
        task_model=None,
        evaluator=lambda run: float("nan"),
        selection="pareto",
        budget=Budget(max_steps=3),
        **options(tmp_path),
    )
    assert result.stop_reason.startswith(
        "no validation run of the start was scored, so no parent can be chosen; the first: evaluator failed"
    )
    assert result.steps == 0 and result.failed


def test_seed_runs_that_all_fail_before_a_tracked_call_say_so(tmp_path):
    def broken(model, kind: str) -> str:
        raise ConnectionError("provider down")

    with pytest.raises(
        ValueError, match=r"every seed run of .*broken failed before a tracked call"
    ) as caught:
        optimize_hyperparameters(
            broken,
            KINDS,
            optimizer_model=proposer_replying(["A"]),
            task_model=None,
            evaluator=kind_score,
            selection="pareto",
            budget=Budget(max_steps=1),
            **options(tmp_path),
        )
    assert "ConnectionError: provider down" in str(caught.value)


def test_long_outputs_and_feedback_are_cut_to_the_reflection_budget_too(tmp_path):
    """reflection_tokens=200 (800 characters) for one run: a quarter each for output and feedback."""
    task_model = ScriptedChatModel(replies=lambda messages: '{"return_value": "' + "word " * 20_000 + '"}')
    proposer = proposer_replying([{"topic": "One word."}])
    optimize_hyperparameters(
        write_note,
        [{"topic": "bees"}],
        optimizer_model=proposer,
        task_model=task_model,
        evaluator=lambda run: (0.5, "feedback " * 5_000),
        selection="pareto",
        reflection_tokens=200,
        budget=Budget(max_steps=1),
        **options(tmp_path),
    )
    example = json.loads(proposer.calls[0][-1].text)["examples"][0]
    assert example["return_value"] == "word " * 40 + "…"  # 200 characters, then the mark
    assert example["feedback"] == "feedback " * 22 + "fe…"
    assert len(proposer.calls[0][-1].text) < 3_000  # was about 145,000 characters


def test_a_proposal_with_a_lone_surrogate_escape_is_kept_as_valid_text(tmp_path):
    """Valid JSON, no character: the value holds U+FFFD and can be stored and sent on."""
    proposer = ScriptedChatModel(
        replies=lambda m: '{"return_value": {"lessons": "x", "new_value": "A\\ud800"}}'
    )
    result = follow_run(
        tmp_path,
        proposer,
        budget=Budget(max_steps=1),
    )
    step = json.loads((tmp_path / "run" / "pareto_steps" / "001.json").read_text())
    assert step["accepted"] is True and step["proposal_error"] is None
    assert result.best_hyperparameters[follow].instruction == "A\ufffd"


def test_a_function_in_a_module_named_like_a_secret_is_still_optimized(tmp_path):
    from llm_hyperparameters import track_hyperparameters

    def write_reply(model, kind: str, *, _greeting: str = "Hi") -> str:
        return f"{_greeting}|{kind}"

    write_reply.__module__ = "password_reset"
    tracked = track_hyperparameters(write_reply)
    result = optimize_hyperparameters(
        tracked,
        [{"kind": "a"}],
        optimizer_model=proposer_replying(["Hello A"]),
        task_model=None,
        evaluator=lambda run: float("A" in run.return_value),
        selection="pareto",
        budget=Budget(max_steps=1),
        **options(tmp_path),
    )
    assert result.best_hyperparameters[tracked].greeting == "Hello A" and result.best_score == 1.0
