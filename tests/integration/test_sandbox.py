"""Generated code in the sandbox: real subprocesses, real limits."""

import socket
import time
from pathlib import Path

import pytest

from llm_strategy.optimization.sandbox import (
    SandboxCodeError,
    SandboxLimits,
    SandboxMemoryError,
    SandboxTimeout,
    run_python,
)

pytestmark = pytest.mark.integration


def test_variables_come_back_from_a_clean_interpreter(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-canary-0123456789abcdef")
    result = run_python(
        "import os, sys\ntotal = sum(values)\nenvironment = dict(os.environ)\nisolated = sys.flags.isolated",
        variables=["total", "environment", "isolated"],
        inputs={"values": [1, 2, 3]},
    )
    assert result.variables["total"] == 6 and result.variables["isolated"] == 1
    environment = result.variables["environment"]
    assert "OPENAI_API_KEY" not in environment and not any(
        "canary" in value for value in environment.values()
    )
    assert set(environment) <= {
        "PATH",
        "LANG",
        "PYTHONHASHSEED",
        "HOME",
        "TMPDIR",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
    }


def test_an_endless_loop_is_stopped():
    started = time.monotonic()
    with pytest.raises(SandboxTimeout, match=r"longer than 1\.5 s"):
        run_python("while True:\n    pass", limits=SandboxLimits(timeout=1.5))
    assert time.monotonic() - started < 5


def test_the_cpu_limit_stops_a_busy_loop_before_the_wall_clock_does():
    with pytest.raises(SandboxTimeout, match="CPU time"):
        run_python("while True:\n    pass", limits=SandboxLimits(timeout=20, cpu_seconds=1))


def test_unbounded_allocation_is_stopped():
    with pytest.raises(SandboxMemoryError, match="more than 300 MB"):
        run_python(
            "chunks = []\nwhile True:\n    chunks.append(bytearray(10**7))",
            limits=SandboxLimits(memory_mb=300),
        )


def test_exceptions_and_missing_variables_are_code_errors():
    with pytest.raises(SandboxCodeError, match="ZeroDivisionError") as caught:
        run_python("x = 1 / 0")
    assert "code.py" in caught.value.traceback and caught.value.error_type == "ZeroDivisionError"
    with pytest.raises(SandboxCodeError, match="did not define answer"):
        run_python("other = 1", variables=["answer"])


def test_writes_stay_inside_the_working_directory(tmp_path):
    target = tmp_path / "escaped.txt"
    with pytest.raises(SandboxCodeError, match="may only write inside its directory"):
        run_python(f"open({str(target)!r}, 'w').write('x')")
    assert not target.exists()
    with pytest.raises(SandboxCodeError, match="may not change"):
        run_python(f"import os\nos.remove({str(Path(__file__))!r})")
    assert Path(__file__).exists()
    assert run_python(
        "open('notes.txt', 'w').write('fine')\nok = open('notes.txt').read()", variables=["ok"]
    ).variables == {"ok": "fine"}


def test_secrets_cannot_be_read_from_the_parent(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "canary-token-value")
    result = run_python("import os\nfound = os.environ.get('MY_SERVICE_TOKEN')", variables=["found"])
    assert result.variables == {"found": None}


def test_no_network_and_no_subprocesses():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        code = f"import socket\ns = socket.socket()\ns.settimeout(1)\ns.connect(('127.0.0.1', {port}))"
        with pytest.raises(SandboxCodeError, match="no network"):
            run_python(code)
    with pytest.raises(SandboxCodeError, match="does not allow subprocess"):
        run_python("import subprocess\nsubprocess.run(['true'])")
    with pytest.raises(SandboxCodeError, match="does not allow"):
        run_python("import os\nos.system('true')")


def test_a_network_namespace_is_used_where_available():
    result = run_python(
        "import socket\nnames = [name for _, name in socket.if_nameindex()]", variables=["names"]
    )
    if not result.network_namespace:
        pytest.skip("this platform gives no network namespace; the audit hook alone refuses sockets")
    assert result.variables["names"] == ["lo"]
