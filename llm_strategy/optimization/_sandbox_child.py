"""The sandbox's child side: limits itself, runs `code.py`, reports the variables as JSON.

Run as a script by `sandbox.run_python` (inside bubblewrap, or as a plain process), never
imported by the library. Arguments: the work directory, the descriptor of the "started" pipe,
and, when the caller is root, the otherwise unused uid to run the code as. It reads
`request.json`, sets the rlimits, drops to that uid, writes to the started pipe (so the parent
knows the sandbox came up), runs the code and writes `result.json`: `{"variables": {...}}` or
`{"error": {"type", "message", "traceback"}}`. Values that are not JSON are refused, by name.
Standard library only, so it starts fast and counts little against the memory limit.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import runpy
import sys
import traceback
from typing import Any

_MB = 1024 * 1024


def _limit(limits: dict[str, int]) -> None:
    cpu = limits["cpu_seconds"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU first: the parent can tell
    for name, value in (
        ("RLIMIT_AS", limits["memory_mb"] * _MB),
        ("RLIMIT_FSIZE", limits["file_size_mb"] * _MB),
        ("RLIMIT_NPROC", limits["processes"]),
        ("RLIMIT_CORE", 0),
    ):
        resource.setrlimit(getattr(resource, name), (value, value))


def _drop_to(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)  # from root to another uid: every capability is gone


def _not_json(value: object) -> Any:
    raise TypeError(f"{type(value).__module__}.{type(value).__qualname__} is not a JSON value")


def _report(request: dict[str, Any], namespace: dict[str, Any]) -> dict[str, Any]:
    missing = [name for name in request["variables"] if name not in namespace]
    if missing:
        raise NameError(f"the code did not define {', '.join(missing)}")
    values = {}
    for name in request["variables"]:
        try:
            values[name] = json.loads(json.dumps(namespace[name], default=_not_json))
        except (TypeError, ValueError) as error:
            raise TypeError(f"variable {name!r} cannot be returned: {error}; convert it first") from None
    return {"variables": values}


def main() -> None:
    root, started = sys.argv[1], int(sys.argv[2])
    if len(sys.argv) > 3:
        _drop_to(int(sys.argv[3]))
    os.chdir(root)
    with open("request.json", encoding="utf-8") as file:
        request = json.load(file)
    _limit(request["limits"])
    os.write(started, b"started")
    os.close(started)
    try:
        namespace = runpy.run_path(
            os.path.join(root, "code.py"), init_globals=request["inputs"], run_name="__main__"
        )
        report = _report(request, namespace)
    except BaseException as error:  # everything the code raises is reported
        report = {
            "error": {
                "type": type(error).__name__,
                "message": str(error),
                "traceback": "".join(traceback.format_exception(error)[-6:]),
            }
        }
    with open(os.path.join(root, "result.json"), "w", encoding="utf-8") as file:
        json.dump(report, file)
    with contextlib.suppress(OSError, ValueError):  # the code may have closed them
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(0)  # no waiting for threads the code left running


if __name__ == "__main__":
    main()
