# ruff: noqa: E501  (attack sources read best one per line)
"""Hostile code under the real sandbox (real bwrap, real processes), each attack checked from the host.

Every attack runs against a host that watches: a marker file that must not appear, a victim
file that must stay intact, a victim process that must stay alive, TCP, UDP, UNIX and abstract
sockets that must see no connection, and secrets (a canary in this process's environment, a
secret file, /etc/shadow, /root, the checkout) that must not show up in anything the sandbox
returns. An attack may fail loudly or quietly inside the sandbox; what counts is the host.
"""

from __future__ import annotations

import os
import secrets
import socket
import string
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from llm_strategy.optimization.sandbox import (
    SandboxCodeError,
    SandboxError,
    SandboxLimits,
    SandboxMemoryError,
    SandboxTimeout,
    SandboxUnavailableError,
    run_python,
)

pytestmark = pytest.mark.integration

CHECKOUT = Path(__file__).resolve().parents[2]


@dataclass
class Host:
    """What the host watches during one attack."""

    directory: Path
    marker: Path
    victim_file: Path
    secret: str
    canary: str
    victim: subprocess.Popen[bytes]
    tcp: socket.socket
    udp: socket.socket
    unix: socket.socket
    abstract: socket.socket
    abstract_name: str
    hostname: str = socket.gethostname()

    @property
    def values(self) -> dict[str, object]:
        return {
            "marker": str(self.marker),
            "marker_dir": str(self.directory),
            "marker_name": self.marker.name,
            "victim_file": str(self.victim_file),
            "victim_name": self.victim_file.name,
            "secret_file": str(self.directory / "secret.txt"),
            "pid": self.victim.pid,
            "tcp_port": self.tcp.getsockname()[1],
            "udp_port": self.udp.getsockname()[1],
            "host_ip": _host_address(),
            "unix_path": str(self.directory / "host.sock"),
            "abstract": self.abstract_name,
            "checkout": str(CHECKOUT),
            "python": sys.executable,
        }

    def breaches(self, returned: str) -> list[str]:
        """Everything the attack achieved on the host side; empty when it was blocked."""
        found = []
        if self.marker.exists():
            found.append("the marker file appeared")
        for directory in (self.directory, Path(sys.prefix), Path(sys.base_prefix)):
            if list(directory.glob("escaped*")):
                found.append(f"a file named escaped* appeared in {directory}")
        if not self.victim_file.exists() or self.victim_file.read_text() != "intact":
            found.append("the victim file was changed or deleted")
        if socket.gethostname() != self.hostname:
            found.append("the host name changed")
        if self.victim.poll() is not None:
            found.append("the victim process was killed")
        elif _state(self.victim.pid) in ("T", "t"):
            found.append("the victim process was stopped or traced")
        for name, listener in (("TCP", self.tcp), ("UNIX", self.unix), ("abstract", self.abstract)):
            try:
                connection, _ = listener.accept()
            except BlockingIOError:
                continue
            connection.close()
            found.append(f"the {name} socket saw a connection")
        try:
            self.udp.recvfrom(100)
            found.append("the UDP socket received a datagram")
        except BlockingIOError:
            pass
        for label, secret in self.secrets().items():
            if secret in returned:
                found.append(f"{label} came back")
        return found

    def secrets(self) -> dict[str, str]:
        shadow = Path("/etc/shadow").read_text().splitlines()[0] if Path("/etc/shadow").exists() else ""
        found = {"the environment canary": self.canary, "the secret file": self.secret}
        found |= {"/etc/shadow": shadow} if shadow else {}
        found["the checkout's pyproject.toml"] = (CHECKOUT / "pyproject.toml").read_text().splitlines()[0]
        return found


def _host_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent; this picks the outgoing interface
        return probe.getsockname()[0]


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@pytest.fixture
def host(tmp_path, monkeypatch):
    canary = "sk-canary-" + secrets.token_hex(8)
    monkeypatch.setenv("LLM_SANDBOX_CANARY", canary)
    monkeypatch.setenv("OPENAI_API_KEY", canary)
    directory = tmp_path / "host"
    directory.mkdir()
    directory.chmod(0o777)
    victim_file = directory / "victim.txt"
    victim_file.write_text("intact")
    secret = "secret-" + secrets.token_hex(8)
    (directory / "secret.txt").write_text(secret)
    tcp = socket.create_server(("0.0.0.0", 0))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", 0))
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(directory / "host.sock"))
    os.chmod(directory / "host.sock", 0o777)
    unix.listen()
    abstract_name = "llm-sandbox-" + secrets.token_hex(4)
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind("\0" + abstract_name)
    abstract.listen()
    for listener in (tcp, udp, unix, abstract):
        listener.setblocking(False)
    victim = subprocess.Popen(["sleep", "300"])
    watched = Host(
        directory,
        directory / "escaped",
        victim_file,
        secret,
        canary,
        victim,
        tcp,
        udp,
        unix,
        abstract,
        abstract_name,
    )
    yield watched
    victim.kill()
    victim.wait()
    for listener in (tcp, udp, unix, abstract):
        listener.close()


CTYPES = "import ctypes, ctypes.util\nlibc = ctypes.CDLL(None, use_errno=True)\n"
ESCAPES = {
    # files
    "write an absolute path": "open('$marker', 'w').write('x')",
    "chdir then relative write": "import os\nos.chdir('$marker_dir')\nopen('$marker_name', 'w').write('x')",
    "os.open with dir_fd outside": (
        "import os\nd = os.open('$marker_dir', os.O_RDONLY)\n"
        "os.write(os.open('$marker_name', os.O_CREAT | os.O_WRONLY, dir_fd=d), b'x')"
    ),
    "os.unlink with dir_fd outside": "import os\nos.unlink('$victim_name', dir_fd=os.open('$marker_dir', os.O_RDONLY))",
    "overwrite the victim file": "open('$victim_file', 'w').write('owned')",
    "replace os.path.realpath": (
        "import os\nos.path.realpath = lambda path, **_: '/sandbox/' + os.path.basename(path)\n"
        "open('$marker', 'w').write('x')"
    ),
    "hunt the audit hook with gc": (
        "import gc, os\n"
        "for f in [o for o in gc.get_objects() if type(o).__name__ == 'function' and o.__name__ == 'hook']:\n"
        "    f.__globals__['_inside'] = lambda *a: True\n"
        "open('$marker', 'w').write('x')"
    ),
    "symlink out of the work directory": "import os\nos.symlink('$marker', 'link')\nopen('link', 'w').write('x')",
    "hard link a host file": "import os\nos.link('$victim_file', 'hard')\nopen('hard', 'w').write('owned')",
    "write into the venv": "import sys\nopen(sys.prefix + '/escaped-$marker_name', 'w').write('x')",
    "sqlite3.connect outside": "import sqlite3\nsqlite3.connect('$marker').execute('create table t (x)')",
    "remount / read-write": (
        CTYPES + "print(libc.mount(b'none', b'/', None, 0x20 | 0x1000, None), ctypes.get_errno())\n"
        "open('$marker', 'w').write('x')"
    ),
    "new user namespace, then mount": (
        CTYPES + "print(libc.unshare(0x10000000 | 0x00020000), ctypes.get_errno())\n"
        "print(libc.mount(b'$marker_dir', b'/sandbox', None, 0x1000, None), ctypes.get_errno())\n"
        "open('$marker', 'w').write('x')"
    ),
    "setuid(0) then write": "import os\nos.setuid(0)\nopen('$marker', 'w').write('x')",
    "sethostname": CTYPES + "print(libc.sethostname(b'owned', 5), ctypes.get_errno())",
    "write /proc/sys": "open('/proc/sys/kernel/hostname', 'w').write('owned')",
    # processes
    "subprocess.run": "import subprocess\nsubprocess.run(['sh', '-c', 'echo x > $marker'])",
    "os.system": "import os\nos.system('touch $marker')",
    "_posixsubprocess.fork_exec": (
        "import _posixsubprocess, os\n"
        "_posixsubprocess.fork_exec([b'/bin/sh', b'-c', b'touch $marker'], [b'/bin/sh'], True, (), None, None,"
        " -1, -1, -1, -1, -1, -1, *os.pipe(), False, False, -1, None, None, None, -1, None, False)\n"
        "import time\ntime.sleep(0.5)"
    ),
    "multiprocessing spawn": (
        "import multiprocessing\nif __name__ == '__main__':\n"
        "    p = multiprocessing.get_context('spawn').Process(target=open, args=('$marker', 'w'))\n"
        "    p.start()\n    p.join()"
    ),
    "ctypes open and write": (CTYPES + "fd = libc.open(b'$marker', 0o101, 0o644)\nlibc.write(fd, b'x', 1)"),
    "ctypes system": CTYPES + "libc.system(b'touch $marker')",
    "ctypes fork": (
        CTYPES
        + "import os, time\nif libc.fork() == 0:\n    open('$marker', 'w').write('x')\n    os._exit(0)\ntime.sleep(0.5)"
    ),
    "ctypes kill a host process": CTYPES + "libc.kill($pid, 9)",
    "os.kill a host process": "import os\nos.kill($pid, 9)",
    "kill every process": (  # outside a PID namespace this would kill the machine: fail loudly instead
        "import os\nif os.getpid() > 100:\n    open('$marker', 'w')\nelse:\n    os.kill(-1, 9)"
    ),
    "ptrace a host process": CTYPES + "print(libc.ptrace(16, $pid, None, None), ctypes.get_errno())",
    # network
    "UNIX socket to a host path": "import socket\nsocket.socket(socket.AF_UNIX).connect('$unix_path')",
    "abstract UNIX socket": "import socket\nsocket.socket(socket.AF_UNIX).connect('\\0$abstract')",
    "TCP to 127.0.0.1": "import socket\nsocket.create_connection(('127.0.0.1', $tcp_port), timeout=1)",
    "TCP to the host's address": "import socket\nsocket.create_connection(('$host_ip', $tcp_port), timeout=1)",
    "UDP to 127.0.0.1": (
        "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.sendto(b'x', ('127.0.0.1', $udp_port))"
    ),
    # secrets
    "read /etc/shadow": "print(open('/etc/shadow').read())",
    "read /root/.ssh": "import os\nprint(os.listdir('/root'), os.listdir('/root/.ssh'))",
    "read the checkout": "print(open('$checkout/pyproject.toml').read())",
    "read the caller's file": "print(open('$secret_file').read())",
    "environment canary": "import os\nprint(dict(os.environ))",
    "/proc environ of every process": (
        "import os\nfor p in os.listdir('/proc'):\n"
        "    try: print(open(f'/proc/{p}/environ').read())\n    except Exception as e: print(p, e)"
    ),
    "/proc root of a host process": "print(open('/proc/$pid/root$secret_file').read())",
    "result.json linked to a secret": (
        "import os, atexit\nos.symlink('$secret_file', 'result.json')\nfound = 1"
    ),
}


def _returned(outcome: object) -> str:
    """Everything the sandbox handed back: variables, output, error message and traceback."""
    if isinstance(outcome, SandboxCodeError):
        return f"{outcome} {outcome.traceback}"
    return repr(outcome)


@pytest.mark.parametrize("code", list(ESCAPES.values()), ids=list(ESCAPES))
def test_escape_is_blocked(host, code):
    source = string.Template(code).substitute(host.values)
    try:
        outcome: object = run_python(source, limits=SandboxLimits(timeout=10))
    except SandboxUnavailableError:
        raise
    except SandboxError as error:
        outcome = error
    assert host.breaches(_returned(outcome)) == []


def test_the_sandbox_sees_only_what_it_needs(host):
    """The root holds the system, the interpreter, /proc, /dev, /tmp, the work directory: nothing else."""
    code = "import os\nroot = sorted(os.listdir('/'))\nhome = sorted(os.listdir('/root')) if os.path.isdir('/root') else []"
    found = run_python(code, variables=["root", "home"]).variables
    assert set(found["root"]) <= {"bin", "dev", "lib", "lib32", "lib64", "libx32", "proc", "run", "sandbox"} | {
        "sbin", "tmp", "usr", *(Path(sys.prefix).parts[1:2]), *(Path(sys.base_prefix).parts[1:2]),
    }  # fmt: skip
    assert "etc" not in found["root"] and "home" not in found["root"]
    assert set(found["home"]) <= {".pyenv"}


def _survivors(token: str) -> list[int]:
    """Host processes whose name is the token the attack gave its children."""
    alive = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == token:
                alive.append(int(entry.name))
        except OSError:
            continue
    return alive


NAME_ME = CTYPES + "libc.prctl(15, b'$token', 0, 0, 0)\n"


def test_forked_children_die_with_the_call():
    token = "sbx" + secrets.token_hex(5)
    code = NAME_ME + (
        "import os, time\nfor _ in range(200):\n    if os.fork() == 0:\n        time.sleep(120)\n        os._exit(0)\n"
        "ready = True"
    )
    limits = SandboxLimits(processes=256)
    assert run_python(
        string.Template(code).substitute(token=token), variables=["ready"], limits=limits
    ).variables
    time.sleep(0.5)
    assert _survivors(token) == []


def test_a_child_running_past_the_timeout_is_killed_on_time():
    token = "sbx" + secrets.token_hex(5)
    code = (
        NAME_ME + "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(120)\ntime.sleep(120)"
    )
    started = time.monotonic()
    with pytest.raises(SandboxTimeout, match=r"longer than 1\.5 s"):
        run_python(string.Template(code).substitute(token=token), limits=SandboxLimits(timeout=1.5))
    assert time.monotonic() - started < 2.5
    time.sleep(0.5)
    assert _survivors(token) == []


def test_a_fork_bomb_is_held_by_the_process_limit():
    token = "sbx" + secrets.token_hex(5)
    code = NAME_ME + "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    started = time.monotonic()
    with pytest.raises(SandboxTimeout):
        run_python(
            string.Template(code).substitute(token=token), limits=SandboxLimits(timeout=3, processes=32)
        )
    assert time.monotonic() - started < 4.5
    time.sleep(0.5)
    assert _survivors(token) == []


def test_the_process_limit_counts_the_codes_processes():
    code = "import os, time\nforked = 0\ntry:\n    for _ in range(100):\n        if os.fork() == 0:\n            time.sleep(5)\n            os._exit(0)\n        forked += 1\nexcept OSError:\n    pass"
    forked = run_python(code, variables=["forked"], limits=SandboxLimits(processes=20)).variables["forked"]
    assert 10 <= forked < 20


def test_a_memory_hog_is_stopped():
    with pytest.raises(SandboxMemoryError, match="more than 300 MB"):
        run_python(
            "chunks = []\nwhile True:\n    chunks.append(bytearray(10**7))",
            limits=SandboxLimits(memory_mb=300),
        )


ENDLESS = """
import sys, time
from llm_strategy.optimization.sandbox import SandboxLimits, SandboxTimeout, run_python
import resource
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.monotonic()
try:
    run_python("while True:\\n    print('x' * 100000)", limits=SandboxLimits(timeout=4))
except SandboxTimeout:
    pass
print(time.monotonic() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_endless_output_neither_grows_the_parent_nor_delays_the_timeout():
    measured = subprocess.run([sys.executable, "-c", ENDLESS], capture_output=True, text=True, timeout=60)
    seconds, grown_kb = measured.stdout.split()
    assert float(seconds) < 5.0
    assert int(grown_kb) < 50_000  # well under the printed gigabytes; the two 1 MB buffers and change


def test_endless_output_is_kept_within_the_limit():
    code = "import sys\nfor _ in range(3000):\n    sys.stdout.write('y' * 10000)\n    sys.stderr.write('z' * 10000)\ndone = 1"
    result = run_python(code, variables=["done"], limits=SandboxLimits(output_bytes=100_000))
    assert result.stdout.startswith("y" * 100_000) and result.stdout.endswith(
        "\n[output truncated: 29900000 more bytes not kept]"
    )
    assert result.stderr.endswith("\n[output truncated: 29900000 more bytes not kept]")


def test_filling_tmp_stops_at_its_size():
    code = (
        "import os\nwritten = 0\ntry:\n    for i in range(100):\n"
        "        with open(f'/tmp/f{i}', 'wb') as f:\n            f.write(b'x' * 2**20)\n        written += 1\n"
        "except OSError as e:\n    error = e.strerror"
    )
    result = run_python(code, variables=["written", "error"], limits=SandboxLimits(file_size_mb=8))
    assert result.variables == {"written": 8, "error": "No space left on device"}
