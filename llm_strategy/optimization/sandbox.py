"""Run generated Python safely enough to score it: a separate, isolated, limited process.

The code runs in `python -I` in a fresh temporary directory, with a time limit, CPU and memory
limits, an environment that holds no secrets (nothing is inherited), no network (a network
namespace where the platform allows it, and an audit hook that refuses sockets everywhere),
and no writes, deletions or subprocesses outside its directory (the audit hook again).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic_core import to_jsonable_python

__all__ = [
    "SandboxCodeError",
    "SandboxError",
    "SandboxLimits",
    "SandboxMemoryError",
    "SandboxResult",
    "SandboxTimeout",
    "run_python",
]

_BOOTSTRAP = Path(__file__).with_name("_sandbox_child.py")
_SAFE_ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONHASHSEED": "0",
    "OMP_NUM_THREADS": "1",  # numerical libraries: one thread, so the memory limit means something
    "OPENBLAS_NUM_THREADS": "1",
}


class SandboxError(RuntimeError):
    """The sandboxed code could not produce its variables."""


class SandboxTimeout(SandboxError):
    """The code ran past its wall-clock or CPU time limit and was stopped."""


class SandboxMemoryError(SandboxError):
    """The code tried to use more memory than its limit."""


class SandboxCodeError(SandboxError):
    """The code raised; `error_type` and `traceback` say what and where."""

    def __init__(self, message: str, error_type: str, traceback: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.traceback = traceback


@dataclass(frozen=True)
class SandboxLimits:
    """What the code may use. `network=True` lifts the network ban (not recommended)."""

    timeout: float = 10.0
    cpu_seconds: int = 10
    memory_mb: int = 1024
    file_size_mb: int = 64
    network: bool = False


@dataclass(frozen=True)
class SandboxResult:
    """The named variables (JSON-compatible), the output, and how isolated the run was."""

    variables: dict[str, Any]
    stdout: str
    stderr: str
    seconds: float
    network_namespace: bool


def run_python(
    code: str,
    *,
    variables: Sequence[str] = (),
    inputs: Mapping[str, Any] | None = None,
    limits: SandboxLimits | None = None,
) -> SandboxResult:
    """Run `code` in a sandbox and return the values of `variables` it defined.

    `inputs` are JSON-compatible globals the code starts with. Raises `SandboxTimeout`,
    `SandboxMemoryError`, `SandboxCodeError` (the code raised, or a variable is missing), or
    `SandboxError` (the process died another way).

    Example:
        ```python
        result = run_python("total = sum(values)", variables=["total"], inputs={"values": [1, 2]})
        assert result.variables == {"total": 3}
        ```
    """
    limits = limits or SandboxLimits()
    workdir = Path(tempfile.mkdtemp(prefix="llm-sandbox-"))
    try:
        (workdir / "code.py").write_text(code, encoding="utf-8")
        start_values = to_jsonable_python(dict(inputs or {}), fallback=repr)
        request = {"variables": list(variables), "inputs": start_values}
        (workdir / "request.json").write_text(json.dumps(request), encoding="utf-8")
        isolate = not limits.network and _network_namespace_works()
        command = [*(_UNSHARE if isolate else []), sys.executable, "-I", str(_BOOTSTRAP), str(workdir)]
        command += ["--allow-network"] if limits.network else []
        started = time.monotonic()
        try:
            finished = subprocess.run(
                command,
                cwd=workdir,
                env={**_SAFE_ENVIRONMENT, "HOME": str(workdir), "TMPDIR": str(workdir)},
                capture_output=True,
                text=True,
                timeout=limits.timeout,
                preexec_fn=lambda: _limit(limits),
                start_new_session=False,
            )
        except subprocess.TimeoutExpired as expired:
            raise SandboxTimeout(f"the code ran longer than {limits.timeout} s and was stopped") from expired
        seconds = time.monotonic() - started
        return _outcome(workdir, finished, seconds, isolate, limits)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _limit(limits: SandboxLimits) -> None:
    """In the child before exec: its own process group, CPU, memory and file-size limits."""
    os.setsid()
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    size = limits.file_size_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def _outcome(
    workdir: Path,
    finished: subprocess.CompletedProcess[str],
    seconds: float,
    isolated: bool,
    limits: SandboxLimits,
) -> SandboxResult:
    result_file = workdir / "result.json"
    if finished.returncode < 0 or not result_file.exists():
        code = -finished.returncode if finished.returncode < 0 else None
        if code in (signal.SIGXCPU, signal.SIGKILL) and seconds >= limits.cpu_seconds * 0.8:
            raise SandboxTimeout(f"the code used more than {limits.cpu_seconds} s of CPU time; stopped")
        tail = finished.stderr.strip().splitlines()[-3:]
        how = f"signal {signal.Signals(code).name}" if code else f"exit status {finished.returncode}"
        if any("MemoryError" in line for line in tail):
            raise SandboxMemoryError(f"the code needed more than {limits.memory_mb} MB")
        raise SandboxError(f"the sandboxed process ended with {how} before reporting: {' | '.join(tail)}")
    report = json.loads(result_file.read_text(encoding="utf-8"))
    error = report.get("error")
    if error is not None:
        if error["type"] == "MemoryError":
            raise SandboxMemoryError(f"the code needed more than {limits.memory_mb} MB")
        raise SandboxCodeError(f"{error['type']}: {error['message']}", error["type"], error["traceback"])
    return SandboxResult(report["variables"], finished.stdout, finished.stderr, seconds, isolated)


_UNSHARE = ("unshare", "--net", "--map-root-user")


@lru_cache(maxsize=1)
def _network_namespace_works() -> bool:
    """Whether `unshare --net` can give the child an empty network namespace here."""
    if shutil.which("unshare") is None:
        return False
    try:
        probe = subprocess.run([*_UNSHARE, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0
