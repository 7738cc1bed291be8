"""The run directory: every finished task run and decision written atomically, read back to resume."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["ResumeError", "RunStore"]

_FORMAT = "llm-strategy/optimization-run"


class ResumeError(ValueError):
    """The run directory cannot be resumed by this optimization (another task, another kind)."""


class RunStore:
    """`run.json` (what is optimized), `task_runs/<id>.json`, `steps/<n>.json`, and outputs beside them."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def start(self, identity: dict[str, Any], *, resume: bool) -> bool:
        """Create the run, or check that `identity` matches when resuming; True when resumed."""
        existing = self.read("run.json")
        if existing is None:
            if resume and self.path.exists() and any(self.path.iterdir()):
                raise ResumeError(f"{self.path} holds no optimization run to resume (no run.json)")
            self.write("run.json", {"format": _FORMAT, **identity})
            return False
        if not resume:
            raise ResumeError(
                f"{self.path} already holds a run; pass resume=True to continue it, or another directory"
            )
        for key, value in identity.items():
            if existing.get(key) != value:
                raise ResumeError(
                    f"{self.path} belongs to another optimization: its {key} is {existing.get(key)!r}, "
                    f"this one's is {value!r}"
                )
        return True

    def write(self, name: str, data: Any) -> Path:
        """Write JSON atomically: a reader never sees half a file, a killed process never leaves one.

        (The rename is atomic; there is no fsync, so a power cut may lose the last writes.)
        """
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(data, file, ensure_ascii=False, indent=1, default=str)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target

    def read(self, name: str) -> Any:
        """The JSON stored under `name`, or None."""
        target = self.path / name
        if not target.exists():
            return None
        return json.loads(target.read_text(encoding="utf-8"))

    def task_runs(self) -> Iterator[dict[str, Any]]:
        """Every finished task run, in id order."""
        for target in sorted((self.path / "task_runs").glob("*.json")):
            yield json.loads(target.read_text(encoding="utf-8"))

    def write_task_run(self, record: dict[str, Any]) -> None:
        """Store one finished task run (its id names the file)."""
        self.write(f"task_runs/{record['id']}.json", record)

    def step(self, number: int) -> dict[str, Any] | None:
        """The recorded decisions of a step, or None."""
        data: dict[str, Any] | None = self.read(f"steps/{number:03d}.json")
        return data

    def write_step(self, number: int, data: dict[str, Any]) -> None:
        """Store the decisions of a step."""
        self.write(f"steps/{number:03d}.json", data)
