"""A chat-model target on 127.0.0.1 that answers as an OpenAI-compatible server (vLLM, llama.cpp, Ollama) does.

A real HTTP/1.1 server (stdlib ``http.server``, a thread per connection, keep-alive):

* ``GET /v1/models``, ``GET /version``;
* ``POST /v1/chat/completions`` -> ``choices[0].message.content``; ``POST /v1/completions`` -> ``choices[0].text``;
* replies come from **rules** ``(substring, reply)`` matched against the whole conversation (first match wins),
  else ``"Reply to: <the last user message>"``; an unknown model is a vLLM-style 404.

Faults (``server.inject(kind, times=1, match=None, retry_after="1", delay=2.0)``), consumed by matching
requests: ``timeout`` (answer after ``delay`` s), ``500``, ``503``, ``429`` (with ``Retry-After``),
``malformed`` (200 with broken JSON), ``truncated`` (a body shorter than its Content-Length, then the
connection closes), ``drop`` (close without answering).

``announce=True`` (the default) sends ``X-RiskCards-Test-Double: 1`` on every answer, as a test double must;
``announce=False`` plays a real local server in a temporary knowledge base. ``GET /_stats`` returns request
counts (not counted itself). Standalone for the benchmark: ``python tests/assess_server.py --latency 0.05``.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    kind: str
    times: int = 1
    match: str | None = None
    retry_after: str = "1"
    delay: float = 2.0


class TargetServer:
    def __init__(
        self,
        model: str = "meta-llama/Llama-3.1-8B-Instruct",
        *,
        latency: float = 0.0,
        rules: list[tuple[str, str]] | None = None,
        announce: bool = True,
        api_key: str | None = None,
        port: int = 0,
        record: bool = True,
    ) -> None:
        self.model = model
        self.latency = latency
        self.rules = list(rules or [])
        self.announce = announce
        self.api_key = api_key
        self.record = record
        self.faults: list[Fault] = []
        self.requests: list[dict[str, Any]] = []
        self.count = 0
        self.by_path: dict[str, int] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> TargetServer:
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> TargetServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, kind: str, times: int = 1, match: str | None = None, **kw: Any) -> None:
        self.faults.append(Fault(kind, times, match, **kw))

    def posts(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST"]

    def take_fault(self, text: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.times > 0 and (f.match is None or f.match in text):
                    f.times -= 1
                    return f
        return None

    def reply_for(self, text: str) -> str:
        for needle, reply in self.rules:
            if needle in text:
                return reply
        return f"Reply to: {text}"


def _conversation(path: str, body: dict[str, Any]) -> str:
    """The text rules and faults match: every message of a chat request, or the completions prompt."""
    if path.endswith("/chat/completions"):
        return "\n".join(str(m.get("content", "")) for m in body.get("messages") or [])
    return str(body.get("prompt", ""))


def _last_user(path: str, body: dict[str, Any]) -> str:
    if path.endswith("/chat/completions"):
        users = [m.get("content", "") for m in body.get("messages") or [] if m.get("role") == "user"]
        return str(users[-1]) if users else ""
    return str(body.get("prompt", ""))


def _handler(server: TargetServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "target-test-double/0"
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes | dict, headers: dict[str, str] | None = None, length=None) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(length if length is not None else len(data)))
                if server.announce:
                    self.send_header("X-RiskCards-Test-Double", "1")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self._headers_buffer.append(b"\r\n" + data)
                self.flush_headers()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
            body = {"object": "error", "message": message, "type": "Error", "param": None, "code": status}
            self._send(status, body, headers)

        def _note(self, body: Any) -> None:
            with server._lock:
                server.count += 1
                server.by_path[self.path] = server.by_path.get(self.path, 0) + 1
                if server.record:
                    server.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "body": body,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                        }
                    )

        def do_GET(self) -> None:
            if self.path == "/_stats":
                return self._send(200, {"requests": server.count, "by_path": server.by_path})
            self._note(None)
            if self.path == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": server.model, "object": "model"}]})
            elif self.path == "/version":
                self._send(200, {"version": "0.0.0+test-double"})
            else:
                self._send(404, {"detail": "Not Found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._note(raw.decode("utf-8", "replace"))
                return self._error(400, "invalid JSON body")
            self._note(body)
            if server.api_key is not None and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                return self._error(401, "Incorrect API key provided.")
            if server.latency:
                time.sleep(server.latency)
            text = _conversation(self.path, body)
            fault = server.take_fault(text)
            if fault is not None:
                if fault.kind == "drop":
                    self.close_connection = True
                    return
                if fault.kind == "timeout":
                    time.sleep(fault.delay)
                elif fault.kind in ("500", "503"):
                    return self._error(int(fault.kind), "Internal server error (injected)")
                elif fault.kind == "429":
                    return self._error(429, "Too many requests", {"Retry-After": fault.retry_after})
                elif fault.kind == "malformed":
                    return self._send(200, b'{"id": "cmpl-1", "object": "chat.completion", "choices": [{"mess')
                elif fault.kind == "truncated":
                    self._send(200, b'{"id": "cmpl-1", "choices": [{"index": 0, "message": {"con', length=400)
                    self.close_connection = True
                    return
            if self.path not in ("/v1/chat/completions", "/v1/completions"):
                return self._send(404, {"detail": "Not Found"})
            if body.get("model") != server.model:
                return self._error(404, f"The model `{body.get('model')}` does not exist.")
            reply = server.reply_for(text)
            text = _last_user(self.path, body)
            if reply.startswith("Reply to: "):
                reply = f"Reply to: {text}"
            usage = {"prompt_tokens": len(text.split()), "completion_tokens": len(reply.split())}
            if self.path == "/v1/chat/completions":
                choice = {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
                obj = "chat.completion"
            else:
                choice = {"index": 0, "text": reply, "finish_reason": "stop"}
                obj = "text_completion"
            self._send(
                200,
                {
                    "id": f"cmpl-{server.count}",
                    "object": obj,
                    "created": int(time.time()),
                    "model": server.model,
                    "choices": [choice],
                    "usage": usage,
                },
            )

    return Handler


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--model", default="meta-llama/Llama-3.1-8B-Instruct")
    ap.add_argument("--no-announce", action="store_true", help="do not send the test-double header")
    args = ap.parse_args()
    srv = TargetServer(args.model, latency=args.latency, port=args.port, record=False, announce=not args.no_announce)
    print(srv.url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        srv._httpd.serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    main()
