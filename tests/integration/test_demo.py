"""The demo as a user runs it: a run where every call fails exits non-zero with the first error;
`WANDB_MODE=disabled` prints no W&B path; the summary table is printed once."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
pytest.importorskip("langchain_openai")
DEMO = Path(__file__).parents[2] / "examples" / "meta_optimization.py"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_run_where_every_call_fails_exits_non_zero_with_the_first_error(tmp_path):
    environment = {
        **os.environ,
        "OPENAI_API_KEY": "sk-local-test",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{closed_port()}/v1",
        "WANDB_MODE": "disabled",
    }
    completed = subprocess.run(
        [sys.executable, str(DEMO), "--model", "openai:gpt-4o-mini", "--steps", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=300,
    )
    assert completed.returncode == 1, completed.stderr[-2000:]
    assert "FAILED: no task run succeeded; the first error: " in completed.stderr
    assert "ProviderError" in completed.stderr and "Best instructions" not in completed.stdout
    assert "W&B run:" not in completed.stdout and "wandb sync" not in completed.stdout


def test_the_offline_demo_prints_the_summary_once_and_the_trace_index(tmp_path):
    environment = {**os.environ, "WANDB_MODE": "disabled"}
    environment.pop("LLM_STRATEGY_MODEL", None)
    completed = subprocess.run(
        [sys.executable, str(DEMO), "--steps", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    printed = completed.stdout + completed.stderr
    assert printed.count("stopped: ") == 1 and "best mean" in printed
    assert "runs/essays/traces/index.html" in completed.stdout and "W&B run:" not in completed.stdout
    assert (tmp_path / "runs" / "essays" / "traces" / "index.html").exists()
