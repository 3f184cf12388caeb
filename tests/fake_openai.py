"""A loopback OpenAI-compatible chat server for tests (streams SSE like the real one)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    """Answers POST /v1/chat/completions with `reply`; records every request body."""

    def __init__(
        self,
        reply: str = "",
        *,
        status: int = 200,
        delay: float = 0.0,
        models: tuple[str, ...] = ("fake-model",),
        replies: list[str] | None = None,
    ) -> None:
        """`replies`, when given, answers successive requests in turn (the last repeats)."""
        self.reply, self.status, self.delay, self.models = reply, status, delay, models
        self.replies = list(replies or [])
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                if self.path.rstrip("/").endswith("/models"):
                    models = {
                        "object": "list",
                        "data": [{"id": m, "object": "model"} for m in fake.models],
                    }
                    self._send(200, json.dumps(models).encode(), "application/json")
                else:
                    self._send(404, b"{}", "application/json")

            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                if fake.replies:
                    fake.reply = fake.replies.pop(0) if len(fake.replies) > 1 else fake.replies[0]
                time.sleep(fake.delay)
                if fake.status != 200:
                    self._send(fake.status, b'{"error": {"message": "boom"}}', "application/json")
                    return
                if body.get("stream"):
                    self._stream(body)
                else:
                    self._send(
                        200, json.dumps(_completion(fake.reply)).encode(), "application/json"
                    )

            def _stream(self, body: dict) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for piece in _pieces(fake.reply):
                    chunk = {
                        "id": "x",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": body.get("model"),
                        "choices": [
                            {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                        ],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

            def _send(self, status: int, data: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

            def handle(self) -> None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    super().handle()  # a client that timed out and hung up is fine

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def __enter__(self) -> FakeOpenAI:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _pieces(text: str) -> list[str]:
    return [text[i : i + 7] for i in range(0, len(text), 7)]


def _completion(text: str) -> dict:
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "fake",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
    }
