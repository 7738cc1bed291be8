"""Read a W&B run file (`run-<id>.wandb`) back, offline: the records a run wrote, in order.

The file is a LevelDB-style log of protobuf records in 32 KiB blocks. Right after
`run.finish()` it may still be flushing; `read_run_file(wait=...)` waits for the exit record.
"""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["RunRecords", "read_run_file"]

_HEADER = struct.Struct("<4sHB")
_CHUNK = struct.Struct("<IHB")
_BLOCK = 32 * 1024
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


@dataclass
class RunRecords:
    """What a run file holds: config, history rows, summary, files, artifacts, and whether it exited."""

    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    exited: bool = False


def read_run_file(path: str | Path, *, wait: float = 30.0) -> RunRecords:
    """Parse a run file; wait up to `wait` seconds for its exit record."""
    deadline = time.monotonic() + wait
    while True:
        records = _parse(Path(path).read_bytes())
        if records.exited or time.monotonic() >= deadline:
            return records
        time.sleep(0.1)


def _parse(data: bytes) -> RunRecords:
    from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
    from wandb.proto import wandb_internal_pb2

    records = RunRecords()
    for raw in _chunks(data):
        record = wandb_internal_pb2.Record()  # type: ignore[attr-defined]
        try:
            record.ParseFromString(raw)
        except DecodeError:
            break  # a record still being written
        kind = record.WhichOneof("record_type")
        if kind == "run":
            for item in record.run.config.update:
                records.config[item.key] = json.loads(item.value_json)
        elif kind == "config":
            for item in record.config.update:
                records.config[item.key or ".".join(item.nested_key)] = json.loads(item.value_json)
        elif kind == "history":
            records.history.append(_items(record.history.item))
        elif kind == "summary":
            records.summary.update(_items(record.summary.update))
        elif kind == "files":
            records.files.extend(item.path for item in record.files.files)
        elif kind == "artifact":
            artifact = record.artifact
            records.artifacts.append(
                {
                    "name": artifact.name,
                    "type": artifact.type,
                    "files": [entry.path for entry in artifact.manifest.contents],
                }
            )
        elif kind == "exit":
            records.exited = True
    return records


def _items(items: Any) -> dict[str, Any]:
    """Flatten `nested_key` paths to dotted keys."""
    return {(item.key or ".".join(item.nested_key)): json.loads(item.value_json) for item in items}


def _chunks(data: bytes) -> Iterator[bytes]:
    if len(data) < _HEADER.size:
        return
    ident, _, _ = _HEADER.unpack_from(data)
    if ident != b":W&B":
        raise ValueError("not a W&B run file")
    position = _HEADER.size
    pending = b""
    while position + _CHUNK.size <= len(data):
        left = _BLOCK - position % _BLOCK
        if left < _CHUNK.size:
            position += left
            continue
        _, length, kind = _CHUNK.unpack_from(data, position)
        if kind == 0:
            position += left  # padding to the end of the block
            continue
        start = position + _CHUNK.size
        if start + length > len(data):
            return  # still being written
        chunk = data[start : start + length]
        position = start + length
        if kind == _FULL:
            yield chunk
        elif kind == _FIRST:
            pending = chunk
        elif kind == _MIDDLE:
            pending += chunk
        elif kind == _LAST:
            yield pending + chunk
            pending = b""
