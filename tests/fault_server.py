"""The control code of the test servers on 127.0.0.1 (``guard_server.GuardServer``, ``assess_server.TargetServer``):
a real HTTP/1.1 server (stdlib ``http.server``, a thread per connection, keep-alive), request counting and
recording, fault injection, the routes every OpenAI-compatible server has, and the faults every kind answers alike.

A server subclasses ``FaultServer`` and gives a handler class (a subclass of ``Handler`` made by ``handler_for``)
that answers POSTs. Faults (``server.inject(kind, times=1, match=None, retry_after="1", delay=2.0)``) are consumed
in order by requests whose text contains ``match``. Shared kinds (``Handler.common_fault``): ``drop`` (close
without answering), ``timeout`` (answer after ``delay`` s), ``500``, ``503``, ``429`` (with ``Retry-After``),
``malformed`` (200 with broken JSON); each server adds its own kinds.

``announce=True`` sends ``X-RiskCards-Test-Double: 1`` on every answer, as a test double must. ``GET /_stats``
returns request counts (not counted itself).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar


@dataclass
class Fault:
    kind: str
    times: int = 1
    match: str | None = None
    retry_after: str = "1"
    delay: float = 2.0


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    """The listen backlog. socketserver's default of 5 drops connection attempts when 32 workers connect at
    once; each dropped SYN costs a 1 s retransmit (measured: the batch benchmark at 31 % of its ideal rate)."""


class FaultServer:
    """Start with ``start()`` (or as a context manager); ``url`` is the /v1 base URL."""

    handler: ClassVar[type[BaseHTTPRequestHandler]]

    def __init__(
        self,
        model: str,
        *,
        latency: float = 0.0,
        api_key: str | None = None,
        rules: list[tuple[str, str]] | None = None,
        announce: bool = True,
        port: int = 0,
        record: bool = True,
    ) -> None:
        self.model = model
        self.latency = latency
        self.api_key = api_key
        self.rules: list[tuple[str, str]] = list(rules or [])
        self.announce = announce
        self.record = record
        self.faults: list[Fault] = []
        self.requests: list[dict[str, Any]] = []
        self.count = 0
        self.by_path: dict[str, int] = {}
        self._lock = threading.Lock()
        self._httpd = _HTTPServer(("127.0.0.1", port), handler_for(self))

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self):
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def serve(self) -> None:
        """Serve in this thread until interrupted (the servers' standalone mode, for benchmarks)."""
        with contextlib.suppress(KeyboardInterrupt):
            self._httpd.serve_forever(poll_interval=0.05)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, kind: str, times: int = 1, match: str | None = None, **kw: Any) -> None:
        self.faults.append(Fault(kind, times, match, **kw))

    def posts(self, path: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST" and (path is None or r["path"] == path)]

    def take_fault(self, text: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.times > 0 and (f.match is None or f.match in text):
                    f.times -= 1
                    return f
        return None

    def models_list(self) -> list[dict[str, Any]]:
        """What GET /v1/models lists."""
        return [{"id": self.model, "object": "model"}]


def handler_for(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    """The server's handler class bound to ``server``."""
    return type("BoundHandler", (server.handler,), {"server_": server})


class Handler(BaseHTTPRequestHandler):
    """What every test server's handler does; subclasses implement ``do_POST`` (with ``read_body`` and
    ``common_fault``)."""

    protocol_version = "HTTP/1.1"
    server_version = "test-double/0"
    disable_nagle_algorithm = True  # like uvicorn: no 40 ms Nagle / delayed-ACK stall between header and body
    server_: FaultServer

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(
        self, status: int, body: bytes | str | dict, headers: dict[str, str] | None = None, length: int | None = None
    ) -> None:
        data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(length if length is not None else len(data)))
            if self.server_.announce:
                self.send_header("X-RiskCards-Test-Double", "1")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self._headers_buffer.append(b"\r\n" + data)  # headers and body in one write
            self.flush_headers()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _vllm_error(
        self, status: int, message: str, kind: str = "Error", headers: dict[str, str] | None = None
    ) -> None:
        self._send(
            status, {"object": "error", "message": message, "type": kind, "param": None, "code": status}, headers
        )

    def _note(self, body: Any) -> None:
        s = self.server_
        with s._lock:
            s.count += 1
            s.by_path[self.path] = s.by_path.get(self.path, 0) + 1
            if s.record:
                s.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "body": body,
                        "t": time.monotonic(),
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                    }
                )

    def read_body(self) -> dict[str, Any] | None:
        """The POST body, recorded and counted; None (after answering 400) when it is not JSON."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._note(raw.decode("utf-8", "replace"))
            self._vllm_error(400, "invalid JSON body", "BadRequestError")
            return None
        self._note(body)
        if self.server_.latency:
            time.sleep(self.server_.latency)
        return body

    def common_fault(self, fault: Fault) -> bool:
        """Answer the faults every server answers alike; True when the request is answered (or dropped)."""
        if fault.kind == "drop":
            self.close_connection = True
            return True
        if fault.kind == "timeout":
            time.sleep(fault.delay)
            return False
        if fault.kind in ("500", "503"):
            self._vllm_error(int(fault.kind), "Internal server error (injected)", "InternalServerError")
            return True
        if fault.kind == "429":
            self._vllm_error(429, "Too many requests", "RateLimitError", {"Retry-After": fault.retry_after})
            return True
        if fault.kind == "malformed":
            self._send(200, b'{"id": "cmpl-1", "object": "chat.completion", "choices": [{"index": 0, "mess')
            return True
        return False

    def do_GET(self) -> None:
        if self.path == "/_stats":  # the test's own bookkeeping is not counted as a request
            return self._send(200, {"requests": self.server_.count, "by_path": self.server_.by_path})
        self._note(None)
        if self.path == "/v1/models":
            self._send(200, {"object": "list", "data": self.server_.models_list()})
        elif self.path == "/version":
            self._send(200, {"version": "0.0.0+test-double"})
        else:
            self._send(404, {"detail": "Not Found"})
