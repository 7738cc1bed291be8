"""Run generated Python under bubblewrap: the operating system, not the interpreter, is the boundary.

`run_python` starts `bwrap` (Debian package `bubblewrap`) with new mount, PID, network, IPC
and UTS namespaces, a root made only of read-only binds of the system (`/usr`, `/lib*`) and of
the Python installation the code may import from (its prefix, virtual environment and
site-packages), a fresh `/proc`, `/dev` and tmpfs `/tmp`, one writable work directory and an
empty environment. When bwrap's first process ends (the code returned, failed or was stopped),
the kernel ends every process in the PID namespace. Output is read as it comes, within bounds;
results come back as JSON through the work directory. `docs/guide/sandbox.md` says exactly what
is isolated and what is not.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import selectors
import shutil
import signal
import site
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError, to_jsonable_python

__all__ = [
    "SandboxCodeError",
    "SandboxError",
    "SandboxLimits",
    "SandboxMemoryError",
    "SandboxResult",
    "SandboxTimeout",
    "SandboxUnavailableError",
    "run_python",
]

Isolation = Literal["bubblewrap", "process"]
Network = Literal["none", "host"]

_CHILD = Path(__file__).with_name("_sandbox_child.py")
_INSIDE_WORKDIR = "/sandbox"
_INSIDE_CHILD = "/run/sandbox-child.py"
_ENVIRONMENT = (
    ("PATH", "/usr/local/bin:/usr/bin:/bin"),
    ("LANG", "C.UTF-8"),
    ("PYTHONHASHSEED", "0"),
    ("OMP_NUM_THREADS", "1"),  # numerical libraries: one thread, so the limits mean something
    ("OPENBLAS_NUM_THREADS", "1"),
)
_SYSTEM_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_HOST_NETWORK_FILES = ("/etc/hosts", "/etc/resolv.conf")
_FIX = "install it (`apt-get install bubblewrap`), or pass isolation='process' (not a security boundary)"
_CHUNK = 65536
_MB = 1024 * 1024


class SandboxError(RuntimeError):
    """The sandboxed code could not produce its variables."""


class SandboxUnavailableError(SandboxError):
    """Bubblewrap is missing or cannot create its namespaces here; the message gives the fix."""


class SandboxTimeout(SandboxError):
    """The code ran past its wall-clock or CPU time limit and was stopped."""


class SandboxMemoryError(SandboxError):
    """The code tried to use more memory than its limit."""


class SandboxCodeError(SandboxError):
    """The code raised, or left a variable undefined or not JSON; `error_type` and `traceback` say more."""

    def __init__(self, message: str, error_type: str, traceback: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.traceback = traceback


@dataclass(frozen=True)
class SandboxLimits:
    """What the code may use: wall-clock `timeout` (s), CPU seconds, address space, file size
    (both MB), processes and threads, and how many bytes of stdout and of stderr are kept."""

    timeout: float = 10.0
    cpu_seconds: int = 10
    memory_mb: int = 1024
    file_size_mb: int = 64
    processes: int = 64
    output_bytes: int = 1_000_000

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not value > 0:
                raise ValueError(f"SandboxLimits.{name} must be positive, not {value!r}")


@dataclass(frozen=True)
class SandboxResult:
    """The named variables (JSON values), the output (truncated past the limit, with a marker),
    the wall-clock seconds, and how the code was isolated."""

    variables: dict[str, Any]
    stdout: str
    stderr: str
    seconds: float
    isolation: Isolation
    network: Network


class _Failure(BaseModel):
    type: str
    message: str
    traceback: str


class _Report(BaseModel):
    """What the child writes to `result.json`: the variables, or how the code failed."""

    variables: dict[str, Any] | None = None
    error: _Failure | None = None


def run_python(
    code: str,
    *,
    variables: Sequence[str] = (),
    inputs: Mapping[str, Any] | None = None,
    limits: SandboxLimits | None = None,
    isolation: Isolation = "bubblewrap",
    network: Network = "none",
) -> SandboxResult:
    """Run `code` under bubblewrap and return the values of `variables` it defined.

    `inputs` are JSON-compatible globals the code starts with; the variables must hold JSON
    values (dicts with string keys, lists, strings, numbers, booleans, None), anything else is
    refused with a `SandboxCodeError` naming the variable. `network="host"` shares the host's
    network (for code that must reach a local server); the default is no network at all.
    `isolation="process"` runs without bubblewrap, with the rlimits, an empty environment and
    a temporary directory only: not a security boundary, and it needs `network="host"`.

    Raises `SandboxUnavailableError` (bubblewrap missing or unable to create namespaces),
    `SandboxTimeout`, `SandboxMemoryError`, `SandboxCodeError` (the code raised, or a variable is
    missing or not JSON) or `SandboxError` (the process died another way).

    Example:
        ```python
        result = run_python("total = sum(values)", variables=["total"], inputs={"values": [1, 2]})
        assert result.variables == {"total": 3}
        ```
    """
    limits = limits or SandboxLimits()
    request = _request(variables, inputs, limits)
    if isolation not in ("bubblewrap", "process"):
        raise ValueError(f"isolation must be 'bubblewrap' or 'process', not {isolation!r}")
    if network not in ("none", "host"):
        raise ValueError(f"network must be 'none' or 'host', not {network!r}")
    if isolation == "process" and network == "none":
        raise ValueError("isolation='process' cannot keep the code off the network: pass network='host' too")
    bwrap = shutil.which("bwrap") if isolation == "bubblewrap" else None
    if isolation == "bubblewrap" and bwrap is None:
        raise SandboxUnavailableError(f"bubblewrap (`bwrap`) is not on PATH: {_FIX}")
    workdir = Path(tempfile.mkdtemp(prefix="llm-sandbox-"))
    started_read, started_write = os.pipe()
    try:
        (workdir / "code.py").write_text(code, encoding="utf-8")
        (workdir / "request.json").write_text(request, encoding="utf-8")
        uid = _unused_uid() if bwrap and os.geteuid() == 0 else None
        if uid is not None:
            os.chown(workdir, uid, uid)  # mkdtemp made it 0700: only root and the code see it
        if bwrap:
            inside = [_INSIDE_CHILD, _INSIDE_WORKDIR, str(started_write)]
            command = [*_bubblewrap(bwrap, workdir, network, limits, as_root=uid is not None), *inside]
            command += [str(uid)] if uid is not None else []
        else:
            command = [sys.executable, "-I", "-B", str(_CHILD), str(workdir), str(started_write)]
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=workdir,
            env=_environment(str(workdir), str(workdir)),
            pass_fds=(started_write,),
            start_new_session=True,
        )
        os.close(started_write)
        started_write = -1
        stdout, stderr, began, timed_out = _capture(process, started_read, started + limits.timeout, limits)
        seconds = time.monotonic() - started
        if timed_out:
            raise SandboxTimeout(f"the code ran longer than {limits.timeout} s and was stopped")
        if not began:
            if bwrap:
                raise SandboxUnavailableError(
                    f"bubblewrap could not create the sandbox ({stderr.strip()}); it needs `bwrap` and a "
                    f"kernel that allows user namespaces (or root): {_FIX}"
                )
            raise SandboxError(f"the sandbox process failed before running the code: {stderr.strip()[-500:]}")
        report = _read_report(workdir, limits)
        values = _outcome(report, process.returncode, stderr, limits)
        return SandboxResult(values, stdout, stderr, seconds, isolation, network)
    finally:
        os.close(started_read)
        if started_write >= 0:
            os.close(started_write)
        shutil.rmtree(workdir, ignore_errors=True)


def _request(variables: Sequence[str], inputs: Mapping[str, Any] | None, limits: SandboxLimits) -> str:
    """The JSON the child reads: variable names, inputs, limits; refuses what cannot be sent."""
    if isinstance(variables, str):
        raise TypeError(f"variables must be a list of names, not the string {variables!r}")
    for name in [*variables, *(inputs or {})]:
        if not (isinstance(name, str) and name.isidentifier()):
            raise ValueError(f"{name!r} is not a Python identifier; variables and inputs are named by them")
    values = {}
    for name, value in (inputs or {}).items():
        try:
            values[name] = to_jsonable_python(value)
        except PydanticSerializationError as error:
            raise TypeError(f"input {name!r} cannot be sent to the sandbox as JSON: {error}") from None
    return json.dumps({"variables": list(variables), "inputs": values, "limits": asdict(limits)})


def _environment(home: str, tmp: str) -> dict[str, str]:
    return {**dict(_ENVIRONMENT), "HOME": home, "TMPDIR": tmp}


def _unused_uid() -> int:
    """A uid no account has, so the process-count limit counts the code's processes only."""
    return 0x4000_0000 + secrets.randbelow(0x1000_0000)


def _bubblewrap(
    bwrap: str, workdir: Path, network: Network, limits: SandboxLimits, as_root: bool
) -> list[str]:
    """The bwrap command line up to and including the interpreter."""
    if as_root:
        # Root: no user namespace (it would map the code to uid 0, which the process-count
        # limit exempts); the child drops to an unused uid with the two capabilities kept for it.
        namespaces = [f"--unshare-{kind}" for kind in ("pid", "ipc", "uts", "net", "cgroup-try")]
        namespaces += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        namespaces = ["--unshare-all", "--unshare-user", "--disable-userns"]
    command = [bwrap, *namespaces, *(["--share-net"] if network == "host" else [])]
    command += ["--hostname", "sandbox", "--die-with-parent", "--new-session", "--clearenv"]
    for name, value in _environment(_INSIDE_WORKDIR, "/tmp").items():
        command += ["--setenv", name, value]
    command += ["--ro-bind", "/usr", "/usr"]
    for name in _SYSTEM_LINKS:
        path = Path("/", name)
        if path.is_symlink():
            command += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            command += ["--ro-bind", str(path), str(path)]
    command += ["--proc", "/proc", "--dev", "/dev"]
    for tmpfs in ("/tmp", "/dev/shm"):
        command += ["--perms", "1777", "--size", str(limits.file_size_mb * _MB), "--tmpfs", tmpfs]
    directories = _python_directories()
    for parent in sorted({str(up) for path in directories for up in Path(path).parents if up != Path("/")}):
        command += ["--perms", "0755", "--dir", parent]  # readable after the drop, whatever the umask
    for directory in directories:
        command += ["--ro-bind", directory, directory]
    if network == "host":
        for name in _HOST_NETWORK_FILES:
            command += ["--ro-bind-try", name, name]
    command += ["--bind", str(workdir), _INSIDE_WORKDIR]  # the child enters it once it is that uid
    command += ["--ro-bind", str(_CHILD), _INSIDE_CHILD]
    return [*command, "--", sys.executable, "-I", "-B"]


def _python_directories() -> list[str]:
    """The interpreter's prefixes and site-packages outside `/usr`, outermost only."""
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *site.getsitepackages()}
    found |= {os.path.realpath(path) for path in found}
    found.add(str(Path(os.path.realpath(sys.executable)).parent.parent))
    directories = sorted(path for path in found if os.path.isdir(path))
    kept: list[str] = []
    for path in directories:
        if not any(path == root or path.startswith(root.rstrip("/") + "/") for root in ["/usr", *kept]):
            kept.append(path)
    return kept


class _Bounded:
    """Keeps the first `limit` bytes of a stream and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.limit - len(self.kept)
        self.kept += chunk[:room]
        self.dropped += max(0, len(chunk) - room)

    def text(self) -> str:
        text = self.kept.decode("utf-8", errors="replace")
        return text + (f"\n[output truncated: {self.dropped} more bytes not kept]" if self.dropped else "")


def _capture(
    process: subprocess.Popen[bytes], started: int, deadline: float, limits: SandboxLimits
) -> tuple[str, str, bool, bool]:
    """Read stdout, stderr and the started pipe as they come, until they close or the deadline
    passes, then kill the process group. Returns stdout, stderr, whether the code began, whether
    it timed out."""
    assert process.stdout is not None and process.stderr is not None
    stdout, stderr, began = _Bounded(limits.output_bytes), _Bounded(limits.output_bytes), _Bounded(16)
    streams = {process.stdout.fileno(): stdout, process.stderr.fileno(): stderr, started: began}
    timed_out, ended = False, None
    with selectors.DefaultSelector() as selector:
        for descriptor in streams:
            selector.register(descriptor, selectors.EVENT_READ)
        while selector.get_map():
            now = time.monotonic()
            if now >= deadline:
                timed_out = True
                break
            if ended is None and process.poll() is not None:
                ended = now
                _kill_group(process)  # what the code started in its group (process isolation)
            if ended is not None and now - ended > 1.0:
                break  # descendants that left the group hold the pipes (process isolation)
            for key, _ in selector.select(min(deadline - now, 0.2)):
                chunk = os.read(key.fd, _CHUNK)
                if chunk:
                    streams[key.fd].add(chunk)
                else:
                    selector.unregister(key.fd)
    _kill_group(process)
    process.wait()
    process.stdout.close()
    process.stderr.close()
    return stdout.text(), stderr.text(), bool(began.kept), timed_out


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL bwrap (its PID namespace goes with it) or, under process isolation, the group."""
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)


def _read_report(workdir: Path, limits: SandboxLimits) -> _Report | None:
    """`result.json` if the child wrote one; never follows a link the code may have planted."""
    try:
        descriptor = os.open(workdir / "result.json", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SandboxError(f"the code replaced result.json with something unreadable: {error}") from None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise SandboxError("the code replaced result.json with something that is not a file")
        text = file.read(limits.file_size_mb * _MB + 1)
    try:
        return _Report.model_validate_json(text)
    except ValidationError as error:
        raise SandboxError(f"result.json is not a report; the code overwrote it? {error}") from None


def _outcome(report: _Report | None, status: int, stderr: str, limits: SandboxLimits) -> dict[str, Any]:
    """The variables, or the typed error for how the code ended."""
    if report is None:
        number = -status if status < 0 else status - 128 if status > 128 else None  # bwrap: 128 + signal
        tail = " | ".join(stderr.strip().splitlines()[-3:])
        if number == signal.SIGXCPU:
            raise SandboxTimeout(f"the code used more than {limits.cpu_seconds} s of CPU time; stopped")
        if "MemoryError" in tail:
            raise SandboxMemoryError(f"the code needed more than {limits.memory_mb} MB")
        how = f"signal {signal.Signals(number).name}" if number else f"exit status {status}"
        raise SandboxError(f"the sandboxed process ended with {how} before reporting: {tail}")
    if report.error is not None:
        if report.error.type == "MemoryError":
            raise SandboxMemoryError(f"the code needed more than {limits.memory_mb} MB")
        error = report.error
        raise SandboxCodeError(f"{error.type}: {error.message}", error.type, error.traceback)
    if report.variables is None:
        raise SandboxError("result.json holds neither variables nor an error; the code overwrote it?")
    return report.variables
