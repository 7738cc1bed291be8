"""A run killed with SIGKILL, or stopped by a full disk, resumes without repeating or rewriting finished
work and ends like an uninterrupted one; a second process on the same directory is refused at once."""

import json
import os
import random
import resource
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


def finished_files(directory: Path) -> dict[str, bytes]:
    """The files of every finished unit: task runs, reflections, and the decisions of finished steps."""
    state = directory / "state.json"
    done = {row["step"] for row in json.loads(state.read_text())["steps"]} if state.exists() else set()
    files = {
        str(path.relative_to(directory)): path.read_bytes()
        for folder in ("task_runs", "reflections")
        for path in (directory / folder).glob("*.json")
    }
    for step in done:
        path = directory / "steps" / f"{step:03d}.json"
        if path.exists():
            files[str(path.relative_to(directory))] = path.read_bytes()
    return files


def outcome(directory: Path) -> tuple[list[tuple[str, object, object]], dict[str, object]]:
    records = [
        (path.stem, data["task_parameters"], data["return_value"])
        for path in sorted((directory / "task_runs").glob("*.json"))
        for data in [json.loads(path.read_text())]
    ]
    result = json.loads((directory / "result.json").read_text())
    return records, {key: result[key] for key in ("stop_reason", "steps", "records", "best_score", "failed")}


def test_resume_after_sigkill_at_random_moments(tmp_path):
    expected = run(tmp_path / "uninterrupted")
    killed = tmp_path / "killed"
    moments = sorted(random.Random(7).sample(range(2, expected), 3))
    for moment in moments:
        before = finished_files(killed) if killed.exists() else {}
        process = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(killed), "--resume"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list((killed / "task_runs").glob("*.json"))) < moment:
            time.sleep(0.02)
        time.sleep(random.Random(moment).uniform(0, 0.3))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        after = finished_files(killed)
        for name, data in before.items():  # finished units are never rewritten
            assert after[name] == data, name

    assert run(killed, "--resume") == expected
    assert not list(killed.rglob("*.tmp"))  # leftovers of killed writes are gone
    assert outcome(killed) == outcome(tmp_path / "uninterrupted")


def test_a_second_process_on_the_same_directory_is_refused_at_once(tmp_path):
    first = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(tmp_path / "run")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (tmp_path / "run" / "run.json").exists():
            time.sleep(0.02)
        started = time.monotonic()
        second = subprocess.run(
            [sys.executable, str(SCRIPT), str(tmp_path / "run"), "--resume"], capture_output=True, text=True
        )
        assert second.returncode != 0 and time.monotonic() - started < 15
        assert "RunLockedError" in second.stderr and "is in use by another process" in second.stderr
    finally:
        first.kill()
        first.wait()


def test_a_full_disk_is_a_clear_error_and_the_resume_completes_the_run(tmp_path):
    expected = run(tmp_path / "uninterrupted")

    def small_files() -> None:  # every file above 6 KB fails to write, as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (6_000, 6_000))

    stopped = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "run")],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
    )
    assert stopped.returncode != 0 and "RunStorageError: cannot write" in stopped.stderr
    assert "resume the run (resume=True) once the disk is writable" in stopped.stderr
    assert not list((tmp_path / "run").rglob("*.tmp"))
    kept = finished_files(tmp_path / "run")
    assert kept  # what finished before the failure is on disk
    assert run(tmp_path / "run", "--resume") == expected
    after = finished_files(tmp_path / "run")
    assert all(after[name] == data for name, data in kept.items())
    assert outcome(tmp_path / "run") == outcome(tmp_path / "uninterrupted")
