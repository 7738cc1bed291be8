"""Secret-named hyperparameters stay the user's: not shown to the optimizer, not patched, not on disk."""

import json

from llm_hyperparameters import Hyperparameters
from llm_strategy.optimization import Budget, optimize_hyperparameters

from .tasks import keyed_shout, optimizer_replying, volume_score

NAME = keyed_shout.hyperparameters.name
USER_KEY = "user-set-key-4242"
SUGGESTION = {
    "best_hyperparameters": {},
    "suggestion": "Louder.",
    "task_parameters_suggestions": [{"topic": "bees"}],
    "hyperparameter_suggestions": [{NAME: {"volume": 4}}],
}


def _run(tmp_path, optimizer, steps, **extra):
    return optimize_hyperparameters(
        keyed_shout,
        [{"topic": "ants"}],
        optimizer_model=optimizer,
        task_model=None,
        evaluator=volume_score,
        hyperparameters=Hyperparameters({keyed_shout: {"api_key": USER_KEY}}),
        budget=Budget(max_steps=steps),
        stop_probability=0.0,
        run_directory=tmp_path / "run",
        wandb=False,
        progress=False,
        **extra,
    )


def _written(tmp_path):
    return "\n".join(path.read_text() for path in sorted((tmp_path / "run").rglob("*.json")))


def test_the_users_key_stays_in_force_and_is_neither_shown_nor_settable(tmp_path):
    optimizer = optimizer_replying([SUGGESTION])
    result = _run(tmp_path, optimizer, 1)
    assert [record.return_value for record in result.history] == [
        f"ANTS!! (key {USER_KEY})",
        f"BEES!!!! (key {USER_KEY})",
    ]
    assert result.best_hyperparameters[keyed_shout].api_key == USER_KEY
    prompts = "\n".join(str(message.content) for call in optimizer.calls for message in call)
    assert USER_KEY not in prompts and "api_key" not in prompts and '"volume"' in prompts
    schemas = [json.dumps(request.reply_schema) for request in optimizer.requests]
    assert not any("api_key" in schema for schema in schemas)
    written = _written(tmp_path)
    assert USER_KEY not in written and "(key [REDACTED])" in written


def test_a_resumed_run_puts_the_users_key_in_force_not_the_masked_one(tmp_path):
    _run(tmp_path, optimizer_replying([SUGGESTION]), 1)
    (tmp_path / "run" / "result.json").unlink()  # as if killed after step 1
    second = {**SUGGESTION, "hyperparameter_suggestions": [{NAME: {"volume": 5}}]}
    result = _run(tmp_path, optimizer_replying([second]), 2, resume=True)
    assert [record.return_value for record in result.history][-1] == f"BEES!!!!! (key {USER_KEY})"
    assert result.best_hyperparameters[keyed_shout].api_key == USER_KEY  # was "[REDACTED]"
    assert USER_KEY not in _written(tmp_path)


def test_a_resumed_run_without_a_user_key_leaves_the_default_in_force(tmp_path):
    for resume in (False, True):
        result = optimize_hyperparameters(
            keyed_shout,
            [{"topic": "ants"}],
            optimizer_model=optimizer_replying([SUGGESTION]),
            task_model=None,
            evaluator=volume_score,
            budget=Budget(max_steps=1),
            stop_probability=0.0,
            run_directory=tmp_path / "run",
            wandb=False,
            progress=False,
            secrets=["default-key-0000"],
            resume=resume,
        )
        assert result.best_hyperparameters[keyed_shout].volume == 4
        with result.best_hyperparameters:
            assert keyed_shout(None, "x") == "X!!!! (key default-key-0000)"


def test_the_secrets_option_adds_values_to_redact(tmp_path):
    optimizer = optimizer_replying([SUGGESTION])
    result = optimize_hyperparameters(
        keyed_shout,
        [{"topic": "project-bluebird"}],
        optimizer_model=optimizer,
        task_model=None,
        evaluator=volume_score,
        budget=Budget(max_steps=1),
        run_directory=tmp_path / "run",
        wandb=False,
        progress=False,
        secrets=["project-bluebird", "default-key-0000"],
    )
    assert result.history[0].return_value == "PROJECT-BLUEBIRD!! (key default-key-0000)"  # in memory: as is
    prompts = "\n".join(str(message.content) for call in optimizer.calls for message in call)
    assert "bluebird" not in prompts and "[REDACTED]" in prompts
    written = _written(tmp_path)
    assert "bluebird" not in written and "default-key-0000" not in written


def test_a_resumed_pareto_run_puts_the_users_key_in_force(tmp_path):
    from .tasks import follow, kind_score, proposer_replying

    common = {
        "task_model": None,
        "evaluator": kind_score,
        "selection": "pareto",
        "minibatch_size": 2,
        "hyperparameters": Hyperparameters({follow: {"api_key": USER_KEY}}),
        "run_directory": tmp_path / "run",
        "wandb": False,
        "progress": False,
    }
    kinds = [{"kind": "a"}, {"kind": "b"}]
    optimize_hyperparameters(
        follow, kinds, optimizer_model=proposer_replying(["A"]), budget=Budget(max_steps=1), **common
    )
    (tmp_path / "run" / "result.json").unlink()  # as if killed after step 1
    result = optimize_hyperparameters(
        follow,
        kinds,
        optimizer_model=proposer_replying(["AB"]),
        budget=Budget(max_steps=2),
        resume=True,
        **common,
    )
    ran_after = [record for record in result.history if record.step == 2]
    assert ran_after and {
        record.hyperparameters[follow.hyperparameters.name]["api_key"] for record in ran_after
    } == {USER_KEY}
    assert result.best_hyperparameters[follow].api_key == USER_KEY  # was "[REDACTED]"
    assert USER_KEY not in _written(tmp_path)
