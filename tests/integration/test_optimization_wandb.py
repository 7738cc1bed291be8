"""The meta-optimizer's offline W&B run, read back from its .wandb file."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llm_hyperparameters import read_run_file
from llm_strategy.optimization import Budget, optimize_hyperparameters

from ..optimization.tasks import (
    follow,
    kind_score,
    optimizer_replying,
    proposer_replying,
    shout,
    volume_score,
)
from ..optimization.test_meta import QUIET

pytestmark = pytest.mark.integration
pytest.importorskip("wandb")


def test_config_metrics_table_artifact_and_traces(tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    result = optimize_hyperparameters(
        shout,
        [{"topic": "bees"}, {"topic": "ants"}],
        optimizer_model=optimizer_replying([QUIET]),
        task_model=None,
        evaluator=volume_score,
        budget=Budget(max_steps=1),
        run_directory=tmp_path / "run",
        progress=False,
    )
    assert result.wandb_directory is not None
    records = read_run_file(next(Path(result.wandb_directory).glob("run-*.wandb")), wait=60)
    assert records.exited
    assert records.config["task"].endswith("tasks.shout") and records.config["budget"]["max_steps"] == 1
    assert records.config["optimizer"] == "meta"
    steps = {row.get("_step"): row for row in records.history if "optimization/best_score" in row}
    assert set(steps) == {0, 1}
    assert (
        steps[1]["optimization/best_score"] == 4.0 and steps[1]["optimization/improvement_probability"] == 0.9
    )
    assert all("optimization/tokens" in row and "optimization/cost" in row for row in steps.values())
    logged = {key for row in records.history for key in row}
    assert "optimization/records._type" in logged
    assert {"trace/step_000/spans._type", "trace/step_001/tree._type", "trace/step_001/page._type"} <= logged
    assert records.summary["optimization/records"] == 4 and records.summary["optimization/stop_reason"]
    assert any(artifact["type"] == "optimization-best" for artifact in records.artifacts)
    table = json.loads(next(Path(result.wandb_directory).rglob("records*.table.json")).read_text())
    rows = [dict(zip(table["columns"], row, strict=True)) for row in table["data"]]
    assert len(rows) == 4 and {
        json.loads(row["changed_hyperparameters"]).get(shout.hyperparameters.name, {}).get("volume")
        for row in rows
    } == {None, 1, 4}
    assert all(json.loads(row["reflection"])["hyperparameter_suggestion"] == "louder" for row in rows)
    assert {row["feedback"] for row in rows} == {"1 marks", "2 marks", "4 marks"}


def test_a_pareto_run_logs_its_task_runs_and_frontier_per_step_and_its_test_apart(tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    result = optimize_hyperparameters(
        follow,
        [{"kind": "a"}, {"kind": "b"}],
        optimizer_model=proposer_replying(["A", "AB"]),
        task_model=None,
        evaluator=kind_score,
        selection="pareto",
        minibatch_size=2,
        test=[{"kind": "b"}],
        budget=Budget(max_steps=2),
        run_directory=tmp_path / "run",
        progress=False,
    )
    assert result.wandb_directory is not None
    files = Path(result.wandb_directory) / "files"
    records = read_run_file(next(Path(result.wandb_directory).glob("run-*.wandb")), wait=60)
    assert records.exited
    assert records.config["optimizer"] == "meta-pareto" and records.config["selection"] == "pareto"

    def table(row, key):
        logged = json.loads((files / row[f"optimization/{key}.path"]).read_text())
        return [dict(zip(logged["columns"], values, strict=True)) for values in logged["data"]]

    steps = {row["_step"]: row for row in records.history if "optimization/task_runs.path" in row}
    assert sorted(steps) == [0, 1, 2, 3]  # the seed, two steps, and the test phase
    by_step = {step: table(row, "task_runs") for step, row in steps.items() if step < 3}
    follow_name = follow.hyperparameters.name

    def run(candidate, split, instance, step, kind, instruction, score):
        return {
            "candidate": candidate,
            "split": split,
            "instance": instance,
            "id": f"{candidate}-{split[0] if split != 'test' else 'x'}{instance:02d}",
            "step": step,
            "task_parameters": json.dumps({"kind": kind}),
            "changed_hyperparameters": json.dumps(
                {follow_name: {"instruction": instruction}} if instruction else {}
            ),
            "score": score,
            "feedback": f"kind {kind} {'got' if score else 'missed'} its letter",
            "failure": None,
        }

    assert by_step[0] == [
        run("c000", "validation", 0, 0, "a", "", 0.0),
        run("c000", "validation", 1, 0, "b", "", 0.0),
    ]
    assert by_step[1] == [
        run("c000", "train", 0, 1, "a", "", 0.0),
        run("c000", "train", 1, 1, "b", "", 0.0),
        run("c001", "train", 0, 1, "a", "A", 1.0),
        run("c001", "train", 1, 1, "b", "A", 0.0),
        run("c001", "validation", 0, 1, "a", "A", 1.0),
        run("c001", "validation", 1, 1, "b", "A", 0.0),
    ]
    assert by_step[2] == [  # the parent c001's minibatch runs were recorded in step 1: not run again
        run("c002", "train", 0, 2, "a", "AB", 0.5),
        run("c002", "train", 1, 2, "b", "AB", 1.0),
        run("c002", "validation", 0, 2, "a", "AB", 0.5),
        run("c002", "validation", 1, 2, "b", "AB", 1.0),
    ]
    test_run = run("c002", "test", 0, 3, "b", "AB", 1.0)
    assert table(steps[3], "task_runs") == [test_run]
    component = f"{follow_name}:instruction"
    seed: dict[str, object] = {
        "id": "c000",
        "parent": None,
        "component": None,
        "minibatch_parent": None,
        "minibatch_child": None,
        "validation_mean": 0.0,
        "led": "[]",
    }
    first = seed | {
        "id": "c001",
        "parent": "c000",
        "component": component,
        "minibatch_parent": 0.0,
        "minibatch_child": 1.0,
        "validation_mean": 0.5,
        "led": "[0, 1]",
    }
    second = first | {
        "id": "c002",
        "parent": "c001",
        "minibatch_parent": 1.0,
        "minibatch_child": 1.5,
        "validation_mean": 0.75,
        "led": "[1]",
    }
    fronts = {step: table(steps[step], "frontier") for step in (0, 1, 2)}
    assert fronts == {  # c001 dominates the seed, so it alone leads instance 1, where both score 0
        0: [seed | {"led": "[0, 1]"}],
        1: [seed, first],
        2: [seed, first | {"led": "[0]"}, second],
    }
    final = next(row for row in records.history if "optimization/records.path" in row)
    assert table(final, "frontier") == fronts[2]
    history = table(final, "records")
    assert history == [*by_step[0], *by_step[1], *by_step[2], test_run]
    logged = {key for row in records.history for key in row}
    assert {"trace/step_002/tree._type", "trace/test/tree._type", "trace/test/page._type"} <= logged
    assert (
        records.summary["optimization/test_score"] == 1.0
        and records.summary["optimization/best_score"] == 0.75
    )


def test_search_optimizers_log_to_wandb_through_the_same_session(tmp_path, monkeypatch):
    from llm_strategy.optimization import blackbox

    from ..optimization.test_search import length, proposer

    monkeypatch.delenv("WANDB_MODE", raising=False)
    result = blackbox.run(
        "Grow",
        "Longer.",
        length,
        "ab",
        max_steps=1,
        model=proposer(["abcd"]),
        run_directory=tmp_path / "run",
        progress=False,
    )
    records = read_run_file(next(Path(result.wandb_directory).glob("run-*.wandb")), wait=60)
    assert records.exited and records.config["optimizer"] == "blackbox"
    assert records.summary["optimization/best_score"] == 4 and records.summary["optimization/records"] == 2
    logged = {key for row in records.history for key in row}
    assert {"optimization/records._type", "trace/step_001/tree._type"} <= logged


def test_the_environment_is_left_alone_and_an_explicit_mode_wins(tmp_path, monkeypatch):
    from llm_strategy.optimization import blackbox

    from ..optimization.test_search import length, proposer

    monkeypatch.delenv("WANDB_MODE", raising=False)
    before = dict(os.environ)
    result = blackbox.run(
        "Grow",
        "Longer.",
        length,
        "ab",
        max_steps=1,
        model=proposer(["abcd"]),
        run_directory=tmp_path / "offline",
        progress=False,
    )
    changed = {key for key in set(os.environ) | set(before) if os.environ.get(key) != before.get(key)}
    assert changed <= {"WANDB_SERVICE"}  # wandb's own service address; we set nothing
    assert "WANDB_MODE" not in os.environ and "offline-run-" in result.wandb_directory.name
    monkeypatch.setenv("WANDB_MODE", "disabled")
    disabled = blackbox.run(
        "Grow",
        "Longer.",
        length,
        "ab",
        max_steps=1,
        model=proposer(["abcd"]),
        run_directory=tmp_path / "disabled",
        progress=False,
    )
    assert disabled.wandb_directory is None and not (tmp_path / "disabled" / "wandb").exists()


def test_an_unreachable_server_falls_back_to_offline_in_bounded_time(tmp_path):
    with socket.socket() as probe:  # a port on 127.0.0.1 that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = (
        "from llm_strategy.optimization import blackbox\n"
        "from tests.optimization.test_search import length, proposer\n"
        f"result = blackbox.run('Grow', 'Longer.', length, 'ab', max_steps=1, model=proposer(['abcd']),"
        f" run_directory={str(tmp_path / 'run')!r}, progress=False)\n"
        "print('W&B directory:', result.wandb_directory)\n"
    )
    environment = {
        **os.environ,
        "WANDB_MODE": "online",
        "WANDB_BASE_URL": f"http://127.0.0.1:{port}",
        "WANDB_API_KEY": "local-" + "0" * 34,
        "WANDB_INIT_TIMEOUT": "20",
    }
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=environment,
        cwd=Path(__file__).parents[2],
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert time.monotonic() - started < 90
    lines = [line for line in completed.stderr.splitlines() if "could not reach its server" in line]
    assert len(lines) == 1 and "logging offline instead. Upload later with: wandb sync" in lines[0]
    assert "offline-run-" in completed.stdout
