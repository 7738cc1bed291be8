"""A Pareto run's candidates and task runs as reports show them: the text table, the W&B tables."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._engine import TASK_RUN_COLUMNS, Table, TaskRunRecord, task_run_row

__all__ = ["FrontierEntry", "frontier_rows", "frontier_table", "split_of", "task_runs_table"]

SPLITS = {"t": "train", "v": "validation", "x": "test"}
FRONTIER_COLUMNS = [
    "id",
    "parent",
    "component",
    "minibatch_parent",
    "minibatch_child",
    "validation_mean",
    "led",
]


@dataclass(frozen=True)
class FrontierEntry:
    """A candidate as the report shows it: its lineage, its scores, the validation instances it leads."""

    id: str
    parent: str | None
    component: str | None
    minibatch_parent: float | None
    minibatch_child: float | None
    validation_mean: float | None
    led: list[int]


def frontier_table(entries: Sequence[FrontierEntry]) -> str:
    """The candidates as a text table: lineage, minibatch and validation scores, instances led."""
    lines = [f"{'candidate':<9}  {'parent':<6}  {'changed component':<30}  minibatch  validation  led"]
    for entry in entries:
        minibatch = (
            "-" if entry.minibatch_child is None else f"{entry.minibatch_parent:g}->{entry.minibatch_child:g}"
        )
        mean = "-" if entry.validation_mean is None else f"{entry.validation_mean:.4f}"
        lines.append(
            f"{entry.id:<9}  {entry.parent or '-':<6}  {(entry.component or '-').rsplit('.', 1)[-1]:<30}  "
            f"{minibatch:<9}  "
            f"{mean:<10}  {','.join(map(str, entry.led)) or '-'}"
        )
    return "\n".join(lines)


def frontier_rows(entries: Sequence[FrontierEntry]) -> Table:
    """The candidates as a W&B table."""
    rows: list[list[Any]] = [
        [
            entry.id,
            entry.parent,
            entry.component,
            entry.minibatch_parent,
            entry.minibatch_child,
            entry.validation_mean,
            json.dumps(entry.led),
        ]
        for entry in entries
    ]
    return FRONTIER_COLUMNS, rows


def task_runs_table(records: Sequence[TaskRunRecord]) -> Table:
    """Task runs with their candidate, split and instance index before the columns every run shows."""
    rows = []
    for record in records:
        candidate, instance = record.id.split("-")
        rows.append([candidate, split_of(record), int(instance[1:]), *task_run_row(record)])
    return ["candidate", "split", "instance", *TASK_RUN_COLUMNS], rows


def split_of(record: TaskRunRecord) -> str:
    """The split a task run is keyed under: `c001-v03` is a validation run."""
    return SPLITS[record.id.split("-")[1][0]]
