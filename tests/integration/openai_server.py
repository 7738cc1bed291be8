"""A local OpenAI-compatible chat-completions server that replays scripted responses."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Scripted:
    """One response: an assistant message, or an HTTP error status, optionally late."""

    content: str = ""
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class OpenAIServer:
    """Serves `POST /v1/chat/completions` on 127.0.0.1; records every request body."""

    def __init__(self, *, keep_alive: bool = False) -> None:
        """`keep_alive`: HTTP/1.1 persistent connections, as real servers keep (clients pool them)."""
        self.script: deque[Scripted] = deque()
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                server.requests.append(body)
                step = server.script.popleft() if server.script else Scripted(status=500)
                time.sleep(step.delay)
                payload = server.completion(body, step) if step.status == 200 else server.error(step.status)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(step.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in step.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout)

            def log_message(self, *args: Any) -> None:
                pass

        if keep_alive:
            Handler.protocol_version = "HTTP/1.1"
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> OpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @staticmethod
    def completion(request: dict[str, Any], step: Scripted) -> dict[str, Any]:
        prompt_tokens = sum(len(str(m.get("content", ""))) for m in request["messages"]) // 4
        completion_tokens = len(step.content) // 4
        return {
            "id": "chatcmpl-local",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "local"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": step.content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    @staticmethod
    def error(status: int) -> dict[str, Any]:
        return {
            "error": {"message": f"scripted status {status}", "type": "server_error", "code": str(status)}
        }
