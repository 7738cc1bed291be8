"""Pareto steps whose component the reflective proposer chooses (`component_selection="reflection"`)."""

import json

import pytest

from llm_hyperparameters import Hyperparameters
from llm_strategy.optimization import Budget, MetaOptimizer, optimize_hyperparameters

from .tasks import chooser_replying, follow, frame_score, keyed_frame, kind_score, shout

FRAME = keyed_frame.hyperparameters.name
PREFIX, SUFFIX = f"{FRAME}:prefix", f"{FRAME}:suffix"
KINDS = [{"kind": "a"}, {"kind": "b"}, {"kind": "c"}]


def settings(tmp_path, **extra):
    return {
        "task_model": None,
        "evaluator": frame_score,
        "selection": "pareto",
        "component_selection": "reflection",
        "minibatch_size": 3,
        "run_directory": tmp_path / "run",
        "wandb": False,
        "progress": False,
        **extra,
    }


def steps(tmp_path):
    return {
        int(path.stem): json.loads(path.read_text())
        for path in sorted((tmp_path / "run" / "pareto_steps").iterdir())
    }


def test_the_component_the_proposer_chooses_is_the_one_mutated(tmp_path):
    proposer = chooser_replying([(SUFFIX, "B"), (PREFIX, "A")])
    result = optimize_hyperparameters(
        keyed_frame, KINDS, optimizer_model=proposer, budget=Budget(max_steps=2), **settings(tmp_path)
    )
    recorded = steps(tmp_path)
    # round-robin would have taken the prefix first
    assert [(step["component"], step["chosen_by"], step["accepted"]) for step in recorded.values()] == [
        (SUFFIX, "reflection", True),
        (PREFIX, "reflection", True),
    ]
    assert recorded[1]["lessons"] == f"change {SUFFIX}"
    assert recorded[1]["hyperparameters"][FRAME] == {"prefix": "", "suffix": "B", "api_key": "[REDACTED]"}
    assert recorded[1]["parent_scores"] == [0.0, 0.0, 0.5] and recorded[1]["child_scores"] == [0.0, 1.0, 0.0]
    assert recorded[2]["parent"] == "c001" and recorded[2]["child_scores"] == [1.0, 1.0, 0.0]
    best = result.best_hyperparameters[keyed_frame]
    assert (best.prefix, best.suffix, best.api_key) == ("A", "B", "sk-frame-0000")
    assert result.best_score == 2 / 3
    assert [(entry.id, entry.component) for entry in result.frontier] == [
        ("c000", None),
        ("c001", SUFFIX),
        ("c002", PREFIX),
    ]
    assert [call[0].text.split(":", 1)[0] for call in proposer.calls] == [
        "ReflectiveProposer.propose_component_change"
    ] * 2


def test_the_proposer_is_offered_exactly_the_mutable_components(tmp_path):
    proposer = chooser_replying([(SUFFIX, "B")])
    optimize_hyperparameters(
        keyed_frame, KINDS, optimizer_model=proposer, budget=Budget(max_steps=1), **settings(tmp_path)
    )
    system, request = proposer.calls[0]
    sent = json.loads(request.text)
    assert sent["components"] == [
        {"component": PREFIX, "description": "Put in front.", "current_value": ""},
        {"component": SUFFIX, "description": None, "current_value": ""},
    ]
    assert [(example["task_parameters"], example["score"]) for example in sent["examples"]] == [
        ({"kind": "a"}, 0.0),
        ({"kind": "b"}, 0.0),
        ({"kind": "c"}, 0.5),
    ]
    assert (
        f'change:{{component:"{PREFIX}",new_value:string}}|{{component:"{SUFFIX}",new_value:string}}'
        in system.text
    )
    assert "api_key" not in system.text + request.text


@pytest.mark.parametrize("named", [f"{FRAME}:api_key", f"{FRAME}:volume"])
def test_a_secret_or_unknown_component_is_a_recorded_proposal_error(tmp_path, named):
    proposer = chooser_replying([(named, "sk-stolen")])
    result = optimize_hyperparameters(
        keyed_frame, KINDS, optimizer_model=proposer, budget=Budget(max_steps=1), **settings(tmp_path)
    )
    step = steps(tmp_path)[1]
    assert (step["component"], step["chosen_by"], step["accepted"], step["hyperparameters"]) == (
        None,
        "reflection",
        False,
        None,
    )
    assert step["proposal_error"].startswith(
        "OutputParseError: ReflectiveProposer.propose_component_change: no valid output after 3 attempt(s)"
    )
    assert (
        f"Input tag '{named}' found using 'component' does not match any of the expected tags: "
        f"'{PREFIX}', '{SUFFIX}'"
    ) in step["proposal_error"]
    assert len(proposer.calls) == 3  # told what was wrong, asked again, then given up
    assert result.best_hyperparameters[keyed_frame].api_key == "sk-frame-0000"
    assert [entry.id for entry in result.frontier] == ["c000"]


def test_one_component_and_its_constraints_type_the_reply(tmp_path):
    proposer = chooser_replying([(f"{shout.hyperparameters.name}:volume", 9)])
    optimize_hyperparameters(
        shout,
        [{"topic": "bees"}],
        optimizer_model=proposer,
        budget=Budget(max_steps=1),
        **settings(tmp_path, evaluator=lambda run: float(len(run.return_value)), minibatch_size=1),
    )
    step = steps(tmp_path)[1]
    assert step["accepted"] is False and "change.new_value" in step["proposal_error"]
    assert "less than or equal to 5" in step["proposal_error"]
    outline = f'change:{{\n  component:"{shout.hyperparameters.name}:volume",\n  new_value:int // >= 1; <= 5'
    assert outline in proposer.calls[0][0].text


def test_a_resume_never_asks_again_for_a_recorded_choice(tmp_path):
    first = optimize_hyperparameters(
        keyed_frame,
        KINDS,
        optimizer_model=chooser_replying([(SUFFIX, "B"), (PREFIX, "A")]),
        budget=Budget(max_steps=2),
        **settings(tmp_path),
    )
    run = tmp_path / "run"  # as if killed during step 2's validation: its choice and value are recorded
    (run / "result.json").unlink()
    (run / "task_runs" / "c002-v01.json").unlink()
    state = json.loads((run / "state.json").read_text())
    (run / "state.json").write_text(json.dumps({**state, "steps": state["steps"][:2]}))
    older = {key: value for key, value in steps(tmp_path)[1].items() if key != "chosen_by"}
    (run / "pareto_steps" / "001.json").write_text(json.dumps(older))  # as a run before `chosen_by` wrote it
    silent = chooser_replying([(SUFFIX, "never asked")])
    again = MetaOptimizer(
        keyed_frame,
        KINDS,
        optimizer_model=silent,
        budget=Budget(max_steps=2),
        **settings(tmp_path, resume=True),
    ).run()
    assert silent.calls == [] and first.best_score == again.best_score == 2 / 3
    assert len(again.history) == len(first.history) and (run / "task_runs" / "c002-v01.json").exists()
    assert steps(tmp_path)[2]["component"] == PREFIX


def test_a_step_resumed_before_its_proposal_keeps_the_recorded_chooser(tmp_path):
    optimize_hyperparameters(
        keyed_frame,
        KINDS,
        optimizer_model=chooser_replying([(SUFFIX, "B")]),
        budget=Budget(max_steps=1),
        **settings(tmp_path),
    )
    run = tmp_path / "run"  # as if killed right after step 1's choice of chooser was written
    (run / "result.json").unlink()
    for key in ("c001-t00", "c001-t01", "c001-t02", "c001-v00", "c001-v01", "c001-v02"):
        (run / "task_runs" / f"{key}.json").unlink()
    chosen = {
        key: value for key, value in steps(tmp_path)[1].items() if key in ("step", "parent", "chosen_by")
    }
    (run / "pareto_steps" / "001.json").write_text(json.dumps({**chosen, "minibatch": [0, 1, 2]}))
    state = json.loads((run / "state.json").read_text())
    (run / "state.json").write_text(json.dumps({**state, "steps": state["steps"][:1]}))
    proposer = chooser_replying([(PREFIX, "A")])
    result = MetaOptimizer(
        keyed_frame,
        KINDS,
        optimizer_model=proposer,
        budget=Budget(max_steps=1),
        **settings(tmp_path, resume=True, component_selection="round_robin"),
    ).run()
    assert len(proposer.calls) == 1 and proposer.calls[0][0].text.startswith(
        "ReflectiveProposer.propose_component_change"
    )
    assert (steps(tmp_path)[1]["component"], steps(tmp_path)[1]["chosen_by"]) == (PREFIX, "reflection")
    assert result.best_hyperparameters[keyed_frame].prefix == "A"


def test_long_current_values_share_the_budget_and_only_the_long_ones_are_cut(tmp_path):
    proposer = chooser_replying([(SUFFIX, "B")])
    optimize_hyperparameters(
        keyed_frame,
        KINDS,
        optimizer_model=proposer,
        budget=Budget(max_steps=1),
        hyperparameters=Hyperparameters({keyed_frame: {"prefix": "p" * 500, "suffix": "s" * 20}}),
        reflection_tokens=50,  # 200 characters for the components' values
        **settings(tmp_path),
    )
    components = json.loads(proposer.calls[0][1].text)["components"]
    assert [component["current_value"] for component in components] == ["p" * 180 + "…", "s" * 20]


def test_component_selection_is_checked_and_belongs_to_the_pareto_loop():
    with pytest.raises(
        ValueError, match="component_selection must be 'round_robin' or 'reflection', got 'random'"
    ):
        MetaOptimizer(
            follow,
            KINDS,
            optimizer_model=chooser_replying([]),
            task_model=None,
            evaluator=kind_score,
            selection="pareto",
            component_selection="random",
        )
    with pytest.raises(ValueError, match=r"^component_selection: Pareto settings; use them with selection="):
        MetaOptimizer(
            follow,
            KINDS,
            optimizer_model=chooser_replying([]),
            task_model=None,
            component_selection="reflection",
        )


def test_the_estimate_counts_the_components_the_chooser_reads():
    def plan(component_selection):
        return MetaOptimizer(
            keyed_frame,
            KINDS,
            optimizer_model=chooser_replying([]),
            task_model=None,
            evaluator=frame_score,
            selection="pareto",
            component_selection=component_selection,
            max_steps=2,
        ).plan()

    assert plan("reflection").tokens - plan("round_robin").tokens == 2 * 6_000 // 4  # 2 proposals
    assert plan("reflection").llm_calls == plan("round_robin").llm_calls
