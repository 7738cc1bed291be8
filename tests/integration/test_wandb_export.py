"""A real offline W&B run, read back from its .wandb file."""

from pathlib import Path

import pytest

from llm_hyperparameters import log_trace, read_run_file, span, trace
from llm_strategy import llm_function

from ..helpers import scripted

pytestmark = pytest.mark.integration
wandb = pytest.importorskip("wandb")
CANARY = "canary-wandb-51c0ffee"


@llm_function
def shout(model, text: str, api_key: str) -> str:
    """Shout the text."""
    raise NotImplementedError


def recorded_trace():
    with trace("wandb demo") as recorded, span("setup", inputs={"token": CANARY}):
        shout(scripted('{"return_value": "HELLO"}'), "hello", CANARY)
    return recorded


def run_file(run) -> Path:
    return next(Path(run.dir).parent.glob("run-*.wandb"))


def test_offline_run_holds_tree_table_page_and_summary(tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)  # offline must be the default
    monkeypatch.setenv("WANDB_API_KEY", CANARY + "-key")
    recorded = recorded_trace()
    run = log_trace(recorded, directory=tmp_path, project="llm-strategy-tests")
    records = read_run_file(run_file(run), wait=60)
    assert records.exited
    logged = {key for row in records.history for key in row}
    assert {"trace/spans._type", "trace/page._type", "trace/tree._type"} <= logged
    assert records.summary["trace/calls"] == 1 and records.summary["trace/llm_calls"] == 1
    assert records.summary["trace/total_tokens"] > 0
    run_directory = Path(run.dir).parent
    tables = list(run_directory.rglob("*.table.json"))
    assert tables and '"shout"' in tables[0].read_text()
    assert list(run_directory.rglob("*.html"))
    for path in run_directory.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path


def test_a_users_run_is_used_as_given(tmp_path):
    run = wandb.init(project="llm-strategy-tests", dir=str(tmp_path), config={"mine": True}, mode="offline")
    assert log_trace(recorded_trace(), run, key="first") is run
    run.summary["still_open"] = 1  # we did not finish the user's run
    run.finish()
    records = read_run_file(run_file(run), wait=60)
    assert records.config["mine"] is True
    assert records.summary["still_open"] == 1 and records.summary["first/calls"] == 1
