"""A run killed with SIGKILL resumes without repeating finished runs and ends like an uninterrupted one."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("run_slow.py")
pytestmark = pytest.mark.integration


def run(directory: Path, *extra: str) -> int:
    output = subprocess.run(
        [sys.executable, str(SCRIPT), str(directory), *extra], capture_output=True, text=True, check=True
    )
    return int(output.stdout.strip().splitlines()[-1])


def test_resume_after_sigkill(tmp_path):
    expected = run(tmp_path / "uninterrupted")
    killed = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((killed / "task_runs").glob("*.json"))) < 4:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = {path.name: json.loads(path.read_text()) for path in (killed / "task_runs").glob("*.json")}
    assert 4 <= len(before) < expected, "the kill should land mid-run"
    assert not list(killed.rglob("*.tmp")) or all(path.name.startswith(".") for path in killed.rglob("*.tmp"))

    assert run(killed, "--resume") == expected
    after = {path.name: json.loads(path.read_text()) for path in (killed / "task_runs").glob("*.json")}
    assert len(after) == expected
    for name, record in before.items():  # finished runs were kept, not repeated
        assert after[name]["return_value"] == record["return_value"]
        assert after[name]["task_parameters"] == record["task_parameters"]
    uninterrupted = sorted(path.name for path in (tmp_path / "uninterrupted" / "task_runs").glob("*.json"))
    assert sorted(after) == uninterrupted
