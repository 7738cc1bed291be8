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


def test_a_pareto_run_logs_its_candidates(tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    result = optimize_hyperparameters(
        follow,
        [{"kind": "a"}, {"kind": "b"}],
        optimizer_model=proposer_replying(["A", "AB"]),
        task_model=None,
        evaluator=kind_score,
        selection="pareto",
        minibatch_size=2,
        budget=Budget(max_steps=2),
        run_directory=tmp_path / "run",
        progress=False,
    )
    assert result.wandb_directory is not None
    records = read_run_file(next(Path(result.wandb_directory).glob("run-*.wandb")), wait=60)
    assert records.config["optimizer"] == "meta-pareto" and records.config["selection"] == "pareto"
    table = json.loads(next(Path(result.wandb_directory).rglob("records*.table.json")).read_text())
    rows = {row[0]: dict(zip(table["columns"], row, strict=True)) for row in table["data"]}
    assert set(rows) == {"c000", "c001", "c002"}
    assert rows["c002"]["parent"] == "c001" and rows["c002"]["component"].endswith("follow:instruction")
    assert rows["c002"]["minibatch_child"] == 1.5 and json.loads(rows["c002"]["led"]) == [1]
    assert json.loads(rows["c001"]["led"]) == [0] and rows["c002"]["validation_mean"] == 0.75


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
