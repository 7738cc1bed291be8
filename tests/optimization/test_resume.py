"""A run killed with SIGKILL, or stopped by a full disk or a read-only directory, resumes without repeating
or rewriting finished work and ends like an uninterrupted one; a second process on the same directory is
refused at once."""

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("run_slow.py")
BWRAP = shutil.which("bwrap")
pytestmark = pytest.mark.integration
needs_bwrap = pytest.mark.skipif(
    BWRAP is None,
    reason="bubblewrap (bwrap) makes a directory read-only even for root: apt-get install bubblewrap",
)


def run(directory: Path, *extra: str) -> int:
    output = subprocess.run(
        [sys.executable, str(SCRIPT), str(directory), *extra], capture_output=True, text=True, check=True
    )
    return int(output.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A run that nothing interrupted, and its number of records."""
    directory = tmp_path_factory.mktemp("uninterrupted") / "run"
    return directory, run(directory)


def read_only(*directories: Path) -> list[str]:
    """A bubblewrap prefix: the host as it is, with `directories` read-only (for root too)."""
    assert BWRAP is not None
    bound = [argument for path in directories for argument in ("--ro-bind", str(path), str(path))]
    return [BWRAP, "--dev-bind", "/", "/", *bound]


def every_file(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes() for path in directory.rglob("*") if path.is_file()
    }


def stopped_after(directory: Path, steps: int) -> None:
    """Start a run and SIGKILL it as soon as its first `steps` steps are checkpointed."""
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if len(json.loads((directory / "state.json").read_text())["steps"]) >= steps:
                break
        except (OSError, ValueError):  # not written yet
            pass
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


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


def test_resume_after_sigkill_at_ten_random_moments(tmp_path, uninterrupted):
    full, expected = uninterrupted
    killed = tmp_path / "killed"
    units = len(finished_files(full))  # task runs, reflections and step decisions
    moments = sorted(random.Random(7).sample(range(1, units), 10))
    for moment in moments:
        before = finished_files(killed) if killed.exists() else {}
        process = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(killed), "--resume"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(finished_files(killed) if killed.exists() else {}) < moment:
            time.sleep(0.01)
        time.sleep(random.Random(moment).uniform(0, 0.2))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        after = finished_files(killed)
        assert not (killed / "result.json").exists()  # killed in the middle of the run
        for name, data in before.items():  # finished units are never rewritten
            assert after[name] == data, name

    assert run(killed, "--resume") == expected
    assert not list(killed.rglob("*.tmp"))  # leftovers of killed writes are gone
    assert outcome(killed) == outcome(full)


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


def test_a_full_disk_is_a_clear_error_and_the_resume_completes_the_run(tmp_path, uninterrupted):
    full, expected = uninterrupted

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
    assert (
        "resume the run (resume=True) once the file-size limit (ulimit -f) or the file system allows"
        in stopped.stderr
    )
    assert not list((tmp_path / "run").rglob("*.tmp"))
    kept = finished_files(tmp_path / "run")
    assert kept  # what finished before the failure is on disk
    assert run(tmp_path / "run", "--resume") == expected
    after = finished_files(tmp_path / "run")
    assert all(after[name] == data for name, data in kept.items())
    assert outcome(tmp_path / "run") == outcome(full)


@needs_bwrap
def test_a_read_only_run_directory_is_a_clear_error_and_the_resume_completes_the_run(tmp_path, uninterrupted):
    full, expected = uninterrupted
    directory, requests = tmp_path / "run", tmp_path / "requests.txt"
    stopped_after(directory, 2)  # the start and step 1 are finished
    files = every_file(directory)

    # Resumed on a read-only directory: refused at the lock, before any LLM request; nothing changes.
    refused = subprocess.run(
        [
            *read_only(directory),
            sys.executable,
            str(SCRIPT),
            str(directory),
            "--resume",
            "--calls",
            str(requests),
        ],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0
    assert f"RunStorageError: cannot write {directory}/.lock: Read-only file system" in refused.stderr
    assert "resume the run (resume=True) once the run directory is writable" in refused.stderr
    assert not requests.exists()
    assert every_file(directory) == files

    # Its traces folder turns read-only: step 2 runs, and its trace cannot be written.
    kept = finished_files(directory)
    stopped = subprocess.run(
        [*read_only(directory / "traces"), sys.executable, str(SCRIPT), str(directory), "--resume"],
        capture_output=True,
        text=True,
    )
    assert stopped.returncode != 0
    trace = directory / "traces" / "step-002.json"
    assert f"RunStorageError: cannot write {trace}: Read-only file system" in stopped.stderr
    assert not list(directory.rglob("*.tmp"))
    after = finished_files(directory)
    assert all(after[name] == data for name, data in kept.items())
    assert len(after) > len(kept)  # step 2's task runs are kept too

    # Writable again: the resume ends exactly like the uninterrupted run, finished files untouched.
    assert run(directory, "--resume") == expected
    after = finished_files(directory)
    assert all(after[name] == data for name, data in kept.items())
    assert outcome(directory) == outcome(full)


@needs_bwrap
def test_a_read_only_directory_from_the_start_is_refused_before_any_llm_request(tmp_path):
    locked, requests = tmp_path / "locked", tmp_path / "requests.txt"
    locked.mkdir()
    for directory, message in [
        (locked / "run", f"RunStorageError: cannot create the run directory {locked / 'run'}: "),
        (locked, f"RunStorageError: cannot write {locked}/.lock: Read-only file system"),
    ]:
        refused = subprocess.run(
            [*read_only(locked), sys.executable, str(SCRIPT), str(directory), "--calls", str(requests)],
            capture_output=True,
            text=True,
        )
        assert refused.returncode != 0 and message in refused.stderr
        assert not requests.exists()
        assert not list(locked.iterdir())


@needs_bwrap
def test_a_really_full_disk_is_a_clear_error_naming_free_space(tmp_path):
    """The run directory on a 24 KB tmpfs: the kernel's own ENOSPC, not a simulated limit."""
    assert BWRAP is not None
    mount = tmp_path / "small"
    mount.mkdir()
    stopped = subprocess.run(
        [
            BWRAP,
            "--dev-bind",
            "/",
            "/",
            "--size",
            str(24 * 1024),
            "--tmpfs",
            str(mount),
            sys.executable,
            str(SCRIPT),
            str(mount / "run"),
        ],
        capture_output=True,
        text=True,
    )
    assert stopped.returncode != 0
    assert f"RunStorageError: cannot write {mount}/run/" in stopped.stderr
    assert ": No space left on device. Everything finished before is kept in" in stopped.stderr
    assert "resume the run (resume=True) once the disk has free space" in stopped.stderr
