"""Docstrings for prompts: `Args:`/`Returns:` sections become field descriptions, prose is reflowed.

The descriptions then travel in the schema next to the types they describe, instead of
repeating the parameter names in the prompt's prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Docstring", "parse_docstring"]

_ARGS = {"args", "arguments", "parameters", "params"}
_RETURNS = {"returns", "return", "yields"}
_HEADER = re.compile(r"^(\w+):\s*$")
_LIST_OR_CODE = re.compile(r"^(\s+|[-*+•] |\d+[.)] |>>> |```)")
_ITEM = re.compile(r"^(\w+)(?:\s*\([^)]*\))?\s*:\s*(.*)$")


@dataclass(frozen=True)
class Docstring:
    """The prose of a docstring and the descriptions its sections give."""

    text: str
    parameters: dict[str, str] = field(default_factory=dict)
    returns: str | None = None


def parse_docstring(docstring: str) -> Docstring:
    """Split a cleaned docstring into prose, parameter descriptions and the return description.

    Sections other than `Args:` and `Returns:` stay in the prose, as does everything when a
    section cannot be read.
    """
    prose: list[str] = []
    parameters: dict[str, str] = {}
    returns: list[str] = []
    lines = docstring.splitlines()
    index = 0
    while index < len(lines):
        header = _HEADER.match(lines[index])
        name = header.group(1).lower() if header else ""
        body, end = _section_body(lines, index + 1)
        if name in _ARGS and body and _read_items(body, parameters):
            index = end
        elif name in _RETURNS and body:
            returns.append(" ".join(line.strip() for line in body))
            index = end
        else:
            prose.append(lines[index])
            index += 1
    return Docstring(_reflow(prose), parameters, " ".join(returns) or None)


def _reflow(lines: list[str]) -> str:
    """Join the lines of each prose paragraph; lists, indented blocks and doctests keep their lines."""
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    rendered = []
    for paragraph in paragraphs:
        if not paragraph:
            continue
        structured = any(_LIST_OR_CODE.match(line) for line in paragraph)
        rendered.append("\n".join(paragraph) if structured else " ".join(line.strip() for line in paragraph))
    return "\n\n".join(rendered)


def _section_body(lines: list[str], start: int) -> tuple[list[str], int]:
    """The indented lines that follow a section header, and where the section ends."""
    end = start
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith((" ", "\t"))):
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end], end


def _read_items(body: list[str], into: dict[str, str]) -> bool:
    """Read `name: description` items with indented continuation lines; False if malformed."""
    indent = len(body[0]) - len(body[0].lstrip())
    items: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in body:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        item = _ITEM.match(line.strip())
        if depth == indent and item:
            current = items.setdefault(item.group(1), [])
            current.append(item.group(2))
        elif depth > indent and current is not None:
            current.append(line.strip())
        else:
            return False
    into.update({name: " ".join(part for part in parts if part) for name, parts in items.items()})
    return True
