"""A local OpenAI-compatible chat-completions server that replays scripted responses."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Scripted:
    """One response: an assistant message, or an HTTP error status, optionally late.

    `finish_reason` and `refusal` shape the choice; `choices=False` sends an empty list;
    `body` replaces the whole response (e.g. an HTML page); `error` is the error message.
    """

    content: str | None = ""
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    finish_reason: str = "stop"
    refusal: str | None = None
    choices: bool = True
    body: bytes | None = None
    error: str | None = None
    tool_arguments: str | None = None
    """Answer with a call of the request's first tool, with these arguments."""


class OpenAIServer:
    """Serves `POST /v1/chat/completions` on 127.0.0.1; records every request body."""

    def __init__(
        self,
        *,
        rejects_response_format: bool = False,
        keep_alive: bool = False,
        respond: Callable[[dict[str, Any]], Scripted] | None = None,
    ) -> None:
        """`rejects_response_format`: answer any `json_schema` response format with a 500, as
        llama-cpp-python's server does. `keep_alive`: HTTP/1.1 persistent connections, as real
        servers keep (clients pool them). `respond`: answers a request body once the script is
        empty (without it, an empty script answers 500)."""
        self.script: deque[Scripted] = deque()
        self.respond = respond
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                server.requests.append(body)
                if (
                    rejects_response_format
                    and (body.get("response_format") or {}).get("type") == "json_schema"
                ):
                    step = Scripted(status=500, error=LLAMA_CPP_REJECTION)
                else:
                    step = server.script.popleft() if server.script else server.fallback(body)
                time.sleep(step.delay)
                if step.body is not None:
                    data, kind = step.body, "text/html"
                else:
                    payload = server.completion(body, step) if step.status == 200 else server.error(step)
                    data, kind = json.dumps(payload).encode(), "application/json"
                try:
                    self.send_response(step.status)
                    self.send_header("Content-Type", kind)
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

    def fallback(self, body: dict[str, Any]) -> Scripted:
        return self.respond(body) if self.respond is not None else Scripted(status=500)

    @staticmethod
    def completion(request: dict[str, Any], step: Scripted) -> dict[str, Any]:
        prompt_tokens = sum(len(str(m.get("content", ""))) for m in request["messages"]) // 4
        completion_tokens = len(step.content or "") // 4
        return {
            "id": "chatcmpl-local",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "local"),
            "choices": [
                {
                    "index": 0,
                    "message": OpenAIServer.message(request, step),
                    "finish_reason": step.finish_reason,
                }
            ]
            if step.choices
            else [],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    @staticmethod
    def message(request: dict[str, Any], step: Scripted) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": step.content, "refusal": step.refusal}
        if step.tool_arguments is not None:
            name = request["tools"][0]["function"]["name"]
            function = {"name": name, "arguments": step.tool_arguments}
            message.update(
                content=None, tool_calls=[{"id": "call_1", "type": "function", "function": function}]
            )
        return message

    @staticmethod
    def error(step: Scripted) -> dict[str, Any]:
        message = step.error or f"scripted status {step.status}"
        return {"error": {"message": message, "type": "server_error", "code": str(step.status)}}


LLAMA_CPP_REJECTION = (
    "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}]"
)
"""What llama-cpp-python's OpenAI-compatible server answers to a `json_schema` response format."""
