"""Parse time of garbage replies: each attempt at 256 KB against the same shape at 64 KB (linear is 4x).

The shapes are what a runaway model sends: one bracket repeated, printable text with scattered
brackets and quotes, brackets nested near the depth bound around broken arrays, and prose ending
in broken JSON (the case that reaches the repairer).
"""

from __future__ import annotations

import contextlib
import random
import string
from collections.abc import Callable

from pydantic import TypeAdapter
from report import Row, best_of

from llm_strategy._parsing import ReplyError, parse_reply

KB = 1024
TARGET_SECONDS = 0.3


def _scattered(size: int, seed: int = 0) -> str:
    """Printable text, 3% brackets and quotes; closers slightly more likely, so few stay open."""
    rng = random.Random(seed)
    ordinary = string.ascii_letters + string.digits + " .,:;'!?-\n"
    special = '{[{[""}]}]}]'
    return "".join(rng.choice(ordinary) if rng.random() > 0.03 else rng.choice(special) for _ in range(size))


def _nested(size: int) -> str:
    block = "[" * 60 + "1," * 500 + "x" + "]" * 60
    return (block * (size // len(block) + 1))[:size]


def _broken_tail(size: int) -> str:
    """Prose, then 30 KB of broken JSON: all of it within the repairer's budget."""
    tail = '{"return_value": [' + _scattered(30 * KB, seed=1)
    return ("Here is my answer. " * size)[: size - len(tail)] + tail


SHAPES: dict[str, Callable[[int], str]] = {
    "'{' repeated": lambda size: "{" * size,
    "text with scattered brackets": _scattered,
    "nested 60 deep, broken": _nested,
    "prose, then broken JSON": _broken_tail,
}


def _attempt(text: str) -> Callable[[], None]:
    adapter = TypeAdapter(list[str])

    def parse() -> None:
        with contextlib.suppress(ReplyError):
            parse_reply(text, adapter)

    return parse


def parsing_rows() -> list[Row]:
    rows = []
    for name, shape in SHAPES.items():
        small = best_of(_attempt(shape(64 * KB)), 1, repeat=7)
        large = best_of(_attempt(shape(256 * KB)), 1, repeat=7)
        ratio = large / small
        rows.append(
            Row(
                f"parse 256 KB garbage: {name}",
                f"{large * 1e3:.0f} ms",
                f"{small * 1e3:.0f} ms (64 KB)",
                ratio,
                "< 0.3 s, ~4x",
                large < TARGET_SECONDS,
            )
        )
    return rows
