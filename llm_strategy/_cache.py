"""A SQLite response cache for langchain models: identical requests are answered from a file."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.caches import BaseCache
from langchain_core.globals import set_llm_cache
from langchain_core.messages import message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation

__all__ = ["SQLiteResponseCache", "enable_response_cache"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    prompt TEXT NOT NULL,
    llm TEXT NOT NULL,
    generations TEXT NOT NULL,
    PRIMARY KEY (prompt, llm)
)
"""


class SQLiteResponseCache(BaseCache):
    """Stores replies keyed by the exact prompt and model settings; safe across threads.

    Example:
        ```python
        model = ChatOpenAI(cache=SQLiteResponseCache("responses.sqlite"))
        ```
    """

    def __init__(self, path: str | Path = ".llm_cache.sqlite") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connection() as connection:
            connection.execute(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30)
            connection.execute("PRAGMA journal_mode=WAL")
            self._local.connection = connection
        return connection

    def lookup(self, prompt: str, llm_string: str) -> list[Generation] | None:
        """The stored generations for this request, or None."""
        row = (
            self._connection()
            .execute("SELECT generations FROM responses WHERE prompt = ? AND llm = ?", (prompt, llm_string))
            .fetchone()
        )
        return _decode(row[0]) if row else None

    def update(self, prompt: str, llm_string: str, return_val: Sequence[Generation]) -> None:
        """Store the generations of a request."""
        with self._connection() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?)", (prompt, llm_string, _encode(return_val))
            )

    def clear(self, **kwargs: Any) -> None:
        """Remove every stored response."""
        with self._connection() as connection:
            connection.execute("DELETE FROM responses")

    def __len__(self) -> int:
        return int(self._connection().execute("SELECT COUNT(*) FROM responses").fetchone()[0])


def _encode(generations: Sequence[Generation]) -> str:
    return json.dumps(
        [
            {"message": message_to_dict(g.message)} if isinstance(g, ChatGeneration) else {"text": g.text}
            for g in generations
        ]
    )


def _decode(text: str) -> list[Generation]:
    return [
        ChatGeneration(message=messages_from_dict([item["message"]])[0])
        if "message" in item
        else Generation(text=item["text"])
        for item in json.loads(text)
    ]


def enable_response_cache(path: str | Path = ".llm_cache.sqlite") -> SQLiteResponseCache:
    """Cache every langchain model's responses in a SQLite file (off until you call this).

    Example:
        ```python
        enable_response_cache("responses.sqlite")
        ```
    """
    cache = SQLiteResponseCache(path)
    set_llm_cache(cache)
    return cache
